"""What carriers and bridges need from a call through sip2rtmpd (issue 12):
DTMF we send (the `dtmf` field, POST /api/v1/calls/{id}/dtmf, WCS 5's
send_dtmf), our INVITE headers (`sipHeaders`) and the peer's X- headers
(`remoteHeaders`), each a clear 400 when malformed.

Real daemon over real HTTP, SIPp callees that check what they receive,
nginx-rtmp, ffmpeg pulling the stream back.
"""

import sys
import unittest
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, Sipp, NginxRtmp, call_body, pull_rtmp,  # noqa: E402
                    dominant_frequency, free_port, wait_until, LOOPBACK)
from peers import TONE_HZ, loud_spans, build_dir  # noqa: E402
import rtp_pcap  # noqa: E402

TRANSFER_HZ = 600


class DaemonCarrierTest(unittest.TestCase):

    def dtmf_events(self, ev, cid, n):
        """The next n digits the call sent, from its SSE events."""
        seen = self.__dict__.setdefault("seen", [])
        got = []
        for _ in range(n):
            e = ev.wait(lambda e: e.get("callId") == cid and e.get("event") == "DtmfEvent"
                        and e.get("direction") == "sent" and
                        not any(e is x for x in seen), 15, "a sent digit")
            seen.append(e)
            got.append(e)
        return [(e["digit"], e["method"]) for e in got]

    # A bridge that plays only once it has its PIN (1234# by SIP INFO): the
    # tone on the CDN proves the digits reached it, in order. 12 come with
    # the request, 34# from the API once answered.
    def test_the_dtmf_field_and_the_api_enter_a_bridges_pin(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("info_pin_then_tone_bye.xml", duration_ms=4000) as bridge:
            r = d.post("/api/v1/calls", call_body(bridge, nginx, "pin", dtmf="12"))
            self.assertEqual(r.status, 201, r)
            cid = r.json["callId"]
            ev.wait_call(cid, status="ESTABLISHED")
            self.assertEqual(self.dtmf_events(ev, cid, 2), [("1", "info"), ("2", "info")])
            r = d.post("/api/v1/calls/%s/dtmf" % cid, {"digits": "34#", "method": "info"})
            self.assertEqual((r.status, r.json["digits"]), (202, "34#"), r)
            self.assertEqual(self.dtmf_events(ev, cid, 3),
                             [("3", "info"), ("4", "info"), ("#", "info")])
            wav = Path(bridge.dir) / "pin.wav"
            pulled = pull_rtmp("rtmp://%s:%d/live/pin" % (LOOPBACK, nginx.port), 2, wav)
            self.assertEqual(pulled.returncode, 0, pulled.stderr)
            self.assertTrue(loud_spans(wav), "the bridge never opened: silence on the CDN")
            self.assertAlmostEqual(dominant_frequency(str(wav)), TONE_HZ, delta=TONE_HZ * 0.03)
            self.assertEqual(d.get("/api/v1/calls/" + cid).json["dtmfSent"], "1234#")
            self.assertEqual(bridge.wait(), 0, bridge.report())

    def test_wcs5_send_dtmf_sends_rfc2833_or_info(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("info_pin_then_tone_bye.xml", duration_ms=1000) as bridge:
            r = d.post("/api/v1/calls", call_body(bridge, nginx, "w5", callId="w5"))
            ev.wait_call("w5", status="ESTABLISHED")
            # the callee names no telephone-event: RFC 2833 cannot reach it
            r = d.post("/rest-api/call/send_dtmf", {"callId": "w5", "dtmf": "1",
                                                    "type": "RFC2833"})
            self.assertEqual((r.status, r.json["field"]), (409, "method"), r)
            r = d.post("/rest-api/call/send_dtmf", {"callId": "w5", "dtmf": "1234#",
                                                    "type": "INFO"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual([d for d, _ in self.dtmf_events(ev, "w5", 5)], list("1234#"))
            self.assertEqual(bridge.wait(), 0, bridge.report())

    # sipsrc posts "established" before its pads are exposed (on GStreamer's
    # pool): digits by SIP INFO need the dialog only and must go at once
    # (CI7 saw a 409 in that instant). The plugin built with its test hooks
    # (tests/testhooks/) holds the exposure, so the window stays open.
    def test_info_digits_sent_before_the_pads_exist_reach_the_peer(self):
        env = {"GST_PLUGIN_PATH": str(build_dir() / "tests" / "testhooks"),
               "SIP2RTMP_TEST_HOLD": "expose-streams"}
        with NginxRtmp() as nginx, \
                Sipp("info_pin_then_tone_bye.xml", duration_ms=1000) as bridge:
            d = Daemon(env=env)
            # its own registry: the hooked plugin is also called "sip2rtmp"
            d.env["GST_REGISTRY"] = str(d.dir / "registry.bin")
            with d, d.events() as ev:
                r = d.post("/api/v1/calls", call_body(bridge, nginx, "early", callId="early"))
                self.assertEqual(r.status, 201, r)
                ev.wait_call("early", status="ESTABLISHED")
                d.wait_log("sip2rtmp test hook expose-streams: holding", 10)
                r = d.post("/api/v1/calls/early/dtmf", {"digits": "1234#", "method": "info"})
                self.assertEqual((r.status, r.json.get("digits")), (202, "1234#"), r)
                self.assertEqual(self.dtmf_events(ev, "early", 5),
                                 [(c, "info") for c in "1234#"])
                self.assertEqual(bridge.wait(), 0, bridge.report())

    def test_our_headers_reach_the_invite_and_the_peers_come_back(self):
        headers = {"X-Room": "42", "P-Asserted-Identity": "<sip:+15550001@example.com>"}
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_headers_bye.xml", duration_ms=1500) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "hdr", sipHeaders=headers))
            self.assertEqual(r.status, 201, r)
            established = ev.wait_call(r.json["callId"], status="ESTABLISHED")
            self.assertEqual(established.get("remoteHeaders"),
                             {"X-Twilio-CallSid": "CA0123456789abcdef",
                              "X-Conference": "room-7"}, established)
            self.assertEqual(sipp.wait(), 0, "the callee checks X-Room and P-Asserted-"
                             "Identity" + sipp.report())

    # A blind transfer keeps the broadcast: one publication on the CDN
    # carries the transferor's tone, then the target's (no new stream).
    def test_a_transfer_continues_the_same_stream_on_the_cdn(self):
        target_audio = rtp_pcap.RtpStream(ssrc=0x7A7A0001, seq=200, ts=4000)
        target_audio.tone(4.0, TRANSFER_HZ)
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_one_clock_bye.xml", duration_ms=4800, pt=0, codec="PCMU/8000",
                     files={"audio.pcap": lambda p: rtp_pcap.write_pcap(
                         p, target_audio.packets)}) as target, \
                Sipp("refer_blind_transfer.xml", target=target.host_port) as pbx:
            # pulled from the stream's first tag: ffmpeg started first, its
            # player kept waiting by nginx-rtmp. Started once PUBLISHING was
            # seen, the pull's first second moved with how long that took
            # (the transferor's REFER comes 1.5 s after the answer).
            wav = Path(pbx.dir) / "xfer.wav"
            with ThreadPoolExecutor(1) as pool:
                pulling = pool.submit(pull_rtmp, "rtmp://%s:%d/live/xfer" %
                                      (LOOPBACK, nginx.port), 3.5, wav, rw_timeout_s=15)
                wait_until(lambda: "<name>xfer</name>" in nginx.stat(), 10,
                           "ffmpeg waiting on live/xfer")
                r = d.post("/api/v1/calls", call_body(pbx, nginx, "xfer"))
                cid = r.json["callId"]
                ev.wait_call(cid, stream="PUBLISHING")
                pulled = pulling.result()
            self.assertEqual(pulled.returncode, 0, pulled.stderr)
            moved = ev.wait(lambda e: e.get("callId") == cid and
                            (e.get("reason") or "").startswith("transferred to sip:"), 10,
                            "the transfer")
            self.assertEqual((moved["status"], moved["rtmpStreamStatus"]),
                             ("ESTABLISHED", "PUBLISHING"), moved)
            # one pull across the transfer: the transferor's tone, then the target's
            self.assertAlmostEqual(dominant_frequency(str(wav), 0.2, 0.8), TONE_HZ,
                                   delta=TONE_HZ * 0.03)
            self.assertAlmostEqual(dominant_frequency(str(wav), 2.6, 0.8), TRANSFER_HZ,
                                   delta=TRANSFER_HZ * 0.03)
            # the target's BYE ends the call and closes the one stream
            ev.wait_call(cid, status="FINISH", stream="UNPUBLISHED", timeout=15)
            self.assertEqual(pbx.wait(), 0, pbx.report())
            self.assertEqual(target.wait(), 0, target.report())

    # Behind a NAT: the call's public address is in our Contact and SDP
    # (the callee checks both)
    def test_a_calls_public_address_is_announced(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_behind_nat_bye.xml", duration_ms=1000,
                     sdp_port=free_port(2)) as sipp:
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "nat",
                                                  sipPublicAddress="127.0.0.9"))
            self.assertEqual(r.status, 201, r)
            ev.wait_call(r.json["callId"], status="FINISH", timeout=15)
            self.assertEqual(sipp.wait(), 0, "127.0.0.9 in Contact and SDP" + sipp.report())

    def test_malformed_dtmf_and_headers_are_400_naming_the_field(self):
        with NginxRtmp() as nginx, Daemon() as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as sipp:
            for extra, field in (({"dtmf": "12x"}, "dtmf"),
                                 ({"sipHeaders": {"Via": "SIP/2.0/UDP 192.0.2.1"}},
                                  "sipHeaders"),
                                 ({"sipHeaders": {"Call-ID": "x"}}, "sipHeaders"),
                                 ({"sipHeaders": {"X-Room": "42\r\nVia: x"}}, "sipHeaders"),
                                 ({"sipHeaders": {"X-Room": 42}}, "sipHeaders"),
                                 ({"sipHeaders": "X-Room: 42"}, "sipHeaders"),
                                 ({"sipPublicAddress": "gw.example.com"},
                                  "sipPublicAddress")):
                r = d.post("/api/v1/calls", call_body(sipp, nginx, "bad", **extra))
                self.assertEqual((r.status, r.json["field"]), (400, field), (extra, r))
            r = d.post("/api/v1/calls", call_body(sipp, nginx, "ok"))
            cid = r.json["callId"]
            ev.wait_call(cid, status="ESTABLISHED")
            for body, field in (({"digits": "9x"}, "digits"), ({}, "digits"),
                                ({"digits": "1", "method": "sms"}, "method")):
                r = d.post("/api/v1/calls/%s/dtmf" % cid, body)
                self.assertEqual((r.status, r.json["field"]), (400, field), (body, r))
            # 202 while it drains, 200 when it had no media linked yet
            self.assertIn(d.delete("/api/v1/calls/" + cid).status, (200, 202))
            ev.wait_call(cid, status="FINISH")
            r = d.post("/api/v1/calls/%s/dtmf" % cid, {"digits": "1"})
            self.assertEqual(r.status, 409, r)


if __name__ == "__main__":
    unittest.main()
