/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

#include "s2r-call-manager.h"

G_BEGIN_DECLS

/**
 * S2rEvents:
 *
 * The Server-Sent Events stream of `GET /api/v1/events`: every call event of
 * the manager, as `id: <sequence>`, `event: call`, `data: <json>`.
 */
typedef struct _S2rEvents S2rEvents;

/* The stream's wire format, which the cluster's stream
 * (controller/cluster/s2r-cluster-events.c) writes too: a comment line
 * every so often keeps proxies from closing idle streams */
#define S2R_EVENTS_KEEPALIVE_SECONDS 15
#define S2R_EVENTS_KEEPALIVE ": keep-alive\n\n"

S2rEvents *s2r_events_new (S2rCallManager * manager);
void s2r_events_free (S2rEvents * events);
void s2r_events_add_client (S2rEvents * events, SoupServerMessage * msg);
void s2r_events_close_all (S2rEvents * events);
/* Answers @msg as an event stream (200, text/event-stream, chunked, not
 * cached) and sends ": subscribed" at once */
void s2r_events_start_stream (SoupServerMessage * msg);
/* @text (whole events or comment lines) to a started stream, now */
void s2r_events_send_text (SoupServerMessage * msg, const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rEvents, s2r_events_free);

G_END_DECLS
