/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-call.h"
#include "s2r-error.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (s2r_call_debug);
#define GST_CAT_DEFAULT s2r_call_debug

/* How long a hung up call may take to drain its stream (EOS through the
 * muxer to rtmp2sink) or a terminated one to deliver its EOS */
#define DRAIN_TIMEOUT_MS 3000

typedef struct
{
  GstPad *pad;
  gulong probe;
} PendingPad;

struct _S2rCall
{
  GObject parent;

  GMainContext *context;
  S2rCallRequest *req;
  const S2rTemplate *tmpl;
  GstElement *pipeline;
  /* both attached to context */
  GSource *bus_watch;
  GSource *drain_timeout;

  S2rCallStatus status;
  S2rStreamStatus stream_status;
  gint sip_status;
  char *reason;
  char *sip_call_id;
  char *audio_codec;
  char *video_codec;
  gint64 created;
  gint64 answered;
  gint64 ended;

  gboolean media_linked;
  gboolean hanging_up;
  gboolean finished;

  /* protects pending_pads, filled from the SIP thread (pad-added) */
  GMutex lock;
  GArray *pending_pads;

  /* buffers seen by rtmp2sink, counted in its streaming thread */
  gint rtmp_buffers;
};

enum
{
  SIGNAL_CHANGED,
  SIGNAL_STOPPED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (S2rCall, s2r_call, G_TYPE_OBJECT);

static const char *const call_status_names[] = {
  "NEW", "TRYING", "RING", "SESSION_PROGRESS", "ESTABLISHED", "FINISH",
  "FAILED", "BUSY"
};

static const char *const stream_status_names[] = {
  "PENDING", "PUBLISHING", "FAILED", "UNPUBLISHED"
};

const char *
s2r_call_status_to_string (S2rCallStatus status)
{
  g_return_val_if_fail (status <= S2R_CALL_BUSY, "FAILED");
  return call_status_names[status];
}

gboolean
s2r_call_status_from_string (const char *str, S2rCallStatus * status)
{
  for (guint i = 0; i < G_N_ELEMENTS (call_status_names); i++)
    if (g_ascii_strcasecmp (str, call_status_names[i]) == 0) {
      *status = (S2rCallStatus) i;
      return TRUE;
    }
  return FALSE;
}

const char *
s2r_stream_status_to_string (S2rStreamStatus status)
{
  g_return_val_if_fail (status <= S2R_STREAM_UNPUBLISHED, "FAILED");
  return stream_status_names[status];
}

/* sipsrc's sip-call states to WCS names */
S2rCallStatus
s2r_call_status_from_sip_state (const char *state, gint sip_status)
{
  if (g_strcmp0 (state, "trying") == 0)
    return S2R_CALL_TRYING;
  if (g_strcmp0 (state, "ringing") == 0)
    return S2R_CALL_RING;
  if (g_strcmp0 (state, "early-media") == 0)
    return S2R_CALL_SESSION_PROGRESS;
  if (g_strcmp0 (state, "established") == 0)
    return S2R_CALL_ESTABLISHED;
  if (g_strcmp0 (state, "terminated") == 0)
    return S2R_CALL_FINISH;
  if (sip_status == 486 || sip_status == 600)
    return S2R_CALL_BUSY;
  return S2R_CALL_FAILED;
}

static gboolean
status_is_final (S2rCallStatus status)
{
  return status >= S2R_CALL_FINISH;
}

static void
s2r_call_finalize (GObject * object)
{
  S2rCall *call = S2R_CALL (object);

  g_assert (call->pipeline == NULL);
  g_clear_pointer (&call->req, s2r_call_request_unref);
  g_clear_pointer (&call->context, g_main_context_unref);
  g_free (call->reason);
  g_free (call->sip_call_id);
  g_free (call->audio_codec);
  g_free (call->video_codec);
  g_array_unref (call->pending_pads);
  g_mutex_clear (&call->lock);

  G_OBJECT_CLASS (s2r_call_parent_class)->finalize (object);
}

static void
s2r_call_class_init (S2rCallClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = s2r_call_finalize;

  /**
   * S2rCall::changed:
   *
   * The status or the stream status changed. Emitted from the call's
   * GMainContext.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * S2rCall::stopped:
   *
   * The call has ended and its pipeline is down (BYE or CANCEL sent, sockets
   * closed). Emitted once, after the last "changed", from the call's
   * GMainContext.
   */
  signals[SIGNAL_STOPPED] = g_signal_new ("stopped", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  GST_DEBUG_CATEGORY_INIT (s2r_call_debug, "s2r-call", 0, "sip2rtmp calls");
}

static void
s2r_call_init (S2rCall * call)
{
  g_mutex_init (&call->lock);
  call->pending_pads = g_array_new (FALSE, FALSE, sizeof (PendingPad));
  call->created = g_get_real_time ();
}

static void
emit_changed (S2rCall * call)
{
  g_signal_emit (call, signals[SIGNAL_CHANGED], 0);
}

static void
set_status (S2rCall * call, S2rCallStatus status)
{
  if (status_is_final (call->status) || call->status == status)
    return;
  call->status = status;
  g_message ("call %s: %s%s%s", s2r_call_get_id (call),
      s2r_call_status_to_string (status), call->reason ? ": " : "",
      call->reason ? call->reason : "");
  emit_changed (call);
}

static void
set_stream_status (S2rCall * call, S2rStreamStatus status)
{
  if (call->stream_status == status)
    return;
  call->stream_status = status;
  g_message ("call %s: stream %s", s2r_call_get_id (call),
      s2r_stream_status_to_string (status));
  emit_changed (call);
}

static void
set_reason (S2rCall * call, const char *reason)
{
  if (reason == NULL || *reason == '\0')
    return;
  g_free (call->reason);
  call->reason = g_strdup (reason);
}

static void
release_pending_pads (S2rCall * call)
{
  g_mutex_lock (&call->lock);
  for (guint i = 0; i < call->pending_pads->len; i++) {
    PendingPad *p = &g_array_index (call->pending_pads, PendingPad, i);

    gst_pad_remove_probe (p->pad, p->probe);
    gst_object_unref (p->pad);
  }
  g_array_set_size (call->pending_pads, 0);
  g_mutex_unlock (&call->lock);
}

static void
clear_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_clear_pointer (source, g_source_unref);
  }
}

