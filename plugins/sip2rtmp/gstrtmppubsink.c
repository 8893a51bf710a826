/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-rtmppubsink
 * @title: rtmppubsink
 *
 * rtmppubsink publishes AAC audio and H.264 video to one or more RTMP
 * (rtmp:// or rtmps://) servers. It muxes FLV tags itself and hands them
 * to the process's libre thread, which runs every publication of the
 * process: no thread and no wake-up per stream, and a chain function that
 * never blocks. A server that refuses, drops or restarts is retried with
 * backoff within `retry-budget`, on the same stream name; media is dropped
 * (and counted) meanwhile, so the call and the other destinations go on.
 * Video goes to a destination from a keyframe on: as one starts (or starts
 * again) publishing, an upstream force-key-unit event asks for one.
 *
 * Each destination's state is posted as an `rtmp-publish` element message
 * (`id`, `state`: connecting, publishing, reconnecting, failed;
 * `dropped-ms`; `location` without its stream key). Destinations can be
 * added and removed while running with the `add-location` and
 * `remove-location` action signals.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e audiotestsrc is-live=true ! audioconvert ! \
 *   audio/x-raw,rate=48000,channels=1 ! voaacenc ! aacparse ! \
 *   rtmppubsink location=rtmp://127.0.0.1/live/test
 * ]|
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/video/video.h>
#include "gstrtmppubsink.h"
#include "gstflvtag.h"
#include "gstrtmpstillvideo.h"
#include "libre/runtime.h"
#include "libre/rtmppub.h"

GST_DEBUG_CATEGORY_STATIC (gst_rtmp_pub_sink_debug);
#define GST_CAT_DEFAULT gst_rtmp_pub_sink_debug

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_RETRY_BUDGET,
  PROP_STILL_VIDEO,
  PROP_STATS,
};

enum
{
  SIGNAL_ADD_LOCATION,
  SIGNAL_REMOVE_LOCATION,
  LAST_SIGNAL,
};

#define DEFAULT_RETRY_BUDGET 60
#define DEFAULT_STILL_VIDEO FALSE


typedef struct
{
  guint id;
  gchar *location;
  struct rtmppub *handle;
  GstRtmpPubSink *sink;         /* not reffed: the sink outlives us */
  /* written on the SIP thread, read by stats: under the object lock */
  const gchar *state;
} Destination;

struct _GstRtmpPubSink
{
  GstElement parent;

  GstPad *audio_pad;
  GstPad *video_pad;

  /* The object lock protects every field below; under it only the
   * publisher handle's mutex is taken (rtmppub_send). The process's lock order:
   * docs/sipsrc-contract.md, "Threads and locks". */
  gchar *location;
  guint retry_budget;
  gboolean still_video;
  guint64 still_index;          /* next still frame to send */
  GBytes *config[2];            /* the last FLV config tags: audio, video */
  GPtrArray *destinations;
  guint next_id;
  gboolean started;
  gboolean have_base;
  GstClockTime base;
  guint eos_pads;
  guint64 frames;
  guint64 dropped_frames;
};

static guint signals[LAST_SIGNAL];

/**
 * GstRtmpPubSink!audio:
 *
 * AAC (raw, with codec_data), e.g. from voaacenc or avenc_aac ! aacparse.
 */
static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE ("audio",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/mpeg, mpegversion=(int)4, "
        "stream-format=(string)raw"));

/**
 * GstRtmpPubSink!video:
 *
 * H.264 in AVC form, whole access units, e.g. from h264parse.
 */
static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE ("video",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-h264, stream-format=(string)avc, "
        "alignment=(string)au"));

#define gst_rtmp_pub_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstRtmpPubSink, gst_rtmp_pub_sink, GST_TYPE_ELEMENT,
    GST_DEBUG_CATEGORY_INIT (gst_rtmp_pub_sink_debug, "rtmppubsink", 0,
        "RTMP publisher on libre's event loop"));
GST_ELEMENT_REGISTER_DEFINE (rtmppubsink, "rtmppubsink", GST_RANK_NONE,
    GST_TYPE_RTMP_PUB_SINK);

/* A stream key is a secret: logs and messages show the server and app */
static gchar *
location_redacted (const gchar * location)
{
  const gchar *slash = strrchr (location, '/');

  if (!slash)
    return g_strdup ("***");
  return g_strdup_printf ("%.*s/***", (gint) (slash - location), location);
}

