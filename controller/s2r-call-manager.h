/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "s2r-call.h"
#include "s2r-config.h"
#include "s2r-stream-registry.h"

G_BEGIN_DECLS

#define S2R_TYPE_CALL_MANAGER (s2r_call_manager_get_type ())
G_DECLARE_FINAL_TYPE (S2rCallManager, s2r_call_manager, S2R, CALL_MANAGER,
    GObject)

/**
 * S2rCallManager:
 *
 * The calls of the process, by id: admission (maximum of calls, ids and
 * streams in use), lookup, hang-up, shutdown. Every state change of a call
 * is re-emitted as "call-event" with a process-wide sequence number and its
 * JSON, once, for the SSE stream and the webhooks alike. The calls, their
 * bus messages and the signals run on the thread-default GMainContext of
 * whoever made the manager (the daemon's main loop).
 */
S2rCallManager *s2r_call_manager_new (const S2rConfig * config,
    GError ** error);

S2rCall *s2r_call_manager_create (S2rCallManager * manager,
    S2rCallRequest * req, GError ** error);
/* @dest: (transfer none) NULL on @error */
typedef void (*S2rDestinationAddedFunc) (S2rCall * call,
    S2rDestination * dest, const GError * error, gpointer user_data);
void s2r_call_manager_add_destination (S2rCallManager * manager,
    S2rCall * call, S2rRtmpTarget * target, S2rDestinationAddedFunc done,
    gpointer user_data);
gboolean s2r_call_manager_remove_destination (S2rCallManager * manager,
    S2rCall * call, guint id, GError ** error);
void s2r_call_manager_set_stream_registry (S2rCallManager * manager,
    const S2rStreamRegistry * registry, gpointer registry_data);
void s2r_call_manager_hold_streams (S2rCallManager * manager,
    S2rCallRequest * req, S2rStreamsHeldFunc done, gpointer user_data);
void s2r_call_manager_release_streams (S2rCallManager * manager,
    S2rCallRequest * req);
S2rCall *s2r_call_manager_lookup (S2rCallManager * manager,
    const char *call_id, GError ** error);
GPtrArray *s2r_call_manager_list (S2rCallManager * manager);
guint s2r_call_manager_get_n_active (S2rCallManager * manager);
gboolean s2r_call_manager_is_full (S2rCallManager * manager);
char *s2r_call_manager_render_metrics (S2rCallManager * manager);

/* More lines for GET /metrics, in the text format, from the parts the
 * manager does not know (the incoming calls' s2r-sip-listen.c, the
 * cluster); in the order added; on the main loop. A part removes its own
 * (by @user_data) before it goes. */
typedef void (*S2rMetricsFunc) (GString * out, gpointer user_data);
void s2r_call_manager_add_metrics_func (S2rCallManager * manager,
    S2rMetricsFunc func, gpointer user_data);
void s2r_call_manager_remove_metrics_func (S2rCallManager * manager,
    gpointer user_data);
gboolean s2r_call_manager_is_ready (S2rCallManager * manager, char **reason);
void s2r_call_manager_add_status_members (S2rCallManager * manager,
    JsonBuilder * builder);
void s2r_call_manager_shutdown (S2rCallManager * manager,
    GCallback done, gpointer user_data);
void s2r_call_manager_config_changed (S2rCallManager * manager);

G_END_DECLS
