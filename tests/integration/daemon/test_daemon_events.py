"""Status push: webhooks (per appKey or callbackUrl) and the SSE stream.

A real HTTP receiver records what the daemon POSTs; the SSE stream is read
over real HTTP.
"""

import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, WebhookReceiver, call_body,  # noqa: E402
                    free_port, LOOPBACK)
from rtp_pcap import write_pcap, dtmf_packets  # noqa: E402

# The life of a call that rings, answers, publishes and is hung up
LIFE = [("NEW", "PENDING"), ("TRYING", "PENDING"), ("RING", "PENDING"),
        ("ESTABLISHED", "PENDING"), ("ESTABLISHED", "PUBLISHING"),
        ("FINISH", "UNPUBLISHED")]


def life(events):
    return [(e["status"], e["rtmpStreamStatus"]) for e in events]


def is_subsequence(wanted, seq):
    it = iter(seq)
    return all(any(x == w for x in it) for w in wanted)


class DaemonEventsTest(unittest.TestCase):

    def run_call(self, d, nginx, sipp, ev, **extra):
        r = d.post("/api/v1/calls", call_body(sipp, nginx, "ev", **extra))
        self.assertEqual(r.status, 201, r)
        cid = r.json["callId"]
        ev.wait_call(cid, stream="PUBLISHING")
        d.delete("/api/v1/calls/%s" % cid)
        ev.wait_call(cid, status="FINISH", stream="UNPUBLISHED")
        return cid

    def test_webhook_of_the_app_key_gets_every_state_in_sequence(self):
        with WebhookReceiver() as hook, NginxRtmp() as nginx, \
                Daemon("[app:callApp]\nurl=%s\n" % hook.url) as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as sipp:
            cid = self.run_call(d, nginx, sipp, ev, appKey="callApp")
            hook.wait(lambda j: j["status"] == "FINISH" and
                      j["rtmpStreamStatus"] == "UNPUBLISHED")
            got = hook.events()
            self.assertTrue(all(j["callId"] == cid for j in got))
            self.assertTrue(all(j["event"] == "CallStatusEvent" for j in got), got)
            self.assertTrue(is_subsequence(LIFE, life(got)), life(got))
            seqs = [j["sequence"] for j in got]
            self.assertEqual(seqs, sorted(seqs))
            self.assertEqual(len(set(seqs)), len(seqs))
            # the same events, with the same numbers, as on the SSE stream
            self.assertEqual(seqs, [e["sequence"] for e in ev.of_call(cid)])
            path, headers, _ = hook.received[0]
            self.assertEqual(path, "/hooks/call")
            self.assertEqual(headers["Content-Type"], "application/json")
            self.assertEqual(headers["X-Sip2rtmp-Sequence"], str(seqs[0]))

    def test_failed_deliveries_are_retried_in_order(self):
        with WebhookReceiver(fail_first=3) as hook, NginxRtmp() as nginx, \
                Daemon() as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as sipp:
            cid = self.run_call(d, nginx, sipp, ev, callbackUrl=hook.url)
            hook.wait(lambda j: j["rtmpStreamStatus"] == "UNPUBLISHED", timeout=30)
            self.assertGreaterEqual(hook.attempts, len(hook.received) + 3)
            self.assertEqual([j["sequence"] for j in hook.events()],
                             [e["sequence"] for e in ev.of_call(cid)])

    def test_slow_or_dead_receivers_never_stall_the_api_or_the_call(self):
        dead = "http://%s:%d/nobody" % (LOOPBACK, free_port())
        with WebhookReceiver(delay=4) as slow, NginxRtmp() as nginx, \
                Daemon("[app:dead]\nurl=%s\n[webhook]\ntimeout=2\n" % dead) as d, \
                d.events() as ev, Sipp("answer_pcmu_wait_bye.xml") as s1, \
                Sipp("answer_pcmu_wait_bye.xml") as s2:
            t0 = time.monotonic()
            a = d.post("/api/v1/calls", call_body(s1, nginx, "slow", callbackUrl=slow.url))
            b = d.post("/api/v1/calls", call_body(s2, nginx, "dead", appKey="dead"))
            self.assertEqual((a.status, b.status), (201, 201))
            ev.wait_call(a.json["callId"], stream="PUBLISHING")
            ev.wait_call(b.json["callId"], stream="PUBLISHING")
            # calls were placed and published while the first hook still sat
            self.assertLess(time.monotonic() - t0, 4)
            self.assertEqual(d.get("/api/v1/calls").status, 200)
            self.assertLess(time.monotonic() - t0, 4)

    def test_sse_stream_carries_every_state_change(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as sipp:
            self.assertEqual(ev.status, 200)
            self.assertEqual(ev.headers.get_content_type(), "text/event-stream")
            cid = self.run_call(d, nginx, sipp, ev)
            mine = ev.of_call(cid)
            self.assertTrue(is_subsequence(LIFE, life(mine)), life(mine))
            self.assertTrue(all(e["_event"] == "call" for e in mine))
            self.assertEqual([int(e["_id"]) for e in mine], [e["sequence"] for e in mine])
            final = mine[-1]
            for key in ("callee", "sipUri", "sipStatus", "reason", "hasAudio",
                        "hasVideo", "rtmpUrl", "rtmpStream", "created", "answered",
                        "ended", "timestamp"):
                self.assertIn(key, final)
            self.assertIs(final["hasAudio"], True)


    def test_dtmf_keys_are_events_on_sse_and_webhooks_and_in_the_call(self):
        digits = "1#9*"
        packets = dtmf_packets(digits, tone_hz=1000, event_seconds=0.12)
        seconds = packets[-1][0]
        with WebhookReceiver() as hook, NginxRtmp() as nginx, Daemon() as d, \
                d.events() as ev, \
                Sipp("answer_pcmu_dtmf_bye.xml", duration_ms=int(seconds * 1000) + 1500,
                     files={"dtmf.pcap": lambda p: write_pcap(p, packets)}) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "dtmf",
                                                   callbackUrl=hook.url))
            self.assertEqual(r.status, 201, r)
            cid = r.json["callId"]
            ev.wait_call(cid, status="FINISH", timeout=30)
            keys = [e for e in ev.of_call(cid) if e["event"] == "DtmfEvent"]
            self.assertEqual("".join(e["digit"] for e in keys), digits, keys)
            self.assertTrue(all(e["durationMs"] == 120 for e in keys), keys)
            # the same events, in the same order, reach the webhook
            hook.wait(lambda j: j["status"] == "FINISH", timeout=30)
            self.assertEqual([(j["sequence"], j.get("digit")) for j in hook.events()
                              if j["event"] == "DtmfEvent"],
                             [(e["sequence"], e["digit"]) for e in keys])
            self.assertEqual(d.get("/api/v1/calls/%s" % cid).json["dtmf"], digits)
            self.assertEqual(sipp.wait(), 0, sipp.report())

if __name__ == "__main__":
    unittest.main()
