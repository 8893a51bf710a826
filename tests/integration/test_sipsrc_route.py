#!/usr/bin/python3
"""Route sets (RFC 3261 12.1, 12.2, 16.12) through a record-routing proxy:
kamailio as the provider's edge (peers.Kamailio), in front of SIPp callees.

The proxy record-routes the INVITE, so every later request of the dialog must
pass through it, in both directions: ours (ACK, BYE, the session refresh by
UPDATE or re-INVITE, the NOTIFYs of a transfer) go to the proxy with a Route
naming it and the callee's Contact as request URI; the callee's (re-INVITE,
UPDATE, INFO, BYE) come from the proxy, and our answers go back through it.
The proxy answers 404 to a request in a dialog that has no Route naming it
(an ACK is dropped), so a request that ignores the route set does not get
through; the callees (proxied_*.xml) check that each request of ours has
two Vias, the top one the proxy's. Its log says what it relayed.

SIP2RTMP_TEST_BREAK_PROXY=1 runs them against an edge that forgets
record_route(): every one of them must then fail.
"""

import os
import re

from sipsrc_case import SipsrcTestCase, Sipp, GstLaunch, main, sipsrc, wait_until, \
    PCMU_TO_WAV, TONE_HZ
from peers import Kamailio, wav_duration

RESUME_HZ = 600
HOLD_MS = 1500
BROKEN_EDGE = os.environ.get("SIP2RTMP_TEST_BREAK_PROXY") == "1"
ESTABLISHED = r"state=\(string\)established"


