/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_SIP_SILENCE_H__
#define __GST_SIP_SILENCE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* 20 ms of silence as an RTP payload of the codec, and how far it moves the
 * RTP clock; NULL for a codec we cannot make silence in */
GBytes *gst_sip_silence_payload (const gchar * encoding, guint * ts_step);

G_END_DECLS

#endif
