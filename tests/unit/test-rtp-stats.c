/* sip2rtmp: unit tests of the RTP receiver statistics
 * (plugins/sip2rtmp/rtpstats.c) against RFC 3550's definitions
 * (section 6.4.1, appendices A.1, A.3, A.8)
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <gst/gst.h>
#include "rtpstats.h"

#define SSRC 0x11223344u

/* packets first..last (sequence numbers, wrapping) of SSRC */
static void
run (SipRtpStats * s, guint32 first, guint32 last)
{
  guint32 i;

  for (i = first; i <= last; i++)
    sip_rtp_stats_packet (s, SSRC, (guint16) i);
}

static SipRtpReportBlock
report (SipRtpStats * s)
{
  SipRtpReportBlock rb;

  memset (&rb, 0xab, sizeof rb);
  g_assert_true (sip_rtp_stats_report (s, &rb));
  return rb;
}

static void
test_no_report_block_before_the_first_packet (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb = { 0 };

  g_assert_false (sip_rtp_stats_report (&s, &rb));
  run (&s, 7, 7);
  rb = report (&s);
  g_assert_cmpuint (rb.ssrc, ==, SSRC);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 7);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);
  /* a codec change: no block until the next packet */
  sip_rtp_stats_restart (&s);
  g_assert_false (sip_rtp_stats_report (&s, &rb));
}

static void
test_packets_in_order_lose_nothing (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb;

  run (&s, 100, 199);
  rb = report (&s);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 199);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);
  g_assert_cmpuint (s.received, ==, 100);
  g_assert_cmpuint (s.lost, ==, 0);
}

/* 6.4.1: "the low 16 bits contain the highest sequence number received
 * ..., and the most significant 16 bits extend that sequence number with
 * the corresponding count of sequence number cycles" */
static void
test_extended_highest_sequence_counts_the_wraps (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb;

  run (&s, 65530, 65549);       /* 65530..65535, then 0..13 */
  rb = report (&s);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 0x1000d);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);
  /* the second wrap */
  run (&s, 65550, 65536 * 2 + 4);
  rb = report (&s);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 0x20004);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);
}

/* 65535 and 0 lost across the wrap */
static void
test_a_loss_across_the_wrap (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb;

  run (&s, 65531, 65534);
  run (&s, 65537, 65541);       /* 1..5 */
  rb = report (&s);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 65541);
  g_assert_cmpuint (rb.fraction_lost, ==, (2 << 8) / 11);
  g_assert_cmpint (rb.cumulative_lost, ==, 2);
}

/* A.3: fraction = (expected_interval - received_interval) << 8 /
 * expected_interval, per report interval; cumulative = expected - received */
static void
test_loss_is_counted_per_interval_and_in_total (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb;

  run (&s, 1, 10);
  run (&s, 13, 20);             /* 11 and 12 lost */
  rb = report (&s);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 20);
  g_assert_cmpuint (rb.fraction_lost, ==, (2 << 8) / 20);       /* 25 */
  g_assert_cmpint (rb.cumulative_lost, ==, 2);

  /* an interval without loss: its fraction is 0, the total stays */
  run (&s, 21, 40);
  rb = report (&s);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  g_assert_cmpint (rb.cumulative_lost, ==, 2);

  /* half of an interval lost */
  run (&s, 41, 45);
  run (&s, 51, 60);
  rb = report (&s);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 60);
  g_assert_cmpuint (rb.fraction_lost, ==, (5 << 8) / 20);       /* 64 */
  g_assert_cmpint (rb.cumulative_lost, ==, 7);
  g_assert_cmpuint (s.lost, ==, 7);

  /* an interval with no packet: nothing expected, nothing lost */
  rb = report (&s);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  g_assert_cmpint (rb.cumulative_lost, ==, 7);
}

/* A.3: "if lost_interval <= 0, fraction = 0": duplicates make more
 * received than expected */
static void
test_duplicates_make_no_fraction_lost (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb;

  run (&s, 1, 5);
  run (&s, 5, 5);
  run (&s, 5, 5);
  run (&s, 6, 10);
  g_assert_cmpuint (s.received, ==, 12);
  rb = report (&s);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 10);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  /* 6.4.1: "the loss may be negative if there are duplicates" */
  g_assert_cmpint (rb.cumulative_lost, ==, -2);
  g_assert_cmpuint (s.lost, ==, 0);
  /* the next interval is not charged for them */
  run (&s, 11, 14);
  run (&s, 16, 20);
  rb = report (&s);
  g_assert_cmpuint (rb.fraction_lost, ==, (1 << 8) / 10);
  g_assert_cmpint (rb.cumulative_lost, ==, -1);
}

