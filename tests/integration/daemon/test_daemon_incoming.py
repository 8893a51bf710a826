"""sip2rtmpd takes incoming calls (issue 14): a SIP address, routes from the
config and the API, who may call, each caller's tone on its own stream.

Real daemon over real HTTP, SIPp UACs as callers, nginx-rtmp, ffmpeg.
"""

import re
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, NginxRtmp,  # noqa: E402
                    dominant_frequency, free_port, LOOPBACK, daemon_binary, daemon_env,
                    assert_tone_on)
from peers import LOOPBACK6  # noqa: E402
from callers import caller, call_in  # noqa: E402

WAITING_CALLER = "uac/uac_in_tone_wait_bye.xml"   # waits for our BYE


class IncomingCase(unittest.TestCase):
    """What every incoming-call test needs: a SIP port, a config listening
    on it, the call's events, its tone on nginx-rtmp."""

    def setUp(self):
        self.sip_port = free_port()

    def config(self, more=""):
        return "[sip]\nlisten=udp:%s:%d\n%s" % (LOOPBACK, self.sip_port, more)

    def statuses(self, ev, call_id):
        """The call's statuses on SSE in order, repeats folded."""
        out = []
        for e in ev.of_call(call_id):
            if e.get("status") and (not out or out[-1] != e["status"]):
                out.append(e["status"])
        return out

    def stream_statuses(self, ev, call_id):
        """The call's rtmpStreamStatus on SSE in order, repeats folded."""
        out = []
        for e in ev.of_call(call_id):
            if not out or out[-1] != e["rtmpStreamStatus"]:
                out.append(e["rtmpStreamStatus"])
        return out

    def assertToneOn(self, nginx, stream, hz):
        assert_tone_on(self, nginx, stream, hz, Path(self.tmp_wav(stream)))

    def tmp_wav(self, name):
        d = Path(tempfile.mkdtemp(prefix="sip2rtmp-in-"))
        self.addCleanup(lambda: [f.unlink() for f in d.iterdir()] and None or d.rmdir())
        return d / ("%s.wav" % name)


