/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The receive side of one m-line, built from stock elements:
 *
 *   udpsrc (RTP socket) ! rtpsession ! [rtpjitterbuffer] ! ghost pad
 *   udpsrc (RTCP socket) ! rtpsession.recv_rtcp_sink
 *   rtpsession.send_rtcp_src ! udpsink (RTCP socket: symmetric RTCP)
 *
 * and for a sendrecv audio stream, silence in the negotiated codec:
 *
 *   audiotestsrc wave=silence ! mulawenc|alawenc ! rtppcmupay|rtppcmapay
 *     ! rtpsession.send_rtp_sink, send_rtp_src ! udpsink (RTP socket)
 *
 * The sockets are bound before the offer is sent, so the ports in the SDP
 * are ours before the peer can send anything. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gio/gio.h>
#include <gst/rtp/rtp.h>
#include <string.h>
#include "gstsipstream.h"

GST_DEBUG_CATEGORY_STATIC (gst_sip_stream_debug);
#define GST_CAT_DEFAULT gst_sip_stream_debug

#define BIND_ATTEMPTS 64
#define SEQ_JUMP_IS_RESET 3000

struct _GstSipStream
{
  GstBin *bin;                  /* not reffed: the bin owns us */
  enum sipua_media media;

  GSocket *rtp_socket;
  GSocket *rtcp_socket;

  /* children we added to the bin, removed in gst_sip_stream_free() */
  GList *elements;
  GstElement *rtp_src;
  GstElement *rtcp_sink;
  GstElement *rtp_sink;         /* silence, for sendrecv audio only */
  GstPad *ghost;

  /* read by the probe in the streaming thread */
  gint payload;
  gint dtmf_payload;

  GMutex lock;                  /* protects the statistics below */
  guint64 packets;
  guint64 bytes;
  guint64 lost;
  gint last_seq;
  guint32 last_dtmf_ts;
  gboolean dtmf_seen;
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
  stream->payload = -1;
  stream->dtmf_payload = -1;
  stream->last_seq = -1;
  g_mutex_init (&stream->lock);

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
  g_mutex_clear (&stream->lock);
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

GstCaps *
gst_sip_stream_caps_from_answer (enum sipua_media media,
    const struct sipua_stream_info *info)
{
  GstCaps *caps;
  GstStructure *s;
  gchar *encoding = g_ascii_strup (info->encoding, -1);

  /* GStreamer's depayloaders know Opus as OPUS and the rest upper case */
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

  /* rtpsession answers an upstream force-key-unit event with PLI/FIR */
  if (media == SIPUA_MEDIA_VIDEO)
    gst_structure_set (s, "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
        "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, NULL);

  g_free (encoding);
  return caps;
}

static const gchar dtmf_digits[] = "0123456789*#ABCD";

/* RFC 4733: report each event once, at its end */
static void
stream_handle_dtmf (GstSipStream * stream, GstRTPBuffer * rtp)
{
  const guint8 *p = gst_rtp_buffer_get_payload (rtp);
  guint len = gst_rtp_buffer_get_payload_len (rtp);
  guint32 ts = gst_rtp_buffer_get_timestamp (rtp);
  gboolean report = FALSE;
  guint event, duration;

  if (len < 4)
    return;

  event = p[0];
  duration = GST_READ_UINT16_BE (p + 2);
  if (!(p[1] & 0x80) || event >= sizeof (dtmf_digits) - 1)
    return;

  g_mutex_lock (&stream->lock);
  if (!stream->dtmf_seen || stream->last_dtmf_ts != ts) {
    stream->dtmf_seen = TRUE;
    stream->last_dtmf_ts = ts;
    report = TRUE;
  }
  g_mutex_unlock (&stream->lock);

  if (report) {
    gchar digit[2] = { dtmf_digits[event], '\0' };
    GstStructure *s = gst_structure_new ("sip-dtmf",
        "digit", G_TYPE_STRING, digit,
        "duration", G_TYPE_UINT, duration / 8, NULL);

    gst_element_post_message (GST_ELEMENT (stream->bin),
        gst_message_new_element (GST_OBJECT (stream->bin), s));
  }
}

/* Only the negotiated payload goes out; statistics are counted here */
static GstPadProbeReturn
recv_rtp_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstSipStream *stream = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  GstPadProbeReturn ret = GST_PAD_PROBE_OK;
  gboolean first_video = FALSE;
  gint pt, seq;

  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_DROP;

  pt = gst_rtp_buffer_get_payload_type (&rtp);
  seq = gst_rtp_buffer_get_seq (&rtp);

  if (pt == stream->dtmf_payload) {
    stream_handle_dtmf (stream, &rtp);
    ret = GST_PAD_PROBE_DROP;
  } else if (pt != stream->payload) {
    ret = GST_PAD_PROBE_DROP;
  } else {
    g_mutex_lock (&stream->lock);
    first_video = stream->packets == 0 && stream->media == SIPUA_MEDIA_VIDEO;
    stream->packets++;
    stream->bytes += gst_rtp_buffer_get_payload_len (&rtp);
    if (stream->last_seq >= 0) {
      guint gap = (guint16) (seq - stream->last_seq - 1);
      if (gap < SEQ_JUMP_IS_RESET)
        stream->lost += gap;
    }
    stream->last_seq = seq;
    g_mutex_unlock (&stream->lock);
  }

  gst_rtp_buffer_unmap (&rtp);

  /* The published video must start with a keyframe: as soon as the
   * sender is known, ask it for one; rtpsession sends PLI (and FIR) */
  if (first_video)
    gst_pad_send_event (pad, gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
            gst_structure_new ("GstForceKeyUnit", "all-headers",
                G_TYPE_BOOLEAN, TRUE, NULL)));
  return ret;
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