static gboolean
location_is_valid (const gchar * location)
{
  const gchar *p;
  const gchar *last;

  if (!location)
    return FALSE;
  if (g_str_has_prefix (location, "rtmp://"))
    p = location + 7;
  else if (g_str_has_prefix (location, "rtmps://"))
    p = location + 8;
  else
    return FALSE;

  /* host/app/stream: two slashes at least, nothing empty */
  last = strrchr (p, '/');
  return strchr (p, '/') != last && p[0] != '/' && last && last[1] != '\0'
      && !strpbrk (location, " \t\r\n");
}

static const gchar *
state_name (enum rtmppub_state state)
{
  switch (state) {
    case RTMPPUB_CONNECTING:
      return "connecting";
    case RTMPPUB_PUBLISHING:
      return "publishing";
    case RTMPPUB_RECONNECTING:
      return "reconnecting";
    case RTMPPUB_FAILED:
    default:
      return "failed";
  }
}

/* A destination that starts publishing, or starts again after an outage,
 * sends video from the next keyframe on: ask upstream for one now (sipsrc
 * sends the callee a PLI) rather than wait for the source's next periodic
 * keyframe. On a thread of GStreamer's pool, not the SIP thread. */
static void
ask_for_keyframe (GstElement * element, gpointer user_data)
{
  GstRtmpPubSink *self = GST_RTMP_PUB_SINK (element);
  GstPad *pad = NULL;

  GST_OBJECT_LOCK (self);
  if (self->video_pad)
    pad = gst_object_ref (self->video_pad);
  GST_OBJECT_UNLOCK (self);
  if (!pad)
    return;
  GST_DEBUG_OBJECT (pad, "publishing: asking upstream for a keyframe");
  gst_pad_push_event (pad, gst_video_event_new_upstream_force_key_unit
      (GST_CLOCK_TIME_NONE, TRUE, 0));
  gst_object_unref (pad);
}

/* On the SIP thread */
static void
destination_event (enum rtmppub_state state, int err, uint64_t dropped_ms,
    void *arg)
{
  Destination *d = arg;
  GstRtmpPubSink *self = d->sink;
  gchar *shown = location_redacted (d->location);
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  d->state = state_name (state);
  GST_OBJECT_UNLOCK (self);

  GST_INFO_OBJECT (self, "destination %u (%s): %s (error %d, %"
      G_GUINT64_FORMAT " ms dropped)", d->id, shown, state_name (state), err,
      dropped_ms);

  s = gst_structure_new ("rtmp-publish", "id", G_TYPE_UINT, d->id,
      "location", G_TYPE_STRING, shown,
      "state", G_TYPE_STRING, state_name (state),
      "error", G_TYPE_INT, err, "dropped-ms", G_TYPE_UINT64, dropped_ms, NULL);
  gst_element_post_message (GST_ELEMENT_CAST (self),
      gst_message_new_element (GST_OBJECT_CAST (self), s));

  if (state == RTMPPUB_PUBLISHING)
    gst_element_call_async (GST_ELEMENT_CAST (self), ask_for_keyframe, NULL,
        NULL);
  if (state == RTMPPUB_FAILED)
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("Could not publish to %s", shown), ("error %d, retry budget spent",
            err));
  g_free (shown);
}

static void
destination_free (Destination * d)
{
  rtmppub_stop (d->handle);  /* flushes, closes; no event after it */
  if (d->location)
    memset (d->location, 0, strlen (d->location));
  g_free (d->location);
  g_free (d);
}

/* Called with the object lock */
static Destination *
destination_start (GstRtmpPubSink * self, const gchar * location)
{
  Destination *d = g_new0 (Destination, 1);
  guint i;

  d->id = ++self->next_id;
  d->location = g_strdup (location);
  d->sink = self;
  d->state = "connecting";
  if (rtmppub_start (&d->handle, location, self->retry_budget * 1000,
          destination_event, d) != 0) {
    g_free (d->location);
    g_free (d);
    return NULL;
  }

  /* a destination added while running starts with the known configs */
  for (i = 0; i < G_N_ELEMENTS (self->config); i++) {
    gsize len;
    const guint8 *data;

    if (!self->config[i])
      continue;
    data = g_bytes_get_data (self->config[i], &len);
    rtmppub_send (d->handle, i == 1, 0, data, len, TRUE, TRUE);
  }
  g_ptr_array_add (self->destinations, d);
  return d;
}

