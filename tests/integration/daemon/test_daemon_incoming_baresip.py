"""A real phone calling in (issue 14): baresip dials a room through
sip2rtmpd's config rule, driven by its ctrl_tcp module; its tone on the RTMP
stream, the call in the API, a hang-up by either side, a digest challenge
answered with the account's password.

Real daemon over real HTTP, baresip 1.0.0, nginx-rtmp, ffmpeg.
"""

import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from daemon import Daemon, NginxRtmp, LOOPBACK  # noqa: E402
from peers import Baresip, make_tone_wav  # noqa: E402
from test_daemon_incoming import IncomingCase  # noqa: E402

TONE_HZ = 700
PASSWORD = "s3cret-pw"


class DaemonIncomingBaresipTest(IncomingCase):

    def setUp(self):
        super().setUp()
        d = Path(tempfile.mkdtemp(prefix="sip2rtmp-bs-"))
        self.addCleanup(lambda: [f.unlink() for f in d.iterdir()] and None or d.rmdir())
        # aufile plays it once: longer than any of these calls
        self.tone = make_tone_wav(d / "tone.wav", TONE_HZ, 60, "s16")

    def rule(self, nginx, more=""):
        return self.config("\n[route:rooms]\nuser=room*\nrtmpUrl=rtmp://%s:%d/live\n"
                           "rtmpStream=in-{user}\n%s" % (LOOPBACK, nginx.port, more))

    def phone(self, **kw):
        return Baresip(self.tone, user="alice", control=True, **kw)

    def dial(self, phone, user):
        r = phone.command("dial", "sip:%s@%s:%d" % (user, LOOPBACK, self.sip_port))
        self.assertTrue(r.get("ok"), r)

    def answered(self, ev, phone):
        """The call the rule made, established for both sides and publishing."""
        call = ev.wait(lambda e: e.get("route") == "config-rooms" and
                       e.get("status") == "ESTABLISHED", 20, "the incoming call up")
        phone.wait_event("CALL_ESTABLISHED")
        ev.wait_call(call["callId"], stream="PUBLISHING")
        return call

    def test_baresip_calling_a_rule_is_published_listed_and_hung_up_by_delete(self):
        with NginxRtmp() as nginx, Daemon(self.rule(nginx)) as d, d.events() as ev, \
                self.phone() as phone:
            self.dial(phone, "room3")
            call = self.answered(ev, phone)
            self.assertToneOn(nginx, "in-room3", TONE_HZ)
            listed = [c for c in d.get("/api/v1/calls").json
                      if c["callId"] == call["callId"]]
            self.assertEqual(len(listed), 1, listed)
            self.assertEqual(listed[0]["direction"], "incoming")
            self.assertEqual(listed[0]["status"], "ESTABLISHED")
            self.assertIn("sip:alice@%s" % LOOPBACK, listed[0]["caller"])
            self.assertEqual(listed[0]["route"], "config-rooms")
            r = d.delete("/api/v1/calls/%s" % call["callId"])
            self.assertEqual(r.status, 202, r)
            # our BYE closes baresip's call: libre reports a remote BYE as
            # ECONNRESET, baresip says it as such
            closed = phone.wait_event("CALL_CLOSED")
            self.assertIn("Connection reset by peer", closed.get("param", ""), closed)
            last = ev.wait_call(call["callId"], status="FINISH")
            self.assertEqual(self.statuses(ev, call["callId"]),
                             ["NEW", "ESTABLISHED", "FINISH"])
            self.assertEqual(last["rtmpStreamStatus"], "UNPUBLISHED", last)

    def test_baresip_hanging_up_finishes_its_call_and_its_stream(self):
        with NginxRtmp() as nginx, Daemon(self.rule(nginx)) as d, d.events() as ev, \
                self.phone() as phone:
            self.dial(phone, "room4")
            call = self.answered(ev, phone)
            r = phone.command("hangup")
            self.assertTrue(r.get("ok"), r)
            last = ev.wait_call(call["callId"], status="FINISH")
            self.assertEqual(last["reason"], "remote hangup", last)
            # what a user of the events sees, in order: accepted, answered,
            # published, ended by the caller, the stream closed
            self.assertEqual(self.statuses(ev, call["callId"]),
                             ["NEW", "ESTABLISHED", "FINISH"])
            final = ev.wait(lambda e: e.get("callId") == call["callId"] and
                            e.get("rtmpStreamStatus") == "UNPUBLISHED", 20, "unpublished")
            self.assertEqual(final["status"], "FINISH", final)
            self.assertEqual(self.stream_statuses(ev, call["callId"]),
                             ["PENDING", "PUBLISHING", "UNPUBLISHED"])
            self.assertEqual(d.get("/api/v1/calls/%s" % call["callId"]).json["status"],
                             "FINISH")

    def test_baresip_answers_a_rules_challenge_with_its_accounts_password(self):
        creds = "sip-login=alice\nsip-password=%s\n" % PASSWORD
        with NginxRtmp() as nginx, Daemon(self.rule(nginx, creds)) as d, d.events() as ev:
            with self.phone(password="wrong-pw") as phone:
                self.dial(phone, "room5")
                closed = phone.wait_event("CALL_CLOSED")
                self.assertIn("403", closed.get("param", ""), closed)
            with self.phone(password=PASSWORD) as phone:
                self.dial(phone, "room5")
                call = self.answered(ev, phone)
                self.assertToneOn(nginx, "in-room5", TONE_HZ)
                self.assertEqual(d.delete("/api/v1/calls/%s" % call["callId"]).status, 202)
                phone.wait_event("CALL_CLOSED")
                ev.wait_call(call["callId"], status="FINISH")
            self.assertNotIn(PASSWORD, d.log())
            self.assertNotIn(PASSWORD, str(ev.events))


if __name__ == "__main__":
    unittest.main()
