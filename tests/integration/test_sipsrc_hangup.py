#!/usr/bin/python3
"""How a call ends: the callee hangs up (EOS), or we stop the pipeline (BYE)."""

from sipsrc_case import (SipsrcTestCase, Sipp, GstLaunch, main, sipsrc, wait_until,
                         PCMU_TO_WAV, TONE_HZ)


class SipsrcHangupTest(SipsrcTestCase):

    def test_remote_bye_ends_with_eos_and_clean_exit(self):
        with Sipp("answer_pcmu_bye.xml", duration_ms=2000) as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=20)
            self.assertEqual(r.returncode, 0, str(r))
            self.assertTrue(r.got_eos(), "no EOS after the remote BYE\n%s" % r)
            self.assertEqual(r.sip_call_states()[-1], "terminated", str(r))
            self.assertEqual(r.errors(), [], str(r))
            self.assertTone(wav, TONE_HZ)
            self.assertSippPassed(uas, " (our 200 to its BYE)")
            self.assertEqual(uas.received("BYE"), [], "we sent a BYE of our own")

    def test_local_stop_sends_bye(self):
        with Sipp("answer_pcmu_wait_bye.xml") as uas:
            wav = self.tmp / "out.wav"
            with GstLaunch(sipsrc(uas.uri()) + " " + PCMU_TO_WAV.format(wav=wav)) as gst:
                self.assertTrue(gst.wait_for(r"state=\(string\)established", 10), gst.output())
                wait_until(lambda: wav.exists() and wav.stat().st_size > 16000, 10,
                           "audio in the wav", gst.proc)
                gst.interrupt()     # -e: EOS, then NULL: the element hangs up
                r = gst.wait(15)
            self.assertEqual(r.returncode, 0, str(r))
            self.assertTone(wav, TONE_HZ)
            self.assertSippPassed(uas, " (expects our BYE)")
            self.assertEqual(len(uas.received("BYE")), 1)

    def test_stop_while_ringing_sends_cancel_and_ends_with_487(self):
        # gst-launch -e asks for EOS, which no pad can carry before the
        # answer: the call is cancelled and the pipeline ends with an error.
        with Sipp("no_answer_cancel.xml") as uas:
            wav = self.tmp / "out.wav"
            with GstLaunch(sipsrc(uas.uri(), answer_timeout=30) + " " +
                           PCMU_TO_WAV.format(wav=wav)) as gst:
                self.assertTrue(gst.wait_for(r"state=\(string\)ringing", 10), gst.output())
                gst.interrupt()
                r = gst.wait(15)
            # gst-launch does not print element messages while it waits for
            # EOS: the error text carries the status
            self.assertNotEqual(r.returncode, 0, str(r))
            self.assertTrue([e for e in r.errors() if "GstSipSrc" in e["text"]
                             and "487" in e["text"]], str(r))
            self.assertSippPassed(uas, " (expects our CANCEL)")
            self.assertEqual(len(uas.received("CANCEL")), 1)

    def test_rtp_timeout_hangs_up_a_silent_call_with_an_error(self):
        with Sipp("answer_silent_wait_bye.xml") as uas:
            r, _ = self.run_to_wav(uas.uri(), timeout=20, rtp_timeout=2)
            self.assertStates(r, ["established", "failed"])
            self.assertFailedWith(r, 408)
            self.assertIn("no RTP", str(r))
            self.assertSippPassed(uas, " (expects our BYE)")
            self.assertEqual(len(uas.received("BYE")), 1)


if __name__ == "__main__":
    main()
