/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Media the plugin makes once per process and replays (the still video
 * track, 20 ms of silence in a codec) comes from a short pipeline run to
 * its end here, with GStreamer's own encoders and payloaders. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/app/gstappsink.h>
#include "gstencodeonce.h"

GST_DEBUG_CATEGORY_STATIC (gst_encode_once_debug);
#define GST_CAT_DEFAULT gst_encode_once_debug

/* A stuck pipeline (an encoder that never ends) is given up after this */
#define SAMPLE_TIMEOUT (5 * GST_SECOND)

/* Runs `description`, which ends in "appsink name=out", to its end and
 * hands every sample to func. FALSE if the pipeline cannot be made. */
gboolean
gst_encode_once (const gchar * description, GstEncodeSampleFunc func,
    gpointer user_data)
{
  static gsize debug_done = 0;
  GstElement *pipeline, *sink;
  GstSample *sample;
  GError *err = NULL;

  if (g_once_init_enter (&debug_done)) {
    GST_DEBUG_CATEGORY_INIT (gst_encode_once_debug, "encodeonce", 0,
        "Media encoded once per process");
    g_once_init_leave (&debug_done, 1);
  }

  pipeline = gst_parse_launch (description, &err);
  if (!pipeline) {
    GST_WARNING ("cannot run '%s': %s", description, err->message);
    g_clear_error (&err);
    return FALSE;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              SAMPLE_TIMEOUT))) {
    func (sample, user_data);
    gst_sample_unref (sample);
  }

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return TRUE;
}
