/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-destination.h"

struct _S2rDestination
{
  guint id;                     /* the API's, from 1 per call */
  S2rRtmpTarget *target;
  guint sink_id;                /* rtmppubsink's, 0 until it publishes there */
  S2rStreamStatus status;
  guint64 dropped_ms;
  char *error;
};

/**
 * s2r_destination_new:
 * @target: (transfer full): where it publishes
 */
S2rDestination *
s2r_destination_new (guint id, S2rRtmpTarget * target)
{
  S2rDestination *dest = g_new0 (S2rDestination, 1);

  dest->id = id;
  dest->target = target;
  return dest;
}

void
s2r_destination_free (S2rDestination * dest)
{
  s2r_rtmp_target_free (dest->target);
  g_free (dest->error);
  g_free (dest);
}

guint
s2r_destination_get_id (S2rDestination * dest)
{
  return dest->id;
}

const S2rRtmpTarget *
s2r_destination_get_target (S2rDestination * dest)
{
  return dest->target;
}

S2rStreamStatus
s2r_destination_get_status (S2rDestination * dest)
{
  return dest->status;
}

guint64
s2r_destination_get_dropped_ms (S2rDestination * dest)
{
  return dest->dropped_ms;
}

const char *
s2r_destination_get_error (S2rDestination * dest)
{
  return dest->error;
}

static void
replace_error (S2rDestination * dest, const char *error)
{
  g_free (dest->error);
  dest->error = g_strdup (error);
}

/**
 * s2r_destination_update:
 * @state: rtmppubsink's: connecting, publishing, reconnecting, failed
 * @err: an errno of the last failure, or 0
 *
 * Returns: whether its status or the media it lost changed
 */
gboolean
s2r_destination_update (S2rDestination * dest, const char *state, gint err,
    guint64 dropped_ms)
{
  S2rStreamStatus status;
  gboolean changed;

  if (g_strcmp0 (state, "publishing") == 0)
    status = S2R_STREAM_PUBLISHING;
  else if (g_strcmp0 (state, "reconnecting") == 0)
    status = S2R_STREAM_RECONNECTING;
  else if (g_strcmp0 (state, "failed") == 0)
    status = S2R_STREAM_FAILED;
  else
    status = dest->status;      /* connecting: still pending */

  if (err != 0)
    replace_error (dest, g_strerror (err));
  changed = dest->status != status || dest->dropped_ms != dropped_ms;
  dest->status = status;
  dest->dropped_ms = dropped_ms;
  return changed;
}

/* @error: why, or NULL to keep the last one known */
void
s2r_destination_fail (S2rDestination * dest, const char *error)
{
  dest->status = S2R_STREAM_FAILED;
  if (error)
    replace_error (dest, error);
}

/* The call ended: what did not fail is unpublished */
void
s2r_destination_end (S2rDestination * dest)
{
  if (dest->status != S2R_STREAM_FAILED)
    dest->status = S2R_STREAM_UNPUBLISHED;
}

/* rtmppubsink takes its first destination as its location property, which
 * it starts with, and the others by its add-location signal once running
 * (docs/daemon.md): here only, so the call sees one kind of destination.
 * Before the sink starts: the first destination may have been replaced
 * since the call was made. */
void
s2r_destinations_prepare (GPtrArray * dests, GstElement * rtmp)
{
  S2rDestination *first = g_ptr_array_index (dests, 0);

  g_object_set (rtmp, "location",
      s2r_rtmp_target_get_location (first->target), NULL);
}

/* The sink has started with the first destination: learn its id from the
 * sink's stats, then add the others */
void
s2r_destinations_start (GPtrArray * dests, GstElement * rtmp)
{
  g_autoptr (GstStructure) stats = NULL;
  const GValue *list;
  S2rDestination *first = g_ptr_array_index (dests, 0);

  g_object_get (rtmp, "stats", &stats, NULL);
  list = stats ? gst_structure_get_value (stats, "destinations") : NULL;
  if (list && gst_value_array_get_size (list) > 0) {
    const GstStructure *s =
        gst_value_get_structure (gst_value_array_get_value (list, 0));

    gst_structure_get_uint (s, "id", &first->sink_id);
  }
  if (first->sink_id == 0)
    s2r_destination_fail (first, "the destination could not be added");
  for (guint i = 1; i < dests->len; i++)
    s2r_destination_start (g_ptr_array_index (dests, i), rtmp);
}

/* rtmppubsink runs: publish there too */
void
s2r_destination_start (S2rDestination * dest, GstElement * rtmp)
{
  g_signal_emit_by_name (rtmp, "add-location",
      s2r_rtmp_target_get_location (dest->target), &dest->sink_id);
  if (dest->sink_id == 0)
    s2r_destination_fail (dest, "the destination could not be added");
}

/* What it queued is sent first */
void
s2r_destination_stop (S2rDestination * dest, GstElement * rtmp)
{
  gboolean removed = FALSE;

  if (dest->sink_id != 0)
    g_signal_emit_by_name (rtmp, "remove-location", dest->sink_id, &removed);
}

S2rDestination *
s2r_destinations_find_by_sink_id (GPtrArray * dests, guint sink_id)
{
  for (guint i = 0; i < dests->len; i++) {
    S2rDestination *d = g_ptr_array_index (dests, i);

    if (sink_id != 0 && d->sink_id == sink_id)
      return d;
  }
  return NULL;
}

/* The call's stream status, from its destinations: publishing if one is,
 * failed when every one has failed, reconnecting while one is retrying */
S2rStreamStatus
s2r_destinations_aggregate_status (GPtrArray * dests)
{
  gboolean reconnecting = FALSE, all_failed = dests->len > 0;

  for (guint i = 0; i < dests->len; i++) {
    S2rDestination *d = g_ptr_array_index (dests, i);

    if (d->status == S2R_STREAM_PUBLISHING)
      return S2R_STREAM_PUBLISHING;
    if (d->status == S2R_STREAM_RECONNECTING)
      reconnecting = TRUE;
    if (d->status != S2R_STREAM_FAILED)
      all_failed = FALSE;
  }
  if (all_failed)
    return S2R_STREAM_FAILED;
  return reconnecting ? S2R_STREAM_RECONNECTING : S2R_STREAM_PENDING;
}
