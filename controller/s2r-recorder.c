/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-recorder.h"
#include "s2r-debug.h"
#include "s2r-error.h"

S2R_DEBUG_CATEGORY ("s2r-recorder", "sip2rtmp call recordings");
#define GST_CAT_DEFAULT s2r_debug_category ()

#define RECORDER_NAME "recorder"
#define RECORDER_MUX_NAME "recorder-mux"
/* what the recorder may hold back before it drops (ns): a slow disk loses
 * recorded media, never live media */
#define RECORDER_QUEUE_TIME (2 * GST_SECOND)


/* The recording of a call that asked for one: a tee after each chain, a
 * leaky queue per medium into the muxer and a filesink, all but the tees in
 * the "recorder" bin. Kept on the pipeline, so it outlives that bin when a
 * failure removes it. */
typedef struct
{
  /* atomic; set from any thread: the tees drop what goes to the recorder
   * (it failed, or is being closed) */
  gint closed;
  gint failed;
  /* atomic: a buffer of media reached the muxer (else the file is empty) */
  gint has_media;
  /* the tees' recorder pads; written on the call's context before data
   * flows, read in stop_pipeline */
  GPtrArray *tee_pads;
  /* protects eos: set from the filesink's streaming thread */
  GMutex lock;
  GCond cond;
  gboolean eos;
} Recorder;

/* the Recorder of a pipeline that records */
static GQuark recorder_quark (void);
G_DEFINE_QUARK (s2r-recorder, recorder);

static void
recorder_free (Recorder * rec)
{
  g_ptr_array_unref (rec->tee_pads);
  g_mutex_clear (&rec->lock);
  g_cond_clear (&rec->cond);
  g_free (rec);
}

static Recorder *
get_recorder (GstElement * pipeline)
{
  return g_object_get_qdata (G_OBJECT (pipeline), recorder_quark ());
}

static GstPadProbeReturn
recorder_eos_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Recorder *rec = user_data;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS) {
    g_mutex_lock (&rec->lock);
    rec->eos = TRUE;
    g_cond_broadcast (&rec->cond);
    g_mutex_unlock (&rec->lock);
  }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
recorder_media_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Recorder *rec = user_data;

  g_atomic_int_set (&rec->has_media, 1);
  return GST_PAD_PROBE_REMOVE;
}

static GstPadProbeReturn
recorder_drop_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Recorder *rec = user_data;

  return g_atomic_int_get (&rec->closed) ? GST_PAD_PROBE_DROP :
      GST_PAD_PROBE_OK;
}

/* The muxer by the file's extension, then the file */
static GstElement *
recorder_new (Recorder * rec, const char *path, GError ** error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  gboolean mp4 = g_str_has_suffix (lower, ".mp4");
  const char *mux_factory = mp4 ? "mp4mux" : "matroskamux";
  GstElement *bin, *mux, *sink;
  g_autoptr (GstPad) sinkpad = NULL;

  mux = gst_element_factory_make (mux_factory, RECORDER_MUX_NAME);
  sink = gst_element_factory_make ("filesink", NULL);
  if (mux == NULL || sink == NULL) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_INTERNAL,
        "element %s not found (GStreamer plugin '%s' not installed)",
        mux ? "filesink" : mux_factory, mux ? "coreelements" :
        mp4 ? "isomp4" : "matroska");
    if (mux)
      gst_object_unref (gst_object_ref_sink (mux));
    if (sink)
      gst_object_unref (gst_object_ref_sink (sink));
    return NULL;
  }
  if (mp4)
    /* fragments: a crash leaves a readable file */
    g_object_set (mux, "fragment-duration", 1000, NULL);
  else
    g_object_set (mux, "streamable", FALSE, "offset-to-zero", TRUE, NULL);
  /* joins a running pipeline: no preroll to wait for */
  g_object_set (sink, "location", path, "async", FALSE, NULL);
  bin = gst_bin_new (RECORDER_NAME);
  gst_bin_add_many (GST_BIN (bin), mux, sink, NULL);
  gst_element_link (mux, sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      recorder_eos_probe, rec, NULL);
  return bin;
}

/* A leaky queue from a new tee into the recorder's muxer: the recorder
 * never holds the live branch back */
