/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_RTMP_STILL_VIDEO_H__
#define __GST_RTMP_STILL_VIDEO_H__

#include <gst/gst.h>

G_BEGIN_DECLS

gboolean gst_rtmp_still_video_ensure (void);
GstBuffer *gst_rtmp_still_video_codec_data (void);
GstBuffer *gst_rtmp_still_video_frame (guint64 index, guint32 * ts_ms,
    gboolean * keyframe);

G_END_DECLS

#endif
