/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The receive side of one m-line:
 *
 *   siprtpsource (RTP and RTCP sockets, read by the shared media loop)
 *     ! [rtpjitterbuffer] ! ghost pad
 *
 * The sockets are bound before the offer is sent, so the ports in the SDP
 * are ours before the peer can send anything. siprtpsource has no thread:
 * RTCP receiver reports, PLI, silence for sendrecv audio and the RTP
 * timeout all run on the media loop's ticks. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gio/gio.h>
#include <string.h>
#include "gstsipstream.h"
#include "gstsiprtpsource.h"
#include "codecs.h"

GST_DEBUG_CATEGORY_STATIC (gst_sip_stream_debug);
#define GST_CAT_DEFAULT gst_sip_stream_debug

#define BIND_ATTEMPTS 64

struct _GstSipStream
{
  GstBin *bin;                  /* not reffed: the bin owns us */
  enum sipua_media media;

  GSocket *rtp_socket;
  GSocket *rtcp_socket;

  /* children we added to the bin, removed in gst_sip_stream_free() */
  GList *elements;
  GstElement *rtp_src;          /* a GstSipRtpSource */
  GstPad *ghost;
};

static void
ensure_debug (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (gst_sip_stream_debug, "sipstream", 0,
        "RTP streams of sipsrc");
    g_once_init_leave (&done, 1);
  }
}

GstSipStream *
gst_sip_stream_new (GstBin * bin, enum sipua_media media)
{
  GstSipStream *stream = g_new0 (GstSipStream, 1);

  ensure_debug ();
  stream->bin = bin;
  stream->media = media;

  return stream;
}

void
gst_sip_stream_free (GstSipStream * stream)
{
  GList *l;

  if (!stream)
    return;

  if (stream->ghost) {
    gst_ghost_pad_set_target (GST_GHOST_PAD (stream->ghost), NULL);
    gst_pad_set_active (stream->ghost, FALSE);
    gst_element_remove_pad (GST_ELEMENT (stream->bin), stream->ghost);
  }

  for (l = stream->elements; l; l = l->next) {
    GstElement *e = l->data;

    gst_element_set_locked_state (e, TRUE);
    gst_element_set_state (e, GST_STATE_NULL);
    gst_bin_remove (stream->bin, e);
  }
  g_list_free (stream->elements);

  if (stream->rtp_socket)
    g_socket_close (stream->rtp_socket, NULL);
  if (stream->rtcp_socket)
    g_socket_close (stream->rtcp_socket, NULL);
  g_clear_object (&stream->rtp_socket);
  g_clear_object (&stream->rtcp_socket);
  g_free (stream);
}

static GSocket *
udp_socket_bind (GInetAddress * addr, guint port, GError ** error)
{
  GSocket *socket;
  GSocketAddress *sa;
  gboolean ok;

  socket = g_socket_new (g_inet_address_get_family (addr),
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (!socket)
    return NULL;

  sa = g_inet_socket_address_new (addr, port);
  ok = g_socket_bind (socket, sa, FALSE, error);
  g_object_unref (sa);

  if (!ok) {
    g_object_unref (socket);
    return NULL;
  }
  return socket;
}

static guint16
socket_port (GSocket * socket)
{
  GSocketAddress *sa = g_socket_get_local_address (socket, NULL);
  guint16 port = 0;

  if (sa) {
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (sa));
    g_object_unref (sa);
  }
  return port;
}

/* An RTP port and the one above it for RTCP, within [port_min, port_max]
 * (0: any), RTP on an even port as RFC 3550 asks */
