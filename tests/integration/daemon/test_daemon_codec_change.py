"""sip2rtmpd follows the callee's codec changes without breaking the stream.

The callee may switch codec during the call: a re-INVITE offering another
codec, or a 200 whose SDP differs from the 183's early media. sipsrc then
pushes new caps; the call's branch replaces its depayloader there and keeps
its AAC encoder, so the RTMP stream goes on as one stream.

Real daemon over real HTTP; SIPp callees playing one tone in PCMU, then
another in PCMA (same RTP stream, new payload type); nginx-rtmp; ffmpeg pulls
the published stream back and both tones are checked where they belong.
"""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, call_body, pull_rtmp,  # noqa: E402
                    dominant_frequency, LOOPBACK)
from peers import wav_duration, audio_rms  # noqa: E402
from rtp_pcap import write_pcap  # noqa: E402
from audio_pcap import g722_packets  # noqa: E402

PCMU_HZ = 600
PCMA_HZ = 1000          # and the G.722 capture's
AFTER_CHANGE_MS = 5000
PULL_S = 3.5


class DaemonCodecChangeTest(unittest.TestCase):

    def setUp(self):
        import tempfile
        import shutil
        self.tmp = Path(tempfile.mkdtemp(prefix="sip2rtmp-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def assertTone(self, wav, hz, start, duration, ctx):
        got = dominant_frequency(str(wav), start, duration)
        self.assertIsNotNone(got, "silence in %s from %.1f s %s" % (wav, start, ctx))
        self.assertAlmostEqual(got, hz, delta=hz * 0.03,
                               msg="tone %.1f Hz, expected %d Hz %s" % (got, hz, ctx))

    def publish_and_pull(self, scenario, tones, first_status, config="", files=None):
        """Calls the SIPp callee, pulls the stream from its first publishing
        event on; returns (wav, the call's events, final call, daemon log)."""
        with NginxRtmp() as nginx, Daemon(config=config) as d, d.events() as ev, \
                Sipp(scenario, duration_ms=AFTER_CHANGE_MS, tones=tones,
                     files=files) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "codec"))
            self.assertEqual(r.status, 201, r)
            cid = r.json["callId"]
            ev.wait_call(cid, status=first_status, stream="PUBLISHING")
            wav = self.tmp / "pulled.wav"
            # 2 s of the first codec, 5 s of the second, then the BYE
            # (ffmpeg probes 5 s of it: the stream outlasts the pull)
            pulled = pull_rtmp("rtmp://%s:%d/live/codec" % (LOOPBACK, nginx.port),
                               PULL_S, wav)
            self.assertEqual(pulled.returncode, 0, "ffmpeg: %s" % pulled.stderr[-2000:])
            ev.wait_call(cid, status="FINISH", timeout=30)
            self.assertEqual(sipp.wait(), 0, sipp.report())
            final = d.get("/api/v1/calls/%s" % cid).json
            return wav, ev.of_call(cid), final, d.log()

    def assertNoGap(self, wav, ctx):
        """No 100 ms of silence anywhere: the change cut nothing out."""
        end = wav_duration(wav)
        t = 0.0
        while t + 0.1 <= end:
            self.assertGreater(audio_rms(str(wav), t, 0.1), 100.0,
                               "silence at %.1f s of %.1f %s" % (t, end, ctx))
            t += 0.05

    def assertOneStream(self, wav, final, change):
        """One stream through the change: the first tone, then the second
        to the end, nothing cut in between; the call ended normally."""
        end = wav_duration(wav)
        self.assertGreater(end, PULL_S - 0.2, "the stream went on after %s" % change)
        self.assertTone(wav, PCMU_HZ, 0.0, 1.0, "(before %s)" % change)
        self.assertTone(wav, PCMA_HZ, end - 1.2, 1.0, "(after %s)" % change)
        self.assertNoGap(wav, "(through %s)" % change)
        self.assertEqual(final["status"], "FINISH", final)

    def assertFollowed(self, events, final, log, to="PCMA"):
        statuses = [e["status"] for e in events]
        self.assertNotIn("FAILED", statuses, log[-3000:])
        codecs = [e.get("audioCodec") for e in events if e.get("audioCodec")]
        self.assertEqual(codecs[0], "PCMU", codecs)
        self.assertEqual(codecs[-1], to, "the call shows the new codec: %s" % codecs)
        self.assertEqual(final["audioCodec"], to, final)
        self.assertNotIn("not followed", log)

    def test_reinvite_to_another_codec_is_followed_in_the_same_stream(self):
        # PCMU 600 Hz for 2 s, re-INVITE offering only PCMA, PCMA 1000 Hz
        # for 5 s, BYE
        wav, events, final, log = self.publish_and_pull(
            "reinvite_codec_change.xml",
            {"tone-pcmu.wav": PCMU_HZ, "tone-pcma.wav": PCMA_HZ}, "ESTABLISHED")
        self.assertFollowed(events, final, log)
        self.assertOneStream(wav, final, "the re-INVITE")

    def test_answer_with_another_codec_than_the_early_media_is_followed(self):
        # 183 PCMU 600 Hz for 2 s, then 200 with PCMA 1000 Hz for 5 s, BYE
        wav, events, final, log = self.publish_and_pull(
            "early_media_183_then_200_pcma.xml",
            {"early-pcmu.wav": PCMU_HZ, "tone-pcma.wav": PCMA_HZ}, "SESSION_PROGRESS")
        self.assertFollowed(events, final, log)
        self.assertOneStream(wav, final, "the 200")

    def test_reinvite_to_a_wideband_codec_is_followed_in_the_same_stream(self):
        # PCMU 600 Hz (8 kHz) for 2 s, re-INVITE offering only G.722, then
        # a G.722 capture (16 kHz audio) of 1000 Hz, BYE: the new decoder's
        # rate reaches the same resampler and encoder
        pcap = lambda p: write_pcap(p, g722_packets(  # noqa: E731
            [(AFTER_CHANGE_MS / 1000.0, PCMA_HZ)]))
        wav, events, final, log = self.publish_and_pull(
            "reinvite_codec_g722.xml", {"tone-pcmu.wav": PCMU_HZ}, "ESTABLISHED",
            config="[sip]\ncodecs=PCMU,PCMA,G722,H264\n", files={"audio.pcap": pcap})
        self.assertFollowed(events, final, log, to="G722")
        self.assertOneStream(wav, final, "the re-INVITE to G.722")


if __name__ == "__main__":
    unittest.main(verbosity=2)
