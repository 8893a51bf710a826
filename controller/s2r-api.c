/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-api.h"
#include "s2r-sip-fields.h"
#include "s2r-connections.h"
#include "s2r-console.h"
#include "s2r-error.h"
#include "s2r-json.h"

#include <string.h>

#define CALLS_PATH "/api/v1/calls"

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

/* The only two ways an answer leaves the API */

static void
send_json (SoupServerMessage * msg, guint status, JsonNode * root)
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

static void
send_error (SoupServerMessage * msg, const GError * error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  const char *field = s2r_error_get_field (error);
  guint status = s2r_error_to_http_status (error);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, s2r_error_code_name (error));
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, error->message);
  json_builder_set_member_name (b, "field");
  if (field)
    json_builder_add_string_value (b, field);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_int_value (b, status);
  json_builder_end_object (b);

  if (status == 401)
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "WWW-Authenticate", "Bearer");
  root = json_builder_get_root (b);
  send_json (msg, status, root);
}

static void
send_call (SoupServerMessage * msg, guint status, S2rCall * call, gboolean wcs)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  s2r_call_to_json (call, b, wcs);
  root = json_builder_get_root (b);
  send_json (msg, status, root);
}

static void
send_calls (SoupServerMessage * msg, GPtrArray * calls, gboolean wcs)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (guint i = 0; i < calls->len; i++)
    s2r_call_to_json (g_ptr_array_index (calls, i), b, wcs);
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

static void
send_method_not_allowed (SoupServerMessage * msg, const char *allow)
{
  g_autoptr (GError) err = g_error_new (S2R_ERROR, S2R_ERROR_METHOD,
      "method %s not allowed here", soup_server_message_get_method (msg));

  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Allow", allow);
  send_error (msg, err);
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

/* S2rConnections' refusals (413, 408) carry the API's error body */
static void
refuse_cb (SoupServerMessage * msg, const GError * error, gpointer user_data)
{
  send_error (msg, error);
}

static JsonNode *
parse_body (S2rApi * api, SoupServerMessage * msg, GError ** error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (len > s2r_config_get_max_body (api->config)) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_TOO_LARGE,
        "the body is larger than %" G_GSIZE_FORMAT " bytes",
        s2r_config_get_max_body (api->config));
    return NULL;
  }
  return s2r_json_parse_object (data, len, error);
}

static S2rCall *
start_call (S2rApi * api, SoupServerMessage * msg, GError ** error)
{
  g_autoptr (JsonNode) root = parse_body (api, msg, error);
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
static S2rCall *
lookup_call (S2rApi * api, const char *call_id, GError ** error)
{
  if (!s2r_call_id_is_valid (call_id)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "callId",
        "'callId' must be 1-128 characters of A-Z a-z 0-9 - _ . ~");
    return NULL;
  }
  return s2r_call_manager_lookup (api->manager, call_id, error);
}

/* A string member of the body, for terminate and find */
static gboolean
body_string (JsonNode * root, const char *name, const char **value,
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
static gboolean
send_dtmf (S2rCall * call, const char *digits, const char *digits_field,
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

static void
send_dtmf_accepted (SoupServerMessage * msg, S2rCall * call,
    const char *digits, const char *method)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "callId");
  json_builder_add_string_value (b, s2r_call_get_id (call));
  json_builder_set_member_name (b, "digits");
  json_builder_add_string_value (b, digits);
  json_builder_set_member_name (b, "method");
  if (method)
    json_builder_add_string_value (b, method);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_ACCEPTED, root);
}

/* POST /api/v1/calls/{id}/dtmf {"digits": "1234#", "method": "rfc4733"} */
static void
dtmf_handler (S2rApi * api, SoupServerMessage * msg, S2rCall * call)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = NULL;
  const char *digits, *method;

  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST) {
    send_method_not_allowed (msg, "POST");
    return;
  }
  root = parse_body (api, msg, &err);
  if (root == NULL || !body_string (root, "digits", &digits, &err) ||
      !body_string (root, "method", &method, &err) ||
      !send_dtmf (call, digits, "digits", method, "method", &err)) {
    send_error (msg, err);
    return;
  }
  send_dtmf_accepted (msg, call, digits, method);
}

static void
send_destination (SoupServerMessage * msg, guint status, S2rDestination * d)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  s2r_destination_to_json (d, b);
  root = json_builder_get_root (b);
  send_json (msg, status, root);
}