  /* Our UDP sinks must not make the bin, and so the pipeline, wait for
   * their EOS: sipsrc is a source */
  GST_OBJECT_FLAG_UNSET (e, GST_ELEMENT_FLAG_SINK);
  gst_bin_add (stream->bin, e);
  stream->elements = g_list_prepend (stream->elements, e);
  return e;
}

static GstElement *
make_udpsink (GstSipStream * stream, GSocket * socket, const gchar * host,
    guint port, GError ** error)
{
  GstElement *sink = stream_make (stream, "udpsink", error);

  if (sink)
    g_object_set (sink, "socket", socket, "close-socket", FALSE,
        "host", host, "port", (gint) port, "sync", FALSE, "async", FALSE,
        NULL);
  return sink;
}

static gboolean
link_pads (GstElement * src, const gchar * src_pad, GstElement * sink,
    const gchar * sink_pad, GError ** error)
{
  if (!gst_element_link_pads (src, src_pad, sink, sink_pad)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "could not link %s:%s to %s:%s", GST_ELEMENT_NAME (src),
        src_pad ? src_pad : "src", GST_ELEMENT_NAME (sink),
        sink_pad ? sink_pad : "sink");
    return FALSE;
  }
  return TRUE;
}

/* Silence in G.711 keeps peers that wait for our media from hanging up */
static gboolean
stream_add_silence (GstSipStream * stream, GstElement * session,
    const struct sipua_stream_info *info, GError ** error)
{
  GstElement *src, *filter, *enc, *pay, *sink;
  gboolean alaw = !g_ascii_strcasecmp (info->encoding, "PCMA");
  GstCaps *caps;

  if (!alaw && g_ascii_strcasecmp (info->encoding, "PCMU")) {
    GST_WARNING ("not sending silence in %s: only G.711 is sent",
        info->encoding);
    return TRUE;
  }

  if (!(src = stream_make (stream, "audiotestsrc", error)) ||
      !(filter = stream_make (stream, "capsfilter", error)) ||
      !(enc = stream_make (stream, alaw ? "alawenc" : "mulawenc", error)) ||
      !(pay = stream_make (stream, alaw ? "rtppcmapay" : "rtppcmupay", error))
      || !(sink = make_udpsink (stream, stream->rtp_socket,
              info->remote_address, info->remote_rtp_port, error)))
    return FALSE;
  stream->rtp_sink = sink;

  caps = gst_caps_new_simple ("audio/x-raw", "rate", G_TYPE_INT, 8000,
      "channels", G_TYPE_INT, 1, NULL);
  g_object_set (src, "wave", 4 /* silence */ , "is-live", TRUE,
      "samplesperbuffer", 160, NULL);
  g_object_set (filter, "caps", caps, NULL);
  g_object_set (pay, "pt", (guint) info->payload, NULL);
  gst_caps_unref (caps);

  return gst_element_link_many (src, filter, enc, pay, NULL) &&
      link_pads (pay, "src", session, "send_rtp_sink", error) &&
      link_pads (session, "send_rtp_src", sink, "sink", error);
}

/* Build the elements for the answered m-line and return the ghost pad
 * (not yet added to the bin) */