static gboolean
stopped_cb (gpointer user_data)
{
  S2rCall *call = user_data;

  g_signal_emit (call, signals[SIGNAL_STOPPED], 0);
  return G_SOURCE_REMOVE;
}

/* A GStreamer pool thread: sipsrc's NULL transition waits for the SIP
 * thread (up to seconds for an unanswered INVITE), never the main loop */
static void
stop_pipeline (GstElement * pipeline, gpointer user_data)
{
  S2rCall *call = user_data;

  /* NULL hangs up: CANCEL before an answer, BYE after */
  gst_element_set_state (pipeline, GST_STATE_NULL);
  release_pending_pads (call);
  gst_object_unref (pipeline);
  g_main_context_invoke_full (call->context, G_PRIORITY_DEFAULT, stopped_cb,
      g_object_ref (call), g_object_unref);
}

static void
finish (S2rCall * call)
{
  g_autoptr (GstElement) sip = NULL;
  gboolean changed = FALSE;

  if (call->finished)
    return;
  call->finished = TRUE;

  clear_source (&call->drain_timeout);
  clear_source (&call->bus_watch);
  sip = s2r_pipeline_get_sipsrc (call->pipeline);
  g_signal_handlers_disconnect_by_data (sip, call);
  gst_element_call_async (call->pipeline, stop_pipeline, g_object_ref (call),
      g_object_unref);
  call->pipeline = NULL;        /* owned by stop_pipeline */

  call->ended = g_get_real_time ();
  if (!status_is_final (call->status)) {
    call->status = S2R_CALL_FINISH;
    changed = TRUE;
  }
  if (call->stream_status == S2R_STREAM_PENDING ||
      call->stream_status == S2R_STREAM_PUBLISHING) {
    call->stream_status = S2R_STREAM_UNPUBLISHED;
    changed = TRUE;
  }
  g_message ("call %s: ended, %s, stream %s", s2r_call_get_id (call),
      s2r_call_status_to_string (call->status),
      s2r_stream_status_to_string (call->stream_status));
  if (changed)
    emit_changed (call);
}

static gboolean
drain_timeout_cb (gpointer user_data)
{
  S2rCall *call = user_data;

  g_clear_pointer (&call->drain_timeout, g_source_unref);
  GST_INFO ("call %s: no EOS in time, stopping", s2r_call_get_id (call));
  finish (call);
  return G_SOURCE_REMOVE;
}

static void
arm_drain_timeout (S2rCall * call)
{
  if (call->drain_timeout)
    return;
  call->drain_timeout = g_timeout_source_new (DRAIN_TIMEOUT_MS);
  g_source_set_callback (call->drain_timeout, drain_timeout_cb, call, NULL);
  g_source_attach (call->drain_timeout, call->context);
}