/* The call with its media statistics: GET /api/v1/calls/{id} only */
static void
send_call_with_stats (SoupServerMessage * msg, S2rCall * call)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  s2r_call_add_json_members (call, b, FALSE);
  s2r_call_add_stats_members (call, b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

static S2rDestination *
find_destination (S2rCall * call, const char *dest_id, GError ** error)
{
  guint64 id = 0;

  /* not a number: no destination has it, and it is not echoed back */
  if (!g_ascii_string_to_unsigned (dest_id, 10, 1, G_MAXUINT, &id, NULL)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "destId",
        "'destId' must be a number from 1 to %u", G_MAXUINT);
    return NULL;
  }
  for (guint i = 0; i < s2r_call_get_n_destinations (call); i++) {
    S2rDestination *d = s2r_call_get_destination (call, i);

    if (s2r_destination_get_id (d) == id)
      return d;
  }
  s2r_set_error_field (error, S2R_ERROR_NOT_FOUND, "destId",
      "call '%s' has no destination '%s'", s2r_call_get_id (call), dest_id);
  return NULL;
}

/* GET|POST /api/v1/calls/{id}/destinations,
 * GET|DELETE /api/v1/calls/{id}/destinations/{destId} */
static void
destinations_handler (S2rApi * api, SoupServerMessage * msg, S2rCall * call,
    const char *dest_id)
{
  const char *method = soup_server_message_get_method (msg);
  g_autoptr (GError) err = NULL;
  S2rDestination *d;

  if (dest_id == NULL) {
    if (method == SOUP_METHOD_GET) {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; i < s2r_call_get_n_destinations (call); i++)
        s2r_destination_to_json (s2r_call_get_destination (call, i), b);
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      send_json (msg, SOUP_STATUS_OK, root);
    } else if (method == SOUP_METHOD_POST) {
      g_autoptr (JsonNode) root = parse_body (api, msg, &err);
      S2rRtmpTarget *target;
      g_autofree char *location = NULL;

      if (root == NULL)
        goto error;
      target = s2r_rtmp_target_new_from_json (root, NULL, &err);
      if (target == NULL)
        goto error;
      d = s2r_call_manager_add_destination (api->manager, call, target, &err);
      if (d == NULL)
        goto error;
      location = g_strdup_printf (CALLS_PATH "/%s/destinations/%u",
          s2r_call_get_id (call), s2r_destination_get_id (d));
      soup_message_headers_replace (soup_server_message_get_response_headers
          (msg), "Location", location);
      send_destination (msg, SOUP_STATUS_CREATED, d);
    } else {
      send_method_not_allowed (msg, "GET, POST");
    }
    return;
  }

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_DELETE) {
    send_method_not_allowed (msg, "GET, DELETE");
    return;
  }
  d = find_destination (call, dest_id, &err);
  if (d == NULL)
    goto error;
  if (method == SOUP_METHOD_GET) {
    send_destination (msg, SOUP_STATUS_OK, d);
  } else {
    if (!s2r_call_remove_destination (call, s2r_destination_get_id (d), &err))
      goto error;
    send_call (msg, SOUP_STATUS_OK, call, FALSE);
  }
  return;

error:
  send_error (msg, err);
}

/* POST /api/v1/calls, GET /api/v1/calls, GET|DELETE /api/v1/calls/{id},
 * and the call's destinations */
