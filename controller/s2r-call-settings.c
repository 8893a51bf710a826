/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-call-settings.h"

/* A request's -1 (or NULL) means "not given": the config decides */
void
s2r_call_settings_resolve (S2rCallSettings * settings,
    const S2rCallRequest * req, const S2rConfig * config)
{
  gint max_duration = s2r_call_request_get_max_duration (req);
  gint rtp_timeout = s2r_call_request_get_rtp_timeout (req);
  gint retry_budget = s2r_call_request_get_rtmp_retry_budget (req);
  gint generate_video = s2r_call_request_get_generate_video (req);
  const char *srtp = s2r_call_request_get_srtp (req);

  settings->max_duration = max_duration >= 0 ? (guint) max_duration :
      s2r_config_get_max_duration (config);
  settings->rtp_timeout = rtp_timeout >= 0 ? (guint) rtp_timeout :
      s2r_config_get_rtp_timeout (config);
  settings->retry_budget = retry_budget >= 0 ? (guint) retry_budget :
      s2r_config_get_retry_budget (config);
  settings->generate_video = generate_video >= 0 ? generate_video == 1 :
      s2r_config_get_still_video (config);
  /* three values at most: interning costs nothing */
  settings->srtp = g_intern_string (srtp ? srtp : s2r_config_get_srtp (config));
}
