"""Audio RTP captures for SIPp's `play_pcap_audio`, encoded by GStreamer.

For codecs rtp_pcap.py cannot write by hand (G.722): GStreamer encodes a
tone, packetizes it as RTP and sends it, as fast as it goes, to a UDP socket
of this process on 127.0.0.1; each packet gets the send time its RTP
timestamp says, and pauses can be cut in (the RTP clock goes on, nothing
is sent: silence suppression as phones do it).

    write_pcap(path, g722_packets([(2.0, 1000), (3.0, None), (2.0, 600)]))
"""

import struct

from rtp_pcap import gst_rtp_datagrams

G722_PT = 9
G722_CLOCK = 8000          # RFC 3551: 8000 although G.722 samples at 16 kHz


def g722_packets(parts, ssrc=0x6722CAFE):
    """[(send time in s, RTP packet)]: `parts` is [(seconds, tone Hz or None
    for a pause)], one RTP stream (one SSRC, sequence and clock) throughout."""
    packets, t, seq, ts = [], 0.0, 1000, 160000
    for seconds, hz in parts:
        if hz is None:
            t += seconds
            ts += int(seconds * G722_CLOCK)
            continue
        n = int(round(seconds / 0.020))
        got = gst_rtp_datagrams(["audiotestsrc", "num-buffers=%d" % n, "samplesperbuffer=320",
                        "freq=%d" % hz, "volume=0.5", "!",
                        "audio/x-raw,rate=16000,channels=1", "!", "avenc_g722", "!",
                        "rtpg722pay", "pt=%d" % G722_PT, "max-ptime=20000000",
                        "min-ptime=20000000"])
        if len(got) < n * 0.95:
            raise RuntimeError("G.722 capture: %d packets of %d" % (len(got), n))
        for rtp in got:
            payload = rtp[12 + 4 * (rtp[0] & 0x0F):]
            packets.append((t, struct.pack("!BBHII", 0x80, G722_PT, seq & 0xFFFF,
                                           ts & 0xFFFFFFFF, ssrc) + payload))
            seq += 1
            step = len(payload)          # G.722: one byte per 8 kHz clock tick
            ts += step
            t += step / float(G722_CLOCK)
    return packets