static void
calls_handler (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  S2rApi *api = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCall) call = NULL;
  const char *id = NULL;

  if (!check_request (api, msg, &err))
    goto error;

  if (g_str_has_prefix (path, CALLS_PATH "/"))
    id = path + strlen (CALLS_PATH "/");
  else if (strcmp (path, CALLS_PATH) != 0) {
    s2r_set_error_field (&err, S2R_ERROR_NOT_FOUND, NULL, "no such resource");
    goto error;
  }

  if (id == NULL || *id == '\0') {
    if (method == SOUP_METHOD_GET) {
      g_autoptr (GPtrArray) calls = s2r_call_manager_list (api->manager);

      send_calls (msg, calls, FALSE);
    } else if (method == SOUP_METHOD_POST) {
      g_autofree char *location = NULL;

      call = start_call (api, msg, &err);
      if (call == NULL)
        goto error;
      location = g_strdup_printf (CALLS_PATH "/%s", s2r_call_get_id (call));
      soup_message_headers_replace (soup_server_message_get_response_headers
          (msg), "Location", location);
      send_call (msg, SOUP_STATUS_CREATED, call, FALSE);
    } else {
      send_method_not_allowed (msg, "GET, POST");
    }
    return;
  }

  {
    /* {id}, {id}/destinations, {id}/destinations/{destId} */
    g_auto (GStrv) parts = g_strsplit (id, "/", 4);
    guint n = g_strv_length (parts);

    gboolean dtmf = n == 2 && strcmp (parts[1], "dtmf") == 0;

    if (n > 3 || (n >= 2 && !dtmf && strcmp (parts[1], "destinations") != 0)
        || (n == 3 && *parts[2] == '\0')) {
      s2r_set_error_field (&err, S2R_ERROR_NOT_FOUND, NULL, "no such resource");
      goto error;
    }
    if (n == 1 && method != SOUP_METHOD_GET && method != SOUP_METHOD_DELETE) {
      send_method_not_allowed (msg, "GET, DELETE");
      return;
    }
    call = lookup_call (api, parts[0], &err);
    if (call == NULL)
      goto error;
    if (dtmf) {
      dtmf_handler (api, msg, call);
      return;
    }
    if (n >= 2) {
      destinations_handler (api, msg, call, n == 3 ? parts[2] : NULL);
      return;
    }
  }
  if (method == SOUP_METHOD_DELETE) {
    s2r_call_hangup (call);
    send_call (msg, s2r_call_is_active (call) ? SOUP_STATUS_ACCEPTED :
        SOUP_STATUS_OK, call, FALSE);
  } else {
    send_call_with_stats (msg, call);
  }
  return;

error:
  send_error (msg, err);
}

static void
not_found (S2rApi * api, SoupServerMessage * msg, const char *path)
{
  g_autoptr (GError) err = NULL;

  if (check_request (api, msg, &err))
    s2r_set_error_field (&err, S2R_ERROR_NOT_FOUND, NULL,
        "no such resource: %s", path);
  send_error (msg, err);
}

/* /healthz, /readyz and /metrics: on the monitoring address without a
 * token; on the API's only when there is no monitoring address (then
 * /metrics behind the token), not found there otherwise */
static gboolean
accept_monitoring (S2rApi * api, SoupServer * server, SoupServerMessage * msg,
    const char *path, gboolean needs_token)
{
  const char *method = soup_server_message_get_method (msg);
  g_autoptr (GError) err = NULL;

  if (server != api->monitor_server) {
    if (api->monitor_server) {
      not_found (api, msg, path);
      return FALSE;
    }
    if (needs_token && !check_request (api, msg, &err)) {
      send_error (msg, err);
      return FALSE;
    }
  }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    send_method_not_allowed (msg, "GET, HEAD");
    return FALSE;
  }
  return TRUE;
}

/* A GET-only resource: the token, then the method. Answers when not. */
static gboolean
accept_get (S2rApi * api, SoupServerMessage * msg)
{
  g_autoptr (GError) err = NULL;

  if (!check_request (api, msg, &err)) {
    send_error (msg, err);
    return FALSE;
  }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET) {
    send_method_not_allowed (msg, "GET");
    return FALSE;
  }
  return TRUE;
}

/* GET /api/v1/status: the calls carried and the load admission control
 * decides on */
static void
status_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  S2rApi *api = user_data;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  if (!accept_get (api, msg))
    return;
  json_builder_begin_object (b);
  s2r_call_manager_add_status_members (api->manager, b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  send_json (msg, SOUP_STATUS_OK, root);
}

/* GET /metrics: Prometheus' text format, behind the token like the rest
 * of the API (Prometheus sends a bearer token), or on the monitoring
 * address without one */
static void
metrics_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  S2rApi *api = user_data;
  char *text;

  if (!accept_monitoring (api, server, msg, path, TRUE))
    return;
  text = s2r_call_manager_render_metrics (api->manager);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg,
      "text/plain; version=0.0.4; charset=utf-8", SOUP_MEMORY_TAKE, text,
      strlen (text));
}

/* GET /healthz (the process answers) and /readyz (it takes calls now):
 * for load balancers and orchestrators, without a token */
static void
health_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  S2rApi *api = user_data;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *reason = NULL;
  gboolean ok = TRUE;

  if (!accept_monitoring (api, server, msg, path, FALSE))
    return;
  if (g_str_equal (path, "/readyz"))
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
  send_json (msg, ok ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE, root);
}

/* GET /api/v1/events */
static void
events_handler (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  S2rApi *api = user_data;

  if (accept_get (api, msg))
    s2r_events_add_client (api->events, msg);
}

