/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "s2r-api.h"
#include "s2r-call-json.h"
#include "s2r-connections.h"

G_BEGIN_DECLS

/* What the API's files share: s2r-api.c (the server, the token, the route
 * table and the one send_json/send_error; the monitoring address and the
 * console's files), s2r-api-native.c (/api/v1), s2r-api-routes.c
 * (/api/v1/routes), s2r-api-wcs.c (WCS 4 and 5), s2r-api-ops.c (/metrics,
 * /healthz, /readyz). Handlers run on the main context and never block. */

struct _S2rApi
{
  S2rRoutes *routes;            /* issue 14: incoming calls' routes, or NULL */
  SoupServer *server;
  S2rConnections *connections;
  guint16 port;
  /* the monitoring address, when it has one of its own: /healthz, /readyz
   * and /metrics there, without a token, and no longer on the API's */
  SoupServer *monitor_server;
  S2rConnections *monitor_connections;
  guint16 monitor_port;
  S2rConsole *console;          /* NULL: no console */
  S2rCallManager *manager;
  S2rEvents *events;
  const S2rConfig *config;
};

/* One route's handler: @params are the path's {segments}, in order. The
 * route table has checked the token (unless public) and the method. */
typedef void (*S2rApiHandler) (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);

void s2r_api_send_error (SoupServerMessage * msg, const GError * error);
void s2r_api_send_method_not_allowed (SoupServerMessage * msg,
    const char *allow);
void s2r_api_send_call (SoupServerMessage * msg, guint status,
    S2rCall * call, S2rDialect dialect);
void s2r_api_send_calls (SoupServerMessage * msg, GPtrArray * calls,
    S2rDialect dialect);

JsonNode *s2r_api_parse_body (S2rApi * api, SoupServerMessage * msg,
    GError ** error);
gboolean s2r_api_body_string (JsonNode * root, const char *name,
    const char **value, GError ** error);
S2rCall *s2r_api_start_call (S2rApi * api, SoupServerMessage * msg,
    GError ** error);
S2rCall *s2r_api_lookup_call (S2rApi * api, const char *call_id,
    GError ** error);
gboolean s2r_api_send_dtmf (S2rCall * call, const char *digits,
    const char *digits_field, const char *method, const char *method_field,
    GError ** error);

/* s2r-api-native.c */
void s2r_api_calls (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_call (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_call_dtmf (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_call_destinations (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_call_destination (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_status (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_events (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);

/* s2r-api-routes.c (issue 14) */
void s2r_api_routes (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_route (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);

/* s2r-api-wcs.c */
void s2r_api_wcs4_call (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_wcs5_startup (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_wcs5_terminate (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_wcs5_find (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_wcs5_find_all (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_wcs5_send_dtmf (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);

/* s2r-api-ops.c */
void s2r_api_metrics (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_health (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);
void s2r_api_ready (S2rApi * api, SoupServerMessage * msg,
    const char *const *params);

G_END_DECLS
