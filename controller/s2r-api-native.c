/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* The native API, /api/v1: calls, their destinations and DTMF, the
 * daemon's status and its event stream (docs/daemon.md) */

#include "s2r-api-private.h"
#include "s2r-error.h"

#define CALLS_PATH "/api/v1/calls"

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
  s2r_api_send_json (msg, SOUP_STATUS_ACCEPTED, root);
}

/* POST /api/v1/calls/{id}/dtmf {"digits": "1234#", "method": "rfc4733"} */
void
s2r_api_call_dtmf (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (S2rCall) call = s2r_api_lookup_call (api, params[0], &err);
  const char *digits, *method;

  if (call)
    root = s2r_api_parse_body (api, msg, &err);
  if (root == NULL || !s2r_api_body_string (root, "digits", &digits, &err) ||
      !s2r_api_body_string (root, "method", &method, &err) ||
      !s2r_api_send_dtmf (call, digits, "digits", method, "method", &err)) {
    s2r_api_send_error (msg, err);
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
  s2r_api_send_json (msg, status, root);
}

/* The call with its media statistics: GET /api/v1/calls/{id} only */
static void
send_call_with_stats (SoupServerMessage * msg, S2rCall * call)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  s2r_call_add_json_members (call, b, S2R_DIALECT_NATIVE);
  s2r_call_add_stats_members (call, b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  s2r_api_send_json (msg, SOUP_STATUS_OK, root);
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

/* GET /api/v1/calls/{id}/destinations: the call's destinations */
static void
send_destinations (SoupServerMessage * msg, S2rCall * call)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (guint i = 0; i < s2r_call_get_n_destinations (call); i++)
    s2r_destination_to_json (s2r_call_get_destination (call, i), b);
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  s2r_api_send_json (msg, SOUP_STATUS_OK, root);
}

/* The answer to POST .../destinations, once the call manager (and, in a
 * cluster, Redis) has it */
static void
destination_added_cb (S2rCall * call, S2rDestination * d,
    const GError * error, gpointer user_data)
{
  SoupServerMessage *msg = user_data;
  g_autofree char *location = NULL;

  if (d == NULL) {
    s2r_api_send_error (msg, error);
  } else {
    location = g_strdup_printf (CALLS_PATH "/%s/destinations/%u",
        s2r_call_get_id (call), s2r_destination_get_id (d));
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Location", location);
    send_destination (msg, SOUP_STATUS_CREATED, d);
  }
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

/* GET|POST /api/v1/calls/{id}/destinations */
void
s2r_api_call_destinations (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCall) call = s2r_api_lookup_call (api, params[0], &err);
  g_autoptr (JsonNode) root = NULL;
  S2rRtmpTarget *target;

  if (call == NULL)
    goto error;
  if (soup_server_message_get_method (msg) == SOUP_METHOD_GET) {
    send_destinations (msg, call);
    return;
  }
  root = s2r_api_parse_body (api, msg, &err);
  if (root == NULL)
    goto error;
  target = s2r_rtmp_target_new_from_json (root, NULL, &err);
  if (target == NULL)
    goto error;
  /* a cluster holds the stream key in Redis first: no blocking here */
  soup_server_message_pause (msg);
  s2r_call_manager_add_destination (api->manager, call, target,
      destination_added_cb, g_object_ref (msg));
  return;

error:
  s2r_api_send_error (msg, err);
}

/* GET|DELETE /api/v1/calls/{id}/destinations/{destId} */
void
s2r_api_call_destination (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCall) call = s2r_api_lookup_call (api, params[0], &err);
  S2rDestination *d = call ? find_destination (call, params[1], &err) : NULL;

  if (d == NULL)
    goto error;
  if (soup_server_message_get_method (msg) == SOUP_METHOD_GET) {
    send_destination (msg, SOUP_STATUS_OK, d);
  } else {
    if (!s2r_call_manager_remove_destination (api->manager, call,
            s2r_destination_get_id (d), &err))
      goto error;
    s2r_api_send_call (msg, SOUP_STATUS_OK, call, S2R_DIALECT_NATIVE);
  }
  return;

error:
  s2r_api_send_error (msg, err);
}

/* GET /api/v1/calls (every call), POST /api/v1/calls (a new one) */
void
s2r_api_calls (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCall) call = NULL;
  g_autofree char *location = NULL;

  if (soup_server_message_get_method (msg) == SOUP_METHOD_GET) {
    g_autoptr (GPtrArray) calls = s2r_call_manager_list (api->manager);

    s2r_api_send_calls (msg, calls, S2R_DIALECT_NATIVE);
    return;
  }
  call = s2r_api_start_call (api, msg, &err);
  if (call == NULL) {
    s2r_api_send_error (msg, err);
    return;
  }
  location = g_strdup_printf (CALLS_PATH "/%s", s2r_call_get_id (call));
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Location", location);
  s2r_api_send_call (msg, SOUP_STATUS_CREATED, call, S2R_DIALECT_NATIVE);
}

/* GET /api/v1/calls/{id} (with its media statistics), DELETE (hang up) */
void
s2r_api_call (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCall) call = s2r_api_lookup_call (api, params[0], &err);

  if (call == NULL) {
    s2r_api_send_error (msg, err);
    return;
  }
  if (soup_server_message_get_method (msg) == SOUP_METHOD_DELETE) {
    s2r_call_hangup (call);
    s2r_api_send_call (msg, s2r_call_is_active (call) ? SOUP_STATUS_ACCEPTED :
        SOUP_STATUS_OK, call, S2R_DIALECT_NATIVE);
  } else {
    send_call_with_stats (msg, call);
  }
}

/* GET /api/v1/status: the calls carried and the load admission control
 * decides on */
void
s2r_api_status (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  s2r_call_manager_add_status_members (api->manager, b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  s2r_api_send_json (msg, SOUP_STATUS_OK, root);
}

/* GET /api/v1/events */
void
s2r_api_events (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  s2r_events_add_client (api->events, msg);
}

