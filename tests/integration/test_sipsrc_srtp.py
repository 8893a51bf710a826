#!/usr/bin/python3
"""SRTP with SDES keys (docs/sipsrc-contract.md, "Secure calls: SRTP").

Real peers on 127.0.0.1: baresip (its srtp module: `srtp-mand` requires SRTP,
`srtp` offers it optionally, none refuses it) and SIPp callees answering with
an a=crypto line and replaying SRTP captures made ahead with libsrtp
(tests/peers/srtp.py: SIPp itself knows no SRTP). What sipsrc sends reaches a
listener of the test, which checks that it is not plain RTP and that libsrtp,
another implementation than sipsrc's, decrypts it with the key of our offer.
"""

import os
import re
import struct
import time

from sipsrc_case import (SipsrcTestCase, Sipp, Baresip, GstLaunch, main, sipsrc,
                         make_tone_wav, PCMU_TO_WAV, TONE_HZ, EARLY_TONE_HZ)
import peers
import srtp
from rtp_pcap import RtpStream, write_pcap
from sipsrc_case import CallsDriver, Calls

ESTABLISHED = r"state=\(string\)established"
PCMU_SILENCE = b"\xff" * 160


def srtp_capture(suite, key, seconds, hz, stream=None):
    """(time, SRTP datagram) of `seconds` of a PCMU tone, protected by libsrtp."""
    s = stream or RtpStream()
    first = len(s.packets)
    s.tone(seconds, hz)
    plain = s.packets[first:]
    return [(t, d) for (t, _), d in zip(plain, srtp.protect(suite, key,
                                                            [p for _, p in plain]))]


def forge(datagram):
    """The same packet with one payload byte changed: its tag no longer fits."""
    b = bytearray(datagram)
    b[20] ^= 0x01
    return bytes(b)


def rtp_header(datagram):
    """(payload type, sequence number, SSRC) of a RTP datagram."""
    _, pt, seq, _, ssrc = struct.unpack("!BBHII", datagram[:12])
    return pt & 0x7F, seq, ssrc


