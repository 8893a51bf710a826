"""sip2rtmpd takes incoming calls over TLS (issue 14): `[sip] listen=tls:...`
with `[sip] tls-cert-file`/`tls-key-file` as the certificate callers check.

The caller is baresip over TLS (its account `;transport=tls`, trusting the
test's CA, printing every SIP message with its transport: -s); certificates
are made by openssl in the test's folder (peers.Certs). Real daemon, real
nginx-rtmp; the tone is read back from the RTMP stream.
"""

import socket
import ssl
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "peers"))
from daemon import (Daemon, NginxRtmp, assert_tone_on, free_port,  # noqa: E402
                    wait_until, LOOPBACK, daemon_binary, daemon_env)
from peers import Baresip, Certs, make_tone_wav  # noqa: E402

TONE_HZ = 700


class DaemonIncomingTlsTest(unittest.TestCase):

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="sip2rtmp-tls-in-"))
        self.addCleanup(subprocess.run, ["rm", "-rf", str(self.tmp)])
        self.certs = Certs(self.tmp / "certs")
        self.cert, self.key = self.certs.issue("gateway", ip=LOOPBACK)
        # our BYE goes to the caller's Contact: baresip listens for it over TLS
        self.phone_cert = self.certs.issue("phone", ip=LOOPBACK)
        self.sip_port = free_port()
        self.tone = make_tone_wav(self.tmp / "tone.wav", TONE_HZ, 60, "s16")

    def config(self, cert=None, key=None):
        return ("[sip]\nlisten=tls:%s:%d\ntls-cert-file=%s\ntls-key-file=%s\n" %
                (LOOPBACK, self.sip_port, cert or self.cert, key or self.key))

    def phone(self, user):
        """baresip calling `user` on the daemon over TLS, playing the tone."""
        return Baresip(self.tone, user="alice", tls_ca=self.certs.ca, trace=True,
                       tls_cert=self.phone_cert,
                       dial="sip:%s@%s:%d" % (user, LOOPBACK, self.sip_port))

    def route(self, d, nginx, user):
        r = d.post("/api/v1/routes", {"user": user, "rtmpStream": user,
                                      "rtmpUrl": "rtmp://%s:%d/live" % (LOOPBACK, nginx.port)})
        self.assertEqual(r.status, 201, r)

    def call_up(self, ev, user):
        call = ev.wait(lambda e: e.get("direction") == "incoming" and
                       e.get("calledUser") == user, 20, "an incoming call to %s" % user)
        ev.wait_call(call["callId"], status="ESTABLISHED")
        ev.wait_call(call["callId"], stream="PUBLISHING")
        return call["callId"]

    def assertToneOn(self, nginx, stream):
        assert_tone_on(self, nginx, stream, TONE_HZ, self.tmp / ("%s.wav" % stream))

    def tls_lines(self, phone, method_or_status):
        """baresip's trace lines announcing a message received over TLS whose
        first line starts with `method_or_status` ("BYE", "SIP/2.0 200")."""
        lines = phone.output().splitlines()
        return [lines[i] for i in range(len(lines) - 2)
                if "TLS" in lines[i] and "->" in lines[i] and
                any(l.startswith(method_or_status) for l in lines[i + 1:i + 3])]

    def start_refused(self, config):
        conf = self.tmp / "bad.conf"
        conf.write_text(config)
        return subprocess.run([daemon_binary(), "--config", str(conf), "--listen",
                               "%s:%d" % (LOOPBACK, free_port())],
                              env=daemon_env(), capture_output=True, text=True, timeout=15)

    def test_a_call_in_over_tls_reaches_its_route_and_its_tone_is_published(self):
        with NginxRtmp() as nginx, Daemon(self.config()) as d, d.events() as ev:
            self.route(d, nginx, "room1")
            with self.phone("room1") as phone:
                call_id = self.call_up(ev, "room1")
                self.assertToneOn(nginx, "room1")
                # our 200 came back over TLS, its Contact saying so
                self.assertTrue(self.tls_lines(phone, "SIP/2.0 200"), phone.output())
                self.assertIn("transport=tls>", phone.output())
                got = d.get("/api/v1/calls/%s" % call_id).json
                self.assertEqual(got["direction"], "incoming")
                self.assertIn("alice", got["caller"])

    def test_delete_hangs_up_a_tls_call_and_our_bye_reaches_the_caller_over_tls(self):
        with NginxRtmp() as nginx, Daemon(self.config()) as d, d.events() as ev:
            self.route(d, nginx, "room2")
            with self.phone("room2") as phone:
                call_id = self.call_up(ev, "room2")
                r = d.delete("/api/v1/calls/%s" % call_id)
                self.assertIn(r.status, (200, 202), r)
                ev.wait_call(call_id, status="FINISH")
                wait_until(lambda: "session closed" in phone.output(), 10,
                           "baresip to see our BYE")
                self.assertEqual(len(self.tls_lines(phone, "BYE ")), 1, phone.output())

    def test_a_caller_whose_tls_handshake_fails_does_not_disturb_a_call_up(self):
        with NginxRtmp() as nginx, Daemon(self.config()) as d, d.events() as ev:
            self.route(d, nginx, "room3")
            with self.phone("room3") as phone:
                call_id = self.call_up(ev, "room3")
                # one that trusts another CA: it refuses our certificate
                other = Certs(self.tmp / "other")
                ctx = ssl.create_default_context(cafile=str(other.ca))
                with socket.create_connection((LOOPBACK, self.sip_port), 5) as raw:
                    with self.assertRaises(ssl.SSLCertVerificationError):
                        ctx.wrap_socket(raw, server_hostname=LOOPBACK)
                # one that speaks plain SIP to the TLS port
                with socket.create_connection((LOOPBACK, self.sip_port), 5) as raw:
                    raw.sendall(b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n\r\n")
                    raw.settimeout(5)
                    self.assertNotIn(b"SIP/2.0", raw.recv(4096))
                self.assertToneOn(nginx, "room3")
                self.assertEqual(d.get("/api/v1/calls/%s" % call_id).json["status"],
                                 "ESTABLISHED")
                r = d.delete("/api/v1/calls/%s" % call_id)
                self.assertIn(r.status, (200, 202), r)
                ev.wait_call(call_id, status="FINISH")
                wait_until(lambda: self.tls_lines(phone, "BYE "), 10,
                           "our BYE over TLS after the failed handshakes")

    def test_listening_over_tls_without_a_certificate_stops_the_start_naming_the_key(self):
        r = self.start_refused("[sip]\nlisten=tls:%s:%d\n" % (LOOPBACK, self.sip_port))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("tls-cert-file", r.stderr)

    def test_a_key_that_is_not_the_certificates_stops_the_start_and_is_not_shown(self):
        _, other_key = self.certs.issue("other", ip=LOOPBACK)
        r = self.start_refused(self.config(key=other_key))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("not our certificate's (tls-key-file", r.stderr)
        self.assertNotIn(str(other_key), r.stderr)
        self.assertNotIn("PRIVATE KEY", r.stderr)


if __name__ == "__main__":
    unittest.main()
