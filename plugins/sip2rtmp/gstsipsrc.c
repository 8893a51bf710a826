/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-sipsrc
 * @title: sipsrc
 *
 * sipsrc places a SIP call (with libre, the baresip SIP stack) and outputs
 * the call's RTP: one sometimes pad per accepted m-line (`audio_%u`,
 * `video_%u`) with the caps of the SDP answer, then no-more-pads.
 *
 * Call progress is posted as `sip-call` element messages (state trying,
 * ringing, early-media, established, terminated, failed; sip-status;
 * reason; call-id). A remote BYE ends every pad with EOS. A failed call
 * posts an error whose details structure `sip-error` carries the SIP
 * status and reason. Setting the element to NULL sends CANCEL before the
 * answer and BYE after it.
 *
 * All sipsrc of a process share one libre thread (and one SIP socket per
 * transport and local address) and a media loop of one thread per core,
 * which reads every call's RTP each 20 ms and pushes it downstream: no
 * sipsrc has a thread of its own. When RTP pauses, the timeline goes on
 * with silence in the call's codec that follows the clock.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e sipsrc uri=sip:1000@127.0.0.1:5060 user-id=alice \
 *   user-pw=secret ! rtppcmudepay ! mulawdec ! audioconvert ! \
 *   audioresample ! avenc_aac ! aacparse ! flvmux streamable=true ! \
 *   rtmp2sink location=rtmp://127.0.0.1/live/room1
 * ]| Calls 1000 and publishes the call's audio to an RTMP server.
 * |[
 * gst-launch-1.0 -e sipsrc uri=sip:1000@127.0.0.1:5060 ! rtppcmudepay ! \
 *   mulawdec ! audioconvert ! audioresample ! \
 *   audio/x-raw,rate=48000,channels=1 ! voaacenc ! aacparse ! \
 *   rtmppubsink location=rtmp://127.0.0.1/live/room1
 * ]| The same without a thread per call (rtmppubsink).
 * |[
 * gst-play-1.0 sip:1000@127.0.0.1:5060
 * ]| Plays a call's audio through the URI handler.
 * |[
 * gst-launch-1.0 -e sipsrc uri=sips:1000@pbx.example.com srtp=mandatory \
 *   user-id=alice user-pw=secret ! rtppcmudepay ! mulawdec ! audioconvert ! \
 *   audioresample ! audio/x-raw,rate=48000,channels=1 ! voaacenc ! aacparse ! \
 *   rtmppubsink location=rtmp://127.0.0.1/live/room1
 * ]| A secure call, as Twilio's Secure Media requires: SIP over TLS to port
 * 5061 (the server's certificate checked against the system's CAs and the
 * host name, `tls-ca-file` for a private CA), SRTP with SDES keys; a
 * certificate that fails, or an answer without keys, fails the call.
 * |[
 * gst-launch-1.0 -e sipsrc mode=answer uri=sip:room42@192.0.2.10:5060 ! \
 *   rtppcmudepay ! mulawdec ! audioconvert ! audioresample ! voaacenc ! \
 *   aacparse ! rtmppubsink location=rtmp://127.0.0.1/live/room42
 * ]| Answer mode (issue 14): waits for a call to sip:room42@192.0.2.10:5060
 * (an address of ours) (user-id/user-pw: challenge the caller; caller: only from that
 * user), answers it at once (180, then 200 with our SDP) and publishes it;
 * INVITEs nobody waits for get 404. See also siplistener. Over TLS
 * (`uri=sip:room42@192.0.2.10:5061;transport=tls`) tls-cert-file and
 * tls-key-file are the certificate callers check; an IPv6 address in
 * brackets (`sip:room42@[2001:db8::10]`) listens there, SDP `c=IN IP6`.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gio/gio.h>
#include "gstsipsrc.h"
#include "gstsipstream.h"
#include "gstsipuri.h"
#include "gstsiptesthook.h"
#include "gstsipmedialoop.h"
#include "gstsipdtmfsender.h"
#include "gstsipheaders.h"
#include "gstsipsrcanswer.h"
#include "gstsipsrcplan.h"
#include "codecs.h"
#include "libre/runtime.h"
#include "libre/sipua.h"

GST_DEBUG_CATEGORY_STATIC (gst_sip_src_debug);
#define GST_CAT_DEFAULT gst_sip_src_debug

typedef enum
{
  GST_SIP_TRANSPORT_UDP = SIPUA_TRANSPORT_UDP,
  GST_SIP_TRANSPORT_TCP = SIPUA_TRANSPORT_TCP,
  GST_SIP_TRANSPORT_TLS = SIPUA_TRANSPORT_TLS,
} GstSipTransport;

typedef enum
{
  GST_SIP_SRTP_OFF = SIPUA_SRTP_OFF,
  GST_SIP_SRTP_OPTIONAL = SIPUA_SRTP_OPTIONAL,
  GST_SIP_SRTP_MANDATORY = SIPUA_SRTP_MANDATORY,
} GstSipSrtpMode;

typedef enum
{
  GST_SIP_MEDIA_OFF = SIPUA_DIR_OFF,
  GST_SIP_MEDIA_RECVONLY = SIPUA_DIR_RECVONLY,
  GST_SIP_MEDIA_SENDRECV = SIPUA_DIR_SENDRECV,
} GstSipMediaMode;

enum
{
  PROP_0,
  PROP_URI,
  PROP_USER_ID,
  PROP_USER_PW,
  PROP_AUTH_USER,
  PROP_FROM_URI,
  PROP_DISPLAY_NAME,
  PROP_PROXY,
  PROP_TRANSPORT,
  PROP_LOCAL_ADDRESS,
  PROP_SIP_PORT,
  PROP_AUDIO,
  PROP_VIDEO,
  PROP_CODECS,
  PROP_RTP_PORT_MIN,
  PROP_RTP_PORT_MAX,
  PROP_ANSWER_TIMEOUT,
  PROP_RTP_TIMEOUT,
  PROP_REGISTER,
  PROP_USER_AGENT,
  PROP_LATENCY,
  PROP_DTMF,
  PROP_SIP_HEADERS,
  PROP_PUBLIC_ADDRESS,
  PROP_SRTP,
  PROP_TLS_CA_FILE,
  PROP_TLS_VERIFY,
  PROP_TLS_CERT_FILE,
  PROP_TLS_KEY_FILE,
  PROP_STATS,
  /* answer mode (issue 14) */
  PROP_MODE,
  PROP_CALLER,
  PROP_INVITE_ID,
  PROP_AUTH_MAX_FAILURES,
  PROP_AUTH_FAILURE_WINDOW,
  PROP_AUTH_LOCKOUT,
};

enum
{
  SIGNAL_SEND_DTMF,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

#define DEFAULT_TRANSPORT ((GstSipTransport) GST_SIP_SRC_DEFAULT_TRANSPORT)
#define DEFAULT_SIP_PORT GST_SIP_SRC_DEFAULT_SIP_PORT
#define DEFAULT_AUDIO ((GstSipMediaMode) GST_SIP_SRC_DEFAULT_AUDIO)
#define DEFAULT_VIDEO ((GstSipMediaMode) GST_SIP_SRC_DEFAULT_VIDEO)
#define DEFAULT_CODECS GST_SIP_SRC_DEFAULT_CODECS
#define DEFAULT_RTP_PORT_MIN GST_SIP_SRC_DEFAULT_RTP_PORT_MIN
#define DEFAULT_RTP_PORT_MAX GST_SIP_SRC_DEFAULT_RTP_PORT_MAX
#define DEFAULT_ANSWER_TIMEOUT GST_SIP_SRC_DEFAULT_ANSWER_TIMEOUT
#define DEFAULT_RTP_TIMEOUT 30
#define DEFAULT_REGISTER GST_SIP_SRC_DEFAULT_REGISTER
#define DEFAULT_USER_AGENT "sip2rtmp/" VERSION
#define DEFAULT_LATENCY 0
#define DEFAULT_SRTP ((GstSipSrtpMode) GST_SIP_SRC_DEFAULT_SRTP)
#define DEFAULT_TLS_VERIFY GST_SIP_SRC_DEFAULT_TLS_VERIFY
#define DEFAULT_AUTH_MAX_FAILURES GST_SIP_SRC_DEFAULT_AUTH_MAX_FAILURES
#define DEFAULT_AUTH_FAILURE_WINDOW GST_SIP_SRC_DEFAULT_AUTH_FAILURE_WINDOW
#define DEFAULT_AUTH_LOCKOUT GST_SIP_SRC_DEFAULT_AUTH_LOCKOUT

#define STATUS_TIMEOUT 408
#define STATUS_REQUEST_TERMINATED 487

struct _GstSipSrc
{
  GstBin parent;

