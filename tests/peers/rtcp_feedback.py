"""RTCP that sipsrc sends a peer, read where the peer's SDP points it.

SIPp neither acts on RTCP nor lets a scenario read it: a test names a socket
of its own as the peer's video address (RtcpListener.rtp_port, e.g. the
`video_port` key of answer_pcmu_h264_bye.xml) and reads sipsrc's RTCP at
rtp_port + 1.
"""

import struct

import peers

RTCP_PSFB = 206
PLI_FMT = 1


def plis(packet):
    """Media SSRCs of the PLI feedback messages in a compound RTCP packet."""
    out = []
    pos = 0
    while pos + 4 <= len(packet):
        first, pt, length = struct.unpack_from("!BBH", packet, pos)
        if first >> 6 != 2:
            break
        if pt == RTCP_PSFB and first & 0x1F == PLI_FMT and pos + 12 <= len(packet):
            out.append(struct.unpack_from("!I", packet, pos + 8)[0])
        pos += 4 * (length + 1)
    return out


class RtcpListener(peers.UdpListener):
    """The video address the peer's answer names: RTP on `rtp_port` (unused,
    the peer sends from SIPp's own port), RTCP on rtp_port + 1, where every
    packet sipsrc sends is kept."""

    def __init__(self):
        self.rtp_port = peers.free_port(2)
        super().__init__(self.rtp_port + 1)

    def wait_pli(self, timeout):
        """The media SSRC of the first PLI received, or None."""
        p = self.wait_for(plis, timeout)
        return plis(p)[0] if p else None

    def pli_times(self):
        """time.monotonic() of each packet carrying a PLI, so far."""
        with self._cond:
            return [t for t, p in self.received if plis(p)]

    def wait_pli_after(self, since, timeout):
        """Arrival time of the first PLI received at `since` (time.monotonic())
        or later, waiting up to `timeout` s; None if none came."""
        got = self.wait_for_arrival(lambda t, p: t >= since and plis(p), timeout)
        return got[0] if got else None
