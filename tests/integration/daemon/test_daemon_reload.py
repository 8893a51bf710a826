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
                    pull_rtmp, dominant_frequency, free_port, LOOPBACK)
from peers import TONE_HZ  # noqa: E402
from callers import caller, call_in, invite_answers  # noqa: E402


class DaemonReloadTest(unittest.TestCase):

    def reload(self, d, config, expect):
        """Rewrite the config file, SIGHUP, wait for the log line `expect`."""
        before = len(d.lines)
        d.config_path.write_text(config)
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log(expect, 5, after=before)
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

    # Incoming calls (issue 14): a reload replaces the [route:NAME] rules
    # (the API's routes stay), takes [sip] allow and the routing webhook; a
    # file that does not load changes none of them; [sip] listen and the
    # [cluster] group, set up once, are named as needing a restart. Before:
    # none of them was read again, and nothing said so.
    def test_incoming_rules_allow_and_routing_webhook_are_reloaded(self):
        port = free_port()

        def conf(more, listen_port=port):
            return "[sip]\nlisten=udp:%s:%d\n%s" % (LOOPBACK, listen_port, more)

        def rule(name, user, stream):
            return ("[route:%s]\nuser=%s\nrtmpUrl=rtmp://%s:%d/live\nrtmpStream=%s\n" %
                    (name, user, LOOPBACK, nginx.port, stream))

        def answers(user):
            rc, got, report = call_in(port, user)
            self.assertEqual(rc, 0, report)
            return got

        def route_ids(d):
            return sorted(r["id"] for r in d.get("/api/v1/routes").json["routes"])

        with NginxRtmp() as nginx, \
                WebhookReceiver(answer=lambda b: (200, {"reject": 603})) as hook, \
                Daemon(conf(rule("a", "room1", "one"))) as d, d.events() as ev:
            r = d.post("/api/v1/routes", {"user": "api1", "rtmpStream": "api",
                                          "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK,
                                                                            nginx.port)})
            self.assertEqual(r.status, 201, r)
            api_id = r.json["id"]
            self.assertEqual(answers("room2"), [180, 404])

            # rule a replaced by rule b: room2 goes live, room1 is nobody's
            self.reload(d, conf(rule("b", "room2", "two")), "reloaded")
            self.assertEqual(route_ids(d), sorted([api_id, "config-b"]))
            with caller(port, "room2", duration_ms=3000, tones={"tone.wav": 650}) as uac:
                call = ev.wait(lambda e: e.get("calledUser") == "room2" and
                               e.get("status") == "ESTABLISHED", 20, "room2 up")
                self.assertEqual(call["route"], "config-b")
                ev.wait_call(call["callId"], stream="PUBLISHING")
                self.assertEqual(uac.wait(40), 0, uac.report())
                self.assertEqual(invite_answers(uac)[-1], 200, uac.report())
            self.assertEqual(answers("room1"), [180, 404])

            # a rule that does not load, or a fallback naming no rule: the
            # whole reload is refused, rule b and the API's route stay
            out = self.reload(d, conf(rule("b", "room2", "two") +
                                      "[route:c]\nuser=room3\nmaxDuration=lots\n"),
                              "reload failed")
            self.assertIn("[route:c] field 'maxDuration'", out)
            out = self.reload(d, conf("routing-webhook=%s\nrouting-webhook-fallback="
                                      "route:gone\n" % hook.url), "reload failed")
            self.assertIn("no [route:gone] rule", out)
            self.assertEqual(route_ids(d), sorted([api_id, "config-b"]))

            # [sip] allow now excludes the caller: 403 before any route
            out = self.reload(d, conf("allow=10.0.0.0/8\n" + rule("b", "room2", "two"),
                                      listen_port=free_port()) +
                              "[cluster]\nredis=redis://127.0.0.1:1\n",
                              "applied only by a restart")
            self.assertIn("[sip] listen, [cluster]", out)
            self.assertEqual(answers("room2"), [180, 403])

            # no rule, any caller, a routing webhook: it answers the INVITE
            # no route takes (603), the API's route still takes api1's
            self.reload(d, conf("routing-webhook=%s\n" % hook.url), "reloaded")
            self.assertEqual(answers("room9"), [180, 603])
            self.assertEqual(hook.wait_arrived()[1]["requestUser"], "room9")
            self.assertEqual(route_ids(d), [api_id])

    # A reload while the routing webhook is asked about a call: the ask goes
    # on to the webhook's answer (the caller gets its 486, not the fallback's
    # 480), the next INVITE goes to the new webhook.
    def test_a_routing_webhook_ask_under_way_ends_with_its_answer_after_a_reload(self):
        port = free_port()

        def conf(url):
            return "[sip]\nlisten=udp:%s:%d\nrouting-webhook=%s\n" % (LOOPBACK, port, url)

        with WebhookReceiver(answer=lambda b: (200, {"reject": 486}), delay=1.5) as old, \
                WebhookReceiver(answer=lambda b: (200, {"reject": 603})) as new, \
                Daemon(conf(old.url)) as d:
            with caller(port, "slow-room") as uac:
                old.wait_arrived()
                self.reload(d, conf(new.url), "reloaded")
                self.assertEqual(uac.wait(40), 0, uac.report())
                self.assertEqual(invite_answers(uac), [180, 486], uac.report())
            rc, got, report = call_in(port, "next-room")
            self.assertEqual((rc, got), (0, [180, 603]), report)
            self.assertEqual(new.wait_arrived()[1]["requestUser"], "next-room")


if __name__ == "__main__":
    unittest.main()
