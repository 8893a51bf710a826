"""The API of a cluster answering as one gateway (docs/cluster.md).

Every component real on 127.0.0.1: redis-server with an ACL user, HAProxy,
three sip2rtmpd nodes, SIPp callees. What a client sees: the call list of
any node is the cluster's, WCS 5's terminate/find/send_dtmf reach the call's
owner, a callId active on one node is 409 on every node, as on one node.
"""

import sys
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from daemon import Sipp, NginxRtmp, WebhookReceiver, call_body  # noqa: E402
from daemon import EventStream, wait_until  # noqa: E402
from cluster import Cluster, TOKEN, node_headers  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402



def ringing(sipp, call_id, stream, app="live"):
    return {"callee": sipp.uri(), "callId": call_id,
            "rtmpUrl": "rtmp://127.0.0.1:1/" + app, "rtmpStream": stream}


class ResumedEvents(EventStream):
    """A node's SSE asked to resume after `last_id` (Last-Event-ID)."""

    def __init__(self, node, last_id):
        super().__init__(node.url("/api/v1/events"), TOKEN)
        self.last_id = last_id

    def __enter__(self):
        req = urllib.request.Request(self.url, headers={
            "Accept": "text/event-stream", "Authorization": "Bearer " + TOKEN,
            "Last-Event-ID": self.last_id})
        self._resp = urllib.request.urlopen(req, timeout=120)
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_comment("subscribed", 5)
        return self


def stream_id(event):
    """An SSE id (a Redis stream entry's ms-seq), comparable."""
    return tuple(int(x) for x in event["_id"].split("-"))


