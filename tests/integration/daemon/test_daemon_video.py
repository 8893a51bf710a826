"""sip2rtmpd publishes video: the callee's H.264, or a generated track on request.

Real daemon over real HTTP; SIPp callees (answer_pcmu_h264_bye.xml replays a
GStreamer-encoded H.264 capture, tests/peers/video_pcap.py); nginx-rtmp;
ffprobe and ffmpeg read the published stream back.
"""

import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, call_body, pull_rtmp,  # noqa: E402
                    dominant_frequency, free_port, wait_until, LOOPBACK)
from peers import TONE_HZ, _terminate  # noqa: E402
import av_sync  # noqa: E402
from rtcp_feedback import RtcpListener  # noqa: E402
import rtp_pcap  # noqa: E402
import video_pcap  # noqa: E402

CALLEE_VIDEO = (320, 240)
STILL_VIDEO = (640, 360)


def probe_streams(url):
    """Sorted 'codec,type[,width,height]' of each stream ffprobe finds."""
    r = subprocess.run(["ffprobe", "-v", "error", "-rw_timeout", "8000000",
                        "-show_entries", "stream=codec_type,codec_name,width,height",
                        "-of", "csv=p=0", url],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    return sorted(line.strip().rstrip(",") for line in r.stdout.splitlines()
                  if line.strip()), r.stderr


class DaemonVideoTest(unittest.TestCase):

    def assertTone(self, wav, hz):
        got = dominant_frequency(str(wav))
        self.assertIsNotNone(got, "silence in %s" % wav)
        self.assertAlmostEqual(got, hz, delta=hz * 0.03,
                               msg="tone %.1f Hz, expected %d Hz" % (got, hz))

    def assertStreams(self, url, video_size):
        streams, err = probe_streams(url)
        self.assertEqual(streams, ["aac,audio", "h264,video,%d,%d" % video_size],
                         "ffprobe found %s (%s)" % (streams, err[-1000:]))

    def test_wcs4_call_with_video_publishes_the_callees_h264_and_tone(self):
        packets = video_pcap.h264_rtp_packets(10, width=CALLEE_VIDEO[0],
                                              height=CALLEE_VIDEO[1])
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_pcmu_h264_bye.xml", duration_ms=9000,
                     video_port=free_port(2),
                     files={"h264.pcap": lambda p: rtp_pcap.write_pcap(p, packets)}) as sipp:
            body = {"callId": "video-1", "callee": LOOPBACK,
                    "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                    "rtmpStream": "withVideo", "hasAudio": "true", "hasVideo": "true",
                    "connection": {"sipLogin": "u", "sipDomain": LOOPBACK,
                                   "sipPort": str(sipp.port), "appKey": "callApp"}}
            r = d.post("/RESTCall/call", body)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["hasVideo"], "true")

            ev.wait_call("video-1", stream="PUBLISHING")
            nginx.wait_publishing("withVideo")
            url = nginx.url(stream="withVideo")
            self.assertStreams(url, CALLEE_VIDEO)
            res = pull_rtmp(url, 2, sipp.dir / "out.wav")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertTone(sipp.dir / "out.wav", TONE_HZ)

            call = d.get("/api/v1/calls/video-1").json
            self.assertEqual((call["audioCodec"], call["videoCodec"]), ("PCMU", "H264"))
            # the callee hangs up at the end of its capture
            ev.wait_call("video-1", status="FINISH", stream="UNPUBLISHED", timeout=30)
            self.assertEqual(sipp.wait(), 0, sipp.report())

    # What a viewer of the CDN sees: each white flash of the callee's video
    # within 100 ms of its audio beep (tests/peers/av_sync.py), through the
    # default template (AAC audio, H.264 passed through).
    def test_the_callees_beeps_and_flashes_stay_within_100_ms_on_the_cdn(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp(av_sync.SCENARIO, duration_ms=int(av_sync.LENGTH_S * 1000) + 1000,
                     video_port=free_port(2), files=av_sync.callee_files()) as sipp:
            flv = sipp.dir / "pulled.flv"
            pull = av_sync.start_pull(nginx.url(stream="avsync"), flv)
            self.addCleanup(_terminate, pull)
            wait_until(lambda: "<name>avsync</name>" in nginx.stat(), 10,
                       "ffmpeg waiting on live/avsync", pull)

            r = d.post("/api/v1/calls", call_body(sipp, nginx, "avsync", callId="av-1",
                                                  hasVideo="false"))
            self.assertEqual(r.status, 201, r)
            err = av_sync.finish_pull(pull)
            self.assertEqual(pull.returncode, 0, "ffmpeg: %s\n%s" % (err, d.log()))
            ev.wait_call("av-1", status="FINISH", timeout=30)
            call = d.get("/api/v1/calls/av-1").json
            self.assertEqual((call["audioCodec"], call["videoCodec"]), ("PCMU", "H264"))
            self.assertEqual(sipp.wait(), 0, sipp.report())
            av_sync.flash_beep_offsets(self, flv)

    # The default template's depayloader asks for a keyframe on loss: the
    # callee gets an RTCP PLI for its first video packet and one after a
    # packet of its video is lost (2 s in).
    def test_loss_in_the_callees_video_asks_it_for_a_keyframe(self):
        video = video_pcap.h264_rtp_packets(4, width=CALLEE_VIDEO[0], height=CALLEE_VIDEO[1])
        lost = min(range(len(video)), key=lambda i: abs(video[i][0] - 2.0))
        lossy = video[:lost] + video[lost + 1:]
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, RtcpListener() as rtcp, \
                Sipp("answer_pcmu_h264_bye.xml", duration_ms=4500, video_port=rtcp.rtp_port,
                     files={"h264.pcap": lambda p: rtp_pcap.write_pcap(p, lossy)}) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "lossy", callId="loss-1",
                                                  hasVideo="false"))
            self.assertEqual(r.status, 201, r)
            ev.wait_call("loss-1", status="FINISH", timeout=30)
            self.assertEqual(sipp.wait(), 0, sipp.report())
            pli = [round(t - rtcp.pli_times()[0], 2) for t in rtcp.pli_times()]
        self.assertTrue([t for t in pli if 1.8 < t < 2.5],
                        "PLIs at %s s after the first: none after the loss at 2 s" % pli)

    def test_generate_video_gives_an_audio_only_call_a_640x360_h264_track(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": 700}) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "still",
                                                  generateVideo=True))
            self.assertEqual(r.status, 201, r)
            self.assertIs(r.json["generateVideo"], True)
            call_id = r.json["callId"]

            ev.wait_call(call_id, stream="PUBLISHING")
            nginx.wait_publishing("still")
            url = nginx.url(stream="still")
            self.assertStreams(url, STILL_VIDEO)
            res = pull_rtmp(url, 2, sipp.dir / "out.wav")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertTone(sipp.dir / "out.wav", 700)
            self.assertIsNone(d.get("/api/v1/calls/%s" % call_id).json["videoCodec"])

            self.assertIn(d.delete("/api/v1/calls/%s" % call_id).status, (200, 202))
            ev.wait_call(call_id, status="FINISH", stream="UNPUBLISHED")
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_still_video_in_the_config_is_the_default_of_wcs_calls(self):
        with NginxRtmp() as nginx, Daemon("[rtmp]\nstill-video=true\n") as d, \
                d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": 900}) as sipp:
            body = {"callId": "wcs5-still", "callee": "service@%s" % sipp.host_port,
                    "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                    "rtmpStream": "w5still", "hasAudio": "true", "hasVideo": "false"}
            r = d.post("/rest-api/call/startup", body)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["generateVideo"], "true")

            ev.wait_call("wcs5-still", stream="PUBLISHING")
            nginx.wait_publishing("w5still")
            url = nginx.url(stream="w5still")
            self.assertStreams(url, STILL_VIDEO)
            res = pull_rtmp(url, 2, sipp.dir / "out.wav")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertTone(sipp.dir / "out.wav", 900)

            r = d.post("/rest-api/call/terminate", {"callId": "wcs5-still"})
            self.assertEqual(r.status, 200, r)
            ev.wait_call("wcs5-still", status="FINISH", stream="UNPUBLISHED")
            self.assertEqual(sipp.wait(), 0, sipp.report())


if __name__ == "__main__":
    unittest.main(verbosity=2)
