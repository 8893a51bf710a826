/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-call.h"
#include "s2r-call-json.h"
#include "s2r-destination.h"
#include "s2r-sip-listen.h"
#include "s2r-error.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (s2r_call_debug);
#define GST_CAT_DEFAULT s2r_call_debug

/* How long a hung up call may take to drain its stream (EOS through the
 * muxer to rtmp2sink) or a terminated one to deliver its EOS */
#define DRAIN_TIMEOUT_MS 3000
/* How long a recording that missed that EOS may take to be finalized */
#define RECORD_FINISH_TIMEOUT_MS 2000

typedef struct
{
  GstPad *pad;
  gulong probe;
} PendingPad;

struct _S2rCall
{
  GObject parent;

  /* the call manager's: bus messages come through it, and everything of
   * the call but the pipeline's own threads runs on its context (the
   * forwarder's, borrowed) */
  S2rBusForwarder *forwarder;
  GMainContext *context;
  S2rCallRequest *req;
  const S2rTemplate *tmpl;
  GstElement *pipeline;
  /* all attached to context */
  GSource *start_source;
  GSource *drain_timeout;
  GSource *max_duration_timeout;
  /* the request's values or the config's, resolved once */
  S2rCallSettings settings;
  /* the `record` file, if any, and how it goes */
  S2rRecordStatus record_status;
  /* atomic: set by stop_pipeline, reported by stopped_cb */
  gint record_finalized;

  /* S2rDestination, in the order they were given or added */
  GPtrArray *destinations;
  guint next_destination_id;
  /* the last statistics of sipsrc and rtmppubsink, kept once the pipeline
   * is gone */
  GstStructure *sip_stats;
  GstStructure *rtmp_stats;

  S2rCallStatus status;
  S2rStreamStatus stream_status;
  gint sip_status;
  char *reason;
  char *sip_call_id;
  char *audio_codec;
  char *video_codec;
  GString *dtmf;                /* every digit the peer sent, in order */
  GString *dtmf_sent;           /* every digit we sent, in order */
  GstStructure *remote_headers; /* the peer's X- headers, or NULL */
  gint64 created;
  gint64 trying;                /* the INVITE went out (monotonic, µs) */
  gint64 answered;
  gint64 ended;
  /* set-up milestones for the metrics, monotonic µs: 0 until reached */
  gint64 created_mono;
  gint64 answered_mono;
  gint64 published_mono;

  gboolean media_linked;
  gboolean hanging_up;
  gboolean finished;

  /* protects pending_pads, filled by pad-added: sipsrc exposes its pads
   * from GStreamer's thread pool (gst_element_call_async). A leaf lock:
   * nothing is linked, posted or emitted while it is held. */
  GMutex lock;
  GArray *pending_pads;
};

