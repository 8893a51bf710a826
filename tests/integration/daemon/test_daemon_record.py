"""sip2rtmpd records a call to a local file while it publishes it.

Real daemon over real HTTP with a `[record] dir`; SIPp callees playing a
tone; nginx-rtmp; ffprobe and ffmpeg read the recorded file back.
"""

import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, call_body, pull_rtmp,  # noqa: E402
                    dominant_frequency, LOOPBACK)


def probe_file(path):
    """(codec names, duration in seconds) of a media file, by ffprobe."""
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                        "stream=codec_name:format=duration", "-of",
                        "default=nw=1", str(path)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=30)
    codecs = [l.split("=", 1)[1] for l in r.stdout.splitlines()
              if l.startswith("codec_name=")]
    durations = [l.split("=", 1)[1] for l in r.stdout.splitlines()
                 if l.startswith("duration=")]
    duration = float(durations[0]) if durations and durations[0] != "N/A" else None
    return codecs, duration, r.stderr


def decode_to_wav(path, wav):
    return subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel",
                           "error", "-y", "-i", str(path), "-vn", "-ac", "1",
                           "-ar", "8000", "-c:a", "pcm_s16le", str(wav)],
                          stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60)


class DaemonRecordTest(unittest.TestCase):

    def setUp(self):
        self.record_dir = Path(tempfile.mkdtemp(prefix="sip2rtmp-record-"))
        self.config = "[record]\ndir=%s\n" % self.record_dir

    def tearDown(self):
        shutil.rmtree(self.record_dir, ignore_errors=True)

    def assertTone(self, wav, hz):
        got = dominant_frequency(str(wav))
        self.assertIsNotNone(got, "silence in %s" % wav)
        self.assertAlmostEqual(got, hz, delta=hz * 0.03,
                               msg="tone %.1f Hz, expected %d Hz" % (got, hz))

    def record_a_call(self, name, hz, wcs=False):
        """A call recorded to `name` while it publishes; hung up by the API.

        Returns (the call's last event, its answered time in seconds)."""
        with NginxRtmp() as nginx, Daemon(self.config) as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": hz}) as sipp:
            stream = "rec" + name.replace(".", "")
            if wcs:
                call_id = "wcs-" + stream
                body = {"callId": call_id, "callee": "service@%s" % sipp.host_port,
                        "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                        "rtmpStream": stream, "hasAudio": "true",
                        "hasVideo": "false", "record": name}
                r = d.post("/rest-api/call/startup", body)
                self.assertEqual(r.status, 200, r)
            else:
                r = d.post("/api/v1/calls", call_body(sipp, nginx, stream,
                                                      record=name))
                self.assertEqual(r.status, 201, r)
                call_id = r.json["callId"]
            self.assertEqual(r.json["record"], name)

            ev.wait_call(call_id, status="ESTABLISHED")
            answered = time.monotonic()
            ev.wait_call(call_id, stream="PUBLISHING")
            nginx.wait_publishing(stream)
            res = pull_rtmp(nginx.url(stream=stream), 2, sipp.dir / "live.wav")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertTone(sipp.dir / "live.wav", hz)
            call = d.get("/api/v1/calls/%s" % call_id).json
            self.assertEqual((call["record"], call["recordStatus"]),
                             (name, "RECORDING"))

            self.assertIn(d.delete("/api/v1/calls/%s" % call_id).status, (200, 202))
            hung_up = time.monotonic()
            last = ev.wait(lambda e: e.get("callId") == call_id and
                           e.get("recordStatus") in ("FINISHED", "FAILED"),
                           what="%s recordStatus FINISHED" % call_id)
            self.assertEqual(sipp.wait(), 0, sipp.report())
            return last, hung_up - answered

    def assertRecording(self, name, hz, answered_s):
        path = self.record_dir / name
        self.assertTrue(path.is_file(), "no %s in the record dir" % name)
        codecs, duration, err = probe_file(path)
        self.assertEqual(codecs, ["aac"], err)
        self.assertIsNotNone(duration, "no duration in %s: %s" % (name, err))
        self.assertAlmostEqual(duration, answered_s, delta=1.0,
                               msg="%s lasts %.2f s, the call was answered for "
                               "%.2f s" % (name, duration, answered_s))
        wav = self.record_dir / (name + ".wav")
        res = decode_to_wav(path, wav)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTone(wav, hz)

    def test_mkv_recording_holds_the_tone_for_the_answered_time(self):
        last, answered = self.record_a_call("call1.mkv", 700)
        self.assertEqual((last["status"], last["recordStatus"]),
                         ("FINISH", "FINISHED"))
        self.assertRecording("call1.mkv", 700, answered)

    def test_mp4_recording_of_a_wcs_call_holds_the_tone(self):
        last, answered = self.record_a_call("call2.mp4", 900, wcs=True)
        self.assertEqual((last["status"], last["recordStatus"]),
                         ("FINISH", "FINISHED"))
        self.assertRecording("call2.mp4", 900, answered)

    def test_a_file_that_cannot_be_written_fails_the_recording_not_the_call(self):
        (self.record_dir / "taken.mkv").mkdir()
        with NginxRtmp() as nginx, Daemon(self.config) as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": 800}) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "taken",
                                                  record="taken.mkv"))
            self.assertEqual(r.status, 201, r)
            call_id = r.json["callId"]
            ev.wait(lambda e: e.get("callId") == call_id and
                    e.get("recordStatus") == "FAILED", what="recordStatus FAILED")
            nginx.wait_publishing("taken")
            res = pull_rtmp(nginx.url(stream="taken"), 2, sipp.dir / "live.wav")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertTone(sipp.dir / "live.wav", 800)
            self.assertEqual(d.get("/api/v1/calls/%s" % call_id).json["status"],
                             "ESTABLISHED")

            self.assertIn(d.delete("/api/v1/calls/%s" % call_id).status, (200, 202))
            last = ev.wait_call(call_id, status="FINISH")
            self.assertEqual(last["recordStatus"], "FAILED")
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_record_names_and_a_missing_dir_are_400_naming_the_field(self):
        base = {"callee": "sip:service@%s:5060" % LOOPBACK,
                "rtmpUrl": "rtmp://%s:1935/live" % LOOPBACK}
        with Daemon() as d:
            r = d.post("/api/v1/calls", dict(base, rtmpStream="a", record="a.mkv"))
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.json["field"], "record", r)
            self.assertIn("[record] dir", r.json["message"], r)
        with Daemon(self.config) as d:
            for bad in ("sub/a.mkv", "../a.mkv", ".a.mkv", "a.wav", "a", ".mkv",
                        "/tmp/a.mp4"):
                r = d.post("/api/v1/calls", dict(base, rtmpStream="a", record=bad))
                self.assertEqual(r.status, 400, "%s: %r" % (bad, r))
                self.assertEqual(r.json["field"], "record", "%s: %r" % (bad, r))
            self.assertEqual(list(self.record_dir.iterdir()), [])

    def test_a_file_being_recorded_by_an_active_call_is_409(self):
        with NginxRtmp() as nginx, Daemon(self.config) as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "first",
                                                  record="same.mkv"))
            self.assertEqual(r.status, 201, r)
            call_id = r.json["callId"]
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "second",
                                                  record="same.mkv"))
            self.assertEqual(r.status, 409, r)
            self.assertEqual(r.json["field"], "record", r)

            ev.wait_call(call_id, stream="PUBLISHING")
            self.assertIn(d.delete("/api/v1/calls/%s" % call_id).status, (200, 202))
            ev.wait_call(call_id, status="FINISH")
            self.assertEqual(sipp.wait(), 0, sipp.report())


if __name__ == "__main__":
    unittest.main(verbosity=2)