class DaemonIncomingTest(IncomingCase):

    def call_in(self, user, **kw):
        """One caller run to its end: the answers to its INVITEs."""
        rc, got, report = call_in(self.sip_port, user, **kw)
        self.assertEqual(rc, 0, report)
        return got, report

    def api_route(self, d, nginx, user, stream, **more):
        body = dict({"rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                     "rtmpStream": stream}, **more)
        if user:
            body["user"] = user
        r = d.post("/api/v1/routes", body)
        self.assertEqual(r.status, 201, r)
        return r.json

    def incoming_call(self, ev, user):
        return ev.wait(lambda e: e.get("direction") == "incoming" and
                       e.get("calledUser") == user, 20, "an incoming call to %s" % user)

    def test_an_api_route_takes_a_call_to_its_user_and_publishes_its_tone(self):
        with NginxRtmp() as nginx, Daemon(self.config()) as d, d.events() as ev:
            r = d.post("/api/v1/routes", {
                "user": "room42", "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                "rtmpStream": "room42"})
            self.assertEqual(r.status, 201, r)
            self.assertTrue(r.json["id"])
            self.assertEqual(d.get("/api/v1/routes").json["routes"][0]["id"], r.json["id"])
            with caller(self.sip_port, "room42", key="abc-1", duration_ms=8000,
                        tones={"tone.wav": 700}) as uac:
                call = self.incoming_call(ev, "room42")
                ev.wait_call(call["callId"], status="ESTABLISHED")
                ev.wait_call(call["callId"], stream="PUBLISHING")
                self.assertToneOn(nginx, "room42", 700)
                got = d.get("/api/v1/calls/%s" % call["callId"]).json
                self.assertEqual(got["direction"], "incoming")
                self.assertEqual(got["route"], r.json["id"])
                self.assertIn("alice", got["caller"])
                self.assertEqual(got["xHeaders"].get("X-Stream-Key"), "abc-1")
                self.assertEqual(uac.wait(40), 0, uac.report())
            ev.wait_call(call["callId"], status="FINISH")

    def test_a_config_rule_by_pattern_with_credentials_challenges_and_routes(self):
        with NginxRtmp() as nginx:
            conf = self.config(
                "\n[route:rooms]\nuser=room*\nrtmpUrl=rtmp://%s:%d/live\n"
                "rtmpStream=in-{user}\nsip-login=alice\nsip-password=s3cret\n" %
                (LOOPBACK, nginx.port))
            with Daemon(conf) as d, d.events() as ev:
                got, report = self.call_in("room7", extra=["-au", "alice", "-ap", "wrong"])
                # parked (180), challenged (401); the retry goes to the call
                # that challenged it, which refuses it
                self.assertEqual(got, [180, 401, 403], report)
                with caller(self.sip_port, "room7", duration_ms=8000,
                            extra=["-au", "alice", "-ap", "s3cret"],
                            tones={"tone.wav": 900}) as uac:
                    # the user is the stream's name (in-{user}): a key, masked
                    call = ev.wait(lambda e: e.get("route") == "config-rooms" and
                                   e.get("status") == "ESTABLISHED", 20, "room7 up")
                    self.assertEqual(call["calledUser"], "***")
                    ev.wait_call(call["callId"], stream="PUBLISHING")
                    self.assertToneOn(nginx, "in-room7", 900)
                    self.assertEqual(call["route"], "config-rooms")
                    self.assertEqual(uac.wait(40), 0, uac.report())
                self.assertNotIn("s3cret", d.log())

    def test_a_guessers_source_is_locked_out_for_the_user_before_any_call_is_made(self):
        # [sip] auth-max-failures wrong passwords from 127.0.0.1 to room7:
        # 403 each; then the right one gets 480 with Retry-After, no call is
        # made for it, while 127.0.0.2 gets through to its stream; after
        # Retry-After 127.0.0.1 is answered again (before: each guess parked
        # an INVITE and made a call, forever)
        right = ["-au", "alice", "-ap", "s3cret"]
        with NginxRtmp() as nginx:
            conf = self.config(
                "auth-max-failures=2\nauth-lockout=3\n"
                "\n[route:rooms]\nuser=room*\nrtmpUrl=rtmp://%s:%d/live\n"
                "rtmpStream=in-{user}\nsip-login=alice\nsip-password=s3cret\n" %
                (LOOPBACK, nginx.port))
            with Daemon(conf) as d, d.events() as ev:
                for _ in range(2):
                    got, report = self.call_in("room7",
                                               extra=["-au", "alice", "-ap", "wrong-pw-42"])
                    self.assertEqual(got, [180, 401, 403], report)
                calls = len(d.get("/api/v1/calls").json)

                with caller(self.sip_port, "room7", extra=right) as uac:
                    self.assertEqual(uac.wait(40), 0, uac.report())
                    refused_at = time.monotonic()
                    got = [m for m in uac.parsed_messages() if m.direction == "received"
                           and m.status and "INVITE" in (m.header("CSeq") or "")]
                    report = uac.report()
                # not parked (no 180), not challenged
                self.assertEqual([m.status for m in got], [480], report)
                retry_after = int(got[0].header("Retry-After"))
                self.assertTrue(1 <= retry_after <= 3, got[0].text)
                self.assertEqual(len(d.get("/api/v1/calls").json), calls)
                metrics = d.get("/metrics").text
                self.assertRegex(metrics, r"(?m)^sip2rtmp_incoming_auth_failures_total 2$")
                self.assertRegex(metrics, r"(?m)^sip2rtmp_incoming_auth_locked_out_total 1$")
                check = subprocess.run(["promtool", "check", "metrics"], input=metrics,
                                       capture_output=True, text=True)
                self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
                d.wait_log("1 INVITEs refused for a lock-out (480)", 5)

                with caller(self.sip_port, "room7", duration_ms=6000, extra=right,
                            host="127.0.0.2", tones={"tone.wav": 900}) as uac:
                    call = ev.wait(lambda e: e.get("route") == "config-rooms" and
                                   e.get("status") == "ESTABLISHED", 20, "room7 up")
                    ev.wait_call(call["callId"], stream="PUBLISHING")
                    self.assertToneOn(nginx, "in-room7", 900)
                    self.assertEqual(uac.wait(40), 0, uac.report())
                ev.wait_call(call["callId"], status="FINISH")

                time.sleep(max(0.0, refused_at + retry_after - time.monotonic()))
                got, report = self.call_in("room7", duration_ms=500, extra=right)
                self.assertEqual(got[-1], 200, report)
                log = d.log()
                self.assertNotIn("s3cret", log)
                self.assertNotIn("wrong-pw-42", log)

    def test_an_ipv6_guesser_is_locked_out_too(self):
        # the lock-out's key of an IPv6 source is its /64 (unit test
        # an-ipv6-source-counts-by-its-64); here the path from a real IPv6
        # INVITE to it: one wrong password from ::1, then the right one: 480,
        # and the plugin's log names the /64 (::1's is ::/64) and the user
        # by a hash only (a {user} route makes a stream key of it)
        conf = ("[sip]\nlisten=udp:[%s]:%d\nauth-max-failures=1\nauth-lockout=30\n"
                "[route:rooms]\nuser=room*\nrtmpUrl=rtmp://%s:1/live\nrtmpStream=x\n"
                "sip-login=alice\nsip-password=s3cret\n" % (LOOPBACK6, self.sip_port,
                                                            LOOPBACK))
        with Daemon(conf, env={"GST_DEBUG": "libre:4"}) as d:
            got, report = self.call_in("room8", host=LOOPBACK6,
                                       extra=["-au", "alice", "-ap", "wrong-pw-6"])
            self.assertEqual(got, [180, 401, 403], report)
            calls = len(d.get("/api/v1/calls").json)
            got, report = self.call_in("room8", host=LOOPBACK6,
                                       extra=["-au", "alice", "-ap", "s3cret"])
            self.assertEqual(got, [480], report)
            self.assertEqual(len(d.get("/api/v1/calls").json), calls, "no call for it")
            self.assertRegex(d.get("/metrics").text,
                             r"(?m)^sip2rtmp_incoming_auth_locked_out_total 1$")
            d.wait_log("locked out for 30 s", 5)
            log = d.log()
            self.assertRegex(log, r"from ::/64 to user #[0-9a-f]{8} locked out", log)
            self.assertNotIn("room8", log)

    def test_a_call_in_over_ipv6_is_answered_in_ip6_and_its_tone_published(self):
        conf = "[sip]\nlisten=udp:[%s]:%d\n" % (LOOPBACK6, self.sip_port)
        with NginxRtmp() as nginx, Daemon(conf) as d, d.events() as ev:
            self.api_route(d, nginx, "room6v6", "room6v6")
            with caller(self.sip_port, "room6v6", host=LOOPBACK6, duration_ms=8000,
                        tones={"tone.wav": 800}) as uac:
                call = self.incoming_call(ev, "room6v6")
                ev.wait_call(call["callId"], stream="PUBLISHING")
                self.assertToneOn(nginx, "room6v6", 800)
                self.assertEqual(uac.wait(40), 0, uac.report())
                ok = [m for m in uac.parsed_messages() if m.direction == "received" and
                      m.status == 200 and "INVITE" in (m.header("CSeq") or "")]
                self.assertEqual(len(ok), 1, uac.report())
                self.assertIn("c=IN IP6 ::1", ok[0].text, ok[0].text)
                self.assertIn("@[::1]:%d" % self.sip_port, ok[0].header("Contact"))
            got = d.get("/api/v1/calls/%s" % call["callId"]).json
            self.assertTrue(got["source"].startswith("[::1]:"), got)

    def test_the_answer_to_an_audio_only_offer_has_its_audio_line_only(self):
        # RFC 3264 6: as many m-lines as the offer; baresip refuses an
        # answer with an m=video the offer lacks (a protocol error)
        with NginxRtmp() as nginx, Daemon(self.config()) as d:
            self.api_route(d, nginx, "room8", "room8", hasVideo=True)
            with caller(self.sip_port, "room8", duration_ms=1000) as uac:
                self.assertEqual(uac.wait(40), 0, uac.report())
                ok = [m for m in uac.parsed_messages() if m.direction == "received" and
                      m.status == 200 and "INVITE" in (m.header("CSeq") or "")]
                self.assertEqual(len(ok), 1, uac.report())
                self.assertEqual(re.findall(r"^m=(\w+)", ok[0].text, re.M), ["audio"],
                                 ok[0].text)

    def test_a_call_no_route_takes_gets_404(self):
        with Daemon(self.config()) as d:
            got, report = self.call_in("nobody")
            self.assertEqual(got, [180, 404], report)
            self.assertEqual(d.get("/api/v1/calls").json, [])

    def test_a_source_outside_the_allow_list_gets_403(self):
        with Daemon(self.config("allow=10.0.0.0/8\n")) as d:
            d.post("/api/v1/routes", {"user": "room1", "rtmpUrl": "rtmp://127.0.0.1/live",
                                      "rtmpStream": "x"})
            got, report = self.call_in("room1")
            self.assertEqual(got, [180, 403], report)

    def test_route_requests_are_checked_naming_the_field(self):
        with Daemon(self.config()) as d:
            r = d.post("/api/v1/routes", {"rtmpUrl": "rtmp://127.0.0.1/live", "rtmpStream": "x"})
            self.assertEqual((r.status, r.json["field"]), (400, "user"), r)
            r = d.post("/api/v1/routes", {"user": "a b", "rtmpUrl": "rtmp://127.0.0.1/live",
                                          "rtmpStream": "x"})
            self.assertEqual((r.status, r.json["field"]), (400, "user"), r)
            r = d.post("/api/v1/routes", {"user": "room1", "rtmpUrl": "http://x/live",
                                          "rtmpStream": "x"})
            self.assertEqual((r.status, r.json["field"]), (400, "rtmpUrl"), r)
            r = d.post("/api/v1/routes", {"user": "room1", "rtmpUrl": "rtmp://127.0.0.1/live",
                                          "rtmpStream": "x", "allow": ["nonsense"]})
            self.assertEqual((r.status, r.json["field"]), (400, "allow"), r)
            for match in (["live-*"], {"v": 1}, 7):
                r = d.post("/api/v1/routes", {"header": "X-Stream-Key", "match": match,
                                              "rtmpUrl": "rtmp://127.0.0.1/live",
                                              "rtmpStream": "{match}"})
                self.assertEqual((r.status, r.json["field"]), (400, "match"), r)
            self.assertNotIn("CRITICAL", d.log())
            r = d.post("/api/v1/routes", {"user": "room1", "rtmpUrl": "rtmp://127.0.0.1/live",
                                          "rtmpStream": "key", "sipLogin": "u",
                                          "sipPassword": "pw-secret"})
            self.assertEqual(r.status, 201, r)
            self.assertNotIn("pw-secret", str(r.json))
            self.assertNotIn("pw-secret", str(d.get("/api/v1/routes").json))
            self.assertEqual(d.delete("/api/v1/routes/%s" % r.json["id"]).status, 204)
            self.assertEqual(d.delete("/api/v1/routes/%s" % r.json["id"]).status, 404)

    def test_a_routes_json_shows_no_stream_key_url_token_or_app_key(self):
        secrets = ["key-top", "key-dest", "key-pair", "key-url", "tok-cb", "app-sec",
                   "pw-conn", "hdr-sec"]
        with Daemon(self.config()) as d:
            r = d.post("/api/v1/routes", {
                "user": "room9", "rtmpUrl": "rtmp://127.0.0.1/live", "rtmpStream": "key-top",
                "destinations": ["rtmp://127.0.0.1/live/key-dest",
                                 {"rtmpUrl": "rtmp://127.0.0.1/app", "rtmpStream": "key-pair"}],
                "rtmpUrls": [{"url": "rtmp://u:p@127.0.0.2/live/key-url"}],
                "callbackUrl": "https://app.example.com/cb?token=tok-cb",
                "appKey": "app-sec", "maxDuration": 60,
                "sipHeaders": {"X-Token": "hdr-sec"},
                "connection": {"sipLogin": "u2", "sipPassword": "pw-conn"}})
            self.assertEqual(r.status, 201, r)
            views = [r.json, d.get("/api/v1/routes").json,
                     d.get("/api/v1/routes/%s" % r.json["id"]).json]
            for view in views:
                for s in secrets + ["u:p@"]:
                    self.assertNotIn(s, str(view))
            got = views[2]
            self.assertEqual(got["maxDuration"], 60)
            self.assertEqual(got["rtmpStream"], "***")
            self.assertEqual(got["destinations"],
                             ["rtmp://127.0.0.1/...",
                              {"rtmpUrl": "rtmp://127.0.0.1/...", "rtmpStream": "***"}])
            self.assertEqual(got["rtmpUrls"], [{"url": "rtmp://127.0.0.2/..."}])
            self.assertEqual(got["callbackUrl"], "https://app.example.com/...")
            self.assertEqual(got["appKey"], "***")

    def test_a_value_a_route_makes_the_stream_name_of_is_not_shown(self):
        with NginxRtmp() as nginx, Daemon(self.config()) as d, d.events() as ev:
            by_header = self.api_route(d, nginx, None, "{match}", header="X-Stream-Key",
                                       match="sk-*")
            with caller(self.sip_port, "lobby", key="sk-secret1", duration_ms=8000,
                        tones={"tone.wav": 650}) as uac:
                call = ev.wait(lambda e: e.get("route") == by_header["id"] and
                               e.get("status") == "ESTABLISHED", 20, "by header up")
                ev.wait_call(call["callId"], stream="PUBLISHING")
                self.assertToneOn(nginx, "sk-secret1", 650)
                got = d.get("/api/v1/calls/%s" % call["callId"]).json
                self.assertEqual(got["calledUser"], "lobby")
                self.assertNotIn("X-Stream-Key", got.get("xHeaders") or {})
                self.assertEqual(uac.wait(40), 0, uac.report())
            ev.wait_call(call["callId"], status="FINISH")
            # (the call's own rtmpStream is shown as for any call: not here)
            for e in ev.of_call(call["callId"]):
                self.assertNotIn("X-Stream-Key", e.get("xHeaders") or {}, e)
            by_user = self.api_route(d, nginx, "ukey-secret2", "live-{user}")
            got, report = self.call_in("ukey-secret2", key="k9", duration_ms=1500)
            self.assertEqual(got[-1], 200, report)
            calls = [e for e in ev.events if e.get("route") == by_user["id"]]
            self.assertTrue(calls)
            self.assertNotIn("ukey-secret2", str([e.get("calledUser") for e in calls]))
            self.assertEqual({e.get("calledUser") for e in calls}, {"***"})
            # a header the stream does not come from stays
            self.assertEqual({(e.get("xHeaders") or {}).get("X-Stream-Key")
                              for e in calls if "xHeaders" in e}, {"k9"})

    def test_a_url_a_route_puts_the_called_user_in_is_shown_redacted(self):
        # the request-URI user is the RTMP application here: a key in the URL
        with NginxRtmp() as nginx, Daemon(self.config()) as d, d.events() as ev:
            self.api_route(d, nginx, "live", "by-url",
                           rtmpUrl="rtmp://%s:%d/{user}" % (LOOPBACK, nginx.port))
            with caller(self.sip_port, "live", duration_ms=8000,
                        tones={"tone.wav": 550}) as uac:
                call = ev.wait(lambda e: e.get("direction") == "incoming" and
                               e.get("status") == "ESTABLISHED", 20, "the call up")
                ev.wait_call(call["callId"], stream="PUBLISHING")
                self.assertToneOn(nginx, "by-url", 550)
                got = d.get("/api/v1/calls/%s" % call["callId"]).json
                self.assertEqual(got["calledUser"], "***")
                self.assertEqual(got["rtmpUrl"], "rtmp://%s:%d/..." % (LOOPBACK, nginx.port))
                self.assertEqual([x["rtmpUrl"] for x in got["destinations"]],
                                 ["rtmp://%s:%d/..." % (LOOPBACK, nginx.port)])
                self.assertEqual(uac.wait(40), 0, uac.report())
            ev.wait_call(call["callId"], status="FINISH")
            for e in ev.of_call(call["callId"]):
                self.assertNotIn("/live", repr(e))

    def test_delete_hangs_up_an_incoming_call_and_the_caller_gets_our_bye(self):
        with NginxRtmp() as nginx, Daemon(self.config()) as d, d.events() as ev:
            self.api_route(d, nginx, "room5", "room5")
            with caller(self.sip_port, "room5", scenario=WAITING_CALLER) as uac:
                call = self.incoming_call(ev, "room5")
                ev.wait_call(call["callId"], stream="PUBLISHING")
                r = d.delete("/api/v1/calls/%s" % call["callId"])
                self.assertIn(r.status, (200, 202), r)
                ev.wait_call(call["callId"], status="FINISH")
                # the caller's scenario ends only on our BYE, answered 200
                self.assertEqual(uac.wait(20), 0, uac.report())
                byes = [m for m in uac.parsed_messages()
                        if m.direction == "received" and m.method == "BYE"]
                self.assertEqual(len(byes), 1, uac.report())

    def test_the_callers_bye_finishes_the_call_after_the_events_of_an_incoming_call(self):
        with NginxRtmp() as nginx, Daemon(self.config()) as d, d.events() as ev:
            route = self.api_route(d, nginx, "room6", "room6")
            with caller(self.sip_port, "room6", duration_ms=3000) as uac:
                call = self.incoming_call(ev, "room6")
                last = ev.wait_call(call["callId"], status="FINISH", timeout=30)
                self.assertEqual(uac.wait(20), 0, uac.report())
            seq = self.statuses(ev, call["callId"])
            # accepted (180 sent, the call made), answered, ended by the caller
            self.assertEqual(seq, ["NEW", "ESTABLISHED", "FINISH"], seq)
            streams = self.stream_statuses(ev, call["callId"])
            self.assertEqual(streams, ["PENDING", "PUBLISHING", "UNPUBLISHED"], streams)
            numbers = [e["sequence"] for e in ev.of_call(call["callId"])]
            self.assertEqual(numbers, sorted(numbers), numbers)
            first = ev.of_call(call["callId"])[0]
            self.assertEqual((first["direction"], first["route"], first["calledUser"]),
                             ("incoming", route["id"], "room6"), first)
            self.assertEqual(last["reason"], "remote hangup", last)

    def test_destinations_are_added_to_and_removed_from_an_incoming_call(self):
        with NginxRtmp() as nginx, Daemon(self.config()) as d, d.events() as ev:
            self.api_route(d, nginx, "room8", "first8")
            with caller(self.sip_port, "room8", scenario=WAITING_CALLER,
                        tones={"tone.wav": 800}) as uac:
                call = self.incoming_call(ev, "room8")
                cid = call["callId"]
                ev.wait_call(cid, stream="PUBLISHING")
                path = "/api/v1/calls/%s/destinations" % cid
                added = d.post(path, {"url": nginx.url(stream="second8")})
                self.assertEqual((added.status, added.json["id"]), (201, 2), added)
                nginx.wait_publishing("second8")
                self.assertToneOn(nginx, "second8", 800)
                removed = d.delete(path + "/2")
                self.assertEqual(removed.status, 200, removed)
                self.assertEqual([x["id"] for x in removed.json["destinations"]], [1])
                self.assertToneOn(nginx, "first8", 800)
                d.delete("/api/v1/calls/%s" % cid)
                ev.wait_call(cid, status="FINISH")
                self.assertEqual(uac.wait(20), 0, uac.report())

    def test_a_route_that_asks_for_a_recording_records_the_incoming_call(self):
        rec = Path(tempfile.mkdtemp(prefix="sip2rtmp-in-rec-"))
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", str(rec)]))
        with NginxRtmp() as nginx, \
                Daemon(self.config("\n[record]\ndir=%s\n" % rec)) as d, d.events() as ev:
            self.api_route(d, nginx, "room9", "room9", record="in9.mkv")
            with caller(self.sip_port, "room9", duration_ms=5000,
                        tones={"tone.wav": 650}) as uac:
                call = self.incoming_call(ev, "room9")
                self.assertEqual(call["record"], "in9.mkv")
                ev.wait(lambda e: e.get("callId") == call["callId"] and
                        e.get("recordStatus") in ("FINISHED", "FAILED"), 40,
                        "recordStatus FINISHED")
                self.assertEqual(uac.wait(20), 0, uac.report())
            last = ev.of_call(call["callId"])[-1]
            self.assertEqual(last["recordStatus"], "FINISHED", last)
            wav = rec / "in9.wav"
            r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i",
                                str(rec / "in9.mkv"), "-vn", "-ac", "1", "-ar", "8000",
                                str(wav)], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            got = dominant_frequency(str(wav))
            self.assertIsNotNone(got, "silence in the recording")
            self.assertAlmostEqual(got, 650, delta=650 * 0.03)

    def while_a_call_is_up(self, d, ev, user, then):
        """`then()` while a caller of `user` is answered; that call hung up by
        DELETE after it. Returns that call's id."""
        with caller(self.sip_port, user, scenario=WAITING_CALLER) as first:
            call = self.incoming_call(ev, user)
            ev.wait_call(call["callId"], status="ESTABLISHED")
            then()
            d.delete("/api/v1/calls/%s" % call["callId"])
            self.assertEqual(first.wait(20), 0, first.report())
        return call["callId"]

    def test_max_calls_reached_answers_486_and_makes_no_call(self):
        with NginxRtmp() as nginx, \
                Daemon(self.config("\n[server]\nmax-calls=1\n")) as d, d.events() as ev:
            self.api_route(d, nginx, "roomA", "roomA")
            self.api_route(d, nginx, "roomB", "roomB")

            def second():
                got, report = self.call_in("roomB")
                self.assertEqual(got, [180, 486], report)
                self.assertEqual(len(d.get("/api/v1/calls").json), 1)
                self.assertFalse([e for e in ev.events if e.get("calledUser") == "roomB"])
            self.while_a_call_is_up(d, ev, "roomA", second)

    def test_a_route_whose_stream_is_live_answers_a_second_caller_480(self):
        # the route exists but cannot take this call now: its stream is
        # being published by the first caller's call
        with NginxRtmp() as nginx, Daemon(self.config()) as d, d.events() as ev:
            self.api_route(d, nginx, "roomC", "roomC")

            def second():
                got, report = self.call_in("roomC", from_user="bob")
                self.assertEqual(got, [180, 480], report)
                self.assertEqual(len(d.get("/api/v1/calls").json), 1)
            self.while_a_call_is_up(d, ev, "roomC", second)
            # once the first call ended the route takes calls again
            got, report = self.call_in("roomC", duration_ms=500)
            self.assertEqual(got[-1], 200, report)

    def test_listening_on_any_address_is_refused_at_start_naming_the_fix(self):
        conf = Path(tempfile.mkdtemp(prefix="sip2rtmp-test-")) / "any.conf"
        self.addCleanup(subprocess.run, ["rm", "-rf", str(conf.parent)])
        conf.write_text("[sip]\nlisten=udp:0.0.0.0:%d\n" % free_port())
        r = subprocess.run([daemon_binary(), "--config", str(conf), "--listen",
                            "%s:%d" % (LOOPBACK, free_port())],
                           env=daemon_env(), capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("not 0.0.0.0 (list each address callers reach", r.stderr)


    def test_a_rules_seconds_that_are_not_a_whole_number_stop_the_start(self):
        for value in ("10x", "", "ten", "1.5"):
            conf = Path(tempfile.mkdtemp(prefix="sip2rtmp-test-")) / "rule.conf"
            self.addCleanup(subprocess.run, ["rm", "-rf", str(conf.parent)])
            conf.write_text(self.config("\n[route:r]\nuser=room*\n"
                                        "rtmpUrl=rtmp://127.0.0.1/live\n"
                                        "rtmpStream={user}\nmaxDuration=%s\n" % value))
            r = subprocess.run([daemon_binary(), "--config", str(conf), "--listen",
                                "%s:%d" % (LOOPBACK, free_port())],
                               env=daemon_env(), capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, (value, r.stderr))
            self.assertIn("[route:r] field 'maxDuration' must be a whole number of seconds",
                          r.stderr)

if __name__ == "__main__":
    unittest.main()
