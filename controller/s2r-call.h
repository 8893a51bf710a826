/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "s2r-bus-forwarder.h"
#include "s2r-call-request.h"
#include "s2r-config.h"
#include "s2r-pipeline.h"

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

/* One RTMP destination of a call, owned by the call */
typedef struct _S2rDestination S2rDestination;

#define S2R_TYPE_CALL (s2r_call_get_type ())
G_DECLARE_FINAL_TYPE (S2rCall, s2r_call, S2R, CALL, GObject)

/**
 * S2rCall:
 *
 * One SIP call published to one or more RTMP destinations: one pipeline,
 * followed from the GMainContext of its bus forwarder (the call
 * manager's). Every method is called from that context; the signals are
 * emitted there too.
 */
S2rCall *s2r_call_new (S2rCallRequest * req, const S2rTemplate * tmpl,
    const S2rConfig * config, S2rBusForwarder * forwarder, GError ** error);
void s2r_call_start (S2rCall * call);
void s2r_call_hangup (S2rCall * call);
gboolean s2r_call_send_dtmf (S2rCall * call, const char *digits,
    const char *method, GError ** error);

const char *s2r_call_get_id (S2rCall * call);
S2rCallRequest *s2r_call_get_request (S2rCall * call);
S2rCallStatus s2r_call_get_status (S2rCall * call);
S2rStreamStatus s2r_call_get_stream_status (S2rCall * call);
gboolean s2r_call_is_active (S2rCall * call);
gint64 s2r_call_get_created (S2rCall * call);
void s2r_call_get_milestones (S2rCall * call, gint64 * created,
    gint64 * trying, gint64 * answered, gint64 * published);

typedef struct
{
  guint64 rtp_packets;
  guint64 rtp_bytes;
  guint64 rtp_lost;
  guint64 rtmp_frames;
  guint64 rtmp_dropped_ms;
} S2rMediaCounters;

void s2r_call_get_media_counters (S2rCall * call, S2rMediaCounters * out);
S2rStreamStatus s2r_destination_get_status (S2rDestination * dest);

guint s2r_call_get_n_destinations (S2rCall * call);
S2rDestination *s2r_call_get_destination (S2rCall * call, guint i);
S2rDestination *s2r_call_add_destination (S2rCall * call,
    S2rRtmpTarget * target, GError ** error);
gboolean s2r_call_remove_destination (S2rCall * call, guint id,
    GError ** error);
guint s2r_destination_get_id (S2rDestination * dest);
const S2rRtmpTarget *s2r_destination_get_target (S2rDestination * dest);
void s2r_destination_to_json (S2rDestination * dest, JsonBuilder * builder);

void s2r_call_to_json (S2rCall * call, JsonBuilder * builder,
    gboolean wcs_style);
void s2r_call_add_stats_members (S2rCall * call, JsonBuilder * builder);
void s2r_call_add_json_members (S2rCall * call, JsonBuilder * builder,
    gboolean wcs_style);

G_END_DECLS
