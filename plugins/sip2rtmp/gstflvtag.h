/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_FLV_TAG_H__
#define __GST_FLV_TAG_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* FLV tag bodies (the codec header, then the payload; the tag's own header
 * is the RTMP client's): AAC, and AVC (H.264). @config: the sequence header
 * (AudioSpecificConfig, AVCDecoderConfigurationRecord) instead of a frame.
 * NULL if the payload cannot be read. */
GBytes *gst_flv_tag_aac (GstBuffer * payload, gboolean config);
GBytes *gst_flv_tag_avc (GstBuffer * payload, gboolean config,
    gboolean keyframe, gint32 cts_ms);

/* An AVC frame's composition time offset in ms (PTS - DTS; 0 without) */
gint32 gst_flv_tag_cts_ms (GstClockTime pts, GstClockTime dts);

G_END_DECLS

#endif
