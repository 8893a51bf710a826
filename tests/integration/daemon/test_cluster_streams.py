"""Stream keys unique in the cluster beyond placement (docs/cluster.md).

A stream key (rtmpUrl + rtmpStream) one call of the cluster publishes to is
refused to every other call, whichever node carries it: a destination added
to a running call (POST /api/v1/calls/{id}/destinations) gets the 409 a
single node answers, an incoming call the 480 a node answers a caller whose
route's stream is live; each is free again once the destination is removed
or its call ended. Every component real on 127.0.0.1: redis-server with an
ACL user, HAProxy, sip2rtmpd nodes (with SIP listeners), SIPp callees and
callers playing a tone, nginx-rtmp.
"""

import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from daemon import Sipp, NginxRtmp, call_body, free_port, wait_until, LOOPBACK  # noqa: E402
from cluster import Cluster, listening_on  # noqa: E402
from callers import call_in, caller, invite_answers  # noqa: E402
from test_cluster_records import redis_dump  # noqa: E402

# what a single node answers for an rtmpUrl + rtmpStream in use
# (s2r-call-manager.c), the first or an added destination
STREAM_CONFLICT = {"error": "conflict", "field": "rtmpStream", "status": 409,
                   "message": "rtmpUrl + rtmpStream is in use by an active call"}


def publishers(nginx, stream, app="live"):
    """nginx-rtmp's publishing clients of app/stream (ids), from /stat."""
    xml = nginx.stat()
    m = re.search(r"<application>\s*<name>%s</name>(.*?)</application>" % app, xml, re.S)
    ids = []
    for s in re.findall(r"<stream>(.*?)</stream>", m.group(1) if m else "", re.S):
        if "<name>%s</name>" % stream in s:
            ids += [i for i, rest in re.findall(
                r"<client><id>(\d+)</id>((?:(?!</client>).)*)</client>", s, re.S)
                if "<publishing/>" in rest]
    return ids


