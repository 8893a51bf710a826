#!/usr/bin/python3
"""Hostile SIP peers get a clear answer and change nothing else
(docs/sipsrc-contract.md, "Hostile peers").

Each test runs two calls in one process, each in a pipeline of its own as
sip2rtmpd runs them (build/tests/calls-driver): a healthy call to a SIPp
callee playing HEALTHY_HZ, and 1 s later a call to a hostile SIPp callee
(tests/scenarios/*, validated against SIPp callers by validate.py). The
hostile call must reach the end state its test names within its timeout:
failed with a status and reason a user understands, or going on unharmed
when what the peer did can be ignored. Whatever it does, the healthy call
keeps its tone from its answer to its callee's BYE, without a gap, its
packets leave sipsrc in real time, and the process neither crashes nor
prints a GStreamer-CRITICAL (G_DEBUG=fatal-criticals). Both calls share one
media thread (SIP2RTMP_MEDIA_THREADS=1) as they share the SIP thread.
"""

from sipsrc_case import (SipsrcTestCase, Sipp, main, TO_WAV, TONE_HZ, EARLY_TONE_HZ,
                         CallsDriver, Calls)
from peers import loud_spans, merge_spans, SENDER_PAUSE_S, free_port, UdpListener, REPO_ROOT, TCP
import hostile_sdp

HEALTHY_HZ = 700        # the hostile callees play TONE_HZ (1000) or EARLY_TONE_HZ (600)
STAGGER_MS = 1000       # the hostile call starts this long after the healthy one
# the most a healthy packet may wait in sipsrc before it is pushed: the
# media loop's 20 ms tick, and the silence fill's 60 ms lag before the
# first packet, with room for a busy machine; a stalled loop is seconds
MAX_LATENESS_MS = 250
PCMU_TO_WAV = "! rtppcmudepay ! mulawdec ! " + TO_WAV
FLOOD = REPO_ROOT / "tests" / "peers" / "rtp_flood.py"
HUGE = {"filler.sdp": hostile_sdp.filler}
ACK_THEN_BYE = "our ACK, then our BYE"


def hostile_call(uri, **props):
    parts = ["sipsrc", "name=hostile", "uri=%s" % uri]
    parts += ["%s=%s" % (k.replace("_", "-"), v) for k, v in props.items()]
    return " ".join(parts)