/* POST /RESTCall/call: WCS 4, the article's body unchanged */
static void
wcs4_call_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  S2rApi *api = user_data;
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCall) call = NULL;

  if (!check_request (api, msg, &err))
    goto error;
  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST) {
    send_method_not_allowed (msg, "POST");
    return;
  }
  call = start_call (api, msg, &err);
  if (call == NULL)
    goto error;
  send_call (msg, SOUP_STATUS_OK, call, TRUE);
  return;

error:
  send_error (msg, err);
}

static gboolean
call_matches (S2rCall * call, const char *call_id, const char *callee,
    const char *rtmp_url, const char *status)
{
  S2rCallRequest *req = s2r_call_get_request (call);

  return (call_id == NULL || g_strcmp0 (call_id, s2r_call_get_id (call)) == 0)
      && (callee == NULL ||
      g_strcmp0 (callee, s2r_call_request_get_callee (req)) == 0)
      && (rtmp_url == NULL ||
      g_strcmp0 (rtmp_url, s2r_call_request_get_rtmp_url (req)) == 0)
      && (status == NULL || g_ascii_strcasecmp (status,
          s2r_call_status_to_string (s2r_call_get_status (call))) == 0);
}

static void
wcs5_find (S2rApi * api, SoupServerMessage * msg, gboolean all, GError ** error)
{
  g_autoptr (GPtrArray) calls = s2r_call_manager_list (api->manager);
  g_autoptr (GPtrArray) found = g_ptr_array_new ();
  g_autoptr (JsonNode) root = NULL;
  const char *call_id = NULL, *callee = NULL, *rtmp_url = NULL, *status = NULL;

  if (!all) {
    S2rCallStatus unused;

    root = parse_body (api, msg, error);
    if (root == NULL ||
        !body_string (root, "callId", &call_id, error) ||
        !body_string (root, "callee", &callee, error) ||
        !body_string (root, "rtmpUrl", &rtmp_url, error) ||
        !body_string (root, "status", &status, error))
      return;
    if (status && !s2r_call_status_from_string (status, &unused)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "status",
          "field 'status' is not a call status");
      return;
    }
  }
  for (guint i = 0; i < calls->len; i++) {
    S2rCall *call = g_ptr_array_index (calls, i);

    if (call_matches (call, call_id, callee, rtmp_url, status))
      g_ptr_array_add (found, call);
  }
  send_calls (msg, found, TRUE);
}

static const char *const wcs5_actions[] = {
  "startup", "terminate", "find", "find_all", "send_dtmf", NULL
};

/* POST /rest-api/call/{startup,terminate,find,find_all}: WCS 5 */
static void
wcs5_call_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  S2rApi *api = user_data;
  const char *action = path + strlen ("/rest-api/call/");
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCall) call = NULL;

  if (!check_request (api, msg, &err))
    goto error;
  if (!g_str_has_prefix (path, "/rest-api/call/") ||
      !g_strv_contains (wcs5_actions, action)) {
    s2r_set_error_field (&err, S2R_ERROR_NOT_FOUND, NULL, "no such method");
    goto error;
  }
  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST) {
    send_method_not_allowed (msg, "POST");
    return;
  }

  if (strcmp (action, "startup") == 0) {
    call = start_call (api, msg, &err);
    if (call == NULL)
      goto error;
    send_call (msg, SOUP_STATUS_OK, call, TRUE);
  } else if (strcmp (action, "terminate") == 0) {
    g_autoptr (JsonNode) root = parse_body (api, msg, &err);
    const char *call_id;

    if (root == NULL || !body_string (root, "callId", &call_id, &err))
      goto error;
    if (call_id == NULL) {
      s2r_set_error_field (&err, S2R_ERROR_INVALID, "callId",
          "missing field 'callId'");
      goto error;
    }
    call = lookup_call (api, call_id, &err);
    if (call == NULL)
      goto error;
    s2r_call_hangup (call);
    send_call (msg, SOUP_STATUS_OK, call, TRUE);
  } else if (strcmp (action, "send_dtmf") == 0) {
    /* WCS 5: {"callId", "dtmf", "type": "RFC2833" | "INFO"} */
    g_autoptr (JsonNode) root = parse_body (api, msg, &err);
    const char *call_id, *digits, *type;
    const char *method = NULL;

    if (root == NULL || !body_string (root, "callId", &call_id, &err) ||
        !body_string (root, "dtmf", &digits, &err) ||
        !body_string (root, "type", &type, &err))
      goto error;
    if (call_id == NULL) {
      s2r_set_error_field (&err, S2R_ERROR_INVALID, "callId",
          "missing field 'callId'");
      goto error;
    }
    if (type)
      method = g_ascii_strcasecmp (type, "RFC2833") == 0 ? "rfc4733" :
          g_ascii_strcasecmp (type, "INFO") == 0 ? "info" : type;
    call = lookup_call (api, call_id, &err);
    if (call == NULL || !send_dtmf (call, digits, "dtmf", method, "type",
            &err))
      goto error;
    send_call (msg, SOUP_STATUS_OK, call, TRUE);
  } else {
    wcs5_find (api, msg, strcmp (action, "find_all") == 0, &err);
    if (err)
      goto error;
  }
  return;

