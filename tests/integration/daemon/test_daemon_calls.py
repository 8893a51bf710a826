"""sip2rtmpd places SIP calls and publishes each to its own RTMP stream.

Real daemon over real HTTP, SIPp UAS callees each playing a tone of its own,
nginx-rtmp as the RTMP server, ffmpeg pulling each stream back.
"""

import sys
import re
import socket
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, call_body, pull_rtmp,  # noqa: E402
                    dominant_frequency, free_port, LOOPBACK)


class DaemonCallsTest(unittest.TestCase):

    def assertTone(self, wav, hz):
        got = dominant_frequency(str(wav))
        self.assertIsNotNone(got, "silence in %s" % wav)
        self.assertAlmostEqual(got, hz, delta=hz * 0.03,
                               msg="tone %.1f Hz, expected %d Hz" % (got, hz))

    def pull_all(self, nginx, streams, seconds, outdir):
        """Pull every stream at once; {stream: (ffmpeg result, wav)}."""
        results = {}

        def pull(s):
            wav = Path(outdir) / ("%s.wav" % s)
            results[s] = (pull_rtmp("rtmp://%s:%d/live/%s" % (LOOPBACK, nginx.port, s),
                                    seconds, wav), wav)
        threads = [threading.Thread(target=pull, args=(s,)) for s in streams]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def test_parallel_calls_each_publish_their_own_tone(self):
        tones = {"room-a": 500, "room-b": 900, "room-c": 1400}
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev:
            sipps = {s: Sipp("answer_pcmu_wait_bye.xml",
                             tones={"tone-pcmu.wav": hz}).__enter__()
                     for s, hz in tones.items()}
            try:
                ids = {}
                for s in tones:
                    r = d.post("/api/v1/calls", call_body(sipps[s], nginx, s))
                    self.assertEqual(r.status, 201, r)
                    self.assertEqual(r.json["status"], "NEW")
                    self.assertEqual(r.json["rtmpStreamStatus"], "PENDING")
                    ids[s] = r.json["callId"]
                for s in tones:
                    ev.wait_call(ids[s], status="ESTABLISHED")
                    ev.wait_call(ids[s], stream="PUBLISHING")

                pulled = self.pull_all(nginx, tones, 3, sipps["room-a"].dir)
                for s, hz in tones.items():
                    res, wav = pulled[s]
                    self.assertEqual(res.returncode, 0, res.stderr)
                    self.assertTone(wav, hz)

                listed = {c["callId"]: c for c in d.get("/api/v1/calls").json}
                for s in tones:
                    call = listed[ids[s]]
                    self.assertEqual(call["status"], "ESTABLISHED")
                    self.assertEqual(call["audioCodec"], "PCMU")
                    self.assertEqual(call["rtmpStream"], "***")

                for s in tones:
                    r = d.delete("/api/v1/calls/%s" % ids[s])
                    self.assertIn(r.status, (200, 202), r)
                for s in tones:
                    fin = ev.wait_call(ids[s], status="FINISH", stream="UNPUBLISHED")
                    self.assertIsNotNone(fin["ended"])
                    # the scenario passes only if the callee received our BYE
                    self.assertEqual(sipps[s].wait(), 0, sipps[s].report())
            finally:
                for s in sipps.values():
                    s.close()

    def test_wcs4_article_request_publishes_the_named_stream(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": 700}) as sipp:
            # the article's body; the callee is the SIP domain itself, as there
            body = {"callId": "R2fhkll5Sw3lK", "callee": LOOPBACK,
                    "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                    "rtmpStream": "streamName", "hasAudio": "true", "hasVideo": "true",
                    "connection": {"sipLogin": "myusername",
                                   "sipPassword": "MyPasswordPassword1",
                                   "sipAuthenticationName": "myusername",
                                   "sipDomain": LOOPBACK, "sipPort": str(sipp.port),
                                   "sipRegisterRequired": "false", "appKey": "callApp"}}
            r = d.post("/RESTCall/call", body)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["callId"], "R2fhkll5Sw3lK")
            self.assertEqual(r.json["sipUri"], "sip:%s:%d" % (LOOPBACK, sipp.port))
            self.assertEqual(r.json["hasVideo"], "true")
            self.assertNotIn("MyPasswordPassword1", r.text)

            ev.wait_call("R2fhkll5Sw3lK", stream="PUBLISHING")
            nginx.wait_publishing("streamName")
            res = pull_rtmp(nginx.url(stream="streamName"), 2, sipp.dir / "out.wav")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertTone(sipp.dir / "out.wav", 700)

            # WCS 5 sees the same call; the callee offered no video: audio only
            found = d.post("/rest-api/call/find", {"callId": "R2fhkll5Sw3lK"})
            self.assertEqual(found.status, 200, found)
            self.assertEqual(len(found.json), 1)
            self.assertEqual(found.json[0]["status"], "ESTABLISHED")
            self.assertEqual(found.json[0]["audioCodec"], "PCMU")
            self.assertIsNone(found.json[0]["videoCodec"])

            r = d.post("/rest-api/call/terminate", {"callId": "R2fhkll5Sw3lK"})
            self.assertEqual(r.status, 200, r)
            ev.wait_call("R2fhkll5Sw3lK", status="FINISH", stream="UNPUBLISHED")
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_wcs5_startup_find_and_find_all(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_pcma_bye.xml", duration_ms=20000) as sipp:
            body = {"callId": "wcs5-1", "callee": "service@%s" % sipp.host_port,
                    "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port),
                    "rtmpStream": "w5", "hasAudio": "true", "hasVideo": "false",
                    "sipLogin": "u", "sipDomain": LOOPBACK, "visibleName": "Room 5"}
            r = d.post("/rest-api/call/startup", body)
            self.assertEqual(r.status, 200, r)
            ev.wait_call("wcs5-1", status="ESTABLISHED")
            ev.wait_call("wcs5-1", stream="PUBLISHING")

            for flt in ({"callee": body["callee"]}, {"status": "ESTABLISHED"},
                        {"rtmpUrl": body["rtmpUrl"]}):
                found = d.post("/rest-api/call/find", flt)
                self.assertEqual(found.status, 200, found)
                self.assertEqual([c["callId"] for c in found.json], ["wcs5-1"], flt)
            none = d.post("/rest-api/call/find", {"status": "BUSY"})
            self.assertEqual((none.status, none.json), (200, []))
            all_ = d.post("/rest-api/call/find_all", {})
            self.assertEqual([c["callId"] for c in all_.json], ["wcs5-1"])
            self.assertEqual(all_.json[0]["audioCodec"], "PCMA")
            self.assertEqual(all_.json[0]["visibleName"], "Room 5")
            d.post("/rest-api/call/terminate", {"callId": "wcs5-1"})
            ev.wait_call("wcs5-1", status="FINISH")

    def test_early_media_is_published_before_the_answer(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("early_media_183.xml", duration_ms=3000,
                     tones={"early-pcmu.wav": 600, "tone-pcmu.wav": 1000}) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "early"))
            cid = r.json["callId"]
            ev.wait_call(cid, status="SESSION_PROGRESS")
            # the ringback/announcement is on the stream before any answer
            ev.wait_call(cid, status="SESSION_PROGRESS", stream="PUBLISHING")
            ev.wait_call(cid, status="ESTABLISHED")
            ev.wait_call(cid, status="FINISH", stream="UNPUBLISHED", timeout=30)
            self.assertEqual(sipp.wait(), 0, sipp.report())
            self.assertEqual([e["status"] for e in ev.of_call(cid)
                              if e["status"] in ("SESSION_PROGRESS", "ESTABLISHED")][:1],
                             ["SESSION_PROGRESS"])

    def test_callee_hanging_up_finishes_the_call_and_the_stream(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_pcmu_bye.xml", duration_ms=3000) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "bye"))
            cid = r.json["callId"]
            ev.wait_call(cid, stream="PUBLISHING")
            fin = ev.wait_call(cid, status="FINISH", timeout=30)
            ev.wait_call(cid, stream="UNPUBLISHED")
            self.assertEqual(sipp.wait(), 0, sipp.report())
            self.assertIsNotNone(fin["answered"])
            self.assertFalse(nginx.is_publishing("bye"))

    def test_busy_callee_gives_busy_with_sip_status_486(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("busy_486.xml") as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "busy"))
            self.assertEqual(r.status, 201, r)
            busy = ev.wait_call(r.json["callId"], status="BUSY")
            self.assertEqual(busy["sipStatus"], 486)
            ev.wait_call(r.json["callId"], stream="UNPUBLISHED")
            got = d.get("/api/v1/calls/%s" % r.json["callId"])
            self.assertEqual(got.json["status"], "BUSY")
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_unreachable_rtmp_server_fails_the_stream_and_hangs_up(self):
        # retried for [rtmp] retry-budget seconds, then given up
        with Daemon("[rtmp]\nretry-budget=1\n") as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as sipp:
            body = {"callee": sipp.uri(), "rtmpStream": "nowhere",
                    "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, free_port())}
            r = d.post("/api/v1/calls", body)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json["rtmpRetryBudget"], 1)
            ev.wait_call(r.json["callId"], status="ESTABLISHED", stream="RECONNECTING")
            failed = ev.wait_call(r.json["callId"], status="FAILED", stream="FAILED")
            self.assertTrue(failed["reason"].startswith("RTMP:"), failed["reason"])
            self.assertNotIn("nowhere", failed["reason"])
            self.assertEqual(failed["destinations"][0]["status"], "FAILED")
            # the callee is not left connected to nothing: it got our BYE
            self.assertEqual(sipp.wait(), 0, sipp.report())

    def test_hanging_up_a_silent_callee_never_blocks_the_api(self):
        # a callee that receives the INVITE and never answers: stopping such
        # a call takes sipsrc seconds, which must not be the API's seconds
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind((LOOPBACK, 0))
        silent.settimeout(10)
        callee = "sip:nobody@%s:%d" % silent.getsockname()
        with silent, Daemon() as d, d.events() as ev:
            ids = []
            for i in range(3):
                r = d.post("/api/v1/calls", {"callee": callee, "rtmpStream": "q%d" % i,
                                             "rtmpUrl": "rtmp://%s:1/live" % LOOPBACK})
                self.assertEqual(r.status, 201, r)
                ids.append(r.json["callId"])
            invites = set()
            while len(invites) < 3:
                msg = silent.recv(65535).decode("utf-8", "replace")
                if msg.startswith("INVITE "):
                    invites.add(re.search(r"^Call-ID:\s*(\S+)", msg,
                                          re.M | re.I).group(1))
            t0 = time.monotonic()
            for cid in ids:
                self.assertEqual(d.delete("/api/v1/calls/%s" % cid).status, 200)
            self.assertEqual(d.get("/api/v1/calls").status, 200)
            self.assertLess(time.monotonic() - t0, 0.5)
            for cid in ids:
                ev.wait_call(cid, status="FINISH")

if __name__ == "__main__":
    unittest.main()
