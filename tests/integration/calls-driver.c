/* sip2rtmp: runs several pipelines in one process, one per call as
 * sip2rtmpd does, for the integration tests where one call must go on
 * while another one fails beside it (gst-launch-1.0 stops everything on
 * the first error).
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: calls-driver [--stagger-ms N] 'PIPELINE' ['PIPELINE' ...]
 *
 * Pipeline k (from 1) starts (k - 1) * N ms after the first (default 0):
 * a call is up before the next one begins.
 * Bus messages are printed as gst-launch-1.0 -m prints them ("Got message
 * #N from element "src" (element): sip-call, ..."), so name the elements
 * apart (sipsrc name=hostile, sipsrc name=healthy). A pipeline's end is
 * one line: "pipeline N ended: eos" or "pipeline N ended: error"; an error
 * also prints "ERROR: from element NAME: MESSAGE (DEBUG)"; the line ends
 * with "after S s", the time since that pipeline started. Before a
 * pipeline stops, the `stats` of each of its sipsrc is printed as
 * "stats NAME STRUCTURE", and how late its packets left it as "lateness
 * NAME max-ms=X buffers=N": the most a buffer's push came after its
 * timestamp (the packet's arrival) on the pipeline's clock, i.e. how long
 * it waited for the media loop, what a live viewer would see as a stall.
 * The other pipelines go on; the program ends when every pipeline has
 * ended (status 0, or 1 if one failed to start) or when stdin is closed.
 */

#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "driver-output.h"

typedef struct _Driver Driver;

/* How late the buffers of one sipsrc left it; updated from the threads
 * that push them (the media loop), read once the pipeline has stopped */
typedef struct
{
  GMutex lock;                  /* protects the two counters */
  GstClockTimeDiff max_lateness;
  guint buffers;
} Lateness;

typedef struct
{
  Driver *driver;
  guint index;
  GstElement *pipeline;
  gint64 started;               /* g_get_monotonic_time () */
  gboolean ended;
} Call;

struct _Driver
{
  GMainLoop *loop;
  GPtrArray *calls;
  guint running;
  guint seq;
  gint status;
};

static GstPadProbeReturn
on_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Lateness *l = data;
  GstElement *e = GST_ELEMENT (gst_pad_get_parent (pad));
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClock *clock = e ? gst_element_get_clock (e) : NULL;

  if (clock && GST_BUFFER_PTS_IS_VALID (buf)) {
    /* the source's segment starts at 0: a PTS is a running time */
    GstClockTimeDiff late = GST_CLOCK_DIFF (GST_BUFFER_PTS (buf),
        gst_clock_get_time (clock) - gst_element_get_base_time (e));

    g_mutex_lock (&l->lock);
    l->max_lateness = MAX (l->max_lateness, late);
    l->buffers++;
    g_mutex_unlock (&l->lock);
  }
  if (clock)
    gst_object_unref (clock);
  if (e)
    gst_object_unref (e);
  return GST_PAD_PROBE_OK;
}

static void
on_pad_added (GstElement * e, GstPad * pad, gpointer data)
{
  if (GST_PAD_IS_SRC (pad))
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, data, NULL);
}

static void
lateness_free (gpointer data)
{
  Lateness *l = data;

  g_mutex_clear (&l->lock);
  g_free (l);
}

static gboolean
is_sipsrc (GstElement * e)
{
  GstElementFactory *f = gst_element_get_factory (e);

  return f && !g_strcmp0 (GST_OBJECT_NAME (f), "sipsrc");
}

/* Every sipsrc's pads get a probe measuring their lateness */
static void
watch_lateness (GstElement * pipeline)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);

    if (is_sipsrc (e)) {
      Lateness *l = g_new0 (Lateness, 1);

      g_mutex_init (&l->lock);
      g_object_set_data_full (G_OBJECT (e), "lateness", l, lateness_free);
      g_signal_connect (e, "pad-added", G_CALLBACK (on_pad_added), l);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
}

