/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include "rtpstats.h"

/* The statistics of @ssrc start over from @seq (the counter `lost` goes
 * on) */
static void
begin_sequence (SipRtpStats * s, guint32 ssrc, guint16 seq)
{
  s->have_sender = TRUE;
  s->ssrc = ssrc;
  s->base_seq = s->max_seq = seq;
  s->cycles = 0;
  s->expected_prior = s->received_prior = 0;
  s->received = 0;
  s->last_transit = 0;
  s->have_bad_seq = FALSE;
}

/* One packet of the payload we take, from @ssrc. A sender other than the
 * one counted starts the statistics over from this packet. A.1: a packet
 * that jumps SIP_RTP_STATS_MAX_JUMP or more ahead (or more than
 * SIP_RTP_STATS_MAX_MISORDER behind) is not counted, unless the packet
 * just before it jumped there too (nothing in sequence between them): then the sender restarted its sequence
 * without a new SSRC (a gateway's failover, a long outage) and the
 * statistics start over from it, as for a new sender; without that they
 * would stay on the old sequence for good (RTCP reports stale, the
 * fraction lost wrong). */
void
sip_rtp_stats_packet (SipRtpStats * s, guint32 ssrc, guint16 seq)
{
  if (!s->have_sender || ssrc != s->ssrc) {
    begin_sequence (s, ssrc, seq);
  } else {
    guint16 gap = (guint16) (seq - s->max_seq);

    if (gap > 0 && gap < SIP_RTP_STATS_MAX_JUMP) {
      if (seq < s->max_seq)
        s->cycles += 65536;
      s->lost += gap - 1;
      s->max_seq = seq;
      s->have_bad_seq = FALSE;  /* the jump was a stray packet */
    } else if (gap >= SIP_RTP_STATS_MAX_JUMP &&
        gap <= 65536 - SIP_RTP_STATS_MAX_MISORDER) {
      if (!s->have_bad_seq || seq != s->bad_seq) {
        s->have_bad_seq = TRUE;
        s->bad_seq = (guint16) (seq + 1);
        return;
      }
      begin_sequence (s, ssrc, seq);
    }
  }
  s->received++;
}

/* RFC 3550 A.8: interarrival jitter, in RTP timestamp units, of a packet
 * of the counted sender that arrived at @arrival_ns (any clock's ns). The
 * difference of two transit times is taken modulo 2^32, as A.8's 32-bit
 * arithmetic does: across the wrap of the RTP timestamp (random at the
 * start: within 13 hours at 90 kHz) it is the packets' spacing, not 2^32 */
void
sip_rtp_stats_jitter (SipRtpStats * s, guint clock_rate, guint32 rtp_ts,
    gint64 arrival_ns)
{
  gint64 arrival = gst_util_uint64_scale_int (arrival_ns, clock_rate,
      GST_SECOND);
  gint64 transit = arrival - rtp_ts;

  if (s->last_transit) {
    gint64 d = (gint32) (guint32) (transit - s->last_transit);

    if (d < 0)
      d = -d;
    s->jitter += (d - s->jitter) / 16.0;
  }
  s->last_transit = transit;
}

/* Another stream (a codec change: jitter is in its clock rate): the next
 * packet starts the statistics over, whatever its sender */
void
sip_rtp_stats_restart (SipRtpStats * s)
{
  s->have_sender = FALSE;
  s->jitter = 0;
}

/* The report block of a receiver report, which starts the next interval
 * of fraction_lost (A.3). FALSE (and nothing changes) before any packet.
 * The cumulative number lost is 6.4.1's, of this sender: the packets
 * expected less those received, late ones and duplicates included (so a
 * late packet is no loss, and duplicates can make it negative), clamped
 * to 24 bits; not the counter `lost`, which never goes down. */
gboolean
sip_rtp_stats_report (SipRtpStats * s, SipRtpReportBlock * rb)
{
  guint32 ext_max, expected, exp_int, rec_int;
  gint32 lost_int;

  if (!s->have_sender)
    return FALSE;
  ext_max = s->cycles + s->max_seq;
  expected = ext_max - s->base_seq + 1;
  exp_int = expected - s->expected_prior;
  rec_int = s->received - s->received_prior;
  lost_int = (gint32) (exp_int - rec_int);
  s->expected_prior = expected;
  s->received_prior = s->received;

  rb->ssrc = s->ssrc;
  rb->fraction_lost = (exp_int == 0 || lost_int <= 0) ? 0 :
      (guint8) MIN (255, ((guint64) lost_int << 8) / exp_int);
  rb->cumulative_lost = (gint32) CLAMP ((gint64) expected - s->received,
      -0x800000, 0x7fffff);
  rb->ext_highest_seq = ext_max;
  rb->jitter = (guint32) s->jitter;
  return TRUE;
}

gdouble
sip_rtp_stats_jitter_ms (const SipRtpStats * s, guint clock_rate)
{
  return clock_rate ? s->jitter * 1000.0 / clock_rate : 0.0;
}
