/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "s2r-call-request.h"
#include "s2r-config.h"

G_BEGIN_DECLS

/**
 * S2rCallSettings:
 *
 * What a call runs with where the request may override the config: its
 * value if it gave one, else the config's at the time the call was made
 * (a reload changes the next calls, never a running one). Resolved once,
 * by s2r_call_settings_resolve(); the call, its pipeline and its JSON all
 * read these.
 */
typedef struct
{
  guint max_duration;           /* s, counted from the answer; 0: none */
  guint rtp_timeout;            /* s without media; 0: none */
  guint retry_budget;           /* s an RTMP destination may be retried */
  gboolean generate_video;      /* rtmppubsink's still-video */
  const char *srtp;             /* interned: off, optional, mandatory */
} S2rCallSettings;

void s2r_call_settings_resolve (S2rCallSettings * settings,
    const S2rCallRequest * req, const S2rConfig * config);

G_END_DECLS