static gboolean
stream_publishing_cb (gpointer user_data)
{
  S2rCall *call = user_data;

  if (!call->finished && call->stream_status == S2R_STREAM_PENDING)
    set_stream_status (call, S2R_STREAM_PUBLISHING);
  return G_SOURCE_REMOVE;
}

/* rtmp2sink's render blocks until it is connected: when a second buffer
 * arrives, the first one went out on a live RTMP session */
static GstPadProbeReturn
rtmp_buffer_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  S2rCall *call = user_data;

  if (g_atomic_int_add (&call->rtmp_buffers, 1) + 1 < 2)
    return GST_PAD_PROBE_OK;
  g_main_context_invoke_full (call->context, G_PRIORITY_DEFAULT,
      stream_publishing_cb, g_object_ref (call), g_object_unref);
  return GST_PAD_PROBE_REMOVE;
}

static void
link_to_fakesink (S2rCall * call, GstPad * pad)
{
  GstElement *fakesink = gst_element_factory_make ("fakesink", NULL);
  g_autoptr (GstPad) sinkpad = NULL;

  g_object_set (fakesink, "async", FALSE, "sync", FALSE, NULL);
  gst_bin_add (GST_BIN (call->pipeline), fakesink);
  sinkpad = gst_element_get_static_pad (fakesink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_element_sync_state_with_parent (fakesink);
}

static void
replace_string (char **str, const char *value)
{
  g_free (*str);
  *str = g_strdup (value);
}

static void
record_codec (S2rCall * call, GstPad * pad)
{
  g_autofree char *media = NULL;
  g_autofree char *encoding = NULL;

  if (!s2r_pipeline_get_pad_codec (call->pipeline, pad, &media, &encoding))
    return;
  if (g_strcmp0 (media, "audio") == 0)
    replace_string (&call->audio_codec, encoding);
  else if (g_strcmp0 (media, "video") == 0)
    replace_string (&call->video_codec, encoding);
}

/* On the call's context, once sipsrc has exposed every media pad */
static gboolean
link_media_cb (gpointer user_data)
{
  S2rCall *call = user_data;
  g_autoptr (GstElement) rtmp = NULL;
  g_autoptr (GstPad) rtmp_pad = NULL;
  guint linked = 0;

  if (call->finished || call->hanging_up || call->media_linked)
    return G_SOURCE_REMOVE;

  g_mutex_lock (&call->lock);
  for (guint i = 0; i < call->pending_pads->len; i++) {
    PendingPad *p = &g_array_index (call->pending_pads, PendingPad, i);
    g_autoptr (GError) err = NULL;

    if (s2r_template_link_pad (call->tmpl, call->pipeline, p->pad, &err)) {
      record_codec (call, p->pad);
      linked++;
    } else {
      g_warning ("call %s: %s", s2r_call_get_id (call), err->message);
      link_to_fakesink (call, p->pad);
    }
  }
  g_mutex_unlock (&call->lock);

  if (linked == 0) {
    set_reason (call, "no media the pipeline can publish");
    set_status (call, S2R_CALL_FAILED);
    finish (call);
    return G_SOURCE_REMOVE;
  }

  rtmp = s2r_pipeline_get_rtmpsink (call->pipeline);
  rtmp_pad = gst_element_get_static_pad (rtmp, "sink");
  gst_pad_add_probe (rtmp_pad,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
      rtmp_buffer_probe, g_object_ref (call), g_object_unref);

  s2r_template_start_sink (call->pipeline);
  call->media_linked = TRUE;
  release_pending_pads (call);
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
block_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  return GST_PAD_PROBE_OK;
}

/* SIP thread: hold the pad's data until the muxer is linked */
static void
pad_added_cb (GstElement * sip, GstPad * pad, S2rCall * call)
{
  PendingPad p;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  p.pad = gst_object_ref (pad);
  p.probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
      block_probe, NULL, NULL);
  g_mutex_lock (&call->lock);
  g_array_append_val (call->pending_pads, p);
  g_mutex_unlock (&call->lock);
}

/* SIP thread */
static void
no_more_pads_cb (GstElement * sip, S2rCall * call)
{
  g_main_context_invoke_full (call->context, G_PRIORITY_DEFAULT,
      link_media_cb, g_object_ref (call), g_object_unref);
}

