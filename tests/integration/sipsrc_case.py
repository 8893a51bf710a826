"""Shared pieces of the sipsrc integration tests (docs/sipsrc-contract.md).

The tests run real gst-launch-1.0 pipelines against real peers on 127.0.0.1
and assert what a user sees: the tone that comes out, the `sip-call`
messages, the error and its SIP status, and what the peer saw on the wire.
"""

import os
import sys
import tempfile
import shutil
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
import peers  # noqa: E402
from peers import (Sipp, NginxRtmp, Baresip, GstLaunch, gst_launch,  # noqa: E402,F401
                   make_tone_wav, dominant_frequency, pull_rtmp, wait_until,
                   TONE_HZ, EARLY_TONE_HZ, LOOPBACK)

# The decode chain after a PCMU pad: 8 kHz mono 16-bit WAV.
TO_WAV = ("audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=8000,channels=1 "
          "! wavenc ! filesink location={wav}")
PCMU_TO_WAV = "src. ! rtppcmudepay ! mulawdec ! " + TO_WAV
PCMA_TO_WAV = "src. ! rtppcmadepay ! alawdec ! " + TO_WAV
# sipsrc's PCMU and H.264 pads, audio to AAC and H.264 passed through, into
# rtmppubsink (its first destination's state in PUBLISHING)
PCMU_H264_TO_RTMP = (
    "rtmppubsink name=pub location={url} "
    "src. ! rtppcmudepay ! mulawdec ! audioconvert ! audioresample "
    "! audio/x-raw,rate=48000,channels=1 ! voaacenc bitrate=64000 ! aacparse ! pub.audio "
    "src. ! rtph264depay ! h264parse ! pub.video")
PUBLISHING = r"rtmp-publish, id=\(uint\)1, [^\n]*state=\(string\)publishing"


def sipsrc(uri, **props):
    """`sipsrc name=src uri=... prop=value ...` (underscores become dashes)."""
    parts = ["sipsrc", "name=src", "uri=%s" % uri]
    for k, v in props.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        parts.append("%s=%s" % (k.replace("_", "-"), v))
    return " ".join(parts)


def is_subsequence(wanted, seq):
    it = iter(seq)
    return all(any(x == w for x in it) for w in wanted)


class SipsrcTestCase(unittest.TestCase):
    """Base class: a temp dir per test, and sipsrc must be loadable."""

    @classmethod
    def setUpClass(cls):
        if not peers.sipsrc_available():
            raise AssertionError(
                "the sipsrc element is not available (GST_PLUGIN_PATH=%s): build it with "
                "`meson setup build && ninja -C build`" % peers.gst_env()["GST_PLUGIN_PATH"])

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="sip2rtmp-test-"))
        if os.environ.get("SIP2RTMP_KEEP_TEMP") != "1":
            self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_to_wav(self, uri, decode=PCMU_TO_WAV, timeout=25, verbose=False, env=None,
                   **props):
        wav = self.tmp / "out.wav"
        args = sipsrc(uri, **props) + " " + decode.format(wav=wav)
        return gst_launch(("-v " if verbose else "") + args, env=env, timeout=timeout), wav

    # --- assertions on what a user sees

    def assertTone(self, wav, hz, start=0.0, duration=None, ctx=""):
        got = dominant_frequency(wav, start, duration)
        self.assertIsNotNone(got, "no audio in %s from %.1f s %s" % (wav.name, start, ctx))
        self.assertAlmostEqual(got, hz, delta=hz * 0.03,
                               msg="tone %.1f Hz, expected %d Hz %s" % (got, hz, ctx))

    def assertStates(self, result, wanted):
        states = result.sip_call_states()
        self.assertTrue(is_subsequence(wanted, states),
                        "sip-call states %s do not contain %s in order\n%s" %
                        (states, wanted, result))

    def assertFailedWith(self, result, status, ctx=""):
        """The pipeline failed with an error from sipsrc, after a sip-call
        'failed' message carrying `status` as its sip-status.

        gst-launch-1.0 1.22 prints neither the error's details structure nor,
        with -m, the error message itself: the `sip-error` details can only be
        checked when a later gst-launch prints them (then they must match too)."""
        self.assertIsNotNone(result.returncode, "pipeline hung\n%s%s" % (result, ctx))
        self.assertNotEqual(result.returncode, 0, "pipeline did not fail\n%s%s" % (result, ctx))
        self.assertTrue([e for e in result.errors() if "GstSipSrc" in e["text"]],
                        "no error from sipsrc\n%s%s" % (result, ctx))
        failed = [m for m in result.element_messages("sip-call") if m.get("state") == "failed"]
        self.assertTrue(failed, "no sip-call 'failed' message\n%s%s" % (result, ctx))
        self.assertEqual(failed[-1].get("sip-status"), status,
                         "sip-call failed message %s\n%s%s" % (failed[-1], result, ctx))
        for got in result.error_statuses():
            self.assertEqual(got, status, "sip-error details\n%s%s" % (result, ctx))

    def assertSippPassed(self, sipp, ctx=""):
        rc = sipp.wait()
        self.assertEqual(rc, 0, "SIPp scenario %s failed%s%s" % (sipp.scenario.name,
                                                                  ctx, sipp.report()))


def main():
    unittest.main(verbosity=2)
