/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-api-private.h"
#include "s2r-error.h"
#include "s2r-json.h"
#include "s2r-route.h"
#include "s2r-sip-fields.h"

#include <string.h>

/* The only two ways an answer leaves the API: JSON, and the error body in it */

void
s2r_api_send_json (SoupServerMessage * msg, guint status, JsonNode * root)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  gsize len;
  char *data;

  json_generator_set_root (gen, root);
  data = json_generator_to_data (gen, &len);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
      data, len);
}

/* The API's error body, {error, message, field, status}: also the cluster's
 * (controller/cluster/), whose refusals must read as the API's */
void
s2r_api_send_error_body (SoupServerMessage * msg, guint status,
    const char *code, const char *field, const char *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "field");
  if (field)
    json_builder_add_string_value (b, field);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_int_value (b, status);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  s2r_api_send_json (msg, status, root);
}

void
s2r_api_send_error (SoupServerMessage * msg, const GError * error)
{
  guint status = s2r_error_to_http_status (error);

  if (status == 401)
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "WWW-Authenticate", "Bearer");
  s2r_api_send_error_body (msg, status, s2r_error_code_name (error),
      s2r_error_get_field (error), error->message);
}

void
s2r_api_send_call (SoupServerMessage * msg, guint status, S2rCall * call,
    S2rDialect dialect)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  s2r_call_to_json (call, b, dialect);
  root = json_builder_get_root (b);
  s2r_api_send_json (msg, status, root);
}

void
s2r_api_send_calls (SoupServerMessage * msg, GPtrArray * calls,
    S2rDialect dialect)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (guint i = 0; i < calls->len; i++)
    s2r_call_to_json (g_ptr_array_index (calls, i), b, dialect);
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  s2r_api_send_json (msg, SOUP_STATUS_OK, root);
}

void
s2r_api_send_method_not_allowed (SoupServerMessage * msg, const char *allow)
{
  g_autoptr (GError) err = g_error_new (S2R_ERROR, S2R_ERROR_METHOD,
      "method %s not allowed here", soup_server_message_get_method (msg));

  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Allow", allow);
  s2r_api_send_error (msg, err);
}

/* Constant time, so the token cannot be guessed byte by byte */
static gboolean
token_equal (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  guchar diff = la != lb;

  for (gsize i = 0; i < la; i++)
    diff |= (guchar) a[i] ^ (guchar) b[i % (lb ? lb : 1)];
  return diff == 0;
}

static gboolean
check_request (S2rApi * api, SoupServerMessage * msg, GError ** error)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *token = s2r_config_get_token (api->config);

  /* a body over max-body never gets here: S2rConnections refuses it by its
   * headers or as it arrives */
  if (token) {
    const char *auth = soup_message_headers_get_one (headers, "Authorization");

    if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0 ||
        !token_equal (auth + 7, token)) {
      s2r_set_error_field (error, S2R_ERROR_UNAUTHORIZED, "Authorization",
          "a valid 'Authorization: Bearer' token is required");
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
s2r_api_token_ok (S2rApi * api, SoupServerMessage * msg)
{
  return check_request (api, msg, NULL);
}

/* S2rConnections' refusals (413, 408) carry the API's error body */
static void
refuse_cb (SoupServerMessage * msg, const GError * error, gpointer user_data)
{
  s2r_api_send_error (msg, error);
}

JsonNode *
s2r_api_parse_body (S2rApi * api, SoupServerMessage * msg, GError ** error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  return s2r_json_parse_body (data, len, s2r_config_get_max_body (api->config),
      error);
}

S2rCall *
s2r_api_start_call (S2rApi * api, SoupServerMessage * msg, GError ** error)
{
  g_autoptr (JsonNode) root = s2r_api_parse_body (api, msg, error);
  g_autoptr (S2rCallRequest) req = NULL;

  if (root == NULL)
    return NULL;
  req = s2r_call_request_new_from_json (root, error);
  if (req == NULL)
    return NULL;
  return s2r_call_manager_create (api->manager, req, error);
}

/* A call id from a path or a body: one that no call can have is refused
 * as such (a 404 would echo CR/LF or anything else back in its message) */
S2rCall *
s2r_api_lookup_call (S2rApi * api, const char *call_id, GError ** error)
{
  if (!s2r_call_id_is_valid (call_id)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "callId",
        "'callId' must be 1-128 characters of A-Z a-z 0-9 - _ . ~");
    return NULL;
  }
  return s2r_call_manager_lookup (api->manager, call_id, error);
}

/* A string member of the body, for terminate and find */
gboolean
s2r_api_body_string (JsonNode * root, const char *name, const char **value,
    GError ** error)
{
  JsonNode *node = json_object_get_member (json_node_get_object (root), name);

  *value = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, name,
        "field '%s' must be a string", name);
    return FALSE;
  }
  *value = json_node_get_string (node);
  return TRUE;
}