/* A late packet is received, not lost, within the interval it arrives in */
static void
test_a_late_packet_is_no_loss_of_its_interval (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb;

  run (&s, 1, 3);
  run (&s, 5, 5);
  run (&s, 4, 4);               /* late */
  run (&s, 6, 10);
  rb = report (&s);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 10);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  g_assert_cmpuint (s.received, ==, 10);
  /* 6.4.1: "packets that arrive late are not counted as lost" */
  g_assert_cmpint (rb.cumulative_lost, ==, 0);
}

/* A packet reported lost, then arriving late: the next report takes it
 * back from the total, and its interval has no fraction lost */
static void
test_a_packet_late_across_a_report_is_taken_back (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb;

  run (&s, 1, 3);
  run (&s, 5, 5);
  rb = report (&s);
  g_assert_cmpuint (rb.fraction_lost, ==, (1 << 8) / 5);
  g_assert_cmpint (rb.cumulative_lost, ==, 1);
  run (&s, 4, 4);
  run (&s, 6, 10);
  rb = report (&s);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);
  /* the counter keeps it: it never goes down */
  g_assert_cmpuint (s.lost, ==, 1);
}

/* 6.4.1: a 24-bit signed field, clamped "at 0x7FFFFF for positive loss or
 * 0x800000 for negative loss" */
static void
test_the_cumulative_loss_is_clamped_to_24_bits (void)
{
  SipRtpStats s = { 0 };
  guint32 seq = 0, i;

  sip_rtp_stats_packet (&s, SSRC, 0);
  /* jumps just under the limit, until more than 2^23 are missing */
  for (i = 0; i < 0x800000 / (SIP_RTP_STATS_MAX_JUMP - 2) + 2; i++) {
    seq += SIP_RTP_STATS_MAX_JUMP - 1;
    sip_rtp_stats_packet (&s, SSRC, (guint16) seq);
  }
  g_assert_cmpuint (s.lost, >, 0x800000);
  g_assert_cmpint (report (&s).cumulative_lost, ==, 0x7fffff);

  memset (&s, 0, sizeof s);
  for (i = 0; i <= 0x800001; i++)
    sip_rtp_stats_packet (&s, SSRC, 9);
  g_assert_cmpint (report (&s).cumulative_lost, ==, -0x800000);
}

/* The counter of stats' packets-lost (a Prometheus counter in sip2rtmpd)
 * never goes down: it is the packets the sequence skipped, and a late
 * packet, having been skipped, stays in it */
static void
test_the_lost_counter_never_goes_down (void)
{
  SipRtpStats s = { 0 };

  run (&s, 1, 3);
  run (&s, 6, 6);
  g_assert_cmpuint (s.lost, ==, 2);
  run (&s, 4, 5);
  g_assert_cmpuint (s.lost, ==, 2);
  run (&s, 6, 6);
  g_assert_cmpuint (s.lost, ==, 2);
  /* another sender: its statistics start over, the counter goes on */
  sip_rtp_stats_packet (&s, SSRC + 1, 500);
  sip_rtp_stats_packet (&s, SSRC + 1, 502);
  g_assert_cmpuint (s.lost, ==, 3);
  g_assert_cmpuint (s.received, ==, 2);
  g_assert_cmpuint (s.base_seq, ==, 500);
}

/* A.1's "MAX_DROPOUT": a jump of SIP_RTP_STATS_MAX_JUMP or more is no
 * progress of the sequence (and no loss) */
static void
test_a_big_jump_is_neither_progress_nor_loss (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb;

  run (&s, 1000, 1010);
  sip_rtp_stats_packet (&s, SSRC, 1010 + SIP_RTP_STATS_MAX_JUMP);
  g_assert_cmpuint (s.max_seq, ==, 1010);
  g_assert_cmpuint (s.lost, ==, 0);
  sip_rtp_stats_packet (&s, SSRC, 1010 + SIP_RTP_STATS_MAX_JUMP - 1);
  g_assert_cmpuint (s.max_seq, ==, 1010 + SIP_RTP_STATS_MAX_JUMP - 1);
  g_assert_cmpuint (s.lost, ==, SIP_RTP_STATS_MAX_JUMP - 2);
  rb = report (&s);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 1010 + SIP_RTP_STATS_MAX_JUMP - 1);
}

/* A.1: two packets in sequence after a big jump, same SSRC: the sender
 * restarted its sequence; the statistics follow it from the second
 * (before: they stayed on the old sequence for good) */
