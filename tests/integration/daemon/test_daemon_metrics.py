"""Watching the daemon like infrastructure (issue 15, "Observe"): /metrics in
Prometheus' text format (checked by Prometheus' own promtool) moving with a
real call, and the health endpoints a load balancer polls.

Real daemon over real HTTP, a SIPp callee, nginx-rtmp.
"""

import json
import re
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import Daemon, Sipp, NginxRtmp, WebhookReceiver, call_body  # noqa: E402
from peers import wait_until, free_port, LOOPBACK  # noqa: E402

TOKEN = "metrics-test-token"
DASHBOARD = Path(__file__).resolve().parents[3] / "examples" / "grafana-dashboard.json"


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

    # The webhooks' deliveries as an operator watches them: two calls, each
    # with its own callbackUrl: one whose receiver fails its first request
    # (500, then the retry is taken), one whose URL nothing listens at
    # ([webhook] max-retries=1: each event tried twice, then dropped). The
    # SSE client of the test is counted while it listens (one that left is
    # counted until a write finds it gone: the next event or keep-alive,
    # 15 s at most; not waited for here). After the calls no
    # event is queued and no URL is kept (before: every URL a call ever named
    # stayed in the daemon for good).
    def test_webhook_deliveries_retries_drops_and_sse_clients_are_counted(self):
        dead = "http://%s:%d/nobody" % (LOOPBACK, free_port())
        with NginxRtmp() as nginx, WebhookReceiver(fail_first=1) as hook, \
                Daemon("[webhook]\nmax-retries=1\n") as d, \
                Sipp("answer_pcmu_wait_bye.xml", calls=2) as sipp:
            self.assertEqual(sample(self.scrape(d), "sip2rtmp_sse_clients"), 0)
            with d.events() as ev:
                wait_until(lambda: sample(d.get("/metrics").text,
                                          "sip2rtmp_sse_clients") == 1,
                           10, "the SSE client counted")
                ids = []
                for stream, url in (("ok", hook.url), ("dead", dead)):
                    r = d.post("/api/v1/calls", call_body(sipp, nginx, stream,
                                                          callbackUrl=url))
                    self.assertEqual(r.status, 201, r)
                    ids.append(r.json["callId"])
                for cid in ids:
                    ev.wait_call(cid, status="ESTABLISHED", stream="PUBLISHING")
                    self.assertEqual(d.delete("/api/v1/calls/" + cid).status, 202)
                    ev.wait_call(cid, status="FINISH", stream="UNPUBLISHED")
                hook.wait(lambda j: j["callId"] == ids[0] and j["status"] == "FINISH")
                wait_until(lambda: sample(d.get("/metrics").text,
                                          "sip2rtmp_webhook_events_queued") == 0,
                           30, "every event delivered or dropped")
                # every event of the calls, as SSE saw them (the calls ended)
                sent = {cid: len(ev.of_call(cid)) for cid in ids}
            text = self.scrape(d)
            self.assertEqual(len(hook.events()), sent[ids[0]])
            self.assertEqual(sample(text, "sip2rtmp_webhook_events_delivered_total"),
                             sent[ids[0]], text)
            self.assertEqual(sample(text, "sip2rtmp_webhook_events_dropped_total",
                                    'reason="retries"'), sent[ids[1]], text)
            self.assertEqual(sample(text, "sip2rtmp_webhook_events_dropped_total",
                                    'reason="queue-full"'), 0, text)
            # the receiver's first 500, and two attempts of each dead event
            self.assertEqual(sample(text, "sip2rtmp_webhook_attempts_failed_total"),
                             1 + 2 * sent[ids[1]], text)
            self.assertEqual(sample(text, "sip2rtmp_webhook_urls"), 0, text)

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

    def check_monitoring_address(self, d, port):
        mon = "http://%s:%d" % (LOOPBACK, port)
        for path in ("/healthz", "/readyz"):
            r = fetch(mon + path)
            self.assertEqual((r.status, r.json["status"]), (200, "ok"), (path, r))
        r = fetch(mon + "/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertIn("sip2rtmp_calls_started_total 0", r.text)
        check = subprocess.run(["promtool", "check", "metrics"], input=r.text,
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        # nothing else there: the API stays on its own address, behind its token
        r = fetch(mon + "/api/v1/calls")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(fetch(mon + "/").status, 404)
        # the API's address no longer has them: an unknown path there
        for path in ("/metrics", "/healthz", "/readyz"):
            self.assertEqual(d.get(path, token="").status, 401, path)
            self.assertEqual(d.get(path).status, 404, path)
        self.assertEqual(d.get("/api/v1/status").status, 200)

    def test_a_monitoring_address_serves_health_and_metrics_without_the_token(self):
        port = free_port()
        with Daemon("[server]\ntoken=%s\nmonitor-listen=%s:%d\n" % (TOKEN, LOOPBACK, port),
                    token=TOKEN) as d:
            self.assertIn("/healthz, /readyz and /metrics on http://%s:%d/" % (LOOPBACK, port),
                          d.log())
            self.check_monitoring_address(d, port)

    def test_the_monitor_listen_option_wins_over_the_file(self):
        in_file, on_line = free_port(), free_port()
        with Daemon("[server]\ntoken=%s\nmonitor-listen=%s:%d\n" % (TOKEN, LOOPBACK, in_file),
                    token=TOKEN, args=["--monitor-listen", "%s:%d" % (LOOPBACK, on_line)]) as d:
            self.check_monitoring_address(d, on_line)
            self.assertEqual(fetch("http://%s:%d/healthz" % (LOOPBACK, in_file)).status, 0)

    def test_a_malformed_monitoring_address_stops_the_start(self):
        d = Daemon(args=["--monitor-listen", "127.0.0.1"])
        with self.assertRaises(Exception):
            d.start()
        self.assertEqual(d.proc.wait(10), 2)
        self.assertIn("monitor-listen: expected HOST:PORT", d.log())
        d.close()

    def test_every_metric_the_example_dashboard_queries_is_exposed(self):
        exprs = []

        def walk(node):
            if isinstance(node, dict):
                if isinstance(node.get("expr"), str):
                    exprs.append(node["expr"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(json.loads(DASHBOARD.read_text()))
        queried = set()
        for e in exprs:
            queried |= set(re.findall(r"\b((?:sip2rtmp|process)_[A-Za-z0-9_]+)\b", e))
        self.assertGreater(len(queried), 15, queried)
        with Daemon() as d:
            text = self.scrape(d)
        exposed = {m.group(1) for m in re.finditer(r"^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]",
                                                   text, re.M)}
        self.assertEqual(sorted(queried - exposed), [],
                         "queried by %s, not in /metrics" % DASHBOARD.name)


class _Fetched:
    def __init__(self, status, text):
        self.status, self.text = status, text
        try:
            self.json = json.loads(text)
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<HTTP %d %s>" % (self.status, self.text[:300])


def fetch(url):
    """GET without any token; status 0 when nothing listens there."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return _Fetched(r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        return _Fetched(e.code, e.read().decode())
    except OSError:
        return _Fetched(0, "")


if __name__ == "__main__":
    unittest.main()
