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
#include "codecs.h"

/* which codec has which silence: codecs.c */
#define G711_SAMPLES 160

static GMutex lock;             /* protects cache */
static GBytes *cache[CODEC_COUNT];
static gboolean tried[CODEC_COUNT];

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
  const struct codec *c = codec_find (encoding, strlen (encoding));
  GBytes *payload = NULL;
  guint i;

  if (!c || !c->silence_ts_step)
    return NULL;
  i = codec_index (c);

  g_mutex_lock (&lock);
  if (!tried[i]) {
    tried[i] = TRUE;
    if (c->silence_pipeline) {
      cache[i] = encode (c->silence_pipeline);
    } else {
      guint8 bytes[G711_SAMPLES];

      memset (bytes, c->silence_byte, sizeof (bytes));
      cache[i] = g_bytes_new (bytes, sizeof (bytes));
    }
  }
  if (cache[i])
    payload = g_bytes_ref (cache[i]);
  g_mutex_unlock (&lock);

  *ts_step = c->silence_ts_step;
  return payload;
}