static guint
gst_rtmp_pub_sink_add_location (GstRtmpPubSink * self, const gchar * location)
{
  Destination *d = NULL;

  if (!location_is_valid (location)) {
    GST_WARNING_OBJECT (self, "not an rtmp:// or rtmps:// URL with an app "
        "and a stream name");
    return 0;
  }

  GST_OBJECT_LOCK (self);
  if (self->started)
    d = destination_start (self, location);
  GST_OBJECT_UNLOCK (self);

  return d ? d->id : 0;
}

static gboolean
gst_rtmp_pub_sink_remove_location (GstRtmpPubSink * self, guint id)
{
  Destination *found = NULL;
  guint i;

  GST_OBJECT_LOCK (self);
  for (i = 0; i < self->destinations->len; i++) {
    Destination *d = g_ptr_array_index (self->destinations, i);
    if (d->id == id) {
      found = g_ptr_array_steal_index (self->destinations, i);
      break;
    }
  }
  GST_OBJECT_UNLOCK (self);

  /* without the lock: the SIP thread may be reporting on it */
  if (found)
    destination_free (found);
  return found != NULL;
}

static void
send_all (GstRtmpPubSink * self, gboolean video, guint32 ts,
    const guint8 * data, gsize len, gboolean config, gboolean keyframe)
{
  guint i;

  GST_OBJECT_LOCK (self);
  /* kept for destinations added later */
  if (config) {
    g_clear_pointer (&self->config[video ? 1 : 0], g_bytes_unref);
    self->config[video ? 1 : 0] = g_bytes_new (data, len);
  }
  for (i = 0; i < self->destinations->len; i++) {
    Destination *d = g_ptr_array_index (self->destinations, i);

    if (rtmppub_send (d->handle, video, ts, data, len, config,
            keyframe) != 0)
      self->dropped_frames++;
  }
  if (!config)
    self->frames++;
  GST_OBJECT_UNLOCK (self);
}

/* An FLV tag body (gstflvtag.c) to every destination */
static void
send_tag (GstRtmpPubSink * self, gboolean video, guint32 ts, GBytes * tag,
    gboolean config, gboolean keyframe)
{
  gsize len;
  const guint8 *data;

  if (!tag)
    return;
  data = g_bytes_get_data (tag, &len);
  send_all (self, video, ts, data, len, config, keyframe);
  g_bytes_unref (tag);
}

/* The RTMP clock starts this long before the first buffer of any pad: a
 * buffer of the other pad with an earlier running time still gets its own
 * time (audio waits 20-40 ms in its encoder while video passes through, so
 * the first video frame often comes first with a later time) */
#define START_MARGIN (100 * GST_MSECOND)

/* Milliseconds since START_MARGIN before the first buffer of any pad */
static guint32
timestamp_ms (GstRtmpPubSink * self, GstPad * pad, GstClockTime t)
{
  GstSegment *segment = gst_pad_get_element_private (pad);
  GstClockTime running;
  gboolean early;
  guint32 ms;

  running = gst_segment_to_running_time (segment, GST_FORMAT_TIME, t);
  if (!GST_CLOCK_TIME_IS_VALID (running))
    running = 0;

  GST_OBJECT_LOCK (self);
  if (!self->have_base) {
    self->base = running > START_MARGIN ? running - START_MARGIN : 0;
    self->have_base = TRUE;
  }
  early = running < self->base;
  ms = early ? 0 : (guint32) ((running - self->base) / GST_MSECOND);
  GST_OBJECT_UNLOCK (self);
  if (early)
    GST_DEBUG_OBJECT (pad, "%" GST_TIME_FORMAT " before the stream's start, "
        "sent at 0", GST_TIME_ARGS (running));
  return ms;
}

