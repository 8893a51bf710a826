/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* What operators' tools read: Prometheus' /metrics, and /healthz and
 * /readyz for load balancers and orchestrators */

#include "s2r-api-private.h"

#include <string.h>

/* GET /metrics: Prometheus' text format, behind the token like the rest
 * of the API (Prometheus sends a bearer token), or on the monitoring
 * address without one */
void
s2r_api_metrics (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  char *text;

  text = s2r_call_manager_render_metrics (api->manager);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg,
      "text/plain; version=0.0.4; charset=utf-8", SOUP_MEMORY_TAKE, text,
      strlen (text));
}

/* GET /healthz (the process answers) and /readyz (it takes calls now):
 * for load balancers and orchestrators, without a token */
static void
send_health (S2rApi * api, SoupServerMessage * msg, gboolean readiness)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *reason = NULL;
  gboolean ok = TRUE;

  if (readiness)
    ok = s2r_call_manager_is_ready (api->manager, &reason);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, ok ? "ok" : "unavailable");
  if (reason) {
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, reason);
  }
  json_builder_set_member_name (b, "activeCalls");
  json_builder_add_int_value (b, s2r_call_manager_get_n_active (api->manager));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  s2r_api_send_json (msg, ok ? SOUP_STATUS_OK :
      SOUP_STATUS_SERVICE_UNAVAILABLE, root);
}

void
s2r_api_health (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  send_health (api, msg, FALSE);
}

void
s2r_api_ready (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  send_health (api, msg, TRUE);
}
