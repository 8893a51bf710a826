/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* One m-line's RTP, read by the shared media loop (gstsipmedialoop.c).
 *
 * Everything here but the public functions runs on a loop thread under
 * the media entry's lock: reading and pushing packets, RTCP, silence and
 * the RTP timeout. Packets carry the kernel's arrival time (SO_TIMESTAMPNS)
 * so that batching them per tick does not blur their timestamps.
 *
 * Threads and locks: docs/sipsrc-contract.md, "Threads and locks". Under
 * the entry lock nothing is posted (messages wait in the outbox, which a
 * thread of GStreamer's pool empties) and the SIP thread never takes it
 * (a re-INVITE's new address waits in `pending`, applied by the loop). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define _GNU_SOURCE 1
#include <errno.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gst/rtp/rtp.h>
#include "gstsiprtpsource.h"
#include "gstsipmedialoop.h"
#include "gstsipsilence.h"
#include "gstsiptesthook.h"
#include "gstsipdtmfsender.h"
#include "siprtpparse.h"
#include "rtpstats.h"
#include "libre/sipua_srtp.h"

GST_DEBUG_CATEGORY_STATIC (gst_sip_rtp_source_debug);
#define GST_CAT_DEFAULT gst_sip_rtp_source_debug

#define BATCH 32
#define PACKET_MAX 2048
#define RTP_HEADER_LEN 12
#define RTCP_INTERVAL (5 * GST_SECOND)
#define SILENCE_DURATION (20 * GST_MSECOND)
/* how long RTP may pause before silence fills the timeline */
#define FILL_AFTER (60 * GST_MSECOND)
#define NTP_UNIX_OFFSET G_GUINT64_CONSTANT (2208988800)
/* keyframe requests (PLI) are at least this far apart: a depayloader asks
 * on every loss it sees, and a burst of loss needs one keyframe; a request
 * within it is sent when it is over */
#define PLI_MIN_INTERVAL (500 * GST_MSECOND)

struct _GstSipRtpSource
{
  GstElement parent;
  GstPad *srcpad;

  /* set at creation */
  GSocket *rtp_socket;
  GSocket *rtcp_socket;
  GstCaps *caps;
  gint payload;
  gint dtmf_payload;
  guint clock_rate;
  gboolean video;
  gboolean silence_wanted;       /* sendrecv: we send silence */
  gboolean fill_pauses;         /* no jitter buffer after us (see _new) */
  GBytes *silence;              /* 20 ms of it in our codec, or NULL */
  GstSipDtmfSender *dtmf_out;   /* RFC 4733 events we send (audio) */
  guint silence_ts_step;
  gint64 rtp_timeout_ns;
  guint32 ssrc;                 /* ours, in RTCP */
  gchar *cname;

  GstSipMediaEntry *entry;
  /* The object lock (a leaf: nothing is taken or called under it)
   * protects entry and the three hand-overs below. */
  /* a codec the peer switched to, until applied */
  GstCaps *pending_caps;
  /* what the SIP thread learnt from a re-INVITE, until the loop applies it */
  struct
  {
    gboolean set;
    struct sockaddr_storage rtp, rtcp;
    socklen_t len;
    gint dtmf_payload;
    gint payload;               /* the same codec renumbered, or -1 */
    gboolean peer_receives;
    gboolean new_peer;
    /* SRTP keys (secrets: wiped once applied) */
    enum sipua_srtp_suite srtp_suite;
    guint8 srtp_tx_key[SIPUA_SRTP_KEY_LEN];
    guint8 srtp_rx_key[SIPUA_SRTP_KEY_LEN];
  } pending;
  /* messages made under the entry lock, posted by deliver_outbox() */
  GQueue outbox;
  gboolean outbox_scheduled;

  /* Lock order: the media entry's lock, then stats_lock (the process's:
   * docs/sipsrc-contract.md, "Threads and locks"). The entry lock
   * (held by the loop while it runs our callbacks) protects what follows
   * up to stats_lock. */
  struct sockaddr_storage remote_rtp;
  struct sockaddr_storage remote_rtcp;
  socklen_t remote_len;
  /* the negotiated direction lets us send: the peer's SDP says it
   * receives (RFC 3264: a sendonly or inactive peer gets nothing) */
  gboolean peer_receives;
  gboolean send_silence;        /* silence_wanted, peer_receives, a codec */
  gboolean need_events;
  gboolean eos;
  gboolean flow_error;
  gint64 last_packet_ns;
  gint64 started_ns;
  gboolean timeout_posted;
  gint64 next_rtcp_ns;
  gint64 last_pli_ns;
  gboolean pli_pending;         /* asked within PLI_MIN_INTERVAL of the last */
  gint64 next_silence_ns;
  guint16 silence_seq;
  guint32 silence_ts;
  GstClockTime last_pts;        /* of the last buffer pushed */
  gboolean filling;             /* that buffer was fill_gap's silence */
  guint16 fill_seq;
  guint32 fill_ts;
  guint32 dtmf_ts;
  gboolean dtmf_seen;
  /* SRTP of the call (NULL: plain RTP): made from the keys of the answer
   * (or of a re-INVITE) by the thread that holds the stream */
  struct sipua_srtp *srtp;
  /* where the peer's RTP comes from; after a transfer, the previous
   * party's source, whose packets are dropped (it may send a while) */
  struct sockaddr_storage peer_src;
  socklen_t peer_src_len;
  struct sockaddr_storage stale_src;
  socklen_t stale_src_len;
  /* where the peer's RTCP comes from */
  struct sockaddr_storage rtcp_src;
  socklen_t rtcp_src_len;
  /* RFC 3550, A.1: a sender is taken after two packets in sequence */
  gboolean proven;
  guint32 proven_ssrc;
  GstBuffer *probation;         /* a new sender's first packet, held */
  guint32 probation_ssrc;
  guint16 probation_seq;
  guint32 lsr;
  gint64 lsr_received_ns;

  GMutex stats_lock;            /* protects the counters below */
  /* RFC 3550's receiver statistics (rtpstats.c), written by the loop
   * under the entry lock and this one */
  SipRtpStats rx;
  guint64 packets;
  guint64 bytes;
  /* datagrams at the RTP port that are no RTP of this call: too short
   * for a header, or from a sender that never sent two in sequence */
  guint64 invalid;
  /* SRTP/SRTCP packets that failed their check (forged, replayed,
   * garbled): dropped before any parsing */
  guint64 srtp_dropped;
  enum sipua_srtp_suite srtp_suite;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("application/x-rtp"));

#define gst_sip_rtp_source_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstSipRtpSource, gst_sip_rtp_source,
    GST_TYPE_ELEMENT, GST_DEBUG_CATEGORY_INIT (gst_sip_rtp_source_debug,
        "siprtpsource", 0, "RTP of one m-line, on the shared media loop"));

static gint64
clock_ns (clockid_t id)
{
  struct timespec ts;

  clock_gettime (id, &ts);
  return ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* On a thread of GStreamer's pool, with no lock held: post what the loop
 * queued, in order. A bin handles a child's message on the posting thread
 * (sipsrc's handle_message takes its call_lock and may hang up, which
 * waits for the SIP thread): never on a loop thread under the entry lock. */
static void
deliver_outbox (GstElement * element, gpointer user_data)
{
  GstSipRtpSource *self = GST_SIP_RTP_SOURCE (element);
  GstMessage *message;

  for (;;) {
    GST_OBJECT_LOCK (self);
    message = g_queue_pop_head (&self->outbox);
    if (!message)
      self->outbox_scheduled = FALSE;
    GST_OBJECT_UNLOCK (self);
    if (!message)
      return;
    gst_element_post_message (GST_ELEMENT_CAST (GST_MESSAGE_SRC (message)),
        message);
  }
}

/* Under the entry lock: @message (whose source is us or our parent) is
 * posted later, by deliver_outbox */
static void
queue_message (GstSipRtpSource * self, GstMessage * message)
{
  gboolean schedule;

  GST_OBJECT_LOCK (self);
  g_queue_push_tail (&self->outbox, message);
  schedule = !self->outbox_scheduled;
  self->outbox_scheduled = TRUE;
  GST_OBJECT_UNLOCK (self);
  if (schedule)
    gst_element_call_async (GST_ELEMENT_CAST (self), deliver_outbox, NULL,
        NULL);
}

static void
post_on_parent (GstSipRtpSource * self, GstStructure * s)
{
  GstObject *parent = gst_object_get_parent (GST_OBJECT_CAST (self));

  if (!parent) {
    gst_structure_free (s);
    return;
  }
  queue_message (self, gst_message_new_element (parent, s));
  gst_object_unref (parent);
}

static void
set_address (struct sockaddr_storage *ss, socklen_t * len,
    const gchar * host, guint16 port)
{
  struct sockaddr_in *in4 = (struct sockaddr_in *) ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;

  memset (ss, 0, sizeof (*ss));
  if (inet_pton (AF_INET, host, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons (port);
    *len = sizeof (*in4);
  } else if (inet_pton (AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons (port);
    *len = sizeof (*in6);
  } else {
    *len = 0;
  }
  /* 0.0.0.0 (RFC 2543's "send me nothing") is no address: Linux would
   * deliver what we send there to the local host */
  if ((in4->sin_family == AF_INET && in4->sin_addr.s_addr == htonl (INADDR_ANY))
      || (in6->sin6_family == AF_INET6
          && IN6_IS_ADDR_UNSPECIFIED (&in6->sin6_addr)))
    *len = 0;
}

static void
send_to (GstSipRtpSource * self, GSocket * socket,
    const struct sockaddr_storage *to, socklen_t to_len, const guint8 * data,
    gsize len)
{
  guint8 secured[PACKET_MAX + SIPUA_SRTP_TRAILER_MAX];

  if (!self->remote_len)
    return;
  /* SRTP: what we send is protected (RTCP on the RTCP socket) */
  if (self->srtp_suite != SIPUA_SRTP_NONE) {
    int err;

    if (len > PACKET_MAX || !self->srtp)
      return;
    memcpy (secured, data, len);
    err = socket == self->rtcp_socket ?
        sipua_srtcp_protect (self->srtp, secured, &len, sizeof (secured)) :
        sipua_srtp_protect (self->srtp, secured, &len, sizeof (secured));
    if (err) {
      GST_LOG_OBJECT (self, "not sent: SRTP protect failed (%d)", err);
      return;
    }
    data = secured;
  }
  if (sendto (g_socket_get_fd (socket), data, len, MSG_DONTWAIT,
          (const struct sockaddr *) to, to_len) < 0)
    GST_LOG_OBJECT (self, "sendto: %s", g_strerror (errno));
}

static gboolean
same_host (const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  if (a->ss_family != b->ss_family)
    return FALSE;
  if (a->ss_family == AF_INET)
    return ((const struct sockaddr_in *) a)->sin_addr.s_addr ==
        ((const struct sockaddr_in *) b)->sin_addr.s_addr;
  if (a->ss_family == AF_INET6)
    return memcmp (&((const struct sockaddr_in6 *) a)->sin6_addr,
        &((const struct sockaddr_in6 *) b)->sin6_addr,
        sizeof (struct in6_addr)) == 0;
  return FALSE;
}

/* Symmetric RTP (latching): when the peer's RTP comes from another host
 * than its SDP names (a NAT rewrote it: the SDP has the private address),
 * our RTP goes back where it comes from, our RTCP where its RTCP comes
 * from (or the port above). A peer on the host its SDP names is taken at
 * its word: some send from another port than they receive on. */
static gboolean
peer_is_behind_nat (GstSipRtpSource * self)
{
  return self->peer_src_len && self->remote_len &&
      !same_host (&self->peer_src, &self->remote_rtp);
}

static void
send_rtp (GstSipRtpSource * self, const guint8 * data, gsize len)
{
  if (peer_is_behind_nat (self))
    send_to (self, self->rtp_socket, &self->peer_src, self->peer_src_len,
        data, len);
  else
    send_to (self, self->rtp_socket, &self->remote_rtp, self->remote_len,
        data, len);
}

static void
send_rtcp_datagram (GstSipRtpSource * self, const guint8 * data, gsize len)
{
  struct sockaddr_storage to;

  if (!peer_is_behind_nat (self)) {
    send_to (self, self->rtcp_socket, &self->remote_rtcp, self->remote_len,
        data, len);
  } else if (self->rtcp_src_len) {
    send_to (self, self->rtcp_socket, &self->rtcp_src, self->rtcp_src_len,
        data, len);
  } else {
    to = self->peer_src;
    if (to.ss_family == AF_INET)
      ((struct sockaddr_in *) &to)->sin_port =
          htons (ntohs (((struct sockaddr_in *) &to)->sin_port) + 1);
    else
      ((struct sockaddr_in6 *) &to)->sin6_port =
          htons (ntohs (((struct sockaddr_in6 *) &to)->sin6_port) + 1);
    send_to (self, self->rtcp_socket, &to, self->peer_src_len, data, len);
  }
}

static const gchar dtmf_digits[] = "0123456789*#ABCD";

static void
handle_dtmf (GstSipRtpSource * self, GstRTPBuffer * rtp)
{
  const guint8 *p = gst_rtp_buffer_get_payload (rtp);
  guint32 ts = gst_rtp_buffer_get_timestamp (rtp);
  gchar digit[2] = { 0, 0 };

  if (gst_rtp_buffer_get_payload_len (rtp) < 4 || !(p[1] & 0x80)
      || p[0] >= sizeof (dtmf_digits) - 1)
    return;
  /* the end packet is sent three times: report the event once */
  if (self->dtmf_seen && self->dtmf_ts == ts)
    return;
  self->dtmf_seen = TRUE;
  self->dtmf_ts = ts;
  digit[0] = dtmf_digits[p[0]];
  post_on_parent (self, gst_structure_new ("sip-dtmf",
          "digit", G_TYPE_STRING, digit,
          "duration", G_TYPE_UINT, GST_READ_UINT16_BE (p + 2) / 8, NULL));
}

static void
push_events (GstSipRtpSource * self)
{
  GstSegment segment;
  gchar *id = gst_pad_create_stream_id (self->srcpad, GST_ELEMENT_CAST (self),
      NULL);

  gst_pad_push_event (self->srcpad, gst_event_new_stream_start (id));
  gst_pad_push_event (self->srcpad, gst_event_new_caps (self->caps));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (self->srcpad, gst_event_new_segment (&segment));
  g_free (id);
  self->need_events = FALSE;
}

/* Running time of a packet from its kernel arrival time */
static GstClockTime
arrival_running_time (GstSipRtpSource * self, gint64 pkt_realtime_ns,
    gint64 realtime_now_ns, GstClock * clock, GstClockTime base_time)
{
  GstClockTime now = gst_clock_get_time (clock);
  gint64 age = realtime_now_ns - pkt_realtime_ns;
  GstClockTime at;

  if (age < 0 || !pkt_realtime_ns)
    age = 0;
  at = now > (GstClockTime) age ? now - age : 0;
  return at > base_time ? at - base_time : 0;
}

static void request_keyframe (GstSipRtpSource * self);
static GstClockTime close_fill (GstSipRtpSource * self, GstClockTime pts);
static void set_caps (GstSipRtpSource * self, GstCaps * caps);

static void
count_invalid (GstSipRtpSource * self)
{
  g_mutex_lock (&self->stats_lock);
  self->invalid++;
  g_mutex_unlock (&self->stats_lock);
}

/* RFC 3550, A.1: a packet of a sender (SSRC) other than the one we take
 * is held until the next packet of that sender comes in sequence, which
 * makes it the one we take: a peer's new stream loses nothing, and random
 * bytes that pass for RTP of our payload type (a new SSRC each) never
 * reach the pad nor reset the statistics. Returns whether @buf is of the
 * sender we take; if it just became so, its first packet in *held. Takes
 * @buf when it holds it. */
static gboolean
sender_taken (GstSipRtpSource * self, guint32 ssrc, guint16 seq,
    GstBuffer * buf, GstClockTime pts, GstBuffer ** held)
{
  *held = NULL;
  if (self->proven && ssrc == self->proven_ssrc)
    return TRUE;

  if (self->probation && ssrc == self->probation_ssrc &&
      seq == (guint16) (self->probation_seq + 1)) {
    *held = self->probation;
    self->probation = NULL;
    self->proven = TRUE;
    self->proven_ssrc = ssrc;
    return TRUE;
  }

  if (self->probation)
    count_invalid (self);
  gst_buffer_replace (&self->probation, NULL);
  GST_BUFFER_PTS (buf) = pts;
  self->probation = gst_buffer_ref (buf);
  self->probation_ssrc = ssrc;
  self->probation_seq = seq;
  return FALSE;
}

/* Under the entry lock: one buffer of the peer's down the pad */
static void
push_packet (GstSipRtpSource * self, GstBuffer * buf, GstClockTime pts)
{
  GstFlowReturn ret;

  if (self->filling)
    pts = close_fill (self, pts);
  GST_BUFFER_PTS (buf) = pts;
  self->last_pts = pts;
  GST_SIP_TEST_HOOK ("rtp-push-under-entry-lock");
  ret = gst_pad_push (self->srcpad, buf);
  if (ret < GST_FLOW_EOS && ret != GST_FLOW_NOT_LINKED && !self->flow_error) {
    GError *err = g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
        "Internal data stream error.");
    gchar *debug = g_strdup_printf ("streaming stopped, reason %s (%d)",
        gst_flow_get_name (ret), ret);

    /* GST_ELEMENT_FLOW_ERROR's message, posted from the outbox */
    self->flow_error = TRUE;
    queue_message (self, gst_message_new_error (GST_OBJECT_CAST (self), err,
            debug));
    g_error_free (err);
    g_free (debug);
  }
}

/* One RTP packet: filter, count, push */
static void
handle_rtp (GstSipRtpSource * self, const guint8 * data, gsize len,
    GstClockTime pts, gint64 arrival_ns)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  GstBuffer *buf, *held = NULL;
  gboolean first_video = FALSE, push = FALSE;
  SipRtpHeader hdr;
  guint16 seq;
  gint pt;

  /* empty, not version 2, CSRCs, extension or padding beyond the packet */
  if (!sip_rtp_header_parse (data, len, &hdr)) {
    g_mutex_lock (&self->stats_lock);
    self->invalid++;
    g_mutex_unlock (&self->stats_lock);
    return;
  }
  buf = gst_buffer_new_memdup (data, len);
  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp)) {
    gst_buffer_unref (buf);     /* not RTP */
    return;
  }
  pt = gst_rtp_buffer_get_payload_type (&rtp);
  seq = gst_rtp_buffer_get_seq (&rtp);

  if (pt == self->dtmf_payload) {
    handle_dtmf (self, &rtp);
  } else if (pt == self->payload && !sender_taken (self,
          gst_rtp_buffer_get_ssrc (&rtp), seq, buf, pts, &held)) {
    GST_LOG_OBJECT (self, "new sender %08x on probation",
        gst_rtp_buffer_get_ssrc (&rtp));
  } else if (pt == self->payload) {
    guint32 ssrc = gst_rtp_buffer_get_ssrc (&rtp);

    g_mutex_lock (&self->stats_lock);
    first_video = self->video && self->packets == 0;
    if (held) {
      /* the sender's first packet (seq - 1), which proved it with this
       * one: counted first; a new sender's statistics start from it */
      GstRTPBuffer first = GST_RTP_BUFFER_INIT;

      sip_rtp_stats_packet (&self->rx, ssrc, (guint16) (seq - 1));
      self->packets++;
      if (gst_rtp_buffer_map (held, GST_MAP_READ, &first)) {
        self->bytes += gst_rtp_buffer_get_payload_len (&first);
        gst_rtp_buffer_unmap (&first);
      }
    }
    sip_rtp_stats_packet (&self->rx, ssrc, seq);
    sip_rtp_stats_jitter (&self->rx, self->clock_rate,
        gst_rtp_buffer_get_timestamp (&rtp), arrival_ns);
    self->packets++;
    self->bytes += gst_rtp_buffer_get_payload_len (&rtp);
    g_mutex_unlock (&self->stats_lock);

    self->last_packet_ns = clock_ns (CLOCK_MONOTONIC);
    self->timeout_posted = FALSE;
    push = TRUE;
  }
  gst_rtp_buffer_unmap (&rtp);

  if (!push || self->eos) {
    gst_buffer_unref (buf);
    if (held)
      gst_buffer_unref (held);
    return;
  }

  if (self->need_events)
    push_events (self);

  if (held)
    push_packet (self, held, GST_BUFFER_PTS (held));
  push_packet (self, buf, pts);

  /* the published video must start with a keyframe: ask the peer right
   * away (we run under the entry lock here) */
  if (first_video)
    request_keyframe (self);
}

