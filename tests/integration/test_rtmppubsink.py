#!/usr/bin/env python3
"""rtmppubsink against real nginx-rtmp servers on 127.0.0.1.

What a user sees: the tone pulled back from the server with ffmpeg, the
tracks ffprobe finds, the `rtmp-publish` messages (connecting, publishing,
reconnecting, failed, dropped-ms), the warning when the retry budget is
spent, the error naming `location`, and never the stream key in any output.
Run-time destinations (add-location / remove-location) are driven through
rtmppubsink-driver, a small C program built next to the tests, since the
standard library cannot emit GObject signals.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import shutil
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "peers"))
import peers  # noqa: E402
from peers import (NginxRtmp, GstLaunch, GstResult, gst_launch, gst_env,  # noqa: E402
                   dominant_frequency, pull_rtmp, free_port, wait_until, LOOPBACK)

TONE_HZ = 700
AUDIO = ("audiotestsrc is-live=true freq={hz} ! audioconvert ! "
         "audio/x-raw,rate=48000,channels=1 ! voaacenc ! aacparse")
VIDEO = ("videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=25/1 ! "
         "x264enc tune=zerolatency key-int-max=50 ! h264parse ! "
         "video/x-h264,stream-format=avc,alignment=au")

# rtmp-publish messages as printed by gst-launch -m (and by the driver)
PUBLISHING = r"rtmp-publish, id=\(uint\)%d, [^\n]*state=\(string\)publishing"
RECONNECTING = r"rtmp-publish, id=\(uint\)%d, [^\n]*state=\(string\)reconnecting"
FAILED = r"rtmp-publish, id=\(uint\)%d, [^\n]*state=\(string\)failed"


def tone_into(location, hz=TONE_HZ, props=""):
    """A live tone published by `rtmppubsink name=pub`."""
    return "%s ! rtmppubsink name=pub location=%s %s" % (AUDIO.format(hz=hz), location, props)


def publish_messages(text, dest_id=None):
    msgs = GstResult(0, text, "", 0).element_messages("rtmp-publish")
    return [m for m in msgs if dest_id is None or m.get("id") == dest_id]


def states(text, dest_id=None):
    return [m.get("state") for m in publish_messages(text, dest_id)]


def is_subsequence(wanted, seq):
    it = iter(seq)
    return all(any(x == w for x in it) for w in wanted)


def driver_path():
    return peers.build_dir() / "tests" / "rtmppubsink-driver"


class Driver(GstLaunch):
    """rtmppubsink-driver running a pipeline, commanded line by line.

    with Driver(pipeline) as d:
        d.wait_for(PUBLISHING % 1, 10)
        new_id = int(d.ask("add " + url, r"added (\\d+)").group(1))
        d.ask("quit", r"stopped")
    """

    def __init__(self, pipeline):
        super().__init__("")
        self.cmd = [str(driver_path()), pipeline]
        self.stdin = subprocess.PIPE

    def wait_for_after(self, offset, pattern, timeout):
        """The first match of `pattern` in stdout after `offset` characters, or None."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search("".join(self._out)[offset:])
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self._cond.wait(min(left, 0.2))

    def ask(self, line, answer, timeout=10):
        offset = len(self.output())
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        m = self.wait_for_after(offset, answer, timeout)
        if m is None:
            raise AssertionError("no answer %r to %r within %s s\n%s" %
                                 (answer, line.split(" ")[0], timeout, self.output()[-4000:]))
        return m

    def stats(self):
        return self.ask("stats", r"stats ([^\n]*)").group(1)

    def wait(self, timeout=15):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        return super().wait(timeout)


def destination_states(stats_text):
    """{id: state} from the driver's printed `stats` structure (its
    destinations are nested, escaped structures)."""
    return {int(i): s for i, s in re.findall(
        r'destination, id=\(uint\)(\d+), [^;]*?state=\(string\)(\w+)',
        stats_text.replace("\\", ""))}


class RtmpPubSinkTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        r = subprocess.run(["gst-inspect-1.0", "rtmppubsink"], env=gst_env(),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError("rtmppubsink not available (GST_PLUGIN_PATH=%s): "
                                 "ninja -C build" % gst_env()["GST_PLUGIN_PATH"])

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="sip2rtmp-test-"))
        if os.environ.get("SIP2RTMP_KEEP_TEMP") != "1":
            self.addCleanup(shutil.rmtree, self.tmp, True)

    def nginx(self):
        n = NginxRtmp()
        n.__enter__()
        self.addCleanup(n.close)
        return n

    def assertToneFrom(self, url, hz=TONE_HZ, seconds=3, name="pulled.wav", ctx=""):
        wav = self.tmp / name
        r = pull_rtmp(url, seconds, wav)
        self.assertEqual(r.returncode, 0, "ffmpeg could not pull %s: %s%s" %
                         (url, r.stderr[-2000:], ctx))
        got = dominant_frequency(wav)
        self.assertIsNotNone(got, "silence pulled from %s%s" % (url, ctx))
        self.assertAlmostEqual(got, hz, delta=hz * 0.03,
                               msg="pulled a %.1f Hz tone from %s, expected %d Hz%s" %
                               (got, url, hz, ctx))

    def assertCleanExit(self, result):
        self.assertIsNotNone(result.returncode, "pipeline hung\n%s" % result)
        self.assertEqual(result.returncode, 0, "pipeline did not stop cleanly\n%s" % result)

    # ------------------------------------------------------------------

    def test_tone_is_pulled_back_after_connecting_then_publishing(self):
        n = self.nginx()
        url = n.url(stream="tone")
        with GstLaunch(tone_into(url)) as g:
            self.assertTrue(g.wait_for(PUBLISHING % 1, 10), "not publishing\n" + g.output())
            n.wait_publishing("tone", timeout=5)
            self.assertToneFrom(url)
            g.interrupt()
            result = g.wait(10)
        self.assertCleanExit(result)
        self.assertTrue(result.got_eos(), "no EOS after interrupt\n%s" % result)
        msgs = publish_messages(result.stdout)
        self.assertEqual([m["state"] for m in msgs][:2], ["connecting", "publishing"],
                         "rtmp-publish messages %s" % msgs)
        self.assertNotIn("failed", [m["state"] for m in msgs])
        self.assertEqual(msgs[0]["location"], "rtmp://%s:%d/live/***" % (LOOPBACK, n.port))

    def test_h264_and_aac_are_published_and_video_decodes_from_its_first_frame(self):
        n = self.nginx()
        url = n.url(stream="av")
        png = self.tmp / "first.png"
        # The player joins before the publisher (nginx-rtmp keeps it waiting),
        # so it sees the stream from its very first tag.
        first = subprocess.Popen(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
                                  "-rw_timeout", "15000000", "-i", url,
                                  "-frames:v", "1", str(png)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        self.addCleanup(peers._terminate, first)
        wait_until(lambda: "<name>av</name>" in n.stat(), 10, "ffmpeg waiting on live/av",
                   first)
        pipeline = ("rtmppubsink name=pub location=%s  %s ! pub.video  %s ! pub.audio" %
                    (url, VIDEO, AUDIO.format(hz=TONE_HZ)))
        with GstLaunch(pipeline) as g:
            self.assertTrue(g.wait_for(PUBLISHING % 1, 10), "not publishing\n" + g.output())
            try:
                _, err = first.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                first.kill()
                _, err = first.communicate()
            self.assertEqual(first.returncode, 0, "first frame not decoded: %s" % err)
            self.assertTrue(png.exists() and png.stat().st_size > 0, "no PNG written")
            self.assertEqual(err.strip(), "", "decoder complained before the first frame")

            probe = subprocess.run(["ffprobe", "-v", "error", "-rw_timeout", "8000000",
                                    "-show_entries", "stream=codec_type,codec_name",
                                    "-of", "csv=p=0", url],
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                   timeout=30)
            g.interrupt()
            result = g.wait(10)
        streams = sorted(line.strip() for line in probe.stdout.splitlines() if line.strip())
        self.assertEqual(streams, ["aac,audio", "h264,video"],
                         "ffprobe found %s (%s)" % (streams, probe.stderr[-1000:]))
        self.assertCleanExit(result)

    def test_server_restart_resumes_on_the_same_name_and_counts_the_outage(self):
        n = self.nginx()
        url = n.url(stream="outage")
        with GstLaunch(tone_into(url)) as g:
            self.assertTrue(g.wait_for(PUBLISHING % 1, 10), "not publishing\n" + g.output())
            n.wait_publishing("outage", timeout=5)

            stopped = time.monotonic()
            n.stop()
            self.assertTrue(g.wait_for(RECONNECTING % 1, 5),
                            "no reconnecting message\n" + g.output())
            # the outage itself is the input of this test: ~3 s without a server
            time.sleep(max(0.0, 3.0 - (time.monotonic() - stopped)))
            n.restart()
            self.assertTrue(g.wait_for(r"(?s)(%s.*){2}" % (PUBLISHING % 1), 15),
                            "not publishing again after the restart\n" + g.output())
            gap = time.monotonic() - stopped
            self.assertIsNone(g.proc.poll(), "pipeline ended during the outage")
            n.wait_publishing("outage", timeout=5)
            self.assertToneFrom(url, ctx=" after the restart")
            g.interrupt()
            result = g.wait(10)

        self.assertCleanExit(result)
        msgs = publish_messages(result.stdout)
        got = [m["state"] for m in msgs]
        self.assertTrue(is_subsequence(["connecting", "publishing", "reconnecting",
                                        "publishing"], got), "states %s" % got)
        self.assertNotIn("failed", got)
        dropped = [m["dropped-ms"] for m in msgs if m["state"] == "publishing"][-1]
        self.assertAlmostEqual(dropped / 1000.0, gap, delta=2.5,
                               msg="dropped-ms %d after an outage of %.1f s" % (dropped, gap))

    def test_spent_retry_budget_is_a_failed_message_and_a_warning(self):
        port = free_port()      # nothing listens there
        url = "rtmp://%s:%d/live/nobody" % (LOOPBACK, port)
        t0 = time.monotonic()
        with GstLaunch(tone_into(url, props="retry-budget=2")) as g:
            self.assertTrue(g.wait_for(FAILED % 1, 8), "no failed message\n" + g.output())
            failed_after = time.monotonic() - t0
            self.assertTrue(g.wait_for(r"WARNING: from element [^\n]*GstRtmpPubSink", 2),
                            "no warning\n" + g.output())
            self.assertIsNone(g.proc.poll(), "the pipeline ended on a spent budget")
            g.interrupt()
            result = g.wait(10)
        self.assertLess(failed_after, 5.0, "failed only after %.1f s with a 2 s budget" %
                        failed_after)
        self.assertCleanExit(result)
        got = states(result.stdout)
        self.assertTrue(is_subsequence(["connecting", "reconnecting", "failed"], got),
                        "states %s" % got)
        self.assertNotIn("publishing", got)

    def test_server_that_never_answers_counts_against_the_budget(self):
        # Fails until a connection whose RTMP handshake never completes times
        # out: today it stays "connecting" for ever, the budget is never spent.
        silent = socket.socket()
        self.addCleanup(silent.close)
        silent.bind((LOOPBACK, 0))
        silent.listen(4)        # the kernel accepts; nobody ever answers
        url = "rtmp://%s:%d/live/silent" % (LOOPBACK, silent.getsockname()[1])
        with GstLaunch(tone_into(url, props="retry-budget=2")) as g:
            failed = g.wait_for(FAILED % 1, 20)
            g.interrupt()
            result = g.wait(10)
        self.assertTrue(failed, "no failed message 20 s into a 2 s budget, states %s" %
                        states(result.stdout))
        self.assertCleanExit(result)

    def test_location_added_at_run_time_publishes_and_removing_it_leaves_the_first(self):
        a, b = self.nginx(), self.nginx()
        url_a, url_b = a.url(stream="one"), b.url(stream="two")
        with Driver(tone_into(url_a)) as d:
            self.assertTrue(d.wait_for(PUBLISHING % 1, 10), "not publishing\n" + d.output())
            added = int(d.ask("add " + url_b, r"added (\d+)").group(1))
            self.assertNotIn(added, (0, 1), "add-location returned %d" % added)
            self.assertTrue(d.wait_for(PUBLISHING % added, 10),
                            "added destination not publishing\n" + d.output())
            b.wait_publishing("two", timeout=5)
            self.assertEqual(destination_states(d.stats()),
                             {1: "publishing", added: "publishing"})

            self.assertEqual(d.ask("remove %d" % added, r"removed (\d)").group(1), "1")
            wait_until(lambda: not b.is_publishing("two"), 5,
                       "removed destination still publishing")
            self.assertEqual(destination_states(d.stats()), {1: "publishing"})
            self.assertEqual(d.ask("remove %d" % added, r"removed (\d)").group(1), "0",
                             "removed twice")
            self.assertTrue(a.is_publishing("one"))
            self.assertToneFrom(url_a, ctx=" after removing the other destination")
            d.ask("quit", r"stopped")
            result = d.wait(10)
        self.assertCleanExit(result)
        self.assertEqual(states(result.stdout, 1), ["connecting", "publishing"])

    def test_location_added_at_run_time_carries_the_tone(self):
        # Fails until add-location sends the codec configurations (AAC
        # AudioSpecificConfig, AVC decoder record) to the new destination:
        # without them ffmpeg takes FLV's 44.1 kHz and pulls 643 Hz.
        a, b = self.nginx(), self.nginx()
        with Driver(tone_into(a.url(stream="one"))) as d:
            self.assertTrue(d.wait_for(PUBLISHING % 1, 10), "not publishing\n" + d.output())
            added = int(d.ask("add " + b.url(stream="two"), r"added (\d+)").group(1))
            self.assertTrue(d.wait_for(PUBLISHING % added, 10),
                            "added destination not publishing\n" + d.output())
            b.wait_publishing("two", timeout=5)
            self.assertToneFrom(b.url(stream="two"), ctx=" (the added destination)")
            d.ask("quit", r"stopped")
            result = d.wait(10)
        self.assertCleanExit(result)

    def test_one_destination_down_does_not_stop_the_other(self):
        a, b = self.nginx(), self.nginx()
        url_a, url_b = a.url(stream="one"), b.url(stream="two")
        with Driver(tone_into(url_a)) as d:
            self.assertTrue(d.wait_for(PUBLISHING % 1, 10), "not publishing\n" + d.output())
            added = int(d.ask("add " + url_b, r"added (\d+)").group(1))
            self.assertTrue(d.wait_for(PUBLISHING % added, 10),
                            "added destination not publishing\n" + d.output())

            b.stop()
            self.assertTrue(d.wait_for(RECONNECTING % added, 5),
                            "no reconnecting for the stopped server\n" + d.output())
            self.assertToneFrom(url_a, ctx=" while the other server is down")
            self.assertTrue(a.is_publishing("one"))
            st = destination_states(d.stats())
            self.assertEqual(st.get(1), "publishing", st)
            self.assertIn(st.get(added), ("reconnecting", "connecting"), st)

            # and the stopped one recovers on its own
            b.restart()
            self.assertTrue(d.wait_for(r"(?s)(%s.*){2}" % (PUBLISHING % added), 15),
                            "stopped destination did not come back\n" + d.output())
            b.wait_publishing("two", timeout=5)
            d.ask("quit", r"stopped")
            result = d.wait(10)
        self.assertCleanExit(result)
        self.assertEqual(states(result.stdout, 1), ["connecting", "publishing"],
                         "the first destination was disturbed")

    def test_invalid_location_fails_the_state_change_naming_the_property(self):
        for location in ("'\"\"'", "http://%s:1935/live/x" % LOOPBACK,
                         "rtmp://%s" % LOOPBACK, "rtmp://%s:1935/live" % LOOPBACK):
            with self.subTest(location=location):
                result = gst_launch(tone_into(location), timeout=15)
                self.assertIsNotNone(result.returncode, "hung\n%s" % result)
                self.assertNotEqual(result.returncode, 0, "did not fail\n%s" % result)
                errors = [line for line in result.text.splitlines()
                          if line.startswith("ERROR: from element") and
                          "GstRtmpPubSink" in line]
                self.assertTrue(errors, "no error from rtmppubsink\n%s" % result)
                self.assertIn("'location'", errors[0])
                self.assertEqual(states(result.stdout), [], "it tried to connect")
                self.assertLess(result.elapsed, 5.0)

    def test_stream_key_is_never_printed_even_in_debug_logs(self):
        key = "sk-Live-7Qz93xTopSecret"
        env = {"GST_DEBUG": "rtmppubsink:6,libre:6"}
        n = self.nginx()
        # published, then stopped
        with GstLaunch(tone_into(n.url(stream=key)), env=env) as g:
            self.assertTrue(g.wait_for(PUBLISHING % 1, 10), "not publishing\n" + g.output())
            n.wait_publishing(key, timeout=5)
            g.interrupt()
            published = g.wait(10)
        self.assertCleanExit(published)
        # refused until the budget is spent
        with GstLaunch(tone_into("rtmp://%s:%d/live/%s" % (LOOPBACK, free_port(), key),
                                 props="retry-budget=1"), env=env) as g:
            self.assertTrue(g.wait_for(FAILED % 1, 8), "no failed message\n" + g.output())
            g.interrupt()
            refused = g.wait(10)
        self.assertCleanExit(refused)
        for name, result in (("published", published), ("refused", refused)):
            self.assertIn("rtmppubsink", result.stderr, "no debug log at all (%s)" % name)
            self.assertNotIn(key.lower(), result.text.lower(),
                             "the stream key was printed (%s)" % name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
