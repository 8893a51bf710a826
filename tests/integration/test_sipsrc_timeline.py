#!/usr/bin/python3
"""A continuous timeline: when the peer's RTP pauses (silence suppression, a
slow peer, loss), sipsrc fills the gap with silence that follows the clock,
so what is published keeps wall-clock time and nothing after the pause moves.

The callee (answer_one_clock_bye.xml: SIPp, and one gst-launch-1.0 sending
at the capture's own pace) replays a capture made by tests/peers/rtp_pcap.py:
2 s of a 1000 Hz tone, 3 s without any packet, 2 s of 600 Hz.
"""

from sipsrc_case import SipsrcTestCase, Sipp, main, TO_WAV
from peers import audio_rms, wav_duration, loud_spans
from rtp_pcap import RtpStream, CLOCK, write_pcap
from audio_pcap import g722_packets

G722_TO_WAV = "src. ! rtpg722depay ! avdec_g722 ! " + TO_WAV

FIRST_HZ, SECOND_HZ = 1000, 600
TONE_S, PAUSE_S = 2.0, 3.0


def paused_packets():
    s = RtpStream()
    s.tone(TONE_S, FIRST_HZ)
    s.t += PAUSE_S                      # nothing sent: the RTP clock goes on
    s.ts += int(PAUSE_S * CLOCK)
    s.tone(TONE_S, SECOND_HZ)
    return s.packets


class SipsrcTimelineTest(SipsrcTestCase):

    def assertPauseKept(self, r, wav):
        self.assertEqual(r.returncode, 0, str(r))
        self.assertEqual(r.errors(), [], str(r))

        # the pause is in the output, as long as it lasted: without the fill
        # the 600 Hz would start 2 s in and the file would last ~4 s
        self.assertGreater(wav_duration(wav), 2 * TONE_S + PAUSE_S - 0.3)
        self.assertTone(wav, FIRST_HZ, start=0.3, duration=TONE_S - 0.6,
                        ctx="(before the pause)")
        # silence: 40 dB under the tone at least (a codec's silence is not
        # always digital zero)
        tone = audio_rms(wav, start=0.3, duration=TONE_S - 0.6)
        pause = audio_rms(wav, start=TONE_S + 0.5, duration=PAUSE_S - 1.0)
        self.assertLess(pause, tone / 100.0, "the pause is not silence")
        self.assertTone(wav, SECOND_HZ, start=TONE_S + PAUSE_S + 0.3,
                        duration=TONE_S - 0.6, ctx="(after the pause)")
        # and the file keeps time to the sample: the second tone starts
        # TONE_S + PAUSE_S after the first (the silence lasts as long as the
        # pause, no hole where RTP comes back: the fill lags the clock by
        # 60 ms, and was 60 ms short there before it was closed). 30 ms of
        # room: the callee's sender shares the machine, and CI runs other
        # suites beside it (5.02 s was seen on a busy runner, 5.00 alone)
        spans = loud_spans(wav, window=0.005)
        starts = [round(a, 3) for a, _ in spans]
        self.assertEqual(len(spans), 2, "two tones, sounding spans %s" % spans)
        self.assertAlmostEqual(starts[1] - starts[0], TONE_S + PAUSE_S, delta=0.030,
                               msg="second tone %.3f s after the first (tones at %s)" % (
                                   starts[1] - starts[0], starts))

    def test_a_pause_in_rtp_is_filled_with_silence_in_wall_clock_time(self):
        packets = paused_packets()
        total = packets[-1][0]
        with Sipp("answer_one_clock_bye.xml", duration_ms=int(total * 1000) + 800,
                  pt=0, codec="PCMU/8000",
                  files={"audio.pcap": lambda p: write_pcap(p, packets)}) as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30, rtp_timeout=0)
            self.assertSippPassed(uas)
        self.assertPauseKept(r, wav)

    def test_a_pause_in_g722_rtp_is_filled_too(self):
        packets = g722_packets([(TONE_S, FIRST_HZ), (PAUSE_S, None),
                                (TONE_S, SECOND_HZ)])
        total = packets[-1][0]
        with Sipp("answer_one_clock_bye.xml", duration_ms=int(total * 1000) + 800,
                  pt=9, codec="G722/8000",
                  files={"audio.pcap": lambda p: write_pcap(p, packets)}) as uas:
            r, wav = self.run_to_wav(uas.uri(), decode=G722_TO_WAV, timeout=30,
                                     rtp_timeout=0, codecs="G722")
            self.assertSippPassed(uas)
        self.assertPauseKept(r, wav)


if __name__ == "__main__":
    main()