/* An SR's NTP time, for LSR/DLSR in our reports */
static void
handle_rtcp (GstSipRtpSource * self, const guint8 * data, gsize len)
{
  guint64 ntp;

  if (sip_rtcp_sender_ntp (data, len, &ntp)) {
    self->lsr = (guint32) (ntp >> 16);
    self->lsr_received_ns = clock_ns (CLOCK_MONOTONIC);
  }
}

/* Under the entry lock (or before the loop has the entry): the SRTP keys
 * of the answer or of a re-INVITE. Another suite (or SRTP turned on or
 * off) makes a new context; new keys of the same suite renew what they
 * changed (ours kept, its counters go on: no index twice with a key). */
static void
srtp_apply (GstSipRtpSource * self, enum sipua_srtp_suite suite,
    const guint8 * tx_key, const guint8 * rx_key)
{
  int err = 0;

  if (suite != SIPUA_SRTP_NONE && sipua_srtp_suite (self->srtp) == suite) {
    err = sipua_srtp_update (self->srtp, tx_key, rx_key);
  } else {
    g_clear_pointer (&self->srtp, sipua_srtp_free);
    if (suite != SIPUA_SRTP_NONE)
      err = sipua_srtp_alloc (&self->srtp, suite, tx_key, rx_key);
  }
  if (err) {
    /* nothing goes out or comes in unprotected: see send_to, read_socket */
    GST_ERROR_OBJECT (self, "SRTP context failed (%d): media dropped", err);
    g_clear_pointer (&self->srtp, sipua_srtp_free);
  }
  g_mutex_lock (&self->stats_lock);
  self->srtp_suite = suite;
  g_mutex_unlock (&self->stats_lock);
}

