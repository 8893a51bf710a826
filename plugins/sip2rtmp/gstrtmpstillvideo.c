/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A video track for audio-only calls, for CDNs that refuse a stream
 * without one. One GOP of a black 640x360 picture (25 fps, a keyframe
 * every 2 s, no B-frames) is encoded once per process on first use and
 * then replayed by every stream that asks: a call costs a few copies of
 * tiny frames per second, no encoder and no thread. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstrtmpstillvideo.h"
#include "gstencodeonce.h"

GST_DEBUG_CATEGORY_STATIC (gst_rtmp_still_video_debug);
#define GST_CAT_DEFAULT gst_rtmp_still_video_debug

#define GOP_FRAMES 50
#define FRAME_MS 40

static GMutex lock;             /* protects the cache while it is made */
static GPtrArray *frames;       /* GstBuffer*, one GOP, first a keyframe */
static GstBuffer *codec_data;
static gboolean tried;

static void
keep_frame (GstSample * sample, gpointer user_data)
{
  if (!codec_data) {
    const GstStructure *s =
        gst_caps_get_structure (gst_sample_get_caps (sample), 0);
    const GValue *v = gst_structure_get_value (s, "codec_data");
    if (v)
      codec_data = gst_buffer_ref (gst_value_get_buffer (v));
  }
  g_ptr_array_add (frames, gst_buffer_ref (gst_sample_get_buffer (sample)));
}

static gboolean
encode_gop (void)
{
  gboolean ok;

  frames = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  ok = gst_encode_once ("videotestsrc pattern=black num-buffers=50 "
      "! video/x-raw,width=640,height=360,framerate=25/1,format=I420 "
      "! x264enc key-int-max=50 bframes=0 speed-preset=ultrafast "
      "tune=zerolatency bitrate=200 "
      "! h264parse ! video/x-h264,stream-format=avc,alignment=au "
      "! appsink name=out sync=false max-buffers=0", keep_frame, NULL);

  ok = ok && codec_data && frames->len == GOP_FRAMES &&
      !GST_BUFFER_FLAG_IS_SET (g_ptr_array_index (frames, 0),
      GST_BUFFER_FLAG_DELTA_UNIT);
  if (!ok) {
    GST_ERROR ("the still picture encoded to %u frames", frames->len);
    g_clear_pointer (&frames, g_ptr_array_unref);
    gst_clear_buffer (&codec_data);
  }
  return ok;
}

gboolean
gst_rtmp_still_video_ensure (void)
{
  gboolean ok;

  g_mutex_lock (&lock);
  if (!tried) {
    GST_DEBUG_CATEGORY_INIT (gst_rtmp_still_video_debug, "stillvideo", 0,
        "The shared still-picture video track");
    tried = TRUE;
    encode_gop ();
  }
  ok = frames != NULL;
  g_mutex_unlock (&lock);
  return ok;
}

GstBuffer *
gst_rtmp_still_video_codec_data (void)
{
  return codec_data;
}

/* The frame shown at ms since the stream began, and its time; loops the
 * GOP. Call after gst_rtmp_still_video_ensure() returned TRUE. */
GstBuffer *
gst_rtmp_still_video_frame (guint64 index, guint32 * ts_ms, gboolean * keyframe)
{
  guint i = (guint) (index % GOP_FRAMES);

  *ts_ms = (guint32) (index * FRAME_MS);
  *keyframe = i == 0;
  return g_ptr_array_index (frames, i);
}
