#!/usr/bin/python3
"""Known-good check of the SIPp UAS scenarios, before (and without) sipsrc.

Each case runs a UAS scenario through peers.Sipp against a SIPp UAC from
tests/scenarios/uac/ and checks both exit codes.  The negative cases prove
that a scenario FAILS when the caller misbehaves (wrong credentials, early
hang-up), so that `Sipp.wait() == 0` in the sipsrc tests is a real assertion.

usage: validate.py [-v] [case-name ...]
"""

import subprocess
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "peers"))
from peers import Sipp, Kamailio, free_port, LOOPBACK, TCP  # noqa: E402
from rtp_pcap import write_pcap, dtmf_packets, RtpStream  # noqa: E402
from audio_pcap import g722_packets  # noqa: E402
import hostile_sdp  # noqa: E402


def run_uac(uas, scenario, *args, duration_ms=1000, timeout_s=40):
    cmd = ["sipp", "-sf", str(HERE / "uac" / scenario), uas.host_port,
           "-s", "service", "-i", LOOPBACK, "-p", str(free_port()),
           "-mi", LOOPBACK, "-mp", str(free_port(4)), "-m", "1", "-nostdin",
           "-d", str(duration_ms), "-timeout", "%ds" % timeout_s,
           "-timeout_error"] + list(args)
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=60)
    return r.returncode


def tone_pcap(path):
    """1 s of a PCMU tone, for a scenario that replays a capture."""
    s = RtpStream()
    s.tone(1.0, 1000)
    return write_pcap(path, s.packets)