/* Under the entry lock: a datagram of an SRTP call is checked and
 * decrypted before anything reads it; one that fails (forged, replayed,
 * garbled, plain) is dropped and counted, never parsed */
static gboolean
srtp_unprotect (GstSipRtpSource * self, guint8 * data, guint * len,
    gboolean is_rtp)
{
  size_t n = *len;
  int err = EINVAL;

  if (self->srtp)
    err = is_rtp ? sipua_srtp_unprotect (self->srtp, data, &n) :
        sipua_srtcp_unprotect (self->srtp, data, &n);
  if (err) {
    GST_LOG_OBJECT (self, "%s packet of %u bytes dropped: %s", is_rtp ?
        "SRTP" : "SRTCP", *len, g_strerror (err));
    g_mutex_lock (&self->stats_lock);
    self->srtp_dropped++;
    g_mutex_unlock (&self->stats_lock);
    return FALSE;
  }
  *len = (guint) n;
  return TRUE;
}

/* Under the entry lock (or before the loop has the entry): what a
 * re-INVITE changed */
static void
apply_pending_update (GstSipRtpSource * self)
{
  gboolean set;
  gint renumbered = -1;
  gboolean new_peer = FALSE, moved = FALSE;
  enum sipua_srtp_suite srtp_suite = SIPUA_SRTP_NONE;
  guint8 srtp_tx_key[SIPUA_SRTP_KEY_LEN], srtp_rx_key[SIPUA_SRTP_KEY_LEN];

  GST_OBJECT_LOCK (self);
  set = self->pending.set;
  if (set) {
    srtp_suite = self->pending.srtp_suite;
    memcpy (srtp_tx_key, self->pending.srtp_tx_key, sizeof (srtp_tx_key));
    memcpy (srtp_rx_key, self->pending.srtp_rx_key, sizeof (srtp_rx_key));
    memset (self->pending.srtp_tx_key, 0, sizeof (srtp_tx_key));
    memset (self->pending.srtp_rx_key, 0, sizeof (srtp_rx_key));
    new_peer = self->pending.new_peer;
    moved = self->pending.len != self->remote_len ||
        memcmp (&self->pending.rtp, &self->remote_rtp, self->remote_len);
    self->pending.new_peer = FALSE;
    self->remote_rtp = self->pending.rtp;
    self->remote_rtcp = self->pending.rtcp;
    self->remote_len = self->pending.len;
    self->dtmf_payload = self->pending.dtmf_payload;
    self->peer_receives = self->pending.peer_receives;
    self->send_silence = self->silence_wanted && self->peer_receives &&
        self->silence != NULL;
    renumbered = self->pending.payload;
    self->pending.set = FALSE;
  }
  GST_OBJECT_UNLOCK (self);
  if (!set)
    return;

  srtp_apply (self, srtp_suite, srtp_tx_key, srtp_rx_key);
  memset (srtp_tx_key, 0, sizeof (srtp_tx_key));
  memset (srtp_rx_key, 0, sizeof (srtp_rx_key));

  /* the previous party may still send a while: its stream is not ours */
  if (new_peer && self->peer_src_len) {
    self->stale_src = self->peer_src;
    self->stale_src_len = self->peer_src_len;
  }
  /* media elsewhere: where it comes from is learnt again */
  if (new_peer || moved) {
    self->peer_src_len = 0;
    self->rtcp_src_len = 0;
  }

  if (renumbered >= 0 && renumbered != self->payload) {
    /* the same codec under another number: follow it */
    GstCaps *caps = gst_caps_copy (self->caps);

    gst_caps_set_simple (caps, "payload", G_TYPE_INT, renumbered, NULL);
    set_caps (self, caps);
    gst_caps_unref (caps);
    self->payload = renumbered;
    if (!self->need_events && !self->eos)
      gst_pad_push_event (self->srcpad, gst_event_new_caps (self->caps));
  }
  /* a resumed stream gets rtp-timeout from now on, not from before */
  self->last_packet_ns = clock_ns (CLOCK_MONOTONIC);
  self->timeout_posted = FALSE;
}