enum
{
  SIGNAL_CHANGED,
  SIGNAL_STOPPED,
  SIGNAL_DTMF,
  SIGNAL_DTMF_SENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (S2rCall, s2r_call, G_TYPE_OBJECT);

static void release_pending_pads (S2rCall * call);

static void
s2r_call_finalize (GObject * object)
{
  S2rCall *call = S2R_CALL (object);

  g_assert (call->pipeline == NULL);
  /* a pad-added that came after stop_pipeline released the others */
  release_pending_pads (call);
  g_clear_pointer (&call->req, s2r_call_request_unref);
  g_clear_pointer (&call->forwarder, s2r_bus_forwarder_unref);
  g_free (call->reason);
  g_free (call->sip_call_id);
  g_free (call->audio_codec);
  g_free (call->video_codec);
  g_string_free (call->dtmf, TRUE);
  g_string_free (call->dtmf_sent, TRUE);
  g_clear_pointer (&call->remote_headers, gst_structure_free);
  g_array_unref (call->pending_pads);
  g_ptr_array_unref (call->destinations);
  g_clear_pointer (&call->sip_stats, gst_structure_free);
  g_clear_pointer (&call->rtmp_stats, gst_structure_free);
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
   * The status or the stream status changed. Emitted from the call
   * manager's GMainContext.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * S2rCall::stopped:
   *
   * The call has ended and its pipeline is down (BYE or CANCEL sent, sockets
   * closed). Emitted once, after the last "changed", from the call
   * manager's GMainContext.
   */
  signals[SIGNAL_STOPPED] = g_signal_new ("stopped", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * S2rCall::dtmf:
   * @digit: the key, one of 0-9 * # A-D
   * @duration: its length in ms
   *
   * The peer sent an RFC 4733 telephone-event. Emitted from the call
   * manager's GMainContext.
   */
  signals[SIGNAL_DTMF] = g_signal_new ("dtmf", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
      G_TYPE_UINT);

  /**
   * S2rCall::dtmf-sent:
   * @digit: the key sent
   * @method: "rfc4733" or "info"
   * @duration: its length in ms
   *
   * A digit of the call's dtmf field or of s2r_call_send_dtmf() went out.
   * Emitted from the call manager's GMainContext.
   */
  signals[SIGNAL_DTMF_SENT] = g_signal_new ("dtmf-sent",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT);

  GST_DEBUG_CATEGORY_INIT (s2r_call_debug, "s2r-call", 0, "sip2rtmp calls");
}

static void
s2r_call_init (S2rCall * call)
{
  g_mutex_init (&call->lock);
  call->pending_pads = g_array_new (FALSE, FALSE, sizeof (PendingPad));
  call->destinations = g_ptr_array_new_with_free_func ((GDestroyNotify)
      s2r_destination_free);
  call->created = g_get_real_time ();
  call->created_mono = g_get_monotonic_time ();
  call->dtmf = g_string_new (NULL);
  call->dtmf_sent = g_string_new (NULL);
}

static void
emit_changed (S2rCall * call)
{
  g_signal_emit (call, signals[SIGNAL_CHANGED], 0);
}

static void
set_status (S2rCall * call, S2rCallStatus status)
{
  if (s2r_call_status_is_final (call->status) || call->status == status)
    return;
  call->status = status;
  if (status == S2R_CALL_TRYING && call->trying == 0)
    call->trying = g_get_monotonic_time ();
  if (status == S2R_CALL_ESTABLISHED && call->answered_mono == 0)
    call->answered_mono = g_get_monotonic_time ();
  g_message ("call %s: %s%s%s", s2r_call_get_id (call),
      s2r_call_status_to_string (status), call->reason ? ": " : "",
      call->reason ? call->reason : "");
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

static gboolean
update_stream_status (S2rCall * call)
{
  S2rStreamStatus status =
      s2r_destinations_aggregate_status (call->destinations);

  if (call->stream_status == status)
    return FALSE;
  call->stream_status = status;
  if (status == S2R_STREAM_PUBLISHING && call->published_mono == 0)
    call->published_mono = g_get_monotonic_time ();
  g_message ("call %s: stream %s", s2r_call_get_id (call),
      s2r_stream_status_to_string (status));
  return TRUE;
}

/* The pads sipsrc exposed so far, now the call's to link or release */
static GArray *
take_pending_pads (S2rCall * call)
{
  GArray *pads;

  g_mutex_lock (&call->lock);
  pads = call->pending_pads;
  call->pending_pads = g_array_new (FALSE, FALSE, sizeof (PendingPad));
  g_mutex_unlock (&call->lock);
  return pads;
}

/* Their data flows again (linked) or they are gone (stopped) */
static void
free_pending_pads (GArray * pads)
{
  for (guint i = 0; i < pads->len; i++) {
    PendingPad *p = &g_array_index (pads, PendingPad, i);

    gst_pad_remove_probe (p->pad, p->probe);
    gst_object_unref (p->pad);
  }
  g_array_unref (pads);
}

static void
release_pending_pads (S2rCall * call)
{
  free_pending_pads (take_pending_pads (call));
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

  /* what stop_pipeline made of a recording that was still open */
  if (call->record_status == S2R_RECORD_RECORDING) {
    call->record_status = g_atomic_int_get (&call->record_finalized) ?
        S2R_RECORD_FINISHED : S2R_RECORD_FAILED;
    g_message ("call %s: recording %s", s2r_call_get_id (call),
        s2r_record_status_to_string (call->record_status));
    emit_changed (call);
  }
  g_signal_emit (call, signals[SIGNAL_STOPPED], 0);
  return G_SOURCE_REMOVE;
}

/* A GStreamer pool thread: sipsrc's NULL transition waits for the SIP
 * thread (up to seconds for an unanswered INVITE), never the main loop */
static void
stop_pipeline (GstElement * pipeline, gpointer user_data)
{
  S2rCall *call = user_data;
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);

  if (call->record_status == S2R_RECORD_RECORDING)
    g_atomic_int_set (&call->record_finalized,
        s2r_pipeline_finish_recording (pipeline, RECORD_FINISH_TIMEOUT_MS));
  /* NULL hangs up: CANCEL before an answer, BYE after; rtmppubsink sends
   * what it queued, then closes */
  gst_element_set_state (pipeline, GST_STATE_NULL);
  /* A message left queued on the bus would hold its source, and so the
   * pipeline that owns the bus, for good: late ones are dropped */
  gst_bus_set_flushing (bus, TRUE);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  release_pending_pads (call);
  /* the call's reference: once the pool drops its own, every element and
   * pad goes, and the bus with its two fds */
  gst_object_unref (pipeline);
  g_main_context_invoke_full (call->context, G_PRIORITY_DEFAULT, stopped_cb,
      g_object_ref (call), g_object_unref);
}

static GstStructure *
get_stats (GstElement * element)
{
  GstStructure *stats = NULL;

  if (element)
    g_object_get (element, "stats", &stats, NULL);
  return stats;
}

/* From the elements while the pipeline runs, else the last ones seen */
static void
refresh_stats (S2rCall * call)
{
  g_autoptr (GstElement) sip = NULL;
  g_autoptr (GstElement) rtmp = NULL;

  if (call->pipeline == NULL)
    return;
  sip = s2r_pipeline_get_sipsrc (call->pipeline);
  g_clear_pointer (&call->sip_stats, gst_structure_free);
  call->sip_stats = get_stats (sip);
  if (call->media_linked) {
    rtmp = s2r_pipeline_get_rtmpsink (call->pipeline);
    g_clear_pointer (&call->rtmp_stats, gst_structure_free);
    call->rtmp_stats = get_stats (rtmp);
  }
}

static void
finish (S2rCall * call)
{
  g_autoptr (GstElement) sip = NULL;

  if (call->finished)
    return;
  call->finished = TRUE;

  clear_source (&call->start_source);
  clear_source (&call->drain_timeout);
  clear_source (&call->max_duration_timeout);
  refresh_stats (call);
  /* a recording never started has no file; one still open is finalized by
   * stop_pipeline, which reports it (stopped_cb) */
  if (s2r_call_request_get_record (call->req) &&
      call->record_status == S2R_RECORD_NONE)
    call->record_status = S2R_RECORD_FAILED;
  sip = s2r_pipeline_get_sipsrc (call->pipeline);
  g_signal_handlers_disconnect_by_data (sip, call);
  gst_element_call_async (call->pipeline, stop_pipeline, g_object_ref (call),
      g_object_unref);
  call->pipeline = NULL;        /* owned by stop_pipeline */

  call->ended = g_get_real_time ();
  if (!s2r_call_status_is_final (call->status))
    call->status = S2R_CALL_FINISH;
  for (guint i = 0; i < call->destinations->len; i++)
    s2r_destination_end (g_ptr_array_index (call->destinations, i));
  if (call->stream_status != S2R_STREAM_FAILED)
    call->stream_status = S2R_STREAM_UNPUBLISHED;
  g_message ("call %s: ended, %s, stream %s", s2r_call_get_id (call),
      s2r_call_status_to_string (call->status),
      s2r_stream_status_to_string (call->stream_status));
  /* always: "ended" is set, and the last event says so */
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

/* EOS first so rtmppubsink sends what it has and closes each stream
 * cleanly, then NULL sends the BYE */
static void
hangup_with_reason (S2rCall * call, const char *reason)
{
  if (call->finished || call->hanging_up)
    return;
  call->hanging_up = TRUE;
  set_reason (call, reason);
  if (!call->media_linked) {
    finish (call);
    return;
  }
  gst_element_send_event (call->pipeline, gst_event_new_eos ());
  arm_drain_timeout (call);
}

static gboolean
max_duration_cb (gpointer user_data)
{
  S2rCall *call = user_data;

  g_clear_pointer (&call->max_duration_timeout, g_source_unref);
  g_message ("call %s: max duration reached (%u s)", s2r_call_get_id (call),
      call->settings.max_duration);
  hangup_with_reason (call, "max duration reached");
  return G_SOURCE_REMOVE;
}

/* Counted from the answer */
static void
arm_max_duration (S2rCall * call)
{
  if (call->settings.max_duration == 0 || call->max_duration_timeout)
    return;
  call->max_duration_timeout = g_timeout_source_new_seconds
      (call->settings.max_duration);
  g_source_set_callback (call->max_duration_timeout, max_duration_cb, call,
      NULL);
  g_source_attach (call->max_duration_timeout, call->context);
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

/* What the call shows as its audio or video codec */
static void
set_codec (S2rCall * call, const char *media, const char *encoding)
{
  if (g_strcmp0 (media, "audio") == 0)
    replace_string (&call->audio_codec, encoding);
  else if (g_strcmp0 (media, "video") == 0)
    replace_string (&call->video_codec, encoding);
}

static void
record_codec (S2rCall * call, GstPad * pad)
{
  g_autofree char *media = NULL;
  g_autofree char *encoding = NULL;

  if (s2r_pipeline_get_pad_codec (call->pipeline, pad, &media, &encoding))
    set_codec (call, media, encoding);
}

static void fail_stream (S2rCall * call);

/* On the call manager's context, once sipsrc has exposed every media pad */
static gboolean
link_media_cb (gpointer user_data)
{
  S2rCall *call = user_data;
  g_autoptr (GstElement) rtmp = NULL;
  GArray *pads;
  guint linked = 0;

  if (call->finished || call->hanging_up || call->media_linked)
    return G_SOURCE_REMOVE;

  /* linked outside the lock: linking calls into the elements */
  pads = take_pending_pads (call);
  for (guint i = 0; i < pads->len; i++) {
    PendingPad *p = &g_array_index (pads, PendingPad, i);
    g_autoptr (GError) err = NULL;

    if (s2r_template_link_pad (call->tmpl, call->pipeline, p->pad, &err)) {
      record_codec (call, p->pad);
      linked++;
    } else {
      g_warning ("call %s: %s", s2r_call_get_id (call), err->message);
      link_to_fakesink (call, p->pad);
    }
  }

  if (linked == 0) {
    free_pending_pads (pads);
    set_reason (call, "no media the pipeline can publish");
    set_status (call, S2R_CALL_FAILED);
    finish (call);
    return G_SOURCE_REMOVE;
  }

  rtmp = s2r_pipeline_get_rtmpsink (call->pipeline);
  s2r_destinations_prepare (call->destinations, rtmp);
  s2r_template_start_sink (call->pipeline);
  if (s2r_pipeline_has_recorder (call->pipeline)) {
    if (s2r_pipeline_start_recorder (call->pipeline)) {
      call->record_status = S2R_RECORD_RECORDING;
    } else {
      g_warning ("call %s: cannot record to %s", s2r_call_get_id (call),
          s2r_call_request_get_record (call->req));
      call->record_status = S2R_RECORD_FAILED;
    }
  }
  call->media_linked = TRUE;
  s2r_destinations_start (call->destinations, rtmp);
  /* the sink runs: data may flow */
  free_pending_pads (pads);
  if (update_stream_status (call))
    emit_changed (call);
  if (call->stream_status == S2R_STREAM_FAILED)
    fail_stream (call);
  return G_SOURCE_REMOVE;
}

/* Until the chain is linked, packets are dropped rather than held: the
 * thread pushing them is sipsrc's shared media loop, which must never
 * wait for the call manager's context (every other call on that thread
 * would stall). The sticky events stay on the pad and go out on linking;
 * what is lost is the first few milliseconds of the call. */
static GstPadProbeReturn
drop_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  return GST_PAD_PROBE_DROP;
}

/* GStreamer's thread pool, where sipsrc exposes its pads: drop the pad's
 * data until the chain is linked */
static void
pad_added_cb (GstElement * sip, GstPad * pad, S2rCall * call)
{
  PendingPad p;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  p.pad = gst_object_ref (pad);
  p.probe = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, drop_probe, NULL, NULL);
  g_mutex_lock (&call->lock);
  g_array_append_val (call->pending_pads, p);
  g_mutex_unlock (&call->lock);
}

/* The pool thread of pad-added, after the last one */
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
  /* the peer's X- headers of its final response (X-Twilio-CallSid...) */
  if (call->remote_headers == NULL &&
      gst_structure_has_field_typed (s, "remote-headers", GST_TYPE_STRUCTURE))
    gst_structure_get (s, "remote-headers", GST_TYPE_STRUCTURE,
        &call->remote_headers, NULL);
  if (sip_call_id && call->sip_call_id == NULL)
    call->sip_call_id = g_strdup (sip_call_id);

  status = s2r_call_status_from_sip_state (state, call->sip_status);
  if (status == S2R_CALL_ESTABLISHED && call->answered == 0) {
    call->answered = g_get_real_time ();
    arm_max_duration (call);
  }
  /* a transfer (or its failure) moves an established call: its own
   * event, though the status stays */
  if (status == call->status && status == S2R_CALL_ESTABLISHED &&
      g_str_has_prefix (call->reason ? call->reason : "", "transfer")) {
    g_message ("call %s: %s", s2r_call_get_id (call), call->reason);
    emit_changed (call);
  }
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

/* Every destination failed: the call has nowhere to go, hang up (BYE) */
static void
fail_stream (S2rCall * call)
{
  g_autofree char *reason = NULL;
  S2rDestination *last = g_ptr_array_index (call->destinations,
      call->destinations->len - 1);

  const char *error = s2r_destination_get_error (last);

  if (call->destinations->len == 1) {
    g_autofree char *url = s2r_redact_url (s2r_rtmp_target_get_location
        (s2r_destination_get_target (last)));

    reason = g_strdup_printf ("RTMP: could not publish to %s (%s)", url,
        error ? error : "failed");
  } else {
    reason = g_strdup_printf ("RTMP: every destination failed (last: %s)",
        error ? error : "failed");
  }
  set_reason (call, reason);
  set_status (call, S2R_CALL_FAILED);
  finish (call);
}

/* rtmppubsink: one destination's state (connecting, publishing,
 * reconnecting, failed) and the media it lost so far */
static void
handle_rtmp_publish (S2rCall * call, const GstStructure * s)
{
  const char *state = gst_structure_get_string (s, "state");
  guint sink_id = 0;
  gint err = 0;
  guint64 dropped_ms = 0;
  S2rDestination *d;
  gboolean changed;

  gst_structure_get_uint (s, "id", &sink_id);
  gst_structure_get_int (s, "error", &err);
  gst_structure_get_uint64 (s, "dropped-ms", &dropped_ms);
  d = s2r_destinations_find_by_sink_id (call->destinations, sink_id);
  if (d == NULL || s2r_destination_get_status (d) == S2R_STREAM_FAILED)
    return;                     /* removed meanwhile, or already given up */

  changed = s2r_destination_update (d, state, err, dropped_ms);
  GST_INFO ("call %s: destination %u %s, %" G_GUINT64_FORMAT " ms lost",
      s2r_call_get_id (call), s2r_destination_get_id (d),
      s2r_stream_status_to_string (s2r_destination_get_status (d)),
      dropped_ms);

  if (update_stream_status (call) || changed)
    emit_changed (call);
  if (call->stream_status == S2R_STREAM_FAILED)
    fail_stream (call);
}

/* The call goes on without its recording */
static void
handle_recorder_error (S2rCall * call, GstMessage * msg)
{
  g_autoptr (GError) err = NULL;

  gst_message_parse_error (msg, &err, NULL);
  g_warning ("call %s: recording %s failed: %s", s2r_call_get_id (call),
      s2r_call_request_get_record (call->req), err->message);
  s2r_pipeline_remove_recorder (call->pipeline);
  if (call->record_status != S2R_RECORD_FAILED) {
    call->record_status = S2R_RECORD_FAILED;
    emit_changed (call);
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
    g_autofree char *reason = g_strdup_printf ("%s: %s",
        s2r_pipeline_is_rtmp_element (call->pipeline, GST_MESSAGE_SRC (msg)) ?
        "RTMP" : "pipeline", err->message);

    if (s2r_pipeline_is_rtmp_element (call->pipeline, GST_MESSAGE_SRC (msg))) {
      for (guint i = 0; i < call->destinations->len; i++)
        s2r_destination_fail (g_ptr_array_index (call->destinations, i),
            NULL);
      call->stream_status = S2R_STREAM_FAILED;
    }
    set_reason (call, reason);
    set_status (call, S2R_CALL_FAILED);
  }
  finish (call);
}

static void
handle_dtmf (S2rCall * call, const GstStructure * s)
{
  const char *digit = gst_structure_get_string (s, "digit");
  guint duration = 0;

  if (digit == NULL)
    return;
  gst_structure_get_uint (s, "duration", &duration);
  GST_INFO ("call %s: DTMF %s (%u ms)", s2r_call_get_id (call), digit,
      duration);
  g_string_append (call->dtmf, digit);
  g_signal_emit (call, signals[SIGNAL_DTMF], 0, digit, duration);
}

static void
handle_dtmf_sent (S2rCall * call, const GstStructure * s)
{
  const char *digit = gst_structure_get_string (s, "digit");
  const char *method = gst_structure_get_string (s, "method");
  guint duration = 0;

  if (digit == NULL || method == NULL)
    return;
  gst_structure_get_uint (s, "duration", &duration);
  GST_INFO ("call %s: DTMF %s sent by %s", s2r_call_get_id (call), digit,
      method);
  g_string_append (call->dtmf_sent, digit);
  g_signal_emit (call, signals[SIGNAL_DTMF_SENT], 0, digit, method, duration);
}

/* The peer changed its codec (re-INVITE, answer after early media) and
 * the call's branch followed: the call shows the codec now received */
static void
handle_codec_change (S2rCall * call, const GstStructure * s)
{
  const char *media = gst_structure_get_string (s, "media");
  const char *encoding = gst_structure_get_string (s, "encoding");

  GST_INFO ("call %s: %s codec now %s", s2r_call_get_id (call), media,
      encoding);
  set_codec (call, media, encoding);
  emit_changed (call);
}

static void
handle_message (S2rCall * call, GstMessage * msg, gboolean from_recorder)
{
  if (from_recorder && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    handle_recorder_error (call, msg);
    return;
  }
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);

      if (gst_structure_has_name (s, "sip-call"))
        handle_sip_call (call, s);
      else if (gst_structure_has_name (s, "rtmp-publish"))
        handle_rtmp_publish (call, s);
      else if (gst_structure_has_name (s, "sip-dtmf"))
        handle_dtmf (call, s);
      else if (gst_structure_has_name (s, "sip-dtmf-sent"))
        handle_dtmf_sent (call, s);
      else if (gst_structure_has_name (s, S2R_CODEC_MESSAGE))
        handle_codec_change (call, s);
      break;
    }
    case GST_MESSAGE_ERROR:
      handle_error (call, msg);
      break;
    case GST_MESSAGE_EOS:
      GST_INFO ("call %s: EOS", s2r_call_get_id (call));
      /* every sink has it, the recorder's file too */
      if (call->record_status == S2R_RECORD_RECORDING)
        call->record_status =
            s2r_pipeline_recording_is_complete (call->pipeline) ?
            S2R_RECORD_FINISHED : S2R_RECORD_FAILED;
      finish (call);
      break;
    case GST_MESSAGE_LATENCY:
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
}

