/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include "s2r-template.h"

G_BEGIN_DECLS

/* Element message of a branch whose depayloader followed a codec change
 * of the peer: fields "media" and "encoding" (the new one) */
#define S2R_CODEC_MESSAGE "s2r-codec-changed"

GstElement *s2r_branch_new (const S2rTemplate * tmpl, const char *pad_name,
    const char *media, const char *encoding, GError ** error);
char *s2r_caps_get_encoding (GstCaps * caps);

G_END_DECLS