  /* properties, protected by the object lock */
  gchar *uri;
  gchar *user_id;
  gchar *user_pw;
  gchar *auth_user;
  gchar *from_uri;
  gchar *display_name;
  gchar *proxy;
  GstSipTransport transport;
  gchar *local_address;
  guint sip_port;
  GstSipMediaMode media_mode[SIPUA_MEDIA_COUNT];
  gchar *codecs;
  guint rtp_port_min;
  guint rtp_port_max;
  guint answer_timeout;
  guint rtp_timeout;
  gboolean do_register;
  gchar *user_agent;
  guint latency;
  gchar *dtmf;                  /* the dial string sent once answered */
  GstStructure *sip_headers;    /* more headers for the INVITE */
  gchar *public_address;        /* a NAT's, in Contact and SDP */
  GstSipSrtpMode srtp;
  gchar *tls_ca_file;
  gboolean tls_verify;
  gchar *tls_cert_file;
  gchar *tls_key_file;
  GstSipSrcMode mode;           /* answer mode: issue 14 */
  gchar *caller;
  gchar *invite_id;
  guint auth_max_failures;      /* password guessing: answer mode */
  guint auth_failure_window;
  guint auth_lockout;
  /* the call plan checked from these at NULL->READY, used by the call of
   * the next READY->PAUSED; dropped when a property is set */
  GstSipSrcPlan *plan;

  /* call_lock protects everything below. The process's lock order and
   * which thread runs what: docs/sipsrc-contract.md, "Threads and locks".
   * Here: the STATE_LOCK, then call_lock, then the leaf locks of our
   * children (a rtp source's object lock, its stats lock). Under call_lock
   * nothing is posted, emitted, pushed or waited for: the SIP thread takes
   * it to report every event. */
  GMutex call_lock;
  struct sipua_call *call;
  GstSipStream *streams[SIPUA_MEDIA_COUNT];
  gboolean shutting_down;
  gboolean exposing;            /* expose_streams() is building the pads */
  gboolean exposed;             /* ...and is done: the streams are whole */
  /* a re-INVITE that came while exposing, applied when exposed */
  gboolean update_pending;
  struct sipua_stream_info pending_update[SIPUA_MEDIA_COUNT];
  gboolean sipua_started;
  const gchar *state_name;
  gint sip_status;
  gboolean on_hold;
  gchar *call_id;
  gchar *remote_sdp;
  gchar *codec_name[SIPUA_MEDIA_COUNT];
  /* the last answer or offer of the peer, per media */
  struct sipua_stream_info stream_info[SIPUA_MEDIA_COUNT];
  gboolean have_stream_info;
  gboolean established;
  gboolean dial_string_sent;
  GstStructure *remote_headers; /* the peer's X- headers, or NULL */
};

/**
 * GstSipSrc!audio_%u:
 *
 * The RTP of an accepted audio m-line, with the caps of the SDP answer.
 */
static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE ("audio_%u",
    GST_PAD_SRC,
    GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("application/x-rtp, media=(string)audio"));

/**
 * GstSipSrc!video_%u:
 *
 * The RTP of an accepted video m-line, with the caps of the SDP answer.
 */
static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE ("video_%u",
    GST_PAD_SRC,
    GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("application/x-rtp, media=(string)video"));

static void gst_sip_src_uri_handler_init (gpointer g_iface,
    gpointer iface_data);

#define gst_sip_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstSipSrc, gst_sip_src, GST_TYPE_BIN,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_sip_src_uri_handler_init);
    GST_DEBUG_CATEGORY_INIT (gst_sip_src_debug, "sipsrc", 0,
        "SIP call source"));
GST_ELEMENT_REGISTER_DEFINE (sipsrc, "sipsrc", GST_RANK_NONE, GST_TYPE_SIP_SRC);

GType
gst_sip_transport_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_SIP_TRANSPORT_UDP, "UDP", "udp"},
    {GST_SIP_TRANSPORT_TCP, "TCP", "tcp"},
    {GST_SIP_TRANSPORT_TLS, "TLS", "tls"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstSipTransport",
            values));
  return type;
}

GType
gst_sip_srtp_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_SIP_SRTP_OFF, "Plain RTP", "off"},
    {GST_SIP_SRTP_OPTIONAL, "RTP/AVP with SDES keys: SRTP if the answer "
          "has keys, plain RTP if not", "optional"},
    {GST_SIP_SRTP_MANDATORY, "RTP/SAVP: an answer without keys fails the "
          "call", "mandatory"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstSipSrtpMode",
            values));
  return type;
}

GType
gst_sip_media_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_SIP_MEDIA_OFF, "Not offered", "off"},
    {GST_SIP_MEDIA_RECVONLY, "Offered receive-only", "recvonly"},
    {GST_SIP_MEDIA_SENDRECV,
        "Offered send-receive (audio: silence is sent)", "sendrecv"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstSipMediaMode",
            values));
  return type;
}

static const gchar *
state_name (enum sipua_call_state state)
{
  switch (state) {
    case SIPUA_CALL_TRYING:
      return "trying";
    case SIPUA_CALL_RINGING:
      return "ringing";
    case SIPUA_CALL_EARLY_MEDIA:
      return "early-media";
    case SIPUA_CALL_ESTABLISHED:
      return "established";
    case SIPUA_CALL_TERMINATED:
      return "terminated";
    case SIPUA_CALL_WAITING:
      return "waiting";
    case SIPUA_CALL_FAILED:
    default:
      return "failed";
  }
}

static void
post_call_message (GstSipSrc * self, const gchar * state, gint sip_status,
    const gchar * reason, const gchar * call_id)
{
  GstStructure *s, *headers;
  gboolean on_hold;

  g_mutex_lock (&self->call_lock);
  on_hold = self->on_hold;
  headers = self->remote_headers ? gst_structure_copy (self->remote_headers)
      : NULL;
  g_mutex_unlock (&self->call_lock);

  s = gst_structure_new ("sip-call",
      "state", G_TYPE_STRING, state,
      "sip-status", G_TYPE_INT, sip_status,
      "reason", G_TYPE_STRING, reason ? reason : "",
      "call-id", G_TYPE_STRING, call_id ? call_id : "",
      "on-hold", G_TYPE_BOOLEAN, on_hold, NULL);
  /* the peer's X- headers of its final response (X-Twilio-CallSid...) */
  if (headers) {
    gst_structure_set (s, "remote-headers", GST_TYPE_STRUCTURE, headers,
        NULL);
    gst_structure_free (headers);
  }

  gst_element_post_message (GST_ELEMENT_CAST (self),
      gst_message_new_element (GST_OBJECT_CAST (self), s));
}

/* A digit went out (RFC 4733's come from the audio source's outbox) */
static void
post_dtmf_sent (GstSipSrc * self, const gchar * digit, const gchar * method)
{
  gst_element_post_message (GST_ELEMENT_CAST (self),
      gst_message_new_element (GST_OBJECT_CAST (self),
          gst_structure_new ("sip-dtmf-sent", "digit", G_TYPE_STRING, digit,
              "method", G_TYPE_STRING, method, "duration", G_TYPE_UINT,
              GST_SIP_DTMF_TONE_MS, NULL)));
}