static void
test_a_sender_that_restarts_its_sequence_is_followed (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb;

  run (&s, 1000, 1010);
  rb = report (&s);
  run (&s, 40000, 40009);
  g_assert_cmpuint (s.max_seq, ==, 40009);
  g_assert_cmpuint (s.base_seq, ==, 40001);
  g_assert_cmpuint (s.lost, ==, 0);
  rb = report (&s);
  g_assert_cmpuint (rb.ssrc, ==, SSRC);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 40009);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);
  /* and on from there: a loss of the new sequence counts */
  run (&s, 40011, 40020);
  g_assert_cmpuint (s.lost, ==, 1);
  rb = report (&s);
  g_assert_cmpuint (rb.fraction_lost, ==, (1 << 8) / 11);
}

/* A lone packet far behind is late (up to MAX_MISORDER) or a jump: neither
 * moves the sequence, and a jump followed by the old sequence is
 * forgotten */
static void
test_a_lone_jump_does_not_restart_the_sequence (void)
{
  SipRtpStats s = { 0 };

  run (&s, 5000, 5010);
  sip_rtp_stats_packet (&s, SSRC, 5010 - 500);
  run (&s, 5011, 5020);
  sip_rtp_stats_packet (&s, SSRC, 5010 - 500 + 1);
  g_assert_cmpuint (s.max_seq, ==, 5020);
  g_assert_cmpuint (s.base_seq, ==, 5000);
  g_assert_cmpuint (s.lost, ==, 0);
  /* 500 behind is a jump: not counted, and not proven by 5011 */
  g_assert_cmpuint (s.received, ==, 21);
  /* 50 behind is a late packet: counted */
  sip_rtp_stats_packet (&s, SSRC, 5020 - 50);
  g_assert_cmpuint (s.received, ==, 22);
}

/* A new sender's report starts from its own first packet */
static void
test_a_new_sender_starts_over (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb;

  run (&s, 1, 10);
  run (&s, 20, 20);
  rb = report (&s);
  g_assert_cmpuint (rb.fraction_lost, ==, (9 << 8) / 20);
  sip_rtp_stats_packet (&s, 0xdeadbeef, 40000);
  sip_rtp_stats_packet (&s, 0xdeadbeef, 40001);
  rb = report (&s);
  g_assert_cmpuint (rb.ssrc, ==, 0xdeadbeef);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 40001);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
}

/* A sender proven across the wrap (its first packet 65535, held, then 0):
 * two packets expected, not 2^32 - 65534 */
static void
test_a_sender_whose_first_packets_wrap (void)
{
  SipRtpStats s = { 0 };
  SipRtpReportBlock rb;

  sip_rtp_stats_packet (&s, SSRC, 65535);
  sip_rtp_stats_packet (&s, SSRC, 0);
  rb = report (&s);
  g_assert_cmpuint (rb.ext_highest_seq, ==, 65536);
  g_assert_cmpuint (rb.fraction_lost, ==, 0);
  g_assert_cmpint (rb.cumulative_lost, ==, 0);
}

/* A.8: J += (|D| - J) / 16, D the difference of two packets' transit
 * times, in RTP timestamp units. 8 kHz, 20 ms packets arriving
 * alternately on time and 5 ms late: |D| = 40 every packet. Arrival
 * times on the realtime clock of 2026 (ns since 1970) */
