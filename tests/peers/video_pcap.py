"""H.264 RTP captures for SIPp's `play_pcap_video`, encoded by GStreamer.

GStreamer encodes a moving test picture (x264, an IDR every `key_int`
frames, SPS/PPS before each IDR, no B-frames), packetizes it as RTP
(RFC 6184, packetization-mode=1) and sends it, as fast as it goes, to a
UDP socket of this process on 127.0.0.1; each packet is then given the
send time its RTP timestamp says (90 kHz clock) and the whole is written
as a pcap by rtp_pcap.write_pcap, so SIPp replays it at the picture's pace.
(Not `rtpstreampay ! filesink`: in GStreamer 1.22 it loses packets of the
payloader's buffer lists and writes raw H.264 in the stream.)

    write_h264_pcap(path, seconds=6)

h264_rtp_packets_of_frames encodes given raw I420 pictures instead (e.g.
black ones with white flashes at known times, i420_frame), fed to GStreamer
on its stdin through fdsrc ! rawvideoparse.
"""

import struct

import rtp_pcap

H264_PT = 96
CLOCK = 90000


def _capture(source, stdin_data=None, pt=H264_PT, mtu=1200, key_int=30, env=None):
    """[(send time in s, RTP packet)] of the raw video `source` (gst-launch
    words) encoded, packetized and sent to a UDP socket of this process."""
    datagrams = rtp_pcap.gst_rtp_datagrams(
        source + ["!", "x264enc", "tune=zerolatency", "key-int-max=%d" % key_int,
                  "bframes=0", "!",
                  "rtph264pay", "pt=%d" % pt, "mtu=%d" % mtu, "config-interval=-1"],
        stdin_data=stdin_data, env=env)

    packets = []
    first_ts = None
    for rtp in datagrams:
        (ts,) = struct.unpack_from("!I", rtp, 4)
        if first_ts is None:
            first_ts = ts
        packets.append((((ts - first_ts) & 0xFFFFFFFF) / float(CLOCK), rtp))
    if not packets:
        raise RuntimeError("GStreamer produced no H.264 RTP packet")
    seqs = [struct.unpack_from("!H", rtp, 2)[0] for _, rtp in packets]
    if any((b - a) & 0xFFFF != 1 for a, b in zip(seqs, seqs[1:])):
        raise RuntimeError("H.264 RTP capture lost packets (receive buffer too small?)")
    return packets


def h264_rtp_packets(seconds=6.0, fps=25, width=320, height=240, key_int=30,
                     pt=H264_PT, mtu=1200, env=None):
    """[(send time in s, RTP packet)] of `seconds` of H.264 video."""
    frames = int(round(seconds * fps))
    return _capture(["videotestsrc", "num-buffers=%d" % frames, "pattern=ball", "!",
                     "video/x-raw,width=%d,height=%d,framerate=%d/1" % (width, height, fps)],
                    pt=pt, mtu=mtu, key_int=key_int, env=env)


def i420_frame(width, height, luma, chroma=128):
    """One raw I420 picture of a single colour (luma 16 is black, 235 white)."""
    return bytes([luma]) * (width * height) + bytes([chroma]) * (2 * (width // 2) * (height // 2))


def h264_rtp_packets_of_frames(frames, fps=25, width=320, height=240, key_int=30,
                               pt=H264_PT, mtu=1200, env=None):
    """[(send time in s, RTP packet)] of the given raw I420 pictures (bytes each,
    see i420_frame), frame n at n / fps s: the packets of frame n are sent at
    that time."""
    return _capture(["fdsrc", "fd=0", "!",
                     "rawvideoparse", "width=%d" % width, "height=%d" % height,
                     "format=i420", "framerate=%d/1" % fps],
                    stdin_data=b"".join(frames), pt=pt, mtu=mtu, key_int=key_int, env=env)


def write_h264_pcap(path, seconds=6.0, **kwargs):
    """A pcap of `seconds` of H.264 RTP (see h264_rtp_packets) for play_pcap_video."""
    return rtp_pcap.write_pcap(path, h264_rtp_packets(seconds, **kwargs))