class SipsrcHostilePeerTest(SipsrcTestCase):

    def beside_a_healthy_call(self, hostile, healthy_s=4.0, **props):
        """Run the healthy call and, STAGGER_MS later, a call to `hostile` (a
        started Sipp) with sipsrc properties `props`; the hostile call is
        stopped (BYE) once the healthy one ended, if it still runs. Checks the
        healthy call and returns (Calls, the hostile call's WAV)."""
        hostile_wav = self.tmp / "hostile.wav"
        healthy_wav = self.tmp / "healthy.wav"
        env = {"SIP2RTMP_MEDIA_THREADS": "1", "G_DEBUG": "fatal-criticals"}
        with Sipp("answer_pcmu_bye.xml", duration_ms=healthy_s * 1000,
                  tones={"tone-pcmu.wav": HEALTHY_HZ}) as healthy:
            pipelines = [
                "sipsrc name=healthy uri=%s " % healthy.uri() +
                PCMU_TO_WAV.format(wav=healthy_wav),
                hostile_call(hostile.uri(), **props) + " " + PCMU_TO_WAV.format(wav=hostile_wav),
            ]
            with CallsDriver(pipelines, env=env, stagger_ms=STAGGER_MS) as driver:
                driver.wait_for(r"(?m)^pipeline 1 ended", healthy_s + 15)
                driver.stop()
                result = driver.wait(15)
            calls = Calls(result)
            self.assertSippPassed(healthy, " (the healthy callee)\n%s" % result)
        self.assertHealthy(calls, healthy_wav, healthy_s)
        return calls, hostile_wav

    def assertHealthy(self, calls, wav, healthy_s):
        r = calls.result
        self.assertEqual(r.returncode, 0, "the process did not end cleanly (a crash, a "
                         "GStreamer-CRITICAL or a hang)\n%s" % r)
        self.assertNotIn("CRITICAL", r.stderr, str(r))
        self.assertEqual(calls.ended(1), "eos", "the healthy call ended by its callee's BYE\n%s"
                         % r)
        self.assertEqual(calls.states("healthy")[-2:], ["established", "terminated"], str(r))
        spans = loud_spans(wav)
        ctx = "healthy call, sounding spans (s): %s\n%s" % (
            [(round(a, 2), round(b, 2)) for a, b in spans], r)
        self.assertWholeTone(spans, healthy_s, "the healthy tone " + ctx)
        stats = calls.stats("healthy")
        self.assertEqual(stats.get("audio-packets-lost"), 0, "healthy packets lost " + ctx)
        self.assertEqual(stats.get("audio-packets-invalid"), 0, ctx)
        # its last packets may trail its BYE (CI14: 195 of 200): the tone's
        # own bound
        self.assertGreaterEqual(stats.get("audio-packets-received"), (healthy_s - 0.3) * 50,
                                "the healthy callee's 20 ms packets came " + ctx)
        half = healthy_s / 2
        self.assertTone(wav, HEALTHY_HZ, start=0.2, duration=half - 0.2, ctx=ctx)
        self.assertTone(wav, HEALTHY_HZ, start=half, duration=half - 0.2, ctx=ctx)
        late, buffers = calls.lateness_ms("healthy")
        self.assertGreater(buffers, 0, ctx)
        self.assertLess(late, MAX_LATENESS_MS, "healthy packets waited in sipsrc " + ctx)

    def assertWholeTone(self, spans, seconds, ctx):
        """loud_spans' `spans` are one tone `seconds` long (within 0.3 s),
        holes of a sender's pause (SENDER_PAUSE_S) aside."""
        self.assertEqual(len(merge_spans(spans, SENDER_PAUSE_S)), 1, "has no gap: " + ctx)
        self.assertGreater(sum(b - a for a, b in spans), seconds - 0.3,
                           "lasts the whole call: " + ctx)

    def assertHostileFailed(self, calls, status, reason, within_s, ctx=""):
        """The hostile call failed with `status` and a reason matching `reason`
        (a regex), as a sip-call message and as the error's text."""
        r = calls.result
        failed = calls.failed("hostile")
        self.assertIsNotNone(failed, "no sip-call 'failed' for the hostile call %s\n%s" %
                             (ctx, r))
        self.assertEqual(failed.get("sip-status"), status, "%s %s\n%s" % (failed, ctx, r))
        self.assertRegex(failed.get("reason"), reason, ctx)
        errors = calls.errors("hostile")
        self.assertTrue(errors, "no error from the hostile sipsrc %s\n%s" % (ctx, r))
        self.assertRegex(errors[0], r"SIP call failed: %d " % status + reason, ctx)
        how, after = calls.ending(2)
        self.assertEqual(how, "error", str(r))
        self.assertLess(after, within_s, "the hostile call failed late %s\n%s" % (ctx, r))

    def assertHostileGoesOn(self, calls, wav, hz=TONE_HZ, ctx=""):
        """The hostile call was up, sounding its tone, until the test stopped it."""
        r = calls.result
        self.assertIsNone(calls.failed("hostile"), "%s\n%s" % (ctx, r))
        self.assertEqual(calls.errors("hostile"), [], "%s\n%s" % (ctx, r))
        self.assertIn("established", calls.states("hostile"), str(r))
        self.assertTone(wav, hz, start=0.3, ctx=ctx)

    def against(self, scenario, expects, sipp=None, healthy_s=4.0, **props):
        """A call to the hostile callee `scenario` (Sipp's keyword arguments
        in `sipp`) beside a healthy call; the callee's scenario must pass
        (`expects`: what it expects of us). Returns (Calls, the hostile WAV)."""
        with Sipp(scenario, **(sipp or {})) as uas:
            calls, wav = self.beside_a_healthy_call(uas, healthy_s, **props)
            self.assertSippPassed(uas, " (expects %s)" % expects)
        return calls, wav

    # --- the answer's SDP

    # A 60 KB 200 over TCP (libre reads up to 64 KB of a message there): a
    # valid answer, however large: the call is taken and goes on.
    def test_a_60_kb_sdp_answer_over_tcp_is_taken_and_the_call_goes_on(self):
        calls, wav = self.against("answer_huge_sdp_wait_bye.xml", ACK_THEN_BYE,
                                  sipp={"extra_args": TCP, "files": HUGE}, transport="tcp")
        self.assertHostileGoesOn(calls, wav)
        self.assertGreater(len(calls.stats("hostile").get("remote-sdp", "")), 60000,
                           "the whole SDP was read")

    # The same 200 over UDP: libre 1.1.0 reads 8 KB of a datagram, so the SDP
    # is cut. Before: "malformed SDP answer", as if the callee had sent
    # garbage. Now the call fails saying the answer was cut and why.
    def test_a_60_kb_sdp_answer_over_udp_is_cut_and_the_call_fails_saying_so(self):
        calls, _ = self.against("answer_huge_sdp_wait_bye.xml", ACK_THEN_BYE,
                                sipp={"files": HUGE})
        self.assertHostileFailed(calls, 200, r"SDP answer cut short: \d+ of \d{5} bytes "
                                 r"arrived \(over UDP a SIP message is read up to 8 KB",
                                 within_s=1)

    # 41 m-lines for the offer's one (RFC 3264: one for each): the answer does
    # not answer our offer. Before: "malformed SDP answer". Now said as it is.
    def test_an_answer_with_dozens_of_m_lines_fails_and_hangs_up(self):
        calls, _ = self.against("answer_many_m_lines_wait_bye.xml", ACK_THEN_BYE,
                                sipp={"files": {"m-lines.sdp": hostile_sdp.m_lines}})
        self.assertHostileFailed(calls, 200, r"SDP answer has 41 m-lines for the offer's 1",
                                 within_s=1)

    # Content-Length 1000 over a 125-byte body: the 200 was cut in transit
    # (RFC 3261, 18.3). Before: the body was taken as it was and the call
    # went on. Now it fails as cut, ACKed and hung up.
    def test_a_content_length_larger_than_the_body_fails_the_call_as_cut(self):
        calls, _ = self.against("answer_content_length_too_large_wait_bye.xml", ACK_THEN_BYE)
        self.assertHostileFailed(calls, 200, r"SDP answer cut short: 125 of 1000 bytes",
                                 within_s=1)

    # Garbage after the Content-Length's end (RFC 3261, 18.3: ignored over
    # UDP). Before: read as SDP, "malformed SDP answer". Now the call goes on.
    def test_bytes_beyond_the_content_length_are_ignored_and_the_call_goes_on(self):
        calls, wav = self.against("answer_content_length_too_small_wait_bye.xml", ACK_THEN_BYE)
        self.assertHostileGoesOn(calls, wav)
        self.assertNotIn("garbage", calls.stats("hostile").get("remote-sdp", ""))

    # An SDP cut off within its m-line: malformed, the call fails and hangs up.
    def test_a_truncated_sdp_answer_fails_and_hangs_up(self):
        calls, _ = self.against("answer_truncated_sdp_wait_bye.xml", ACK_THEN_BYE)
        self.assertHostileFailed(calls, 200, r"malformed SDP answer", within_s=1)

    # c=IN IP4 0.0.0.0: the callee wants no media. The call goes on (its RTP
    # is received) and nothing is sent there: Linux delivers a datagram to
    # 0.0.0.0 to the local host, here the test's socket at the answer's port.
    # Before: our silence (sendrecv) and RTCP went to it.
    def test_an_answer_at_0_0_0_0_is_received_and_nothing_is_sent_there(self):
        port = free_port(2)
        with UdpListener(port) as rtp, UdpListener(port + 1) as rtcp, \
                Sipp("answer_unspecified_address_wait_bye.xml", answer_port=port) as uas:
            calls, wav = self.beside_a_healthy_call(uas, audio="sendrecv")
            self.assertSippPassed(uas, " (expects %s)" % ACK_THEN_BYE)
            self.assertEqual((len(rtp.packets), len(rtcp.packets)), (0, 0),
                             "datagrams sent to 0.0.0.0 (RTP, RTCP)")
        self.assertHostileGoesOn(calls, wav)

    # Port 0 on the only m-line: the callee refused the stream. Before: "no
    # common codec", which it was not. Now said as it is.
    def test_an_answer_refusing_every_stream_with_port_0_fails_saying_so(self):
        calls, _ = self.against("answer_port_zero_wait_bye.xml", ACK_THEN_BYE)
        self.assertHostileFailed(calls, 200, r"the callee refused every stream \(port 0",
                                 within_s=1)

    # --- the answer that never comes

    # 183 with early media, and never a final answer: the early media comes
    # out, then answer-timeout cancels the call (408).
    def test_183_without_final_answer_fails_with_408_at_answer_timeout(self):
        calls, wav = self.against("early_media_183_no_answer.xml",
                                  "our CANCEL, then our ACK of its 487", answer_timeout=2)
        self.assertHostileFailed(calls, 408, r"no answer within 2 s", within_s=3)
        self.assertEqual(calls.states("hostile")[:3], ["trying", "ringing", "early-media"],
                         str(calls.result))
        self.assertTone(wav, EARLY_TONE_HZ, start=0.2)

    # --- in the call

    # Three malformed re-INVITEs (garbage SDP, no m-line, text/plain): each is
    # refused (488, 488, 415: the scenario fails on any other answer) and the
    # call goes on, its tone unbroken. Before: an SDP without m-line and the
    # text/plain body were answered 200.
    def test_malformed_reinvites_are_refused_and_the_call_goes_on(self):
        calls, wav = self.against("reinvite_malformed_bye.xml",
                                  "488, 488 and 415, then our 200 to its BYE",
                                  sipp={"duration_ms": 1000}, healthy_s=5.0)
        self.assertHostileGoesOn(calls, wav)
        self.assertEqual(calls.ended(2), "eos", "ended by the callee's BYE")
        self.assertEqual(len(merge_spans(loud_spans(wav), SENDER_PAUSE_S)), 1,
                         "the hostile call's tone has no gap: %s" % loud_spans(wav))
        self.assertNotIn("re-INVITE", [m.get("reason") for m in calls.messages("hostile")],
                         "a refused re-INVITE is not reported as followed")

    # 20000 datagrams of garbage and malformed RTP in 2 s, at the call's RTP
    # port and its RTCP port (empty, short, version 0/1/3, CSRCs, extension
    # or padding beyond the packet, RTCP at the RTP port, random bytes):
    # dropped and counted, the call goes on with its tone alone. Before: each
    # empty datagram was a GStreamer-CRITICAL (an abort here), and random
    # bytes passing as RTP went out as noise (the output grew to twice the
    # call's length).
    def test_a_flood_of_garbage_rtp_is_dropped_and_the_call_goes_on(self):
        with Sipp("answer_pcmu_rtp_flood_bye.xml", duration_ms=4000, flood=FLOOD,
                  count=20000, seconds=2, flood_args="--rtcp") as uas:
            calls, wav = self.beside_a_healthy_call(uas, healthy_s=6.0)
            self.assertSippPassed(uas, " (expects our 200 to its BYE)")
            flood = (uas.dir / "flood.log").read_text()
        self.assertRegex(flood, r"^sent 20000 datagrams")
        self.assertHostileGoesOn(calls, wav, ctx=flood)
        self.assertEqual(calls.ended(2), "eos", "ended by the callee's BYE")
        spans = loud_spans(wav)
        self.assertEqual(len(merge_spans(spans, SENDER_PAUSE_S)), 1,
                         "the hostile call's tone alone: %s" % spans)
        self.assertAlmostEqual(spans[-1][1] - spans[0][0], 4.0, delta=0.3,
                               msg="no noise added to the call's 4 s: %s" % spans)
        # counted: at least the 2222 shorter than an RTP header at the RTP
        # port (half the flood goes to the RTCP port), and the random bytes
        # that passed for RTP from senders that never sent two in sequence
        stats = calls.stats("hostile")
        self.assertGreater(stats.get("audio-packets-invalid", 0), 2000, str(stats))
        self.assertAlmostEqual(stats.get("audio-packets-received"), 200, delta=5,
                               msg="the callee's 4 s of 20 ms packets, nothing else: %s" %
                               stats)


if __name__ == "__main__":
    main()