/* What bus_sync_cb knew where the message was posted: the recorder may
 * have left the pipeline since */
#define FROM_RECORDER (1 << 0)

/* The call manager's context */
static void
handle_forwarded (GObject * target, GstMessage * msg, guint flags)
{
  S2rCall *call = S2R_CALL (target);

  if (!call->finished)
    handle_message (call, msg, (flags & FROM_RECORDER) != 0);
}

static gboolean
message_is_wanted (GstMessage * msg)
{
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_EOS:
    case GST_MESSAGE_WARNING:
    case GST_MESSAGE_LATENCY:
      return TRUE;
    case GST_MESSAGE_ELEMENT:
      return gst_message_has_name (msg, "sip-call") ||
          gst_message_has_name (msg, "rtmp-publish") ||
          gst_message_has_name (msg, "sip-dtmf") ||
          gst_message_has_name (msg, "sip-dtmf-sent") ||
          gst_message_has_name (msg, S2R_CODEC_MESSAGE);
    default:
      return FALSE;
  }
}

/* Any thread; the call outlives its pipeline, hence this handler. The
 * message is ours whatever we answer: GST_BUS_DROP does not free it, and
 * each one kept holds its source (the pipeline, an element, a pad). */
static GstBusSyncReply
bus_sync_cb (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  S2rCall *call = user_data;

  if (!message_is_wanted (msg)) {
    gst_message_unref (msg);
    return GST_BUS_DROP;
  }
  s2r_bus_forwarder_push (call->forwarder, handle_forwarded, G_OBJECT (call),
      msg, s2r_pipeline_recorder_message (msg) ? FROM_RECORDER : 0);
  return GST_BUS_DROP;
}

