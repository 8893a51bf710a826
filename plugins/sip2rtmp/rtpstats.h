/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __SIP_RTP_STATS_H__
#define __SIP_RTP_STATS_H__

#include <glib.h>

G_BEGIN_DECLS

/* RFC 3550's receiver statistics of one received stream (section 6.4.1,
 * appendices A.1, A.3 and A.8): the arithmetic of gstsiprtpsource.c, alone
 * and pure (no lock, no clock, no element; the caller holds its stats_lock)
 * so that tests/unit/test-rtp-stats.c checks it against the RFC. */

typedef struct
{
  gboolean have_sender;         /* a packet of ssrc was counted */
  guint32 ssrc;
  guint16 max_seq;              /* highest sequence number seen */
  guint32 cycles;               /* wraps of it, times 65536 */
  guint32 base_seq;             /* the sender's first sequence number */
  guint32 received;             /* packets of the sender, late and duplicates too */
  guint32 expected_prior;       /* at the last report (A.3) */
  guint32 received_prior;
  gdouble jitter;               /* A.8, in RTP timestamp units */
  gint64 last_transit;          /* 0: no packet timed yet */
  /* packets skipped by the sequence (the sum of each forward jump less
   * one), over every sender of the stream: never goes down, so that it is
   * a counter (stats' packets-lost, sip2rtmpd's metrics) */
  guint64 lost;
  /* A.1: after a packet that jumped, the sequence number that would
   * prove the sender restarted its sequence */
  gboolean have_bad_seq;
  guint16 bad_seq;
} SipRtpStats;

/* What a receiver report block says of the sender (RFC 3550, 6.4.1) */
typedef struct
{
  guint32 ssrc;
  guint8 fraction_lost;         /* since the previous report, in 1/256 */
  gint32 cumulative_lost;       /* 24 bits */
  guint32 ext_highest_seq;
  guint32 jitter;
} SipRtpReportBlock;

/* sequence numbers this far ahead or more are no progress (A.1's
 * MAX_DROPOUT): a sender that jumped; up to MAX_MISORDER behind, late or
 * duplicate packets; in between, a jump too */
#define SIP_RTP_STATS_MAX_JUMP 3000
#define SIP_RTP_STATS_MAX_MISORDER 100

void sip_rtp_stats_packet (SipRtpStats * s, guint32 ssrc, guint16 seq);
void sip_rtp_stats_jitter (SipRtpStats * s, guint clock_rate, guint32 rtp_ts,
    gint64 arrival_ns);
void sip_rtp_stats_restart (SipRtpStats * s);
gboolean sip_rtp_stats_report (SipRtpStats * s, SipRtpReportBlock * rb);
gdouble sip_rtp_stats_jitter_ms (const SipRtpStats * s, guint clock_rate);

G_END_DECLS

#endif
