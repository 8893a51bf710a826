/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The RFC 4733 sender: a queue of digits (any thread) and the event being
 * sent (the media loop, under the stream's entry lock). Each event: a
 * packet every 20 ms whose duration grows, the first with the marker bit,
 * then the end packet three times (RFC 4733 2.5.1.4: it must get through),
 * all with the timestamp of the event's start. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "gstsipdtmfsender.h"

#define PACKET_MS 20
#define END_PACKETS 3
/* dBm0 below the maximum, as phones send */
#define VOLUME 10

struct _GstSipDtmfSender
{
  guint clock_rate;

  GMutex lock;                  /* protects queue; a leaf */
  GString *queue;

  /* the media loop's */
  gchar digit;                  /* being sent, or 0 */
  guint elapsed_ms;
  guint end_sent;
  guint32 timestamp;
  gint64 wait_until_ns;         /* a gap or a pause */
};

GstSipDtmfSender *
gst_sip_dtmf_sender_new (guint clock_rate)
{
  GstSipDtmfSender *sender = g_new0 (GstSipDtmfSender, 1);

  sender->clock_rate = clock_rate;
  g_mutex_init (&sender->lock);
  sender->queue = g_string_new (NULL);
  return sender;
}

void
gst_sip_dtmf_sender_free (GstSipDtmfSender * sender)
{
  if (!sender)
    return;
  g_string_free (sender->queue, TRUE);
  g_mutex_clear (&sender->lock);
  g_free (sender);
}

/* Any thread. FALSE: a character of no DTMF (nothing is queued) */
gboolean
gst_sip_dtmf_sender_queue (GstSipDtmfSender * sender, const gchar * digits)
{
  if (!digits || !*digits
      || strspn (digits, GST_SIP_DTMF_DIGITS) != strlen (digits))
    return FALSE;
  g_mutex_lock (&sender->lock);
  g_string_append (sender->queue, digits);
  g_mutex_unlock (&sender->lock);
  return TRUE;
}

/* The media loop: an event is under way (the stream's audio pauses) */
gboolean
gst_sip_dtmf_sender_busy (GstSipDtmfSender * sender)
{
  return sender->digit != 0;
}

static gchar
take_next (GstSipDtmfSender * sender)
{
  gchar c = 0;

  g_mutex_lock (&sender->lock);
  if (sender->queue->len) {
    c = sender->queue->str[0];
    g_string_erase (sender->queue, 0, 1);
  }
  g_mutex_unlock (&sender->lock);
  return c;
}

static guint8
event_code (gchar digit)
{
  return (guint8) (strchr (GST_SIP_DTMF_DIGITS, digit) - GST_SIP_DTMF_DIGITS);
}

/* The media loop, once per tick: TRUE and @packet when one is due.
 * @audio_ts: the stream's RTP timestamp now, where a new event starts. */
gboolean
gst_sip_dtmf_sender_next (GstSipDtmfSender * sender, gint64 now_ns,
    guint32 audio_ts, GstSipDtmfPacket * packet)
{
  guint duration;
  gboolean end;

  if (!sender->digit) {
    gchar c;

    if (now_ns < sender->wait_until_ns || !(c = take_next (sender)))
      return FALSE;
    if (c == 'w') {
      sender->wait_until_ns = now_ns + GST_SIP_DTMF_PAUSE_MS * GST_MSECOND;
      return FALSE;
    }
    sender->digit = c;
    sender->elapsed_ms = 0;
    sender->end_sent = 0;
    sender->timestamp = audio_ts;
  }

  memset (packet, 0, sizeof (*packet));
  packet->marker = sender->elapsed_ms == 0;
  packet->timestamp = sender->timestamp;
  end = sender->elapsed_ms >= GST_SIP_DTMF_TONE_MS;
  if (!end)
    sender->elapsed_ms += PACKET_MS;
  duration = sender->elapsed_ms * sender->clock_rate / 1000;
  packet->payload[0] = event_code (sender->digit);
  packet->payload[1] = (end ? 0x80 : 0) | VOLUME;
  GST_WRITE_UINT16_BE (packet->payload + 2, MIN (duration, 0xFFFF));

  if (end && ++sender->end_sent == END_PACKETS) {
    packet->digit_done = sender->digit;
    sender->digit = 0;
    sender->wait_until_ns = now_ns + GST_SIP_DTMF_GAP_MS * GST_MSECOND;
  }
  return TRUE;
}
