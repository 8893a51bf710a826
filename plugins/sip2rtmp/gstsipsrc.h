/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_SIP_SRC_H__
#define __GST_SIP_SRC_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SIP_SRC (gst_sip_src_get_type ())
G_DECLARE_FINAL_TYPE (GstSipSrc, gst_sip_src, GST, SIP_SRC, GstBin);

#define GST_TYPE_SIP_TRANSPORT (gst_sip_transport_get_type ())
GType gst_sip_transport_get_type (void);

#define GST_TYPE_SIP_MEDIA_MODE (gst_sip_media_mode_get_type ())
GType gst_sip_media_mode_get_type (void);
#define GST_TYPE_SIP_SRTP_MODE (gst_sip_srtp_mode_get_type ())
GType gst_sip_srtp_mode_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (sipsrc);

G_END_DECLS

#endif
