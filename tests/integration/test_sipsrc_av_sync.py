#!/usr/bin/python3
"""With video, audio and video stay in sync through sipsrc and rtmppubsink.

The peer is SIPp (av_sync.SCENARIO): it answers audio PCMU and video H.264
and has one GStreamer process replay, on one clock, two captures of one
timeline, both starting at t = 0: PCMU RTP of silence with a 100 ms beep at
t = 1, 2, 3, 4 s and 320x240 H.264 RTP at 25 fps, black but for three white
frames from t = 1, 2, 3, 4 s (tests/peers/av_sync.py). The peer's own offset
between the two is under a millisecond (SIPp's rtp_stream, used before,
started its audio up to ~100 ms late once in a few calls). sipsrc's pads go
through AAC and H.264 into rtmppubsink and nginx-rtmp; ffmpeg, joined before
the publisher, pulls the stream back into an FLV. There, each flash (first
white frame, by its pts) must come within 100 ms of its beep's onset
(silencedetect, by the audio's pts): what a viewer of the stream would see.
"""

from sipsrc_case import (SipsrcTestCase, Sipp, NginxRtmp, GstLaunch, main,  # noqa: F401
                         sipsrc, wait_until, PCMU_H264_TO_RTMP, PUBLISHING)
import peers
import av_sync



class SipsrcAvSyncTest(SipsrcTestCase):

    def test_audio_beeps_and_video_flashes_stay_within_100_ms_through_rtmp(self):
        with NginxRtmp() as nginx, \
                Sipp(av_sync.SCENARIO, duration_ms=int(av_sync.LENGTH_S * 1000) + 1000,
                     video_port=peers.free_port(2), files=av_sync.callee_files()) as uas:
            url = nginx.url(stream="avsync")
            flv = self.tmp / "pulled.flv"
            pull = av_sync.start_pull(url, flv)
            self.addCleanup(peers._terminate, pull)
            wait_until(lambda: "<name>avsync</name>" in nginx.stat(), 10,
                       "ffmpeg waiting on live/avsync", pull)

            pipeline = sipsrc(uas.uri(), video="recvonly", codecs="PCMU,H264") + " " + \
                PCMU_H264_TO_RTMP.format(url=url)
            with GstLaunch(pipeline) as g:
                self.assertTrue(g.wait_for(PUBLISHING, 15), "not publishing\n" + g.output())
                err = av_sync.finish_pull(pull)
                r = g.wait(20)
            self.assertEqual(pull.returncode, 0, "ffmpeg: %s\n%s" % (err, r))
            self.assertEqual(r.returncode, 0, str(r))
            self.assertSippPassed(uas)

        av_sync.flash_beep_offsets(self, flv)


if __name__ == "__main__":
    main()
