"""SRTP (SDES, RFC 4568) for the tests and the bench, through libsrtp.

build/tests/srtp-tool (tests/integration/srtp-tool.c) does the crypto with
libsrtp, the reference implementation: what sipsrc sends is decrypted, and
what SIPp replays to it encrypted, by another implementation than its own.

    key = new_key()                                  # base64, 40 characters
    line = crypto_attr(1, SUITE_80, key)             # "1 AES_CM_... inline:..."
    protected = protect(SUITE_80, key, rtp_packets)  # [bytes]
    plain = unprotect(SUITE_80, key, datagrams)      # [bytes or None]
"""

import base64
import os
import re
import struct
import subprocess

from peers import build_dir, PeerError

SUITE_80 = "AES_CM_128_HMAC_SHA1_80"
SUITE_32 = "AES_CM_128_HMAC_SHA1_32"
TAG_LEN = {SUITE_80: 10, SUITE_32: 4}


def tool():
    path = build_dir() / "tests" / "srtp-tool"
    if not path.exists():
        raise PeerError("%s missing: build with libsrtp2-dev installed" % path)
    return path


def new_key():
    """A fresh master key and salt, base64 (what an a=crypto line carries)."""
    return base64.b64encode(os.urandom(30)).decode()


def crypto_attr(tag, suite, key):
    """The value of an a=crypto attribute."""
    return "%d %s inline:%s" % (tag, suite, key)


def crypto_attrs(sdp):
    """[(tag, suite, key)] of the a=crypto lines of an SDP body."""
    return [(int(t), s, k) for t, s, k in
            re.findall(r"^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)", sdp, re.MULTILINE)]


def _run(mode, suite, key, datagrams):
    data = b"".join(struct.pack("!H", len(d)) + d for d in datagrams)
    r = subprocess.run([str(tool()), mode, suite, key], input=data, capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        raise PeerError("srtp-tool %s failed: %s" % (mode, r.stderr.decode(errors="replace")))
    out, pos = [], 0
    while pos + 2 <= len(r.stdout):
        n = struct.unpack("!H", r.stdout[pos:pos + 2])[0]
        out.append(r.stdout[pos + 2:pos + 2 + n] or None)
        pos += 2 + n
    return out


def protect(suite, key, packets):
    """SRTP of RTP packets, in order (one stream context)."""
    return _run("protect", suite, key, packets)


def unprotect(suite, key, datagrams):
    """Plain RTP of SRTP datagrams, None for each that fails (forged,
    replayed, not SRTP of this key)."""
    return _run("unprotect", suite, key, datagrams)


def unprotect_rtcp(suite, key, datagrams):
    return _run("unprotect-rtcp", suite, key, datagrams)


def protect_rtcp(suite, key, packets):
    return _run("protect-rtcp", suite, key, packets)
