#!/usr/bin/python3
"""SIP over TLS (docs/sipsrc-contract.md, "Secure calls: TLS").

The peer is kamailio with its TLS module in front of a SIPp callee on UDP, as
a carrier's or a PBX's TLS edge is: it asks for our certificate and checks it
against the test's CA (mutual TLS), record-routes so that our ACK and BYE
cross it over TLS too, and logs what it verified. Certificates are made by
openssl in the test's folder (peers.Certs): the server's for 127.0.0.1, ours
for "gateway.example", an expired one, one for another host, one of a CA
nobody trusts. What a user sees is asserted: the tone, the `sip-call`
messages and their reason, what kamailio saw.
"""

from sipsrc_case import (SipsrcTestCase, Sipp, GstLaunch, main, sipsrc, wait_until,
                         PCMU_TO_WAV, TONE_HZ)
import peers
from peers import Certs, KamailioTls as Kamailio
from sipsrc_case import CallsDriver, Calls

ESTABLISHED = r"state=\(string\)established"


class SipsrcTlsTest(SipsrcTestCase):

    def setUp(self):
        super().setUp()
        self.certs = Certs(self.tmp / "certs")
        self.server = self.certs.issue("server", ip="127.0.0.1")
        self.client = self.certs.issue("client", dns="gateway.example", client=True)

    def front(self, sipp, server=None, require_client_cert=True):
        """kamailio's TLS front end for `sipp`, with `server` (cert, key)."""
        cert, key = server or self.server
        k = Kamailio(sipp.host_port if sipp else None, cert, key,
                     require_client_cert=require_client_cert, client_ca=self.certs.ca)
        k.__enter__()
        self.addCleanup(k.close)
        return k

    def tls_props(self, **more):
        props = dict(tls_ca_file=self.certs.ca, tls_cert_file=self.client[0],
                     tls_key_file=self.client[1])
        props.update(more)
        return props

    def assertTlsRefused(self, server, reason):
        """The call fails at once with `reason`, before any SIP answer."""
        with Sipp("answer_pcmu_rr_wait_bye.xml") as uas:
            k = self.front(uas, server)
            r, _ = self.run_to_wav(k.uri(), timeout=20, **self.tls_props())
            self.assertFailedWith(r, 0)
            failed = [m for m in r.element_messages("sip-call") if m.get("state") == "failed"]
            self.assertEqual(failed[-1].get("reason"), reason, str(r))
            self.assertLess(r.elapsed, 10, "not at once\n%s" % r)
            self.assertEqual(k.lines("INVITE over"), [], "an INVITE crossed a refused "
                             "connection\n" + k.output()[-3000:])

    def test_a_tls_call_through_a_proxy_checking_our_certificate_carries_the_tone_and_bye(self):
        with Sipp("answer_pcmu_rr_wait_bye.xml") as uas:
            k = self.front(uas)
            wav = self.tmp / "out.wav"
            with GstLaunch(sipsrc(k.uri(), **self.tls_props()) + " " +
                           PCMU_TO_WAV.format(wav=wav)) as gst:
                self.assertTrue(gst.wait_for(ESTABLISHED, 10), gst.output() +
                                k.output()[-3000:])
                wait_until(lambda: wav.exists() and wav.stat().st_size > 24000, 10,
                           "audio in the wav", gst.proc)
                gst.interrupt()     # -e: EOS, then NULL: the element hangs up
                r = gst.wait(15)
            self.assertEqual(r.returncode, 0, str(r))
            self.assertTone(wav, TONE_HZ)
            self.assertSippPassed(uas, " (expects our BYE, through kamailio)")
            invites = k.lines("INVITE over")
            self.assertEqual(len(invites), 1, k.output()[-3000:])
            # kamailio checked our certificate against the test's CA
            self.assertIn("INVITE over tls", invites[0])
            self.assertIn("verified=1 cn=gateway.example", invites[0])
            in_dialog = k.lines("IN-DIALOG")
            self.assertTrue([l for l in in_dialog if "ACK over tls" in l], k.output()[-3000:])
            self.assertTrue([l for l in in_dialog if "BYE over tls" in l], k.output()[-3000:])

    def test_an_expired_server_certificate_fails_the_call_saying_so(self):
        self.assertTlsRefused(self.certs.issue("expired", ip="127.0.0.1", days=-1),
                              "TLS: the server's certificate was refused: "
                              "certificate has expired")

    def test_a_server_certificate_for_another_host_fails_the_call_saying_so(self):
        self.assertTlsRefused(self.certs.issue("other", dns="sip.example.com"),
                              "TLS: the server's certificate is not for 127.0.0.1")

    def test_a_server_certificate_of_a_ca_nobody_trusts_fails_the_call_saying_so(self):
        self.assertTlsRefused(self.certs.issue("self", ip="127.0.0.1", ca=False),
                              "TLS: the server's certificate was refused: "
                              "self-signed certificate")

    def test_the_system_bundle_does_not_trust_a_private_ca(self):
        # no tls-ca-file: SSL_CERT_FILE is honoured, the system's bundle
        # otherwise; neither knows the test's CA
        with Sipp("answer_pcmu_rr_wait_bye.xml") as uas:
            k = self.front(uas)
            props = self.tls_props()
            del props["tls_ca_file"]
            r, _ = self.run_to_wav(k.uri(), timeout=20, **props)
            self.assertFailedWith(r, 0)
            self.assertIn("TLS: the server's certificate was refused", r.text)
            r, wav = self.run_to_wav(k.uri(), timeout=8, env={"SSL_CERT_FILE": str(self.certs.ca)},
                                     **props)
            self.assertStates(r, ["established"])

    def test_tls_verify_false_takes_an_untrusted_certificate_with_a_warning(self):
        with Sipp("answer_pcmu_rr_wait_bye.xml") as uas:
            k = self.front(uas, self.certs.issue("self", ip="127.0.0.1", ca=False))
            r, wav = self.run_to_wav(k.uri(), timeout=6, tls_verify=False,
                                     tls_cert_file=self.client[0], tls_key_file=self.client[1])
            self.assertStates(r, ["established"])
            self.assertIn("tls-verify is off: the certificate of 127.0.0.1 is not checked",
                          r.text)
            self.assertTone(wav, TONE_HZ)

    def test_a_proxy_wanting_our_certificate_when_we_have_none_fails_saying_so(self):
        with Sipp("answer_pcmu_rr_wait_bye.xml") as uas:
            k = self.front(uas)
            r, _ = self.run_to_wav(k.uri(), timeout=20, tls_ca_file=self.certs.ca,
                                   answer_timeout=3)
            failed = [m for m in r.element_messages("sip-call") if m.get("state") == "failed"]
            self.assertTrue(failed, str(r))
            self.assertIn("TLS: the server asks for our certificate (mutual TLS) and none "
                          "is configured (tls-cert-file)", failed[-1].get("reason"), str(r))

    def test_a_sips_uri_is_called_over_tls(self):
        with Sipp("answer_pcmu_rr_wait_bye.xml") as uas:
            k = self.front(uas)
            uri = "sips:service@%s:%d" % (peers.LOOPBACK, k.tls_port)
            r, wav = self.run_to_wav(uri, timeout=6, **self.tls_props())
            self.assertStates(r, ["established"])
            self.assertIn("INVITE over tls", "\n".join(k.lines("INVITE over")),
                          k.output()[-3000:])
            self.assertTone(wav, TONE_HZ)

    def test_two_calls_to_one_peer_share_one_tls_connection(self):
        # two callees behind one kamailio (routed by the user part: their
        # ports), two calls in one process as sip2rtmpd runs them
        with Sipp("answer_pcmu_rr_wait_bye.xml") as a, \
                Sipp("answer_pcmu_rr_wait_bye.xml") as b:
            k = self.front(None)
            pipelines = []
            for name, uas in (("first", a), ("second", b)):
                pipelines.append(sipsrc(k.uri(user=str(uas.port)), **self.tls_props())
                                 .replace("name=src", "name=" + name) +
                                 " ! rtppcmudepay ! mulawdec ! fakesink")
            with CallsDriver(pipelines, stagger_ms=500) as d:
                for name in ("first", "second"):
                    self.assertTrue(d.wait_for(r'"%s" \(element\): sip-call, state=\(string\)'
                                               r'established' % name, 10), d.output())
                connections = k.established_tls_connections()
                d.stop()
                r = d.wait(15)
            self.assertEqual(connections, 1, "TLS connections to the peer: %d" % connections)
            self.assertEqual(len(k.lines("INVITE over tls")), 2, k.output()[-3000:])
            self.assertEqual(len([l for l in k.lines("IN-DIALOG BYE over tls")]), 2,
                             k.output()[-3000:] + str(r))
            self.assertSippPassed(a)
            self.assertSippPassed(b)
            calls = Calls(r)
            self.assertEqual(calls.ended(1), "stopped", str(r))


if __name__ == "__main__":
    main()