static void
handle_sip_call (S2rCall * call, const GstStructure * s)
{
  const char *state = gst_structure_get_string (s, "state");
  const char *sip_call_id = gst_structure_get_string (s, "call-id");
  gint sip_status = 0;
  S2rCallStatus status;

  gst_structure_get_int (s, "sip-status", &sip_status);
  if (sip_status > 0)
    call->sip_status = sip_status;
  set_reason (call, gst_structure_get_string (s, "reason"));
  if (sip_call_id && call->sip_call_id == NULL)
    call->sip_call_id = g_strdup (sip_call_id);

  status = s2r_call_status_from_sip_state (state, call->sip_status);
  if (status == S2R_CALL_ESTABLISHED && call->answered == 0)
    call->answered = g_get_real_time ();
  set_status (call, status);

  if (g_strcmp0 (state, "terminated") == 0) {
    /* A remote BYE is followed by EOS on every pad; without media there is
     * nothing to drain */
    if (call->media_linked)
      arm_drain_timeout (call);
    else
      finish (call);
  } else if (g_strcmp0 (state, "failed") == 0) {
    /* the error follows; do not depend on it */
    arm_drain_timeout (call);
  }
}

static void
handle_error (S2rCall * call, GstMessage * msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *debug = NULL;
  const GstStructure *details = NULL;

  gst_message_parse_error (msg, &err, &debug);
  gst_message_parse_error_details (msg, &details);
  GST_INFO ("call %s: error from %s: %s (%s)", s2r_call_get_id (call),
      GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message, debug);

  if (s2r_pipeline_is_sip_element (call->pipeline, GST_MESSAGE_SRC (msg))) {
    gint sip_status = 0;

    if (details && gst_structure_has_name (details, "sip-error")) {
      gst_structure_get_int (details, "sip-status", &sip_status);
      set_reason (call, gst_structure_get_string (details, "reason"));
    } else {
      set_reason (call, err->message);
    }
    if (sip_status > 0)
      call->sip_status = sip_status;
    set_status (call, (call->sip_status == 486 || call->sip_status == 600) ?
        S2R_CALL_BUSY : S2R_CALL_FAILED);
  } else {
    g_autofree char *reason = g_strdup_printf ("RTMP: %s", err->message);

    if (call->stream_status != S2R_STREAM_UNPUBLISHED)
      call->stream_status = S2R_STREAM_FAILED;
    set_reason (call, reason);
    set_status (call, S2R_CALL_FAILED);
    emit_changed (call);
  }
  finish (call);
}

static gboolean
bus_cb (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  S2rCall *call = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);

      if (gst_structure_has_name (s, "sip-call"))
        handle_sip_call (call, s);
      else if (gst_structure_has_name (s, "sip-dtmf"))
        GST_INFO ("call %s: DTMF %s", s2r_call_get_id (call),
            gst_structure_get_string (s, "digit"));
      break;
    }
    case GST_MESSAGE_ERROR:
      handle_error (call, msg);
      break;
    case GST_MESSAGE_EOS:
      GST_INFO ("call %s: EOS", s2r_call_get_id (call));
      finish (call);
      break;
    case GST_MESSAGE_LATENCY:
      if (call->pipeline)
        gst_bin_recalculate_latency (GST_BIN (call->pipeline));
      break;
    case GST_MESSAGE_WARNING:{
      g_autoptr (GError) err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      g_warning ("call %s: %s: %s", s2r_call_get_id (call),
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      break;
    }
    default:
      break;
  }
  /* finish() removes the watch itself */
  return call->finished ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

S2rCall *
s2r_call_new (S2rCallRequest * req, const S2rTemplate * tmpl,
    const S2rConfig * config, GError ** error)
{
  g_autoptr (S2rCall) call = g_object_new (S2R_TYPE_CALL, NULL);

  call->context = g_main_context_ref_thread_default ();
  call->req = s2r_call_request_ref (req);
  call->tmpl = tmpl;
  call->pipeline = s2r_template_instantiate (tmpl, req, config, error);
  if (call->pipeline == NULL)
    return NULL;
  return g_steal_pointer (&call);
}

