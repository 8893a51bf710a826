/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_RTMP_PUB_SINK_H__
#define __GST_RTMP_PUB_SINK_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_RTMP_PUB_SINK (gst_rtmp_pub_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstRtmpPubSink, gst_rtmp_pub_sink, GST, RTMP_PUB_SINK,
    GstElement);

GST_ELEMENT_REGISTER_DECLARE (rtmppubsink);

G_END_DECLS

#endif