error:
  send_error (msg, err);
}

/* The console's files (no token: they hold no data), else 404 */
static void
default_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  S2rApi *api = user_data;

  if (api->console && s2r_console_serve (api->console, msg, path))
    return;
  not_found (api, msg, path);
}

static void
monitor_default_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  g_autoptr (GError) err = NULL;

  s2r_set_error_field (&err, S2R_ERROR_NOT_FOUND, NULL,
      "no such resource here: %s (the monitoring address serves /healthz, "
      "/readyz and /metrics)", path);
  send_error (msg, err);
}

/* issue 14: /api/v1/routes[/{id}]: POST (201), GET, DELETE; the routes
 * themselves are s2r-routes.c's */
#define ROUTES_PATH "/api/v1/routes"

static void
routes_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  S2rApi *api = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *id = g_str_has_prefix (path, ROUTES_PATH "/") ?
      path + strlen (ROUTES_PATH "/") : NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (!check_request (api, msg, &err))
    goto error;
  if (!api->routes || (!id && strcmp (path, ROUTES_PATH) != 0) ||
      (id && (!*id || strchr (id, '/')))) {
    s2r_set_error_field (&err, S2R_ERROR_NOT_FOUND, NULL, "no such resource");
    goto error;
  }
  if (!id && method == SOUP_METHOD_POST) {
    g_autoptr (JsonNode) body = parse_body (api, msg, &err);

    if (body)
      root = s2r_routes_add (api->routes, body, &err);
    if (!root)
      goto error;
    send_json (msg, SOUP_STATUS_CREATED, root);
  } else if (!id && method == SOUP_METHOD_GET) {
    root = s2r_routes_list (api->routes);
    send_json (msg, SOUP_STATUS_OK, root);
  } else if (id && method == SOUP_METHOD_GET) {
    root = s2r_routes_get (api->routes, id, &err);
    if (!root)
      goto error;
    send_json (msg, SOUP_STATUS_OK, root);
  } else if (id && method == SOUP_METHOD_DELETE) {
    if (!s2r_routes_remove (api->routes, id, &err))
      goto error;
    soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
  } else {
    send_method_not_allowed (msg, id ? "GET, DELETE" : "GET, POST");
  }
  return;

error:
  send_error (msg, err);
}

void
s2r_api_set_routes (S2rApi * api, S2rRoutes * routes)
{
  api->routes = routes;
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
  soup_server_add_handler (api->server, NULL, default_handler, api, NULL);
  soup_server_add_handler (api->server, CALLS_PATH, calls_handler, api, NULL);
  soup_server_add_handler (api->server, ROUTES_PATH, routes_handler, api,
      NULL);                    /* issue 14 */
  soup_server_add_handler (api->server, "/api/v1/events", events_handler, api,
      NULL);
  soup_server_add_handler (api->server, "/api/v1/status", status_handler, api,
      NULL);
  soup_server_add_handler (api->server, "/metrics", metrics_handler, api,
      NULL);
  soup_server_add_handler (api->server, "/healthz", health_handler, api,
      NULL);
  soup_server_add_handler (api->server, "/readyz", health_handler, api,
      NULL);
  soup_server_add_handler (api->server, "/RESTCall/call", wcs4_call_handler,
      api, NULL);
  soup_server_add_handler (api->server, "/rest-api/call", wcs5_call_handler,
      api, NULL);
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
  soup_server_add_handler (api->monitor_server, NULL, monitor_default_handler,
      api, NULL);
  soup_server_add_handler (api->monitor_server, "/metrics", metrics_handler,
      api, NULL);
  soup_server_add_handler (api->monitor_server, "/healthz", health_handler,
      api, NULL);
  soup_server_add_handler (api->monitor_server, "/readyz", health_handler,
      api, NULL);
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

SoupServer *
s2r_api_get_server (S2rApi * api)
{
  return api->server;
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