/**
 * s2r_call_new:
 * @forwarder: brings the pipeline's bus messages to the call manager's
 *   context, where the call runs
 */
S2rCall *
s2r_call_new (S2rCallRequest * req, const S2rTemplate * tmpl,
    const S2rConfig * config, S2rBusForwarder * forwarder, GError ** error)
{
  g_autoptr (S2rCall) call = g_object_new (S2R_TYPE_CALL, NULL);

  call->forwarder = s2r_bus_forwarder_ref (forwarder);
  call->context = s2r_bus_forwarder_get_context (forwarder);
  call->req = s2r_call_request_ref (req);
  call->tmpl = tmpl;
  s2r_call_settings_resolve (&call->settings, req, config);
  for (guint i = 0; i < s2r_call_request_get_n_targets (req); i++)
    g_ptr_array_add (call->destinations,
        s2r_destination_new (++call->next_destination_id,
            s2r_rtmp_target_copy (s2r_call_request_get_target (req, i))));
  call->pipeline = s2r_template_instantiate (tmpl, req, &call->settings,
      config, error);
  if (call->pipeline == NULL)
    return NULL;
  return g_steal_pointer (&call);
}

/* Right after the request was answered: the 201 does not wait for the
 * state change */
static gboolean
start_cb (gpointer user_data)
{
  S2rCall *call = user_data;

  g_clear_pointer (&call->start_source, g_source_unref);
  if (gst_element_set_state (call->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the error message on the bus gives the reason */
    set_reason (call, "the call could not start");
    arm_drain_timeout (call);
  }
  return G_SOURCE_REMOVE;
}

void
s2r_call_start (S2rCall * call)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (call->pipeline);
  g_autoptr (GstElement) sip = s2r_pipeline_get_sipsrc (call->pipeline);

  g_signal_connect (sip, "pad-added", G_CALLBACK (pad_added_cb), call);
  g_signal_connect (sip, "no-more-pads", G_CALLBACK (no_more_pads_cb), call);
  gst_bus_set_sync_handler (bus, bus_sync_cb, call, NULL);

  call->start_source = g_idle_source_new ();
  g_source_set_priority (call->start_source, G_PRIORITY_HIGH);
  g_source_set_callback (call->start_source, start_cb, call, NULL);
  g_source_attach (call->start_source, call->context);

  if (g_log_writer_default_would_drop (G_LOG_LEVEL_MESSAGE, G_LOG_DOMAIN))
    return;
  {
    g_autofree char *url =
        s2r_redact_url (s2r_call_request_get_rtmp_url (call->req));

    g_message ("call %s: calling %s, publishing to %s%s",
        s2r_call_get_id (call), s2r_call_request_get_sip_uri (call->req), url,
        call->destinations->len > 1 ? " and more" : "");
  }
}

