/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include "s2r-call-request.h"
#include "s2r-call-settings.h"
#include "s2r-config.h"

G_BEGIN_DECLS

/* A call's request and settings as sipsrc's properties
 * (docs/sipsrc-contract.md): the one place the controller maps them */
void s2r_sipsrc_configure (GstElement * sip, const S2rCallRequest * req,
    const S2rCallSettings * settings, const S2rConfig * config);

G_END_DECLS
