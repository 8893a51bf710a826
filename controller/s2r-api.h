/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "s2r-call-manager.h"
#include "s2r-config.h"
#include "s2r-console.h"
#include "s2r-events.h"
#include "s2r-routes.h"

G_BEGIN_DECLS

/**
 * S2rApi:
 *
 * The HTTP side: the native API under `/api/v1`, WCS 4's `/RESTCall/call`
 * and WCS 5's `/rest-api/call/...`, on one SoupServer. Handlers only parse,
 * ask the call manager and answer; nothing in them blocks.
 */
typedef struct _S2rApi S2rApi;

S2rApi *s2r_api_new (S2rCallManager * manager, S2rEvents * events,
    const S2rConfig * config);
void s2r_api_free (S2rApi * api);
gboolean s2r_api_listen (S2rApi * api, const char *host, guint16 port,
    GError ** error);
guint16 s2r_api_get_port (S2rApi * api);
gboolean s2r_api_listen_monitor (S2rApi * api, const char *host,
    guint16 port, GError ** error);
guint16 s2r_api_get_monitor_port (S2rApi * api);
void s2r_api_set_console (S2rApi * api, S2rConsole * console);
/* for the cluster (controller/cluster/), which takes some requests before
 * the routes here, and answers them as the API does: the same token check,
 * the one way a JSON answer leaves and the API's error body */
SoupServer *s2r_api_get_server (S2rApi * api);
gboolean s2r_api_token_ok (S2rApi * api, SoupServerMessage * msg);
void s2r_api_send_json (SoupServerMessage * msg, guint status,
    JsonNode * root);
/* {"error": @code, "message": @message, "field": @field or null,
 * "status": @status} */
void s2r_api_send_error_body (SoupServerMessage * msg, guint status,
    const char *code, const char *field, const char *message);
/* issue 14: the routes /api/v1/routes manages (not owned) */
void s2r_api_set_routes (S2rApi * api, S2rRoutes * routes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rApi, s2r_api_free);

G_END_DECLS