class SipsrcSrtpTest(SipsrcTestCase):

    # --- baresip: what a real user agent requires, offers or refuses

    def baresip_call(self, mediaenc, srtp_mode, **props):
        wav = make_tone_wav(self.tmp / "tone.wav", TONE_HZ, 3.0, fmt="s16")
        with Baresip(wav, mediaenc=mediaenc) as callee:
            r, out = self.run_to_wav(callee.uri, timeout=4, srtp=srtp_mode,
                                     audio="sendrecv", **props)
            return r, out, callee.output()

    def test_a_callee_requiring_srtp_gets_it_and_its_tone_comes_through(self):
        r, wav, log = self.baresip_call("srtp-mand", "mandatory")
        self.assertStates(r, ["established"])
        self.assertIn("SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)", log)
        # baresip took our SRTP too: it decoded our silence
        self.assertIn("incoming rtp for 'audio' established", log)
        self.assertTone(wav, TONE_HZ)

    def test_a_callee_offering_srtp_optionally_gets_it_from_an_optional_call(self):
        r, wav, log = self.baresip_call("srtp", "optional")
        self.assertStates(r, ["established"])
        self.assertIn("SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)", log)
        self.assertTone(wav, TONE_HZ)

    def test_a_callee_without_srtp_gets_plain_rtp_from_an_optional_call(self):
        r, wav, log = self.baresip_call(None, "optional")
        self.assertStates(r, ["established"])
        self.assertNotIn("SRTP is Enabled", log)
        self.assertTone(wav, TONE_HZ)

    def test_a_callee_without_srtp_refuses_a_mandatory_call_with_488(self):
        r, _, _ = self.baresip_call(None, "mandatory")
        self.assertFailedWith(r, 488)
        failed = [m for m in r.element_messages("sip-call") if m.get("state") == "failed"]
        self.assertIn("srtp is mandatory", failed[-1].get("reason"), str(r))

    def test_a_callee_answering_without_keys_fails_a_mandatory_call_saying_so(self):
        # a callee that ignores RTP/SAVP and answers plain RTP/AVP
        with Sipp("answer_pcmu_wait_bye.xml") as uas:
            r, _ = self.run_to_wav(uas.uri(), timeout=15, srtp="mandatory")
            self.assertFailedWith(r, 200)
            failed = [m for m in r.element_messages("sip-call") if m.get("state") == "failed"]
            self.assertEqual(failed[-1].get("reason"), "the callee answered without SRTP "
                             "keys (a=crypto) and srtp is mandatory", str(r))
            self.assertSippPassed(uas, " (expects our BYE)")

    # --- SIPp and libsrtp: the wire

    def srtp_callee(self, suite, key, packets, profile="RTP/SAVP", port=None):
        tag = 1 if suite == srtp.SUITE_80 else 2
        uas = Sipp("answer_srtp_pcap_wait_bye.xml",
                   files={"srtp.pcap": lambda p: write_pcap(p, packets)},
                   profile=profile, crypto=srtp.crypto_attr(tag, suite, key),
                   answer_port=port or peers.free_port(2))
        uas.__enter__()
        self.addCleanup(uas.close)
        return uas

    def check_the_wire(self, suite):
        """A sendrecv call with DTMF: what we send is SRTP of our key."""
        key = srtp.new_key()
        port = peers.free_port(2)
        with peers.UdpListener(port) as rtp, peers.UdpListener(port + 1) as rtcp:
            uas = self.srtp_callee(suite, key, srtp_capture(suite, key, 3.0, TONE_HZ),
                                   port=port)
            wav = self.tmp / "out.wav"
            with GstLaunch(sipsrc(uas.uri(), srtp="mandatory", audio="sendrecv", dtmf="1") +
                           " " + PCMU_TO_WAV.format(wav=wav)) as gst:
                self.assertTrue(gst.wait_for(ESTABLISHED, 10), gst.output())
                # RTCP every 5 s (0.5 to 1.5 times): wait for two reports
                peers.wait_until(lambda: len(rtcp.packets) >= 2, 12, "our RTCP", gst.proc)
                gst.interrupt()
                r = gst.wait(15)
            self.assertEqual(r.returncode, 0, str(r))
            self.assertSippPassed(uas, " (expects our BYE)")
            self.assertTone(wav, TONE_HZ)
            sent_rtp, sent_rtcp = rtp.packets, rtcp.packets

        offer = uas.received("INVITE")[0].text
        self.assertIn("m=audio %s RTP/SAVP" % re.search(r"m=audio (\d+)", offer).group(1),
                      offer)
        keys = srtp.crypto_attrs(offer)
        self.assertEqual([(t, s) for t, s, _ in keys],
                         [(1, srtp.SUITE_80), (2, srtp.SUITE_32)], offer)
        ours = [k for _, s, k in keys if s == suite][0]
        self.assertNotEqual(keys[0][2], keys[1][2], "one key for both suites")

        # on the wire: RTP headers in clear, payloads not our silence, each
        # with the suite's tag
        self.assertGreater(len(sent_rtp), 100, "we sent no RTP")
        audio = [d for d in sent_rtp if rtp_header(d)[0] == 0]
        self.assertTrue(audio)
        self.assertEqual({len(d) for d in audio}, {12 + 160 + srtp.TAG_LEN[suite]})
        self.assertFalse([d for d in audio if PCMU_SILENCE in d], "plain silence on the wire")
        # libsrtp decrypts every packet with our key: silence and DTMF events
        plain = srtp.unprotect(suite, ours, sent_rtp)
        self.assertNotIn(None, plain, "%d of %d packets did not decrypt" %
                         (plain.count(None), len(plain)))
        self.assertTrue(all(p[12:] == PCMU_SILENCE for p in plain if rtp_header(p)[0] == 0))
        events = [p for p in plain if rtp_header(p)[0] != 0]
        self.assertTrue(events, "no RFC 4733 event")
        self.assertEqual(events[0][12], 1, "the event is not digit 1")
        # and our RTCP is SRTCP (an 80-bit tag with either suite)
        rtcp_plain = srtp.unprotect_rtcp(suite, ours, sent_rtcp)
        self.assertNotIn(None, rtcp_plain)
        self.assertTrue(all(p[1] == 201 for p in rtcp_plain), "not receiver reports")
        self.assertFalse([d for d in sent_rtcp if b"sipsrc-" in d], "our CNAME in clear")

    def test_what_we_send_is_srtp_that_libsrtp_decrypts_to_our_silence_reports_and_dtmf(self):
        self.check_the_wire(srtp.SUITE_80)

    def test_the_32_bit_suite_carries_the_tone_and_our_srtcp_keeps_80_bit_tags(self):
        self.check_the_wire(srtp.SUITE_32)

    def call_for(self, uri, seconds, **props):
        """A call hung up by us after `seconds`: (result, wav)."""
        wav = self.tmp / "out.wav"
        with GstLaunch(sipsrc(uri, **props) + " " + PCMU_TO_WAV.format(wav=wav)) as gst:
            self.assertTrue(gst.wait_for(ESTABLISHED, 10), gst.output())
            time.sleep(seconds)
            gst.interrupt()
            return gst.wait(15), wav

    def test_an_optional_call_uses_the_keys_of_an_answer_in_rtp_avp(self):
        key = srtp.new_key()
        uas = self.srtp_callee(srtp.SUITE_80, key, srtp_capture(srtp.SUITE_80, key, 2.0,
                                                                 TONE_HZ), profile="RTP/AVP")
        r, wav = self.call_for(uas.uri(), 2.5, srtp="optional")
        self.assertEqual(r.returncode, 0, str(r))
        self.assertSippPassed(uas, " (expects our BYE)")
        offer = uas.received("INVITE")[0].text
        self.assertIn(" RTP/AVP ", offer)
        self.assertEqual(len(srtp.crypto_attrs(offer)), 2, offer)
        self.assertTone(wav, TONE_HZ)

    def test_replayed_and_forged_packets_are_dropped_counted_and_never_decoded(self):
        key = srtp.new_key()
        suite = srtp.SUITE_80
        # a sequence high enough that a packet claiming a wrap (RFC 3711's
        # rollover) can be forged: libre would move its counter before the
        # tag is checked, and every real packet after it would fail
        good = srtp_capture(suite, key, 3.0, TONE_HZ, RtpStream(seq=50000))
        capture, bad = [], 0
        for i, (t, d) in enumerate(good):
            capture.append((t, d))
            if i and i % 10 == 0:
                _, seq, ssrc = rtp_header(d)
                wrap = bytearray(good[i - 1][1])
                struct.pack_into("!H", wrap, 2, (seq + 20000) & 0xFFFF)
                stranger = bytearray(d)
                struct.pack_into("!I", stranger, 8, ssrc ^ 0x5A5A5A5A)
                capture += [(t, good[i - 5][1]),            # replayed
                            (t, forge(d)),                   # forged payload
                            (t, bytes(wrap)),                # forged wrap
                            (t, bytes(stranger)),            # another sender
                            (t, d[:12] + os.urandom(len(d) - 12))]   # garbage
                bad += 5
        uas = self.srtp_callee(suite, key, capture)
        wav = self.tmp / "out.wav"
        with CallsDriver([sipsrc(uas.uri(), srtp="mandatory") + " " +
                          PCMU_TO_WAV.format(wav=wav)]) as d:
            self.assertTrue(d.wait_for(ESTABLISHED, 10), d.output())
            time.sleep(4.0)             # the capture: 3 s
            d.stop()
            r = d.wait(15)
        stats = Calls(r).stats("src")
        self.assertEqual(stats.get("audio-srtp"), suite, str(r))
        self.assertEqual(stats.get("audio-srtp-dropped"), bad, str(r))
        self.assertEqual(stats.get("audio-packets-received"), len(good), str(r))
        self.assertEqual(stats.get("audio-packets-invalid"), 0, str(r))
        # the tone without a hole: every real packet decoded, nothing else
        spans = peers.loud_spans(wav)
        self.assertEqual(len(peers.merge_spans(spans, peers.SENDER_PAUSE_S)), 1,
                         "the tone has holes: %s" % spans)
        self.assertAlmostEqual(sum(b - a for a, b in spans), 3.0, delta=0.1, msg=str(spans))
        self.assertTone(wav, TONE_HZ)
        self.assertSippPassed(uas, " (expects our BYE)")

    def test_a_reinvite_with_new_keys_is_followed(self):
        suite = srtp.SUITE_80
        key1, key2 = srtp.new_key(), srtp.new_key()
        stream = RtpStream()
        first = srtp_capture(suite, key1, 1.5, TONE_HZ, stream)
        # the same sender goes on under the new key
        t0 = stream.t
        second = [(t - t0, d) for t, d in srtp_capture(suite, key2, 2.0, EARLY_TONE_HZ,
                                                         stream)]
        with Sipp("reinvite_srtp_rekey_wait_bye.xml",
                  files={"srtp1.pcap": lambda p: write_pcap(p, first),
                         "srtp2.pcap": lambda p: write_pcap(p, second)},
                  profile="RTP/SAVP", crypto=srtp.crypto_attr(1, suite, key1),
                  crypto2=srtp.crypto_attr(1, suite, key2),
                  answer_port=peers.free_port(2)) as uas:
            wav = self.tmp / "out.wav"
            with CallsDriver([sipsrc(uas.uri(), srtp="mandatory") + " " +
                              PCMU_TO_WAV.format(wav=wav)]) as d:
                self.assertTrue(d.wait_for(r"reason=\(string\)re-INVITE", 10), d.output())
                time.sleep(2.5)         # the second capture: 2 s
                d.stop()
                r = d.wait(15)
            self.assertSippPassed(uas, " (expects keys in our answer, then our BYE)")
            offer = uas.received("INVITE")[0].text
            answer = [m for m in uas.parsed_messages()
                      if m.direction == "received" and m.status == 200][0].text
        # our answer keeps our key (its counters go on), for the tag offered
        ours = {t: k for t, _, k in srtp.crypto_attrs(offer)}
        self.assertEqual([(t, k) for t, _, k in srtp.crypto_attrs(answer)], [(1, ours[1])],
                         answer)
        stats = Calls(r).stats("src")
        self.assertEqual(stats.get("audio-srtp-dropped"), 0, str(r))
        self.assertTone(wav, TONE_HZ, 0.0, 1.3)
        self.assertTone(wav, EARLY_TONE_HZ, 2.2, 1.5)

    def test_keys_appear_in_no_log_message_or_stats(self):
        key = srtp.new_key()
        uas = self.srtp_callee(srtp.SUITE_80, key, srtp_capture(srtp.SUITE_80, key, 2.0,
                                                                 TONE_HZ))
        env = {"GST_DEBUG": "sipsrc:9,libre:9,sipstream:9,siprtpsource:9"}
        with CallsDriver([sipsrc(uas.uri(), srtp="mandatory") + " " +
                          PCMU_TO_WAV.format(wav=self.tmp / "out.wav")], env=env) as d:
            self.assertTrue(d.wait_for(ESTABLISHED, 10), d.output())
            time.sleep(1.0)
            d.stop()
            r = d.wait(15)
        offer = uas.received("INVITE")[0].text
        ours = [k for _, _, k in srtp.crypto_attrs(offer)]
        self.assertEqual(len(ours), 2)
        text = r.stdout + r.stderr
        self.assertIn("a=crypto", text, "the SDP traces are not in the log")
        for k in ours + [key]:
            self.assertNotIn(k, text, "a key in the output")
            self.assertNotIn(k[:16], text, "a key in the output")
        stats = Calls(r).stats("src")
        self.assertIn("inline:***", stats.get("remote-sdp"), str(stats))


if __name__ == "__main__":
    main()