/* A call that failed: the message, then a fatal error a program can read */
static void
post_failure (GstSipSrc * self, gint sip_status, const gchar * reason,
    const gchar * call_id)
{
  GQuark domain = GST_RESOURCE_ERROR;
  gint code = GST_RESOURCE_ERROR_FAILED;
  gchar *text;

  post_call_message (self, "failed", sip_status, reason, call_id);

  switch (sip_status) {
    case 401:
    case 403:
    case 407:
      code = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
      break;
    case 404:
    case 604:
      code = GST_RESOURCE_ERROR_NOT_FOUND;
      break;
    case 486:
    case 600:
      code = GST_RESOURCE_ERROR_BUSY;
      break;
    default:
      break;
  }

  if (sip_status)
    text = g_strdup_printf ("SIP call failed: %d %s", sip_status, reason);
  else
    text = g_strdup_printf ("SIP call failed: %s", reason);

  gst_element_message_full_with_details (GST_ELEMENT_CAST (self),
      GST_MESSAGE_ERROR, domain, code, text, NULL, __FILE__, GST_FUNCTION,
      __LINE__, gst_structure_new ("sip-error", "sip-status", G_TYPE_INT,
          sip_status, "reason", G_TYPE_STRING, reason ? reason : "", NULL));
}

typedef struct
{
  struct sipua_stream_info streams[SIPUA_MEDIA_COUNT];
} AnswerData;

/* it carries the SRTP keys */
static void
answer_data_free (AnswerData * answer)
{
  sipua_stream_info_wipe (answer->streams, SIPUA_MEDIA_COUNT);
  g_free (answer);
}

/* Under call_lock: RFC 4733 events reach the peer when we send audio
 * (sendrecv), its SDP names telephone-event, takes our media, and the
 * audio clock is telephone-event's 8 kHz (ours); otherwise, SIP INFO.
 * @method: "rfc4733", "info" or NULL (whichever reaches the peer).
 * FALSE: no established call, a character of no DTMF, or RFC 4733 asked
 * for where it cannot reach the peer. */
static gboolean
send_dtmf_locked (GstSipSrc * self, const gchar * digits,
    const gchar * method)
{
  const struct sipua_stream_info *info =
      &self->stream_info[SIPUA_MEDIA_AUDIO];
  GstSipStream *audio = self->streams[SIPUA_MEDIA_AUDIO];
  gboolean rfc4733, sendrecv;

  /* SIP INFO needs the dialog only: the established message is posted
   * before the pads are exposed on the pool, and an application may send
   * digits as soon as it reads it (CI7: INFO refused in that instant) */
  if (!self->call || !self->established || !digits ||
      !*digits || strspn (digits, GST_SIP_DTMF_DIGITS) != strlen (digits))
    return FALSE;

  GST_OBJECT_LOCK (self);
  sendrecv = self->media_mode[SIPUA_MEDIA_AUDIO] == GST_SIP_MEDIA_SENDRECV;
  GST_OBJECT_UNLOCK (self);
  /* RFC 4733 events go out on the audio stream, sending once exposed */
  rfc4733 = audio && self->exposed && self->have_stream_info && sendrecv &&
      info->accepted &&
      info->dtmf_payload >= 0 && info->clock_rate == 8000 &&
      info->remote_receives;

  if (!g_strcmp0 (method, "rfc4733") || (!method && rfc4733)) {
    if (!rfc4733) {
      GST_WARNING_OBJECT (self, "RFC 4733 cannot reach the peer: no "
          "telephone-event in its SDP, a recvonly call or a peer that does "
          "not receive");
      return FALSE;
    }
    GST_INFO_OBJECT (self, "DTMF %s by RFC 4733", digits);
    return gst_sip_stream_send_dtmf (audio, digits);
  }
  if (method && g_strcmp0 (method, "info"))
    return FALSE;
  GST_INFO_OBJECT (self, "DTMF %s by SIP INFO", digits);
  return sipua_call_send_dtmf (self->call, digits) == 0;
}

/* Under call_lock: the dtmf property's digits, once, when answered */
static void
send_dial_string_locked (GstSipSrc * self)
{
  gchar *digits;

  if (self->dial_string_sent || !self->established || !self->exposed)
    return;
  self->dial_string_sent = TRUE;
  GST_OBJECT_LOCK (self);
  digits = g_strdup (self->dtmf);
  GST_OBJECT_UNLOCK (self);
  if (digits && !send_dtmf_locked (self, digits, NULL))
    GST_WARNING_OBJECT (self, "could not send the dtmf property's digits");
  g_free (digits);
}

static gboolean
gst_sip_src_send_dtmf (GstSipSrc * self, const gchar * digits,
    const gchar * method)
{
  gboolean ok;

  g_mutex_lock (&self->call_lock);
  ok = send_dtmf_locked (self, digits, method && *method ? method : NULL);
  g_mutex_unlock (&self->call_lock);
  return ok;
}

/* Under call_lock: follow a re-INVITE on every exposed stream */
static void
update_streams (GstSipSrc * self, const struct sipua_stream_info *streams)
{
  guint i;

  for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
    if (!self->streams[i] || !streams[i].accepted)
      continue;
    gst_sip_stream_update (self->streams[i], &streams[i]);
    /* stats show the negotiated codec */
    g_free (self->codec_name[i]);
    self->codec_name[i] = g_strdup (streams[i].encoding);
  }
}

/* In GStreamer's thread pool, with the state lock so that a concurrent
 * state change and this never see half a stream. The elements are made
 * and added without call_lock (adding emits the bin's signals); the SIP
 * thread keeps a re-INVITE meanwhile in pending_update. */
static void
expose_streams (GstElement * element, gpointer user_data)
{
  GstSipSrc *self = GST_SIP_SRC (element);
  AnswerData *answer = user_data;
  GstSipStream *streams[SIPUA_MEDIA_COUNT] = { NULL, };
  GstPad *pads[SIPUA_MEDIA_COUNT] = { NULL, };
  guint latency, rtp_timeout, i;
  gboolean send_silence[SIPUA_MEDIA_COUNT];
  gboolean any = FALSE;

  /* the call is established, its pads not yet there (no lock held) */
  GST_SIP_TEST_HOOK ("expose-streams");
  GST_STATE_LOCK (self);
  GST_OBJECT_LOCK (self);
  latency = self->latency;
  rtp_timeout = self->rtp_timeout;
  for (i = 0; i < SIPUA_MEDIA_COUNT; i++)
    send_silence[i] = self->media_mode[i] == GST_SIP_MEDIA_SENDRECV;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->call_lock);
  if (self->shutting_down || self->exposing) {
    g_mutex_unlock (&self->call_lock);
    GST_STATE_UNLOCK (self);
    return;
  }
  self->exposing = TRUE;
  for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
    if (!answer->streams[i].accepted || !self->streams[i])
      continue;
    streams[i] = self->streams[i];
    g_free (self->codec_name[i]);
    self->codec_name[i] = g_strdup (answer->streams[i].encoding);
  }
  g_mutex_unlock (&self->call_lock);

  /* the state lock keeps the streams: they are freed in a state change */
  for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
    GError *err = NULL;

    if (!streams[i])
      continue;
    pads[i] = gst_sip_stream_activate (streams[i], &answer->streams[i],
        i == SIPUA_MEDIA_AUDIO ? "audio_0" : "video_0", latency,
        rtp_timeout, send_silence[i], &err);
    if (!pads[i]) {
      GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN, (NULL),
          ("could not receive %s: %s", answer->streams[i].encoding,
              err->message));
      g_clear_error (&err);
    }
  }

  g_mutex_lock (&self->call_lock);
  self->exposed = TRUE;
  if (self->update_pending) {
    update_streams (self, self->pending_update);
    self->update_pending = FALSE;
  }
  send_dial_string_locked (self);
  g_mutex_unlock (&self->call_lock);

  for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
    if (pads[i]) {
      GST_INFO_OBJECT (self, "exposing %" GST_PTR_FORMAT, pads[i]);
      gst_element_add_pad (element, pads[i]);
      any = TRUE;
    }
  }
  if (any)
    gst_element_no_more_pads (element);
  /* data flows once the pads are linked (the state lock keeps the
   * streams alive) */
  for (i = 0; i < SIPUA_MEDIA_COUNT; i++)
    if (pads[i])
      gst_sip_stream_start (streams[i]);

  GST_STATE_UNLOCK (self);
}

static void
end_streams (GstElement * element, gpointer user_data)
{
  GstSipSrc *self = GST_SIP_SRC (element);
  guint i;

  GstSipStream *streams[SIPUA_MEDIA_COUNT] = { NULL, };

  /* EOS goes downstream: not under call_lock; the state lock keeps the
   * streams */
  GST_STATE_LOCK (self);
  g_mutex_lock (&self->call_lock);
  if (!self->shutting_down && self->exposed)
    for (i = 0; i < SIPUA_MEDIA_COUNT; i++)
      streams[i] = self->streams[i];
  g_mutex_unlock (&self->call_lock);
  for (i = 0; i < SIPUA_MEDIA_COUNT; i++)
    if (streams[i])
      gst_sip_stream_send_eos (streams[i]);
  GST_STATE_UNLOCK (self);
}

