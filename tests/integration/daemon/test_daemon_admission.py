"""Admission control: a new call is refused (503, with the reason) when it
would overload the machine or when the media loop already runs behind;
the calls already up keep real time.

Real daemon over real HTTP, SIPp UAS callees, nginx-rtmp, ffmpeg pulling the
admitted stream back. The limits are set so that the decision does not
depend on how busy this machine happens to be: a call costing a whole core
against a CPU limit below one core of two, a media-loop limit of 0 %.
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, call_body, pull_rtmp,  # noqa: E402
                    dominant_frequency, LOOPBACK)
from peers import TONE_HZ, wait_until  # noqa: E402


class DaemonAdmissionTest(unittest.TestCase):

    def assertRefusedAtCapacity(self, r, why):
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.json["error"], "unavailable", r)
        self.assertIn("at capacity: " + why, r.json["message"], r)

    def test_a_call_that_would_overload_the_cpu_is_refused_with_503_and_its_reason(self):
        # one call costs 100 % of a core: with it the machine (2 cores here,
        # or more) is at least 50 % busy, over the 40 % limit
        cfg = "[admission]\ncpu-limit=40\ncall-cost=100\n"
        with NginxRtmp() as nginx, Daemon(cfg) as d, Sipp("answer_pcmu_wait_bye.xml") as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "heavy"))
            self.assertRefusedAtCapacity(r, "the CPU is")
            self.assertIn("(limit 40 %)", r.json["message"])
            status = d.get("/api/v1/status").json
            self.assertEqual(status["activeCalls"], 0, status)
            self.assertEqual(status["admission"]["refused"], 1, status)
            # the WCS 5 route answers the same way
            r = d.post("/rest-api/call/startup", {
                "callId": "wcs-heavy", "callee": "service@%s" % sipp.host_port,
                "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                "rtmpStream": "wcs-heavy", "hasAudio": "true", "hasVideo": "false",
                "sipLogin": "u", "sipDomain": LOOPBACK})
            self.assertRefusedAtCapacity(r, "the CPU is")
            self.assertEqual(sipp.received("INVITE"), [], "a refused call sent an INVITE")

    def test_a_busy_media_loop_refuses_new_calls_while_the_admitted_one_keeps_its_tone(self):
        # any work at all on the media loop is over a 0 % limit: the first
        # call is admitted (nothing runs yet), the second is not
        cfg = "[admission]\nmedia-busy-limit=0\n"
        with NginxRtmp() as nginx, Daemon(cfg) as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as first, \
                Sipp("answer_pcmu_wait_bye.xml") as second:
            r = d.post("/api/v1/calls", call_body(first, nginx, "first"))
            self.assertEqual(r.status, 201, r)
            cid = r.json["callId"]
            ev.wait_call(cid, stream="PUBLISHING")
            # the loop reports its load once a second
            wait_until(lambda: d.get("/api/v1/status").json["admission"]
                       ["mediaBusyPercent"] > 0, 10, "the media loop's load in /api/v1/status")
            r = d.post("/api/v1/calls", call_body(second, nginx, "second"))
            self.assertRefusedAtCapacity(r, "the busiest media thread works")
            self.assertEqual(second.received("INVITE"), [])

            wav = Path(first.dir) / "first.wav"
            pulled = pull_rtmp("rtmp://%s:%d/live/first" % (LOOPBACK, nginx.port), 3, wav)
            self.assertEqual(pulled.returncode, 0, pulled.stderr)
            got = dominant_frequency(str(wav))
            self.assertIsNotNone(got, "silence in the admitted call's stream")
            self.assertAlmostEqual(got, TONE_HZ, delta=TONE_HZ * 0.03)
            status = d.get("/api/v1/status").json
            self.assertEqual((status["activeCalls"], status["admission"]["refused"]), (1, 1),
                             status)
            self.assertEqual(d.delete("/api/v1/calls/" + cid).status, 202)

    def test_admission_control_can_be_turned_off(self):
        cfg = "[admission]\nenabled=false\ncpu-limit=1\ncall-cost=100\n"
        with NginxRtmp() as nginx, Daemon(cfg) as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "unlimited"))
            self.assertEqual(r.status, 201, r)
            ev.wait_call(r.json["callId"], status="ESTABLISHED")
            # 202 while it drains, 200 when it had no media linked yet
            self.assertIn(d.delete("/api/v1/calls/" + r.json["callId"]).status, (200, 202))
            self.assertEqual(sipp.wait(), 0, sipp.report())


if __name__ == "__main__":
    unittest.main()