static gboolean
same_address (const struct sockaddr_storage *a, socklen_t a_len,
    const struct sockaddr_storage *b, socklen_t b_len)
{
  return a_len == b_len && memcmp (a, b, a_len) == 0;
}

/* Under the entry lock: a RTP datagram's source is our peer's; after a
 * transfer, the previous party's is not (it may send until it sees our
 * BYE). The first source of a party is where its RTP comes from. */
static gboolean
from_peer (GstSipRtpSource * self, const struct sockaddr_storage *src,
    socklen_t src_len)
{
  if (self->stale_src_len && same_address (src, src_len, &self->stale_src,
          self->stale_src_len))
    return FALSE;
  if (!self->peer_src_len) {
    self->peer_src = *src;
    self->peer_src_len = src_len;
  }
  return TRUE;
}

static void
read_socket (gpointer user_data, gint fd, gint64 now)
{
  GstSipRtpSource *self = user_data;
  static __thread guint8 storage[BATCH][PACKET_MAX];
  static __thread union
  {
    struct cmsghdr align;
    gchar buf[CMSG_SPACE (sizeof (struct timespec))];
  } control[BATCH];
  struct sockaddr_storage from[BATCH];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  gboolean is_rtp = fd == g_socket_get_fd (self->rtp_socket);
  gboolean playing = GST_STATE (self) == GST_STATE_PLAYING;
  GstClock *clock = NULL;
  GstClockTime base_time = 0;
  gint64 realtime_now = clock_ns (CLOCK_REALTIME);
  gint n, i;

  apply_pending_update (self);
  if (playing && is_rtp) {
    clock = gst_element_get_clock (GST_ELEMENT_CAST (self));
    base_time = gst_element_get_base_time (GST_ELEMENT_CAST (self));
  }

  do {
    memset (msgs, 0, sizeof (msgs));
    for (i = 0; i < BATCH; i++) {
      iov[i].iov_base = storage[i];
      iov[i].iov_len = PACKET_MAX;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = control[i].buf;
      msgs[i].msg_hdr.msg_controllen = sizeof (control[i].buf);
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof (from[i]);
    }
    n = recvmmsg (fd, msgs, BATCH, MSG_DONTWAIT, NULL);

    for (i = 0; i < n; i++) {
      struct cmsghdr *cm;
      gint64 pkt_ns = 0;

      for (cm = CMSG_FIRSTHDR (&msgs[i].msg_hdr); cm;
          cm = CMSG_NXTHDR (&msgs[i].msg_hdr, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPNS) {
          struct timespec ts;
          memcpy (&ts, CMSG_DATA (cm), sizeof (ts));
          pkt_ns = ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
        }
      }

      /* SRTP first: nothing unauthenticated is parsed nor latched onto */
      if (self->srtp_suite != SIPUA_SRTP_NONE && !srtp_unprotect (self,
              storage[i], &msgs[i].msg_len, is_rtp))
        continue;               /* forged, replayed, garbled: counted */

      if (!is_rtp) {
        /* the peer's first RTCP source since the last negotiation */
        if (!self->rtcp_src_len && !(self->stale_src_len &&
                same_host (&from[i], &self->stale_src))) {
          self->rtcp_src = from[i];
          self->rtcp_src_len = msgs[i].msg_hdr.msg_namelen;
        }
        handle_rtcp (self, storage[i], msgs[i].msg_len);
      }
      else if (msgs[i].msg_len < RTP_HEADER_LEN)
        count_invalid (self);   /* no buffer: an empty one is an error */
      else if (!from_peer (self, &from[i], msgs[i].msg_hdr.msg_namelen))
        continue;               /* a transferred call's previous party */
      else if (clock)
        handle_rtp (self, storage[i], msgs[i].msg_len,
            arrival_running_time (self, pkt_ns, realtime_now, clock,
                base_time), pkt_ns ? pkt_ns : realtime_now);
      /* else: not playing, a live source drops what arrives */
    }
  } while (n == BATCH);

  if (clock)
    gst_object_unref (clock);
}