gboolean
s2r_call_start (S2rCall * call, GError ** error)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (call->pipeline);
  g_autoptr (GstElement) sip = s2r_pipeline_get_sipsrc (call->pipeline);

  g_signal_connect (sip, "pad-added", G_CALLBACK (pad_added_cb), call);
  g_signal_connect (sip, "no-more-pads", G_CALLBACK (no_more_pads_cb), call);

  call->bus_watch = gst_bus_create_watch (bus);
  g_source_set_callback (call->bus_watch, (GSourceFunc) (GCallback) bus_cb,
      call, NULL);
  g_source_attach (call->bus_watch, call->context);

  if (gst_element_set_state (call->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_autoptr (GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_autoptr (GError) err = NULL;

    if (msg)
      gst_message_parse_error (msg, &err, NULL);
    s2r_set_error_field (error, S2R_ERROR_INVALID, NULL,
        "the call cannot start: %s",
        err ? err->message : "pipeline state change failed");
    set_reason (call, err ? err->message : "cannot start");
    call->status = S2R_CALL_FAILED;
    finish (call);
    return FALSE;
  }
  {
    g_autofree char *url =
        s2r_redact_url (s2r_call_request_get_rtmp_url (call->req));

    g_message ("call %s: calling %s, publishing to %s",
        s2r_call_get_id (call), s2r_call_request_get_sip_uri (call->req), url);
  }
  return TRUE;
}

void
s2r_call_hangup (S2rCall * call)
{
  if (call->finished || call->hanging_up)
    return;
  call->hanging_up = TRUE;
  set_reason (call, "hung up by the API");
  if (!call->media_linked) {
    finish (call);
    return;
  }
  /* EOS first so flvmux and rtmp2sink close the stream cleanly, then NULL
   * sends the BYE */
  gst_element_send_event (call->pipeline, gst_event_new_eos ());
  arm_drain_timeout (call);
}

const char *
s2r_call_get_id (S2rCall * call)
{
  return s2r_call_request_get_call_id (call->req);
}

S2rCallRequest *
s2r_call_get_request (S2rCall * call)
{
  return call->req;
}

S2rCallStatus
s2r_call_get_status (S2rCall * call)
{
  return call->status;
}

S2rStreamStatus
s2r_call_get_stream_status (S2rCall * call)
{
  return call->stream_status;
}

gboolean
s2r_call_is_active (S2rCall * call)
{
  return !call->finished;
}

gint64
s2r_call_get_created (S2rCall * call)
{
  return call->created;
}

static void
add_time (JsonBuilder * b, const char *name, gint64 usec)
{
  json_builder_set_member_name (b, name);
  if (usec == 0) {
    json_builder_add_null_value (b);
  } else {
    g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (usec / 1000000);
    g_autofree char *str = g_date_time_format_iso8601 (dt);

    json_builder_add_string_value (b, str);
  }
}

static void
add_string (JsonBuilder * b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_bool (JsonBuilder * b, const char *name, gboolean value, gboolean wcs)
{
  json_builder_set_member_name (b, name);
  if (wcs)
    json_builder_add_string_value (b, value ? "true" : "false");
  else
    json_builder_add_boolean_value (b, value);
}

/* Never the password */
void
s2r_call_add_json_members (S2rCall * call, JsonBuilder * b, gboolean wcs)
{
  const S2rCallRequest *req = call->req;

  add_string (b, "callId", s2r_call_get_id (call));
  add_string (b, "callee", s2r_call_request_get_callee (req));
  add_string (b, "sipUri", s2r_call_request_get_sip_uri (req));
  add_string (b, "status", s2r_call_status_to_string (call->status));
  json_builder_set_member_name (b, "sipStatus");
  json_builder_add_int_value (b, call->sip_status);
  add_string (b, "reason", call->reason);
  add_bool (b, "hasAudio", s2r_call_request_get_has_audio (req), wcs);
  add_bool (b, "hasVideo", s2r_call_request_get_has_video (req), wcs);
  add_string (b, "audioCodec", call->audio_codec);
  add_string (b, "videoCodec", call->video_codec);
  add_string (b, "rtmpUrl", s2r_call_request_get_rtmp_url (req));
  add_string (b, "rtmpStream", s2r_call_request_get_rtmp_stream (req));
  add_string (b, "rtmpStreamStatus",
      s2r_stream_status_to_string (call->stream_status));
  add_string (b, "sipLogin", s2r_call_request_get_sip_login (req));
  add_string (b, "sipDomain", s2r_call_request_get_sip_domain (req));
  add_string (b, "appKey", s2r_call_request_get_app_key (req));
  add_string (b, "visibleName", s2r_call_request_get_visible_name (req));
  add_string (b, "sipCallId", call->sip_call_id);
  add_time (b, "created", call->created);
  add_time (b, "answered", call->answered);
  add_time (b, "ended", call->ended);
}

void
s2r_call_to_json (S2rCall * call, JsonBuilder * b, gboolean wcs)
{
  json_builder_begin_object (b);
  s2r_call_add_json_members (call, b, wcs);
  json_builder_end_object (b);
}
