"""SIGHUP reloads the config file: what new calls, requests and events read
changes at once, the calls up go on; what needs a restart is named and kept;
a file that does not load changes nothing."""

import signal
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, WebhookReceiver, call_body,  # noqa: E402
                    pull_rtmp, dominant_frequency, LOOPBACK)
from peers import TONE_HZ  # noqa: E402


class DaemonReloadTest(unittest.TestCase):

    def reload(self, d, config, expect):
        """Rewrite the config file, SIGHUP, wait for the log line `expect`."""
        before = len(d.lines)
        d.config_path.write_text(config)
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log(expect, 5)
        return "\n".join(d.lines[before:])

    def test_token_limits_and_webhook_urls_change_while_a_call_keeps_publishing(self):
        with WebhookReceiver() as old_hook, WebhookReceiver() as new_hook, \
                NginxRtmp() as nginx, \
                Daemon("[server]\ntoken=old-token\nmax-calls=5\n"
                       "[app:callApp]\nurl=%s\n" % old_hook.url,
                       token="old-token") as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "reloaded",
                                                  appKey="callApp"))
            self.assertEqual(r.status, 201, r)
            cid = r.json["callId"]
            ev.wait_call(cid, stream="PUBLISHING")
            old_hook.wait(lambda j: j["callId"] == cid and
                          j["rtmpStreamStatus"] == "PUBLISHING")
            settings = ("maxDuration", "rtpTimeout", "rtmpRetryBudget")
            before = {k: r.json[k] for k in settings}

            self.reload(d, "[server]\ntoken=new-token\nmax-calls=1\n"
                        "[calls]\nmax-duration=7\nrtp-timeout=8\n"
                        "[rtmp]\nretry-budget=9\n"
                        "[app:callApp]\nurl=%s\n" % new_hook.url, "reloaded")

            # the token: the old one is refused, the new one taken
            self.assertEqual(d.get("/api/v1/calls", token="old-token").status, 401)
            d.token = "new-token"
            status = d.get("/api/v1/status")
            self.assertEqual(status.status, 200, status)
            self.assertEqual(status.json["maxCalls"], 1)
            # max-calls 1, one call up: the next is refused
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "second"))
            self.assertEqual(r.status, 503, r)
            # the call up goes on, its tone on the stream
            with tempfile.TemporaryDirectory() as tmp:
                wav = Path(tmp) / "after-reload.wav"
                pulled = pull_rtmp("rtmp://%s:%d/live/reloaded" % (LOOPBACK, nginx.port),
                                   2, wav)
                self.assertEqual(pulled.returncode, 0, pulled.stderr)
                got = dominant_frequency(str(wav))
                self.assertIsNotNone(got, "silence after the reload")
                self.assertAlmostEqual(got, TONE_HZ, delta=TONE_HZ * 0.03)
            call = d.get("/api/v1/calls/" + cid).json
            self.assertEqual(call["status"], "ESTABLISHED")
            # with the settings it started with: a reload is for new calls
            self.assertEqual({k: call[k] for k in settings}, before)

            # its next events go to the appKey's new URL
            self.assertEqual(d.delete("/api/v1/calls/" + cid).status, 202)
            new_hook.wait(lambda j: j["callId"] == cid and j["status"] == "FINISH")
            self.assertFalse([j for j in old_hook.events() if j["status"] == "FINISH"])

    def test_a_file_that_does_not_load_changes_nothing(self):
        with Daemon("[server]\nmax-calls=7\n") as d:
            out = self.reload(d, "[server]\nmax-calls=lots\n", "reload failed")
            self.assertIn("max-calls", out)
            self.assertEqual(d.get("/api/v1/status").json["maxCalls"], 7)
            self.assertIsNone(d.proc.poll())

    def test_settings_that_need_a_restart_are_named_and_kept(self):
        with Daemon("[server]\nmax-calls=7\n") as d:
            out = self.reload(d, "[server]\nmax-calls=8\n[pipeline]\ntemplate=other\n"
                              "[sip]\nlocal-address=127.0.0.2\n", "applied only by a restart")
            self.assertIn("[pipeline] template, [sip] local-address", out)
            # the rest of the file applies
            self.assertEqual(d.get("/api/v1/status").json["maxCalls"], 8)


if __name__ == "__main__":
    unittest.main()