/* Called on the SIP thread: post, and hand anything slow to the pool */
static void
call_event_handler (const struct sipua_call_event *ev, void *arg)
{
  GstSipSrc *self = arg;
  const gchar *state = state_name (ev->state);
  gboolean expose_now = FALSE;

  if (ev->dtmf_sent) {
    post_dtmf_sent (self, ev->dtmf_sent, "info");
    return;
  }

  g_mutex_lock (&self->call_lock);
  if (self->shutting_down) {
    g_mutex_unlock (&self->call_lock);
    return;
  }
  self->state_name = state;
  if (ev->streams) {
    memcpy (self->stream_info, ev->streams, sizeof (self->stream_info));
    self->have_stream_info = TRUE;
  }
  if (ev->remote_headers && !self->remote_headers)
    self->remote_headers = gst_sip_headers_parse (ev->remote_headers);
  if (ev->state == SIPUA_CALL_ESTABLISHED && !self->established) {
    self->established = TRUE;
    send_dial_string_locked (self);
  }
  if (ev->sip_status)
    self->sip_status = ev->sip_status;
  if (ev->call_id && *ev->call_id && !self->call_id)
    self->call_id = g_strdup (ev->call_id);
  if (ev->remote_sdp) {
    g_free (self->remote_sdp);
    self->remote_sdp = g_strdup (ev->remote_sdp);
  }
  expose_now = ev->streams && !self->exposing && !ev->update;
  if (ev->update && ev->streams) {
    guint i;

    self->on_hold = TRUE;
    for (i = 0; i < SIPUA_MEDIA_COUNT; i++)
      /* RFC 3264 8.4: a peer that holds says sendonly or inactive */
      if (ev->streams[i].accepted && ev->streams[i].remote_receives)
        self->on_hold = FALSE;
    GST_SIP_TEST_HOOK ("reinvite-under-call-lock");
    if (self->exposed) {
      update_streams (self, ev->streams);
      GST_SIP_TEST_HOOK ("reinvite-followed");
    } else if (self->exposing) {
      memcpy (self->pending_update, ev->streams,
          sizeof (self->pending_update));
      self->update_pending = TRUE;
    }
    GST_INFO_OBJECT (self, "re-INVITE: %s", self->on_hold ? "on hold" :
        "media flowing");
  }
  g_mutex_unlock (&self->call_lock);

  GST_INFO_OBJECT (self, "call %s: %s %u %s", ev->call_id, state,
      ev->sip_status, ev->reason);

  if (expose_now) {
    AnswerData *answer = g_new (AnswerData, 1);

    memcpy (answer->streams, ev->streams, sizeof (answer->streams));
    gst_element_call_async (GST_ELEMENT_CAST (self), expose_streams, answer,
        (GDestroyNotify) answer_data_free);
  }

  if (ev->state == SIPUA_CALL_FAILED) {
    post_failure (self, ev->sip_status, ev->reason, ev->call_id);
    return;
  }

  post_call_message (self, state, ev->sip_status, ev->reason, ev->call_id);

  if (ev->state == SIPUA_CALL_TERMINATED)
    gst_element_call_async (GST_ELEMENT_CAST (self), end_streams, NULL, NULL);
}

/* The plan from the properties, read under the object lock */
static GstSipSrcPlan *
plan_from_properties (GstSipSrc * self, GError ** error)
{
  GstSipSrcSettings st;
  GstSipSrcPlan *plan;
  guint i;

  GST_OBJECT_LOCK (self);
  st.uri = self->uri;
  st.user_id = self->user_id;
  st.user_pw = self->user_pw;
  st.auth_user = self->auth_user;
  st.from_uri = self->from_uri;
  st.display_name = self->display_name;
  st.proxy = self->proxy;
  st.transport = (enum sipua_transport) self->transport;
  st.local_address = self->local_address;
  st.sip_port = self->sip_port;
  for (i = 0; i < SIPUA_MEDIA_COUNT; i++)
    st.media_mode[i] = (enum sipua_dir) self->media_mode[i];
  st.codecs = self->codecs;
  st.rtp_port_min = self->rtp_port_min;
  st.rtp_port_max = self->rtp_port_max;
  st.answer_timeout = self->answer_timeout;
  st.do_register = self->do_register;
  st.user_agent = self->user_agent;
  st.dtmf = self->dtmf;
  st.sip_headers = self->sip_headers;
  st.public_address = self->public_address;
  st.srtp = (enum sipua_srtp_mode) self->srtp;
  st.tls_ca_file = self->tls_ca_file;
  st.tls_verify = self->tls_verify;
  st.tls_cert_file = self->tls_cert_file;
  st.tls_key_file = self->tls_key_file;
  st.mode = self->mode;
  st.caller = self->caller;
  st.invite_id = self->invite_id;
  st.auth_max_failures = self->auth_max_failures;
  st.auth_failure_window = self->auth_failure_window;
  st.auth_lockout = self->auth_lockout;
  plan = gst_sip_src_plan_new (&st, error);
  GST_OBJECT_UNLOCK (self);
  return plan;
}

/* In GStreamer's thread pool: name resolution may block */
static void
start_call (GstElement * element, gpointer user_data)
{
  GstSipSrc *self = GST_SIP_SRC (element);
  GstSipSrcPlan *plan = user_data;
  struct sipua_call_params *prm = &plan->prm;
  gchar laddr[64];
  gchar *reason = NULL;
  GError *err = NULL;
  guint i;
  int ret;

  if (!plan->local_address) {
    ret = sipua_local_address_for (plan->target_host, laddr, sizeof (laddr));
    if (ret) {
      reason = g_strdup_printf ("could not resolve or reach host '%s'",
          plan->target_host);
      goto failed;
    }
    plan->local_address = g_strdup (laddr);
  }

  g_mutex_lock (&self->call_lock);
  if (self->shutting_down) {
    g_mutex_unlock (&self->call_lock);
    gst_sip_src_plan_free (plan);
    return;
  }

  for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
    if (prm->media[i].dir == SIPUA_DIR_OFF)
      continue;
    self->streams[i] = gst_sip_stream_new (GST_BIN_CAST (self), i);
    if (!gst_sip_stream_bind (self->streams[i], plan->local_address,
            plan->rtp_port_min, plan->rtp_port_max, &err)) {
      g_mutex_unlock (&self->call_lock);
      reason = g_strdup (err->message);
      g_clear_error (&err);
      goto failed;
    }
    prm->media[i].rtp_port = gst_sip_stream_get_rtp_port (self->streams[i]);
    prm->media[i].rtcp_port = gst_sip_stream_get_rtcp_port (self->streams[i]);
    prm->media[i].codecs = plan->codecs;
  }

  prm->request_uri = plan->request_uri;
  prm->from_uri = plan->from_uri;
  prm->display_name = plan->display_name;
  prm->auth_user = plan->password ? plan->auth_user : NULL;
  prm->password = plan->password;
  prm->route = plan->route;
  prm->user_agent = plan->user_agent;
  prm->extra_headers = plan->extra_headers;
  prm->public_address = plan->public_address;
  prm->local_address = plan->local_address;
  /* TLS: the next hop's certificate must be for its host */
  prm->tls_server_name = plan->target_host;
  prm->tls_ca_file = plan->tls_ca_file;
  prm->tls_cert_file = plan->tls_cert_file;
  prm->tls_key_file = plan->tls_key_file;
  if (prm->transport == SIPUA_TRANSPORT_TLS && prm->tls_no_verify)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("tls-verify is off: the certificate of %s is not checked "
            "(self-signed labs only)", plan->target_host), (NULL));

  if (plan->answering) {        /* issue 14 */
    plan->answer.user = plan->answer_user;
    plan->answer.caller = plan->answer_caller;
    plan->answer.invite_id = plan->answer_invite_id;
    prm->answer = &plan->answer;
    GST_INFO_OBJECT (self, "answering calls to %s on %s:%u",
        plan->answer_user ? plan->answer_user : plan->answer_invite_id,
        prm->local_address, prm->sip_port);
  } else
    GST_INFO_OBJECT (self, "calling %s from %s via %s", prm->request_uri,
        prm->local_address, prm->route ? prm->route : "(direct)");
  ret = sipua_call_start (&self->call, prm, call_event_handler, self);
  g_mutex_unlock (&self->call_lock);

  if (ret) {
    reason = g_strdup_printf ("could not start the call (error %d)", ret);
    goto failed;
  }
  gst_sip_src_plan_free (plan);
  return;