/* Digits to the peer of an established call (sipsrc's send-dtmf: it
 * only queues them, the SIP thread and the media loop send them) */
gboolean
s2r_call_send_dtmf (S2rCall * call, const char *digits, const char *method,
    GError ** error)
{
  g_autoptr (GstElement) sip = NULL;
  gboolean queued = FALSE;

  if (call->pipeline == NULL || call->status != S2R_CALL_ESTABLISHED) {
    s2r_set_error_field (error, S2R_ERROR_CONFLICT, NULL,
        "call '%s' is not established", s2r_call_get_id (call));
    return FALSE;
  }
  sip = s2r_pipeline_get_sipsrc (call->pipeline);
  g_signal_emit_by_name (sip, "send-dtmf", digits, method, &queued);
  if (!queued) {
    s2r_set_error_field (error, S2R_ERROR_CONFLICT, "method",
        "the digits cannot reach the peer%s", method &&
        g_str_equal (method, "rfc4733") ? " by RFC 4733 (no telephone-event "
        "in its SDP, or it does not receive our audio): use 'info'" : "");
    return FALSE;
  }
  return TRUE;
}

void
s2r_call_hangup (S2rCall * call)
{
  hangup_with_reason (call, "hung up by the API");
}

/* Destinations */

guint
s2r_call_get_n_destinations (S2rCall * call)
{
  return call->destinations->len;
}