static GstPad *
insert_recorder_tee (GstElement * pipeline, Recorder * rec, GstPad * srcpad,
    const char *pad_name, const char *media)
{
  g_autoptr (GstElement) recorder = gst_bin_get_by_name (GST_BIN (pipeline),
      RECORDER_NAME);
  g_autoptr (GstElement) mux = NULL;
  g_autofree char *tee_name = g_strdup_printf ("%s-tee", pad_name);
  g_autofree char *mux_template = g_strdup_printf ("%s_%%u", media);
  g_autoptr (GstPad) tee_sink = NULL;
  g_autoptr (GstPad) queue_sink = NULL;
  g_autoptr (GstPad) queue_src = NULL;
  g_autoptr (GstPad) mux_sink = NULL;
  GstPad *live, *rec_pad;
  GstElement *tee, *queue;

  tee = gst_element_factory_make ("tee", tee_name);
  g_object_set (tee, "allow-not-linked", TRUE, NULL);
  gst_bin_add (GST_BIN (pipeline), tee);
  tee_sink = gst_element_get_static_pad (tee, "sink");
  gst_pad_link (srcpad, tee_sink);
  live = gst_element_request_pad_simple (tee, "src_%u");
  rec_pad = gst_element_request_pad_simple (tee, "src_%u");
  gst_pad_add_probe (rec_pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, recorder_drop_probe, rec, NULL);
  g_ptr_array_add (rec->tee_pads, rec_pad);
  gst_element_sync_state_with_parent (tee);

  if (recorder == NULL)
    return live;                /* removed: it failed */
  mux = gst_bin_get_by_name (GST_BIN (recorder), RECORDER_MUX_NAME);
  queue = gst_element_factory_make ("queue", NULL);
  g_object_set (queue, "max-size-time", (guint64) RECORDER_QUEUE_TIME,
      "max-size-buffers", 0, "max-size-bytes", 0, NULL);
  gst_util_set_object_arg (G_OBJECT (queue), "leaky", "downstream");
  gst_bin_add (GST_BIN (recorder), queue);
  queue_sink = gst_element_get_static_pad (queue, "sink");
  queue_src = gst_element_get_static_pad (queue, "src");
  gst_pad_add_probe (queue_src, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, recorder_media_probe, rec, NULL);
  mux_sink = gst_element_request_pad_simple (mux, mux_template);
  if (mux_sink == NULL || gst_pad_link (queue_src, mux_sink) != GST_PAD_LINK_OK
      || !gst_pad_link_maybe_ghosting (rec_pad, queue_sink)) {
    GST_WARNING_OBJECT (pipeline, "%s: cannot record %s", pad_name, media);
    g_atomic_int_set (&rec->failed, 1);
    g_atomic_int_set (&rec->closed, 1);
  }
  return live;
}

/* At instantiation: the recorder waits, locked, for the call's answer */
gboolean
s2r_recorder_attach (GstElement * pipeline, const char *path, GError ** error)
{
  Recorder *rec = g_new0 (Recorder, 1);
  GstElement *recorder;

  g_mutex_init (&rec->lock);
  g_cond_init (&rec->cond);
  rec->tee_pads = g_ptr_array_new_with_free_func (gst_object_unref);
  g_object_set_qdata_full (G_OBJECT (pipeline), recorder_quark (), rec,
      (GDestroyNotify) recorder_free);
  recorder = recorder_new (rec, path, error);
  if (recorder == NULL)
    return FALSE;
  gst_bin_add (GST_BIN (pipeline), recorder);
  /* no file is created for a call that is never answered */
  gst_element_set_locked_state (recorder, TRUE);
  return TRUE;
}

/* The pad the live stream goes on from: @srcpad itself without a
 * recorder, else a tee's (transfer full) */
GstPad *
s2r_recorder_tee (GstElement * pipeline, GstPad * srcpad,
    const char *pad_name, const char *media)
{
  Recorder *rec = get_recorder (pipeline);

  if (rec == NULL)
    return gst_object_ref (srcpad);
  return insert_recorder_tee (pipeline, rec, srcpad, pad_name, media);
}

gboolean
s2r_pipeline_has_recorder (GstElement * pipeline)
{
  return get_recorder (pipeline) != NULL;
}

/* Before data flows; FALSE if the file cannot be written (the recorder is
 * then removed: the call goes on without it) */
