/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_SIP_LISTENER_H__
#define __GST_SIP_LISTENER_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SIP_LISTENER (gst_sip_listener_get_type ())
G_DECLARE_FINAL_TYPE (GstSipListener, gst_sip_listener, GST, SIP_LISTENER,
    GstElement);

GST_ELEMENT_REGISTER_DECLARE (siplistener);

G_END_DECLS

#endif
