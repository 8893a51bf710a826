/* sip2rtmp: drives an rtmppubsink pipeline from stdin, for the integration
 * tests (Python's standard library cannot emit GObject signals).
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: rtmppubsink-driver 'PIPELINE with rtmppubsink name=pub'
 *
 * Commands, one a line on stdin; each answer is one line on stdout:
 *   add URL        emits add-location          -> "added ID"
 *   remove ID      emits remove-location       -> "removed 1" or "removed 0"
 *   stats          reads the stats property    -> "stats STRUCTURE"
 *   quit           EOS, waits for it (5 s), NULL -> "stopped" and exit 0
 * Bus messages are printed as gst-launch-1.0 -m prints them
 * ("Got message #N from element "pub" (element): rtmp-publish, ..."), so the
 * tests parse both the same way. An error ends the program with status 1.
 */

#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "driver-output.h"

typedef struct
{
  GstElement *pipeline;
  GstElement *sink;
  GMainLoop *loop;
  gboolean quitting;
  gint status;
  guint seq;
} Driver;

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  Driver *d = data;

  driver_print_message (msg, ++d->seq);
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      d->status = 1;
      g_main_loop_quit (d->loop);
      break;
    case GST_MESSAGE_EOS:
      if (d->quitting)
        g_main_loop_quit (d->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
eos_timeout (gpointer data)
{
  Driver *d = data;

  driver_say ("EOS not received within 5 s");
  d->status = 1;
  g_main_loop_quit (d->loop);
  return G_SOURCE_REMOVE;
}

static void
command (Driver * d, const gchar * line)
{
  if (g_str_has_prefix (line, "add ")) {
    guint id = 0;

    g_signal_emit_by_name (d->sink, "add-location", line + 4, &id);
    driver_say ("added %u", id);
  } else if (g_str_has_prefix (line, "remove ")) {
    gboolean removed = FALSE;

    g_signal_emit_by_name (d->sink, "remove-location",
        (guint) g_ascii_strtoull (line + 7, NULL, 10), &removed);
    driver_say ("removed %d", removed ? 1 : 0);
  } else if (!strcmp (line, "stats")) {
    GstStructure *stats = NULL;
    gchar *text;

    g_object_get (d->sink, "stats", &stats, NULL);
    text = gst_structure_to_string (stats);
    driver_say ("stats %s", text);
    g_free (text);
    gst_structure_free (stats);
  } else if (!strcmp (line, "quit")) {
    d->quitting = TRUE;
    gst_element_send_event (d->pipeline, gst_event_new_eos ());
    g_timeout_add_seconds (5, eos_timeout, d);
  } else {
    driver_say ("unknown command: %s", line);
  }
}

static gboolean
on_stdin (GIOChannel * ch, GIOCondition cond, gpointer data)
{
  Driver *d = data;
  gchar *line = NULL;
  GIOStatus st = g_io_channel_read_line (ch, &line, NULL, NULL, NULL);

  if (st == G_IO_STATUS_NORMAL && line) {
    g_strchomp (line);
    command (d, line);
    g_free (line);
    return G_SOURCE_CONTINUE;
  }
  g_free (line);
  if (st == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  /* stdin closed: stop as "quit" would */
  if (!d->quitting)
    command (d, "quit");
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  Driver d = { 0 };
  GError *err = NULL;
  GIOChannel *in;
  GstBus *bus;

  gst_init (&argc, &argv);
  if (argc != 2) {
    fprintf (stderr, "usage: %s 'PIPELINE with rtmppubsink name=pub'\n",
        argv[0]);
    return 2;
  }

  d.pipeline = gst_parse_launch (argv[1], &err);
  if (!d.pipeline) {
    driver_say ("ERROR: could not parse the pipeline: %s", err->message);
    g_clear_error (&err);
    return 1;
  }
  d.sink = gst_bin_get_by_name (GST_BIN (d.pipeline), "pub");
  if (!d.sink) {
    driver_say ("ERROR: no element named pub");
    return 1;
  }

  d.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (d.pipeline);
  gst_bus_add_watch (bus, on_bus, &d);
  in = g_io_channel_unix_new (0);
  g_io_add_watch (in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &d);

  if (gst_element_set_state (d.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the error message on the bus says why */
    d.status = 1;
    while (gst_bus_have_pending (bus)) {
      GstMessage *m = gst_bus_pop (bus);
      on_bus (bus, m, &d);
      gst_message_unref (m);
    }
  } else {
    driver_say ("playing");
    g_main_loop_run (d.loop);
  }

  gst_element_set_state (d.pipeline, GST_STATE_NULL);
  driver_say ("stopped");

  g_io_channel_unref (in);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (d.sink);
  gst_object_unref (d.pipeline);
  g_main_loop_unref (d.loop);
  return d.status;
}