/* Receiver report (with a report block once we know the sender) and our
 * CNAME; a PLI after them when asked for a keyframe */
static void
send_rtcp (GstSipRtpSource * self, gboolean pli)
{
  GstBuffer *buf = gst_rtcp_buffer_new (1400);
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  SipRtpReportBlock rb;
  GstMapInfo map;

  gst_rtcp_buffer_map (buf, GST_MAP_READWRITE, &rtcp);
  gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_RR, &packet);
  gst_rtcp_packet_rr_set_ssrc (&packet, self->ssrc);

  g_mutex_lock (&self->stats_lock);
  if (sip_rtp_stats_report (&self->rx, &rb)) {
    guint32 dlsr = 0;

    if (self->lsr_received_ns)
      dlsr = (guint32) (((clock_ns (CLOCK_MONOTONIC) -
                  self->lsr_received_ns) << 16) / GST_SECOND);
    gst_rtcp_packet_add_rb (&packet, rb.ssrc, rb.fraction_lost,
        rb.cumulative_lost, rb.ext_highest_seq, rb.jitter, self->lsr, dlsr);
  }
  g_mutex_unlock (&self->stats_lock);

  gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_SDES, &packet);
  gst_rtcp_packet_sdes_add_item (&packet, self->ssrc);
  gst_rtcp_packet_sdes_add_entry (&packet, GST_RTCP_SDES_CNAME,
      strlen (self->cname), (const guint8 *) self->cname);

  if (pli && self->rx.have_sender) {
    gst_rtcp_buffer_add_packet (&rtcp, GST_RTCP_TYPE_PSFB, &packet);
    gst_rtcp_packet_fb_set_type (&packet, GST_RTCP_PSFB_TYPE_PLI);
    gst_rtcp_packet_fb_set_sender_ssrc (&packet, self->ssrc);
    gst_rtcp_packet_fb_set_media_ssrc (&packet, self->rx.ssrc);
  }
  gst_rtcp_buffer_unmap (&rtcp);

  gst_buffer_map (buf, &map, GST_MAP_READ);
  send_rtcp_datagram (self, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
}

/* A PLI (in a compound packet with our report), or, when one went out
 * less than PLI_MIN_INTERVAL ago, one when that interval is over (tick):
 * no request is lost, a burst of them is one PLI. Nothing before the
 * peer's first packet, whose SSRC the PLI names (that packet asks itself).
 * Under the entry lock. */
static void
request_keyframe (GstSipRtpSource * self)
{
  gint64 now = clock_ns (CLOCK_MONOTONIC);
  gboolean have_remote;

  g_mutex_lock (&self->stats_lock);
  have_remote = self->rx.have_sender;
  g_mutex_unlock (&self->stats_lock);
  if (!have_remote)
    return;
  if (self->last_pli_ns && now - self->last_pli_ns < (gint64) PLI_MIN_INTERVAL) {
    self->pli_pending = TRUE;
    return;
  }
  self->pli_pending = FALSE;
  self->last_pli_ns = now;
  send_rtcp (self, TRUE);
}

/* 20 ms packets of silence, paced by the ticks; while a DTMF event is
 * sent, the audio's clock goes on without packets (RFC 4733 2.5.1.1) */
static void
send_silence (GstSipRtpSource * self, gint64 now)
{
  gsize len;
  const guint8 *payload = g_bytes_get_data (self->silence, &len);
  guint8 packet[12 + 1500];
  gboolean dtmf = self->dtmf_out && gst_sip_dtmf_sender_busy (self->dtmf_out);

  len = MIN (len, sizeof (packet) - 12);
  if (!self->next_silence_ns)
    self->next_silence_ns = now;
  while (dtmf && self->next_silence_ns <= now) {
    self->silence_ts += self->silence_ts_step;
    self->next_silence_ns += 20 * GST_MSECOND;
  }
  while (self->next_silence_ns <= now) {
    packet[0] = 0x80;
    packet[1] = (guint8) self->payload;
    GST_WRITE_UINT16_BE (packet + 2, self->silence_seq++);
    GST_WRITE_UINT32_BE (packet + 4, self->silence_ts);
    GST_WRITE_UINT32_BE (packet + 8, self->ssrc);
    memcpy (packet + 12, payload, len);
    self->silence_ts += self->silence_ts_step;
    send_rtp (self, packet, 12 + len);
    self->next_silence_ns += 20 * GST_MSECOND;
  }
}

/* The next RFC 4733 event packet, when one is due; the stream's SSRC,
 * sequence and clock */
