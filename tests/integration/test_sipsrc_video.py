#!/usr/bin/python3
"""sipsrc receives H.264 video from a real peer and asks it for a keyframe.

The peer is SIPp (answer_pcmu_h264_bye.xml): it answers audio PCMU and video
H.264 (packetization-mode=1), plays the PCMU tone and replays a capture of
H.264 RTP encoded by GStreamer (tests/peers/video_pcap.py) to the video port
of sipsrc's offer. Its answer names, as its video address, a socket of the
test (RtcpListener), so the RTCP sipsrc sends the peer can be read: SIPp does
not act on RTCP, nor let a scenario read it.
"""

import struct
import subprocess
import time

from sipsrc_case import (SipsrcTestCase, Sipp, NginxRtmp, GstLaunch, main,  # noqa: F401
                         sipsrc, wait_until, TONE_HZ,
                         PCMU_H264_TO_RTMP, PUBLISHING)
import peers
import rtp_pcap
import video_pcap
from rtcp_feedback import RtcpListener

SCENARIO = "answer_pcmu_h264_bye.xml"
VIDEO_SIZE = (320, 240)
RECONNECTING = r"rtmp-publish, id=\(uint\)1, [^\n]*state=\(string\)reconnecting"


class SipsrcVideoTest(SipsrcTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # one capture for every test: 10 s of 320x240 at 25 fps, an IDR every 30 frames
        cls.video = video_pcap.h264_rtp_packets(10, width=VIDEO_SIZE[0],
                                                height=VIDEO_SIZE[1])
        cls.video_ssrc = struct.unpack_from("!I", cls.video[0][1], 8)[0]

    def peer(self, rtcp, duration_ms, video=None):
        video = self.video if video is None else video
        return Sipp(SCENARIO, duration_ms=duration_ms, video_port=rtcp.rtp_port,
                    files={"h264.pcap": lambda p: rtp_pcap.write_pcap(p, video)})

    def test_h264_and_the_tone_reach_rtmp_and_the_video_decodes_from_its_first_frame(self):
        with NginxRtmp() as nginx, RtcpListener() as rtcp, \
                self.peer(rtcp, duration_ms=9000) as uas:
            url = nginx.url(stream="video")
            png = self.tmp / "first.png"
            wav = self.tmp / "pulled.wav"
            # The player joins before the publisher (nginx-rtmp keeps it
            # waiting), so it sees the stream from its very first tag.
            first = subprocess.Popen(
                ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
                 "-rw_timeout", "15000000", "-i", url,
                 "-map", "0:v", "-frames:v", "1", str(png),
                 "-map", "0:a", "-t", "3", "-ac", "1", "-ar", "8000", str(wav)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)
            self.addCleanup(peers._terminate, first)
            wait_until(lambda: "<name>video</name>" in nginx.stat(), 10,
                       "ffmpeg waiting on live/video", first)

            pipeline = sipsrc(uas.uri(), video="recvonly", codecs="PCMU,H264") + " " + \
                PCMU_H264_TO_RTMP.format(url=url)
            with GstLaunch(pipeline) as g:
                self.assertTrue(g.wait_for(PUBLISHING, 15), "not publishing\n" + g.output())
                try:
                    _, err = first.communicate(timeout=20)
                except subprocess.TimeoutExpired:
                    first.kill()
                    _, err = first.communicate()
                self.assertEqual(first.returncode, 0, "ffmpeg: %s" % err)
                self.assertTrue(png.exists() and png.stat().st_size > 0, "no PNG written")
                self.assertEqual(err.strip(), "", "the decoder complained")
                self.assertTone(wav, TONE_HZ, ctx="(pulled from nginx-rtmp)")

                probe = subprocess.run(
                    ["ffprobe", "-v", "error", "-rw_timeout", "8000000",
                     "-show_entries", "stream=codec_type,codec_name,width,height",
                     "-of", "csv=p=0", url],
                    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
                # SIPp hangs up: EOS closes the RTMP stream and gst-launch ends by itself
                r = g.wait(20)
            streams = sorted(line.strip().rstrip(",") for line in probe.stdout.splitlines()
                             if line.strip())
            self.assertEqual(streams, ["aac,audio", "h264,video,%d,%d" % VIDEO_SIZE],
                             "ffprobe found %s (%s)" % (streams, probe.stderr[-1000:]))
            self.assertEqual(r.returncode, 0, str(r))
            self.assertTrue(r.got_eos(), str(r))
            self.assertSippPassed(uas)

    def test_the_first_video_packet_asks_the_peer_for_a_keyframe_with_pli(self):
        with RtcpListener() as rtcp, self.peer(rtcp, duration_ms=3000) as uas:
            pipeline = sipsrc(uas.uri(), video="recvonly", codecs="PCMU,H264") + \
                " src. ! rtppcmudepay ! fakesink src. ! rtph264depay ! fakesink"
            with GstLaunch(pipeline) as g:
                ssrc = rtcp.wait_pli(10)
                r = g.wait(20)
            self.assertIsNotNone(ssrc, "no PLI in the %d RTCP packets the peer got\n%s" %
                                 (len(rtcp.packets), r))
            self.assertEqual(ssrc, self.video_ssrc,
                             "the PLI names SSRC %08x, the peer's video is %08x" %
                             (ssrc, self.video_ssrc))
            self.assertEqual(r.returncode, 0, str(r))
            self.assertSippPassed(uas)

    # A depayloader that sees loss asks upstream for a keyframe
    # (rtph264depay request-keyframe=true, as sip2rtmpd's template does):
    # sipsrc sends the peer a PLI, and no more than one per 500 ms however
    # much is lost.
    def test_loss_asks_the_peer_for_a_keyframe_again_at_most_every_500_ms(self):
        one_loss, burst = 1.0, (2.0, 3.0)     # s into the capture
        lost = {i for i, (t, _) in enumerate(self.video)
                if abs(t - one_loss) < 0.02 or (burst[0] <= t < burst[1] and i % 4 == 0)}
        lossy = [p for i, p in enumerate(self.video) if i not in lost and p[0] < 4.0]
        with RtcpListener() as rtcp, self.peer(rtcp, duration_ms=4500, video=lossy) as uas:
            pipeline = sipsrc(uas.uri(), video="recvonly", codecs="PCMU,H264") + \
                " src. ! rtppcmudepay ! fakesink" + \
                " src. ! rtph264depay request-keyframe=true ! fakesink"
            with GstLaunch(pipeline) as g:
                self.assertIsNotNone(rtcp.wait_pli(10), "no first PLI\n" + g.output())
                r = g.wait(20)
            self.assertEqual(r.returncode, 0, str(r))
            self.assertSippPassed(uas)
            pli_at = rtcp.pli_times()

        ctx = "\nPLIs at (s after the first): %s (%d packets of %d lost)" % (
            [round(t - pli_at[0], 3) for t in pli_at], len(lost), len(self.video))
        # the first packet's, one for the single loss, then the burst's, spaced
        after = [t - pli_at[0] for t in pli_at[1:]]
        self.assertTrue([t for t in after if one_loss - 0.2 < t < one_loss + 0.5],
                        "no PLI after the loss at %.1f s%s" % (one_loss, ctx))
        in_burst = [t for t in after if burst[0] - 0.2 < t < burst[1] + 0.3]
        self.assertGreaterEqual(len(in_burst), 2, "PLIs during the burst of loss" + ctx)
        gaps = [b - a for a, b in zip(pli_at, pli_at[1:])]
        self.assertGreaterEqual(min(gaps), 0.45, "PLIs closer than 500 ms" + ctx)

    # After an outage of the RTMP server, rtmppubsink sends video from the
    # next keyframe on: it asks upstream for one as it publishes again, and
    # sipsrc sends the callee a PLI then (the capture has no loss: nothing
    # else asks), rather than the stream waiting for a periodic keyframe.
    def test_publishing_again_after_an_outage_asks_the_peer_for_a_keyframe(self):
        with NginxRtmp() as nginx, RtcpListener() as rtcp, \
                self.peer(rtcp, duration_ms=9000) as uas:
            pipeline = sipsrc(uas.uri(), video="recvonly", codecs="PCMU,H264") + " " + \
                PCMU_H264_TO_RTMP.format(url=nginx.url(stream="again"))
            with GstLaunch(pipeline) as g:
                self.assertTrue(g.wait_for(PUBLISHING, 15), "not publishing\n" + g.output())
                self.assertIsNotNone(rtcp.wait_pli(10), "no PLI for the first packet")
                # a request in the first packet's 500 ms (seen: one, at the
                # start of the stream) goes out when they are over: let it
                # go before the outage, so that what follows is the outage's
                rtcp.wait_pli_after(rtcp.pli_times()[0] + 0.01, 0.7)
                stopped = time.monotonic()
                nginx.stop()
                self.assertTrue(g.wait_for(RECONNECTING, 5), "no reconnecting\n" + g.output())
                nginx.restart()
                self.assertTrue(g.wait_for(r"(?s)(%s.*){2}" % PUBLISHING, 15),
                                "not publishing again\n" + g.output())
                again = time.monotonic()
                # within the 500 ms sipsrc keeps between two PLIs, and the trip
                pli = rtcp.wait_pli_after(stopped, 3)
                r = g.wait(20)
            self.assertEqual(r.returncode, 0, str(r))
            self.assertSippPassed(uas)
        times = [round(t - again, 2) for t in rtcp.pli_times()]
        self.assertIsNotNone(pli, "no PLI since the outage; PLIs at %s s from publishing "
                             "again" % times)
        self.assertLess(pli - again, 1.0, "PLIs at %s s from publishing again" % times)


if __name__ == "__main__":
    main()
