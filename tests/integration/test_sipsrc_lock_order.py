#!/usr/bin/python3
"""No thread of the process waits for another in a circle (docs/sipsrc-contract.md,
"Threads and locks").

These run the plugin built with its test hooks (tests/testhooks/), which hold
two threads at the two ends of a former deadlock until both are there
(SIP2RTMP_TEST_RENDEZVOUS), so the window that is microseconds wide in
production is open every time: on the code before the fix each test hangs or
reports a hook that gave up waiting.
"""

from sipsrc_case import SipsrcTestCase, Sipp, main, TONE_HZ
from peers import build_dir


class SipsrcLockOrderTest(SipsrcTestCase):

    def hooked(self, *hooks):
        return {
            "GST_PLUGIN_PATH": str(build_dir() / "tests" / "testhooks"),
            # its own registry: the hooked plugin is also called "sip"
            "GST_REGISTRY": str(self.tmp / "registry.bin"),
            "SIP2RTMP_TEST_RENDEZVOUS": ",".join(hooks),
        }

    def assertMet(self, result, *hooks):
        for hook in hooks:
            self.assertIn("sip2rtmp test hook %s: met" % hook, result.stderr,
                          "the threads did not meet at %s\n%s" % (hook, result))

    # The media loop finds the RTP timeout (under the stream's entry lock)
    # while the SIP thread reports the peer's re-INVITE (under sipsrc's
    # call_lock). Before: the loop posted the timeout message under its lock,
    # sipsrc's handler waited for call_lock, the SIP thread waited for the
    # entry lock: every call and RTMP session of the process froze.
    def test_an_rtp_timeout_meeting_a_reinvite_hangs_up_instead_of_freezing(self):
        hooks = ("reinvite-under-call-lock", "rtp-timeout-under-entry-lock")
        with Sipp("reinvite_silent_wait_bye.xml") as uas:
            r, _ = self.run_to_wav(uas.uri(), timeout=20, rtp_timeout=2,
                                   env=self.hooked(*hooks))
            self.assertMet(r, *hooks)
            self.assertFailedWith(r, 408)
            self.assertIn("no RTP", str(r))
            self.assertSippPassed(uas, " (expects our 200 to its re-INVITE, then our BYE)")
            self.assertEqual(len(uas.received("BYE")), 1)

    # The loop is inside a push downstream (as it is whenever a slow element
    # takes its time) when the peer's re-INVITE comes. Before: the SIP thread
    # waited for the stream's entry lock until the push returned, and every
    # other call's signalling waited with it. Now it hands the change over
    # and answers at once: the loop, held in its push until the SIP thread has
    # followed the re-INVITE, sees it happen.
    def test_a_reinvite_is_followed_while_the_loop_is_pushing_downstream(self):
        hooks = ("rtp-push-under-entry-lock", "reinvite-followed")
        with Sipp("reinvite_hold_resume.xml", duration_ms=1000,
                  tones={"resume-pcmu.wav": TONE_HZ}) as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30, env=self.hooked(*hooks))
            self.assertMet(r, *hooks)
            self.assertSippPassed(uas, " (expects 200 to both re-INVITEs)")
        self.assertEqual(r.returncode, 0, str(r))
        self.assertStates(r, ["established", "terminated"])
        self.assertTone(wav, TONE_HZ, start=0.5, duration=1.0)


if __name__ == "__main__":
    main()
