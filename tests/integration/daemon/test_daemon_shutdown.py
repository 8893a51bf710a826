"""SIGTERM/SIGINT: every call hung up (BYE), every stream closed (EOS), exit 0."""

import re
import signal
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, WebhookReceiver, call_body)  # noqa: E402
from peers import build_dir, wait_until, PeerError  # noqa: E402

# docs/daemon.md, "Running it": the shutdown bound passed with calls whose
# pipelines were still going down
EXIT_CALLS_ABANDONED = 3


def closed_cleanly(nginx, stream):
    """nginx-rtmp logs the publisher's own deleteStream (sent by rtmp2sink on
    EOS) before its disconnect; a cut connection only has the disconnect."""
    log = nginx.error_log.read_text()
    m = re.search(r"\*(\d+) publish: name='%s'" % re.escape(stream), log)
    if not m:
        return False
    conn = "*%s " % m.group(1)
    events = [("deleteStream" if "deleteStream" in l else "disconnect")
              for l in log.splitlines() if conn in l and
              ("deleteStream" in l or "disconnect" in l)]
    return events[:1] == ["deleteStream"] and "disconnect" in events


def wait_closed_cleanly(nginx, stream, timeout=5):
    """closed_cleanly, once nginx has logged the publisher's end: it reads
    the close on its own loop, maybe after the daemon has exited."""
    try:
        wait_until(lambda: closed_cleanly(nginx, stream), timeout,
                   "nginx logging the end of %s" % stream)
    except PeerError:
        pass
    return closed_cleanly(nginx, stream)


class DaemonShutdownTest(unittest.TestCase):

    def test_sigterm_hangs_up_every_call_and_closes_every_stream(self):
        with WebhookReceiver() as hook, NginxRtmp() as nginx, \
                Daemon("[app:callApp]\nurl=%s\n" % hook.url) as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as s1, \
                Sipp("answer_pcmu_wait_bye.xml") as s2:
            ids = []
            for sipp, stream in ((s1, "down-1"), (s2, "down-2")):
                r = d.post("/api/v1/calls", call_body(sipp, nginx, stream,
                                                      appKey="callApp"))
                self.assertEqual(r.status, 201, r)
                ids.append(r.json["callId"])
            for cid in ids:
                ev.wait_call(cid, stream="PUBLISHING")
            nginx.wait_publishing("down-1")
            nginx.wait_publishing("down-2")

            self.assertEqual(d.terminate(timeout=20), 0, d.log())

            # each callee saw our BYE (their scenario ends only then)
            self.assertEqual(s1.wait(), 0, s1.report())
            self.assertEqual(s2.wait(), 0, s2.report())
            # each stream was closed by its publisher, not cut
            for stream in ("down-1", "down-2"):
                self.assertTrue(wait_closed_cleanly(nginx, stream),
                                nginx.error_log.read_text())
            self.assertFalse(nginx.is_publishing("down-1"))
            self.assertFalse(nginx.is_publishing("down-2"))
            # the final states went out before the daemon exited
            for cid in ids:
                hook.wait(lambda j, cid=cid: j["callId"] == cid and
                          j["status"] == "FINISH" and
                          j["rtmpStreamStatus"] == "UNPUBLISHED", timeout=1)
            self.assertIn("all calls ended", d.log())

    # A call whose pipeline cannot go down: the plugin built with its test
    # hooks (tests/testhooks/) holds sipsrc's hang-up, on the GStreamer pool
    # thread that sets the pipeline to NULL, past the shutdown bound. The
    # daemon must then leave at once, with its status for it and a line
    # that counts the calls, instead of returning from main(): that freed
    # the manager under the pool thread still tearing the call down, and
    # exited 0 as if every call had ended.
    def test_calls_still_going_down_at_the_bound_exit_3_at_once(self):
        bound = 3
        env = {"GST_PLUGIN_PATH": str(build_dir() / "tests" / "testhooks"),
               "SIP2RTMP_TEST_HOLD": "stop-call"}
        with NginxRtmp() as nginx, Sipp("answer_pcmu_wait_bye.xml") as s1:
            d = Daemon("[server]\nshutdown-timeout=%d\n" % bound, env=env)
            # its own registry: the hooked plugin is also called "sip2rtmp"
            d.env["GST_REGISTRY"] = str(d.dir / "registry.bin")
            with d, d.events() as ev:
                r = d.post("/api/v1/calls", call_body(s1, nginx, "held-1"))
                self.assertEqual(r.status, 201, r)
                ev.wait_call(r.json["callId"], stream="PUBLISHING")

                start = time.monotonic()
                d.proc.send_signal(signal.SIGTERM)
                # the call ended (EOS drained) and its pipeline is held
                # going down, well within the bound
                d.wait_log("call %s: ended" % r.json["callId"], bound)
                d.wait_log("sip2rtmp test hook stop-call: holding", bound)
                code = d.proc.wait(bound + 10)
                took = time.monotonic() - start
                log = d.log()
                self.assertEqual(code, EXIT_CALLS_ABANDONED, log)
                self.assertLess(took, bound + 2, log)
                self.assertIn("1 call still going down after %d s: "
                              "abandoned" % bound, log)
                self.assertNotIn("all calls ended", log)
                self.assertNotIn("assertion failed", log)

    def test_sigint_with_no_calls_exits_0(self):
        with Daemon() as d:
            d.proc.send_signal(signal.SIGINT)
            self.assertEqual(d.proc.wait(10), 0, d.log())


if __name__ == "__main__":
    unittest.main()