/* The generated video track follows the audio's clock */
static void
send_still_video (GstRtmpPubSink * self, guint32 audio_ts)
{
  gboolean on;

  GST_OBJECT_LOCK (self);
  on = self->still_video && !self->video_pad;
  GST_OBJECT_UNLOCK (self);
  if (!on)
    return;

  for (;;) {
    gboolean key;
    guint32 ts;
    GstBuffer *frame = gst_rtmp_still_video_frame (self->still_index, &ts, &key);

    if (ts > audio_ts)
      break;
    send_tag (self, TRUE, ts, gst_flv_tag_avc (frame, FALSE, key, 0), FALSE,
        key);
    self->still_index++;
  }
}

static GstFlowReturn
gst_rtmp_pub_sink_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstRtmpPubSink *self = GST_RTMP_PUB_SINK (parent);
  gboolean video = pad == self->video_pad;
  GstClockTime dts = GST_BUFFER_DTS_OR_PTS (buf);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  guint32 ts = timestamp_ms (self, pad, dts);

  if (video) {
    gboolean key = !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);

    send_tag (self, TRUE, ts, gst_flv_tag_avc (buf, FALSE, key,
            gst_flv_tag_cts_ms (pts, dts)), FALSE, key);
  } else {
    send_tag (self, FALSE, ts, gst_flv_tag_aac (buf, FALSE), FALSE, TRUE);
    send_still_video (self, ts);
  }

  gst_buffer_unref (buf);
  return GST_FLOW_OK;
}

/* Sequence headers, sent first and again after each reconnection */
static gboolean
handle_caps (GstRtmpPubSink * self, GstPad * pad, GstCaps * caps)
{
  const GstStructure *s = gst_caps_get_structure (caps, 0);
  const GValue *v = gst_structure_get_value (s, "codec_data");
  gboolean video = pad == self->video_pad;
  GstBuffer *codec_data;

  if (!v || !GST_VALUE_HOLDS_BUFFER (v)) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("%s caps without codec_data: %" GST_PTR_FORMAT,
            video ? "video" : "audio", caps));
    return FALSE;
  }
  codec_data = gst_value_get_buffer (v);

  if (video) {
    send_tag (self, TRUE, 0, gst_flv_tag_avc (codec_data, TRUE, TRUE, 0),
        TRUE, TRUE);
  } else {
    gboolean still;

    send_tag (self, FALSE, 0, gst_flv_tag_aac (codec_data, TRUE), TRUE, TRUE);
    GST_OBJECT_LOCK (self);
    still = self->still_video && !self->video_pad;
    GST_OBJECT_UNLOCK (self);
    if (still)
      send_tag (self, TRUE, 0,
          gst_flv_tag_avc (gst_rtmp_still_video_codec_data (), TRUE, TRUE, 0),
          TRUE, TRUE);
  }
  return TRUE;
}

static gboolean
gst_rtmp_pub_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstRtmpPubSink *self = GST_RTMP_PUB_SINK (parent);
  gboolean ret = TRUE;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gst_event_parse_caps (event, &caps);
      ret = handle_caps (self, pad, caps);
      break;
    }
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, gst_pad_get_element_private (pad));
      break;
    case GST_EVENT_EOS:{
      gboolean all;

      GST_OBJECT_LOCK (self);
      self->eos_pads++;
      all = self->eos_pads >= (guint) GST_ELEMENT_CAST (self)->numsinkpads;
      GST_OBJECT_UNLOCK (self);
      /* What was queued goes out when the destinations close (NULL) */
      if (all)
        gst_element_post_message (GST_ELEMENT_CAST (self),
            gst_message_new_eos (GST_OBJECT_CAST (self)));
      break;
    }
    case GST_EVENT_FLUSH_STOP:
      gst_segment_init (gst_pad_get_element_private (pad), GST_FORMAT_TIME);
      break;
    default:
      break;
  }

  gst_event_unref (event);
  return ret;
}

