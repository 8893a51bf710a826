"""A cluster of three sip2rtmpd nodes behind HAProxy, sharing one Redis.

Every component real on 127.0.0.1 (redis-server with an ACL user, HAProxy,
the nodes, SIPp callees, nginx-rtmp); docs/cluster.md is the design.
"""

import re
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Sipp, NginxRtmp, call_body, pull_rtmp,  # noqa: E402
                    dominant_frequency, wait_until, EventStream)
from cluster import Cluster, TOKEN, REDIS_PASSWORD  # noqa: E402

FINAL = ("FINISH", "FAILED", "BUSY")


def cluster_metrics(node):
    """node's /metrics, checked by promtool: {name{labels}: value} of the
    sip2rtmp_cluster_ lines."""
    r = node.get("/metrics")
    assert r.status == 200, r
    check = subprocess.run(["promtool", "check", "metrics"], input=r.text,
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, "promtool: %s%s" % (check.stdout, check.stderr)
    return {m.group(1): float(m.group(2)) for m in
            re.finditer(r"(?m)^(sip2rtmp_cluster_\S+) (\S+)$", r.text)}


class ClusterTest(unittest.TestCase):

    def assertTone(self, nginx, stream, hz, workdir):
        wav = Path(workdir) / ("%s.wav" % stream)
        res = pull_rtmp(nginx.url(stream=stream), 2, wav)
        self.assertEqual(res.returncode, 0, res.stderr)
        got = dominant_frequency(str(wav))
        self.assertIsNotNone(got, "silence on %s" % stream)
        self.assertAlmostEqual(got, hz, delta=hz * 0.03)

    def assertNoSecrets(self, cluster):
        for n in cluster.nodes.values():
            log = n.log()
            for secret in (TOKEN, REDIS_PASSWORD, "cluster-key-not-in-logs",
                           "sip-pw-not-in-logs"):
                self.assertNotIn(secret, log)

    def test_calls_spread_by_capacity_and_503_when_every_node_is_full(self):
        with Cluster({"a": 1, "b": 2, "c": 3}) as cl, \
                Sipp("no_answer_cancel.xml", calls=6) as sipp:
            ids = []
            for i in range(6):
                r = cl.front.post("/api/v1/calls", {
                    "callee": sipp.uri(), "rtmpUrl": "rtmp://127.0.0.1:1/live",
                    "rtmpStream": "room-%d" % i})
                self.assertEqual(r.status, 201, r)
                ids.append(r.json["callId"])
            r = cl.front.post("/api/v1/calls", {
                "callee": sipp.uri(), "rtmpUrl": "rtmp://127.0.0.1:1/live",
                "rtmpStream": "room-full"})
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.json["error"], "unavailable")
            self.assertIn("every node", r.json["message"])
            self.assertEqual({n: cl.nodes[n].active() for n in cl.nodes},
                             {"a": 1, "b": 2, "c": 3})
            # hung up through any node: each callee sees its CANCEL
            for i, call_id in enumerate(ids):
                r = cl.front.delete("/api/v1/calls/%s" % call_id)
                self.assertIn(r.status, (200, 202), r)
                self.assertEqual(r.json["callId"], call_id)
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_any_node_answers_for_any_call_and_sse_serves_the_cluster(self):
        with Cluster({"a": 5, "b": 5, "c": 5}) as cl, NginxRtmp() as nginx, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": 700}) as sipp:
            a, b, c = (cl.nodes[n] for n in "abc")
            with a.events() as ev:
                r = c.post("/api/v1/calls", call_body(
                    sipp, nginx, "room", callId="any-node",
                    sipLogin="alice", sipPassword="sip-pw-not-in-logs"))
                self.assertEqual(r.status, 201, r)
                first = ev.wait_call("any-node", status="NEW")
                ev.wait_call("any-node", status="ESTABLISHED")
                pub = ev.wait_call("any-node", stream="PUBLISHING")
                owner = cl.owner_of("any-node")
                self.assertEqual(pub["node"], owner)
                for n in cl.nodes.values():
                    r = n.get("/api/v1/calls/any-node")
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.json["status"], "ESTABLISHED")
                    self.assertEqual(r.json["rtmpStreamStatus"], "PUBLISHING")
                    r = n.get("/api/v1/calls/any-node/destinations")
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.json[0]["rtmpStream"], "***")
                self.assertTone(nginx, "room", 700, sipp.dir)
                other = [n for n in cl.nodes if n != owner][0]
                r = cl.nodes[other].delete("/api/v1/calls/any-node")
                self.assertIn(r.status, (200, 202), r)
                ev.wait_call("any-node", status="FINISH")
                self.assertEqual(sipp.wait(), 0, sipp.report())
            # another node resumes after the first event
            es = EventStream(b.url("/api/v1/events"), TOKEN)
            import urllib.request
            req = urllib.request.Request(es.url, headers={
                "Authorization": "Bearer " + TOKEN,
                "Last-Event-ID": first["_id"]})
            es._resp = urllib.request.urlopen(req, timeout=30)
            threading.Thread(target=es._read, daemon=True).start()
            fin = es.wait_call("any-node", status="FINISH", timeout=5)
            got = [e["status"] for e in es.of_call("any-node")]
            self.assertNotIn("NEW", got)
            self.assertEqual(got[0], "TRYING")
            self.assertTrue(fin["_id"] > first["_id"])
            es.__exit__()
            self.assertNoSecrets(cl)

    def test_kill_9_fails_its_calls_node_lost_and_restarts_restartable_ones(self):
        with Cluster({"a": 1, "b": 1, "c": 2}) as cl, NginxRtmp() as nginx, \
                Sipp("answer_pcmu_wait_bye.xml", calls=2,
                     tones={"tone-pcmu.wav": 700}) as keep, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": 1100}) as once:
            c = cl.nodes["c"]
            with cl.nodes["a"].events() as ev:
                r = c.post("/api/v1/calls", call_body(keep, nginx, "kept",
                                                      callId="kept", restart=True))
                self.assertEqual(r.status, 201, r)
                r = c.post("/api/v1/calls", call_body(once, nginx, "once",
                                                      callId="once"))
                self.assertEqual(r.status, 201, r)
                for call_id in ("kept", "once"):
                    ev.wait_call(call_id, stream="PUBLISHING")
                    self.assertEqual(cl.owner_of(call_id), "c")
                killed = time.monotonic()
                c.kill9()
                for call_id in ("kept", "once"):
                    lost = ev.wait_call_event(
                        call_id, lambda e: e.get("reason") == "node_lost", 6,
                        "FAILED node_lost")
                    self.assertLess(time.monotonic() - killed, 5.0)
                    self.assertEqual(lost["status"], "FAILED")
                    self.assertEqual(lost["attempt"], 1)
                # the API says so too (the restartable one is back already)
                r = cl.front.get("/api/v1/calls/once")
                self.assertEqual(r.status, 200, r)
                self.assertEqual((r.json["status"], r.json["reason"]),
                                 ("FAILED", "node_lost"))
                again = ev.wait_call_event(
                    "kept", lambda e: e.get("attempt") == 2 and
                    e.get("rtmpStreamStatus") == "PUBLISHING", 15,
                    "attempt 2 publishing")
                self.assertIn(again["node"], ("a", "b"))
                self.assertEqual(again["rtmpStream"], "***")
                self.assertTone(nginx, "kept", 700, keep.dir)
                self.assertFalse(any(e.get("attempt") == 2
                                     for e in ev.of_call("once")))

    def test_a_node_cut_from_redis_fences_itself_one_publisher_throughout(self):
        with Cluster({"a": 1, "b": 1, "c": 2}, via_proxy=["c"]) as cl, \
                NginxRtmp() as nginx, \
                Sipp("answer_pcmu_wait_bye.xml", calls=2,
                     tones={"tone-pcmu.wav": 900}) as sipp:
            c = cl.nodes["c"]
            # what the operator's Prometheus sees of c: active, 3 nodes
            m = cluster_metrics(c)
            self.assertEqual((m['sip2rtmp_cluster_node_state{state="active"}'],
                              m['sip2rtmp_cluster_node_state{state="fenced"}'],
                              m["sip2rtmp_cluster_nodes"]), (1, 0, 3), m)
            self.assertLess(m["sip2rtmp_cluster_lease_age_seconds"], 5, m)
            self.assertEqual(m["sip2rtmp_cluster_sse_clients"], 0, m)
            with cl.nodes["a"].events() as ev:
                # a's SSE client (the cluster's stream) is a's, not c's
                wait_until(lambda: cluster_metrics(cl.nodes["a"])[
                    "sip2rtmp_cluster_sse_clients"] == 1, 10, "a's SSE client counted")
                self.assertEqual(cluster_metrics(c)["sip2rtmp_cluster_sse_clients"], 0)
                r = c.post("/api/v1/calls", call_body(sipp, nginx, "fenced",
                                                      callId="fenced", restart=True))
                self.assertEqual(r.status, 201, r)
                ev.wait_call("fenced", stream="PUBLISHING")
                publishers = []     # (time, publisher client ids) from nginx's stat
                stop = threading.Event()

                def watch():
                    while not stop.is_set():
                        xml = nginx.stat()
                        ids = []
                        for s in re.findall(r"<stream>(.*?)</stream>", xml, re.S):
                            if "<name>fenced</name>" in s:
                                ids += [m for m in re.findall(
                                    r"<client><id>(\d+)</id>((?:(?!</client>).)*)</client>",
                                    s, re.S) if "<publishing/>" in m[1]]
                        publishers.append((time.monotonic(), [i for i, _ in ids]))
                        time.sleep(0.05)
                t = threading.Thread(target=watch, daemon=True)
                t.start()
                cut = time.monotonic()
                cl.proxies["c"].cut()
                c.wait_log("ms: fenced,", 5)
                m = cluster_metrics(c)
                self.assertEqual((m['sip2rtmp_cluster_node_state{state="active"}'],
                                  m['sip2rtmp_cluster_node_state{state="fenced"}']), (0, 1), m)
                # its lease is older than Redis' last acknowledgement before the cut
                self.assertGreater(m["sip2rtmp_cluster_lease_age_seconds"], 0, m)
                ev.wait_call_event("fenced", lambda e: e.get("attempt") == 2 and
                                   e.get("rtmpStreamStatus") == "PUBLISHING", 15,
                                   "attempt 2 publishing")
                # nginx's stat may show the new publisher a poll later
                wait_until(lambda: len({p[0] for _, p in list(publishers) if p}) >= 2,
                           5, "the new publisher in nginx's stat")
                stop.set()
                t.join()
                self.assertTrue(publishers)
                self.assertTrue(all(len(p) <= 1 for _, p in publishers), publishers)
                seen = [p[0] for _, p in publishers if p]
                self.assertGreaterEqual(len(set(seen)), 2, publishers)
                # the old one had gone before the new one came
                first_new = next(i for i, (_, p) in enumerate(publishers)
                                 if p and p[0] != seen[0])
                self.assertTrue(any(not p for _, p in publishers[:first_new]))
                self.assertLess(cut, time.monotonic())
                self.assertTone(nginx, "fenced", 900, sipp.dir)
                # it comes back and takes calls again
                cl.proxies["c"].mend()
                c.wait_log("lease renewed again", 10)
                wait_until(lambda: c.get("/readyz").status == 200, 5, "c ready")
                m = cluster_metrics(c)
                self.assertEqual(m['sip2rtmp_cluster_node_state{state="active"}'], 1, m)
                self.assertEqual(m["sip2rtmp_cluster_records_queued"], 0, m)
                self.assertGreater(m["sip2rtmp_cluster_redis_commands_total"], 0, m)

    def test_sigterm_drains_a_node_without_dropping_its_call(self):
        with Cluster({"a": 2, "b": 1, "c": 1}) as cl, NginxRtmp() as nginx, \
                Sipp("answer_pcmu_bye.xml", duration_ms=4000,
                     tones={"tone-pcmu.wav": 700}) as sipp, \
                Sipp("no_answer_cancel.xml") as later:
            a = cl.nodes["a"]
            with cl.nodes["b"].events() as ev:
                r = a.post("/api/v1/calls", call_body(sipp, nginx, "drained",
                                                      callId="drained"))
                self.assertEqual(r.status, 201, r)
                ev.wait_call("drained", stream="PUBLISHING")
                self.assertEqual(cl.owner_of("drained"), "a")
                a.proc.send_signal(15)
                a.wait_log("draining", 5)
                self.assertEqual(a.get("/readyz").status, 503)
                # a new call goes elsewhere, even when asked of the draining node
                r = a.post("/api/v1/calls", {"callee": later.uri(), "callId": "later",
                                             "rtmpUrl": "rtmp://127.0.0.1:1/live",
                                             "rtmpStream": "later"})
                self.assertEqual(r.status, 201, r)
                self.assertIn(cl.owner_of("later"), ("b", "c"))
                # the callee hangs up after 4 s: the call was never cut
                fin = ev.wait_call("drained", status="FINISH", timeout=15)
                self.assertEqual(sipp.wait(), 0, sipp.report())
                self.assertNotIn("node_lost", str(ev.of_call("drained")))
                self.assertEqual(a.proc.wait(10), 0)
                self.assertEqual(fin["node"], "a")
                # the node is gone; the cluster still tells how the call ended
                r = cl.nodes["b"].get("/api/v1/calls/drained")
                self.assertEqual((r.status, r.json["status"]), (200, "FINISH"), r)
                self.assertIsNotNone(r.json["ended"])
                cl.front.delete("/api/v1/calls/later")


if __name__ == "__main__":
    unittest.main()
