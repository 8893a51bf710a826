/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_SIP_URI_H__
#define __GST_SIP_URI_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* "user@host" or "host" get "sip:" prepended; returns NULL and sets
 * error (saying why) for anything that is not a usable SIP URI */
gchar *gst_sip_uri_complete (const gchar * uri, gchar ** host, guint * port,
    GError ** error);
gboolean gst_sip_uri_user_is_valid (const gchar * user);
gchar *gst_sip_uri_with_transport (const gchar * uri, const gchar * transport);
const gchar *gst_sip_uri_transport (const gchar * uri);

G_END_DECLS

#endif