static void
send_dtmf (GstSipRtpSource * self, gint64 now)
{
  GstSipDtmfPacket dtmf;
  guint8 packet[12 + sizeof (dtmf.payload)];

  if (!gst_sip_dtmf_sender_next (self->dtmf_out, now, self->silence_ts,
          &dtmf))
    return;
  packet[0] = 0x80;
  packet[1] = (dtmf.marker ? 0x80 : 0) | (guint8) self->dtmf_payload;
  GST_WRITE_UINT16_BE (packet + 2, self->silence_seq++);
  GST_WRITE_UINT32_BE (packet + 4, dtmf.timestamp);
  GST_WRITE_UINT32_BE (packet + 8, self->ssrc);
  memcpy (packet + 12, dtmf.payload, sizeof (dtmf.payload));
  send_rtp (self, packet, sizeof (packet));

  if (dtmf.digit_done) {
    gchar digit[2] = { dtmf.digit_done, 0 };

    post_on_parent (self, gst_structure_new ("sip-dtmf-sent",
            "digit", G_TYPE_STRING, digit, "method", G_TYPE_STRING, "rfc4733",
            "duration", G_TYPE_UINT, GST_SIP_DTMF_TONE_MS, NULL));
  }
}

/* Any thread: digits to send as RFC 4733 events (sipsrc decided that
 * they can reach the peer so). FALSE: a character of no DTMF. */
gboolean
gst_sip_rtp_source_send_dtmf (GstSipRtpSource * self, const gchar * digits)
{
  return self->dtmf_out && gst_sip_dtmf_sender_queue (self->dtmf_out, digits);
}

/* One buffer of silence (flagged GAP) on the fill's own RTP sequence:
 * the first `len` bytes of the codec's 20 ms of silence, moving the RTP
 * clock by `ts_step`, stamped `pts` */
static GstFlowReturn
push_fill (GstSipRtpSource * self, gsize len, guint ts_step, GstClockTime pts)
{
  const guint8 *payload = g_bytes_get_data (self->silence, NULL);
  GstBuffer *buf = gst_rtp_buffer_new_allocate (len, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp);
  gst_rtp_buffer_set_payload_type (&rtp, self->payload);
  gst_rtp_buffer_set_seq (&rtp, self->fill_seq++);
  gst_rtp_buffer_set_timestamp (&rtp, self->fill_ts);
  gst_rtp_buffer_set_ssrc (&rtp, self->ssrc);
  memcpy (gst_rtp_buffer_get_payload (&rtp), payload, len);
  gst_rtp_buffer_unmap (&rtp);
  self->fill_ts += ts_step;

  if (self->need_events)
    push_events (self);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  return gst_pad_push (self->srcpad, buf);
}

/* RTP stopped (hold, silence suppression, loss, a slow peer): the
 * published timeline goes on with silence that follows the clock, in
 * 20 ms packets of the negotiated codec, so players and CDNs neither
 * stall nor cut. Real packets take over as soon as they come
 * (close_fill). */
static void
fill_gap (GstSipRtpSource * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT_CAST (self));
  GstClockTime base_time, now;
  gsize len;

  if (!clock)
    return;
  base_time = gst_element_get_base_time (GST_ELEMENT_CAST (self));
  now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  if (now < base_time + FILL_AFTER)
    return;
  now -= base_time + FILL_AFTER;

  if (!GST_CLOCK_TIME_IS_VALID (self->last_pts)) {
    self->last_pts = now;       /* the timeline starts with the answer */
    return;
  }

  g_bytes_get_data (self->silence, &len);
  while (self->last_pts + SILENCE_DURATION <= now && !self->eos) {
    self->last_pts += SILENCE_DURATION;
    self->filling = TRUE;
    if (push_fill (self, len, self->silence_ts_step, self->last_pts) !=
        GST_FLOW_OK)
      break;
  }
}

/* The first real packet after the fill, which lags the clock by
 * FILL_AFTER: silence up to the packet's arrival, so that the timeline
 * has no hole there (to the sample for G.711 and G.722, whose payload is
 * a byte per RTP tick; in whole 20 ms packets otherwise). A packet that
 * arrived within the last silence packet starts where that one ends.
 * Returns the packet's pts. */
static GstClockTime
close_fill (GstSipRtpSource * self, GstClockTime pts)
{
  GstClockTime end = self->last_pts + SILENCE_DURATION;
  gsize len;
  guint ticks, n = 0;

  self->filling = FALSE;
  if (pts <= end)
    return end;

  g_bytes_get_data (self->silence, &len);
  /* the fill runs every tick: more than a second is no hole of ours */
  while (pts - end >= SILENCE_DURATION && n++ < GST_SECOND / SILENCE_DURATION
      && push_fill (self, len, self->silence_ts_step, end) == GST_FLOW_OK)
    end += SILENCE_DURATION;
  ticks = (guint) gst_util_uint64_scale (pts - end, self->clock_rate,
      GST_SECOND);
  if (len == self->silence_ts_step && ticks > 0 && ticks < len)
    push_fill (self, ticks, ticks, end);
  return pts;
}

static void
tick (gpointer user_data, gint64 now)
{
  GstSipRtpSource *self = user_data;

  apply_pending_update (self);
  if (GST_STATE (self) != GST_STATE_PLAYING)
    return;

  /* RTP flowing: nothing to fill, and no clock to ask */
  if (self->fill_pauses && self->silence && (!self->last_packet_ns ||
          now - self->last_packet_ns >= (gint64) FILL_AFTER))
    fill_gap (self);

  if (self->pli_pending && now - self->last_pli_ns >= (gint64) PLI_MIN_INTERVAL)
    request_keyframe (self);

  if (now >= self->next_rtcp_ns) {
    send_rtcp (self, FALSE);
    /* RFC 3550: randomised between 0.5 and 1.5 times the interval */
    self->next_rtcp_ns = now + g_random_int_range (RTCP_INTERVAL / 2 /
        GST_MSECOND, RTCP_INTERVAL * 3 / 2 / GST_MSECOND) * GST_MSECOND;
  }

  /* the peer's answer named telephone-event and takes our media */
  if (self->dtmf_out && self->dtmf_payload >= 0 && self->peer_receives &&
      self->silence_wanted)
    send_dtmf (self, now);

  if (self->send_silence)
    send_silence (self, now);

  if (self->rtp_timeout_ns && !self->timeout_posted && !self->eos) {
    gint64 since = self->last_packet_ns ? self->last_packet_ns :
        self->started_ns;

    if (since && now - since > self->rtp_timeout_ns) {
      self->timeout_posted = TRUE;
      GST_SIP_TEST_HOOK ("rtp-timeout-under-entry-lock");
      /* from us, so that sipsrc's handle_message sees it */
      queue_message (self, gst_message_new_element (GST_OBJECT_CAST (self),
              gst_structure_new_empty ("sip-rtp-timeout")));
    }
  }
}

static gboolean
src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstSipRtpSource *self = GST_SIP_RTP_SOURCE (parent);

  if (gst_event_has_name (event, "GstForceKeyUnit") && self->video &&
      self->entry) {
    gst_sip_media_entry_lock (self->entry);
    request_keyframe (self);
    gst_sip_media_entry_unlock (self->entry);
    gst_event_unref (event);
    return TRUE;
  }
  return gst_pad_event_default (pad, parent, event);
}