S2rDestination *
s2r_call_get_destination (S2rCall * call, guint i)
{
  g_return_val_if_fail (i < call->destinations->len, NULL);
  return g_ptr_array_index (call->destinations, i);
}

/**
 * s2r_call_add_destination:
 * @target: (transfer full): where to publish too
 *
 * Publishes the call to one more RTMP destination: at once if it
 * publishes already, else with the others once its media is known.
 *
 * Returns: (transfer none): the new destination, or %NULL if the call has
 * ended or has its maximum of destinations
 */
S2rDestination *
s2r_call_add_destination (S2rCall * call, S2rRtmpTarget * target,
    GError ** error)
{
  S2rDestination *d;

  if (call->finished || call->hanging_up) {
    s2r_rtmp_target_free (target);
    s2r_set_error_field (error, S2R_ERROR_CONFLICT, "callId",
        "call '%s' has ended", s2r_call_get_id (call));
    return NULL;
  }
  if (call->destinations->len >= S2R_MAX_DESTINATIONS) {
    s2r_rtmp_target_free (target);
    s2r_set_error_field (error, S2R_ERROR_CONFLICT, "destinations",
        "a call has at most %d destinations", S2R_MAX_DESTINATIONS);
    return NULL;
  }
  d = s2r_destination_new (++call->next_destination_id, target);
  g_ptr_array_add (call->destinations, d);
  if (call->media_linked) {
    g_autoptr (GstElement) rtmp = s2r_pipeline_get_rtmpsink (call->pipeline);

    s2r_destination_start (d, rtmp);
  }
  {
    g_autofree char *url = s2r_redact_url (s2r_rtmp_target_get_location
        (target));

    g_message ("call %s: destination %u added: %s", s2r_call_get_id (call),
        s2r_destination_get_id (d), url);
  }
  update_stream_status (call);
  emit_changed (call);
  if (call->stream_status == S2R_STREAM_FAILED)
    fail_stream (call);
  return d;
}