static void
test_jitter_is_rfc_3550s_in_timestamp_units (void)
{
  SipRtpStats s = { 0 };
  const gint64 t0 = G_GINT64_CONSTANT (1795000000) * GST_SECOND;
  const guint32 ts0 = 123456;
  gdouble expect = 0, decay;
  guint i;

  sip_rtp_stats_packet (&s, SSRC, 1);
  sip_rtp_stats_jitter (&s, 8000, ts0, t0);
  g_assert_cmpfloat (s.jitter, ==, 0);
  for (i = 1; i <= 200; i++) {
    gint64 late = (i % 2) ? 5 * GST_MSECOND : 0;

    sip_rtp_stats_packet (&s, SSRC, 1 + i);
    sip_rtp_stats_jitter (&s, 8000, ts0 + 160 * i,
        t0 + i * 20 * GST_MSECOND + late);
    expect += (40 - expect) / 16;
    g_assert_cmpfloat_with_epsilon (s.jitter, expect, 1e-9);
    if (i == 1)
      g_assert_cmpfloat (s.jitter, ==, 2.5);
  }
  /* 40 (1 - (15/16)^200) */
  decay = 1;
  for (i = 0; i < 200; i++)
    decay *= 15.0 / 16;
  g_assert_cmpfloat_with_epsilon (s.jitter, 40 * (1 - decay), 1e-9);
  g_assert_cmpuint (report (&s).jitter, ==, 39);
  g_assert_cmpfloat_with_epsilon (sip_rtp_stats_jitter_ms (&s, 8000),
      s.jitter / 8, 1e-9);
  g_assert_cmpfloat (sip_rtp_stats_jitter_ms (&s, 0), ==, 0);

  /* a steady stream: the jitter decays by 15/16 a packet */
  for (i = 201; i <= 210; i++) {
    sip_rtp_stats_packet (&s, SSRC, 1 + i);
    sip_rtp_stats_jitter (&s, 8000, ts0 + 160 * i,
        t0 + i * 20 * GST_MSECOND + 5 * GST_MSECOND);
    expect += ((i == 201 ? 40 : 0) - expect) / 16;
  }
  g_assert_cmpfloat_with_epsilon (s.jitter, expect, 1e-9);

  /* 90 kHz, 20 ms packets; the RTP timestamp wraps at the seventh: the
   * spacing goes on, the jitter decays */
  sip_rtp_stats_restart (&s);
  for (i = 0; i < 20; i++) {
    sip_rtp_stats_packet (&s, SSRC, 6000 + i);
    sip_rtp_stats_jitter (&s, 90000, 0xffffd000u + 1800 * i,
        t0 + i * 20 * GST_MSECOND + ((i == 1) ? GST_MSECOND : 0));
  }
  /* 90 units late at the second packet, then back in step: 90 / 16,
   * then the step back, a packet spaced like the others, 17 decays */
  expect = 90.0 / 16;
  expect += (90 - expect) / 16;
  for (i = 3; i < 20; i++)
    expect -= expect / 16;
  g_assert_cmpfloat_with_epsilon (s.jitter, expect, 1e-9);
  g_assert_cmpfloat (s.jitter, <, 5);

  /* another stream (codec change): from 0, its first packet timed afresh */
  sip_rtp_stats_restart (&s);
  g_assert_cmpfloat (s.jitter, ==, 0);
  sip_rtp_stats_packet (&s, SSRC, 5000);
  sip_rtp_stats_jitter (&s, 48000, 99, t0 + 7 * GST_SECOND);
  g_assert_cmpfloat (s.jitter, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rtp-stats/a-sender-that-restarts-its-sequence-is-followed",
      test_a_sender_that_restarts_its_sequence_is_followed);
  g_test_add_func ("/rtp-stats/a-lone-jump-does-not-restart-the-sequence",
      test_a_lone_jump_does_not_restart_the_sequence);
  g_test_add_func ("/rtp-stats/no-report-block-before-the-first-packet",
      test_no_report_block_before_the_first_packet);
  g_test_add_func ("/rtp-stats/packets-in-order-lose-nothing",
      test_packets_in_order_lose_nothing);
  g_test_add_func ("/rtp-stats/extended-highest-sequence-counts-the-wraps",
      test_extended_highest_sequence_counts_the_wraps);
  g_test_add_func ("/rtp-stats/a-loss-across-the-wrap",
      test_a_loss_across_the_wrap);
  g_test_add_func ("/rtp-stats/loss-is-counted-per-interval-and-in-total",
      test_loss_is_counted_per_interval_and_in_total);
  g_test_add_func ("/rtp-stats/duplicates-make-no-fraction-lost",
      test_duplicates_make_no_fraction_lost);
  g_test_add_func ("/rtp-stats/a-late-packet-is-no-loss-of-its-interval",
      test_a_late_packet_is_no_loss_of_its_interval);
  g_test_add_func ("/rtp-stats/a-packet-late-across-a-report-is-taken-back",
      test_a_packet_late_across_a_report_is_taken_back);
  g_test_add_func ("/rtp-stats/the-cumulative-loss-is-clamped-to-24-bits",
      test_the_cumulative_loss_is_clamped_to_24_bits);
  g_test_add_func ("/rtp-stats/the-lost-counter-never-goes-down",
      test_the_lost_counter_never_goes_down);
  g_test_add_func ("/rtp-stats/a-big-jump-is-neither-progress-nor-loss",
      test_a_big_jump_is_neither_progress_nor_loss);
  g_test_add_func ("/rtp-stats/a-new-sender-starts-over",
      test_a_new_sender_starts_over);
  g_test_add_func ("/rtp-stats/a-sender-whose-first-packets-wrap",
      test_a_sender_whose_first_packets_wrap);
  g_test_add_func ("/rtp-stats/jitter-is-rfc-3550s-in-timestamp-units",
      test_jitter_is_rfc_3550s_in_timestamp_units);
  return g_test_run ();
}
