#!/usr/bin/env python3
"""rtmppubsink publishes over rtmps:// as well as over rtmp://.

The server is nginx-rtmp behind a TLS front end (nginx's stream module,
NginxRtmp(tls=True)) with a self-signed certificate made by openssl for
127.0.0.1, as CDNs terminate RTMPS in front of their RTMP ingest. The
publisher trusts that certificate the way OpenSSL programs are told about a
private CA: SSL_CERT_FILE. What is published is pulled back over plain RTMP
from nginx-rtmp and the tone checked. A certificate nobody said to trust must
be refused, not published to; so must a trusted certificate made for another
host name than the one in the URL.
"""

import re
import shutil
import subprocess
import sys
import tempfile
import os
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
from peers import (NginxRtmp, GstLaunch, GstResult, gst_env,  # noqa: E402
                   dominant_frequency, pull_rtmp, LOOPBACK)

TONE_HZ = 700
TONE = ("audiotestsrc is-live=true freq=%d ! audioconvert ! "
        "audio/x-raw,rate=48000,channels=1 ! voaacenc ! aacparse ! "
        "rtmppubsink name=pub location={location} {props}" % TONE_HZ)
PUBLISHING = r"rtmp-publish, id=\(uint\)1, [^\n]*state=\(string\)publishing"
FAILED = r"rtmp-publish, id=\(uint\)1, [^\n]*state=\(string\)failed"


def states(text):
    return [m.get("state") for m in
            GstResult(0, text, "", 0).element_messages("rtmp-publish")]


class RtmpPubSinkTlsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        r = subprocess.run(["gst-inspect-1.0", "rtmppubsink"], env=gst_env(),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError("rtmppubsink not available (GST_PLUGIN_PATH=%s)" %
                                 gst_env()["GST_PLUGIN_PATH"])

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="sip2rtmp-test-"))
        if os.environ.get("SIP2RTMP_KEEP_TEMP") != "1":
            self.addCleanup(shutil.rmtree, self.tmp, True)
        self.nginx = NginxRtmp(tls=True)
        self.nginx.__enter__()
        self.addCleanup(self.nginx.close)

    def test_rtmps_through_a_tls_front_end_carries_the_tone(self):
        n = self.nginx
        location = n.rtmps_url(stream="secure")
        with GstLaunch(TONE.format(location=location, props=""),
                       env={"SSL_CERT_FILE": str(n.cert)}) as g:
            self.assertTrue(g.wait_for(PUBLISHING, 10),
                            "not publishing over rtmps\n%s\n--- nginx ---\n%s" %
                            (g.output()[-3000:], n.error_log.read_text()[-2000:]))
            n.wait_publishing("secure", timeout=5)
            wav = self.tmp / "pulled.wav"
            r = pull_rtmp(n.url(stream="secure"), 3, wav)
            self.assertEqual(r.returncode, 0, "ffmpeg: %s" % r.stderr[-2000:])
            got = dominant_frequency(wav)
            self.assertIsNotNone(got, "silence pulled back")
            self.assertAlmostEqual(got, TONE_HZ, delta=TONE_HZ * 0.03,
                                   msg="pulled %.1f Hz, expected %d Hz" % (got, TONE_HZ))
            g.interrupt()
            result = g.wait(10)
        self.assertEqual(result.returncode, 0, "no clean stop\n%s" % result)
        msgs = GstResult(0, result.stdout, "", 0).element_messages("rtmp-publish")
        self.assertEqual(msgs[0]["location"], "rtmps://%s:%d/live/***" % (LOOPBACK, n.tls_port))
        self.assertNotIn("failed", [m["state"] for m in msgs])

    def assertRefused(self, nginx, stream, cert_file):
        """Publishing to `stream` over rtmps, trusting `cert_file`, ends
        failed (retry budget 2 s) without ever publishing, and stops cleanly."""
        with GstLaunch(TONE.format(location=nginx.rtmps_url(stream=stream),
                                   props="retry-budget=2"),
                       env={"SSL_CERT_FILE": cert_file}) as g:
            self.assertTrue(g.wait_for(FAILED, 10), "no failed message\n" + g.output())
            g.interrupt()
            result = g.wait(10)
        self.assertEqual(result.returncode, 0, "no clean stop\n%s" % result)
        self.assertNotIn("publishing", states(result.stdout))
        self.assertFalse(nginx.is_publishing(stream))

    def test_a_certificate_nobody_trusts_is_refused(self):
        n = self.nginx
        # no SSL_CERT_FILE: the self-signed certificate is trusted by no one
        self.assertRefused(n, "untrusted", "/nonexistent")
        self.assertTrue(re.search(r"SSL_do_handshake\(\) failed .*(unknown ca|"
                                  r"certificate)", n.error_log.read_text()),
                        "the TLS front end saw no refused certificate:\n%s" %
                        n.error_log.read_text()[-2000:])

    def test_a_trusted_certificate_for_another_host_name_is_refused(self):
        # trusted (SSL_CERT_FILE), but made for other.example, not 127.0.0.1
        other = NginxRtmp(tls=True, cert_name="other.example")
        other.__enter__()
        self.addCleanup(other.close)
        self.assertRefused(other, "wrongname", str(other.cert))
        # the handshake got as far as the certificate, which was refused
        # for its name (alert 42), not for its issuer (unknown ca)
        log = other.error_log.read_text()
        self.assertRegex(log, r"SSL_do_handshake\(\) failed .*bad certificate")
        self.assertNotIn("unknown ca", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
