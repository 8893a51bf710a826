#!/usr/bin/python3
"""Incoming calls (issue 14): `sipsrc mode=answer` and `siplistener`, called
by SIPp UACs on 127.0.0.1; each caller's tone checked where it comes out."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

from sipsrc_case import (SipsrcTestCase, GstLaunch, main, wait_until,
                         PCMU_TO_WAV)
from peers import (build_dir, free_port, NginxRtmp, pull_rtmp, dominant_frequency, gst_launch,
                   Baresip, Certs, make_tone_wav)
from callers import CALLER, caller

WAITING = r"state=\(string\)waiting"
# sipsrc's PCMU pad to AAC into rtmppubsink, as sip2rtmpd's audio branch
PCMU_TO_RTMP = ("src{n}. ! rtppcmudepay ! mulawdec ! audioconvert ! audioresample "
                "! audio/x-raw,rate=48000,channels=1 ! voaacenc bitrate=64000 ! aacparse "
                "! rtmppubsink location={url}")


def answering(port, user, name="src", transport=None, **props):
    parts = ["sipsrc", "name=%s" % name, "mode=answer",
             "uri=sip:%s@127.0.0.1:%d%s" % (user, port, ";transport=%s" % transport
                                            if transport else "")]
    parts += ["%s=%s" % (k.replace("_", "-"), v) for k, v in props.items()]
    return " ".join(parts)


class SipsrcAnswerTest(SipsrcTestCase):

    def responses_to_invites(self, port, user, **kw):
        """Run one SIPp caller to its end: the responses to its INVITEs."""
        with caller(port, user, **kw) as uac:
            rc = uac.wait(40)
            got = [m for m in uac.parsed_messages()
                   if m.direction == "received" and m.status and
                   "INVITE" in (m.header("CSeq") or "")]
            report = uac.report()
        self.assertEqual(rc, 0, report)
        return got, report

    def call_in(self, port, user, **kw):
        """Run one SIPp caller to its end: the answers to its INVITEs."""
        got, report = self.responses_to_invites(port, user, **kw)
        return [m.status for m in got], report

    def test_a_call_to_the_waiting_user_is_answered_and_its_tone_comes_out(self):
        port = free_port()
        wav = self.tmp / "out.wav"
        with GstLaunch(answering(port, "room42") + " " + PCMU_TO_WAV.format(wav=wav)) as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room42", duration_ms=3000)
            # the caller's BYE ends the stream: EOS, a clean exit
            r = gst.wait(15)
        self.assertEqual(r.returncode, 0, str(r))
        self.assertTrue(r.got_eos(), str(r))
        self.assertTrue(re.search(r"state=\(string\)established", r.stdout), str(r))
        self.assertEqual(r.sip_call_states()[-1], "terminated", str(r))
        self.assertEqual(got, [180, 200], report)
        self.assertTone(wav, 1000)

    def test_the_callers_x_headers_are_in_the_established_message(self):
        port = free_port()
        wav = self.tmp / "out.wav"
        with GstLaunch(answering(port, "room42") + " " + PCMU_TO_WAV.format(wav=wav)) as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            self.call_in(port, "room42", key="abc-123", duration_ms=1000)
            r = gst.wait(15)
        self.assertRegex(r.stdout, r"state=\(string\)established.*remote-headers=.*"
                         r"X-Stream-Key.*abc-123", str(r))

    def test_a_call_to_another_user_gets_404_and_the_element_waits_on(self):
        port = free_port()
        wav = self.tmp / "out.wav"
        with GstLaunch(answering(port, "room42") + " " + PCMU_TO_WAV.format(wav=wav)) as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room43")
            self.assertEqual(got, [404], report)
            got, report = self.call_in(port, "room42", duration_ms=1500)
            self.assertEqual(got, [180, 200], report)
            r = gst.wait(15)
        self.assertEqual(r.returncode, 0, str(r))
        self.assertTone(wav, 1000)

    def test_a_caller_other_than_the_one_asked_for_gets_404(self):
        port = free_port()
        wav = self.tmp / "out.wav"
        with GstLaunch(answering(port, "room42", caller="bob") + " " +
                       PCMU_TO_WAV.format(wav=wav)) as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room42", from_user="alice")
            self.assertEqual(got, [404], report)
            got, report = self.call_in(port, "room42", from_user="bob", duration_ms=1500)
            self.assertEqual(got, [180, 200], report)
            r = gst.wait(15)
        self.assertEqual(r.returncode, 0, str(r))

    def test_digest_credentials_are_challenged_and_the_right_ones_answered(self):
        port = free_port()
        wav = self.tmp / "out.wav"
        with GstLaunch(answering(port, "room42", user_id="alice", user_pw="s3cret") + " " +
                       PCMU_TO_WAV.format(wav=wav)) as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room42", duration_ms=2000,
                                       extra=["-au", "alice", "-ap", "s3cret"])
            r = gst.wait(15)
        self.assertEqual(got, [401, 180, 200], report)
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("s3cret", r.stdout + r.stderr)
        self.assertTone(wav, 1000)

    def test_a_long_call_id_is_challenged_and_answered(self):
        # 200 characters (before the fix: the challenge kept no Call-ID, the
        # retry was challenged again)
        port = free_port()
        with GstLaunch(answering(port, "room42", user_id="alice", user_pw="s3cret") +
                       " ! fakesink") as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room42", duration_ms=500,
                                       extra=["-au", "alice", "-ap", "s3cret",
                                              "-cid_str", "c" * 180 + "-%u-%p@%s"])
            r = gst.wait(15)
        self.assertEqual(got, [401, 180, 200], report)
        self.assertEqual(r.returncode, 0, str(r))

    def test_a_call_id_too_long_to_report_gets_400_and_the_element_waits_on(self):
        # 300 characters: not passed to logs and events (before the fix:
        # answered, only siplistener checked it)
        port = free_port()
        with GstLaunch(answering(port, "room42") + " ! fakesink") as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room42",
                                       extra=["-cid_str", "c" * 300 + "-%u-%p@%s"])
            self.assertEqual(got, [400], report)
            got, report = self.call_in(port, "room42", duration_ms=500)
            self.assertEqual(got, [180, 200], report)
            r = gst.wait(15)
        self.assertEqual(r.returncode, 0, str(r))

    def test_a_wrong_password_gets_403_and_the_element_waits_on(self):
        port = free_port()
        wav = self.tmp / "out.wav"
        with GstLaunch(answering(port, "room42", user_id="alice", user_pw="s3cret") + " " +
                       PCMU_TO_WAV.format(wav=wav)) as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room42", extra=["-au", "alice", "-ap", "wrong"])
            self.assertEqual(got, [401, 403], report)
            got, report = self.call_in(port, "room42", duration_ms=1500,
                                       extra=["-au", "alice", "-ap", "s3cret"])
            self.assertEqual(got, [401, 180, 200], report)
            r = gst.wait(15)
        self.assertEqual(r.returncode, 0, str(r))

    def test_a_challenged_caller_that_never_retries_does_not_block_the_room(self):
        # its Call-ID is forgotten after answer-timeout (before the fix: every
        # other caller got 486 for as long as the element waited)
        port = free_port()
        wav = self.tmp / "out.wav"
        with GstLaunch(answering(port, "room42", user_id="alice", user_pw="s3cret",
                                 answer_timeout=2) + " " +
                       PCMU_TO_WAV.format(wav=wav)) as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room42",
                                       scenario="uac/uac_in_challenged_gives_up.xml")
            self.assertEqual(got, [401], report)
            got, report = self.call_in(port, "room42", extra=["-au", "alice", "-ap", "s3cret"])
            self.assertEqual(got, [486], report)   # within the timer: busy
            time.sleep(3)
            got, report = self.call_in(port, "room42", duration_ms=1500,
                                       extra=["-au", "alice", "-ap", "s3cret"])
            self.assertEqual(got, [401, 180, 200], report)
            r = gst.wait(15)
        self.assertEqual(r.returncode, 0, str(r))
        self.assertTone(wav, 1000)

    def test_a_nonce_is_single_use_so_credentials_cannot_be_replayed(self):
        # right credentials on an offer we refuse (488), then the same
        # Authorization in a new INVITE: challenged anew
        # (before the fix: answered, 200)
        port = free_port()
        with GstLaunch(answering(port, "room42", user_id="alice", user_pw="s3cret") +
                       " ! fakesink") as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room42", scenario="uac/uac_in_auth_replay.xml",
                                       extra=["-au", "alice", "-ap", "s3cret"])
            gst.interrupt()
            gst.wait(10)
        self.assertEqual(got, [401, 180, 488, 401], report)

    def assertStreamTone(self, rtmp, stream, hz, proc):
        rtmp.wait_publishing(stream, proc=proc)
        wav = self.tmp / ("%s.wav" % stream)
        pr = pull_rtmp(rtmp.url(stream=stream), 2, wav)
        self.assertEqual(pr.returncode, 0, pr.stderr[-2000:])
        self.assertTone(wav, hz, ctx="on stream %s" % stream)

    def test_wrong_passwords_lock_out_their_source_for_that_user_only(self):
        # auth-max-failures wrong passwords from 127.0.0.1 to room42: 403 each;
        # then even the right one gets 480 with the lock-out's seconds left in
        # Retry-After, while 127.0.0.2 is answered, and after Retry-After
        # 127.0.0.1 is answered again (before: a guesser tried forever)
        port = free_port()
        creds = ["-au", "alice", "-ap", "s3cret"]
        with NginxRtmp() as rtmp:
            # one sipsrc per caller (From), so that each call has its stream
            parts = []
            for n, who in enumerate(("carol", "alice")):
                parts.append(answering(port, "room42", name="src%d" % n, caller=who,
                                       user_id="alice", user_pw="s3cret",
                                       auth_max_failures=3, auth_lockout=3))
                parts.append(PCMU_TO_RTMP.format(n=n, url=rtmp.url(stream=who)))
            with GstLaunch(" ".join(parts)) as gst:
                wait_until(lambda: len(re.findall(WAITING, gst.output())) >= 2, 10,
                           "two sipsrc waiting", gst.proc)
                for _ in range(3):
                    got, report = self.call_in(port, "room42", from_user="alice",
                                               extra=["-au", "alice", "-ap", "wrong-pw-42"])
                    self.assertEqual(got, [401, 403], report)

                got, report = self.responses_to_invites(port, "room42", from_user="alice",
                                                        extra=creds)
                refused_at = time.monotonic()
                self.assertEqual([m.status for m in got], [480], report)
                retry_after = int(got[0].header("Retry-After"))
                self.assertTrue(1 <= retry_after <= 3, got[0].text)
                # the same source to another user: not locked out (nobody
                # waits for room43: 404)
                got, report = self.call_in(port, "room43", from_user="alice", extra=creds)
                self.assertEqual(got, [404], report)

                with caller(port, "room42", from_user="carol", extra=creds,
                            host="127.0.0.2", duration_ms=6000,
                            tones={"tone.wav": 500}) as uac:
                    self.assertStreamTone(rtmp, "carol", 500, gst.proc)
                    self.assertEqual(uac.wait(40), 0, uac.report())

                time.sleep(max(0.0, refused_at + retry_after - time.monotonic()))
                with caller(port, "room42", from_user="alice", extra=creds,
                            duration_ms=6000, tones={"tone.wav": 800}) as uac:
                    self.assertStreamTone(rtmp, "alice", 800, gst.proc)
                    self.assertEqual(uac.wait(40), 0, uac.report())
                r = gst.wait(20)
            self.assertEqual(r.returncode, 0, str(r))
            self.assertNotIn("s3cret", r.stdout + r.stderr)
            self.assertNotIn("wrong-pw-42", r.stdout + r.stderr)

    def test_callers_to_three_rooms_at_once_each_reach_their_own_stream(self):
        port = free_port()
        rooms = {"room1": 500, "room2": 800, "room3": 1200}
        with NginxRtmp() as rtmp:
            parts = []
            for n, room in enumerate(rooms):
                parts.append(answering(port, room, name="src%d" % n))
                parts.append(PCMU_TO_RTMP.format(n=n, url=rtmp.url(stream=room)))
            with GstLaunch(" ".join(parts)) as gst:
                wait_until(lambda: len(re.findall(WAITING, gst.output())) >= 3, 10,
                           "three sipsrc waiting", gst.proc)
                uacs = [caller(port, room, duration_ms=12000, tones={"tone.wav": hz},
                               key=room) for room, hz in rooms.items()]
                for u in uacs:
                    u.__enter__()
                try:
                    for room in rooms:
                        rtmp.wait_publishing(room, proc=gst.proc)
                    # pulled side by side, while every call is up
                    with ThreadPoolExecutor(len(rooms)) as pool:
                        pulls = {room: pool.submit(pull_rtmp, rtmp.url(stream=room), 3,
                                                   self.tmp / ("%s.wav" % room))
                                 for room in rooms}
                    for room, hz in rooms.items():
                        pr = pulls[room].result()
                        self.assertEqual(pr.returncode, 0, pr.stderr[-2000:])
                        got = dominant_frequency(self.tmp / ("%s.wav" % room))
                        self.assertIsNotNone(got, "silence on %s" % room)
                        self.assertAlmostEqual(got, hz, delta=hz * 0.03,
                                               msg="%s carries %.0f Hz, not %d Hz" %
                                               (room, got, hz))
                    for u in uacs:
                        self.assertEqual(u.wait(40), 0, u.report())
                finally:
                    for u in uacs:
                        u.__exit__(None, None, None)
                r = gst.wait(20)
            self.assertEqual(r.returncode, 0, str(r))

    def test_a_call_cancelled_while_parked_gets_487(self):
        port = free_port()
        with GstLaunch("siplistener uri=sip:127.0.0.1:%d" % port, eos_on_shutdown=False) as gst:
            got, report = self.call_in(port, "room9", scenario="uac/uac_in_cancel.xml")
            self.assertTrue(gst.wait_for(r"sip-invite, invite-id=\(string\)inv-", 5),
                            gst.output())
            gst.interrupt()
            gst.wait(10)
        self.assertEqual(got, [180, 487], report)

    def test_a_parked_call_nobody_takes_gets_480(self):
        port = free_port()
        with GstLaunch("siplistener park-timeout=1 uri=sip:127.0.0.1:%d" % port,
                       eos_on_shutdown=False) as gst:
            got, report = self.call_in(port, "room9")
            # waited for, as in the tests beside: -m prints the bus' messages
            # from its own loop, read from its stdout by a thread of ours
            self.assertTrue(gst.wait_for(r"request-user=\(string\)room9", 5), gst.output())
            gst.interrupt()
            gst.wait(10)
        self.assertEqual(got, [180, 480], report)

    def baresip_calls_in(self, port, props, **phone):
        """baresip (`phone`: its options) calls room42 on an answering sipsrc
        (`props`), plays its 700 Hz tone; we hang up once 1.5 s of audio
        came out. Returns gst-launch's result and baresip's output."""
        tone = make_tone_wav(self.tmp / "baresip-tone.wav", 700, 30, "s16")
        wav = self.tmp / "out.wav"
        with GstLaunch(answering(port, "room42", **props) + " " +
                       PCMU_TO_WAV.format(wav=wav)) as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            with Baresip(tone, user="alice", dial="sip:room42@127.0.0.1:%d" % port,
                         **phone) as b:
                self.assertTrue(gst.wait_for(r"state=\(string\)established", 15),
                                gst.output() + b.output())
                # 1.5 s of audio written (8 kHz, 16-bit) before we hang up
                wait_until(lambda: wav.exists() and wav.stat().st_size > 24000, 15,
                           "audio from baresip", gst.proc)
                gst.interrupt()
                r = gst.wait(15)
                wait_until(lambda: "session closed" in b.output(), 10,
                           "baresip to see our BYE")
                out = b.output()
        self.assertEqual(r.returncode, 0, str(r))
        self.assertTone(wav, 700, ctx="(from baresip, calling in)")
        return r, out

    def test_baresip_calling_in_is_answered_and_its_tone_comes_out(self):
        self.baresip_calls_in(free_port(), {})

    def test_baresip_calling_in_over_tls_is_answered_and_our_bye_goes_back_over_tls(self):
        certs = Certs(self.tmp / "certs")
        cert, key = certs.issue("gateway", ip="127.0.0.1")
        # baresip shows a certificate too: our BYE opens a connection to its
        # Contact (RFC 3261), over TLS
        _, out = self.baresip_calls_in(
            free_port(), dict(transport="tls", tls_cert_file=cert, tls_key_file=key),
            tls_ca=certs.ca, trace=True, tls_cert=certs.issue("phone", ip="127.0.0.1"))
        lines = out.splitlines()
        bye_over = [lines[i - 1] for i in range(1, len(lines))
                    if lines[i].startswith("BYE ")]
        self.assertEqual(len(bye_over), 1, out)
        self.assertIn("TLS ", bye_over[0], out)

    def test_listening_over_tls_without_a_usable_certificate_fails_saying_which(self):
        port = free_port()
        certs = Certs(self.tmp / "certs")
        cert, _ = certs.issue("gateway", ip="127.0.0.1")
        _, other_key = certs.issue("other", ip="127.0.0.1")
        tls_uri = "uri=sip:127.0.0.1:%d;transport=tls" % port
        for line, why in (
                (answering(port, "room42", transport="tls") + " ! fakesink",
                 "Invalid property 'tls-cert-file': answer mode over TLS needs our "
                 "certificate"),
                ("siplistener " + tls_uri,
                 "Invalid property 'tls-cert-file': listening over TLS needs our "
                 "certificate"),
                ("siplistener %s tls-cert-file=%s" % (tls_uri, self.tmp / "none.pem"),
                 "TLS: cannot read our certificate"),
                ("siplistener %s tls-cert-file=%s tls-key-file=%s" % (tls_uri, cert, other_key),
                 "TLS: cannot read our private key, or it is not our certificate's")):
            r = gst_launch(line, timeout=15)
            self.assertNotEqual(r.returncode, 0, str(r))
            self.assertIn(why, r.stdout + r.stderr)
            self.assertNotIn(str(other_key), r.stdout + r.stderr)

    def test_any_address_is_refused_by_sipsrc_and_siplistener_naming_the_fix(self):
        port = free_port()
        for line in (answering(port, "room42").replace("127.0.0.1", "0.0.0.0") +
                     " ! fakesink", "siplistener uri=sip:0.0.0.0:%d" % port):
            r = gst_launch(line, timeout=15)
            self.assertNotEqual(r.returncode, 0, str(r))
            self.assertIn("not '0.0.0.0' (any): name the address callers reach",
                          r.stdout + r.stderr)

    def answer_with_session_timer(self, scenario):
        """A caller asking for a 4 s session timer (RFC 4028) to an answering
        sipsrc: the SIPp scenario checks the 200's Session-Expires and the
        refreshes; returns the call's sip-call states. The plugin built with
        test hooks, its minimum interval lowered to 2 s (90 s otherwise)."""
        port = free_port()
        wav = self.tmp / "out.wav"
        env = {"GST_PLUGIN_PATH": str(build_dir() / "tests" / "testhooks"),
               # its own registry: the hooked plugin is also called "sip"
               "GST_REGISTRY": str(self.tmp / "registry.bin"),
               "SIP2RTMP_TEST_MIN_SE": "2"}
        with GstLaunch(answering(port, "room42") + " " + PCMU_TO_WAV.format(wav=wav),
                       env=env) as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room42", scenario=scenario)
            r = gst.wait(15)
        self.assertEqual(got, [180, 200], report)
        self.assertEqual(r.returncode, 0, str(r))
        return r.sip_call_states()

    def test_a_callers_session_timer_below_90_s_gets_422_with_min_se(self):
        # RFC 4028 8 (before the fix: 200, and we refreshed every 500 ms on
        # the SIP thread); the element waits on for the next caller
        port = free_port()
        wav = self.tmp / "out.wav"
        with GstLaunch(answering(port, "room42") + " " + PCMU_TO_WAV.format(wav=wav)) as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room42",
                                       scenario="uac/uac_in_timer_too_short.xml")
            self.assertEqual(got, [180, 422], report)
            got, report = self.call_in(port, "room42", duration_ms=1500)
            self.assertEqual(got, [180, 200], report)
            r = gst.wait(15)
        self.assertEqual(r.returncode, 0, str(r))

    def test_a_short_session_timer_from_a_caller_without_timer_support_is_raised_to_our_min_se(self):
        # a proxy put Session-Expires: 30 in an INVITE without Supported:
        # timer: a 422 would fail the call (its UAC cannot follow it): 200
        # with 90 s (RFC 4028 erratum 1687), we refresh. Before: 422 with
        # Min-SE: 90. Granted as asked, a proxy's 2 s would have us refresh
        # every second.
        port = free_port()
        wav = self.tmp / "out.wav"
        with GstLaunch(answering(port, "room42") + " " + PCMU_TO_WAV.format(wav=wav)) as gst:
            self.assertTrue(gst.wait_for(WAITING, 10), gst.output())
            got, report = self.call_in(port, "room42", duration_ms=1500,
                                       scenario="uac/uac_in_timer_short_unsupported.xml")
            self.assertEqual(got, [180, 200], report)
            r = gst.wait(15)
        self.assertEqual(r.returncode, 0, str(r))
        self.assertEqual(r.sip_call_states()[-1], "terminated", str(r))

    def test_a_callers_session_timer_is_refreshed_by_us_when_it_makes_us_the_refresher(self):
        # two UPDATEs within 2 x 4 s, each answered by the caller; its BYE then
        # ends the call
        states = self.answer_with_session_timer("uac/uac_in_timer_uas.xml")
        self.assertEqual(states[-1], "terminated", states)

    def test_a_callers_refreshes_keep_the_call_up_past_the_interval(self):
        # three UPDATE refreshes over 5.4 s of a 4 s interval: the call is
        # still up for the caller's BYE (200, not 481)
        states = self.answer_with_session_timer("uac/uac_in_timer_uac.xml")
        self.assertEqual(states[-1], "terminated", states)
        self.assertNotIn("failed", states)

    def assert_parked_then_gone(self, listener, scenario, answers, gone):
        """A caller to a siplistener that nobody takes: its answers, then the
        sip-invite-gone message naming the parked INVITE's id."""
        port = free_port()
        with GstLaunch(listener + " uri=sip:127.0.0.1:%d" % port,
                       eos_on_shutdown=False) as gst:
            got, report = self.call_in(port, "room9", scenario=scenario)
            self.assertTrue(gst.wait_for(r"sip-invite-gone", 5), gst.output())
            gst.interrupt()
            gst.wait(10)
        self.assertEqual(got, answers, report)
        out = gst.output()
        parked = re.search(r"sip-invite, invite-id=\(string\)(inv-[0-9a-f-]+)", out)
        self.assertIsNotNone(parked, out)
        self.assertIn("sip-invite-gone, invite-id=(string)%s, %s" % (parked.group(1), gone),
                      out)

    def test_a_parked_invite_cancelled_by_its_caller_is_reported_gone(self):
        self.assert_parked_then_gone("siplistener", "uac/uac_in_cancel.xml", [180, 487],
                                     "reason=(string)cancelled, sip-status=(int)487")

    def test_a_parked_invite_nobody_takes_is_reported_gone(self):
        self.assert_parked_then_gone("siplistener park-timeout=1", CALLER, [180, 480],
                                     "reason=(string)timeout, sip-status=(int)480")

if __name__ == "__main__":
    main()
