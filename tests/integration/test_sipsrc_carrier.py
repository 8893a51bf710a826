#!/usr/bin/python3
"""The SIP carriers and PBXs speak on long calls (issue 12's three faults and
the keepalive probe): a session refresh by UPDATE (with or without SDP) or by
a re-INVITE without SDP is answered and the call and its audio go on; the
negotiated direction decides whether we send (a sendonly or inactive peer
gets no RTP from us); OPTIONS is answered 200.
"""

import re
import subprocess
import time
from pathlib import Path

from sipsrc_case import SipsrcTestCase, Sipp, GstLaunch, main, sipsrc, wait_until, \
    PCMU_TO_WAV, TONE_HZ
from peers import free_port, UdpListener, LOOPBACK, wav_duration
import rtp_pcap

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
TRANSFER_HZ = 600


def pcmu_rtp(packets):
    return [d for d in packets if len(d) > 12 and d[0] >> 6 == 2 and d[1] & 0x7F == 0]


class SipsrcCarrierTest(SipsrcTestCase):

    def assertToneBeforeAndAfter(self, wav, at, ctx):
        self.assertTone(wav, TONE_HZ, start=0.3, duration=at - 0.5, ctx="(before %s)" % ctx)
        end = wav_duration(wav)
        self.assertGreater(end, at + 1.5, "audio after %s" % ctx)
        self.assertTone(wav, TONE_HZ, start=at + 0.3, duration=end - at - 0.5,
                        ctx="(after %s)" % ctx)

    # Before: libre 1.1.0 answered the UPDATE 501 Not Implemented, and a
    # carrier ends a call whose refresh fails.
    def test_update_with_and_without_sdp_is_answered_and_the_audio_goes_on(self):
        with Sipp("update_refresh_bye.xml", duration_ms=2000) as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30)
            self.assertSippPassed(uas, " (expects 200 to both UPDATEs, then to its BYE)")
            answers = [m for m in uas.received(200) if "UPDATE" in (m.header("CSeq") or "")]
            self.assertEqual(len(answers), 2, uas.report())
            for a in answers:
                self.assertIn("sip:", a.header("Contact") or "", "a 2xx to UPDATE names "
                              "our Contact\n" + a.text)
            self.assertNotIn("m=audio", answers[0].text, "a refresh is answered without SDP")
            self.assertRegex(answers[1].text, r"m=audio [1-9]\d* ", "the offer keeps its audio")
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        self.assertStates(r, ["established", "terminated"])
        self.assertToneBeforeAndAfter(wav, 1.5, "the UPDATEs")

    # An INFO from the peer in the dialog is answered 200 and the call goes on
    def test_an_info_from_the_peer_is_answered_and_the_audio_goes_on(self):
        with Sipp("info_in_dialog_bye.xml", duration_ms=2000) as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30)
            self.assertSippPassed(uas, " (expects 200 to its INFO)")
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        self.assertToneBeforeAndAfter(wav, 1.5, "the INFO")

    # Before: a sendrecv call sent 50 packets of silence a second whatever
    # the peer answered.
    def test_the_answers_direction_decides_whether_we_send(self):
        for direction, we_send in (("sendonly", False), ("inactive", False),
                                   ("recvonly", True), ("sendrecv", True)):
            with self.subTest(direction=direction):
                port = free_port(2)
                with UdpListener(port) as rtp, \
                        Sipp("answer_direction_bye.xml", duration_ms=1500,
                             dir=direction, rtp_sink=port) as uas:
                    r, wav = self.run_to_wav(uas.uri(), timeout=20, audio="sendrecv")
                    self.assertSippPassed(uas)
                    sent = pcmu_rtp(rtp.packets)
                ctx = "(peer a=%s)\n%s" % (direction, r)
                self.assertEqual(r.returncode, 0, ctx)
                if we_send:
                    self.assertGreater(len(sent), 40, "our silence, 50 packets/s " + ctx)
                else:
                    self.assertEqual(sent, [], "RTP sent to a peer that does not receive " + ctx)
                if direction in ("sendonly", "sendrecv"):
                    self.assertTone(wav, TONE_HZ, ctx=ctx)

    # RFC 4028: our INVITE offers the timer; the carrier makes us the
    # refresher; we refresh at half the interval, by UPDATE when its Allow
    # names it, by re-INVITE otherwise (Twilio allows no UPDATE).
    def test_we_refresh_the_session_by_update_when_the_peer_allows_it(self):
        with Sipp("session_timer_refresh_by_update.xml") as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30)
            self.assertSippPassed(uas, " (expects two UPDATEs within 4 s each)")
            invite = uas.received("INVITE")[0]
            self.assertIn("timer", invite.header("Supported") or "", invite.text)
            self.assertEqual(invite.header("Session-Expires"), "1800", invite.text)
            for u in uas.received("UPDATE"):
                self.assertEqual(u.header("Session-Expires"), "4;refresher=uac", u.text)
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        self.assertToneBeforeAndAfter(wav, 2.0, "the first refresh")

    def test_we_refresh_the_session_by_reinvite_when_the_peer_allows_no_update(self):
        with Sipp("session_timer_refresh_by_reinvite.xml") as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30)
            self.assertSippPassed(uas, " (expects a re-INVITE with an offer within 4 s)")
            self.assertEqual(uas.received("UPDATE"), [])
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        refreshed = [m for m in r.element_messages("sip-call")
                     if m.get("reason") == "session refresh"]
        self.assertEqual(len(refreshed), 1, "the answer to our refresh is followed\n%s" % r)
        self.assertTone(wav, TONE_HZ, start=0.3)

    def test_the_peers_refreshes_by_reinvite_get_200s_with_the_interval(self):
        # the callee refreshes (refresher=uas) by re-INVITE three times past
        # the 4 s interval: each 200 of ours must say Session-Expires, or a
        # callee turns its timer off (RFC 4028 7.4) while ours runs on
        with Sipp("session_timer_peer_refreshes_by_reinvite.xml") as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30)
            self.assertSippPassed(uas, " (expects Session-Expires in our 200s)")
            for ok in uas.received(200):
                if "INVITE" in (ok.header("CSeq") or ""):
                    self.assertIn("timer", ok.header("Supported") or "", ok.text)
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        self.assertTone(wav, TONE_HZ, start=0.3)

    def test_a_peers_refresh_below_the_interval_in_force_gets_422_and_its_timer_runs_on(self):
        # RFC 4028 9: a UAS never raises a refresh's interval (before: 200 with
        # 90 s, our Min-SE). The callee's 2xx set 4 s: a refresh at 4 s is
        # granted, one at 3 s (UPDATE, re-INVITE) gets 422 with Min-SE: 4 and
        # the timer of the last granted refresh runs out: BYE, 408
        with Sipp("session_timer_peer_refresh_too_short.xml") as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=20)
            self.assertSippPassed(uas, " (expects 200 at 4 s, 422 with Min-SE: 4 at 3 s, "
                                  "then our BYE within 2 s)")
            self.assertEqual(len(uas.received("BYE")), 1, uas.report())
        self.assertFailedWith(r, 408)
        self.assertIn("session expired: no refresh from the peer within 4 s", str(r))
        self.assertTone(wav, TONE_HZ, start=0.3)

    def test_a_peers_short_reinvite_while_we_refresh_by_reinvite_gets_422(self):
        # the re-INVITEs that libre's session code answers (we refresh by
        # re-INVITE: its glare handling) are refused too when too short
        # (before: its 200, our interval raised to 90 s); our refresh goes on
        with Sipp("session_timer_refresh_by_reinvite_peer_too_short.xml") as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30)
            self.assertSippPassed(uas, " (expects 422 with Min-SE: 4 to its re-INVITE, "
                                  "then our refresh within 4 s)")
            self.assertEqual(len(uas.received("INVITE")), 2, uas.report())
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        self.assertTone(wav, TONE_HZ, start=0.3)

    def test_a_peers_refresh_without_an_interval_gets_no_less_than_its_min_se(self):
        # RFC 4028 9: our 200 names an interval no shorter than the request's
        # Min-SE (before: the 4 s in force, below the callee's Min-SE: 6)
        with Sipp("session_timer_peer_refresh_min_se.xml") as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=20)
            self.assertSippPassed(uas, " (expects Session-Expires: 6;refresher=uac)")
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))

    def test_a_retransmitted_refresh_gets_the_same_200_again(self):
        # the second copy of an UPDATE and of a re-INVITE (same branch and
        # CSeq) is a retransmission: libre's server transaction answers it
        # with the same 200 (Session-Expires included), never 500
        with Sipp("session_timer_peer_refresh_retransmitted.xml", extra_args=["-nr"]) as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=20)
            self.assertSippPassed(uas, " (expects the same 200 to both copies of each refresh)")
            answers = [m for m in uas.received(200)
                       if re.search(r"^\d+ (UPDATE|INVITE)$", m.header("CSeq") or "")]
            self.assertEqual([a.header("CSeq") for a in answers],
                             ["1 UPDATE", "1 UPDATE", "2 INVITE", "2 INVITE"], uas.report())
            self.assertEqual(answers[0].text, answers[1].text, "the UPDATE's 200 again")
            self.assertEqual(answers[2].text, answers[3].text, "the re-INVITE's 200 again")
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        self.assertTone(wav, TONE_HZ, start=0.3)

    def test_a_session_the_peer_does_not_refresh_ends_with_bye_and_its_reason(self):
        with Sipp("session_timer_peer_silent.xml") as uas:
            r, _ = self.run_to_wav(uas.uri(), timeout=20)
            self.assertFailedWith(r, 408)
            self.assertIn("session expired", str(r))
            self.assertSippPassed(uas, " (expects our BYE before the session expires)")
            self.assertEqual(len(uas.received("BYE")), 1)
        # 3 s interval: BYE by min(32 s, a third) before it expires
        self.assertLess(r.elapsed, 6, str(r))

    def test_422_is_followed_with_the_peers_min_se(self):
        with Sipp("session_timer_422.xml", duration_ms=1500, extra_args=["-m", "2"]) as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30)
            self.assertSippPassed(uas, " (expects an INVITE asking for 3600 s after the 422)")
            invites = uas.received("INVITE")
            self.assertEqual([i.header("Session-Expires") for i in invites], ["1800", "3600"],
                             uas.report())
        self.assertEqual(r.returncode, 0, str(r))
        self.assertStates(r, ["established", "terminated"])
        self.assertTone(wav, TONE_HZ)

    # Headers both ways: ours reach the carrier (SIPp checks them), the
    # carrier's X- headers of its 200 are reported with the call
    def test_custom_headers_go_out_and_the_peers_x_headers_come_back(self):
        headers = ('"headers, X-Room=(string)42, '
                   'P-Asserted-Identity=(string)\\\"<sip:+15550001@example.com>\\\""')
        with Sipp("answer_headers_bye.xml", duration_ms=1500) as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=20, sip_headers=headers)
            self.assertSippPassed(uas, " (expects X-Room and P-Asserted-Identity)")
            invite = uas.received("INVITE")[0]
            self.assertEqual(invite.header("X-Room"), "42", invite.text)
        self.assertEqual(r.returncode, 0, str(r))
        established = [m for m in r.stdout.splitlines()
                       if "sip-call" in m and "state=(string)established" in m]
        self.assertTrue(established, str(r))
        self.assertIn("X-Twilio-CallSid", established[0], str(r))
        self.assertIn("CA0123456789abcdef", established[0], str(r))
        self.assertIn("X-Conference", established[0], str(r))
        self.assertTone(wav, TONE_HZ)

    # A blind transfer: the transferor (1000 Hz) REFERs us to a target
    # (600 Hz); the target's media continues the same pads (the same
    # stream), the transferor gets NOTIFY 100 then 200 and our BYE.
    def test_a_refer_moves_the_call_to_the_target_on_the_same_stream(self):
        # the target replays a capture: its own SSRC, as RFC 3550 senders
        # pick one at random (SIPp's rtp_stream uses one SSRC for every call)
        target_audio = rtp_pcap.RtpStream(ssrc=0x7A7A0001, seq=200, ts=4000)
        target_audio.tone(2.5, TRANSFER_HZ)
        with Sipp("answer_one_clock_bye.xml", duration_ms=3300, pt=0, codec="PCMU/8000",
                  files={"audio.pcap": lambda p: rtp_pcap.write_pcap(
                      p, target_audio.packets)}) as target, \
                Sipp("refer_blind_transfer.xml", target=target.host_port) as pbx:
            r, wav = self.run_to_wav(pbx.uri(), timeout=30)
            self.assertSippPassed(pbx, " (expects 202, NOTIFY 100 and 200, then our BYE)")
            self.assertSippPassed(target, " (the transfer target: answered, hung up)")
        self.assertEqual(r.returncode, 0, str(r))
        self.assertTrue(r.got_eos(), "the target's BYE ends the stream\n%s" % r)
        transferred = [m for m in r.element_messages("sip-call")
                       if (m.get("reason") or "").startswith("transferred to sip:service@")]
        self.assertEqual(len(transferred), 1, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        end = wav_duration(wav)
        self.assertTone(wav, TONE_HZ, start=0.3, duration=1.0, ctx="(the transferor)")
        self.assertTone(wav, TRANSFER_HZ, start=end - 1.8, duration=1.5, ctx="(the target)")

    # NAT both ways. We are behind one (public-address 127.0.0.9: Contact
    # and SDP say so, SIPp checks); the callee is behind one too: its SDP
    # names 127.0.0.3 (nothing there), its RTP comes from 127.0.0.2. Our
    # silence must go back where its RTP comes from (symmetric RTP).
    def test_behind_nat_our_public_address_is_announced_and_rtp_goes_back_to_its_source(self):
        peer = UdpListener(free_port(2), host="127.0.0.2")
        tone = rtp_pcap.RtpStream(ssrc=0x5A5A0001)
        tone.tone(2.0, TONE_HZ)
        with peer, Sipp("answer_behind_nat_bye.xml", duration_ms=3000,
                        sdp_port=free_port(2)) as uas:
            gst = GstLaunch(sipsrc(uas.uri(), audio="sendrecv", public_address="127.0.0.9")
                            + " " + PCMU_TO_WAV.format(wav=self.tmp / "out.wav"))
            with gst:
                self.assertTrue(gst.wait_for(r"state=\(string\)established", 10), gst.output())
                invite = uas.received("INVITE")[0].text
                our_port = int(re.search(r"m=audio (\d+) ", invite).group(1))
                start = time.monotonic()
                for i, (t, pkt) in enumerate(tone.packets):
                    delay = start + t - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    peer.send(pkt, LOOPBACK, our_port)
                r = gst.wait(15)
            self.assertSippPassed(uas, " (expects 127.0.0.9 in Contact and SDP)")
        ours = [d for d in pcmu_rtp(peer.packets) if d[8:12] != b"\x5a\x5a\x00\x01"]
        self.assertGreater(len(ours), 40, "our RTP went back to the callee's source\n%s" % r)
        self.assertTone(self.tmp / "out.wav", TONE_HZ)

    def test_options_is_answered_during_a_call(self):
        sip_port = free_port()
        with Sipp("answer_pcmu_wait_bye.xml") as uas:
            wav = self.tmp / "out.wav"
            with GstLaunch(sipsrc(uas.uri(), sip_port=sip_port) + " " +
                           PCMU_TO_WAV.format(wav=wav)) as gst:
                self.assertTrue(gst.wait_for(r"state=\(string\)established", 10), gst.output())
                probe = subprocess.run(
                    ["sipp", "-sf", str(SCENARIOS / "uac" / "uac_options.xml"),
                     "%s:%d" % (LOOPBACK, sip_port), "-i", LOOPBACK, "-p", str(free_port()),
                     "-m", "1", "-nostdin", "-timeout", "10s", "-timeout_error"],
                    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
                self.assertEqual(probe.returncode, 0, "no 200 with Allow: ...UPDATE to "
                                 "OPTIONS\n" + probe.stdout[-2000:] + probe.stderr[-2000:])
                # a request we have no use for gets a refusal, never silence
                other = subprocess.run(
                    ["sipp", "-sf", str(SCENARIOS / "uac" / "uac_message.xml"),
                     "%s:%d" % (LOOPBACK, sip_port), "-i", LOOPBACK, "-p", str(free_port()),
                     "-m", "1", "-nostdin", "-timeout", "10s", "-timeout_error"],
                    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
                self.assertEqual(other.returncode, 0, "no 405/501 to MESSAGE\n" +
                                 other.stdout[-2000:] + other.stderr[-2000:])
                wait_until(lambda: wav.exists() and wav.stat().st_size > 16000, 10,
                           "audio in the wav", gst.proc)
                gst.interrupt()
                r = gst.wait(15)
            self.assertEqual(r.returncode, 0, str(r))
            self.assertTone(wav, TONE_HZ)
            self.assertSippPassed(uas, " (expects our BYE)")


if __name__ == "__main__":
    main()
