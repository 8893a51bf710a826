"""sip2rtmpd's routing webhook (issue 14, the third routing source, like
Twilio's Voice URL): an INVITE no rule or API route takes is POSTed to
`[sip] routing-webhook`; its answer routes or rejects it, a timeout or an
error falls back to `[sip] routing-webhook-fallback`.

Real daemon over real HTTP, a real HTTP receiver on 127.0.0.1 answering as
each test says, SIPp UACs as callers, nginx-rtmp, ffmpeg.
"""

import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, NginxRtmp, WebhookReceiver,  # noqa: E402
                    pull_rtmp, dominant_frequency, free_port, LOOPBACK,
                    daemon_binary, daemon_env)
from callers import caller, call_in, invite_answers  # noqa: E402

CANCELLING_CALLER = "uac/uac_in_cancel.xml"


def receiver(answer, delay=0.0):
    """The routing webhook: answer(json) -> (HTTP status, JSON)."""
    return WebhookReceiver(answer=answer, delay=delay)


class DaemonRoutingWebhookTest(unittest.TestCase):

    def setUp(self):
        self.sip_port = free_port()

    def config(self, url, more=""):
        return ("[sip]\nlisten=udp:%s:%d\nrouting-webhook=%s\n%s" %
                (LOOPBACK, self.sip_port, url, more))

    def call_in(self, user, **kw):
        rc, got, report = call_in(self.sip_port, user, **kw)
        self.assertEqual(rc, 0, report)
        return got, report

    def assertToneOn(self, nginx, stream, hz, workdir):
        wav = Path(workdir) / ("%s.wav" % stream)
        r = pull_rtmp("rtmp://%s:%d/live/%s" % (LOOPBACK, nginx.port, stream), 3, wav)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        got = dominant_frequency(str(wav))
        self.assertIsNotNone(got, "silence on %s" % stream)
        self.assertAlmostEqual(got, hz, delta=hz * 0.03)

    def test_the_webhooks_answer_routes_the_call_and_its_tone_is_published(self):
        with NginxRtmp() as nginx, receiver(lambda b: (200, {
                "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                "rtmpStream": "hook-" + b["requestUser"]})) as hook, \
                Daemon(self.config(hook.url)) as d, d.events() as ev:
            with caller(self.sip_port, "webinar7", key="sid-42", duration_ms=8000,
                        tones={"tone.wav": 750}) as uac:
                call = ev.wait(lambda e: e.get("calledUser") == "webinar7" and
                               e.get("status") == "ESTABLISHED", 20, "webinar7 up")
                ev.wait_call(call["callId"], stream="PUBLISHING")
                self.assertToneOn(nginx, "hook-webinar7", 750, uac.dir)
                self.assertEqual(call["route"], "webhook")
                self.assertEqual(uac.wait(40), 0, uac.report())
            headers, body = hook.wait_arrived()
            self.assertEqual(headers["Content-Type"], "application/json")
            self.assertEqual(body["requestUser"], "webinar7")
            self.assertEqual(body["fromUser"], "alice")
            self.assertIn("webinar7", body["to"])
            self.assertEqual(body["sourceAddress"], LOOPBACK)
            self.assertEqual(body["xHeaders"], {"X-Stream-Key": "sid-42"})
            self.assertFalse(body["hasCredentials"])

    def test_a_header_the_webhook_made_the_stream_key_of_is_not_shown(self):
        # the webhook builds the stream key from the caller's X-Stream-Key:
        # the header's value is the key, so no answer or event shows it
        with NginxRtmp() as nginx, receiver(lambda b: (200, {
                "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                "rtmpStream": "cdn-" + b["xHeaders"]["X-Stream-Key"]})) as hook, \
                Daemon(self.config(hook.url)) as d, d.events() as ev:
            with caller(self.sip_port, "town-hall", key="tok-Zq81secret",
                        duration_ms=8000, tones={"tone.wav": 600}) as uac:
                call = ev.wait(lambda e: e.get("calledUser") == "town-hall" and
                               e.get("status") == "ESTABLISHED", 20, "town-hall up")
                ev.wait_call(call["callId"], stream="PUBLISHING")
                self.assertToneOn(nginx, "cdn-tok-Zq81secret", 600, uac.dir)
                got = d.get("/api/v1/calls/%s" % call["callId"])
                self.assertEqual(got.json["xHeaders"], {"X-Stream-Key": "***"})
                self.assertEqual(got.json["rtmpStream"], "***")
                listed = d.get("/api/v1/calls").text
                self.assertEqual(uac.wait(40), 0, uac.report())
            ev.wait_call(call["callId"], status="FINISH")
            # the webhook itself was asked with the value: it needs it
            self.assertEqual(hook.wait_arrived()[1]["xHeaders"],
                             {"X-Stream-Key": "tok-Zq81secret"})
            for text in (got.text, listed, repr(ev.of_call(call["callId"])), d.log()):
                self.assertNotIn("Zq81secret", text)

    def test_the_webhooks_reject_is_the_status_the_caller_gets(self):
        with receiver(lambda b: (200, {"reject": 603})) as hook, \
                Daemon(self.config(hook.url)) as d:
            got, report = self.call_in("closed-room")
            self.assertEqual(got, [180, 603], report)
            self.assertEqual(d.get("/api/v1/calls").json, [])

    # The timings: the webhook times out at 3 s (the fallback's 480), its
    # own answer (404) would come at 8 s, the park's 480 at 10 s. The other
    # call is timed to its answer (ESTABLISHED), not to its caller's end
    # (0.5 s of tone and a BYE more): held up by the webhook, it would be
    # answered 3 s after the webhook was asked at the earliest.
    def test_a_slow_webhook_falls_back_and_holds_up_no_other_call(self):
        with NginxRtmp() as nginx, \
                receiver(lambda b: (200, {"reject": 404}), delay=8) as hook, \
                Daemon(self.config(hook.url, "routing-webhook-timeout=3\n"
                                   "routing-webhook-fallback=480\n")) as d, \
                d.events() as ev:
            d.post("/api/v1/routes", {"user": "room1", "rtmpStream": "room1",
                                      "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port)})
            with caller(self.sip_port, "slow-room") as slow:
                hook.wait_arrived()
                asked = time.monotonic()
                # while the webhook sits on the first INVITE, a call with a
                # route is answered
                with caller(self.sip_port, "room1", duration_ms=500) as other:
                    ev.wait(lambda e: e.get("calledUser") == "room1" and
                            e.get("status") == "ESTABLISHED", 10, "room1 up")
                    answered = time.monotonic() - asked
                    self.assertEqual(other.wait(20), 0, other.report())
                    self.assertEqual(invite_answers(other)[-1], 200)
                self.assertLess(answered, 2.5, "the other call waited for the webhook")
                self.assertEqual(slow.wait(20), 0, slow.report())
                got = invite_answers(slow)
            waited = time.monotonic() - asked
            self.assertEqual(got, [180, 480], slow.report())
            self.assertLess(waited, 6, "the timeout (3 s) did not end the wait")

    def test_a_caller_who_cancels_while_the_webhook_decides_gets_487_and_no_call(self):
        with NginxRtmp() as nginx, receiver(lambda b: (200, {
                "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                "rtmpStream": b["requestUser"]}), delay=2.5) as hook, \
                Daemon(self.config(hook.url, "routing-webhook-timeout=10\n")) as d, \
                d.events() as ev:
            d.post("/api/v1/routes", {"user": "room1", "rtmpStream": "room1",
                                      "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port)})
            got, report = self.call_in("slow-room", scenario=CANCELLING_CALLER)
            self.assertEqual(got, [180, 487], report)
            d.wait_log("gone (cancelled) while the routing webhook was asked", 5)
            # the webhook answers "accept" after the caller left; then another
            # caller's call is the first and only one the daemon makes
            hook.wait(lambda received: True, 10, "the webhook's late answer")
            with caller(self.sip_port, "room1", duration_ms=2000) as other:
                first = ev.wait(lambda e: e.get("callId"), 20, "a call event")
                ev.wait(lambda e: e.get("calledUser") == "room1" and
                        e.get("status") == "ESTABLISHED", 20, "room1 up")
                calls = d.get("/api/v1/calls").json
                self.assertEqual(other.wait(20), 0, other.report())
            self.assertEqual(first.get("calledUser"), "room1", first)
            self.assertEqual([c.get("calledUser") for c in calls], ["room1"], calls)
            self.assertEqual({e.get("calledUser") for e in ev.events if e.get("callId")},
                             {"room1"})

    def test_a_dead_webhook_falls_back_to_the_configured_rule(self):
        dead = "http://%s:%d/route" % (LOOPBACK, free_port())
        with NginxRtmp() as nginx:
            conf = self.config(dead, "routing-webhook-fallback=route:lobby\n"
                               "\n[route:lobby]\nuser=never-called\n"
                               "rtmpUrl=rtmp://%s:%d/live\nrtmpStream=lobby-{user}\n" %
                               (LOOPBACK, nginx.port))
            with Daemon(conf) as d, d.events() as ev, \
                    caller(self.sip_port, "room77", duration_ms=8000,
                           tones={"tone.wav": 850}) as uac:
                # lobby-{user}: the user is a stream key, masked
                call = ev.wait(lambda e: e.get("route") == "config-lobby" and
                               e.get("status") == "ESTABLISHED", 20, "room77 up")
                self.assertEqual(call["calledUser"], "***")
                ev.wait_call(call["callId"], stream="PUBLISHING")
                self.assertToneOn(nginx, "lobby-room77", 850, uac.dir)
                self.assertEqual(uac.wait(40), 0, uac.report())
                self.assertIn("routing webhook failed", d.log())

    def test_an_answer_that_is_no_call_request_falls_back(self):
        with receiver(lambda b: (200, {"rtmpUrl": "ftp://nowhere"})) as hook, \
                Daemon(self.config(hook.url, "routing-webhook-fallback=486\n")) as d:
            got, report = self.call_in("room3")
            self.assertEqual(got, [180, 486], report)
            self.assertNotIn("ftp://nowhere", d.log())


    def test_the_webhooks_answer_cannot_set_credentials_even_nested(self):
        # sipAuthenticationName and a "connection" object's sipLogin/sipPassword
        # were taken: sipsrc challenged a caller the webhook meant to route
        with NginxRtmp() as nginx, receiver(lambda b: (200, {
                "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                "rtmpStream": "hook-creds", "sipAuthenticationName": "auth-x",
                "connection": {"sipLogin": "hook-login", "sipPassword": "hook-pw"},
                "callee": "sip:evil@192.0.2.1", "callId": "chosen-id"})) as hook, \
                Daemon(self.config(hook.url)) as d, d.events() as ev:
            got, report = self.call_in("room5", duration_ms=1500)
            self.assertEqual(got[-1], 200, report)
            calls = [e for e in ev.events if e.get("callId")]
            self.assertTrue(calls)
            for e in calls:
                self.assertNotEqual(e.get("callId"), "chosen-id")
                for s in ("hook-login", "hook-pw", "auth-x", "evil"):
                    self.assertNotIn(s, str(e))

    # A webhook given longer than siplistener's default park (10 s): the
    # INVITE stays parked for the webhook's time and its answer is what the
    # caller gets. Before: the park time was set after the listener started,
    # where it was not read any more: 480 at 10 s whatever the webhook said.
    def test_a_webhook_slower_than_the_default_park_is_still_waited_for(self):
        with receiver(lambda b: (200, {"reject": 603}), delay=10.5) as hook, \
                Daemon(self.config(hook.url, "routing-webhook-timeout=12\n")):
            got, report = self.call_in("patient-room")
            self.assertEqual(got, [180, 603], report)

    def test_a_malformed_webhook_url_stops_the_start_naming_the_key(self):
        # each of these made libsoup's message NULL: criticals, a 480 at
        # park-timeout instead of the fallback, a shutdown that never ended
        for url in ("http://", "http:///route", "http://host/a b?token=t0k",
                    "https://"):
            conf = Path(tempfile.mkdtemp(prefix="sip2rtmp-test-")) / "hook.conf"
            self.addCleanup(subprocess.run, ["rm", "-rf", str(conf.parent)])
            conf.write_text(self.config(url))
            r = subprocess.run([daemon_binary(), "--config", str(conf), "--listen",
                                "%s:%d" % (LOOPBACK, free_port())],
                               env=daemon_env(), capture_output=True, text=True,
                               timeout=10)
            self.assertEqual(r.returncode, 2, (url, r.stderr))
            self.assertIn("[sip] routing-webhook: expected an http:// or https:// URL",
                          r.stderr, url)
            self.assertNotIn("t0k", r.stderr)
            self.assertNotIn("CRITICAL", r.stderr)

if __name__ == "__main__":
    unittest.main()
