/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/rtp/rtp.h>
#include "siprtpparse.h"

#define RTP_HEADER_LEN 12

/**
 * sip_rtp_header_parse:
 * @data: a datagram received at an RTP port
 * @len: its length, 0 included
 * @hdr: (out): its header, when it is RTP
 *
 * Accepts exactly what gst_rtp_buffer_map() accepts (which the media loop
 * used alone before), but an empty datagram too is refused instead of
 * making a buffer of no memory: version 2, not RTCP (RFC 5761: a second
 * byte of 200-204), the CSRCs, the extension and the padding within the
 * packet. Like GStreamer, a padding count of 0 is taken as no padding.
 *
 * Returns: %TRUE if @data is an RTP packet
 */
gboolean
sip_rtp_header_parse (const guint8 * data, gsize len, SipRtpHeader * hdr)
{
  gsize header_len, padding = 0;

  if (len < RTP_HEADER_LEN)
    return FALSE;
  if ((data[0] & 0xc0) != 0x80)
    return FALSE;
  if (data[1] >= 200 && data[1] <= 204)
    return FALSE;

  header_len = RTP_HEADER_LEN + 4 * (data[0] & 0x0f);
  if (data[0] & 0x10) {
    /* profile (16 bits) and length in 32-bit words (16 bits) */
    if (header_len + 4 > len)
      return FALSE;
    header_len += 4 + 4 * (gsize) GST_READ_UINT16_BE (data + header_len + 2);
  }
  if (data[0] & 0x20)
    padding = data[len - 1];
  if (header_len + padding > len)
    return FALSE;

  hdr->marker = (data[1] & 0x80) != 0;
  hdr->payload_type = data[1] & 0x7f;
  hdr->seq = GST_READ_UINT16_BE (data + 2);
  hdr->timestamp = GST_READ_UINT32_BE (data + 4);
  hdr->ssrc = GST_READ_UINT32_BE (data + 8);
  hdr->payload_offset = header_len;
  hdr->payload_len = len - header_len - padding;
  return TRUE;
}

/**
 * sip_rtcp_sender_ntp:
 * @data: a datagram received at an RTCP port
 * @len: its length, 0 included
 * @ntp: (out): the NTP time of its last sender report
 *
 * Reads a (reduced size, RFC 5506, or compound) RTCP packet for the NTP time
 * that our receiver reports echo (LSR).
 *
 * Returns: %TRUE if @data is valid RTCP with a sender report
 */
gboolean
sip_rtcp_sender_ntp (const guint8 * data, gsize len, guint64 * ntp)
{
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  GstBuffer *buf;
  gboolean found = FALSE;

  if (len == 0 || !gst_rtcp_buffer_validate_data_reduced ((guint8 *) data, len))
    return FALSE;
  buf = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY,
      (gpointer) data, len, 0, len, NULL, NULL);
  gst_rtcp_buffer_map (buf, GST_MAP_READ, &rtcp);
  if (gst_rtcp_buffer_get_first_packet (&rtcp, &packet)) {
    do {
      if (gst_rtcp_packet_get_type (&packet) == GST_RTCP_TYPE_SR) {
        gst_rtcp_packet_sr_get_sender_info (&packet, NULL, ntp, NULL, NULL,
            NULL);
        found = TRUE;
      }
    } while (gst_rtcp_packet_move_to_next (&packet));
  }
  gst_rtcp_buffer_unmap (&rtcp);
  gst_buffer_unref (buf);
  return found;
}