GstPad *
gst_sip_stream_activate (GstSipStream * stream,
    const struct sipua_stream_info *info, const gchar * pad_name,
    guint latency_ms, guint rtp_timeout_s, gboolean send_silence,
    GError ** error)
{
  GstElement *session, *rtcp_src, *rtcp_sink, *jbuf = NULL, *out;
  GstCaps *caps, *rtcp_caps;
  GstPad *pad;
  GList *l;

  g_return_val_if_fail (stream->rtp_socket != NULL, NULL);

  stream->payload = info->payload;
  stream->dtmf_payload = info->dtmf_payload;

  if (!(stream->rtp_src = stream_make (stream, "udpsrc", error)) ||
      !(rtcp_src = stream_make (stream, "udpsrc", error)) ||
      !(session = stream_make (stream, "rtpsession", error)) ||
      !(rtcp_sink = make_udpsink (stream, stream->rtcp_socket,
              info->remote_address, info->remote_rtcp_port, error)))
    return NULL;

  stream->rtcp_sink = rtcp_sink;
  if (latency_ms && !(jbuf = stream_make (stream, "rtpjitterbuffer", error)))
    return NULL;

  caps = gst_sip_stream_caps_from_answer (stream->media, info);
  rtcp_caps = gst_caps_new_empty_simple ("application/x-rtcp");
  g_object_set (stream->rtp_src, "socket", stream->rtp_socket,
      "close-socket", FALSE, "caps", caps,
      "timeout", (guint64) rtp_timeout_s * GST_SECOND, NULL);
  if (stream->media == SIPUA_MEDIA_VIDEO)
    g_object_set (session, "rtp-profile", GST_RTP_PROFILE_AVPF, NULL);
  g_object_set (rtcp_src, "socket", stream->rtcp_socket,
      "close-socket", FALSE, "caps", rtcp_caps, NULL);
  gst_caps_unref (caps);
  gst_caps_unref (rtcp_caps);

  if (!link_pads (stream->rtp_src, "src", session, "recv_rtp_sink", error) ||
      !link_pads (rtcp_src, "src", session, "recv_rtcp_sink", error) ||
      !link_pads (session, "send_rtcp_src", rtcp_sink, "sink", error))
    return NULL;

  pad = gst_element_get_static_pad (session, "recv_rtp_src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, recv_rtp_probe,
      stream, NULL);
  gst_object_unref (pad);

  out = session;
  if (jbuf) {
    g_object_set (jbuf, "latency", latency_ms, NULL);
    if (!link_pads (session, "recv_rtp_src", jbuf, "sink", error))
      return NULL;
    out = jbuf;
  }

  if (send_silence && stream->media == SIPUA_MEDIA_AUDIO &&
      !stream_add_silence (stream, session, info, error))
    return NULL;

  pad = gst_element_get_static_pad (out, jbuf ? "src" : "recv_rtp_src");
  stream->ghost = gst_ghost_pad_new (pad_name, pad);
  gst_object_unref (pad);
  gst_pad_set_active (stream->ghost, TRUE);

  /* pad-added handlers can read the caps before the first packet */
  caps = gst_sip_stream_caps_from_answer (stream->media, info);
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

  for (l = stream->elements; l; l = l->next)
    gst_element_sync_state_with_parent (l->data);

  return stream->ghost;
}

/* A re-INVITE moved the peer's media: follow it. (A codec change would
 * need new downstream elements and is not followed.) */
void
gst_sip_stream_update (GstSipStream * stream,
    const struct sipua_stream_info *info)
{
  if (!info->accepted)
    return;
  if (stream->rtcp_sink)
    g_object_set (stream->rtcp_sink, "host", info->remote_address,
        "port", (gint) info->remote_rtcp_port, NULL);
  if (stream->rtp_sink)
    g_object_set (stream->rtp_sink, "host", info->remote_address,
        "port", (gint) info->remote_rtp_port, NULL);
  if (info->payload != stream->payload)
    GST_WARNING ("re-INVITE changed the payload type %d -> %d: not followed",
        stream->payload, info->payload);
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
    gst_element_send_event (stream->rtp_src, gst_event_new_eos ());
}

void
gst_sip_stream_add_stats (GstSipStream * stream, GstStructure * s)
{
  const gchar *prefix = stream->media == SIPUA_MEDIA_AUDIO ? "audio" : "video";
  gchar *packets = g_strdup_printf ("%s-packets-received", prefix);
  gchar *bytes = g_strdup_printf ("%s-bytes-received", prefix);
  gchar *lost = g_strdup_printf ("%s-packets-lost", prefix);

  g_mutex_lock (&stream->lock);
  gst_structure_set (s, packets, G_TYPE_UINT64, stream->packets,
      bytes, G_TYPE_UINT64, stream->bytes,
      lost, G_TYPE_UINT64, stream->lost, NULL);
  g_mutex_unlock (&stream->lock);

  g_free (packets);
  g_free (bytes);
  g_free (lost);
}
