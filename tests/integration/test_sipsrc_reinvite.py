#!/usr/bin/python3
"""sipsrc follows the peer's re-INVITEs: hold and resume.

The SIPp callee (reinvite_hold_resume.xml) plays TONE_HZ, puts the call on
hold (re-INVITE a=inactive, RTP paused) for longer than rtp-timeout, resumes
it (re-INVITE a=sendrecv) with RESUME_HZ, and hangs up.
"""

from sipsrc_case import SipsrcTestCase, Sipp, main, PCMU_TO_WAV, TONE_HZ
from peers import wav_duration

RESUME_HZ = 600
HOLD_MS = 5000          # more than twice the rtp-timeout below
RTP_TIMEOUT = 2


class SipsrcReinviteTest(SipsrcTestCase):

    def hold_and_resume(self, scenario):
        return Sipp(scenario, duration_ms=HOLD_MS, tones={"resume-pcmu.wav": RESUME_HZ})

    def test_hold_and_resume_are_answered_and_reported_without_rtp_timeout(self):
        with self.hold_and_resume("reinvite_hold_resume.xml") as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30, rtp_timeout=RTP_TIMEOUT)
            # SIPp passes only if we answered both re-INVITEs and the BYE
            self.assertSippPassed(uas, " (expects 200 to both re-INVITEs)")
            answers = [m for m in uas.received(200)
                       if "INVITE" in (m.header("CSeq") or "")]
            self.assertEqual(len(answers), 2, "our 200s to both re-INVITEs" + uas.report())
            for a in answers:
                self.assertIn("m=audio", a.text, "our answer to a re-INVITE carries SDP")
            self.assertIn("a=recvonly", answers[1].text, "resumed: we receive again")

        # the call lived through the hold and ended by the peer's BYE
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        self.assertStates(r, ["established", "terminated"])
        holds = [m.get("on-hold") for m in r.element_messages("sip-call")
                 if m.get("reason") == "re-INVITE"]
        self.assertEqual(holds, ["true", "false"], str(r))

        # the tone before the hold, and the resumed stream's tone after it
        self.assertTone(wav, TONE_HZ, start=0.0, duration=1.5, ctx="(before the hold)")
        end = wav_duration(wav)
        self.assertGreater(end, 3.0, "audio after the resume")
        self.assertTone(wav, RESUME_HZ, start=end - 1.5, duration=1.5,
                        ctx="(after the resume)")

    # The peer resumes RTP 1.5 s after its re-INVITE, within rtp-timeout=2
    # counted from the resume (not from the last packet before the hold).
    def test_rtp_timeout_counts_from_the_resume(self):
        with self.hold_and_resume("reinvite_hold_resume_late_rtp.xml") as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30, rtp_timeout=RTP_TIMEOUT)
            self.assertSippPassed(uas)
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        end = wav_duration(wav)
        self.assertTone(wav, RESUME_HZ, start=end - 1.0, duration=1.0,
                        ctx="(after the resume)")


if __name__ == "__main__":
    main()