failed:
  post_failure (self, 0, reason, NULL);
  g_free (reason);
  gst_sip_src_plan_free (plan);
}

/* Hang up and forget the call. Never called with call_lock held. */
static void
stop_call (GstSipSrc * self)
{
  struct sipua_call *call;

  g_mutex_lock (&self->call_lock);
  self->shutting_down = TRUE;
  call = self->call;
  self->call = NULL;
  g_mutex_unlock (&self->call_lock);

  /* sends CANCEL or BYE; no event is delivered after it returns */
  sipua_call_stop (call);
}

static void
release_streams (GstSipSrc * self)
{
  guint i;

  g_mutex_lock (&self->call_lock);
  for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
    gst_sip_stream_free (self->streams[i]);
    self->streams[i] = NULL;
    g_clear_pointer (&self->codec_name[i], g_free);
  }
  self->exposing = FALSE;
  self->exposed = FALSE;
  self->update_pending = FALSE;
  sipua_stream_info_wipe (self->stream_info, SIPUA_MEDIA_COUNT);
  sipua_stream_info_wipe (self->pending_update, SIPUA_MEDIA_COUNT);
  self->have_stream_info = FALSE;
  self->established = FALSE;
  self->dial_string_sent = FALSE;
  g_clear_pointer (&self->remote_headers, gst_structure_free);
  self->on_hold = FALSE;
  self->state_name = NULL;
  self->sip_status = 0;
  g_clear_pointer (&self->call_id, g_free);
  g_clear_pointer (&self->remote_sdp, g_free);
  g_mutex_unlock (&self->call_lock);
}

static GstStateChangeReturn
gst_sip_src_change_state (GstElement * element, GstStateChange transition)
{
  GstSipSrc *self = GST_SIP_SRC (element);
  GstStateChangeReturn ret;
  GError *err = NULL;
  GstSipSrcPlan *plan;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      /* checked here so that a wrong property fails the state change
       * naming it; kept for the call of READY->PAUSED */
      plan = plan_from_properties (self, &err);
      if (!plan) {
        GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message),
            (NULL));
        g_clear_error (&err);
        return GST_STATE_CHANGE_FAILURE;
      }
      GST_OBJECT_LOCK (self);
      gst_sip_src_plan_free (self->plan);
      self->plan = plan;
      GST_OBJECT_UNLOCK (self);
      if (runtime_init () != 0) {
        GST_ELEMENT_ERROR (self, RESOURCE, FAILED, (NULL),
            ("could not start the SIP thread"));
        return GST_STATE_CHANGE_FAILURE;
      }
      self->sipua_started = TRUE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      GST_OBJECT_LOCK (self);
      plan = self->plan;
      self->plan = NULL;
      GST_OBJECT_UNLOCK (self);
      /* none: a property was set in READY, or this is a call again */
      if (!plan)
        plan = plan_from_properties (self, &err);
      if (!plan) {
        GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message),
            (NULL));
        g_clear_error (&err);
        return GST_STATE_CHANGE_FAILURE;
      }
      g_mutex_lock (&self->call_lock);
      self->shutting_down = FALSE;
      self->state_name = NULL;
      g_mutex_unlock (&self->call_lock);
      gst_element_call_async (element, start_call, plan,
          (GDestroyNotify) NULL);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* the tests of what waits for a pipeline to go down */
      GST_SIP_TEST_HOOK ("stop-call");
      stop_call (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      release_streams (self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      GST_OBJECT_LOCK (self);
      g_clear_pointer (&self->plan, gst_sip_src_plan_free);
      GST_OBJECT_UNLOCK (self);
      if (self->sipua_started) {
        runtime_close ();
        self->sipua_started = FALSE;
      }
      break;
    default:
      break;
  }

  return ret;
}

/* No RTP for rtp-timeout seconds on an established call: it is dead.
 * The message comes from a rtp source's outbox, on a thread of GStreamer's
 * pool with no lock held: hanging up may wait for the SIP thread here. */
static void
gst_sip_src_handle_message (GstBin * bin, GstMessage * message)
{
  GstSipSrc *self = GST_SIP_SRC (bin);

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT &&
      gst_message_has_name (message, "sip-rtp-timeout")) {
    gboolean dead = FALSE;
    gchar *call_id = NULL;
    guint timeout;
    guint i;

    g_mutex_lock (&self->call_lock);
    for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
      if (self->streams[i] && self->exposed &&
          gst_sip_stream_owns (self->streams[i], GST_MESSAGE_SRC (message)))
        dead = !g_strcmp0 (self->state_name, "established") &&
            !self->on_hold;
    }
    call_id = g_strdup (self->call_id);
    g_mutex_unlock (&self->call_lock);

    if (dead) {
      gchar *reason;

      GST_OBJECT_LOCK (self);
      timeout = self->rtp_timeout;
      GST_OBJECT_UNLOCK (self);

      reason = g_strdup_printf ("no RTP received for %u s", timeout);
      stop_call (self);
      post_failure (self, STATUS_TIMEOUT, reason, call_id);
      g_free (reason);
    }
    g_free (call_id);
    gst_message_unref (message);
    return;
  }

  GST_BIN_CLASS (parent_class)->handle_message (bin, message);
}

/* EOS before the answer: no pad can carry it. Cancel the call and end
 * with an error, so that an application waiting for EOS does not hang. */
static gboolean
gst_sip_src_send_event (GstElement * element, GstEvent * event)
{
  GstSipSrc *self = GST_SIP_SRC (element);
  gboolean unanswered;
  gchar *call_id;

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);

  g_mutex_lock (&self->call_lock);
  unanswered = !self->exposing && !self->shutting_down;
  call_id = g_strdup (self->call_id);
  g_mutex_unlock (&self->call_lock);

  if (!unanswered) {
    g_free (call_id);
    return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
  }

  gst_event_unref (event);
  stop_call (self);
  post_failure (self, STATUS_REQUEST_TERMINATED,
      "stopped before the call was answered", call_id);
  g_free (call_id);
  return TRUE;
}

/* Called with the object lock */
static void
set_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

