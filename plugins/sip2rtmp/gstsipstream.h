/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_SIP_STREAM_H__
#define __GST_SIP_STREAM_H__

#include <gst/gst.h>
#include "libre/sipua.h"

G_BEGIN_DECLS

/* The RTP side of one m-line: its sockets, and once answered, the
 * elements that receive it (and send RTCP, and silence if sendrecv)
 * inside the sipsrc bin. Not a GObject: owned by the sipsrc. */
typedef struct _GstSipStream GstSipStream;

GstSipStream *gst_sip_stream_new (GstBin * bin, enum sipua_media media);
void gst_sip_stream_free (GstSipStream * stream);

gboolean gst_sip_stream_bind (GstSipStream * stream,
    const gchar * local_address, guint port_min, guint port_max,
    GError ** error);
guint16 gst_sip_stream_get_rtp_port (GstSipStream * stream);
guint16 gst_sip_stream_get_rtcp_port (GstSipStream * stream);

GstPad *gst_sip_stream_activate (GstSipStream * stream,
    const struct sipua_stream_info *info, const gchar * pad_name,
    guint latency_ms, guint rtp_timeout_s, gboolean send_silence,
    GError ** error);
void gst_sip_stream_start (GstSipStream * stream);
void gst_sip_stream_update (GstSipStream * stream,
    const struct sipua_stream_info *info);
gboolean gst_sip_stream_send_dtmf (GstSipStream * stream,
    const gchar * digits);
gboolean gst_sip_stream_owns (GstSipStream * stream, GstObject * object);
void gst_sip_stream_send_eos (GstSipStream * stream);
void gst_sip_stream_add_stats (GstSipStream * stream, GstStructure * s);

G_END_DECLS

#endif
