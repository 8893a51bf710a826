/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The WCS names of a call's states */
typedef enum
{
  S2R_CALL_NEW,
  S2R_CALL_TRYING,
  S2R_CALL_RING,
  S2R_CALL_SESSION_PROGRESS,
  S2R_CALL_ESTABLISHED,
  S2R_CALL_FINISH,
  S2R_CALL_FAILED,
  S2R_CALL_BUSY,
} S2rCallStatus;

typedef enum
{
  S2R_STREAM_PENDING,
  S2R_STREAM_PUBLISHING,
  S2R_STREAM_RECONNECTING,
  S2R_STREAM_FAILED,
  S2R_STREAM_UNPUBLISHED,
} S2rStreamStatus;

/* A call's `record` file: NONE (not asked for, or not started yet) is
 * reported as null */
typedef enum
{
  S2R_RECORD_NONE,
  S2R_RECORD_RECORDING,
  S2R_RECORD_FINISHED,
  S2R_RECORD_FAILED,
} S2rRecordStatus;

const char *s2r_call_status_to_string (S2rCallStatus status);
gboolean s2r_call_status_from_string (const char *str, S2rCallStatus * status);
const char *s2r_stream_status_to_string (S2rStreamStatus status);
S2rCallStatus s2r_call_status_from_sip_state (const char *state,
    gint sip_status);
gboolean s2r_call_status_is_final (S2rCallStatus status);
/* NULL for S2R_RECORD_NONE */
const char *s2r_record_status_to_string (S2rRecordStatus status);

G_END_DECLS
