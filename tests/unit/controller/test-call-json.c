/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a call looks like to clients: its settings resolved from the
 * request and the config, and its JSON in the native and the WCS dialects
 * (from a view of the call: no pipeline needed).
 */
#include <string.h>

#include "s2r-call-json.h"
#include "s2r-call-settings.h"
#include "s2r-json.h"

#define BODY "{\"callId\": \"c1\", \"callee\": \"sip:bob@127.0.0.1\", " \
  "\"rtmpUrl\": \"rtmp://127.0.0.1/live\", \"rtmpStream\": \"key1\", " \
  "\"sipLogin\": \"alice\", \"sipPassword\": \"s3cret\", " \
  "\"hasVideo\": true%s}"

static S2rCallRequest *
request (const char *extra)
{
  g_autofree char *body = g_strdup_printf (BODY, extra);
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root =
      s2r_json_parse_object (body, strlen (body), &err);
  S2rCallRequest *req;

  g_assert_no_error (err);
  req = s2r_call_request_new_from_json (root, &err);
  g_assert_no_error (err);
  return req;
}

static S2rConfig *
config (const char *data)
{
  g_autoptr (GError) err = NULL;
  S2rConfig *c = s2r_config_new_from_data (data, &err);

  g_assert_no_error (err);
  return c;
}

static void
test_settings_take_the_requests_values_over_the_configs (void)
{
  g_autoptr (S2rCallRequest) req = request (", \"maxDuration\": 30, "
      "\"rtpTimeout\": 0, \"rtmpRetryBudget\": 5, \"generateVideo\": false, "
      "\"srtp\": \"mandatory\"");
  g_autoptr (S2rConfig) c = config ("[calls]\nmax-duration=600\n"
      "rtp-timeout=20\n");
  S2rCallSettings s;

  s2r_call_settings_resolve (&s, req, c);
  g_assert_cmpuint (s.max_duration, ==, 30);
  /* 0 is a value (no timeout), not "not given" */
  g_assert_cmpuint (s.rtp_timeout, ==, 0);
  g_assert_cmpuint (s.retry_budget, ==, 5);
  g_assert_false (s.generate_video);
  g_assert_cmpstr (s.srtp, ==, "mandatory");
}

static void
test_settings_not_in_the_request_come_from_the_config (void)
{
  g_autoptr (S2rCallRequest) req = request ("");
  g_autoptr (S2rConfig) c = config ("[calls]\nmax-duration=600\n"
      "rtp-timeout=20\n");
  g_autoptr (S2rConfig) defaults = s2r_config_new ();
  S2rCallSettings s, d;

  s2r_call_settings_resolve (&s, req, c);
  g_assert_cmpuint (s.max_duration, ==, 600);
  g_assert_cmpuint (s.rtp_timeout, ==, 20);
  s2r_call_settings_resolve (&d, req, defaults);
  g_assert_cmpuint (d.retry_budget, ==,
      s2r_config_get_retry_budget (defaults));
  g_assert_true (d.generate_video == s2r_config_get_still_video (defaults));
  g_assert_cmpstr (d.srtp, ==, s2r_config_get_srtp (defaults));
}

typedef struct
{
  S2rCallRequest *req;
  S2rCallSettings settings;
  GPtrArray *destinations;
  S2rCallView view;
} Fixture;

static void
fixture_set_up (Fixture * f, gconstpointer data)
{
  g_autoptr (S2rConfig) c = s2r_config_new ();
  g_autoptr (GError) err = NULL;
  const char *second_body = "{\"url\": \"rtmp://127.0.0.2/app/key2\"}";
  g_autoptr (JsonNode) second = s2r_json_parse_object (second_body,
      strlen (second_body), &err);

  f->req = request ("");
  s2r_call_settings_resolve (&f->settings, f->req, c);
  f->destinations = g_ptr_array_new_with_free_func ((GDestroyNotify)
      s2r_destination_free);
  g_ptr_array_add (f->destinations, s2r_destination_new (1,
          s2r_rtmp_target_copy (s2r_call_request_get_target (f->req, 0))));
  g_ptr_array_add (f->destinations, s2r_destination_new (2,
          s2r_rtmp_target_new_from_json (second, NULL, &err)));
  g_assert_no_error (err);
  s2r_destination_update (g_ptr_array_index (f->destinations, 0),
      "publishing", 0, 40);
  s2r_destination_update (g_ptr_array_index (f->destinations, 1),
      "reconnecting", 111, 250);

  f->view = (S2rCallView) {
  .req = f->req,.settings = &f->settings,.status = S2R_CALL_ESTABLISHED,
        .stream_status = S2R_STREAM_PUBLISHING,.sip_status = 200,
        .audio_codec = "PCMU",.dtmf = "12#",.destinations = f->destinations,
        .created = G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC,};
}

static void
fixture_tear_down (Fixture * f, gconstpointer data)
{
  g_ptr_array_unref (f->destinations);
  s2r_call_request_unref (f->req);
}

