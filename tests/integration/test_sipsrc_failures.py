#!/usr/bin/python3
"""sipsrc turns every failed call into an element error a program can read."""

import os
import shutil
import socket
import time
from sipsrc_case import (SipsrcTestCase, Sipp, main, gst_launch, sipsrc, PCMU_TO_WAV,
                         CallsDriver, Calls)


class SipsrcFailureTest(SipsrcTestCase):

    def test_busy_486_is_an_error_with_status_486(self):
        with Sipp("busy_486.xml") as uas:
            r, _ = self.run_to_wav(uas.uri())
            self.assertFailedWith(r, 486)
            self.assertSippPassed(uas, " (486 must be ACKed)")

    def test_no_answer_cancels_after_answer_timeout(self):
        with Sipp("no_answer_cancel.xml") as uas:
            t0 = time.monotonic()
            r, _ = self.run_to_wav(uas.uri(), answer_timeout=2)
            elapsed = time.monotonic() - t0
            self.assertFailedWith(r, 408)
            self.assertStates(r, ["ringing", "failed"])
            self.assertGreaterEqual(elapsed, 1.8, "gave up before answer-timeout")
            self.assertLess(elapsed, 8, "took far longer than answer-timeout=2")
            self.assertSippPassed(uas, " (expects CANCEL, then ACK of the 487)")
            self.assertTrue(uas.received("CANCEL"))

    def test_malformed_sdp_answer_is_an_error_and_hangs_up(self):
        with Sipp("answer_malformed_sdp.xml") as uas:
            r, _ = self.run_to_wav(uas.uri())
            self.assertNotEqual(r.returncode, 0, str(r))
            self.assertIsNotNone(r.returncode, str(r))
            self.assertTrue([e for e in r.errors() if "GstSipSrc" in e["text"]], str(r))
            self.assertIn("failed", r.sip_call_states(), str(r))
            self.assertSippPassed(uas, " (the 200 must be ACKed, then BYE)")

    def test_no_common_codec_is_an_error_and_hangs_up(self):
        # The calls driver: the call fails within milliseconds, which can be
        # before gst-launch-1.0's main loop runs (see CallsDriver)
        with Sipp("answer_no_common_codec.xml") as uas:
            with CallsDriver([sipsrc(uas.uri()) + " " +
                              PCMU_TO_WAV.format(wav=self.tmp / "out.wav")]) as d:
                r = d.wait(20)
            calls = Calls(r)
            self.assertEqual(calls.ended(1), "error", str(r))
            self.assertTrue(calls.errors("src"), str(r))
            self.assertIsNotNone(calls.failed("src"), str(r))
            self.assertSippPassed(uas, " (the 200 must be ACKed, then BYE)")

    def test_unresolvable_host_fails_within_answer_timeout(self):
        # In a network namespace of its own (only a down loopback), so the DNS
        # query cannot leave the machine whatever resolv.conf says.
        unshare = shutil.which("unshare")
        self.assertIsNotNone(unshare, "unshare (util-linux) is needed")
        wrap = [unshare, "-n"] if os.geteuid() == 0 else [unshare, "-rn"]
        # The calls driver, not gst-launch-1.0: this call fails at once, and
        # gst-launch-1.0 loses an error posted before its main loop runs.
        with CallsDriver([sipsrc("sip:nobody@no-such-host.invalid", answer_timeout=3) + " " +
                          PCMU_TO_WAV.format(wav=self.tmp / "out.wav")],
                         wrapper=wrap) as d:
            r = d.wait(20)
        calls = Calls(r)
        how, after = calls.ending(1)
        self.assertEqual(how, "error", str(r))
        failed = calls.failed("src")
        self.assertIsNotNone(failed, str(r))
        self.assertIn("could not resolve", failed.get("reason", ""), str(r))
        self.assertTrue([e for e in calls.errors("src") if "could not resolve" in e], str(r))
        self.assertLess(after, 3 + 3, "no error within answer-timeout=3\n%s" % r)

    def test_silent_peer_fails_with_408_within_answer_timeout(self):
        # A bound UDP port that never answers: INVITEs vanish, no ICMP.
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(silent.close)
        silent.bind(("127.0.0.1", 0))
        uri = "sip:1000@127.0.0.1:%d" % silent.getsockname()[1]
        t0 = time.monotonic()
        r = gst_launch(sipsrc(uri, answer_timeout=2) + " " +
                       PCMU_TO_WAV.format(wav=self.tmp / "out.wav"), timeout=20)
        elapsed = time.monotonic() - t0
        self.assertFailedWith(r, 408)
        self.assertIn("no answer within 2 s", str(r))
        self.assertTrue(silent.recv(4096).startswith(b"INVITE "), "no INVITE reached the peer")
        # answer-timeout, plus at most the bounded SIP shutdown linger
        self.assertLess(elapsed, 2 + 3, "no error within answer-timeout=2\n%s" % r)

    def test_empty_uri_fails_the_state_change_naming_the_property(self):
        r = gst_launch('sipsrc name=src uri="" ! fakesink', timeout=15)
        self.assertNotEqual(r.returncode, 0, str(r))
        self.assertIn("uri", r.text.lower(), str(r))

    def test_password_without_user_id_fails_naming_the_property(self):
        r = gst_launch("sipsrc name=src uri=sip:x@127.0.0.1:9 user-pw=secret ! fakesink",
                       timeout=15)
        self.assertNotEqual(r.returncode, 0, str(r))
        self.assertIn("user-id", r.text, str(r))
        self.assertNotIn("secret", r.text, "the password appears in the output")


if __name__ == "__main__":
    main()
