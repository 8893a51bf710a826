"""Shared pieces of the sipsrc integration tests (docs/sipsrc-contract.md).

The tests run real gst-launch-1.0 pipelines against real peers on 127.0.0.1
and assert what a user sees: the tone that comes out, the `sip-call`
messages, the error and its SIP status, and what the peer saw on the wire.
"""

import os
import re
import subprocess
import sys
import tempfile
import shutil
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
import peers  # noqa: E402
from peers import (Sipp, NginxRtmp, Baresip, GstLaunch, gst_launch,  # noqa: E402,F401
                   make_tone_wav, dominant_frequency, pull_rtmp, wait_until,
                   TONE_HZ, EARLY_TONE_HZ, LOOPBACK, build_dir, parse_structure_fields)

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
        'failed' message carrying `status` as its sip-status (or, when
        gst-launch-1.0 ended before printing that message, an error whose
        text names `status`).

        gst-launch-1.0 1.22 prints neither the error's details structure nor,
        with -m, the error message itself: the `sip-error` details can only be
        checked when a later gst-launch prints them (then they must match too)."""
        self.assertIsNotNone(result.returncode, "pipeline hung\n%s%s" % (result, ctx))
        self.assertNotEqual(result.returncode, 0, "pipeline did not fail\n%s%s" % (result, ctx))
        self.assertTrue([e for e in result.errors() if "GstSipSrc" in e["text"]],
                        "no error from sipsrc\n%s%s" % (result, ctx))
        failed = [m for m in result.element_messages("sip-call") if m.get("state") == "failed"]
        if failed:
            self.assertEqual(failed[-1].get("sip-status"), status,
                             "sip-call failed message %s\n%s%s" % (failed[-1], result, ctx))
        else:
            # A call that fails within milliseconds: gst-launch-1.0 quits its
            # loop from its bus's sync handler on the error, so the 'failed'
            # message posted just before it may never reach -m's printing
            # (the async watch). The error's own text carries the status.
            self.assertTrue([e for e in result.errors()
                             if "SIP call failed: %d " % status in e["text"]],
                            "no sip-call 'failed' message and no error with %d\n%s%s" %
                            (status, result, ctx))
        for got in result.error_statuses():
            self.assertEqual(got, status, "sip-error details\n%s%s" % (result, ctx))

    def assertSippPassed(self, sipp, ctx=""):
        rc = sipp.wait()
        self.assertEqual(rc, 0, "SIPp scenario %s failed%s%s" % (sipp.scenario.name,
                                                                  ctx, sipp.report()))


class CallsDriver(GstLaunch):
    """build/tests/calls-driver: one pipeline per call in one process, whose
    output reads like gst-launch-1.0 -m's. Closing its stdin stops the calls
    still running (stop()). wrapper: a command prefix, e.g. ['unshare', '-n'].

    Also the driver for a call that fails at once: gst-launch-1.0 (1.22)
    quits its main loop from its bus's sync handler, and an error posted
    before it enters g_main_loop_run() is lost (GLib ignores a quit before
    the run): it then waits forever. The driver's bus watch has no window."""

    def __init__(self, pipelines, env=None, stagger_ms=1000, wrapper=()):
        super().__init__([], env=env, eos_on_shutdown=False)
        self.cmd = list(wrapper) + [str(build_dir() / "tests" / "calls-driver"),
                                    "--stagger-ms", str(stagger_ms)] + list(pipelines)
        self.stdin = subprocess.PIPE

    def stop(self):
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()


class Calls:
    """What the driver printed, by element name (sipsrc name=healthy ...)."""

    def __init__(self, result):
        self.result = result

    def messages(self, element, name="sip-call"):
        rx = re.compile(r'Got message #\d+ from element "%s" \(element\): %s, (.*)$' %
                        (re.escape(element), re.escape(name)))
        return [parse_structure_fields(m.group(1))
                for m in map(rx.search, self.result.stdout.splitlines()) if m]

    def states(self, element):
        return [m.get("state") for m in self.messages(element)]

    def failed(self, element):
        """The sip-call 'failed' message of that call, or None."""
        failed = [m for m in self.messages(element) if m.get("state") == "failed"]
        return failed[-1] if failed else None

    def ended(self, index):
        """How pipeline `index` (from 1) ended: 'eos', 'error', 'stopped'."""
        return self.ending(index)[0]

    def ending(self, index):
        """(how, after how many seconds from its start) pipeline `index` ended."""
        m = re.search(r"^pipeline %d ended: (\w+) after ([\d.]+) s$" % index,
                      self.result.stdout, re.MULTILINE)
        return (m.group(1), float(m.group(2))) if m else (None, None)

    def errors(self, element):
        return re.findall(r"^ERROR: from element %s: (.*)$" % re.escape(element),
                          self.result.stdout, re.MULTILINE)

    def stats(self, element):
        m = re.search(r"^stats %s (.*)$" % re.escape(element), self.result.stdout,
                      re.MULTILINE)
        return parse_structure_fields(m.group(1)) if m else {}

    def lateness_ms(self, element):
        m = re.search(r"^lateness %s max-ms=([\d.-]+) buffers=(\d+)$" % re.escape(element),
                      self.result.stdout, re.MULTILINE)
        return (float(m.group(1)), int(m.group(2))) if m else (None, 0)


def main():
    unittest.main(verbosity=2)