static void
gst_sip_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSipSrc *self = GST_SIP_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_URI:
      set_string (&self->uri, value);
      break;
    case PROP_USER_ID:
      set_string (&self->user_id, value);
      break;
    case PROP_USER_PW:
      if (self->user_pw)
        memset (self->user_pw, 0, strlen (self->user_pw));
      set_string (&self->user_pw, value);
      break;
    case PROP_AUTH_USER:
      set_string (&self->auth_user, value);
      break;
    case PROP_FROM_URI:
      set_string (&self->from_uri, value);
      break;
    case PROP_DISPLAY_NAME:
      set_string (&self->display_name, value);
      break;
    case PROP_PROXY:
      set_string (&self->proxy, value);
      break;
    case PROP_LOCAL_ADDRESS:
      set_string (&self->local_address, value);
      break;
    case PROP_CODECS:
      set_string (&self->codecs, value);
      break;
    case PROP_USER_AGENT:
      set_string (&self->user_agent, value);
      break;
    case PROP_DTMF:
      set_string (&self->dtmf, value);
      break;
    case PROP_SIP_HEADERS:
      g_clear_pointer (&self->sip_headers, gst_structure_free);
      self->sip_headers = g_value_dup_boxed (value);
      break;
    case PROP_PUBLIC_ADDRESS:
      set_string (&self->public_address, value);
      break;
    case PROP_SRTP:
      self->srtp = g_value_get_enum (value);
      break;
    case PROP_TLS_CA_FILE:
      set_string (&self->tls_ca_file, value);
      break;
    case PROP_TLS_VERIFY:
      self->tls_verify = g_value_get_boolean (value);
      break;
    case PROP_TLS_CERT_FILE:
      set_string (&self->tls_cert_file, value);
      break;
    case PROP_TLS_KEY_FILE:
      set_string (&self->tls_key_file, value);
      break;
    case PROP_MODE:            /* answer mode: issue 14 */
      self->mode = g_value_get_enum (value);
      break;
    case PROP_CALLER:
      set_string (&self->caller, value);
      break;
    case PROP_INVITE_ID:
      set_string (&self->invite_id, value);
      break;
    case PROP_AUTH_MAX_FAILURES:
      self->auth_max_failures = g_value_get_uint (value);
      break;
    case PROP_AUTH_FAILURE_WINDOW:
      self->auth_failure_window = g_value_get_uint (value);
      break;
    case PROP_AUTH_LOCKOUT:
      self->auth_lockout = g_value_get_uint (value);
      break;
    case PROP_TRANSPORT:
      self->transport = g_value_get_enum (value);
      break;
    case PROP_AUDIO:
      self->media_mode[SIPUA_MEDIA_AUDIO] = g_value_get_enum (value);
      break;
    case PROP_VIDEO:
      self->media_mode[SIPUA_MEDIA_VIDEO] = g_value_get_enum (value);
      break;
    case PROP_SIP_PORT:
      self->sip_port = g_value_get_uint (value);
      break;
    case PROP_RTP_PORT_MIN:
      self->rtp_port_min = g_value_get_uint (value);
      break;
    case PROP_RTP_PORT_MAX:
      self->rtp_port_max = g_value_get_uint (value);
      break;
    case PROP_ANSWER_TIMEOUT:
      self->answer_timeout = g_value_get_uint (value);
      break;
    case PROP_RTP_TIMEOUT:
      self->rtp_timeout = g_value_get_uint (value);
      break;
    case PROP_REGISTER:
      self->do_register = g_value_get_boolean (value);
      break;
    case PROP_LATENCY:
      self->latency = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  /* what NULL->READY checked is not what the call would be now */
  g_clear_pointer (&self->plan, gst_sip_src_plan_free);
  GST_OBJECT_UNLOCK (self);
}

static guint64
stats_counter (const GstStructure * s, const gchar * prefix,
    const gchar * what)
{
  gchar *name = g_strdup_printf ("%s-%s", prefix, what);
  guint64 v = 0;

  gst_structure_get_uint64 (s, name, &v);
  g_free (name);
  return v;
}

static GstStructure *
gst_sip_src_get_stats (GstSipSrc * self)
{
  GstStructure *s;
  guint64 packets = 0, bytes = 0, lost = 0, srtp_dropped = 0;
  gdouble loop_busy;
  GstClockTime loop_late;
  guint i;

  s = gst_structure_new_empty ("application/x-sipsrc-stats");

  g_mutex_lock (&self->call_lock);
  gst_structure_set (s,
      "call-id", G_TYPE_STRING, self->call_id ? self->call_id : "",
      "state", G_TYPE_STRING, self->state_name ? self->state_name : "idle",
      "sip-status", G_TYPE_INT, self->sip_status,
      "on-hold", G_TYPE_BOOLEAN, self->on_hold,
      "audio-codec", G_TYPE_STRING,
      self->codec_name[SIPUA_MEDIA_AUDIO] ? self->codec_name[SIPUA_MEDIA_AUDIO]
      : "", "video-codec", G_TYPE_STRING,
      self->codec_name[SIPUA_MEDIA_VIDEO] ? self->codec_name[SIPUA_MEDIA_VIDEO]
      : "", "remote-sdp", G_TYPE_STRING,
      self->remote_sdp ? self->remote_sdp : "", NULL);
  for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
    const gchar *prefix = i == SIPUA_MEDIA_AUDIO ? "audio" : "video";

    /* while exposing, expose_streams is still building them */
    if (!self->streams[i] || !self->exposed)
      continue;
    gst_sip_stream_add_stats (self->streams[i], s);
    packets += stats_counter (s, prefix, "packets-received");
    bytes += stats_counter (s, prefix, "bytes-received");
    lost += stats_counter (s, prefix, "packets-lost");
    srtp_dropped += stats_counter (s, prefix, "srtp-dropped");
  }
  g_mutex_unlock (&self->call_lock);

  gst_structure_set (s, "packets-received", G_TYPE_UINT64, packets,
      "bytes-received", G_TYPE_UINT64, bytes,
      "packets-lost", G_TYPE_UINT64, lost,
      "srtp-dropped", G_TYPE_UINT64, srtp_dropped, NULL);

  /* the process's shared media loop, the same in every sipsrc: what an
   * application needs to refuse calls before the admitted ones fall
   * behind the clock */
  gst_sip_media_loop_get_load (&loop_busy, &loop_late);
  gst_structure_set (s, "media-loop-busy", G_TYPE_DOUBLE, loop_busy,
      "media-loop-late-ms", G_TYPE_DOUBLE,
      (gdouble) loop_late / GST_MSECOND, NULL);
  return s;
}