/* Digits and how to send them, checked: "method" names the native API's
 * values; WCS 5's "type" (RFC2833, INFO) maps to them */
gboolean
s2r_api_send_dtmf (S2rCall * call, const char *digits, const char *digits_field,
    const char *method, const char *method_field, GError ** error)
{
  if (!s2r_dtmf_digits_are_valid (digits)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, digits_field,
        "field '%s' must be 1 to %d of 0-9 * # A-D and w (a 0.5 s pause)",
        digits_field, S2R_DTMF_MAX);
    return FALSE;
  }
  if (method && !s2r_dtmf_method_is_valid (method)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, method_field,
        "field '%s' must be %s", method_field,
        g_str_equal (method_field, "type") ? "RFC2833 or INFO" :
        "rfc4733 or info");
    return FALSE;
  }
  return s2r_call_send_dtmf (call, digits, method, error);
}

/* Route flags. PUBLIC: answers without the token (load balancers and
 * orchestrators probe it). MONITORING: served on the monitoring address,
 * without the token, when there is one, and then not on the API's. */
#define PUBLIC (1 << 0)
#define MONITORING (1 << 1)

static const struct
{
  const char *pattern;
  const char *allow;            /* as the Allow header of a 405 lists them */
  guint flags;
  S2rApiHandler handler;
} routes[] = {
  {"/api/v1/calls", "GET, POST", 0, s2r_api_calls},
  {"/api/v1/calls/", "GET, POST", 0, s2r_api_calls},
  {"/api/v1/calls/{callId}", "GET, DELETE", 0, s2r_api_call},
  {"/api/v1/calls/{callId}/dtmf", "POST", 0, s2r_api_call_dtmf},
  {"/api/v1/calls/{callId}/destinations", "GET, POST", 0,
      s2r_api_call_destinations},
  {"/api/v1/calls/{callId}/destinations/{destId}", "GET, DELETE", 0,
      s2r_api_call_destination},
  {"/api/v1/events", "GET", 0, s2r_api_events},
  {"/api/v1/status", "GET", 0, s2r_api_status},
  /* issue 14: incoming calls' routes */
  {"/api/v1/routes", "GET, POST", 0, s2r_api_routes},
  {"/api/v1/routes/{routeId}", "GET, DELETE", 0, s2r_api_route},
  /* Prometheus sends a bearer token (none on the monitoring address) */
  {"/metrics", "GET, HEAD", MONITORING, s2r_api_metrics},
  {"/healthz", "GET, HEAD", PUBLIC | MONITORING, s2r_api_health},
  {"/readyz", "GET, HEAD", PUBLIC | MONITORING, s2r_api_ready},
  {"/RESTCall/call", "POST", 0, s2r_api_wcs4_call},
  {"/rest-api/call/startup", "POST", 0, s2r_api_wcs5_startup},
  {"/rest-api/call/terminate", "POST", 0, s2r_api_wcs5_terminate},
  {"/rest-api/call/find", "POST", 0, s2r_api_wcs5_find},
  {"/rest-api/call/find_all", "POST", 0, s2r_api_wcs5_find_all},
  {"/rest-api/call/send_dtmf", "POST", 0, s2r_api_wcs5_send_dtmf},
};

/* The route of @path among those with all of @flags, G_N_ELEMENTS (routes)
 * if none */
static guint
find_route (const char *path, guint flags, GStrv * params)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (routes); i++)
    if ((routes[i].flags & flags) == flags &&
        s2r_route_match (routes[i].pattern, path, params))
      break;
  return i;
}

/* The method, then the route's handler */
static void
run_route (S2rApi * api, SoupServerMessage * msg, guint i,
    const char *const *params)
{
  if (!s2r_route_allows (routes[i].allow,
          soup_server_message_get_method (msg))) {
    s2r_api_send_method_not_allowed (msg, routes[i].allow);
    return;
  }
  routes[i].handler (api, msg, params);
}

/* Every request to the API's address: its route (the monitoring ones are
 * not found here when they have an address of their own), else the
 * console's files (no token: they hold no data); the token unless the
 * route is public, the method, then the route's handler */
static void
dispatch (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  S2rApi *api = user_data;
  g_autoptr (GError) err = NULL;
  g_auto (GStrv) params = NULL;
  guint i = find_route (path, 0, &params);

  if (i < G_N_ELEMENTS (routes) && (routes[i].flags & MONITORING) &&
      api->monitor_server)
    i = G_N_ELEMENTS (routes);
  if (i == G_N_ELEMENTS (routes) && api->console &&
      s2r_console_serve (api->console, msg, path))
    return;
  if ((i == G_N_ELEMENTS (routes) || !(routes[i].flags & PUBLIC)) &&
      !check_request (api, msg, &err))
    goto error;
  if (i == G_N_ELEMENTS (routes)) {
    /* the path comes percent-decoded: %ff is a byte that is not UTF-8, and
     * the message is read in a JSON body */
    g_autofree char *shown = g_utf8_make_valid (path, -1);

    s2r_set_error_field (&err, S2R_ERROR_NOT_FOUND, NULL,
        "no such resource: %s", shown);
    goto error;
  }
  run_route (api, msg, i, (const char *const *) params);
  return;

error:
  s2r_api_send_error (msg, err);
}

