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
#include <gst/rtp/rtp.h>
#include "gstsipsilence.h"
#include "gstencodeonce.h"

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

static void
keep_payload (GstSample * sample, gpointer user_data)
{
  GBytes **payload = user_data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  if (gst_rtp_buffer_map (gst_sample_get_buffer (sample), GST_MAP_READ, &rtp)) {
    g_clear_pointer (payload, g_bytes_unref);
    *payload = g_bytes_new (gst_rtp_buffer_get_payload (&rtp),
        gst_rtp_buffer_get_payload_len (&rtp));
    gst_rtp_buffer_unmap (&rtp);
  }
}

/* The RTP payload of the last packet the pipeline made */
static GBytes *
encode (const gchar * description)
{
  GBytes *payload = NULL;

  gst_encode_once (description, keep_payload, &payload);
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