class SipsrcRouteSetTest(SipsrcTestCase):

    def edge(self, callee):
        return Kamailio(callee, record_route=not BROKEN_EDGE)

    # --- what the proxy and the callee saw

    def our_requests(self, edge, method):
        """The requests with `method` the proxy received from us (from where
        our INVITE came)."""
        invites = edge.requests("INVITE")
        self.assertTrue(invites, "no INVITE reached the proxy" + edge.report())
        return [r for r in edge.requests(method) if r.src == invites[0].src]

    def assertFollowedTheRouteSet(self, edge, method, count=1):
        """`count` requests `method` of ours reached the proxy in the dialog:
        with the route set as Route (its Record-Route, whose ftag only the
        dialog knows), addressed to the callee's Contact."""
        got = self.our_requests(edge, method)
        self.assertEqual(len(got), count, "our %s through the proxy%s" % (method, edge.report()))
        for r in got:
            self.assertRegex(r.route or "", r"^<sip:%s;lr;ftag=[^>]+>$" % re.escape(
                edge.host_port), "our %s names the proxy in its Route%s" % (method, edge.report()))
            self.assertNotIn("service@", r.ruri, "our %s goes to the callee's Contact, "
                             "not to the first request URI%s" % (method, edge.report()))

    def assertCameThroughTheEdge(self, msg, edge):
        """A request the callee received: two Vias, the top one the proxy's."""
        vias = re.findall(r"^Via:\s*SIP/2\.0/\w+\s+([^;\s]+)", msg.text, re.MULTILINE)
        self.assertEqual(len(vias), 2, "the proxy's Via and ours\n" + msg.text)
        self.assertEqual(vias[0], edge.host_port, "the proxy's Via on top\n" + msg.text)

    def assertAnsweredThroughTheEdge(self, edge, method, count=1, status=200):
        """The callee's `method` came through the proxy to our Contact, and
        our answer went back through it."""
        ours = [r for r in edge.requests(method) if r.ruri.startswith("sip:sipsrc@")]
        self.assertEqual(len(ours), count, "the callee's %s through the proxy%s" %
                         (method, edge.report()))
        for r in ours:
            self.assertIsNotNone(r.route, "loose-routed by the proxy" + edge.report())
        invite_src = edge.requests("INVITE")[0].src
        answers = [a for a in edge.replies(method) if a[2] == invite_src and a[0] >= 200]
        self.assertEqual([a[0] for a in answers], [status] * count,
                         "our answers to the callee's %s went back through the proxy%s" %
                         (method, edge.report()))

    def assertToneBefore(self, wav, seconds, hz=TONE_HZ):
        self.assertTone(wav, hz, start=0.3, duration=seconds, ctx="(at the start)")

    # --- the cases

    # An answered call that we hang up: the ACK of the 200 and our BYE
    # follow the route set the 200's Record-Route made, not the outbound
    # proxy (a preloaded Route is for the first request only) nor the
    # callee's Contact. The proxy is written as users copy it, with ;lr:
    # the INVITE names it once (before, the element and libre each added
    # one: Route: <sip:...;lr;lr>).
    def test_our_ack_and_bye_go_through_the_route_set(self):
        with Sipp("proxied_answer_wait_bye.xml", timeout=20) as uas, \
                self.edge(uas.host_port) as edge:
            wav = self.tmp / "out.wav"
            with GstLaunch(sipsrc(uas.uri(), proxy='"%s;lr"' % edge.uri()) + " " +
                           PCMU_TO_WAV.format(wav=wav)) as gst:
                self.assertTrue(gst.wait_for(ESTABLISHED, 10), gst.output() + edge.report())
                wait_until(lambda: wav.exists() and wav.stat().st_size > 24000, 10,
                           "audio in the wav", gst.proc)
                gst.interrupt()
                r = gst.wait(15)
            self.assertSippPassed(uas, " (expects INVITE, ACK and BYE through the proxy)" +
                                  edge.report())
            for method in ("INVITE", "ACK", "BYE"):
                self.assertCameThroughTheEdge(uas.received(method)[0], edge)
            invite = self.our_requests(edge, "INVITE")
            self.assertEqual([i.route for i in invite], ["<%s;lr>" % edge.uri()],
                             "the outbound proxy, loose-routing once" + edge.report())
            self.assertFollowedTheRouteSet(edge, "ACK")
            self.assertFollowedTheRouteSet(edge, "BYE")
            self.assertEqual([a[0] for a in edge.replies("BYE")], [200], edge.report())
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        self.assertToneBefore(wav, 1.0)

    # The callee's requests come from the proxy (its own Route set from our
    # 200's Record-Route); each is answered, the answer going back through
    # the proxy by its Via; hold and resume are followed, the audio goes on.
    # The request URI names the proxy (no outbound proxy): it routes the
    # call to the callee, as a provider's domain does.
    def test_the_callees_reinvites_update_info_and_bye_through_the_proxy_are_answered(self):
        with Sipp("proxied_reinvite_update_info_bye.xml", duration_ms=HOLD_MS, timeout=20,
                  tones={"resume-pcmu.wav": RESUME_HZ}) as uas, \
                self.edge(uas.host_port) as edge:
            r, wav = self.run_to_wav("sip:service@%s" % edge.host_port, timeout=30)
            self.assertSippPassed(uas, " (expects 200 to both re-INVITEs, the UPDATE, the INFO "
                                  "and the BYE)" + edge.report())
            for method in ("INVITE", "ACK"):
                self.assertCameThroughTheEdge(uas.received(method)[0], edge)
            self.assertFollowedTheRouteSet(edge, "ACK")
            self.assertAnsweredThroughTheEdge(edge, "INVITE", count=2)
            self.assertAnsweredThroughTheEdge(edge, "UPDATE")
            self.assertAnsweredThroughTheEdge(edge, "INFO")
            self.assertAnsweredThroughTheEdge(edge, "BYE")
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        holds = [m.get("on-hold") for m in r.element_messages("sip-call")
                 if m.get("reason") == "re-INVITE"]
        self.assertEqual(holds, ["true", "false"], "hold, then resume\n%s" % r)
        self.assertStates(r, ["established", "terminated"])
        self.assertTrue(r.got_eos(), "the callee's BYE ends the stream\n%s" % r)
        self.assertToneBefore(wav, 1.0)
        end = wav_duration(wav)
        self.assertTone(wav, RESUME_HZ, start=end - 1.6, duration=1.4, ctx="(after the resume)")

    # We refresh the session (the callee makes us the refresher) through
    # the proxy, by UPDATE when the callee allows it...
    def test_our_session_refresh_by_update_goes_through_the_route_set(self):
        with Sipp("proxied_session_timer_refresh_by_update.xml", timeout=20) as uas, \
                self.edge(uas.host_port) as edge:
            r, wav = self.run_to_wav(uas.uri(), timeout=30, proxy=edge.uri())
            self.assertSippPassed(uas, " (expects our UPDATE through the proxy within 4 s)" +
                                  edge.report())
            self.assertCameThroughTheEdge(uas.received("UPDATE")[0], edge)
            self.assertEqual(uas.received("UPDATE")[0].header("Session-Expires"),
                             "4;refresher=uac")
            self.assertFollowedTheRouteSet(edge, "UPDATE")
            self.assertEqual([a[0] for a in edge.replies("UPDATE")], [200], edge.report())
            self.assertAnsweredThroughTheEdge(edge, "BYE")
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        self.assertToneBefore(wav, 1.2)

    # ... and by re-INVITE when it allows no UPDATE (Twilio): the
    # re-INVITE and its ACK follow the route set too.
    def test_our_session_refresh_by_reinvite_goes_through_the_route_set(self):
        with Sipp("proxied_session_timer_refresh_by_reinvite.xml", timeout=20) as uas, \
                self.edge(uas.host_port) as edge:
            r, wav = self.run_to_wav(uas.uri(), timeout=30, proxy=edge.uri())
            self.assertSippPassed(uas, " (expects our re-INVITE and its ACK through the proxy "
                                  "within 4 s)" + edge.report())
            self.assertCameThroughTheEdge(uas.received("INVITE")[1], edge)
            self.assertCameThroughTheEdge(uas.received("ACK")[1], edge)
            reinvites = self.our_requests(edge, "INVITE")[1:]
            self.assertEqual(len(reinvites), 1, edge.report())
            self.assertRegex(reinvites[0].route or "", r";lr;ftag=", edge.report())
            self.assertFollowedTheRouteSet(edge, "ACK", count=2)
            self.assertAnsweredThroughTheEdge(edge, "BYE")
        self.assertEqual(r.returncode, 0, str(r))
        refreshed = [m for m in r.element_messages("sip-call")
                     if m.get("reason") == "session refresh"]
        self.assertEqual(len(refreshed), 1, "the answer to our refresh is followed\n%s" % r)
        self.assertToneBefore(wav, 1.2)

    # A blind transfer by the callee through the proxy: its REFER comes
    # from the proxy and is answered 202 through it, our NOTIFYs (100, then
    # 200) and our BYE to the transferor follow its dialog's route set; the
    # new leg to the target goes through the outbound proxy and follows the
    # route set of its own dialog (the target checks its ACK and BYE).
    def test_our_notifys_of_a_transfer_go_through_the_route_set(self):
        with Sipp("proxied_answer_wait_bye.xml", timeout=20) as target, \
                Sipp("proxied_refer_blind_transfer.xml", timeout=20,
                     target=target.host_port) as pbx, \
                self.edge(pbx.host_port) as edge:
            wav = self.tmp / "out.wav"
            with GstLaunch(sipsrc(pbx.uri(), proxy=edge.uri()) + " " +
                           PCMU_TO_WAV.format(wav=wav)) as gst:
                self.assertTrue(gst.wait_for(r"transferred\\? to", 10),
                                gst.output() + edge.report())
                gst.interrupt()
                r = gst.wait(15)
            self.assertSippPassed(pbx, " (expects 202, NOTIFY 100 and 200 and our BYE through "
                                  "the proxy)" + edge.report())
            self.assertSippPassed(target, " (the target: INVITE, ACK and BYE through the proxy)" +
                                  edge.report())
            for notify in pbx.received("NOTIFY"):
                self.assertCameThroughTheEdge(notify, edge)
            self.assertAnsweredThroughTheEdge(edge, "REFER", status=202)
            self.assertFollowedTheRouteSet(edge, "NOTIFY", count=2)
            # one BYE to each: the transferor, then (our stop) the target
            self.assertFollowedTheRouteSet(edge, "BYE", count=2)
        self.assertEqual(r.returncode, 0, str(r))
        self.assertNotIn("failed", r.sip_call_states(), str(r))
        self.assertToneBefore(wav, 1.0)


if __name__ == "__main__":
    main()