def destination(nginx, stream):
    return {"rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port), "rtmpStream": stream}


def stream_keys(cl):
    return sorted(k for k in redis_dump(cl.redis) if k.startswith("s2r:stream:"))


class ClusterStreamsTest(unittest.TestCase):

    def assertStreamConflict(self, r):
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.headers.get_content_type(), "application/json")
        self.assertEqual(r.json, STREAM_CONFLICT)

    def assertPublishingOn(self, cl, ev, node, body):
        """A call placed through `node` publishes, and `node` owns it"""
        r = node.post("/api/v1/calls", body)
        self.assertEqual(r.status, 201, r)
        ev.wait_call(body["callId"], stream="PUBLISHING")
        self.assertEqual(cl.owner_of(body["callId"]), node.node_id)

    def assertAddedAndPublishing(self, ev, node, call_id, nginx, stream):
        """A second destination added to the call: 201, it publishes, the
        one publisher of nginx's stream"""
        r = node.post("/api/v1/calls/%s/destinations" % call_id,
                      destination(nginx, stream))
        self.assertEqual(r.status, 201, r)
        ev.wait_call_event(call_id, lambda e: len(e.get("destinations", [])) == 2 and
                           e["destinations"][1]["status"] == "PUBLISHING", 15,
                           "the added destination PUBLISHING")
        nginx.wait_publishing(stream)
        self.assertEqual(len(publishers(nginx, stream)), 1)

    def test_a_destination_added_on_one_node_is_409_where_another_node_publishes(self):
        # stream keys, each a secret
        secrets = shared, own, added = ("key-shared-7f", "key-own-b-3c", "key-added-9d")
        with Cluster({"a": 1, "b": 1}) as cl, NginxRtmp() as nginx, \
                Sipp("answer_pcmu_wait_bye.xml", calls=2,
                     tones={"tone-pcmu.wav": 700}) as sipp:
            a, b = cl.nodes["a"], cl.nodes["b"]
            with a.events() as ev:
                # one call a node: a publishes to `shared`, b to `own`
                for node, call_id, stream in ((a, "on-a", shared), (b, "on-b", own)):
                    self.assertPublishingOn(cl, ev, node, call_body(sipp, nginx, stream,
                                                                    callId=call_id))
                nginx.wait_publishing(shared)
                self.assertEqual(len(publishers(nginx, shared)), 1)

                # b's call asks for a's key: through its owner, another
                # node and HAProxy, the single node's 409
                for n in (b, a, cl.front):
                    r = n.post("/api/v1/calls/on-b/destinations",
                               destination(nginx, shared))
                    self.assertStreamConflict(r)
                self.assertEqual(len(b.get("/api/v1/calls/on-b/destinations").json), 1)
                self.assertEqual(len(publishers(nginx, shared)), 1)

                # a key free in the cluster is held for b's call: a's call
                # cannot have it while b publishes there
                r = cl.front.post("/api/v1/calls/on-b/destinations",
                                  destination(nginx, added))
                self.assertEqual(r.status, 201, r)
                self.assertTrue(r.headers["Location"].startswith(
                    "/api/v1/calls/on-b/destinations/"), r.headers["Location"])
                added_id = r.headers["Location"]
                nginx.wait_publishing(added)
                r = a.post("/api/v1/calls/on-a/destinations", destination(nginx, added))
                self.assertStreamConflict(r)
                self.assertEqual(len(publishers(nginx, added)), 1)
                # three keys held, as digests only
                keys = stream_keys(cl)
                self.assertEqual(len(keys), 3, keys)
                for k, text in redis_dump(cl.redis).items():
                    for secret in secrets:
                        self.assertNotIn(secret, k + text)

                # removed from b's call: a's call takes it and publishes there
                r = a.delete(added_id)
                self.assertEqual(r.status, 200, r)
                # b gives the key back by a record write it sends after its
                # 200 (s2r_call_manager_remove_destination): Redis may not
                # have it yet when the answer is here (CI17 saw a key go
                # between KEYS and TYPE); a's hold before it would be 409
                wait_until(lambda: len(stream_keys(cl)) == 2, 5,
                           "the removed destination's key given back")
                self.assertAddedAndPublishing(ev, a, "on-a", nginx, added)

                # a's call ended: its keys (its placement's and the one it
                # added) are free; b's call takes `shared` and publishes
                self.assertIn(cl.front.delete("/api/v1/calls/on-a").status, (200, 202))
                ev.wait_call("on-a", status="FINISH")
                self.assertAddedAndPublishing(ev, b, "on-b", nginx, shared)
                self.assertIn(b.delete("/api/v1/calls/on-b").status, (200, 202))
                ev.wait_call("on-b", status="FINISH")
                self.assertEqual(stream_keys(cl), [])
            self.assertEqual(sipp.wait(), 0, sipp.report())
            # nor in any node's log
            for n in (a, b):
                for secret in secrets:
                    self.assertNotIn(secret, n.log())

    def test_a_destination_is_503_while_its_node_cannot_reach_redis(self):
        # the key cannot be held: nothing is added (a placement goes on
        # unchecked, its claim writes the keys later; nothing would write
        # an added one)
        with Cluster({"a": 1, "b": 1}, via_proxy=["b"]) as cl, NginxRtmp() as nginx, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": 700}) as sipp:
            b = cl.nodes["b"]
            with cl.nodes["a"].events() as ev:
                self.assertPublishingOn(cl, ev, b, call_body(sipp, nginx, "before-cut",
                                                             callId="cut-b"))
                cl.proxies["b"].cut()
                r = b.post("/api/v1/calls/cut-b/destinations", destination(nginx, "refused"))
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.json, {"error": "unavailable", "field": None, "status": 503,
                                          "message": "the cluster's state is out of reach"})
                self.assertEqual(len(b.get("/api/v1/calls/cut-b/destinations").json), 1)
                # b fences itself (its call hung up); back, its key is given
                # back and the refused one was never held nor published
                b.wait_log("ms: fenced,", 5)
                cl.proxies["b"].mend()
                b.wait_log("lease renewed again", 10)
                wait_until(lambda: stream_keys(cl) == [], 10, "no stream key held")
                self.assertEqual(publishers(nginx, "refused"), [])
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_an_incoming_call_to_a_stream_live_on_another_node_is_480(self):
        # a route (made through a) publishes callers of room9 to
        # "in-room9"; an API call on a publishes there: a caller through
        # b's own listener gets what a node answers when the route's
        # stream is live (480), and no call
        ports = {n: free_port() for n in "ab"}
        with Cluster({"a": 2, "b": 2}, node_class=listening_on(ports)) as cl, \
                NginxRtmp() as nginx, \
                Sipp("answer_pcmu_wait_bye.xml", calls=2,
                     tones={"tone-pcmu.wav": 700}) as sipp:
            a, b = cl.nodes["a"], cl.nodes["b"]
            r = a.post("/api/v1/routes", dict(destination(nginx, "in-room9"), user="room9"))
            self.assertEqual(r.status, 201, r)
            # b's copy of the cluster's routes is made now, not in a second
            self.assertEqual(len(b.get("/api/v1/routes").json["routes"]), 1)
            with a.events() as ev:
                self.assertPublishingOn(cl, ev, a, call_body(sipp, nginx, "in-room9",
                                                             callId="api"))
                rc, got, report = call_in(ports["b"], "room9")
                self.assertEqual(got, [180, 480], report)
                self.assertEqual([c["callId"] for c in b.get("/api/v1/calls").json], ["api"])
                self.assertFalse([e for e in ev.events if e.get("calledUser") == "room9"])
                self.assertEqual(len(publishers(nginx, "in-room9")), 1)
                self.assertEqual(len(stream_keys(cl)), 1)

                # the API call ended: b's caller gets the stream, which a
                # call on a cannot add while it is live
                self.assertIn(a.delete("/api/v1/calls/api").status, (200, 202))
                ev.wait_call("api", status="FINISH")
                r = a.post("/api/v1/calls", call_body(sipp, nginx, "other", callId="api2"))
                self.assertEqual(r.status, 201, r)
                ev.wait_call("api2", stream="PUBLISHING")
                with caller(ports["b"], "room9", duration_ms=8000, timeout=40) as uac:
                    call = ev.wait(lambda e: e.get("calledUser") == "room9" and
                                   e.get("rtmpStreamStatus") == "PUBLISHING", 20,
                                   "room9 publishing")
                    self.assertEqual(call["node"], "b")
                    nginx.wait_publishing("in-room9")
                    r = a.post("/api/v1/calls/api2/destinations", destination(nginx, "in-room9"))
                    self.assertStreamConflict(r)
                    self.assertEqual(len(publishers(nginx, "in-room9")), 1)
                    self.assertEqual(uac.wait(40), 0, uac.report())
                    self.assertEqual(invite_answers(uac)[-1], 200, uac.report())
                ev.wait_call(call["callId"], status="FINISH")
                self.assertIn(a.delete("/api/v1/calls/api2").status, (200, 202))
                ev.wait_call("api2", status="FINISH")
                self.assertEqual(stream_keys(cl), [])
            self.assertEqual(sipp.wait(), 0, sipp.report())
            for n in (a, b):
                self.assertNotIn("in-room9", n.log())

    def test_an_incoming_call_is_503_while_its_node_cannot_reach_redis(self):
        # b cannot hold the route's stream key: 503, which Kamailio's
        # dispatcher answers by trying another node; before b fences
        # itself and after
        ports = {n: free_port() for n in "ab"}
        with Cluster({"a": 1, "b": 1}, via_proxy=["b"],
                     node_class=listening_on(ports)) as cl, NginxRtmp() as nginx:
            a, b = cl.nodes["a"], cl.nodes["b"]
            r = a.post("/api/v1/routes", dict(destination(nginx, "in-room5"), user="room5"))
            self.assertEqual(r.status, 201, r)
            self.assertEqual(len(b.get("/api/v1/routes").json["routes"]), 1)
            cl.proxies["b"].cut()
            rc, got, report = call_in(ports["b"], "room5")
            self.assertEqual(got, [180, 503], report)
            b.wait_log("ms: fenced,", 5)
            rc, got, report = call_in(ports["b"], "room5")
            self.assertEqual(got, [180, 503], report)
            self.assertEqual(b.get("/api/v1/calls").json, [])
            self.assertEqual(publishers(nginx, "in-room5"), [])


if __name__ == "__main__":
    unittest.main()