static gboolean
src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstSipRtpSource *self = GST_SIP_RTP_SOURCE (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:
      /* packets wait up to a tick of the media loop */
      gst_query_set_latency (query, TRUE, gst_sip_media_loop_tick (),
          GST_CLOCK_TIME_NONE);
      return TRUE;
    case GST_QUERY_CAPS:{
      GstCaps *filter, *caps, *mine;

      gst_query_parse_caps (query, &filter);
      GST_OBJECT_LOCK (self);
      mine = gst_caps_ref (self->caps);
      GST_OBJECT_UNLOCK (self);
      caps = filter ? gst_caps_intersect_full (filter, mine,
          GST_CAPS_INTERSECT_FIRST) : gst_caps_ref (mine);
      gst_caps_unref (mine);
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* Push EOS after the last buffer: the loop is kept out meanwhile */
void
gst_sip_rtp_source_end (GstSipRtpSource * self)
{
  GstSipMediaEntry *entry;

  GST_OBJECT_LOCK (self);
  entry = self->entry;
  GST_OBJECT_UNLOCK (self);

  if (entry)
    gst_sip_media_entry_lock (entry);
  if (!self->eos) {
    self->eos = TRUE;
    if (self->need_events)
      push_events (self);
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  }
  if (entry)
    gst_sip_media_entry_unlock (entry);
}

static gboolean
gst_sip_rtp_source_send_event (GstElement * element, GstEvent * event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    gst_sip_rtp_source_end (GST_SIP_RTP_SOURCE (element));
    gst_event_unref (event);
    return TRUE;
  }
  return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
}

/* Under the entry lock; the object lock keeps caps queries out */
static void
set_caps (GstSipRtpSource * self, GstCaps * caps)
{
  GST_OBJECT_LOCK (self);
  gst_caps_replace (&self->caps, caps);
  GST_OBJECT_UNLOCK (self);
}

/* Whether downstream takes @caps: a pipeline built for one codec (a
 * fixed depayloader) refuses another, a pipeline that follows codec
 * changes (sip2rtmpd's) or takes any RTP accepts it. Nothing downstream
 * yet: nothing refuses. */
static gboolean
downstream_accepts (GstSipRtpSource * self, GstCaps * caps)
{
  GstQuery *query = gst_query_new_accept_caps (caps);
  gboolean result = TRUE;

  if (gst_pad_peer_query (self->srcpad, query))
    gst_query_parse_accept_caps_result (query, &result);
  gst_query_unref (query);
  return result;
}

/* On a thread of GStreamer's pool: the peer's latest codec becomes ours.
 * The silence for it is made before the loop is locked out (the first one
 * of a kind is encoded then); the caps event is pushed with the loop out,
 * so it sits between the last packet of the old codec and the first of the
 * new one, and downstream can replace its decoder in between. */
static void
apply_codec_change (GstElement * element, gpointer user_data)
{
  GstSipRtpSource *self = GST_SIP_RTP_SOURCE (element);
  GstCaps *caps;
  GstSipMediaEntry *entry;
  const GstStructure *s;
  GstCaps *old;
  const gchar *encoding, *old_encoding;
  GBytes *silence = NULL;
  guint silence_ts_step = 0;
  gint payload = -1, clock_rate = 0;

  GST_OBJECT_LOCK (self);
  caps = self->pending_caps;
  self->pending_caps = NULL;
  entry = self->entry;
  old = gst_caps_ref (self->caps);
  GST_OBJECT_UNLOCK (self);
  if (!caps) {
    gst_caps_unref (old);
    return;                     /* a later change came first */
  }

  s = gst_caps_get_structure (caps, 0);
  encoding = gst_structure_get_string (s, "encoding-name");
  gst_structure_get_int (s, "payload", &payload);
  gst_structure_get_int (s, "clock-rate", &clock_rate);
  old_encoding = gst_structure_get_string (gst_caps_get_structure (old, 0),
      "encoding-name");
  if (!downstream_accepts (self, caps)) {
    GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
        ("The peer changed the codec from %s to %s during the call: "
            "downstream does not take %s, not followed", old_encoding,
            encoding, encoding), (NULL));
    gst_caps_unref (old);
    gst_caps_unref (caps);
    return;
  }
  if (!self->video)
    silence = gst_sip_silence_payload (encoding, &silence_ts_step);
  GST_INFO_OBJECT (self, "codec %s -> %s (payload %d)", old_encoding,
      encoding, payload);
  gst_caps_unref (old);

  if (entry)
    gst_sip_media_entry_lock (entry);
  set_caps (self, caps);
  self->payload = payload;
  self->clock_rate = clock_rate;
  g_clear_pointer (&self->silence, g_bytes_unref);
  self->silence = silence;
  self->silence_ts_step = silence_ts_step;
  self->send_silence = self->silence_wanted && self->peer_receives &&
      silence != NULL;
  /* the receiver statistics start over with the new stream (jitter is in
   * its clock rate) */
  g_mutex_lock (&self->stats_lock);
  sip_rtp_stats_restart (&self->rx);
  g_mutex_unlock (&self->stats_lock);
  if (!self->need_events && !self->eos)
    gst_pad_push_event (self->srcpad, gst_event_new_caps (self->caps));
  if (entry)
    gst_sip_media_entry_unlock (entry);
  gst_caps_unref (caps);
}

/* On the SIP thread: a re-INVITE (or the answer after early media) moved
 * the peer's media, renumbered its payload or changed its codec. Never
 * waits for the loop (which may be pushing into a slow downstream): the
 * change is handed over under the object lock and the loop applies it on
 * its next tick; a codec change goes to GStreamer's pool. */
void
gst_sip_rtp_source_update (GstSipRtpSource * self,
    const struct sipua_stream_info *info, GstCaps * caps)
{
  gboolean codec_changed;

  GST_OBJECT_LOCK (self);
  set_address (&self->pending.rtp, &self->pending.len, info->remote_address,
      info->remote_rtp_port);
  set_address (&self->pending.rtcp, &self->pending.len, info->remote_address,
      info->remote_rtcp_port);
  self->pending.dtmf_payload = info->dtmf_payload;
  self->pending.peer_receives = info->remote_receives;
  self->pending.srtp_suite = info->srtp_suite;
  memcpy (self->pending.srtp_tx_key, info->srtp_tx_key,
      SIPUA_SRTP_KEY_LEN);
  memcpy (self->pending.srtp_rx_key, info->srtp_rx_key,
      SIPUA_SRTP_KEY_LEN);
  /* a transfer: keep the news of it until the loop has applied it */
  self->pending.new_peer |= info->new_peer;
  codec_changed = g_ascii_strcasecmp (gst_structure_get_string
      (gst_caps_get_structure (self->caps, 0), "encoding-name"),
      info->encoding) != 0;
  self->pending.payload = codec_changed ? -1 : info->payload;
  self->pending.set = TRUE;
  /* another codec needs new elements downstream: not on the SIP thread */
  gst_caps_replace (&self->pending_caps, codec_changed ? caps : NULL);
  GST_OBJECT_UNLOCK (self);

  if (codec_changed)
    gst_element_call_async (GST_ELEMENT_CAST (self), apply_codec_change, NULL,
        NULL);
}

