/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_SIP_DTMF_SENDER_H__
#define __GST_SIP_DTMF_SENDER_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* RFC 4733 telephone-events for one audio stream: digits are queued from
 * any thread and come out as 20 ms event packets, one per media loop tick,
 * on the stream's own RTP clock. Timing: DTMF_TONE_MS per digit, then
 * DTMF_GAP_MS; 'w' is a DTMF_PAUSE_MS pause, as in a phone's dial string. */
#define GST_SIP_DTMF_TONE_MS 100
#define GST_SIP_DTMF_GAP_MS 60
#define GST_SIP_DTMF_PAUSE_MS 500
#define GST_SIP_DTMF_DIGITS "0123456789*#ABCDw"

typedef struct _GstSipDtmfSender GstSipDtmfSender;

typedef struct
{
  guint8 payload[4];            /* event, E|volume, duration */
  gboolean marker;              /* the event's first packet */
  guint32 timestamp;            /* the event's start, in the RTP clock */
  gchar digit_done;             /* a digit whose last packet this is, or 0 */
} GstSipDtmfPacket;

GstSipDtmfSender *gst_sip_dtmf_sender_new (guint clock_rate);
void gst_sip_dtmf_sender_free (GstSipDtmfSender * sender);

gboolean gst_sip_dtmf_sender_queue (GstSipDtmfSender * sender,
    const gchar * digits);
gboolean gst_sip_dtmf_sender_busy (GstSipDtmfSender * sender);
gboolean gst_sip_dtmf_sender_next (GstSipDtmfSender * sender, gint64 now_ns,
    guint32 audio_ts, GstSipDtmfPacket * packet);

G_END_DECLS

#endif
