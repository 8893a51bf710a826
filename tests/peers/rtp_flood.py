#!/usr/bin/python3
"""A bounded flood of garbage and malformed RTP at one UDP port (127.0.0.1).

What a hostile or broken peer sends at a call's RTP port: zero-length
datagrams, datagrams shorter than an RTP header, a version other than 2, a
CSRC count, a header extension or padding that reach beyond the packet, an
RTCP packet type, and random bytes of random length (some of which pass as
RTP of the call's payload type, from random SSRCs). The kinds take turns,
paced evenly over the given time.

    rtp_flood.py PORT [--count 20000] [--seconds 2] [--rtcp] [--seed 1]

--rtcp sends every other datagram to PORT + 1 (the RTCP port) instead.
Prints one line when done: "sent N datagrams in S s: kind=n ...".
Used by the hostile scenarios (an <exec command> once the call is up) and
importable: flood(port, ...) returns the counts by kind.
"""

import argparse
import random
import socket
import struct
import sys
import time

LOOPBACK = "127.0.0.1"


def _header(rng, version=2, padding=0, extension=0, cc=0, pt=0):
    return struct.pack("!BBHII", (version << 6) | (padding << 5) | (extension << 4) | cc,
                       pt & 0x7F, rng.getrandbits(16), rng.getrandbits(32),
                       rng.getrandbits(32))


def _payload(rng, n=160):
    return rng.randbytes(n)


# Each kind makes one datagram from a random generator.
KINDS = {
    "empty": lambda rng: b"",
    "short": lambda rng: _payload(rng, rng.randint(1, 11)),
    "bad-version": lambda rng: _header(rng, version=rng.choice((0, 1, 3))) + _payload(rng),
    # 15 CSRCs (60 bytes) announced, 8 bytes after the fixed header
    "csrc-beyond": lambda rng: _header(rng, cc=15) + _payload(rng, 8),
    # an extension header whose length (in 32-bit words) reaches far beyond
    "extension-beyond": lambda rng: (_header(rng, extension=1) +
                                     struct.pack("!HH", 0xBEDE, 0xFFFF) + _payload(rng, 8)),
    # the last byte counts the padding: more than the whole packet
    "padding-beyond": lambda rng: _header(rng, padding=1) + _payload(rng, 20) + b"\xff",
    # the padding count is zero (RFC 3550: at least one, itself)
    "padding-zero": lambda rng: _header(rng, padding=1) + _payload(rng, 20) + b"\x00",
    # an RTCP SR's packet type, as a muxed peer might send it
    "rtcp-type": lambda rng: struct.pack("!BBH", 0x80, 200, 6) + _payload(rng, 24),
    "random": lambda rng: _payload(rng, rng.randint(0, 1400)),
}


def flood(port, count=20000, seconds=2.0, rtcp=False, seed=1, host=LOOPBACK):
    """Send `count` datagrams to host:port over `seconds`; counts by kind."""
    rng = random.Random(seed)
    names = sorted(KINDS)
    counts = dict.fromkeys(names, 0)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    start = time.monotonic()
    burst = 50                           # datagrams between two clock checks
    try:
        for i in range(count):
            name = names[i % len(names)]
            to = port + 1 if rtcp and i % 2 else port
            try:
                sock.sendto(KINDS[name](rng), (host, to))
                counts[name] += 1
            except OSError:
                pass                     # ICMP from a closed port: go on
            if i % burst == burst - 1:
                ahead = start + seconds * (i + 1) / count - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
    finally:
        sock.close()
    return counts, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--rtcp", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    counts, took = flood(a.port, a.count, a.seconds, a.rtcp, a.seed)
    print("sent %d datagrams in %.2f s: %s" % (
        sum(counts.values()), took, " ".join("%s=%d" % kv for kv in sorted(counts.items()))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