void
gst_sip_rtp_source_add_stats (GstSipRtpSource * self, GstStructure * s,
    const gchar * prefix)
{
  gchar *packets = g_strdup_printf ("%s-packets-received", prefix);
  gchar *bytes = g_strdup_printf ("%s-bytes-received", prefix);
  gchar *lost = g_strdup_printf ("%s-packets-lost", prefix);
  gchar *jitter = g_strdup_printf ("%s-jitter-ms", prefix);
  gchar *invalid = g_strdup_printf ("%s-packets-invalid", prefix);
  gchar *srtp = g_strdup_printf ("%s-srtp", prefix);
  gchar *srtp_dropped = g_strdup_printf ("%s-srtp-dropped", prefix);

  g_mutex_lock (&self->stats_lock);
  gst_structure_set (s, packets, G_TYPE_UINT64, self->packets,
      bytes, G_TYPE_UINT64, self->bytes, lost, G_TYPE_UINT64, self->rx.lost,
      jitter, G_TYPE_DOUBLE, sip_rtp_stats_jitter_ms (&self->rx,
          self->clock_rate), invalid, G_TYPE_UINT64, self->invalid, NULL);
  /* the suite, never a key */
  gst_structure_set (s, srtp, G_TYPE_STRING,
      self->srtp_suite == SIPUA_SRTP_NONE ? "off" :
      sipua_srtp_suite_name (self->srtp_suite), srtp_dropped, G_TYPE_UINT64,
      self->srtp_dropped, NULL);
  g_mutex_unlock (&self->stats_lock);
  g_free (srtp);
  g_free (srtp_dropped);

  g_free (packets);
  g_free (bytes);
  g_free (lost);
  g_free (jitter);
  g_free (invalid);
}

static GstStateChangeReturn
gst_sip_rtp_source_change_state (GstElement * element,
    GstStateChange transition)
{
  GstSipRtpSource *self = GST_SIP_RTP_SOURCE (element);
  GstStateChangeReturn ret;
  GstSipMediaEntry *entry;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    self->need_events = TRUE;
    self->last_pts = GST_CLOCK_TIME_NONE;
    self->filling = FALSE;
    self->eos = FALSE;
    self->flow_error = FALSE;
    self->started_ns = clock_ns (CLOCK_MONOTONIC);
    apply_pending_update (self);
    entry = gst_sip_media_loop_add (g_socket_get_fd (self->rtp_socket),
        g_socket_get_fd (self->rtcp_socket), read_socket, tick, self);
    GST_OBJECT_LOCK (self);
    self->entry = entry;
    GST_OBJECT_UNLOCK (self);
  }

  /* pad (de)activation happens in here: the loop must be out before the
   * pad flushes, so remove first when going down */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    GST_OBJECT_LOCK (self);
    entry = self->entry;
    self->entry = NULL;
    GST_OBJECT_UNLOCK (self);
    if (entry)
      gst_sip_media_loop_remove (entry);
    /* the loop is out: a sender proves itself again next time */
    gst_buffer_replace (&self->probation, NULL);
    self->proven = FALSE;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      if (ret != GST_STATE_CHANGE_FAILURE)
        ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    default:
      break;
  }
  return ret;
}

GstElement *
gst_sip_rtp_source_new (GSocket * rtp_socket, GSocket * rtcp_socket,
    GstCaps * caps, const struct sipua_stream_info *info,
    guint rtp_timeout_s, gboolean send_silence, gboolean fill_pauses)
{
  GstSipRtpSource *self = g_object_new (GST_TYPE_SIP_RTP_SOURCE, NULL);
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  gint one = 1, clock_rate = 0;

  self->rtp_socket = g_object_ref (rtp_socket);
  self->rtcp_socket = g_object_ref (rtcp_socket);
  self->caps = gst_caps_ref (caps);
  self->payload = info->payload;
  self->dtmf_payload = info->dtmf_payload;
  gst_structure_get_int (s, "clock-rate", &clock_rate);
  self->clock_rate = clock_rate;
  self->video = !g_strcmp0 (gst_structure_get_string (s, "media"), "video");
  self->rtp_timeout_ns = (gint64) rtp_timeout_s * GST_SECOND;
  self->ssrc = g_random_int ();
  self->cname = g_strdup_printf ("sipsrc-%08x@%s", self->ssrc,
      info->remote_address);

  /* the silence that fills pauses, and that sendrecv calls send */
  if (!self->video)
    self->silence = gst_sip_silence_payload (info->encoding,
        &self->silence_ts_step);
  self->silence_wanted = send_silence;
  self->peer_receives = info->remote_receives;
  self->send_silence = send_silence && self->peer_receives &&
      self->silence != NULL;
  self->fill_pauses = fill_pauses;
  if (!self->video)
    self->dtmf_out = gst_sip_dtmf_sender_new (self->clock_rate);
  if (!self->video && !self->silence)
    GST_WARNING_OBJECT (self, "no silence in %s: pauses are not filled",
        info->encoding);
  self->fill_seq = (guint16) g_random_int ();
  self->fill_ts = g_random_int ();

  set_address (&self->remote_rtp, &self->remote_len, info->remote_address,
      info->remote_rtp_port);
  set_address (&self->remote_rtcp, &self->remote_len, info->remote_address,
      info->remote_rtcp_port);
  /* the loop does not have us yet: this thread holds the stream */
  srtp_apply (self, info->srtp_suite, info->srtp_tx_key, info->srtp_rx_key);

  /* the kernel stamps each packet's arrival */
  setsockopt (g_socket_get_fd (rtp_socket), SOL_SOCKET, SO_TIMESTAMPNS, &one,
      sizeof (one));
  g_socket_set_blocking (rtp_socket, FALSE);
  g_socket_set_blocking (rtcp_socket, FALSE);

  return GST_ELEMENT_CAST (self);
}

static void
gst_sip_rtp_source_finalize (GObject * object)
{
  GstSipRtpSource *self = GST_SIP_RTP_SOURCE (object);

  g_clear_object (&self->rtp_socket);
  g_clear_object (&self->rtcp_socket);
  gst_caps_replace (&self->caps, NULL);
  gst_caps_replace (&self->pending_caps, NULL);
  gst_buffer_replace (&self->probation, NULL);
  g_clear_pointer (&self->silence, g_bytes_unref);
  g_clear_pointer (&self->srtp, sipua_srtp_free);
  memset (&self->pending, 0, sizeof (self->pending));
  gst_sip_dtmf_sender_free (self->dtmf_out);
  /* empty: a scheduled delivery holds a reference to us */
  g_queue_clear_full (&self->outbox, (GDestroyNotify) gst_message_unref);
  g_free (self->cname);
  g_mutex_clear (&self->stats_lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_sip_rtp_source_init (GstSipRtpSource * self)
{
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_event_function (self->srcpad, src_event);
  gst_pad_set_query_function (self->srcpad, src_query);
  gst_element_add_pad (GST_ELEMENT_CAST (self), self->srcpad);
  g_mutex_init (&self->stats_lock);
  self->payload = -1;
  self->dtmf_payload = -1;
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

static void
gst_sip_rtp_source_class_init (GstSipRtpSourceClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_sip_rtp_source_finalize;
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_sip_rtp_source_change_state);
  element_class->send_event =
      GST_DEBUG_FUNCPTR (gst_sip_rtp_source_send_event);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "SIP RTP source",
      "Source/Network/RTP", "RTP of one m-line, read by sipsrc's shared "
      "media loop", "sip2rtmp authors");
}
