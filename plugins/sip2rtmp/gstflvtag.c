/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* FLV tag bodies as rtmppubsink hands them to the RTMP publisher (Adobe's
 * FLV 10.1, E.4.2.1 AUDIODATA and E.4.3.1 VIDEODATA): one codec header
 * byte (and the AAC or AVC packet type, AVC's composition time), then the
 * payload as it is. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "gstflvtag.h"

#define FLV_AAC_HEADER 0xAF     /* AAC, 44 kHz, 16 bit, stereo: as FLV asks */
#define FLV_AVC_KEY 0x17        /* keyframe, AVC */
#define FLV_AVC_INTER 0x27      /* inter frame, AVC */
#define FLV_AAC_CONFIG 0
#define FLV_AAC_RAW 1
#define FLV_AVC_CONFIG 0
#define FLV_AVC_NALU 1

static GBytes *
tag_new (const guint8 * header, gsize header_len, GstBuffer * payload)
{
  GstMapInfo map;
  guint8 *tag;

  if (!gst_buffer_map (payload, &map, GST_MAP_READ))
    return NULL;
  tag = g_malloc (header_len + map.size);
  memcpy (tag, header, header_len);
  memcpy (tag + header_len, map.data, map.size);
  gst_buffer_unmap (payload, &map);
  return g_bytes_new_take (tag, header_len + map.size);
}

GBytes *
gst_flv_tag_aac (GstBuffer * payload, gboolean config)
{
  const guint8 header[2] = { FLV_AAC_HEADER,
    config ? FLV_AAC_CONFIG : FLV_AAC_RAW
  };

  return tag_new (header, sizeof (header), payload);
}

GBytes *
gst_flv_tag_avc (GstBuffer * payload, gboolean config, gboolean keyframe,
    gint32 cts_ms)
{
  guint8 header[5];

  /* a sequence header is sent as a keyframe, with no composition time */
  header[0] = config || keyframe ? FLV_AVC_KEY : FLV_AVC_INTER;
  header[1] = config ? FLV_AVC_CONFIG : FLV_AVC_NALU;
  GST_WRITE_UINT24_BE (header + 2, config ? 0 : cts_ms);
  return tag_new (header, sizeof (header), payload);
}

gint32
gst_flv_tag_cts_ms (GstClockTime pts, GstClockTime dts)
{
  if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (dts)
      && pts > dts)
    return (gint32) ((pts - dts) / GST_MSECOND);
  return 0;
}
