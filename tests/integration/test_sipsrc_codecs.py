#!/usr/bin/python3
"""G.722 and Opus from a real SIP user agent (baresip 1.0.0's g722 and opus
modules), decoded by GStreamer: the callee's tone comes out at its frequency."""

from sipsrc_case import (SipsrcTestCase, Baresip, GstLaunch, main, sipsrc,
                         make_tone_wav, wait_until, TO_WAV)

TONE = 800


class SipsrcCodecTest(SipsrcTestCase):

    def call_baresip(self, codecs, offer, depay, rate, channels, module, caps):
        tone = make_tone_wav(self.tmp / "tone.wav", TONE, 30, "s16", rate=rate,
                             channels=channels)
        wav = self.tmp / "out.wav"
        with Baresip(tone, codecs=codecs, modules=(module,), srate=rate,
                     channels=channels) as callee:
            pipeline = "-v " + sipsrc(callee.uri, codecs=offer) + " src. ! " + depay + \
                " ! " + TO_WAV.format(wav=wav)
            with GstLaunch(pipeline) as gst:
                self.assertTrue(gst.wait_for(r"state=\(string\)established", 15),
                                gst.output() + callee.output())
                # 1.5 s of audio written (8 kHz, 16-bit) before we hang up
                wait_until(lambda: wav.exists() and wav.stat().st_size > 24000, 15,
                           "audio from baresip", gst.proc)
                gst.interrupt()
                r = gst.wait(15)
            self.assertEqual(r.returncode, 0, str(r))
            # what the depayloader got from sipsrc's pad (-v prints it when the
            # caps event reaches it; the pad's own notify may come before
            # gst-launch can see it)
            pad_caps = [l for l in r.stdout.splitlines()
                        if "Depay:" in l and ".GstPad:sink: caps = " in l]
            self.assertTrue(pad_caps, str(r))
            for c in caps:
                self.assertIn(c, pad_caps[0])
            self.assertTone(wav, TONE, ctx="(%s from baresip)" % offer)
            wait_until(lambda: "session closed" in callee.output(), 10,
                       "baresip to see our BYE")

    def test_g722_from_baresip_decodes_to_the_tone(self):
        self.call_baresip(("G722/16000/1",), "G722", "rtpg722depay ! avdec_g722",
                          16000, 1, "g722.so",
                          ["encoding-name=(string)G722", "clock-rate=(int)8000",
                           "payload=(int)9"])

    def test_opus_from_baresip_decodes_to_the_tone(self):
        self.call_baresip(("opus/48000/2",), "opus", "rtpopusdepay ! opusdec",
                          48000, 2, "opus.so",
                          ["encoding-name=(string)OPUS", "clock-rate=(int)48000"])


if __name__ == "__main__":
    main()
