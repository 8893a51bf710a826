/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* sipsrc's answer mode (issue 14): its enum and the checks of its
 * properties, apart from gstsipsrc.c */

#ifndef __GST_SIP_SRC_ANSWER_H__
#define __GST_SIP_SRC_ANSWER_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum
{
  GST_SIP_SRC_MODE_CALL = 0,
  GST_SIP_SRC_MODE_ANSWER,
} GstSipSrcMode;

#define GST_TYPE_SIP_SRC_MODE (gst_sip_src_mode_get_type ())
GType gst_sip_src_mode_get_type (void);

gboolean gst_sip_src_answer_plan (const gchar * uri, const gchar * caller,
    const gchar * invite_id, gboolean has_cert, gchar ** user,
    gchar ** listen_address, guint * port, GError ** error);

G_END_DECLS

#endif