static GstPad *
gst_rtmp_pub_sink_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps)
{
  GstRtmpPubSink *self = GST_RTMP_PUB_SINK (element);
  gboolean video = templ == gst_element_class_get_pad_template
      (GST_ELEMENT_GET_CLASS (element), "video");
  GstPad **slot = video ? &self->video_pad : &self->audio_pad;
  GstSegment *segment;
  GstPad *pad;

  GST_OBJECT_LOCK (self);
  if (*slot) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "only one %s pad", video ? "video" : "audio");
    return NULL;
  }
  GST_OBJECT_UNLOCK (self);

  pad = gst_pad_new_from_template (templ, video ? "video" : "audio");
  segment = g_new0 (GstSegment, 1);
  gst_segment_init (segment, GST_FORMAT_TIME);
  gst_pad_set_element_private (pad, segment);
  gst_pad_set_chain_function (pad, gst_rtmp_pub_sink_chain);
  gst_pad_set_event_function (pad, gst_rtmp_pub_sink_event);
  GST_PAD_SET_PROXY_ALLOCATION (pad);

  GST_OBJECT_LOCK (self);
  *slot = pad;
  GST_OBJECT_UNLOCK (self);

  gst_element_add_pad (element, pad);
  return pad;
}

static void
gst_rtmp_pub_sink_release_pad (GstElement * element, GstPad * pad)
{
  GstRtmpPubSink *self = GST_RTMP_PUB_SINK (element);

  GST_OBJECT_LOCK (self);
  if (pad == self->audio_pad)
    self->audio_pad = NULL;
  if (pad == self->video_pad)
    self->video_pad = NULL;
  GST_OBJECT_UNLOCK (self);

  g_free (gst_pad_get_element_private (pad));
  gst_pad_set_element_private (pad, NULL);
  gst_element_remove_pad (element, pad);
}

static void
stop_destinations (GstRtmpPubSink * self)
{
  GPtrArray *old;

  GST_OBJECT_LOCK (self);
  old = self->destinations;
  self->destinations = g_ptr_array_new ();
  self->started = FALSE;
  g_clear_pointer (&self->config[0], g_bytes_unref);
  g_clear_pointer (&self->config[1], g_bytes_unref);
  GST_OBJECT_UNLOCK (self);

  g_ptr_array_foreach (old, (GFunc) destination_free, NULL);
  g_ptr_array_free (old, TRUE);
}

static GstStateChangeReturn
gst_rtmp_pub_sink_change_state (GstElement * element,
    GstStateChange transition)
{
  GstRtmpPubSink *self = GST_RTMP_PUB_SINK (element);
  GstStateChangeReturn ret;
  gboolean ok;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      GST_OBJECT_LOCK (self);
      ok = location_is_valid (self->location);
      GST_OBJECT_UNLOCK (self);
      if (!ok) {
        GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Invalid property "
                "'location': not an rtmp:// or rtmps:// URL with an app and "
                "a stream name"), (NULL));
        return GST_STATE_CHANGE_FAILURE;
      }
      if (runtime_init () != 0) {
        GST_ELEMENT_ERROR (self, RESOURCE, FAILED, (NULL),
            ("could not start the libre thread"));
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      GST_OBJECT_LOCK (self);
      ok = !self->still_video;
      GST_OBJECT_UNLOCK (self);
      /* encoded once per process, on first use */
      if (!ok && !gst_rtmp_still_video_ensure ()) {
        GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN, (NULL),
            ("could not encode the still picture (x264enc missing?)"));
        return GST_STATE_CHANGE_FAILURE;
      }
      GST_OBJECT_LOCK (self);
      self->still_index = 0;
      self->started = TRUE;
      self->have_base = FALSE;
      self->eos_pads = 0;
      ok = destination_start (self, self->location) != NULL;
      GST_OBJECT_UNLOCK (self);
      if (!ok) {
        GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, (NULL),
            ("could not start publishing"));
        return GST_STATE_CHANGE_FAILURE;
      }
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_destinations (self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      runtime_close ();
      break;
    default:
      break;
  }
  return ret;
}

static GstStructure *
gst_rtmp_pub_sink_get_stats (GstRtmpPubSink * self)
{
  GstStructure *s = gst_structure_new_empty ("application/x-rtmppubsink-stats");
  GValue list = G_VALUE_INIT;
  guint i;

  g_value_init (&list, GST_TYPE_ARRAY);
  GST_OBJECT_LOCK (self);
  gst_structure_set (s, "frames", G_TYPE_UINT64, self->frames,
      "dropped-frames", G_TYPE_UINT64, self->dropped_frames, NULL);
  for (i = 0; i < self->destinations->len; i++) {
    Destination *d = g_ptr_array_index (self->destinations, i);
    gchar *shown = location_redacted (d->location);
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("destination",
            "id", G_TYPE_UINT, d->id, "location", G_TYPE_STRING, shown,
            "state", G_TYPE_STRING, d->state,
            "dropped-ms", G_TYPE_UINT64,
            rtmppub_dropped_ms (d->handle), NULL));
    gst_value_array_append_and_take_value (&list, &v);
    g_free (shown);
  }
  GST_OBJECT_UNLOCK (self);
  gst_structure_take_value (s, "destinations", &list);
  return s;
}

