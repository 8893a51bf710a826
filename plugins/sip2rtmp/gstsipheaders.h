/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_SIP_HEADERS_H__
#define __GST_SIP_HEADERS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Headers an application adds to the INVITE (sipsrc's sip-headers), and
 * the peer's X- headers it reads back: a GstStructure named "headers",
 * one string field per header. */
gchar *gst_sip_headers_format (const GstStructure * headers, GError ** error);
GstStructure *gst_sip_headers_parse (const gchar * text);

G_END_DECLS

#endif