gboolean
s2r_pipeline_start_recorder (GstElement * pipeline)
{
  g_autoptr (GstElement) recorder = gst_bin_get_by_name (GST_BIN (pipeline),
      RECORDER_NAME);
  Recorder *rec = get_recorder (pipeline);

  if (rec == NULL || recorder == NULL || g_atomic_int_get (&rec->failed)) {
    s2r_pipeline_remove_recorder (pipeline);
    return FALSE;
  }
  gst_element_set_locked_state (recorder, FALSE);
  if (!gst_element_sync_state_with_parent (recorder)) {
    s2r_pipeline_remove_recorder (pipeline);
    return FALSE;
  }
  return TRUE;
}

/**
 * s2r_pipeline_recorder_message:
 *
 * Whether @msg comes from a call's recorder. Any thread: called where the
 * message is posted, an error stops what goes to the recorder there and
 * then, before the failed muxer or file can fail the live branch too.
 */
gboolean
s2r_pipeline_recorder_message (GstMessage * msg)
{
  GstObject *obj = GST_MESSAGE_SRC (msg);
  gboolean found = FALSE;

  if (obj == NULL)
    return FALSE;
  gst_object_ref (obj);
  while (obj) {
    GstObject *parent = gst_object_get_parent (obj);

    if (!found && GST_IS_BIN (obj) && parent && GST_IS_PIPELINE (parent) &&
        get_recorder (GST_ELEMENT (parent)) &&
        g_strcmp0 (GST_OBJECT_NAME (obj), RECORDER_NAME) == 0) {
      Recorder *rec = get_recorder (GST_ELEMENT (parent));

      found = TRUE;
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
        g_atomic_int_set (&rec->failed, 1);
        g_atomic_int_set (&rec->closed, 1);
      }
    }
    gst_object_unref (obj);
    obj = parent;
  }
  return found;
}

/* On the call's context: the recorder leaves the pipeline, which then
 * reaches EOS without it */
void
s2r_pipeline_remove_recorder (GstElement * pipeline)
{
  Recorder *rec = get_recorder (pipeline);
  g_autoptr (GstElement) recorder = NULL;

  if (rec == NULL)
    return;
  g_atomic_int_set (&rec->failed, 1);
  g_atomic_int_set (&rec->closed, 1);
  recorder = gst_bin_get_by_name (GST_BIN (pipeline), RECORDER_NAME);
  if (recorder == NULL)
    return;
  gst_element_set_locked_state (recorder, TRUE);
  gst_bin_remove (GST_BIN (pipeline), recorder);
  gst_element_set_state (recorder, GST_STATE_NULL);
}

/**
 * s2r_pipeline_finish_recording:
 *
 * Makes sure the file is finalized (the muxer's index or last fragment
 * written) before the pipeline stops: if the call ended without EOS
 * reaching the recorder (an error, the drain timeout), EOS is sent into it
 * and waited for, up to @timeout_ms. Blocks: not on the call's context.
 *
 * Returns: whether the recording is complete and holds media
 */
gboolean
s2r_pipeline_finish_recording (GstElement * pipeline, guint timeout_ms)
{
  Recorder *rec = get_recorder (pipeline);
  gint64 deadline = g_get_monotonic_time () + timeout_ms *
      G_TIME_SPAN_MILLISECOND;
  gboolean eos;

  if (s2r_pipeline_recording_is_complete (pipeline))
    return TRUE;
  if (rec == NULL || g_atomic_int_get (&rec->failed))
    return FALSE;

  g_atomic_int_set (&rec->closed, 1);
  for (guint i = 0; i < rec->tee_pads->len; i++) {
    g_autoptr (GstPad) peer = gst_pad_get_peer (g_ptr_array_index
        (rec->tee_pads, i));

    if (peer)
      gst_pad_send_event (peer, gst_event_new_eos ());
  }
  g_mutex_lock (&rec->lock);
  while (!rec->eos) {
    if (!g_cond_wait_until (&rec->cond, &rec->lock, deadline))
      break;
  }
  eos = rec->eos;
  g_mutex_unlock (&rec->lock);
  GST_INFO_OBJECT (pipeline, "recording %s", eos ? "finalized" :
      "not finalized in time");
  return eos && g_atomic_int_get (&rec->has_media);
}

/* The file got its EOS (so its index) and some media; does not block */
gboolean
s2r_pipeline_recording_is_complete (GstElement * pipeline)
{
  Recorder *rec = get_recorder (pipeline);
  gboolean eos;

  if (rec == NULL || g_atomic_int_get (&rec->failed))
    return FALSE;
  g_mutex_lock (&rec->lock);
  eos = rec->eos;
  g_mutex_unlock (&rec->lock);
  return eos && g_atomic_int_get (&rec->has_media);
}