static void
gst_rtmp_pub_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstRtmpPubSink *self = GST_RTMP_PUB_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      if (self->location)
        memset (self->location, 0, strlen (self->location));
      g_free (self->location);
      self->location = g_value_dup_string (value);
      break;
    case PROP_RETRY_BUDGET:
      self->retry_budget = g_value_get_uint (value);
      break;
    case PROP_STILL_VIDEO:
      self->still_video = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_rtmp_pub_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstRtmpPubSink *self = GST_RTMP_PUB_SINK (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, gst_rtmp_pub_sink_get_stats (self));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, self->location);
      break;
    case PROP_RETRY_BUDGET:
      g_value_set_uint (value, self->retry_budget);
      break;
    case PROP_STILL_VIDEO:
      g_value_set_boolean (value, self->still_video);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_rtmp_pub_sink_finalize (GObject * object)
{
  GstRtmpPubSink *self = GST_RTMP_PUB_SINK (object);

  if (self->location)
    memset (self->location, 0, strlen (self->location));
  g_free (self->location);
  g_ptr_array_free (self->destinations, TRUE);
  g_clear_pointer (&self->config[0], g_bytes_unref);
  g_clear_pointer (&self->config[1], g_bytes_unref);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_rtmp_pub_sink_init (GstRtmpPubSink * self)
{
  self->retry_budget = DEFAULT_RETRY_BUDGET;
  self->still_video = DEFAULT_STILL_VIDEO;
  self->destinations = g_ptr_array_new ();
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}

static void
gst_rtmp_pub_sink_class_init (GstRtmpPubSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_rtmp_pub_sink_set_property;
  gobject_class->get_property = gst_rtmp_pub_sink_get_property;
  gobject_class->finalize = gst_rtmp_pub_sink_finalize;
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_rtmp_pub_sink_change_state);
  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_rtmp_pub_sink_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_rtmp_pub_sink_release_pad);

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location", "First destination: "
          "rtmp://host[:port]/app/stream or rtmps://...; the stream key is "
          "never logged", NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_RETRY_BUDGET,
      g_param_spec_uint ("retry-budget", "Retry budget", "Seconds a "
          "destination may stay down (refused, dropped) while it is retried "
          "with backoff before it counts as failed (0 = no retry)", 0, 86400,
          DEFAULT_RETRY_BUDGET, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STILL_VIDEO,
      g_param_spec_boolean ("still-video", "Still video", "With no video "
          "pad: add a video track, a black 640x360 H.264 picture (keyframe "
          "every 2 s) for CDNs that require video; encoded once per process",
          DEFAULT_STILL_VIDEO, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "frames, dropped-frames, "
          "and per destination: id, location (no key), state, dropped-ms",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstRtmpPubSink::add-location:
   * @sink: the sink
   * @location: an rtmp:// or rtmps:// URL
   *
   * Starts publishing to one more destination while running.
   *
   * Returns: the destination's id, 0 if it could not be added
   */
  signals[SIGNAL_ADD_LOCATION] = g_signal_new_class_handler ("add-location",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_rtmp_pub_sink_add_location), NULL, NULL, NULL,
      G_TYPE_UINT, 1, G_TYPE_STRING);

  /**
   * GstRtmpPubSink::remove-location:
   * @sink: the sink
   * @id: a destination's id
   *
   * Stops publishing to a destination (its queued media is sent first).
   *
   * Returns: %TRUE if there was such a destination
   */
  signals[SIGNAL_REMOVE_LOCATION] =
      g_signal_new_class_handler ("remove-location",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_rtmp_pub_sink_remove_location), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 1, G_TYPE_UINT);

  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_set_static_metadata (element_class,
      "RTMP publisher (shared event loop)", "Sink/Network",
      "Publishes AAC and H.264 to RTMP servers from one shared thread, "
      "with reconnection and several destinations", "sip2rtmp authors");
}