/* Every request to the monitoring address: its monitoring routes, without
 * the token; nothing else */
static void
dispatch_monitor (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  S2rApi *api = user_data;
  g_autoptr (GError) err = NULL;
  g_auto (GStrv) params = NULL;
  guint i = find_route (path, MONITORING, &params);

  if (i == G_N_ELEMENTS (routes)) {
    g_autofree char *shown = g_utf8_make_valid (path, -1);

    s2r_set_error_field (&err, S2R_ERROR_NOT_FOUND, NULL,
        "no such resource here: %s (the monitoring address serves /healthz, "
        "/readyz and /metrics)", shown);
    s2r_api_send_error (msg, err);
    return;
  }
  run_route (api, msg, i, (const char *const *) params);
}

S2rApi *
s2r_api_new (S2rCallManager * manager, S2rEvents * events,
    const S2rConfig * config)
{
  S2rApi *api = g_new0 (S2rApi, 1);

  api->manager = g_object_ref (manager);
  api->events = events;
  api->config = config;
  api->server = soup_server_new ("server-header", "sip2rtmp/" VERSION " ",
      NULL);

  api->connections = s2r_connections_new (api->server,
      s2r_config_get_max_body (config), s2r_config_get_idle_timeout (config),
      s2r_config_get_request_timeout (config), refuse_cb, api);
  soup_server_add_handler (api->server, NULL, dispatch, api, NULL);
  return api;
}

static GSocketAddress *
socket_address (const char *host, guint16 port, const char *field,
    GError ** error)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);

  if (addr == NULL && g_ascii_strcasecmp (host, "localhost") == 0)
    addr = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  if (addr == NULL) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, field,
        "%s: '%s' is not an IP address", field, host);
    return NULL;
  }
  return g_inet_socket_address_new (addr, port);
}

gboolean
s2r_api_listen (S2rApi * api, const char *host, guint16 port, GError ** error)
{
  g_autoptr (GSocketAddress) saddr = socket_address (host, port, "listen",
      error);

  if (saddr == NULL)
    return FALSE;
  api->port = s2r_connections_listen (api->connections, saddr, error);
  return api->port != 0;
}

guint16
s2r_api_get_port (S2rApi * api)
{
  return api->port;
}

/**
 * s2r_api_listen_monitor:
 *
 * Serves /healthz, /readyz and /metrics on an address of their own,
 * without a token (for a load balancer and Prometheus on a private
 * network); the API's address then answers 404 for them. Call before the
 * main loop runs.
 */
gboolean
s2r_api_listen_monitor (S2rApi * api, const char *host, guint16 port,
    GError ** error)
{
  g_autoptr (GSocketAddress) saddr = socket_address (host, port,
      "monitor-listen", error);

  g_return_val_if_fail (api->monitor_server == NULL, FALSE);
  if (saddr == NULL)
    return FALSE;
  api->monitor_server = soup_server_new ("server-header",
      "sip2rtmp/" VERSION " ", NULL);
  api->monitor_connections = s2r_connections_new (api->monitor_server,
      s2r_config_get_max_body (api->config),
      s2r_config_get_idle_timeout (api->config),
      s2r_config_get_request_timeout (api->config), refuse_cb, api);
  soup_server_add_handler (api->monitor_server, NULL, dispatch_monitor, api,
      NULL);
  api->monitor_port = s2r_connections_listen (api->monitor_connections, saddr,
      error);
  return api->monitor_port != 0;
}

guint16
s2r_api_get_monitor_port (S2rApi * api)
{
  return api->monitor_port;
}

/* Takes @console; served at / and /console/ (s2r-console.h) */
void
s2r_api_set_console (S2rApi * api, S2rConsole * console)
{
  s2r_console_free (api->console);
  api->console = console;
}

/* The cluster's hook: its request-read handler runs before the dispatch,
 * and a request it answers (a status set) never reaches the route table */
SoupServer *
s2r_api_get_server (S2rApi * api)
{
  return api->server;
}

void
s2r_api_set_routes (S2rApi * api, S2rRoutes * routes)
{
  api->routes = routes;
}

void
s2r_api_free (S2rApi * api)
{
  if (api == NULL)
    return;
  s2r_connections_free (api->connections);
  soup_server_disconnect (api->server);
  g_object_unref (api->server);
  if (api->monitor_server) {
    s2r_connections_free (api->monitor_connections);
    soup_server_disconnect (api->monitor_server);
    g_object_unref (api->monitor_server);
  }
  s2r_console_free (api->console);
  g_object_unref (api->manager);
  g_free (api);
}