static void
print_stats (Call * call)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (call->pipeline));
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);

    if (is_sipsrc (e)) {
      GstStructure *stats = NULL;
      Lateness *l = g_object_get_data (G_OBJECT (e), "lateness");
      gchar *text;

      g_object_get (e, "stats", &stats, NULL);
      text = stats ? gst_structure_to_string (stats) : g_strdup ("none");
      driver_say ("stats %s %s", GST_OBJECT_NAME (e), text);
      g_free (text);
      if (stats)
        gst_structure_free (stats);
      g_mutex_lock (&l->lock);
      driver_say ("lateness %s max-ms=%.1f buffers=%u", GST_OBJECT_NAME (e),
          (gdouble) l->max_lateness / GST_MSECOND, l->buffers);
      g_mutex_unlock (&l->lock);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
}

/* In the main loop: this call's pipeline stops, the others go on */
static void
end_call (Call * call, const gchar * how)
{
  if (call->ended)
    return;
  call->ended = TRUE;
  print_stats (call);
  gst_element_set_state (call->pipeline, GST_STATE_NULL);
  driver_say ("pipeline %u ended: %s after %.2f s", call->index, how,
      call->started ? (g_get_monotonic_time () - call->started) / 1e6 : 0.0);
  if (--call->driver->running == 0)
    g_main_loop_quit (call->driver->loop);
}

static gboolean
start_call (gpointer data)
{
  Call *call = data;

  if (call->ended)
    return G_SOURCE_REMOVE;     /* stopped before its turn */
  call->started = g_get_monotonic_time ();
  if (gst_element_set_state (call->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    call->driver->status = 1;
    end_call (call, "error");
  }
  return G_SOURCE_REMOVE;
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  Call *call = data;

  driver_print_message (msg, ++call->driver->seq);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    end_call (call, "error");
  else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
    end_call (call, "eos");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stdin (GIOChannel * ch, GIOCondition cond, gpointer data)
{
  Driver *d = data;
  guint i;
  gchar buf[256];
  gsize n = 0;
  GIOStatus st = g_io_channel_read_chars (ch, buf, sizeof (buf), &n, NULL);

  if (st == G_IO_STATUS_NORMAL || st == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  /* stdin closed: stop every call that is still running */
  for (i = 0; i < d->calls->len; i++)
    end_call (g_ptr_array_index (d->calls, i), "stopped");
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  Driver d = { 0 };
  GIOChannel *in;
  guint stagger_ms = 0;
  gint first = 1;
  gint i;

  gst_init (&argc, &argv);
  if (argc > 2 && !strcmp (argv[1], "--stagger-ms")) {
    stagger_ms = (guint) g_ascii_strtoull (argv[2], NULL, 10);
    first = 3;
  }
  if (argc <= first) {
    fprintf (stderr, "usage: %s [--stagger-ms N] 'PIPELINE' ['PIPELINE' ...]\n",
        argv[0]);
    return 2;
  }

  d.loop = g_main_loop_new (NULL, FALSE);
  d.calls = g_ptr_array_new ();
  for (i = first; i < argc; i++) {
    Call *call = g_new0 (Call, 1);
    GError *err = NULL;

    call->driver = &d;
    call->index = i - first + 1;
    call->pipeline = gst_parse_launch (argv[i], &err);
    if (!call->pipeline) {
      driver_say ("ERROR: could not parse pipeline %d: %s", i, err->message);
      return 1;
    }
    watch_lateness (call->pipeline);
    g_ptr_array_add (d.calls, call);
  }

  in = g_io_channel_unix_new (0);
  g_io_channel_set_encoding (in, NULL, NULL);
  g_io_add_watch (in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &d);

  d.running = d.calls->len;
  for (i = 0; i < (gint) d.calls->len; i++) {
    Call *call = g_ptr_array_index (d.calls, i);
    GstBus *bus = gst_element_get_bus (call->pipeline);

    gst_bus_add_watch (bus, on_bus, call);
    gst_object_unref (bus);
    if (i == 0 || !stagger_ms)
      start_call (call);
    else
      g_timeout_add (i * stagger_ms, start_call, call);
  }
  driver_say ("playing");
  if (d.running)
    g_main_loop_run (d.loop);

  for (i = 0; i < (gint) d.calls->len; i++) {
    Call *call = g_ptr_array_index (d.calls, i);
    GstBus *bus = gst_element_get_bus (call->pipeline);

    gst_bus_remove_watch (bus);
    gst_object_unref (bus);
    gst_object_unref (call->pipeline);
    g_free (call);
  }
  g_ptr_array_free (d.calls, TRUE);
  g_io_channel_unref (in);
  g_main_loop_unref (d.loop);
  driver_say ("stopped");
  return d.status;
}
