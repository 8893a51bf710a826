"""RTP captures for SIPp's `play_pcap_audio`, written without any library.

SIPp replays the UDP payloads of a pcap file to the media address of the
caller's SDP, at the capture's pace.  These helpers build such a capture:
PCMU tone packets and RFC 4733 telephone-event (DTMF) packets, as a classic
libpcap file (Ethernet, IPv4, UDP).

    write_pcap(path, dtmf_packets("159#", tone_hz=1000))
"""

import math
import socket
import struct
import subprocess

PCMU_PT = 0
TELEPHONE_EVENT_PT = 101
CLOCK = 8000
PTIME = 0.020
SAMPLES = int(CLOCK * PTIME)            # 160 per 20 ms packet
DTMF_EVENTS = {d: i for i, d in enumerate("0123456789*#ABCD")}


def _linear_to_ulaw(sample):
    """G.711 u-law of a 16-bit sample (ITU-T G.711, with the usual bias)."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    if sample < 0:
        sample = -sample
    sample = min(sample, clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def rtp_packet(pt, seq, ts, ssrc, payload, marker=False):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt,
                       seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload


class RtpStream:
    """One RTP stream (one SSRC, one sequence) with a send time per packet."""

    def __init__(self, ssrc=0x5150CAFE, seq=1000, ts=160000):
        self.ssrc = ssrc
        self.seq = seq
        self.ts = ts            # timestamp of the next audio packet
        self.t = 0.0            # send time of the next packet (s)
        self.phase = 0
        self.packets = []       # (time, RTP bytes)

    def _add(self, pt, ts, payload, marker=False):
        self.packets.append((self.t, rtp_packet(pt, self.seq, ts, self.ssrc,
                                                payload, marker)))
        self.seq += 1

    def tone(self, seconds, hz, amplitude=16000):
        """PCMU packets of a sine tone, 20 ms each."""
        for _ in range(int(round(seconds / PTIME))):
            payload = bytes(_linear_to_ulaw(int(amplitude * math.sin(
                2 * math.pi * hz * (self.phase + i) / CLOCK))) for i in range(SAMPLES))
            self.phase += SAMPLES
            self._add(PCMU_PT, self.ts, payload)
            self.ts += SAMPLES
            self.t += PTIME

    def dtmf(self, digit, seconds=0.16, volume=10):
        """One RFC 4733 event as phones send it: a packet every 20 ms with the
        event's start timestamp and a growing duration (marker on the first),
        then the end packet three times; audio is not sent meanwhile."""
        event = DTMF_EVENTS[digit]
        start = self.ts
        n = int(round(seconds / PTIME))
        for i in range(1, n + 1):
            self._add(TELEPHONE_EVENT_PT, start,
                      struct.pack("!BBH", event, volume, i * SAMPLES), marker=(i == 1))
            self.t += PTIME
        for _ in range(3):
            self._add(TELEPHONE_EVENT_PT, start,
                      struct.pack("!BBH", event, 0x80 | volume, n * SAMPLES))
        self.ts += n * SAMPLES


def dtmf_packets(digits, tone_hz=1000, lead=1.0, gap=0.2, tail=1.0, event_seconds=0.16):
    """`lead` s of tone, each digit followed by `gap` s of tone, `tail` s of tone."""
    s = RtpStream()
    s.tone(lead, tone_hz)
    for d in digits:
        s.dtmf(d, event_seconds)
        s.tone(gap, tone_hz)
    s.tone(tail, tone_hz)
    return s.packets


def _ip_checksum(header):
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def write_pcap(path, packets, src=("127.0.0.1", 40000), dst=("127.0.0.1", 6000)):
    """A libpcap file (link type Ethernet) of UDP datagrams.

    packets: [(time in s, UDP payload)].  SIPp replaces the addresses and the
    destination port when it replays the file; the times set the pace.
    """
    def ip(a):
        return bytes(int(x) for x in a.split("."))
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for ident, (t, payload) in enumerate(packets):
        udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xFFFF, 0,
                          64, 17, 0, ip(src[0]), ip(dst[0]))
        iph = iph[:10] + struct.pack("!H", _ip_checksum(iph)) + iph[12:]
        frame = b"\x00" * 12 + b"\x08\x00" + iph + udp
        sec = int(t)
        usec = min(int(round((t - sec) * 1e6)), 999999)
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    with open(path, "wb") as f:
        f.write(b"".join(out))
    return path


def gst_rtp_datagrams(words, stdin_data=None, env=None):
    """The RTP datagrams a gst-launch-1.0 pipeline (`words`, ending in an RTP
    payloader) sends, as fast as it goes, to a UDP socket of this process on
    127.0.0.1. For captures of codecs this module cannot write by hand."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # the whole capture fits in the receive buffer: nothing is read until the end
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind(("127.0.0.1", 0))
        cmd = ["gst-launch-1.0", "-q"] + list(words) + [
            "!", "udpsink", "host=127.0.0.1", "port=%d" % sock.getsockname()[1],
            "sync=false"]
        if stdin_data is None:
            subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60, env=env)
        else:
            subprocess.run(cmd, check=True, input=stdin_data, capture_output=True,
                           timeout=60, env=env)
        sock.setblocking(False)
        datagrams = []
        while True:
            try:
                datagrams.append(sock.recv(65536))
            except BlockingIOError:
                return datagrams
    finally:
        sock.close()