gboolean
gst_sip_stream_bind (GstSipStream * stream, const gchar * local_address,
    guint port_min, guint port_max, GError ** error)
{
  GInetAddress *addr;
  guint attempt, port = 0;

  addr = g_inet_address_new_from_string (local_address);
  if (!addr) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "'%s' is not an IP address", local_address);
    return FALSE;
  }

  if (port_min && !port_max)
    port_max = 65535;
  port = port_min + (port_min & 1);

  for (attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
    GError *err = NULL;
    guint rtp_port;

    if (port_min && port + 1 > port_max)
      break;

    g_clear_object (&stream->rtp_socket);
    g_clear_object (&stream->rtcp_socket);

    stream->rtp_socket = udp_socket_bind (addr, port_min ? port : 0, &err);
    if (!stream->rtp_socket) {
      g_clear_error (&err);
      port += 2;
      continue;
    }

    rtp_port = socket_port (stream->rtp_socket);
    if (rtp_port & 1) {
      port += 2;
      continue;
    }

    stream->rtcp_socket = udp_socket_bind (addr, rtp_port + 1, &err);
    if (stream->rtcp_socket)
      break;

    g_clear_error (&err);
    port += 2;
  }

  g_object_unref (addr);

  if (!stream->rtp_socket || !stream->rtcp_socket) {
    g_clear_object (&stream->rtp_socket);
    g_clear_object (&stream->rtcp_socket);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
        "no free RTP/RTCP port pair on %s in %u-%u", local_address,
        port_min, port_max);
    return FALSE;
  }

  GST_DEBUG ("bound RTP %u, RTCP %u on %s",
      socket_port (stream->rtp_socket), socket_port (stream->rtcp_socket),
      local_address);
  return TRUE;
}

guint16
gst_sip_stream_get_rtp_port (GstSipStream * stream)
{
  return stream->rtp_socket ? socket_port (stream->rtp_socket) : 0;
}

guint16
gst_sip_stream_get_rtcp_port (GstSipStream * stream)
{
  return stream->rtcp_socket ? socket_port (stream->rtcp_socket) : 0;
}

/* "a=1;b=2" from a=fmtp become caps fields, as GStreamer's SDP code does */
static void
caps_add_fmtp (GstStructure * s, const gchar * fmtp)
{
  gchar **params = g_strsplit (fmtp, ";", -1);
  gchar **p;

  for (p = params; *p; p++) {
    gchar *kv = g_strstrip (*p);
    gchar *eq = strchr (kv, '=');
    gchar *key;

    if (!eq || eq == kv)
      continue;
    *eq = '\0';
    key = g_ascii_strdown (g_strstrip (kv), -1);
    if (g_ascii_isalpha (key[0]) && !gst_structure_has_field (s, key))
      gst_structure_set (s, key, G_TYPE_STRING, g_strstrip (eq + 1), NULL);
    g_free (key);
  }
  g_strfreev (params);
}

static GstCaps *
caps_from_answer (enum sipua_media media,
    const struct sipua_stream_info *info)
{
  const struct codec *c = codec_find (info->encoding, strlen (info->encoding));
  GstCaps *caps;
  GstStructure *s;
  gchar *encoding = c ? g_strdup (c->rtp_encoding) :
      g_ascii_strup (info->encoding, -1);

  if (c)
    GST_DEBUG ("%s: RTP caps for %s", info->encoding, c->depayloader);
  caps = gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, media == SIPUA_MEDIA_AUDIO ? "audio" : "video",
      "encoding-name", G_TYPE_STRING, encoding,
      "clock-rate", G_TYPE_INT, (gint) info->clock_rate,
      "payload", G_TYPE_INT, info->payload, NULL);
  s = gst_caps_get_structure (caps, 0);

  if (info->channels > 0 && media == SIPUA_MEDIA_AUDIO) {
    gchar *ch = g_strdup_printf ("%u", info->channels);
    gst_structure_set (s, "encoding-params", G_TYPE_STRING, ch, NULL);
    g_free (ch);
  }
  if (info->fmtp[0])
    caps_add_fmtp (s, info->fmtp);

  /* siprtpsource answers an upstream force-key-unit event with PLI */
  if (media == SIPUA_MEDIA_VIDEO)
    gst_structure_set (s, "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
        "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, NULL);

  g_free (encoding);
  return caps;
}

static GstElement *
stream_make (GstSipStream * stream, const gchar * factory, GError ** error)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "missing element '%s'", factory);
    return NULL;
  }

  gst_bin_add (stream->bin, e);
  stream->elements = g_list_prepend (stream->elements, e);
  return e;
}

/* Build the elements for the answered m-line and return the ghost pad
 * (not yet added to the bin) */
