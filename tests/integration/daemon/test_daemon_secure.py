"""sip2rtmpd's secure calls: SIP over TLS and SRTP (docs/daemon.md).

Real daemon over real HTTP; the callee is baresip with its srtp module
(srtp-mand: RTP/SAVP only), behind kamailio's TLS edge where the call goes
over TLS (kamailio checks our client certificate against the test's CA);
nginx-rtmp gets the stream, ffmpeg pulls the tone back. The daemon's TLS
files and SRTP default come from its config; `srtp` and `sipTransport` from
the request, native and WCS (an extension field there).
"""

import os
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, NginxRtmp, Sipp, pull_rtmp, dominant_frequency,  # noqa: E402
                    wait_until, LOOPBACK, PeerError)
from peers import Baresip, Certs, KamailioTls as Kamailio, make_tone_wav  # noqa: E402

TONE_HZ = 900
SUITE = "AES_CM_128_HMAC_SHA1_80"


class DaemonSecureTest(unittest.TestCase):

    def setUp(self):
        self.nginx = NginxRtmp()
        self.nginx.__enter__()
        self.addCleanup(self.nginx.close)
        self.certs = Certs(self.nginx.dir / "certs")
        self.server = self.certs.issue("server", ip=LOOPBACK)
        self.client = self.certs.issue("client", dns="gateway.example", client=True)
        wav = make_tone_wav(self.nginx.dir / "tone.wav", TONE_HZ, 30.0, fmt="s16")
        self.callee = Baresip(wav, mediaenc="srtp-mand")
        self.callee.__enter__()
        self.addCleanup(self.callee.close)

    def config(self, **sip):
        keys = dict(sip)
        return "[sip]\n" + "".join("%s=%s\n" % (k.replace("_", "-"), v)
                                   for k, v in keys.items())

    def tls_config(self, **more):
        return self.config(tls_ca_file=self.certs.ca, tls_cert_file=self.client[0],
                           tls_key_file=self.client[1], **more)

    def rtmp(self, stream):
        return {"rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, self.nginx.port),
                "rtmpStream": stream}

    def assertToneOn(self, stream):
        self.nginx.wait_publishing(stream)
        wav = self.nginx.dir / ("%s.wav" % stream)
        res = pull_rtmp(self.nginx.url(stream=stream), 2, wav)
        self.assertEqual(res.returncode, 0, res.stderr)
        got = dominant_frequency(str(wav))
        self.assertIsNotNone(got, "silence on %s" % stream)
        self.assertAlmostEqual(got, TONE_HZ, delta=TONE_HZ * 0.03)

    def test_a_native_call_over_tls_with_mandatory_srtp_publishes_the_tone(self):
        k = Kamailio("%s:%d" % (LOOPBACK, self.callee.port), *self.server,
                     require_client_cert=True, client_ca=self.certs.ca)
        with k, Daemon(self.tls_config()) as d, d.events() as ev:
            body = dict(self.rtmp("secure"), callId="tls-1", sipTransport="tls",
                        srtp="mandatory",
                        callee="sip:callee@%s:%d" % (LOOPBACK, k.tls_port))
            r = d.post("/api/v1/calls", body)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json["srtp"], "mandatory")
            ev.wait_call("tls-1", status="ESTABLISHED")
            ev.wait_call("tls-1", stream="PUBLISHING")
            self.assertToneOn("secure")
            call = d.get("/api/v1/calls/tls-1").json
            self.assertEqual(call["rtpStats"]["srtp"], SUITE, call)
            # baresip 1.0.0 sends one plain RTCP packet (16 bytes) before
            # its SRTP starts: refused, as anything unprotected
            self.assertLessEqual(call["rtpStats"]["srtpDropped"], 1, call)
            self.assertGreater(call["rtpStats"]["packetsReceived"], 50, call)
            self.assertEqual(d.delete("/api/v1/calls/tls-1").status, 202)
            ev.wait_call("tls-1", status="FINISH")
            invites = k.lines("INVITE over tls")
            self.assertEqual(len(invites), 1, k.output()[-3000:])
            self.assertIn("verified=1 cn=gateway.example", invites[0])
            wait_until(lambda: k.lines("IN-DIALOG BYE over tls"), 10, "our BYE over TLS")
            self.assertIn("SRTP is Enabled (cryptosuite=%s)" % SUITE, self.callee.output())
            # the key of neither side in what the daemon says or logs
            for text in (d.log(), r.text, str(ev.of_call("tls-1"))):
                self.assertNotIn("inline:", text.replace("inline:***", ""))

    def test_wcs4_and_wcs5_bodies_take_srtp_and_sip_transport(self):
        k = Kamailio("%s:%d" % (LOOPBACK, self.callee.port), *self.server,
                     require_client_cert=True, client_ca=self.certs.ca)
        with k, Daemon(self.tls_config()) as d, d.events() as ev:
            # WCS 4: the SIP account in "connection", srtp beside it
            body = dict(self.rtmp("wcs4"), callId="wcs4-tls", callee="callee",
                        hasAudio="true", hasVideo="false", srtp="mandatory",
                        connection={"sipLogin": "gw", "sipDomain": LOOPBACK,
                                    "sipPort": str(k.tls_port), "sipTransport": "tls"})
            r = d.post("/RESTCall/call", body)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["srtp"], "mandatory")
            ev.wait_call("wcs4-tls", stream="PUBLISHING")
            self.assertToneOn("wcs4")
            self.assertEqual(d.post("/rest-api/call/terminate",
                                    {"callId": "wcs4-tls"}).status, 200)
            ev.wait_call("wcs4-tls", status="FINISH")
            # WCS 5: flat
            body = dict(self.rtmp("wcs5"), callId="wcs5-tls", callee="callee",
                        hasAudio="true", srtp="mandatory", sipLogin="gw",
                        sipDomain=LOOPBACK, sipPort=str(k.tls_port), sipTransport="tls")
            r = d.post("/rest-api/call/startup", body)
            self.assertEqual(r.status, 200, r)
            ev.wait_call("wcs5-tls", stream="PUBLISHING")
            self.assertToneOn("wcs5")
            found = d.post("/rest-api/call/find", {"callId": "wcs5-tls"}).json
            self.assertEqual(found[0]["srtp"], "mandatory")
            self.assertEqual(len(k.lines("INVITE over tls")), 2, k.output()[-3000:])

    def test_the_config_default_srtp_and_a_callee_without_it(self):
        # [sip] srtp=mandatory when a request says nothing: a plain callee
        # answering RTP/AVP without keys fails the call, saying why
        with Daemon(self.config(srtp="mandatory")) as d, d.events() as ev, \
                Sipp("answer_pcmu_wait_bye.xml") as plain:
            r = d.post("/api/v1/calls", dict(self.rtmp("plain"), callId="plain",
                                             callee=plain.uri()))
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json["srtp"], "mandatory")
            failed = ev.wait_call("plain", status="FAILED")
            self.assertEqual(failed["reason"], "the callee answered without SRTP keys "
                             "(a=crypto) and srtp is mandatory")
            self.assertEqual(plain.wait(), 0, plain.report())
            # the request's own value wins
            with Sipp("answer_pcmu_wait_bye.xml", tones={"tone-pcmu.wav": TONE_HZ}) as sipp:
                r = d.post("/api/v1/calls", dict(self.rtmp("off"), callId="off", srtp="off",
                                                 callee=sipp.uri()))
                self.assertEqual(r.json["srtp"], "off")
                ev.wait_call("off", stream="PUBLISHING")
                self.assertToneOn("off")
                self.assertEqual(d.get("/api/v1/calls/off").json["rtpStats"]["srtp"], "off")
            self.assertEqual(d.post("/api/v1/calls", dict(self.rtmp("x"), callee="a@b.c",
                                                          srtp="always")).json["field"],
                             "srtp")

    def test_a_certificate_for_another_host_fails_the_call_with_its_reason(self):
        other = self.certs.issue("other", dns="sip.example.com")
        k = Kamailio("%s:%d" % (LOOPBACK, self.callee.port), *other)
        with k, Daemon(self.tls_config()) as d, d.events() as ev:
            r = d.post("/api/v1/calls", dict(self.rtmp("bad"), callId="bad-cert",
                                             sipTransport="tls", callee="sip:callee@%s:%d" %
                                             (LOOPBACK, k.tls_port)))
            self.assertEqual(r.status, 201, r)
            failed = ev.wait_call("bad-cert", status="FAILED")
            self.assertEqual(failed["reason"], "TLS: the server's certificate is not for "
                             "127.0.0.1")

    def test_a_client_key_others_can_read_stops_the_start(self):
        os.chmod(self.client[1], 0o644)
        d = Daemon(self.tls_config())
        with self.assertRaises(PeerError):
            d.start()
        d.proc.wait(10)
        self.assertNotEqual(d.proc.returncode, 0)
        self.assertIn("tls-key-file", d.log())
        self.assertIn("can be read by others (mode 644): chmod 600 it", d.log())
        d.close()


if __name__ == "__main__":
    unittest.main()
