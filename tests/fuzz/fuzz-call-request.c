/* sip2rtmp: libFuzzer target, the body of a call request
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What POST /RESTCall/call (WCS 4), /rest-api/call/startup (WCS 5) and
 * /api/v1/calls (native) do with a body (s2r-json.c's s2r_json_parse_body, then
 * s2r-call-request.c), and the body of POST /api/v1/calls/{id}/destinations.
 * The three dialects differ only in the body's shape: the seed corpus holds
 * each. Besides crashes, the target fails when a refusal would not be a 400
 * naming the problem, or a stream key would reach a log.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "fuzz-glib.h"
#include "s2r-call-request.h"
#include "s2r-error.h"
#include "s2r-json.h"

/* What the API answers with an error: 400, a message for the client */
static void
check_refusal (const GError * error)
{
  g_assert_nonnull (error);
  g_assert_cmpuint (s2r_error_to_http_status (error), ==, 400);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

/* A destination is a URL and a stream name; logs show it without the key */
static void
check_target (const S2rRtmpTarget * t)
{
  const char *location = s2r_rtmp_target_get_location (t);
  const char *stream = s2r_rtmp_target_get_stream (t);
  g_autofree char *redacted = s2r_redact_url (location);
  const char *host = strstr (redacted, "://");

  g_assert_true (g_ascii_strncasecmp (location, "rtmp://", 7) == 0
      || g_ascii_strncasecmp (location, "rtmps://", 8) == 0);
  g_assert_true (g_str_has_suffix (location, stream));
  g_assert_nonnull (s2r_rtmp_target_get_url (t));
  /* scheme://host/...: the one slash after the host is the ellipsis' */
  g_assert_nonnull (host);
  g_assert_true (g_str_has_suffix (redacted, "/..."));
  g_assert_true (strchr (host + 3, '/') == redacted + strlen (redacted) - 4);
}

static void
check_request (const S2rCallRequest * req)
{
  const char *uri = s2r_call_request_get_sip_uri (req);
  const char *call_id = s2r_call_request_get_call_id (req);
  const char *record = s2r_call_request_get_record (req);
  guint n = s2r_call_request_get_n_targets (req);

  g_assert_true (g_ascii_strncasecmp (uri, "sip:", 4) == 0
      || g_ascii_strncasecmp (uri, "sips:", 5) == 0);
  g_assert_nonnull (s2r_call_request_get_callee (req));
  g_assert_true (call_id == NULL || s2r_call_id_is_valid (call_id));
  g_assert_true (record == NULL || s2r_record_name_is_valid (record));
  g_assert_true (n >= 1 && n <= S2R_MAX_DESTINATIONS);
  for (guint i = 0; i < n; i++)
    check_target (s2r_call_request_get_target (req, i));
  g_assert_true (s2r_call_request_get_sip_port (req) <= 65535);
  g_assert_true (s2r_call_request_get_max_duration (req) >= -1);
  g_assert_true (s2r_call_request_get_rtp_timeout (req) >= -1);
  g_assert_true (s2r_call_request_get_rtmp_retry_budget (req) >= -1);
  g_assert_true (s2r_call_request_get_generate_video (req) >= -1
      && s2r_call_request_get_generate_video (req) <= 1);
  /* what the call and the pipeline read */
  (void) s2r_call_request_get_from_uri (req);
  (void) s2r_call_request_get_proxy (req);
  (void) s2r_call_request_get_transport (req);
  (void) s2r_call_request_get_sip_login (req);
  (void) s2r_call_request_get_sip_password (req);
  (void) s2r_call_request_get_sip_auth_name (req);
  (void) s2r_call_request_get_sip_domain (req);
  (void) s2r_call_request_get_register (req);
  (void) s2r_call_request_get_visible_name (req);
  (void) s2r_call_request_get_has_audio (req);
  (void) s2r_call_request_get_has_video (req);
  (void) s2r_call_request_get_app_key (req);
  (void) s2r_call_request_get_callback_url (req);
  g_assert_nonnull (s2r_call_request_get_rtmp_location (req));
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (S2rCallRequest) req = NULL;
  g_autoptr (S2rRtmpTarget) target = NULL;
  g_autoptr (GError) error = NULL;

  /* the API's own parsing: invalid JSON, non-objects and nesting beyond
   * its bound are a 400 before the request is read (no body limit here:
   * the fuzzer's inputs are small) */
  root = s2r_json_parse_body ((const char *) data, size, G_MAXSIZE, &error);
  if (root == NULL) {
    check_refusal (error);
    return 0;
  }

  req = s2r_call_request_new_from_json (root, &error);
  if (req == NULL)
    check_refusal (error);
  else
    check_request (req);
  g_clear_error (&error);

  target = s2r_rtmp_target_new_from_json (root, NULL, &error);
  if (target == NULL)
    check_refusal (error);
  else
    check_target (target);
  return 0;
}