GstPad *
gst_sip_stream_activate (GstSipStream * stream,
    const struct sipua_stream_info *info, const gchar * pad_name,
    guint latency_ms, guint rtp_timeout_s, gboolean send_silence,
    GError ** error)
{
  GstElement *jbuf = NULL, *out;
  GstCaps *caps;
  GstPad *pad;

  g_return_val_if_fail (stream->rtp_socket != NULL, NULL);

  caps = caps_from_answer (stream->media, info);
  /* With a jitter buffer after it, the source does not fill pauses: the
   * jitter buffer orders packets by sequence number, and the fill's own
   * sequence between the peer's confuses it (seen: the hole the fill
   * closes at a resume back in 1 run of 3 with latency=100). */
  stream->rtp_src = gst_sip_rtp_source_new (stream->rtp_socket,
      stream->rtcp_socket, caps, info, rtp_timeout_s, send_silence,
      latency_ms == 0);
  gst_bin_add (stream->bin, stream->rtp_src);
  stream->elements = g_list_prepend (stream->elements, stream->rtp_src);
  out = stream->rtp_src;

  if (latency_ms) {
    if (!(jbuf = stream_make (stream, "rtpjitterbuffer", error))) {
      gst_caps_unref (caps);
      return NULL;
    }
    g_object_set (jbuf, "latency", latency_ms, NULL);
    if (!gst_element_link (stream->rtp_src, jbuf)) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
          "could not link the jitter buffer");
      gst_caps_unref (caps);
      return NULL;
    }
    out = jbuf;
  }

  pad = gst_element_get_static_pad (out, "src");
  stream->ghost = gst_ghost_pad_new (pad_name, pad);
  gst_object_unref (pad);
  gst_pad_set_active (stream->ghost, TRUE);

  /* pad-added handlers can read the caps before the first packet */
  {
    gchar *id = gst_pad_create_stream_id (stream->ghost,
        GST_ELEMENT_CAST (stream->bin), pad_name);
    GstEvent *event = gst_event_new_stream_start (id);

    /* storing does not take the event */
    gst_pad_store_sticky_event (stream->ghost, event);
    gst_event_unref (event);
    event = gst_event_new_caps (caps);
    gst_pad_store_sticky_event (stream->ghost, event);
    gst_event_unref (event);
    g_free (id);
  }
  gst_caps_unref (caps);

  return stream->ghost;
}

/* Once the pad is exposed (and linked by pad-added handlers): a jitter
 * buffer that started pushing before would meet an unlinked pad, pause
 * its task on not-linked and hold every packet until the next caps */
void
gst_sip_stream_start (GstSipStream * stream)
{
  GList *l;

  for (l = stream->elements; l; l = l->next)
    gst_element_sync_state_with_parent (l->data);
}

/* A re-INVITE (or the answer after early media) moved the peer's media
 * or changed its codec: follow it. A new codec reaches the pad as new
 * caps, when downstream accepts them (docs/sipsrc-contract.md). */
void
gst_sip_stream_update (GstSipStream * stream,
    const struct sipua_stream_info *info)
{
  GstCaps *caps;

  if (!info->accepted || !stream->rtp_src)
    return;
  caps = caps_from_answer (stream->media, info);
  gst_sip_rtp_source_update (GST_SIP_RTP_SOURCE (stream->rtp_src), info,
      caps);
  gst_caps_unref (caps);
}

/* RFC 4733 events on this (audio) stream */
gboolean
gst_sip_stream_send_dtmf (GstSipStream * stream, const gchar * digits)
{
  return stream->rtp_src &&
      gst_sip_rtp_source_send_dtmf (GST_SIP_RTP_SOURCE (stream->rtp_src),
      digits);
}

gboolean
gst_sip_stream_owns (GstSipStream * stream, GstObject * object)
{
  return object == GST_OBJECT_CAST (stream->rtp_src);
}

/* A remote BYE: every pad ends with EOS, so muxers and sinks close */
void
gst_sip_stream_send_eos (GstSipStream * stream)
{
  if (stream->rtp_src)
    gst_sip_rtp_source_end (GST_SIP_RTP_SOURCE (stream->rtp_src));
}

void
gst_sip_stream_add_stats (GstSipStream * stream, GstStructure * s)
{
  const gchar *prefix = stream->media == SIPUA_MEDIA_AUDIO ? "audio" : "video";

  if (stream->rtp_src)
    gst_sip_rtp_source_add_stats (GST_SIP_RTP_SOURCE (stream->rtp_src), s,
        prefix);
}