static void
gst_sip_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstSipSrc *self = GST_SIP_SRC (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, gst_sip_src_get_stats (self));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_URI:
      g_value_set_string (value, self->uri);
      break;
    case PROP_USER_ID:
      g_value_set_string (value, self->user_id);
      break;
    case PROP_USER_PW:
      /* a secret is written, never read back */
      g_value_set_string (value, NULL);
      break;
    case PROP_AUTH_USER:
      g_value_set_string (value, self->auth_user);
      break;
    case PROP_FROM_URI:
      g_value_set_string (value, self->from_uri);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    case PROP_PROXY:
      g_value_set_string (value, self->proxy);
      break;
    case PROP_LOCAL_ADDRESS:
      g_value_set_string (value, self->local_address);
      break;
    case PROP_CODECS:
      g_value_set_string (value, self->codecs);
      break;
    case PROP_USER_AGENT:
      g_value_set_string (value, self->user_agent);
      break;
    case PROP_DTMF:
      g_value_set_string (value, self->dtmf);
      break;
    case PROP_SIP_HEADERS:
      g_value_set_boxed (value, self->sip_headers);
      break;
    case PROP_PUBLIC_ADDRESS:
      g_value_set_string (value, self->public_address);
      break;
    case PROP_SRTP:
      g_value_set_enum (value, self->srtp);
      break;
    case PROP_TLS_CA_FILE:
      g_value_set_string (value, self->tls_ca_file);
      break;
    case PROP_TLS_VERIFY:
      g_value_set_boolean (value, self->tls_verify);
      break;
    case PROP_TLS_CERT_FILE:
      g_value_set_string (value, self->tls_cert_file);
      break;
    case PROP_TLS_KEY_FILE:
      g_value_set_string (value, self->tls_key_file);
      break;
    case PROP_MODE:            /* answer mode: issue 14 */
      g_value_set_enum (value, self->mode);
      break;
    case PROP_CALLER:
      g_value_set_string (value, self->caller);
      break;
    case PROP_INVITE_ID:
      g_value_set_string (value, self->invite_id);
      break;
    case PROP_AUTH_MAX_FAILURES:
      g_value_set_uint (value, self->auth_max_failures);
      break;
    case PROP_AUTH_FAILURE_WINDOW:
      g_value_set_uint (value, self->auth_failure_window);
      break;
    case PROP_AUTH_LOCKOUT:
      g_value_set_uint (value, self->auth_lockout);
      break;
    case PROP_TRANSPORT:
      g_value_set_enum (value, self->transport);
      break;
    case PROP_AUDIO:
      g_value_set_enum (value, self->media_mode[SIPUA_MEDIA_AUDIO]);
      break;
    case PROP_VIDEO:
      g_value_set_enum (value, self->media_mode[SIPUA_MEDIA_VIDEO]);
      break;
    case PROP_SIP_PORT:
      g_value_set_uint (value, self->sip_port);
      break;
    case PROP_RTP_PORT_MIN:
      g_value_set_uint (value, self->rtp_port_min);
      break;
    case PROP_RTP_PORT_MAX:
      g_value_set_uint (value, self->rtp_port_max);
      break;
    case PROP_ANSWER_TIMEOUT:
      g_value_set_uint (value, self->answer_timeout);
      break;
    case PROP_RTP_TIMEOUT:
      g_value_set_uint (value, self->rtp_timeout);
      break;
    case PROP_REGISTER:
      g_value_set_boolean (value, self->do_register);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_sip_src_finalize (GObject * object)
{
  GstSipSrc *self = GST_SIP_SRC (object);

  gst_sip_src_plan_free (self->plan);
  g_free (self->uri);
  g_free (self->user_id);
  if (self->user_pw)
    memset (self->user_pw, 0, strlen (self->user_pw));
  g_free (self->user_pw);
  g_free (self->auth_user);
  g_free (self->from_uri);
  g_free (self->display_name);
  g_free (self->proxy);
  g_free (self->local_address);
  g_free (self->codecs);
  g_free (self->user_agent);
  g_free (self->dtmf);
  g_clear_pointer (&self->sip_headers, gst_structure_free);
  g_clear_pointer (&self->remote_headers, gst_structure_free);
  g_free (self->public_address);
  g_free (self->tls_ca_file);
  g_free (self->tls_cert_file);
  g_free (self->tls_key_file);
  g_free (self->caller);
  g_free (self->invite_id);
  g_free (self->call_id);
  g_free (self->remote_sdp);
  g_mutex_clear (&self->call_lock);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_sip_src_init (GstSipSrc * self)
{
  self->transport = DEFAULT_TRANSPORT;
  self->sip_port = DEFAULT_SIP_PORT;
  self->media_mode[SIPUA_MEDIA_AUDIO] = DEFAULT_AUDIO;
  self->media_mode[SIPUA_MEDIA_VIDEO] = DEFAULT_VIDEO;
  self->codecs = g_strdup (DEFAULT_CODECS);
  self->rtp_port_min = DEFAULT_RTP_PORT_MIN;
  self->rtp_port_max = DEFAULT_RTP_PORT_MAX;
  self->answer_timeout = DEFAULT_ANSWER_TIMEOUT;
  self->rtp_timeout = DEFAULT_RTP_TIMEOUT;
  self->do_register = DEFAULT_REGISTER;
  self->user_agent = g_strdup (DEFAULT_USER_AGENT);
  self->latency = DEFAULT_LATENCY;
  self->srtp = DEFAULT_SRTP;
  self->tls_verify = DEFAULT_TLS_VERIFY;
  self->auth_max_failures = DEFAULT_AUTH_MAX_FAILURES;
  self->auth_failure_window = DEFAULT_AUTH_FAILURE_WINDOW;
  self->auth_lockout = DEFAULT_AUTH_LOCKOUT;
  g_mutex_init (&self->call_lock);

  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
  gst_bin_set_suppressed_flags (GST_BIN (self),
      GST_ELEMENT_FLAG_SOURCE | GST_ELEMENT_FLAG_SINK);
}

#define STR_PARAM(name, nick, blurb) \
    g_param_spec_string (name, nick, blurb, NULL, \
        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
        GST_PARAM_MUTABLE_READY)
#define UINT_PARAM(name, nick, blurb, max, def) \
    g_param_spec_uint (name, nick, blurb, 0, max, def, \
        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
        GST_PARAM_MUTABLE_READY)

static void
gst_sip_src_class_init (GstSipSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);

  gobject_class->set_property = gst_sip_src_set_property;
  gobject_class->get_property = gst_sip_src_get_property;
  gobject_class->finalize = gst_sip_src_finalize;
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_sip_src_change_state);
  element_class->send_event = GST_DEBUG_FUNCPTR (gst_sip_src_send_event);
  bin_class->handle_message = GST_DEBUG_FUNCPTR (gst_sip_src_handle_message);

  g_object_class_install_property (gobject_class, PROP_URI,
      STR_PARAM ("uri", "URI", "Request URI to call; user@host or host get "
          "sip: prepended"));
  g_object_class_install_property (gobject_class, PROP_USER_ID,
      STR_PARAM ("user-id", "User ID", "User of the From URI and, unless "
          "auth-user is set, of digest authentication"));
  g_object_class_install_property (gobject_class, PROP_USER_PW,
      STR_PARAM ("user-pw", "User password", "Digest password (write only: "
          "reads return NULL)"));
  g_object_class_install_property (gobject_class, PROP_AUTH_USER,
      STR_PARAM ("auth-user", "Authentication user", "Digest user name when "
          "it differs from user-id"));
  g_object_class_install_property (gobject_class, PROP_FROM_URI,
      STR_PARAM ("from-uri", "From URI", "From URI (default: "
          "sip:<user-id>@<host of uri>)"));
  g_object_class_install_property (gobject_class, PROP_DISPLAY_NAME,
      STR_PARAM ("display-name", "Display name", "Display name in From"));
  g_object_class_install_property (gobject_class, PROP_PROXY,
      STR_PARAM ("proxy", "Outbound proxy", "SIP URI (or host:port) the "
          "INVITE is sent to (default: none, straight to the uri's host)"));
  g_object_class_install_property (gobject_class, PROP_TRANSPORT,
      g_param_spec_enum ("transport", "Transport", "SIP transport",
          GST_TYPE_SIP_TRANSPORT, DEFAULT_TRANSPORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_LOCAL_ADDRESS,
      STR_PARAM ("local-address", "Local address", "Local IP address for "
          "SIP and RTP (default: the one the route to the peer uses)"));
  g_object_class_install_property (gobject_class, PROP_SIP_PORT,
      UINT_PARAM ("sip-port", "SIP port", "Local SIP port (0 = any, shared "
          "by all calls of the process)", 65535, DEFAULT_SIP_PORT));
  g_object_class_install_property (gobject_class, PROP_AUDIO,
      g_param_spec_enum ("audio", "Audio", "How audio is offered",
          GST_TYPE_SIP_MEDIA_MODE, DEFAULT_AUDIO,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_VIDEO,
      g_param_spec_enum ("video", "Video", "How video is offered",
          GST_TYPE_SIP_MEDIA_MODE, DEFAULT_VIDEO,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CODECS,
      g_param_spec_string ("codecs", "Codecs", "Codecs offered, in order of "
          "preference (PCMU, PCMA, G722, opus for audio; H264, VP8 for "
          "video)", DEFAULT_CODECS, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_RTP_PORT_MIN,
      UINT_PARAM ("rtp-port-min", "RTP port min", "Lowest local RTP port "
          "(0 = any)", 65535, DEFAULT_RTP_PORT_MIN));
  g_object_class_install_property (gobject_class, PROP_RTP_PORT_MAX,
      UINT_PARAM ("rtp-port-max", "RTP port max", "Highest local RTP/RTCP "
          "port (0 = no limit)", 65535, DEFAULT_RTP_PORT_MAX));
  g_object_class_install_property (gobject_class, PROP_ANSWER_TIMEOUT,
      UINT_PARAM ("answer-timeout", "Answer timeout", "Seconds to wait for "
          "the answer before giving up with CANCEL (0 = SIP's own 32 s)",
          3600, DEFAULT_ANSWER_TIMEOUT));
  g_object_class_install_property (gobject_class, PROP_RTP_TIMEOUT,
      UINT_PARAM ("rtp-timeout", "RTP timeout", "Seconds without RTP after "
          "which an established call counts as dead (0 = never)", 3600,
          DEFAULT_RTP_TIMEOUT));
  g_object_class_install_property (gobject_class, PROP_REGISTER,
      g_param_spec_boolean ("register", "Register", "REGISTER with the "
          "credentials before calling", DEFAULT_REGISTER,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_USER_AGENT,
      g_param_spec_string ("user-agent", "User agent", "User-Agent header",
          DEFAULT_USER_AGENT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      UINT_PARAM ("latency", "Latency", "Jitter buffer in ms (0 = none: "
          "packets go out as they arrive, pauses filled with silence; "
          "with one, pauses are not filled)", 10000, DEFAULT_LATENCY));
  g_object_class_install_property (gobject_class, PROP_DTMF,
      g_param_spec_string ("dtmf", "DTMF", "Digits sent once the call is "
          "answered, like a phone's dial string: 0-9 * # A-D, w for a 0.5 s "
          "pause (e.g. wwww1234#w5678# to enter a meeting and its PIN); "
          "RFC 4733 events when they can reach the peer, SIP INFO "
          "otherwise", NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SIP_HEADERS,
      g_param_spec_boxed ("sip-headers", "SIP headers", "More headers for "
          "the INVITE, one string field each, e.g. \"headers, "
          "X-Room=(string)42\": X- headers and P-Asserted-Identity, "
          "P-Preferred-Identity, Remote-Party-ID, Privacy, Subject, Priority, "
          "Organization, Call-Info, Alert-Info, User-to-User, Diversion; the "
          "headers the SIP stack writes cannot be set; values on one line",
          GST_TYPE_STRUCTURE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PUBLIC_ADDRESS,
      STR_PARAM ("public-address", "Public address", "IP address of a NAT "
          "in front of us, announced in Contact and in the SDP instead of the "
          "local one (its SIP and RTP ports forwarded as they are). Whatever "
          "it is, a peer whose RTP comes from another host than its SDP "
          "names (itself behind a NAT) gets our RTP and RTCP back there"));
  g_object_class_install_property (gobject_class, PROP_SRTP,
      g_param_spec_enum ("srtp", "SRTP", "SRTP with SDES keys (RFC 4568; "
          "AES_CM_128_HMAC_SHA1_80, then _32, fresh keys per call): off, "
          "optional (RTP/AVP with keys: SRTP if the answer has keys), "
          "mandatory (RTP/SAVP: an answer without keys fails the call)",
          GST_TYPE_SIP_SRTP_MODE, DEFAULT_SRTP,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TLS_CA_FILE,
      STR_PARAM ("tls-ca-file", "TLS CA file", "transport=tls: PEM file of "
          "the CA certificates the server's must chain to (default: the "
          "file SSL_CERT_FILE names, else the system's bundle); its name "
          "or IP address must be the next hop's host"));
  g_object_class_install_property (gobject_class, PROP_TLS_VERIFY,
      g_param_spec_boolean ("tls-verify", "TLS verify", "transport=tls: "
          "check the server's certificate (false: not checked, a warning "
          "is posted: self-signed labs only)", DEFAULT_TLS_VERIFY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TLS_CERT_FILE,
      STR_PARAM ("tls-cert-file", "TLS certificate file", "transport=tls: "
          "our certificate (PEM, chain allowed) for servers that ask for "
          "one (mutual TLS); in answer mode the one callers check "
          "(required, unless invite-id)"));
  g_object_class_install_property (gobject_class, PROP_TLS_KEY_FILE,
      STR_PARAM ("tls-key-file", "TLS key file", "transport=tls: the "
          "unencrypted PEM private key of tls-cert-file (default: in "
          "tls-cert-file); never logged"));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "call-id, state, "
          "sip-status, on-hold, audio-codec, video-codec, remote-sdp (SRTP "
          "keys masked), packets-received, bytes-received, packets-lost, "
          "srtp-dropped (SRTP packets refused: forged, replayed), and per "
          "media audio-/video-: the same, jitter-ms, packets-invalid and srtp "
          "(the suite, or off); the process's shared "
          "media loop: media-loop-busy (the busiest thread's share of the "
          "last second spent working), media-loop-late-ms (how late its "
          "ticks started, on average)",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_set_static_metadata (element_class, "SIP call source",
      "Source/Network/RTP", "Places a SIP call and outputs its RTP",
      "sip2rtmp authors");

  /**
   * GstSipSrc::send-dtmf:
   * @sipsrc: the element
   * @digits: 0-9 * # A-D, w for a 0.5 s pause
   * @method: "rfc4733", "info", or NULL: RFC 4733 events when they can
   *   reach the peer (a sendrecv call whose peer's SDP names
   *   telephone-event and receives), SIP INFO (application/dtmf-relay)
   *   otherwise
   *
   * Sends digits to the peer of an established call, after any not sent
   * yet: each digit 100 ms, 60 ms apart. Each is reported by a
   * `sip-dtmf-sent` element message (digit, method, duration) once sent.
   *
   * Returns: %TRUE if the digits were queued
   */
  signals[SIGNAL_SEND_DTMF] = g_signal_new_class_handler ("send-dtmf",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_sip_src_send_dtmf), NULL, NULL, NULL, G_TYPE_BOOLEAN,
      2, G_TYPE_STRING, G_TYPE_STRING);

  gst_type_mark_as_plugin_api (GST_TYPE_SIP_TRANSPORT, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_SIP_MEDIA_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_SIP_SRTP_MODE, 0);

  /* answer mode (issue 14) */
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode", "call: place a call to uri; "
          "answer: wait for an INVITE to uri's user on uri's address and "
          "port (a socket shared by every sipsrc there; INVITEs nobody waits "
          "for get 404), challenge it with user-id/user-pw if set (401; "
          "wrong: 403), answer it at once (180, then 200 with our SDP) and "
          "go on as a placed call. Posts sip-call state=waiting once it "
          "listens", GST_TYPE_SIP_SRC_MODE, GST_SIP_SRC_MODE_CALL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_CALLER,
      STR_PARAM ("caller", "Caller", "answer mode: take only calls From "
          "this user (or user@host); NULL: anyone"));
  g_object_class_install_property (gobject_class, PROP_INVITE_ID,
      STR_PARAM ("invite-id", "INVITE id", "answer mode: take the INVITE "
          "that siplistener parked with this id (its sip-invite message) "
          "instead of waiting for one; answer-timeout bounds the wait for "
          "the caller's credentials after our challenge"));
  /* password guessing (issue 14's review): one table for the process,
   * counted under the policy of the sipsrc that checked the credentials */
  g_object_class_install_property (gobject_class, PROP_AUTH_MAX_FAILURES,
      UINT_PARAM ("auth-max-failures", "Auth max failures", "answer mode: "
          "wrong credentials from one source address to uri's user within "
          "auth-failure-window that lock them out: their INVITEs then get "
          "480 with Retry-After for auth-lockout, before any sipsrc or "
          "siplistener sees them (0 = no limit)", 1000,
          DEFAULT_AUTH_MAX_FAILURES));
  g_object_class_install_property (gobject_class, PROP_AUTH_FAILURE_WINDOW,
      g_param_spec_uint ("auth-failure-window", "Auth failure window",
          "answer mode: seconds within which auth-max-failures count", 1,
          86400, DEFAULT_AUTH_FAILURE_WINDOW, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_AUTH_LOCKOUT,
      g_param_spec_uint ("auth-lockout", "Auth lock-out", "answer mode: "
          "seconds of the first lock-out; each one that follows while the "
          "last is remembered (as long again after it ends) doubles, up to "
          "an hour", 1, 86400, DEFAULT_AUTH_LOCKOUT, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  gst_type_mark_as_plugin_api (GST_TYPE_SIP_SRC_MODE, 0);

}

/* GstURIHandler: sip: and sips: */

static GstURIType
gst_sip_src_uri_get_type (GType type)
{
  return GST_URI_SRC;
}

static const gchar *const *
gst_sip_src_uri_get_protocols (GType type)
{
  static const gchar *protocols[] = { "sip", "sips", NULL };

  return protocols;
}

static gchar *
gst_sip_src_uri_get_uri (GstURIHandler * handler)
{
  GstSipSrc *self = GST_SIP_SRC (handler);
  gchar *uri;

  GST_OBJECT_LOCK (self);
  uri = g_strdup (self->uri);
  GST_OBJECT_UNLOCK (self);
  return uri;
}

static gboolean
gst_sip_src_uri_set_uri (GstURIHandler * handler, const gchar * uri,
    GError ** error)
{
  GstSipSrc *self = GST_SIP_SRC (handler);
  gchar *full = gst_sip_uri_complete (uri, NULL, NULL, error);

  if (!full)
    return FALSE;

  GST_OBJECT_LOCK (self);
  g_free (self->uri);
  self->uri = full;
  if (g_str_has_prefix (full, "sips:"))
    self->transport = GST_SIP_TRANSPORT_TLS;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static void
gst_sip_src_uri_handler_init (gpointer g_iface, gpointer iface_data)
{
  GstURIHandlerInterface *iface = (GstURIHandlerInterface *) g_iface;

  iface->get_type = gst_sip_src_uri_get_type;
  iface->get_protocols = gst_sip_src_uri_get_protocols;
  iface->get_uri = gst_sip_src_uri_get_uri;
  iface->set_uri = gst_sip_src_uri_set_uri;
}
