/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "s2r-bus-forwarder.h"
#include "s2r-call-json.h"
#include "s2r-call-request.h"
#include "s2r-call-settings.h"
#include "s2r-call-status.h"
#include "s2r-destination.h"
#include "s2r-config.h"
#include "s2r-pipeline.h"

G_BEGIN_DECLS

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

guint s2r_call_get_n_destinations (S2rCall * call);
S2rDestination *s2r_call_get_destination (S2rCall * call, guint i);
S2rDestination *s2r_call_add_destination (S2rCall * call,
    S2rRtmpTarget * target, GError ** error);
gboolean s2r_call_remove_destination (S2rCall * call, guint id,
    GError ** error);

void s2r_call_get_view (S2rCall * call, S2rCallView * view);
void s2r_call_get_stats (S2rCall * call, const GstStructure ** sip_stats,
    const GstStructure ** rtmp_stats);

/* s2r-call-json.c */
void s2r_call_to_json (S2rCall * call, JsonBuilder * builder,
    S2rDialect dialect);
void s2r_call_add_stats_members (S2rCall * call, JsonBuilder * builder);
void s2r_call_add_json_members (S2rCall * call, JsonBuilder * builder,
    S2rDialect dialect);

G_END_DECLS
