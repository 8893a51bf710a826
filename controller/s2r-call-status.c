/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-call-status.h"

static const char *const call_status_names[] = {
  "NEW", "TRYING", "RING", "SESSION_PROGRESS", "ESTABLISHED", "FINISH",
  "FAILED", "BUSY"
};

static const char *const record_status_names[] = {
  NULL, "RECORDING", "FINISHED", "FAILED"
};

static const char *const stream_status_names[] = {
  "PENDING", "PUBLISHING", "RECONNECTING", "FAILED", "UNPUBLISHED"
};

const char *
s2r_call_status_to_string (S2rCallStatus status)
{
  g_return_val_if_fail (status <= S2R_CALL_BUSY, "FAILED");
  return call_status_names[status];
}

gboolean
s2r_call_status_from_string (const char *str, S2rCallStatus * status)
{
  for (guint i = 0; i < G_N_ELEMENTS (call_status_names); i++)
    if (g_ascii_strcasecmp (str, call_status_names[i]) == 0) {
      *status = (S2rCallStatus) i;
      return TRUE;
    }
  return FALSE;
}

const char *
s2r_stream_status_to_string (S2rStreamStatus status)
{
  g_return_val_if_fail (status <= S2R_STREAM_UNPUBLISHED, "FAILED");
  return stream_status_names[status];
}

/* sipsrc's sip-call states to WCS names */
S2rCallStatus
s2r_call_status_from_sip_state (const char *state, gint sip_status)
{
  /* "waiting": sipsrc answering (issue 14) waits for the caller */
  if (g_strcmp0 (state, "trying") == 0 || g_strcmp0 (state, "waiting") == 0)
    return S2R_CALL_TRYING;
  if (g_strcmp0 (state, "ringing") == 0)
    return S2R_CALL_RING;
  if (g_strcmp0 (state, "early-media") == 0)
    return S2R_CALL_SESSION_PROGRESS;
  if (g_strcmp0 (state, "established") == 0)
    return S2R_CALL_ESTABLISHED;
  if (g_strcmp0 (state, "terminated") == 0)
    return S2R_CALL_FINISH;
  if (sip_status == 486 || sip_status == 600)
    return S2R_CALL_BUSY;
  return S2R_CALL_FAILED;
}

gboolean
s2r_call_status_is_final (S2rCallStatus status)
{
  return status >= S2R_CALL_FINISH;
}

const char *
s2r_record_status_to_string (S2rRecordStatus status)
{
  g_return_val_if_fail (status <= S2R_RECORD_FAILED, NULL);
  return record_status_names[status];
}