/**
 * s2r_call_remove_destination:
 *
 * Stops publishing to a destination (what it queued is sent first). The
 * last destination of a call cannot be removed: hang up instead.
 */
gboolean
s2r_call_remove_destination (S2rCall * call, guint id, GError ** error)
{
  S2rDestination *d = NULL;
  guint index = 0;

  for (guint i = 0; i < call->destinations->len; i++) {
    S2rDestination *c = g_ptr_array_index (call->destinations, i);

    if (s2r_destination_get_id (c) == id) {
      d = c;
      index = i;
    }
  }
  if (d == NULL) {
    s2r_set_error_field (error, S2R_ERROR_NOT_FOUND, "destId",
        "call '%s' has no destination %u", s2r_call_get_id (call), id);
    return FALSE;
  }
  if (call->finished) {
    s2r_set_error_field (error, S2R_ERROR_CONFLICT, "callId",
        "call '%s' has ended", s2r_call_get_id (call));
    return FALSE;
  }
  if (call->destinations->len == 1) {
    s2r_set_error_field (error, S2R_ERROR_CONFLICT, "destId",
        "the last destination of a call cannot be removed: hang up instead");
    return FALSE;
  }
  {
    g_autoptr (GstElement) rtmp = s2r_pipeline_get_rtmpsink (call->pipeline);

    s2r_destination_stop (d, rtmp);
  }
  g_message ("call %s: destination %u removed", s2r_call_get_id (call), id);
  g_ptr_array_remove_index (call->destinations, index);
  update_stream_status (call);
  emit_changed (call);
  if (call->stream_status == S2R_STREAM_FAILED)
    fail_stream (call);
  return TRUE;
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

/* The set-up milestones (monotonic µs, 0 until reached): accepted by the
 * API, INVITE sent, answered, first media published */
void
s2r_call_get_milestones (S2rCall * call, gint64 * created, gint64 * trying,
    gint64 * answered, gint64 * published)
{
  *created = call->created_mono;
  *trying = call->trying;
  *answered = call->answered_mono;
  *published = call->published_mono;
}

/* What the call's media amounted to so far (the last values once its
 * pipeline is down) */
void
s2r_call_get_media_counters (S2rCall * call, S2rMediaCounters * out)
{
  memset (out, 0, sizeof (*out));
  refresh_stats (call);
  if (call->sip_stats) {
    gst_structure_get_uint64 (call->sip_stats, "packets-received",
        &out->rtp_packets);
    gst_structure_get_uint64 (call->sip_stats, "bytes-received",
        &out->rtp_bytes);
    gst_structure_get_uint64 (call->sip_stats, "packets-lost", &out->rtp_lost);
  }
  if (call->rtmp_stats)
    gst_structure_get_uint64 (call->rtmp_stats, "frames", &out->rtmp_frames);
  for (guint i = 0; i < call->destinations->len; i++)
    out->rtmp_dropped_ms += s2r_destination_get_dropped_ms
        (g_ptr_array_index (call->destinations, i));
}


/* What the call shows, now (s2r-call-json.c) */
void
s2r_call_get_view (S2rCall * call, S2rCallView * view)
{
  view->req = call->req;
  view->settings = &call->settings;
  view->status = call->status;
  view->stream_status = call->stream_status;
  view->record_status = call->record_status;
  view->sip_status = call->sip_status;
  view->reason = call->reason;
  view->audio_codec = call->audio_codec;
  view->video_codec = call->video_codec;
  view->sip_call_id = call->sip_call_id;
  view->dtmf = call->dtmf->len ? call->dtmf->str : NULL;
  view->dtmf_sent = call->dtmf_sent->len ? call->dtmf_sent->str : NULL;
  view->remote_headers = call->remote_headers;
  view->destinations = call->destinations;
  view->created = call->created;
  view->answered = call->answered;
  view->ended = call->ended;
  s2r_incoming_get_view (s2r_call_request_get_incoming (call->req),
      &view->incoming);
}

/* sipsrc's and rtmppubsink's stats, from the elements while the pipeline
 * runs, else the last ones seen; NULL when not known yet */
void
s2r_call_get_stats (S2rCall * call, const GstStructure ** sip_stats,
    const GstStructure ** rtmp_stats)
{
  refresh_stats (call);
  *sip_stats = call->sip_stats;
  *rtmp_stats = call->rtmp_stats;
}