class ScenarioCase(unittest.TestCase):
    def check(self, uas_xml, uac_xml, uas_rc=0, uac_args=(), uac_ms=1000,
              uas_ms=1500, auth_user="alice", auth_pass="secret", then=None,
              files=None, keys=None, tcp=False, uac_timeout_s=40, uas_args=()):
        with Sipp(uas_xml, duration_ms=uas_ms, timeout=40, files=files,
                  extra_args=(TCP if tcp else ()) + tuple(uas_args),
                  auth_user=auth_user, auth_pass=auth_pass,
                  **(keys or {})) as uas:
            uac_rc = run_uac(uas, uac_xml, *uac_args, duration_ms=uac_ms,
                             timeout_s=uac_timeout_s)
            rc = uas.wait()
            self.assertEqual(rc, uas_rc, "UAS %s exit %s (UAC exit %s)%s" %
                             (uas_xml, rc, uac_rc, uas.report()))
            if then:
                then(uas, uac_rc)

    # --- secure calls (tests/integration/test_sipsrc_tls.py, _srtp.py)
    SRTP_KEYS = {"profile": "RTP/SAVP", "answer_port": 0,
                 "crypto": "1 AES_CM_128_HMAC_SHA1_80 "
                           "inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk"}

    def test_answer_pcmu_rr_wait_bye(self):
        self.check("answer_pcmu_rr_wait_bye.xml", "uac_call_hangup.xml",
                   then=lambda uas, _: self.assertTrue(uas.received("BYE")))

    def test_answer_srtp_pcap_wait_bye(self):
        def then(uas, _):
            self.assertTrue(uas.received("BYE"))
            self.assertIn("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:", uas.sent(200)[0].text)
        keys = dict(self.SRTP_KEYS, answer_port=free_port(2))
        self.check("answer_srtp_pcap_wait_bye.xml", "uac_call_hangup.xml",
                   files={"srtp.pcap": tone_pcap}, keys=keys, then=then)

    def rekey_keys(self):
        return dict(self.SRTP_KEYS, answer_port=free_port(2),
                    crypto2="1 AES_CM_128_HMAC_SHA1_80 "
                            "inline:MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0")

    def test_reinvite_srtp_rekey_wait_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            self.assertEqual(len(uas.sent("INVITE")), 1, "one re-INVITE")
            self.assertIn("inline:MDEy", uas.sent("INVITE")[0].text, "the new key")
        self.check("reinvite_srtp_rekey_wait_bye.xml", "uac_call_reinvite_srtp_hangup.xml",
                   uac_ms=1500, files={"srtp1.pcap": tone_pcap, "srtp2.pcap": tone_pcap},
                   keys=self.rekey_keys(), then=then)

    def test_reinvite_srtp_rekey_wait_bye_fails_if_the_answer_has_no_keys(self):
        self.check("reinvite_srtp_rekey_wait_bye.xml", "uac_call_reinvite_hangup.xml",
                   uas_rc=1, uac_ms=1500,
                   files={"srtp1.pcap": tone_pcap, "srtp2.pcap": tone_pcap},
                   keys=self.rekey_keys())

    # --- positive: a well-behaved caller passes the scenario
    def test_answer_pcmu_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            self.assertEqual(len(uas.received(200)), 1, "the caller answered our BYE")
        self.check("answer_pcmu_bye.xml", "uac_call.xml", then=then)

    def test_answer_pcmu_wait_bye(self):
        self.check("answer_pcmu_wait_bye.xml", "uac_call_hangup.xml",
                   then=lambda uas, _: self.assertTrue(uas.received("BYE")))

    def test_answer_pcma_bye(self):
        self.check("answer_pcma_bye.xml", "uac_call.xml")

    def test_auth_401(self):
        self.check("auth_401.xml", "uac_call.xml",
                   uac_args=["-au", "alice", "-ap", "secret"],
                   then=lambda uas, _: self.assertIn(
                       "Authorization: Digest", uas.received("INVITE")[1].text))

    def test_auth_407(self):
        self.check("auth_407.xml", "uac_call.xml",
                   uac_args=["-au", "alice", "-ap", "secret"],
                   then=lambda uas, _: self.assertIsNotNone(
                       uas.received("INVITE")[1].header("Proxy-Authorization")))

    def test_auth_wrong_403(self):
        self.check("auth_wrong_403.xml", "uac_call.xml",
                   uac_args=["-au", "alice", "-ap", "wrong"],
                   then=lambda uas, _: self.assertEqual(len(uas.received("ACK")), 2))

    def test_busy_486(self):
        self.check("busy_486.xml", "uac_call.xml")

    def test_no_answer_cancel(self):
        self.check("no_answer_cancel.xml", "uac_cancel.xml",
                   then=lambda uas, _: self.assertTrue(uas.received("CANCEL")))

    def test_early_media_183(self):
        self.check("early_media_183.xml", "uac_call.xml",
                   then=lambda uas, _: self.assertTrue(uas.sent(183)))

    def test_early_media_183_then_200_pcma(self):
        def then(uas, _):
            self.assertTrue(uas.sent(183))
            self.assertIn("PCMA/8000", uas.sent(200)[0].text)
        self.check("early_media_183_then_200_pcma.xml", "uac_call.xml", then=then)

    def test_reinvite_hold_resume(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            ok = [m for m in uas.received(200) if "INVITE" in (m.header("CSeq") or "")]
            self.assertEqual(len(ok), 2, "the caller answered both re-INVITEs")
        self.check("reinvite_hold_resume.xml", "uac_call_reinvite.xml", uas_ms=1000,
                   then=then)

    def test_reinvite_silent_wait_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            ok = [m for m in uas.received(200) if "INVITE" in (m.header("CSeq") or "")]
            self.assertEqual(len(ok), 1, "the caller answered the re-INVITE")
            self.assertTrue(uas.received("BYE"), "the caller hung up")
        self.check("reinvite_silent_wait_bye.xml", "uac_call_reinvite_hangup.xml",
                   uac_ms=1500, then=then)

    def test_update_refresh_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            ok = [m for m in uas.received(200) if "UPDATE" in (m.header("CSeq") or "")]
            self.assertEqual(len(ok), 2, "the caller answered both UPDATEs")
        self.check("update_refresh_bye.xml", "uac_call_update.xml", uas_ms=500, then=then)

    def test_update_refresh_bye_fails_if_caller_refuses_update(self):
        # uac_call.xml answers no UPDATE: our UPDATE times out
        self.check("update_refresh_bye.xml", "uac_call.xml", uas_rc=1, uas_ms=500)

    def test_answer_direction_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            self.assertIn("a=sendonly", uas.sent(200)[0].text)
        self.check("answer_direction_bye.xml", "uac_call.xml", uas_ms=500, then=then,
                   keys={"dir": "sendonly", "rtp_sink": str(free_port(2))})

    def test_session_timer_peer_refreshes_by_reinvite(self):
        self.check("session_timer_peer_refreshes_by_reinvite.xml",
                   "uac_call_refreshed_by_reinvite.xml",
                   then=lambda uas, rc: self.assertEqual(rc, 0))

    def test_session_timer_peer_refreshes_by_reinvite_fails_without_the_interval(self):
        # a callee whose 200s to the refreshes have no Session-Expires
        # (what libre's session code sent for sipsrc): the scenario fails
        self.check("session_timer_peer_refreshes_by_reinvite.xml", "uac_call_reinvite.xml",
                   uas_rc=1, uac_timeout_s=8)

    def test_session_timer_peer_refresh_too_short(self):
        self.check("session_timer_peer_refresh_too_short.xml",
                   "uac_call_refuses_short_refreshes.xml",
                   uac_args=["-key", "granted", "4;refresher=uac"],
                   then=lambda uas, rc: self.assertEqual(rc, 0))

    def test_session_timer_peer_refresh_too_short_fails_if_the_refresh_is_raised(self):
        # what sipsrc answered before: the refresh at 4 s raised to 90 s
        self.check("session_timer_peer_refresh_too_short.xml",
                   "uac_call_refuses_short_refreshes.xml", uas_rc=1,
                   uac_args=["-key", "granted", "90;refresher=uac"], uac_timeout_s=8)

    def test_session_timer_peer_refresh_retransmitted(self):
        self.check("session_timer_peer_refresh_retransmitted.xml",
                   "uac_call_refreshes_retransmitted.xml",
                   uac_args=["-nr", "-key", "again", "90;refresher=uac"], uas_args=["-nr"],
                   then=lambda uas, rc: self.assertEqual(rc, 0))

    def test_session_timer_peer_refresh_retransmitted_fails_if_the_second_200_differs(self):
        self.check("session_timer_peer_refresh_retransmitted.xml",
                   "uac_call_refreshes_retransmitted.xml", uas_rc=1,
                   uac_args=["-nr", "-key", "again", "1800;refresher=uac"],
                   uas_args=["-nr"], uac_timeout_s=8)

    def test_session_timer_peer_silent(self):
        # the caller hangs up (as sipsrc does when the session expires)
        self.check("session_timer_peer_silent.xml", "uac_call_hangup.xml", uac_ms=500,
                   then=lambda uas, rc: self.assertTrue(uas.received("BYE")))

    def check_codec_change(self, uas_xml, codec, pt, files=None):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            reinvites = uas.sent("INVITE")
            self.assertEqual(len(reinvites), 1, "one re-INVITE")
            self.assertRegex(reinvites[0].text, r"m=audio \d+ RTP/AVP %d\s" % pt,
                             "it offers %s only" % codec)
        self.check(uas_xml, "uac_call_codec_change.xml", uas_ms=1000, files=files,
                   uac_args=["-key", "codec", codec, "-key", "pt", str(pt)], then=then)

    def test_reinvite_codec_change(self):
        self.check_codec_change("reinvite_codec_change.xml", "PCMA", 8)

    def test_reinvite_codec_g722(self):
        self.check_codec_change("reinvite_codec_g722.xml", "G722", 9, files={
            "audio.pcap": lambda p: write_pcap(p, g722_packets([(1.0, 1000)]))})

    def test_reinvite_new_address_new_ssrc(self):
        new_port = free_port(2)

        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            reinvites = uas.sent("INVITE")
            self.assertEqual(len(reinvites), 1, "one re-INVITE")
            self.assertRegex(reinvites[0].text, r"m=audio %d RTP/AVP 0\s" % new_port,
                             "it names the new port")
        self.check("reinvite_new_address_new_ssrc.xml", "uac_call_codec_change.xml",
                   uas_ms=1000, files={"streams.pcap": tone_pcap}, keys={"new_port": new_port},
                   uac_args=["-key", "codec", "PCMU", "-key", "pt", "0"], then=then)

    def test_answer_one_clock_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            self.assertIn("a=rtpmap:0 PCMU/8000", uas.sent(200)[0].text)
        self.check("answer_one_clock_bye.xml", "uac_call.xml", uas_ms=1500,
                   files={"audio.pcap": tone_pcap}, keys={"pt": 0, "codec": "PCMU/8000"},
                   then=then)

    def test_answer_pcmu_dtmf_bye(self):
        self.check("answer_pcmu_dtmf_bye.xml", "uac_call.xml", uas_ms=2000,
                   files={"dtmf.pcap": lambda p: write_pcap(p, dtmf_packets("1#"))},
                   then=lambda uas, _: self.assertIn("telephone-event/8000",
                                                     uas.sent(200)[0].text))

    def test_answer_malformed_sdp(self):
        self.check("answer_malformed_sdp.xml", "uac_call_hangup.xml")

    def test_answer_no_common_codec(self):
        self.check("answer_no_common_codec.xml", "uac_call_hangup.xml")

    # --- hostile callees (tests/integration/test_sipsrc_hostile.py): each
    # scenario runs to its end against a caller that does what sipsrc must do,
    # and sends what it claims to send
    def answer_body(self, uas):
        """The body of the 200 the callee sent, as sent, and its Content-Length."""
        ok = [m for m in uas.sent(200) if "INVITE" in (m.header("CSeq") or "")][0]
        return ok.text.split("\n\n", 1)[1], int(ok.header("Content-Length"))

    def test_answer_huge_sdp_wait_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            body, clen = self.answer_body(uas)
            self.assertGreater(clen, 60000, "a 60 KB answer")
            self.assertIn("m=audio", body)
        # over TCP (SIPp's trace shows the messages with LF line ends)
        self.check("answer_huge_sdp_wait_bye.xml", "uac_call_hangup.xml", then=then,
                   files={"filler.sdp": hostile_sdp.filler}, tcp=True,
                   uac_args=["-t", "t1"])

    def test_answer_many_m_lines_wait_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            self.assertGreaterEqual(self.answer_body(uas)[0].count("m="), 40)
        self.check("answer_many_m_lines_wait_bye.xml", "uac_call_hangup.xml", then=then,
                   files={"m-lines.sdp": hostile_sdp.m_lines})

    def test_answer_content_length_too_large_wait_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            body, clen = self.answer_body(uas)
            self.assertEqual(clen, 1000)
            self.assertLess(len(body.replace("\n", "\r\n")), 500, "a body far shorter")
        self.check("answer_content_length_too_large_wait_bye.xml", "uac_call_hangup.xml",
                   then=then)

    def test_answer_content_length_too_small_wait_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            body, clen = self.answer_body(uas)
            wire = body.replace("\n", "\r\n")
            self.assertEqual(clen, 125)
            self.assertTrue(wire[:clen].endswith("a=sendonly\r\n"),
                            "Content-Length ends exactly after the SDP: %r" % wire[:clen])
            self.assertIn("garbage", wire[clen:])
        self.check("answer_content_length_too_small_wait_bye.xml", "uac_call_hangup.xml",
                   then=then)

    def test_answer_truncated_sdp_wait_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            self.assertRegex(self.answer_body(uas)[0].rstrip(), r"\nm=audio \d+$")
        self.check("answer_truncated_sdp_wait_bye.xml", "uac_call_hangup.xml", then=then)

    def test_answer_unspecified_address_wait_bye(self):
        port = free_port(2)

        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            body = self.answer_body(uas)[0]
            self.assertIn("c=IN IP4 0.0.0.0", body)
            self.assertIn("m=audio %d RTP/AVP 0" % port, body)
        self.check("answer_unspecified_address_wait_bye.xml", "uac_call_hangup.xml",
                   keys={"answer_port": port}, then=then)

    def test_answer_port_zero_wait_bye(self):
        self.check("answer_port_zero_wait_bye.xml", "uac_call_hangup.xml",
                   then=lambda uas, uac_rc: self.assertIn("m=audio 0 RTP/AVP 0",
                                                          self.answer_body(uas)[0]))

    def test_early_media_183_no_answer(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            self.assertTrue(uas.sent(183))
            self.assertFalse(uas.sent(200)[1:], "no final answer but to the CANCEL")
            self.assertTrue(uas.received("CANCEL"))
        self.check("early_media_183_no_answer.xml", "uac_cancel_early_media.xml", then=then)

    def test_reinvite_malformed_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            self.assertEqual([m.status for m in uas.received(488) + uas.received(415)],
                             [488, 488, 415])
            self.assertEqual(len(uas.sent("ACK")), 3, "the callee ACKed each refusal")
        self.check("reinvite_malformed_bye.xml", "uac_call_refuse_reinvites.xml",
                   uas_ms=500, then=then)

    def test_reinvite_without_sdp_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            reinvite = uas.sent("INVITE")[0]
            self.assertEqual(reinvite.header("Content-Length"), "0", "no SDP")
            acks = uas.sent("ACK")
            self.assertEqual(len(acks), 1)
            self.assertIn("m=audio", acks[0].text, "our answer in the ACK")
        self.check("reinvite_without_sdp_bye.xml", "uac_call_codec_change.xml", uas_ms=500,
                   uac_args=["-key", "codec", "PCMU", "-key", "pt", "0"], then=then)

    def test_reinvite_without_sdp_bye_fails_if_the_offer_refuses_the_audio(self):
        # the caller's 200 offers its audio at port 0 (what sipsrc did):
        # SIPp, which follows the media of an SDP, stops with a fatal error
        # (exit 255, "no m=audio ... line found")
        self.check("reinvite_without_sdp_bye.xml", "uac_call_refuse_audio.xml", uas_rc=255,
                   uas_ms=500, uac_timeout_s=4)

    def test_answer_pcmu_rtp_flood_bye(self):
        def then(uas, uac_rc):
            self.assertEqual(uac_rc, 0)
            self.assertRegex((uas.dir / "flood.log").read_text(),
                             r"^sent 2000 datagrams in ")
        self.check("answer_pcmu_rtp_flood_bye.xml", "uac_call.xml", uas_ms=1500, then=then,
                   keys={"flood": HERE.parent / "peers" / "rtp_flood.py", "count": 2000,
                         "seconds": 0.5, "flood_args": "--seed 1"})

    # --- behind a record-routing proxy (tests/integration/test_sipsrc_route.py):
    # the UAC calls through kamailio and sends its requests along the route set
    def check_proxied(self, uas_xml, uac_xml, uas_rc=0, uac_ms=1000, uas_ms=1500,
                      uac_args=(), uac_timeout_s=40, keys=None, then=None):
        with Sipp(uas_xml, duration_ms=uas_ms, timeout=40, **(keys or {})) as uas, \
                Kamailio(uas.host_port) as edge:
            if callable(uac_args):
                uac_args = uac_args(uas)
            uac_rc = run_uac(edge, uac_xml, *uac_args, duration_ms=uac_ms,
                             timeout_s=uac_timeout_s)
            rc = uas.wait()
            self.assertEqual(rc, uas_rc, "UAS %s exit %s (UAC exit %s)%s%s" %
                             (uas_xml, rc, uac_rc, uas.report(), edge.report()))
            if then:
                then(uas, uac_rc, edge)

    def test_proxied_answer_wait_bye(self):
        def then(uas, uac_rc, edge):
            self.assertEqual(uac_rc, 0)
            self.assertEqual([r.method for r in edge.requests()], ["INVITE", "ACK", "BYE"])
        self.check_proxied("proxied_answer_wait_bye.xml", "uac_call_proxied_hangup.xml",
                           then=then)

    def test_proxied_reinvite_update_info_bye(self):
        def then(uas, uac_rc, edge):
            self.assertEqual(uac_rc, 0)
            self.assertEqual([a[1] for a in edge.replies() if a[2] != uas.host_port],
                             ["INVITE", "INVITE", "UPDATE", "INFO", "BYE"],
                             "the caller answered each through the proxy" + edge.report())
        self.check_proxied("proxied_reinvite_update_info_bye.xml",
                           "uac_call_proxied_answers.xml", uas_ms=500, then=then)

    def test_proxied_session_timer_refresh_by_update(self):
        self.check_proxied("proxied_session_timer_refresh_by_update.xml",
                           "uac_call_proxied_update.xml", uac_ms=1000)

    def test_proxied_session_timer_refresh_by_reinvite(self):
        self.check_proxied("proxied_session_timer_refresh_by_reinvite.xml",
                           "uac_call_proxied_reinvite.xml", uac_ms=1000)

    def test_proxied_refer_blind_transfer(self):
        self.check_proxied("proxied_refer_blind_transfer.xml", "uac_call_proxied_transfer.xml",
                           uac_ms=500, keys={"target": "127.0.0.1:9"})

    # --- negative: a misbehaving caller fails the scenario
    def test_auth_401_rejects_wrong_password(self):
        self.check("auth_401.xml", "uac_call.xml", uas_rc=1,
                   uac_args=["-au", "alice", "-ap", "wrong"])

    def test_auth_407_rejects_wrong_user(self):
        self.check("auth_407.xml", "uac_call.xml", uas_rc=1,
                   uac_args=["-au", "mallory", "-ap", "secret"])

    def test_auth_wrong_403_fails_with_right_password(self):
        self.check("auth_wrong_403.xml", "uac_call.xml", uas_rc=1,
                   uac_args=["-au", "alice", "-ap", "secret"])

    def test_reinvite_hold_resume_fails_if_caller_ignores_reinvite(self):
        # uac_call.xml waits for a BYE only: our re-INVITE gets no answer
        self.check("reinvite_hold_resume.xml", "uac_call.xml", uas_rc=1, uas_ms=1000)

    def test_reinvite_malformed_bye_fails_if_caller_accepts_them(self):
        # uac_call_codec_change.xml answers the first re-INVITE with 200 (then
        # waits in vain for an ACK: its own timeout ends it)
        self.check("reinvite_malformed_bye.xml", "uac_call_codec_change.xml", uas_rc=1,
                   uas_ms=500, uac_args=["-key", "codec", "PCMU", "-key", "pt", "0"],
                   uac_timeout_s=4)

    def test_proxied_answer_wait_bye_fails_if_the_caller_bypasses_the_proxy(self):
        # INVITE through the proxy, ACK and BYE straight to the callee: one Via
        self.check_proxied("proxied_answer_wait_bye.xml", "uac_call_bypassing_proxy.xml",
                           uas_rc=1, uac_timeout_s=4,
                           uac_args=lambda uas: ["-key", "callee_host", LOOPBACK,
                                                 "-key", "callee_port", str(uas.port)])

    def test_proxied_answer_wait_bye_fails_without_the_proxy(self):
        # no Record-Route in the INVITE, one Via on each request
        self.check("proxied_answer_wait_bye.xml", "uac_call_proxied_hangup.xml", uas_rc=1)

    def test_answer_pcmu_bye_fails_if_caller_hangs_up_first(self):
        self.check("answer_pcmu_bye.xml", "uac_call_hangup.xml", uas_rc=1,
                   uac_ms=300, uas_ms=3000)


if __name__ == "__main__":
    unittest.main()
