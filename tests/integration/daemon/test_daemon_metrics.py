"""Watching the daemon like infrastructure (issue 15, "Observe"): /metrics in
Prometheus' text format (checked by Prometheus' own promtool) moving with a
real call, and the health endpoints a load balancer polls.

Real daemon over real HTTP, a SIPp callee, nginx-rtmp.
"""

import re
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import Daemon, Sipp, NginxRtmp, call_body  # noqa: E402
from peers import wait_until  # noqa: E402

TOKEN = "metrics-test-token"


def sample(text, name, labels=""):
    """The value of one series, e.g. sample(t, 'sip2rtmp_calls', 'status="trying"')."""
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name),
                                       re.escape("{%s}" % labels) if labels else ""),
                  text, re.M)
    if m is None:
        raise AssertionError("no %s{%s} in\n%s" % (name, labels, text))
    return float(m.group(1))


class DaemonMetricsTest(unittest.TestCase):

    def scrape(self, d):
        r = d.get("/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        check = subprocess.run(["promtool", "check", "metrics"], input=r.text,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, "promtool: %s%s" % (check.stdout, check.stderr))
        return r.text

    def test_metrics_pass_promtool_and_move_with_a_call(self):
        with NginxRtmp() as nginx, Daemon("[server]\ntoken=%s\n" % TOKEN, token=TOKEN) as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as sipp:
            before = self.scrape(d)
            self.assertEqual(sample(before, "sip2rtmp_calls_started_total"), 0)
            self.assertGreater(sample(before, "process_open_fds"), 0)
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "m"))
            cid = r.json["callId"]
            ev.wait_call(cid, status="ESTABLISHED", stream="PUBLISHING")
            wait_until(lambda: sample(d.get("/metrics").text,
                                      "sip2rtmp_rtp_packets_received_total") > 10,
                       10, "RTP counted")
            during = self.scrape(d)
            self.assertEqual(sample(during, "sip2rtmp_calls", 'status="established"'), 1)
            self.assertEqual(sample(during, "sip2rtmp_rtmp_destinations",
                                    'state="publishing"'), 1)
            for phase in ("invite", "answer", "media"):
                self.assertEqual(sample(during, "sip2rtmp_call_setup_seconds_count",
                                        'phase="%s"' % phase), 1, phase)
            # no series names a call
            self.assertNotIn(cid, during)
            self.assertEqual(d.delete("/api/v1/calls/" + cid).status, 202)
            ev.wait_call(cid, status="FINISH", stream="UNPUBLISHED")
            wait_until(lambda: sample(d.get("/metrics").text, "sip2rtmp_calls_ended_total",
                                      'status="finish"') == 1, 10, "the call counted ended")
            after = self.scrape(d)
            self.assertEqual(sample(after, "sip2rtmp_calls", 'status="established"'), 0)
            self.assertGreaterEqual(sample(after, "sip2rtmp_rtp_packets_received_total"),
                                    sample(during, "sip2rtmp_rtp_packets_received_total"),
                                    "a counter never goes down when a call ends")

    def test_health_answers_without_the_token_and_readyz_says_when_full(self):
        with NginxRtmp() as nginx, Daemon("[server]\nmax-calls=1\ntoken=%s\n" % TOKEN,
                                          token=TOKEN) as d, \
                d.events() as ev, Sipp("answer_pcmu_wait_bye.xml") as sipp:
            for path in ("/healthz", "/readyz"):
                r = d.get(path, token="")
                self.assertEqual((r.status, r.json["status"]), (200, "ok"), (path, r))
            self.assertEqual(d.get("/metrics", token="").status, 401)
            self.assertEqual(d.get("/metrics", token="wrong").status, 401)
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "full"))
            ev.wait_call(r.json["callId"], status="ESTABLISHED")
            r = d.get("/readyz", token="")
            self.assertEqual((r.status, r.json["reason"]),
                             (503, "the maximum of calls is reached"), r)
            self.assertEqual(d.get("/healthz", token="").status, 200)


if __name__ == "__main__":
    unittest.main()
