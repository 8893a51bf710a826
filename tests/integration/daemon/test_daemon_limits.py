"""Limits of a call: a maximum duration and an RTP inactivity timeout, per
call or from the config, each ending the call with a clear reason.

Real daemon over real HTTP, SIPp UAS callees (one playing a tone, one
sending no RTP at all), nginx-rtmp.
"""

import sys
import unittest
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import Daemon, Sipp, NginxRtmp, call_body  # noqa: E402


def seconds_between(a, b):
    return (datetime.fromisoformat(b.replace("Z", "+00:00")) -
            datetime.fromisoformat(a.replace("Z", "+00:00"))).total_seconds()


class DaemonLimitsTest(unittest.TestCase):

    def test_max_duration_hangs_up_with_its_reason(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "short", maxDuration=2))
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json["maxDuration"], 2)
            cid = r.json["callId"]
            ev.wait_call(cid, stream="PUBLISHING")
            fin = ev.wait_call(cid, status="FINISH", stream="UNPUBLISHED", timeout=15)
            self.assertEqual(fin["reason"], "max duration reached")
            self.assertAlmostEqual(seconds_between(fin["answered"], fin["ended"]), 2,
                                   delta=1.5)
            # hung up by us: the callee got our BYE
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_max_duration_comes_from_the_config_by_default(self):
        with NginxRtmp() as nginx, Daemon("[calls]\nmax-duration=1\n") as d, \
                d.events() as ev, Sipp("answer_pcmu_wait_bye.xml") as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "cfg"))
            self.assertEqual(r.json["maxDuration"], 1)
            fin = ev.wait_call(r.json["callId"], status="FINISH", timeout=15)
            self.assertEqual(fin["reason"], "max duration reached")
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_rtp_timeout_ends_a_call_without_media_with_its_reason(self):
        with NginxRtmp() as nginx, Daemon("[calls]\nrtp-timeout=30\n") as d, \
                d.events() as ev, Sipp("answer_silent_wait_bye.xml") as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "silent", rtpTimeout=2))
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json["rtpTimeout"], 2)
            cid = r.json["callId"]
            ev.wait_call(cid, status="ESTABLISHED")
            failed = ev.wait_call(cid, status="FAILED", timeout=15)
            self.assertEqual(failed["reason"], "no RTP received for 2 s")
            self.assertEqual(failed["sipStatus"], 408)
            ev.wait_call(cid, stream="UNPUBLISHED")
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_limits_must_be_whole_seconds(self):
        with NginxRtmp() as nginx, Daemon() as d, Sipp("answer_pcmu_wait_bye.xml") as sipp:
            for field, value in (("maxDuration", -1), ("rtpTimeout", "soon"),
                                 ("rtmpRetryBudget", 1.5)):
                r = d.post("/api/v1/calls", call_body(sipp, nginx, "x", **{field: value}))
                self.assertEqual((r.status, r.json["field"]), (400, field), r)


if __name__ == "__main__":
    unittest.main()
