#!/usr/bin/python3
"""RFC 4733 telephone-event from the peer comes out as sip-dtmf messages.

The SIPp callee (answer_pcmu_dtmf_bye.xml) answers PCMU + telephone-event/8000
(PT 101) and replays a capture made by tests/peers/rtp_pcap.py: tone, then
each digit as phones send it (a packet every 20 ms, end packet three times),
tone in between.
"""

from sipsrc_case import SipsrcTestCase, Sipp, main, TONE_HZ
from rtp_pcap import write_pcap, dtmf_packets

DIGITS = "159*#0D"
EVENT_S = 0.16


class SipsrcDtmfTest(SipsrcTestCase):

    def test_telephone_events_become_sip_dtmf_messages_in_order(self):
        packets = dtmf_packets(DIGITS, tone_hz=TONE_HZ, event_seconds=EVENT_S)
        seconds = packets[-1][0]
        with Sipp("answer_pcmu_dtmf_bye.xml", duration_ms=int(seconds * 1000) + 1500,
                  files={"dtmf.pcap": lambda p: write_pcap(p, packets)}) as uas:
            r, wav = self.run_to_wav(uas.uri(), timeout=30)
            self.assertSippPassed(uas)
        self.assertEqual(r.returncode, 0, str(r))
        dtmf = r.element_messages("sip-dtmf")
        # each event once, at its end, with its duration in ms
        self.assertEqual("".join(m.get("digit") for m in dtmf), DIGITS, str(r))
        for m in dtmf:
            self.assertEqual(m.get("duration"), int(EVENT_S * 1000), m)
        # telephone-event is not audio: only the tone comes out of the pad
        self.assertTone(wav, TONE_HZ)


if __name__ == "__main__":
    main()