static JsonObject *
to_json (const S2rCallView * view, S2rDialect dialect, JsonNode ** keep)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  s2r_call_view_add_members (view, b, dialect);
  json_builder_end_object (b);
  *keep = json_builder_get_root (b);
  return json_node_get_object (*keep);
}

static void
test_the_native_dialect_has_json_types (Fixture * f, gconstpointer data)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o = to_json (&f->view, S2R_DIALECT_NATIVE, &root);

  g_assert_cmpstr (json_object_get_string_member (o, "callId"), ==, "c1");
  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==,
      "ESTABLISHED");
  g_assert_cmpint (json_object_get_int_member (o, "sipStatus"), ==, 200);
  g_assert_true (json_object_get_boolean_member (o, "hasVideo"));
  g_assert_true (json_object_get_boolean_member (o, "hasAudio"));
  g_assert_cmpstr (json_object_get_string_member (o, "dtmf"), ==, "12#");
  g_assert_true (json_object_get_null_member (o, "answered"));
  g_assert_cmpstr (json_object_get_string_member (o, "created"), ==,
      "2023-11-14T22:13:20Z");
  g_assert_true (json_object_get_null_member (o, "recordStatus"));
}

static void
test_the_wcs_dialect_has_booleans_as_strings (Fixture * f,
    gconstpointer data)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o = to_json (&f->view, S2R_DIALECT_WCS, &root);

  g_assert_cmpstr (json_object_get_string_member (o, "hasVideo"), ==, "true");
  g_assert_cmpstr (json_object_get_string_member (o, "hasAudio"), ==, "true");
  g_assert_cmpstr (json_object_get_string_member (o, "generateVideo"), ==,
      f->settings.generate_video ? "true" : "false");
  /* the rest is the same in both */
  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==,
      "ESTABLISHED");
  g_assert_cmpint (json_object_get_int_member (o, "sipStatus"), ==, 200);
}

/* WCS has one stream: the first destination's; the native API lists all */
static void
test_the_first_destination_is_the_calls_rtmp_url_and_all_are_listed
    (Fixture * f, gconstpointer data)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o = to_json (&f->view, S2R_DIALECT_WCS, &root);
  JsonArray *dests = json_object_get_array_member (o, "destinations");
  JsonObject *second = json_array_get_object_element (dests, 1);

  g_assert_cmpstr (json_object_get_string_member (o, "rtmpUrl"), ==,
      "rtmp://127.0.0.1/live");
  /* a stream key is a secret: never shown, the first or any other */
  g_assert_cmpstr (json_object_get_string_member (o, "rtmpStream"), ==,
      "***");
  g_assert_cmpstr (json_object_get_string_member (second, "rtmpStream"), ==,
      "***");
  g_assert_cmpstr (json_object_get_string_member (second, "rtmpUrl"), ==,
      "rtmp://127.0.0.2/app");
  /* the most media any destination lost */
  g_assert_cmpint (json_object_get_int_member (o, "rtmpDroppedMs"), ==, 250);
  g_assert_cmpuint (json_array_get_length (dests), ==, 2);
  g_assert_cmpint (json_object_get_int_member (second, "id"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (second, "status"), ==,
      "RECONNECTING");
  g_assert_cmpstr (json_object_get_string_member (second, "error"), ==,
      g_strerror (111));
}

static void
test_the_sip_password_is_never_shown (Fixture * f, gconstpointer data)
{
  for (S2rDialect d = S2R_DIALECT_NATIVE; d <= S2R_DIALECT_WCS; d++) {
    g_autoptr (JsonNode) root = NULL;
    g_autofree char *text = NULL;

    to_json (&f->view, d, &root);
    text = json_to_string (root, FALSE);
    g_assert_null (strstr (text, "s3cret"));
    g_assert_nonnull (strstr (text, "\"sipLogin\":\"alice\""));
  }
}

/* issue 14: an incoming call says so, with its caller, route and X-
 * headers; a call we placed has none of these members */
static void
test_an_incoming_call_shows_its_caller_route_and_x_headers (Fixture * f,
    gconstpointer data)
{
  g_autoptr (GstStructure) headers = gst_structure_new ("headers",
      "X-Room", G_TYPE_STRING, "42", NULL);
  g_autoptr (JsonNode) placed = NULL;
  JsonObject *o = to_json (&f->view, S2R_DIALECT_NATIVE, &placed);

  g_assert_false (json_object_has_member (o, "direction"));
  g_assert_false (json_object_has_member (o, "xHeaders"));

  f->view.incoming = (S2rIncomingView) {
  .incoming = TRUE,.caller = "sip:carol@127.0.0.1",.called_user = "room1",
        .route = "r1",.source = "127.0.0.1:5070",.x_headers = headers,};
  for (S2rDialect d = S2R_DIALECT_NATIVE; d <= S2R_DIALECT_WCS; d++) {
    g_autoptr (JsonNode) root = NULL;
    JsonObject *x;

    o = to_json (&f->view, d, &root);
    g_assert_cmpstr (json_object_get_string_member (o, "direction"), ==,
        "incoming");
    g_assert_cmpstr (json_object_get_string_member (o, "caller"), ==,
        "sip:carol@127.0.0.1");
    g_assert_cmpstr (json_object_get_string_member (o, "calledUser"), ==,
        "room1");
    g_assert_cmpstr (json_object_get_string_member (o, "route"), ==, "r1");
    g_assert_cmpstr (json_object_get_string_member (o, "source"), ==,
        "127.0.0.1:5070");
    x = json_object_get_object_member (o, "xHeaders");
    g_assert_cmpstr (json_object_get_string_member (x, "X-Room"), ==, "42");
  }
}

