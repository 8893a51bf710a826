"""A call published to several RTMP destinations, each failing and recovering
on its own; destinations added and removed while the call runs.

Real daemon over real HTTP, a SIPp UAS playing a tone, two nginx-rtmp
servers (one stopped and restarted on the same port), ffmpeg pulling each
stream back.
"""

import sys
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, call_body, pull_rtmp,  # noqa: E402
                    dominant_frequency, wait_until, LOOPBACK)


def dest_status(event, dest_id):
    for d in event.get("destinations", []):
        if d["id"] == dest_id:
            return d["status"]
    return None


class DaemonDestinationsTest(unittest.TestCase):

    def assertTone(self, wav, hz):
        got = dominant_frequency(str(wav))
        self.assertIsNotNone(got, "silence in %s" % wav)
        self.assertAlmostEqual(got, hz, delta=hz * 0.03,
                               msg="tone %.1f Hz, expected %d Hz" % (got, hz))

    def pull_all(self, urls, seconds, outdir):
        """Pull every URL at once; [(ffmpeg result, wav)] in order."""
        results = [None] * len(urls)

        def pull(i):
            wav = Path(outdir) / ("pull-%d.wav" % i)
            results[i] = (pull_rtmp(urls[i], seconds, wav), wav)
        threads = [threading.Thread(target=pull, args=(i,)) for i in range(len(urls))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def test_two_servers_carry_the_tone_and_one_outage_spares_the_other(self):
        with NginxRtmp() as n1, NginxRtmp() as n2, Daemon() as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": 800}) as sipp:
            body = call_body(sipp, n1, "main",
                             rtmpUrls=["rtmp://%s:%d/live/backup" % (LOOPBACK, n2.port)])
            r = d.post("/api/v1/calls", body)
            self.assertEqual(r.status, 201, r)
            cid = r.json["callId"]
            # a stream key is never shown: the URL tells them apart
            self.assertEqual([(x["id"], x["rtmpUrl"], x["rtmpStream"], x["status"])
                              for x in r.json["destinations"]],
                             [(1, "rtmp://%s:%d/live" % (LOOPBACK, n1.port), "***", "PENDING"),
                              (2, "rtmp://%s:%d/live" % (LOOPBACK, n2.port), "***", "PENDING")])
            ev.wait(lambda e: e["callId"] == cid and dest_status(e, 1) == "PUBLISHING"
                    and dest_status(e, 2) == "PUBLISHING", what="both publishing")
            n1.wait_publishing("main")
            n2.wait_publishing("backup")
            both = self.pull_all([n1.url(stream="main"), n2.url(stream="backup")], 2,
                                 sipp.dir)
            for res, wav in both:
                self.assertEqual(res.returncode, 0, res.stderr)
                self.assertTone(wav, 800)

            # the first server goes away: that destination retries, the call
            # and the other destination go on
            n1.stop()
            down = ev.wait(lambda e: e["callId"] == cid and
                           dest_status(e, 1) == "RECONNECTING", what="RECONNECTING")
            self.assertEqual(down["status"], "ESTABLISHED")
            self.assertEqual(down["rtmpStreamStatus"], "PUBLISHING")
            self.assertEqual(dest_status(down, 2), "PUBLISHING")
            res = pull_rtmp(n2.url(stream="backup"), 2, sipp.dir / "during.wav")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertTone(sipp.dir / "during.wav", 800)

            # back: publishing again, on the same name, the gap counted
            # (the events so far counted before the restart: the daemon's
            # retry may publish and report it before restart() returns)
            n_before = len(ev.of_call(cid))
            n1.restart()
            up = ev.wait(lambda e: e["callId"] == cid and ev.of_call(cid).index(e) >= n_before
                         and dest_status(e, 1) == "PUBLISHING", timeout=30,
                         what="PUBLISHING again")
            n1.wait_publishing("main")
            d1 = [x for x in up["destinations"] if x["id"] == 1][0]
            self.assertGreater(d1["droppedMs"], 0)
            self.assertGreaterEqual(up["rtmpDroppedMs"], d1["droppedMs"])
            res = pull_rtmp(n1.url(stream="main"), 2, sipp.dir / "after.wav")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertTone(sipp.dir / "after.wav", 800)

            got = d.get("/api/v1/calls/%s" % cid).json
            self.assertEqual(got["status"], "ESTABLISHED")
            self.assertGreater(got["rtpStats"]["packetsReceived"], 0)
            self.assertEqual(got["rtpStats"]["audioCodec"], "PCMU")
            self.assertGreater(got["rtmpStats"]["frames"], 0)

            d.delete("/api/v1/calls/%s" % cid)
            fin = ev.wait_call(cid, status="FINISH", stream="UNPUBLISHED")
            self.assertEqual([x["status"] for x in fin["destinations"]],
                             ["UNPUBLISHED", "UNPUBLISHED"])
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_destinations_are_added_and_removed_while_the_call_runs(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": 600}) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "first"))
            cid = r.json["callId"]
            ev.wait_call(cid, stream="PUBLISHING")

            path = "/api/v1/calls/%s/destinations" % cid
            added = d.post(path, {"rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                                  "rtmpStream": "second"})
            self.assertEqual(added.status, 201, added)
            self.assertEqual(added.json["id"], 2)
            self.assertEqual(added.headers["Location"], path + "/2")
            nginx.wait_publishing("second")
            res = pull_rtmp(nginx.url(stream="second"), 2, sipp.dir / "second.wav")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIsNotNone(dominant_frequency(str(sipp.dir / "second.wav")))
            self.assertEqual(d.get(path + "/2").json["status"], "PUBLISHING")

            # one call per stream name: its own or another's
            again = d.post(path, {"url": nginx.url(stream="first")})
            self.assertEqual((again.status, again.json["field"]), (409, "rtmpStream"))
            self.assertEqual(d.post("/api/v1/calls", dict(call_body(sipp, nginx, "x"),
                                    rtmpUrls=[nginx.url(stream="second")])).status, 409)
            self.assertEqual(d.post(path, {"rtmpUrl": "http://x/live",
                                           "rtmpStream": "s"}).json["field"], "rtmpUrl")

            removed = d.delete(path + "/1")
            self.assertEqual(removed.status, 200, removed)
            self.assertEqual([x["id"] for x in removed.json["destinations"]], [2])
            self.assertEqual(removed.json["rtmpStream"], "***")
            wait_until(lambda: not nginx.is_publishing("first"), 10, "first unpublished")
            self.assertTrue(nginx.is_publishing("second"))
            self.assertEqual(d.get("/api/v1/calls/%s" % cid).json["status"], "ESTABLISHED")

            last = d.delete(path + "/2")
            self.assertEqual((last.status, last.json["field"]), (409, "destId"))
            self.assertEqual(d.delete(path + "/7").status, 404)

            d.delete("/api/v1/calls/%s" % cid)
            ev.wait_call(cid, status="FINISH", stream="UNPUBLISHED")
            self.assertEqual(sipp.wait(), 0, sipp.report())

    # Without the AAC sequence header a player decodes at FLV's default
    # 44.1 kHz: a 600 Hz tone would come out at ~550 Hz.
    def test_an_added_destination_carries_the_tone(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": 600}) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "first"))
            cid = r.json["callId"]
            ev.wait_call(cid, stream="PUBLISHING")
            added = d.post("/api/v1/calls/%s/destinations" % cid,
                           {"url": nginx.url(stream="second")})
            self.assertEqual(added.status, 201, added)
            nginx.wait_publishing("second")
            res = pull_rtmp(nginx.url(stream="second"), 2, sipp.dir / "second.wav")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertTone(sipp.dir / "second.wav", 600)


if __name__ == "__main__":
    unittest.main()
