/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* issue 14: /api/v1/routes[/{routeId}], the routes incoming calls take:
 * POST (201), GET, DELETE; the routes themselves are s2r-routes.c's */

#include "s2r-api-private.h"
#include "s2r-error.h"

/* Without routes (a core library used without main.c's), none is found */
static gboolean
have_routes (S2rApi * api, SoupServerMessage * msg)
{
  g_autoptr (GError) err = NULL;

  if (api->routes)
    return TRUE;
  s2r_set_error_field (&err, S2R_ERROR_NOT_FOUND, NULL, "no such resource");
  s2r_api_send_error (msg, err);
  return FALSE;
}

/* GET (the list), POST (a new route, 201) */
void
s2r_api_routes (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (!have_routes (api, msg))
    return;
  if (soup_server_message_get_method (msg) == SOUP_METHOD_GET) {
    root = s2r_routes_list (api->routes);
    s2r_api_send_json (msg, SOUP_STATUS_OK, root);
    return;
  }
  {
    g_autoptr (JsonNode) body = s2r_api_parse_body (api, msg, &err);

    if (body)
      root = s2r_routes_add (api->routes, body, &err);
  }
  if (root == NULL) {
    s2r_api_send_error (msg, err);
    return;
  }
  s2r_api_send_json (msg, SOUP_STATUS_CREATED, root);
}

/* GET, DELETE (204) */
void
s2r_api_route (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  const char *id = params[0];
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (!have_routes (api, msg))
    return;
  if (soup_server_message_get_method (msg) == SOUP_METHOD_GET) {
    root = s2r_routes_get (api->routes, id, &err);
    if (root == NULL)
      s2r_api_send_error (msg, err);
    else
      s2r_api_send_json (msg, SOUP_STATUS_OK, root);
    return;
  }
  if (!s2r_routes_remove (api->routes, id, &err)) {
    s2r_api_send_error (msg, err);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}
