/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* 20 ms of silence in each codec sipsrc receives, for filling pauses in the
 * peer's RTP. G.711 is one byte per sample; G.722 and Opus are encoded once
 * per process, on first use, by GStreamer's own encoders and payloaders,
 * and the payload is replayed (a repeated silent frame decodes as silence:
 * the decoders' state settles on it). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/app/gstappsink.h>
#include <gst/rtp/rtp.h>
#include "gstsipsilence.h"

GST_DEBUG_CATEGORY_STATIC (gst_sip_silence_debug);
#define GST_CAT_DEFAULT gst_sip_silence_debug

#define G711_SAMPLES 160
#define FRAMES 5                /* the encoder settles on silence */

typedef struct
{
  const gchar *encoding;
  const gchar *description;     /* NULL: one byte per sample */
  guint8 byte;
  guint ts_step;
} Recipe;

static const Recipe recipes[] = {
  {"PCMU", NULL, 0xFF, 160},
  {"PCMA", NULL, 0xD5, 160},
  /* G.722's RTP clock runs at 8 kHz although it samples at 16 kHz */
  {"G722", "audiotestsrc wave=silence num-buffers=5 samplesperbuffer=320 "
        "! audio/x-raw,rate=16000,channels=1 ! avenc_g722 ! rtpg722pay "
        "! appsink name=out sync=false", 0, 160},
  {"OPUS", "audiotestsrc wave=silence num-buffers=5 samplesperbuffer=960 "
        "! audio/x-raw,rate=48000,channels=1 ! opusenc frame-size=20 "
        "! rtpopuspay ! appsink name=out sync=false", 0, 960},
};

static GMutex lock;             /* protects cache */
static GBytes *cache[G_N_ELEMENTS (recipes)];
static gboolean tried[G_N_ELEMENTS (recipes)];

/* The RTP payload of the last packet the pipeline made */
static GBytes *
encode (const gchar * description)
{
  GstElement *pipeline, *sink;
  GstSample *sample;
  GBytes *payload = NULL;
  GError *err = NULL;

  pipeline = gst_parse_launch (description, &err);
  if (!pipeline) {
    GST_WARNING ("cannot make silence: %s", err->message);
    g_clear_error (&err);
    return NULL;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              2 * GST_SECOND))) {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

    if (gst_rtp_buffer_map (gst_sample_get_buffer (sample), GST_MAP_READ,
            &rtp)) {
      g_clear_pointer (&payload, g_bytes_unref);
      payload = g_bytes_new (gst_rtp_buffer_get_payload (&rtp),
          gst_rtp_buffer_get_payload_len (&rtp));
      gst_rtp_buffer_unmap (&rtp);
    }
    gst_sample_unref (sample);
  }

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return payload;
}

GBytes *
gst_sip_silence_payload (const gchar * encoding, guint * ts_step)
{
  GBytes *payload = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (recipes); i++)
    if (!g_ascii_strcasecmp (recipes[i].encoding, encoding))
      break;
  if (i == G_N_ELEMENTS (recipes))
    return NULL;

  g_mutex_lock (&lock);
  if (!tried[i]) {
    static gsize debug_done = 0;

    if (g_once_init_enter (&debug_done)) {
      GST_DEBUG_CATEGORY_INIT (gst_sip_silence_debug, "sipsilence", 0,
          "Silence payloads for pauses in RTP");
      g_once_init_leave (&debug_done, 1);
    }
    tried[i] = TRUE;
    if (recipes[i].description) {
      cache[i] = encode (recipes[i].description);
    } else {
      guint8 bytes[G711_SAMPLES];

      memset (bytes, recipes[i].byte, sizeof (bytes));
      cache[i] = g_bytes_new (bytes, sizeof (bytes));
    }
  }
  if (cache[i])
    payload = g_bytes_ref (cache[i]);
  g_mutex_unlock (&lock);

  *ts_step = recipes[i].ts_step;
  return payload;
}
