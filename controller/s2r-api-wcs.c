/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* Flashphoner WCS's REST API, as far as calls go: WCS 4's POST
 * /RESTCall/call (the article's body unchanged) and WCS 5's POST
 * /rest-api/call/{startup,terminate,find,find_all,send_dtmf}. Bodies map
 * to the same S2rCallRequest as the native API's (s2r-call-request.c);
 * calls are shown in the WCS dialect (s2r-call-json.c). */

#include "s2r-api-private.h"
#include "s2r-error.h"

#include <string.h>

/* POST /RESTCall/call: WCS 4 */
void
s2r_api_wcs4_call (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCall) call = s2r_api_start_call (api, msg, &err);

  if (call == NULL) {
    s2r_api_send_error (msg, err);
    return;
  }
  s2r_api_send_call (msg, SOUP_STATUS_OK, call, S2R_DIALECT_WCS);
}

/* POST /rest-api/call/startup: WCS 5, the same answer as WCS 4's */
void
s2r_api_wcs5_startup (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  s2r_api_wcs4_call (api, msg, params);
}

/* WCS 5's bodies name the call: {"callId": ...}, required */
static S2rCall *
lookup_body_call (S2rApi * api, JsonNode * root, GError ** error)
{
  const char *call_id;

  if (!s2r_api_body_string (root, "callId", &call_id, error))
    return NULL;
  if (call_id == NULL) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "callId",
        "missing field 'callId'");
    return NULL;
  }
  return s2r_api_lookup_call (api, call_id, error);
}

/* POST /rest-api/call/terminate {"callId"} */
void
s2r_api_wcs5_terminate (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = s2r_api_parse_body (api, msg, &err);
  g_autoptr (S2rCall) call = root ? lookup_body_call (api, root, &err) : NULL;

  if (call == NULL) {
    s2r_api_send_error (msg, err);
    return;
  }
  s2r_call_hangup (call);
  s2r_api_send_call (msg, SOUP_STATUS_OK, call, S2R_DIALECT_WCS);
}

/* POST /rest-api/call/send_dtmf {"callId", "dtmf", "type": "RFC2833" |
 * "INFO"}: the type maps to the native API's method */
void
s2r_api_wcs5_send_dtmf (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = s2r_api_parse_body (api, msg, &err);
  g_autoptr (S2rCall) call = NULL;
  const char *digits, *type;
  const char *method = NULL;

  if (root == NULL || !s2r_api_body_string (root, "dtmf", &digits, &err) ||
      !s2r_api_body_string (root, "type", &type, &err))
    goto error;
  call = lookup_body_call (api, root, &err);
  if (call == NULL)
    goto error;
  if (type)
    method = g_ascii_strcasecmp (type, "RFC2833") == 0 ? "rfc4733" :
        g_ascii_strcasecmp (type, "INFO") == 0 ? "info" : type;
  if (!s2r_api_send_dtmf (call, digits, "dtmf", method, "type", &err))
    goto error;
  s2r_api_send_call (msg, SOUP_STATUS_OK, call, S2R_DIALECT_WCS);
  return;

error:
  s2r_api_send_error (msg, err);
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

    root = s2r_api_parse_body (api, msg, error);
    if (root == NULL ||
        !s2r_api_body_string (root, "callId", &call_id, error) ||
        !s2r_api_body_string (root, "callee", &callee, error) ||
        !s2r_api_body_string (root, "rtmpUrl", &rtmp_url, error) ||
        !s2r_api_body_string (root, "status", &status, error))
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
  s2r_api_send_calls (msg, found, S2R_DIALECT_WCS);
}

/* POST /rest-api/call/find {"callId", "callee", "rtmpUrl", "status"}:
 * the calls matching every field given */
void
s2r_api_wcs5_find (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (GError) err = NULL;

  wcs5_find (api, msg, FALSE, &err);
  if (err)
    s2r_api_send_error (msg, err);
}

/* POST /rest-api/call/find_all */
void
s2r_api_wcs5_find_all (S2rApi * api, SoupServerMessage * msg,
    const char *const *params)
{
  g_autoptr (GError) err = NULL;

  wcs5_find (api, msg, TRUE, &err);
  if (err)
    s2r_api_send_error (msg, err);
}
