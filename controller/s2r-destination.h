/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

#include "s2r-call-request.h"
#include "s2r-call-status.h"

G_BEGIN_DECLS

/**
 * S2rDestination:
 *
 * One RTMP destination of a call (owned by the call): its id in the API,
 * where it publishes, and how that goes, as rtmppubsink reports it.
 */
typedef struct _S2rDestination S2rDestination;

S2rDestination *s2r_destination_new (guint id, S2rRtmpTarget * target);
void s2r_destination_free (S2rDestination * dest);

guint s2r_destination_get_id (S2rDestination * dest);
const S2rRtmpTarget *s2r_destination_get_target (S2rDestination * dest);
S2rStreamStatus s2r_destination_get_status (S2rDestination * dest);
guint64 s2r_destination_get_dropped_ms (S2rDestination * dest);
const char *s2r_destination_get_error (S2rDestination * dest);

gboolean s2r_destination_update (S2rDestination * dest, const char *state,
    gint err, guint64 dropped_ms);
void s2r_destination_fail (S2rDestination * dest, const char *error);
void s2r_destination_end (S2rDestination * dest);

/* On the call's rtmppubsink (docs/daemon.md, "Destinations") */
void s2r_destinations_prepare (GPtrArray * dests, GstElement * rtmp);
void s2r_destinations_start (GPtrArray * dests, GstElement * rtmp);
void s2r_destination_start (S2rDestination * dest, GstElement * rtmp);
void s2r_destination_stop (S2rDestination * dest, GstElement * rtmp);

S2rDestination *s2r_destinations_find_by_sink_id (GPtrArray * dests,
    guint sink_id);
S2rStreamStatus s2r_destinations_aggregate_status (GPtrArray * dests);

G_END_DECLS