/* A header value that holds a stream key of the call, or 8 characters or
 * more of one, is "***"; the header a route made the key of is left out;
 * the others are shown as they came */
static void
test_header_values_that_show_a_stream_key_are_masked (Fixture * f,
    gconstpointer data)
{
  g_autoptr (GstStructure) headers = gst_structure_new ("headers",
      "X-Room", G_TYPE_STRING, "42", "X-Full", G_TYPE_STRING, "pre-key2-post",
      "X-Part", G_TYPE_STRING, "ey1", "X-Stream-Key", G_TYPE_STRING, "k", NULL);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o, *x;

  f->view.incoming = (S2rIncomingView) {
  .incoming = TRUE,.caller = "sip:carol@127.0.0.1",.called_user = "room1",
        .route = "r1",.source = "127.0.0.1:5070",.x_headers = headers,
        .key_header = "x-stream-key",};
  f->view.remote_headers = headers;
  o = to_json (&f->view, S2R_DIALECT_NATIVE, &root);
  for (guint i = 0; i < 2; i++) {
    x = json_object_get_object_member (o, i ? "remoteHeaders" : "xHeaders");
    g_assert_cmpstr (json_object_get_string_member (x, "X-Room"), ==, "42");
    g_assert_cmpstr (json_object_get_string_member (x, "X-Full"), ==, "***");
    /* under 8 characters: a part of "key1" that shows nothing */
    g_assert_cmpstr (json_object_get_string_member (x, "X-Part"), ==, "ey1");
    g_assert_false (json_object_has_member (x, "X-Stream-Key"));
  }
}

static void
test_stats_show_the_audio_jitter_in_ms (void)
{
  g_autoptr (GstStructure) sip = gst_structure_new ("stats",
      "packets-received", G_TYPE_UINT64, G_GUINT64_CONSTANT (50),
      "audio-jitter-ms", G_TYPE_DOUBLE, 1.5, NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  JsonObject *rtp;

  json_builder_begin_object (b);
  s2r_stats_add_members (sip, NULL, b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  rtp = json_object_get_object_member (json_node_get_object (root),
      "rtpStats");
  g_assert_cmpfloat (json_object_get_double_member (rtp, "jitterMs"), ==, 1.5);
  g_assert_cmpint (json_object_get_int_member (rtp, "packetsReceived"), ==,
      50);
  g_assert_true (json_object_get_null_member (json_node_get_object (root),
          "rtmpStats"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/call-settings/take-the-requests-values-over-the-configs",
      test_settings_take_the_requests_values_over_the_configs);
  g_test_add_func ("/call-settings/not-in-the-request-come-from-the-config",
      test_settings_not_in_the_request_come_from_the_config);
  g_test_add ("/call-json/the-native-dialect-has-json-types", Fixture, NULL,
      fixture_set_up, test_the_native_dialect_has_json_types,
      fixture_tear_down);
  g_test_add ("/call-json/the-wcs-dialect-has-booleans-as-strings", Fixture,
      NULL, fixture_set_up, test_the_wcs_dialect_has_booleans_as_strings,
      fixture_tear_down);
  g_test_add ("/call-json/the-first-destination-is-the-calls-rtmp-url",
      Fixture, NULL, fixture_set_up,
      test_the_first_destination_is_the_calls_rtmp_url_and_all_are_listed,
      fixture_tear_down);
  g_test_add ("/call-json/the-sip-password-is-never-shown", Fixture, NULL,
      fixture_set_up, test_the_sip_password_is_never_shown,
      fixture_tear_down);
  g_test_add ("/call-json/an-incoming-call-shows-its-caller-route-and-x-headers",
      Fixture, NULL, fixture_set_up,
      test_an_incoming_call_shows_its_caller_route_and_x_headers,
      fixture_tear_down);
  g_test_add ("/call-json/header-values-that-show-a-stream-key-are-masked",
      Fixture, NULL, fixture_set_up,
      test_header_values_that_show_a_stream_key_are_masked, fixture_tear_down);
  g_test_add_func ("/call-json/stats-show-the-audio-jitter-in-ms",
      test_stats_show_the_audio_jitter_in_ms);
  return g_test_run ();
}
