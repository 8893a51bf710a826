/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_SIP_RTP_SOURCE_H__
#define __GST_SIP_RTP_SOURCE_H__

#include <gio/gio.h>
#include <gst/gst.h>
#include "libre/sipua.h"

G_BEGIN_DECLS

/* sipsrc's internal source of one m-line's RTP: it has no thread of its
 * own; the shared media loop reads its sockets and pushes on its pad. It
 * also sends RTCP receiver reports (and PLI when downstream asks for a
 * keyframe), G.711 silence for sendrecv audio, and posts
 * `sip-rtp-timeout` and `sip-dtmf` messages on its parent. */
#define GST_TYPE_SIP_RTP_SOURCE (gst_sip_rtp_source_get_type ())
G_DECLARE_FINAL_TYPE (GstSipRtpSource, gst_sip_rtp_source, GST,
    SIP_RTP_SOURCE, GstElement);

GstElement *gst_sip_rtp_source_new (GSocket * rtp_socket,
    GSocket * rtcp_socket, GstCaps * caps,
    const struct sipua_stream_info *info, guint rtp_timeout_s,
    gboolean send_silence, gboolean fill_pauses);
void gst_sip_rtp_source_update (GstSipRtpSource * src,
    const struct sipua_stream_info *info, GstCaps * caps);
void gst_sip_rtp_source_end (GstSipRtpSource * src);
gboolean gst_sip_rtp_source_send_dtmf (GstSipRtpSource * src,
    const gchar * digits);
void gst_sip_rtp_source_add_stats (GstSipRtpSource * src, GstStructure * s,
    const gchar * prefix);

G_END_DECLS

#endif
