#!/usr/bin/python3
"""DTMF we send (issue 12: reaching the right room): the dtmf property's dial
string, once the call is answered, by SIP INFO on a recvonly call and as
RFC 4733 events on a sendrecv call whose peer names telephone-event. Each
sent digit is a `sip-dtmf-sent` message.
"""

import struct

from sipsrc_case import SipsrcTestCase, Sipp, main, TONE_HZ
from peers import free_port, UdpListener, loud_spans


def rtp_fields(d):
    b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", d[:12])
    return {"marker": bool(b1 & 0x80), "pt": b1 & 0x7F, "seq": seq, "ts": ts, "ssrc": ssrc,
            "payload": d[12:]}


class SipsrcDtmfOutTest(SipsrcTestCase):

    # A bridge that plays nothing until it has its PIN: the tone in the
    # output proves the digits reached it, in order, by SIP INFO (a
    # recvonly call sends no RTP, so no RFC 4733 either).
    def test_a_pin_by_sip_info_opens_the_bridge(self):
        with Sipp("info_pin_then_tone_bye.xml", duration_ms=2000) as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30, dtmf="1234#")
            self.assertSippPassed(uas, " (expects INFO 1 2 3 4 # in order)")
            for info in uas.received("INFO"):
                self.assertEqual(info.header("Content-Type"), "application/dtmf-relay",
                                 info.text)
                self.assertIn("Duration=100", info.text)
        self.assertEqual(r.returncode, 0, str(r))
        sent = [(m.get("digit"), m.get("method"))
                for m in r.element_messages("sip-dtmf-sent")]
        self.assertEqual(sent, [(d, "info") for d in "1234#"], str(r))
        spans = loud_spans(wav)
        self.assertTrue(spans, "the bridge never opened: no tone\n%s" % r)
        self.assertGreater(spans[0][0], 0.5, "tone before the PIN was complete")
        self.assertTone(wav, TONE_HZ, start=spans[0][0] + 0.1)

    # RFC 4733 on the wire: for each digit, packets every 20 ms on our audio
    # SSRC and sequence with the event's start as timestamp, the marker on
    # the first, the duration growing to 100 ms, the end packet three times;
    # a pause ('w') of 0.5 s; the silence stops while an event is sent.
    def test_digits_go_out_as_rfc4733_events_on_a_sendrecv_call(self):
        port = free_port(2)
        with UdpListener(port) as rtp, \
                Sipp("answer_dtmf_rtp_bye.xml", duration_ms=3000, rtp_sink=port) as uas:
            r, _ = self.run_to_wav(uas.uri(), timeout=30, audio="sendrecv", dtmf="1w2#")
            self.assertSippPassed(uas)
            arrivals = [(t, rtp_fields(d)) for t, d in rtp.received if len(d) >= 12]
        self.assertEqual(r.returncode, 0, str(r))
        sent = [(m.get("digit"), m.get("method"))
                for m in r.element_messages("sip-dtmf-sent")]
        self.assertEqual(sent, [(d, "rfc4733") for d in "12#"], str(r))

        packets = [p for _, p in arrivals]
        self.assertEqual(len({p["ssrc"] for p in packets}), 1, "one SSRC for audio and events")
        seqs = [p["seq"] for p in packets]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))),
                         "one sequence for audio and events, nothing lost on loopback")
        events = {}
        for t, p in arrivals:
            if p["pt"] == 101:
                events.setdefault(p["ts"], []).append((t, p))
        self.assertEqual(len(events), 3, "three events (w is a pause)")
        starts = sorted(events)
        for (ts, digit) in zip(starts, (1, 2, 11)):
            pkts = [p for _, p in events[ts]]
            codes = {p["payload"][0] for p in pkts}
            self.assertEqual(codes, {digit})
            self.assertTrue(pkts[0]["marker"] and not any(p["marker"] for p in pkts[1:]))
            durations = [struct.unpack("!H", p["payload"][2:4])[0] for p in pkts]
            ends = [bool(p["payload"][1] & 0x80) for p in pkts]
            self.assertEqual(durations, [160, 320, 480, 640, 800, 800, 800, 800], durations)
            self.assertEqual(ends, [False] * 5 + [True] * 3)
            # no audio while the event goes out
            first, last = events[ts][0][0], events[ts][-1][0]
            between = [p for t, p in arrivals if first < t < last and p["pt"] != 101]
            self.assertEqual(between, [], "silence sent during the event")
        # the pause: 0.5 s (plus the 60 ms gap) between the first two events
        t1 = events[starts[0]][-1][0]
        t2 = events[starts[1]][0][0]
        self.assertAlmostEqual(t2 - t1, 0.56, delta=0.06)
        # the RTP clock runs on through events: their starts are wall-clock apart
        self.assertAlmostEqual((starts[1] - starts[0]) / 8000.0,
                               events[starts[1]][0][0] - events[starts[0]][0][0], delta=0.03)


if __name__ == "__main__":
    main()