def at_once(nodes, body_of):
    """POST /api/v1/calls to each node at the same time: {node id: answer}."""
    got = {}

    def post(node):
        got[node.node_id] = node.post("/api/v1/calls", body_of(node))
    threads = [threading.Thread(target=post, args=(n,)) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    return got


class ClusterApiTest(unittest.TestCase):

    def assertConflict(self, r):
        # what a single node answers (test_daemon_errors.py)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.headers.get_content_type(), "application/json")
        self.assertEqual((r.json["error"], r.json["field"], r.json["status"]),
                         ("conflict", "callId", 409), r)
        self.assertIn("in use by an active call", r.json["message"])

    def test_the_call_list_of_any_node_is_the_clusters(self):
        with Cluster({"a": 1, "b": 1, "c": 1}) as cl, \
                Sipp("no_answer_cancel.xml", calls=2) as sipp, \
                Sipp("no_answer_cancel.xml") as lost_callee:
            a, b, c = (cl.nodes[n] for n in "abc")
            with a.events() as ev:
                # a node with room keeps the call it was asked for
                for node, call_id, callee in ((a, "l1", sipp), (b, "l2", sipp),
                                              (c, "l3", lost_callee)):
                    r = node.post("/api/v1/calls", ringing(callee, call_id, call_id))
                    self.assertEqual(r.status, 201, r)
                    ev.wait_call(call_id, status="RING")
                for n in (a, b, c, cl.front):
                    r = n.get("/api/v1/calls")
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual([(x["callId"], x["node"], x["status"]) for x in r.json],
                                     [("l1", "a", "RING"), ("l2", "b", "RING"),
                                      ("l3", "c", "RING")])
                    for x in r.json:
                        self.assertEqual(x["rtmpStream"], "***")
                        self.assertNotIn("sipPassword", x)
                # asked as a node asks (signed) a node lists its own calls only
                self.assertEqual([x["callId"] for x in a.get(
                    "/api/v1/calls", headers=node_headers("GET", "/api/v1/calls")).json],
                                 ["l1"])
                # a client's X-S2r-Node (unsigned, badly signed, signed
                # long ago) makes it no node: the cluster's list
                stale = node_headers("GET", "/api/v1/calls", when=int(time.time()) - 600)
                for forged in ({"X-S2r-Node": "a"},
                               dict(node_headers("GET", "/api/v1/calls"), **{"X-S2r-Node": "b"}),
                               stale):
                    self.assertEqual(sorted(x["callId"] for x in a.get(
                        "/api/v1/calls", headers=forged).json), ["l1", "l2", "l3"], forged)
                # a lost node's call is listed as the cluster reported it
                c.kill9()
                ev.wait_call_event("l3", lambda e: e.get("reason") == "node_lost", 8,
                                   "FAILED node_lost")
                r = a.delete("/api/v1/calls/l1")
                self.assertIn(r.status, (200, 202), r)
                ev.wait_call("l1", status="FINISH")
                got = {x["callId"]: (x["status"], x.get("reason"))
                       for x in cl.front.get("/api/v1/calls").json}
                self.assertEqual(got["l3"], ("FAILED", "node_lost"))
                self.assertEqual(got["l1"][0], "FINISH")
                self.assertEqual(got["l2"][0], "RING")
                r = a.delete("/api/v1/calls/l2")
                self.assertIn(r.status, (200, 202), r)
                ev.wait_call("l2", status="FINISH")
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_wcs5_terminate_find_and_send_dtmf_reach_the_owner(self):
        with Cluster({"a": 1, "b": 1, "c": 3}) as cl, NginxRtmp() as nginx, \
                Sipp("info_pin_then_tone_bye.xml", duration_ms=1000) as bridge, \
                Sipp("no_answer_cancel.xml") as ring:
            a, b, c = (cl.nodes[n] for n in "abc")
            with a.events() as ev:
                r = c.post("/api/v1/calls", call_body(bridge, nginx, "w5", callId="w5"))
                self.assertEqual(r.status, 201, r)
                r = c.post("/api/v1/calls", ringing(ring, "r5", "r5"))
                self.assertEqual(r.status, 201, r)
                ev.wait_call("w5", status="ESTABLISHED")
                ev.wait_call("r5", status="RING")
                self.assertEqual(cl.owner_of("w5"), "c")
                self.assertEqual(cl.owner_of("r5"), "c")
                # find by callId on a node that does not own it
                for n in (a, b, cl.front):
                    r = n.post("/rest-api/call/find", {"callId": "w5"})
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual([(x["callId"], x["status"]) for x in r.json],
                                     [("w5", "ESTABLISHED")])
                # the bridge hears its PIN (SIP INFO) sent through node a
                r = a.post("/rest-api/call/send_dtmf", {"callId": "w5", "dtmf": "1234#",
                                                        "type": "INFO"})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["callId"], "w5")
                # an error of the owner comes back as it gave it
                r = b.post("/rest-api/call/send_dtmf", {"callId": "w5", "dtmf": "1",
                                                        "type": "RFC2833"})
                self.assertEqual((r.status, r.json["field"]), (409, "method"), r)
                self.assertEqual(bridge.wait(), 0, "the bridge got 1234# by INFO" +
                                 bridge.report())
                # terminate through node b: the ringing callee gets its CANCEL
                r = b.post("/rest-api/call/terminate", {"callId": "r5"})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["callId"], "r5")
                ev.wait_call("r5", status="FINISH")
                self.assertEqual(ring.wait(), 0, ring.report())
                # a call nobody has: 404, as on one node
                r = b.post("/rest-api/call/terminate", {"callId": "nobody"})
                self.assertEqual(r.status, 404, r)

    def test_a_call_id_active_on_any_node_is_409_on_every_node(self):
        with Cluster({"a": 2, "b": 2, "c": 2}) as cl, \
                Sipp("no_answer_cancel.xml", calls=3) as sipp:
            a, b, c = (cl.nodes[n] for n in "abc")
            with a.events() as ev:
                r = a.post("/api/v1/calls", ringing(sipp, "dup", "s1"))
                self.assertEqual(r.status, 201, r)
                ev.wait_call("dup", status="RING")
                self.assertConflict(b.post("/api/v1/calls", ringing(sipp, "dup", "s2")))
                self.assertConflict(c.post("/RESTCall/call", ringing(sipp, "dup", "s3")))
                self.assertConflict(cl.front.post("/api/v1/calls",
                                                  ringing(sipp, "dup", "s4")))
                # a client claiming to be a node is a client: checked
                # cluster-wide all the same
                for n in (b, c):
                    self.assertConflict(n.post("/api/v1/calls", ringing(sipp, "dup", "s6"),
                                               headers={"X-S2r-Node": "a",
                                                        "X-S2r-Restart": "1"}))
                # hung up (CANCEL), the id is free again, on any node
                self.assertIn(b.delete("/api/v1/calls/dup").status, (200, 202))
                ev.wait_call("dup", status="FINISH")
                r = b.post("/api/v1/calls", ringing(sipp, "dup", "s5", app="again"))
                self.assertEqual(r.status, 201, r)
                # one id asked of two nodes at once: one call
                got = at_once((b, c), lambda n: ringing(sipp, "twin", "t-" + n.node_id))
                self.assertEqual(sorted(r.status for r in got.values()), [201, 409], got)
                for r in got.values():
                    if r.status == 409:
                        self.assertEqual(r.json["field"], "callId", r)
                # the second life of "dup" publishes to the app "again" (its
                # stream key is never shown); "twin" has one life
                for call_id, app in (("dup", "/again"), ("twin", None)):
                    def mine(status, app=app):
                        return lambda e: e["status"] == status and \
                            (app is None or e.get("rtmpUrl", "").endswith(app))
                    ev.wait_call_event(call_id, mine("RING"), 10, "RING")
                    self.assertIn(cl.front.delete("/api/v1/calls/" + call_id).status,
                                  (200, 202))
                    ev.wait_call_event(call_id, mine("FINISH"), 10, "FINISH")
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_a_stream_key_active_on_any_node_is_409_on_every_node(self):
        # what a single node answers for an rtmpUrl + rtmpStream in use
        # (s2r-call-manager.c), on every node, the key kept in Redis only
        # as a digest
        from test_cluster_records import redis_dump
        stream_conflict = {"error": "conflict", "field": "rtmpStream", "status": 409,
                           "message": "rtmpUrl + rtmpStream is in use by an active call"}
        with Cluster({"a": 2, "b": 2, "c": 2}) as cl, \
                Sipp("no_answer_cancel.xml", calls=3) as sipp:
            a, b, c = (cl.nodes[n] for n in "abc")
            with a.events() as ev:
                r = a.post("/api/v1/calls", ringing(sipp, "k1", "stream-key-1"))
                self.assertEqual(r.status, 201, r)
                ev.wait_call("k1", status="RING")
                owner = cl.owner_of("k1")
                for n, path, body in (
                        (b, "/api/v1/calls", ringing(sipp, "k2", "stream-key-1")),
                        (c, "/RESTCall/call", ringing(sipp, "k3", "stream-key-1")),
                        (cl.front, "/api/v1/calls", ringing(sipp, "k4", "stream-key-1")),
                        # no callId: the cluster makes one, the key is checked all the same
                        (cl.nodes[owner], "/api/v1/calls",
                         {k: v for k, v in ringing(sipp, "-", "stream-key-1").items()
                          if k != "callId"})):
                    r = n.post(path, body)
                    self.assertEqual(r.status, 409, r)
                    if n is not cl.front:
                        # forged node headers change nothing
                        r = n.post(path, body, headers={"X-S2r-Node": owner,
                                                        "X-S2r-Signature": "1:00"})
                        self.assertEqual(r.status, 409, r)
                    self.assertEqual(r.headers.get_content_type(), "application/json")
                    self.assertEqual(r.json, stream_conflict, (n, path))
                # a second destination in use: the single node's words for it
                r = b.post("/api/v1/calls", dict(
                    ringing(sipp, "k5", "stream-key-5"),
                    destinations=[{"rtmpUrl": "rtmp://127.0.0.1:1/live",
                                   "rtmpStream": "stream-key-1"}]))
                self.assertEqual((r.status, r.json.get("field")), (409, "destinations"), r)
                self.assertEqual(r.json["message"], "destination 2 (rtmpUrl + rtmpStream) "
                                 "is in use by an active call")
                # the refused requests left nothing reserved: stream-key-5 is free
                self.assertEqual(cl.front.get("/api/v1/calls/k5").status, 404)
                # one key asked of two nodes at once: one call
                got = at_once((b, c), lambda n: ringing(sipp, "twin-" + n.node_id,
                                                        "stream-twin"))
                self.assertEqual(sorted(r.status for r in got.values()), [201, 409], got)
                winner = [n for n, r in got.items() if r.status == 201][0]
                for r in got.values():
                    if r.status == 409:
                        self.assertEqual(r.json["field"], "rtmpStream", r)
                ev.wait_call("twin-" + winner, status="RING")
                # the stream keys are in Redis only as digests
                dump = redis_dump(cl.redis)
                self.assertEqual(len([k for k in dump if k.startswith("s2r:stream:")]), 2,
                                 sorted(dump))
                for k, text in dump.items():
                    self.assertNotIn("stream-key-1", k)
                    self.assertNotIn("stream-twin", k)
                # hung up (CANCEL): the keys are free again, on any node
                for call_id in ("k1", "twin-" + winner):
                    self.assertIn(cl.front.delete("/api/v1/calls/" + call_id).status,
                                  (200, 202))
                    ev.wait_call(call_id, status="FINISH")
                r = c.post("/api/v1/calls", dict(ringing(sipp, "k6", "stream-key-5"),
                                                 destinations=[{
                                                     "rtmpUrl": "rtmp://127.0.0.1:1/live",
                                                     "rtmpStream": "stream-key-1"}]))
                self.assertEqual(r.status, 201, r)
                ev.wait_call("k6", status="RING")
                self.assertIn(c.delete("/api/v1/calls/k6").status, (200, 202))
                ev.wait_call("k6", status="FINISH")
                self.assertEqual([k for k in redis_dump(cl.redis)
                                  if k.startswith("s2r:stream:")], [])
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_sse_after_a_pause_starts_at_the_newest_event_and_resumes_by_id(self):
        # a node reads the cluster's stream only while it has SSE clients;
        # its first client after a pause gets what comes next, and one
        # resuming gets every event after its Last-Event-ID
        from test_cluster_records import redis_cli

        def readers_idle():
            """Seconds since each node's stream reader last spoke to Redis."""
            return sorted(int(re.search(r" idle=(\d+)", line).group(1))
                          for line in redis_cli(cl.redis, "CLIENT", "LIST")
                          if " name=s2r-events " in line)
        with Cluster({"a": 2, "b": 2}) as cl, \
                Sipp("no_answer_cancel.xml", calls=1) as sipp:
            a, b = cl.nodes["a"], cl.nodes["b"]
            with a.events() as ev:
                r = b.post("/api/v1/calls", ringing(sipp, "p1", "p1"))
                self.assertEqual(r.status, 201, r)
                new = ev.wait_call("p1", status="NEW")
                ring = ev.wait_call("p1", status="RING")
                # a reads (XREAD BLOCK 1000, again each second), b does not
                wait_until(lambda: (lambda idle: idle[0] <= 1 and idle[-1] >= 3)(
                    readers_idle()), 10, "a's reader reading, b's at rest")
                with b.events() as live:
                    self.assertIn(b.delete("/api/v1/calls/p1").status, (200, 202))
                    fin = live.wait_call("p1", status="FINISH")
                    got = [e["status"] for e in live.of_call("p1")]
                    self.assertNotIn("NEW", got)
                    self.assertNotIn("RING", got)
                    self.assertEqual(fin["_id"], ev.wait_call("p1", status="FINISH")["_id"])
            # no client anywhere now: resumed on b after the NEW, then on a
            # after the RING, each gets exactly the events a's client saw
            # after that one, in order
            for node, after in ((b, new), (a, ring)):
                with ResumedEvents(node, after["_id"]) as es:
                    es.wait_call("p1", status="FINISH", timeout=5)
                    self.assertEqual([(e["_id"], e["status"]) for e in es.of_call("p1")],
                                     [(e["_id"], e["status"]) for e in ev.of_call("p1")
                                      if stream_id(e) > stream_id(after)])
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_node_lost_reaches_the_calls_webhook_once(self):
        with WebhookReceiver() as by_url, WebhookReceiver() as by_app, \
                Cluster({"a": 1, "b": 1, "c": 2},
                        extra="[app:room]\nurl=%s\n" % by_app.url) as cl, \
                Sipp("no_answer_cancel.xml", calls=2) as sipp:
            c = cl.nodes["c"]
            body = ringing(sipp, "hooked", "hooked")
            r = c.post("/api/v1/calls", dict(body, callbackUrl=by_url.url))
            self.assertEqual(r.status, 201, r)
            r = c.post("/api/v1/calls", dict(ringing(sipp, "app", "app"), appKey="room"))
            self.assertEqual(r.status, 201, r)
            for hook, call_id in ((by_url, "hooked"), (by_app, "app")):
                hook.wait(lambda j: j.get("callId") == call_id and j["status"] == "RING",
                          10, "RING of " + call_id)
            self.assertEqual(cl.owner_of("hooked"), "c")
            killed = time.monotonic()
            c.kill9()
            with cl.nodes["a"].events() as ev:
                hooks = ((by_url, "hooked"), (by_app, "app"))
                # both timed from the kill before anything else is checked
                # (the SSE wait below took from the second one's bound)
                lost_of = {}
                for hook, call_id in hooks:
                    lost_of[call_id] = hook.wait(lambda j: j.get("reason") == "node_lost",
                                                 8, "node_lost of " + call_id)
                    self.assertLess(time.monotonic() - killed, 6)
                for hook, call_id in hooks:
                    lost = lost_of[call_id]
                    self.assertEqual((lost["callId"], lost["status"],
                                      lost["rtmpStreamStatus"]),
                                     (call_id, "FAILED", "FAILED"))
                    # after the owner's events, in sequence
                    before = [j["sequence"] for j in hook.events()
                              if j.get("reason") != "node_lost"]
                    self.assertEqual(lost["sequence"], max(before) + 1)
                    seq = [h.get("X-Sip2rtmp-Sequence") for _, h, j in hook.received
                           if j.get("reason") == "node_lost"]
                    self.assertEqual(seq, [str(lost["sequence"])])
                    self.assertEqual(ev.wait_call_event(
                        call_id, lambda e: e.get("reason") == "node_lost", 5,
                        "node_lost on SSE")["sequence"], lost["sequence"])
                # once: a second poster (another node's view, each second)
                # would have posted within this quiet time; nothing to wait on
                time.sleep(2.5)
                for hook in (by_url, by_app):
                    self.assertEqual(len([j for j in hook.events()
                                          if j.get("reason") == "node_lost"]), 1)
                    self.assertEqual({j["callId"] for j in hook.events()},
                                     {"hooked"} if hook is by_url else {"app"})


if __name__ == "__main__":
    unittest.main()
