/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_ENCODE_ONCE_H__
#define __GST_ENCODE_ONCE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef void (*GstEncodeSampleFunc) (GstSample * sample, gpointer user_data);

gboolean gst_encode_once (const gchar * description,
    GstEncodeSampleFunc func, gpointer user_data);

G_END_DECLS

#endif
