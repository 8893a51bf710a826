/* sip2rtmp: libFuzzer target, a datagram at a call's RTP or RTCP port
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The media loop (gstsiprtpsource.c) parses what it reads with
 * siprtpparse.c: a datagram the RTP parse accepts is made a buffer, mapped
 * with gst_rtp_buffer_map() and, for the negotiated payload type, pushed;
 * a telephone-event's payload is read for the digit. Each datagram is read
 * both ways, as RTP and as RTCP. The RTP parse must agree with GStreamer's
 * own on every non-empty datagram (the same verdict, the same fields), so
 * that nothing it accepts fails a depayloader's map, and nothing that
 * GStreamer took before is dropped.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/rtp/rtp.h>
#include "fuzz-glib.h"
#include "siprtpparse.h"


/* handle_dtmf: an RFC 4733 event, read from the payload */
static guint
read_event (const guint8 * payload, gsize len)
{
  if (len < 4 || !(payload[1] & 0x80))
    return 0;
  return payload[0] + GST_READ_UINT16_BE (payload + 2);
}

static void
compare_with_gstreamer (const guint8 * data, gsize size, gboolean ours,
    const SipRtpHeader * hdr)
{
  GstBuffer *buf = gst_buffer_new_memdup (data, size);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gboolean theirs = gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp);

  g_assert_cmpint (ours, ==, theirs);
  if (theirs) {
    const guint8 *payload = gst_rtp_buffer_get_payload (&rtp);

    g_assert_cmpuint (hdr->payload_type, ==,
        gst_rtp_buffer_get_payload_type (&rtp));
    g_assert_cmpint (hdr->marker, ==, gst_rtp_buffer_get_marker (&rtp));
    g_assert_cmpuint (hdr->seq, ==, gst_rtp_buffer_get_seq (&rtp));
    g_assert_cmpuint (hdr->timestamp, ==,
        gst_rtp_buffer_get_timestamp (&rtp));
    g_assert_cmpuint (hdr->ssrc, ==, gst_rtp_buffer_get_ssrc (&rtp));
    g_assert_cmpuint (hdr->payload_len, ==,
        gst_rtp_buffer_get_payload_len (&rtp));
    g_assert_cmpuint (hdr->payload_offset, ==,
        gst_rtp_buffer_get_header_len (&rtp));
    (void) read_event (payload, gst_rtp_buffer_get_payload_len (&rtp));
    gst_rtp_buffer_unmap (&rtp);
  }
  gst_buffer_unref (buf);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  static gsize gst_ready;
  SipRtpHeader hdr;
  guint64 ntp;
  gboolean ours;

  if (g_once_init_enter (&gst_ready)) {
    /* buffers only: no plugin is loaded */
    g_setenv ("GST_REGISTRY_DISABLE", "yes", TRUE);
    gst_init (NULL, NULL);
    g_once_init_leave (&gst_ready, 1);
  }
  ours = sip_rtp_header_parse (data, size, &hdr);

  if (size == 0)
    g_assert_false (ours);
  else
    compare_with_gstreamer (data, size, ours, &hdr);
  if (ours) {
    g_assert_cmpuint (hdr.payload_offset + hdr.payload_len, <=, size);
    (void) read_event (data + hdr.payload_offset, hdr.payload_len);
  }

  (void) sip_rtcp_sender_ntp (data, size, &ntp);
  return 0;
}
