/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a client's JSON becomes: the SIP URI called, the stream published,
 * and the error (status, field) a bad request gets.
 */
#include "s2r-call-request.h"
#include "s2r-error.h"

/* The body of the WCS 4 article, unchanged */
#define WCS4_ARTICLE_BODY \
  "{\"callId\":\"R2fhkll5Sw3lK\",\"callee\":\"mytwiliodomain.sip.twilio.com\"," \
  "\"rtmpUrl\":\"rtmp://my_wowza_server.com:1935/live\",\"rtmpStream\":\"streamName\"," \
  "\"hasAudio\":\"true\",\"hasVideo\":\"true\",\"connection\":{\"sipLogin\":\"myusername\"," \
  "\"sipPassword\":\"MyPasswordPassword1\",\"sipAuthenticationName\":\"myusername\"," \
  "\"sipDomain\":\"mytwiliodomain.sip.twilio.com\",\"sipPort\":\"5060\"," \
  "\"sipRegisterRequired\":\"false\",\"appKey\":\"callApp\"}}"

static S2rCallRequest *
parse (const char *json, GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  return s2r_call_request_new_from_json (json_parser_get_root (parser), error);
}

static void
assert_rejected (const char *json, const char *field)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCallRequest) req = parse (json, &err);

  g_assert_null (req);
  g_assert_error (err, S2R_ERROR, S2R_ERROR_INVALID);
  g_assert_cmpuint (s2r_error_to_http_status (err), ==, 400);
  g_assert_cmpstr (s2r_error_get_field (err), ==, field);
}

static void
test_wcs4_article_body_calls_the_domain_on_its_port (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCallRequest) req = parse (WCS4_ARTICLE_BODY, &err);

  g_assert_no_error (err);
  g_assert_cmpstr (s2r_call_request_get_call_id (req), ==, "R2fhkll5Sw3lK");
  g_assert_cmpstr (s2r_call_request_get_sip_uri (req), ==,
      "sip:mytwiliodomain.sip.twilio.com:5060");
  g_assert_cmpstr (s2r_call_request_get_from_uri (req), ==,
      "sip:myusername@mytwiliodomain.sip.twilio.com");
  g_assert_cmpstr (s2r_call_request_get_sip_login (req), ==, "myusername");
  g_assert_cmpstr (s2r_call_request_get_sip_password (req), ==,
      "MyPasswordPassword1");
  g_assert_cmpstr (s2r_call_request_get_sip_auth_name (req), ==, "myusername");
  g_assert_cmpuint (s2r_call_request_get_sip_port (req), ==, 5060);
  g_assert_false (s2r_call_request_get_register (req));
  g_assert_true (s2r_call_request_get_has_audio (req));
  g_assert_true (s2r_call_request_get_has_video (req));
  g_assert_cmpstr (s2r_call_request_get_app_key (req), ==, "callApp");
  g_assert_cmpstr (s2r_call_request_get_rtmp_location (req), ==,
      "rtmp://my_wowza_server.com:1935/live/streamName");
}

static void
test_native_body_takes_real_json_types (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCallRequest) req = parse ("{\"callee\":\"1000\","
      "\"sipDomain\":\"pbx.example.com\",\"sipPort\":5070,\"hasAudio\":true,"
      "\"hasVideo\":false,\"sipLogin\":\"bob\",\"sipRegisterRequired\":true,"
      "\"rtmpUrl\":\"rtmps://live.example.com/app/\",\"rtmpStream\":\"key?x=1\"}",
      &err);

  g_assert_no_error (err);
  g_assert_null (s2r_call_request_get_call_id (req));
  g_assert_cmpstr (s2r_call_request_get_sip_uri (req), ==,
      "sip:1000@pbx.example.com:5070");
  g_assert_true (s2r_call_request_get_register (req));
  g_assert_false (s2r_call_request_get_has_video (req));
  /* exactly rtmpUrl + "/" + rtmpStream, the trailing slash not doubled */
  g_assert_cmpstr (s2r_call_request_get_rtmp_location (req), ==,
      "rtmps://live.example.com/app/key?x=1");
}

static void
test_wcs5_flat_fields_with_outbound_proxy (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCallRequest) req = parse ("{\"callId\":\"c1\","
      "\"callee\":\"alice@example.org\",\"sipOutboundProxy\":\"10.0.0.1:5080\","
      "\"rtmpUrl\":\"rtmp://h/live\",\"rtmpStream\":\"s\","
      "\"visibleName\":\"Webinar\",\"hasVideo\":\"false\"}", &err);

  g_assert_no_error (err);
  g_assert_cmpstr (s2r_call_request_get_sip_uri (req), ==,
      "sip:alice@example.org");
  g_assert_cmpstr (s2r_call_request_get_proxy (req), ==, "sip:10.0.0.1:5080");
  g_assert_cmpstr (s2r_call_request_get_visible_name (req), ==, "Webinar");
}

static void
test_callee_forms_map_to_sip_uris (void)
{
  struct
  {
    const char *callee, *domain;
    guint port;
    const char *uri;
  } cases[] = {
    {"sip:bob@host", NULL, 0, "sip:bob@host"},
    {"sips:bob@host:5061", "d.example", 5060, "sips:bob@host:5061"},
    {"bob@host.example", NULL, 0, "sip:bob@host.example"},
    {"pbx.example.com", NULL, 5070, "sip:pbx.example.com:5070"},
    {"pbx.example.com", NULL, 0, "sip:pbx.example.com:5060"},
    {"pbx.example.com:5080", NULL, 5070, "sip:pbx.example.com:5080"},
    {"127.0.0.1", NULL, 5062, "sip:127.0.0.1:5062"},
    {"::1", NULL, 5062, "sip:[::1]:5062"},
    {"[::1]:5064", NULL, 0, "sip:[::1]:5064"},
    {"localhost", NULL, 5060, "sip:localhost:5060"},
    {"+15551234567", "sip.example.com", 5060,
        "sip:+15551234567@sip.example.com:5060"},
    {"1000", "pbx.example.com", 0, "sip:1000@pbx.example.com"},
    {"1000", "pbx.example.com:5090", 5060, "sip:1000@pbx.example.com:5090"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) err = NULL;
    g_autofree char *uri = s2r_map_callee (cases[i].callee, cases[i].domain,
        cases[i].port, &err);

    g_assert_no_error (err);
    g_assert_cmpstr (uri, ==, cases[i].uri);
  }
}

static void
test_bare_user_without_domain_names_sip_domain (void)
{
  assert_rejected ("{\"callee\":\"1000\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\"}", "sipDomain");
}

static void
test_missing_callee_is_400_naming_callee (void)
{
  assert_rejected ("{\"rtmpUrl\":\"rtmp://h/a\",\"rtmpStream\":\"s\"}",
      "callee");
  assert_rejected ("{\"callee\":\"  \",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\"}", "callee");
}

static void
test_malformed_callee_is_400 (void)
{
  assert_rejected ("{\"callee\":\"bob smith\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\"}", "callee");
  assert_rejected ("{\"callee\":\"@host\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\"}", "callee");
  assert_rejected ("{\"callee\":\"h.example:99999\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\"}", "callee");
}

static void
test_a_host_must_be_a_host_name_or_address (void)
{
  static const char *const bad_callees[] = {
    "sip:..:5060", "sip:..", "sips:bob@..", "sip:bob@a..example",
    "sip:bob@-pbx.example", "sip:bob@pbx-.example", "sip:bob@1.2.3.999",
    "sip:@pbx.example", "sip:bob@pbx_1.example;transport=tcp",
    "bob@..", "bob@1.2.3.4.5", "..", "a..b", ".pbx.example",
    "[::1", "bob@[::g]:5060",
  };
  static const char *const good_callees[] = {
    "sip:+15551234567;npdi@pbx.example.com;user=phone?Subject=a@b",
    "sips:bob@[2001:db8::1]:5061;transport=tls", "sip:10.0.0.1",
    "sip:bob@localhost", "bob@a-1.example", "pbx.example.com.local",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad_callees); i++) {
    g_autoptr (GError) err = NULL;
    g_autofree char *uri = s2r_map_callee (bad_callees[i], NULL, 5060, &err);

    g_assert_null (uri);
    g_assert_error (err, S2R_ERROR, S2R_ERROR_INVALID);
    g_assert_cmpstr (s2r_error_get_field (err), ==, "callee");
  }
  for (guint i = 0; i < G_N_ELEMENTS (good_callees); i++) {
    g_autoptr (GError) err = NULL;
    g_autofree char *uri = s2r_map_callee (good_callees[i], NULL, 5060, &err);

    g_assert_no_error (err);
  }
  assert_rejected ("{\"callee\":\"1000\",\"sipDomain\":\"pbx..example\","
      "\"rtmpUrl\":\"rtmp://h/a\",\"rtmpStream\":\"s\"}", "sipDomain");
  assert_rejected ("{\"callee\":\"sip:a@h\",\"sipOutboundProxy\":\"sip:..\","
      "\"rtmpUrl\":\"rtmp://h/a\",\"rtmpStream\":\"s\"}", "sipOutboundProxy");
  assert_rejected ("{\"callee\":\"sip:a@h\",\"sipOutboundProxy\":\"-p:5060\","
      "\"rtmpUrl\":\"rtmp://h/a\",\"rtmpStream\":\"s\"}", "sipOutboundProxy");
}

static void
test_stream_names_and_call_ids_are_one_path_element (void)
{
  static const char *const bad_streams[] = {
    "a/b", "..", ".", "../live2/s", "s\\r\\nX: 1", "a b", "?x=1",
  };
  g_autoptr (GError) err = NULL;
  /* a query string may hold '/' (base64 tokens) */
  g_autoptr (S2rCallRequest) query = parse ("{\"callee\":\"sip:a@h\","
      "\"rtmpUrl\":\"rtmp://h/live\",\"rtmpStream\":\"k..ey?t=a/b+c==\"}",
      &err);

  g_assert_no_error (err);
  g_assert_cmpstr (s2r_call_request_get_rtmp_location (query), ==,
      "rtmp://h/live/k..ey?t=a/b+c==");
  for (guint i = 0; i < G_N_ELEMENTS (bad_streams); i++) {
    g_autofree char *json = g_strdup_printf ("{\"callee\":\"sip:a@h\","
        "\"rtmpUrl\":\"rtmp://h/live\",\"rtmpStream\":\"%s\"}",
        bad_streams[i]);
    g_autofree char *dest = g_strdup_printf ("{\"callee\":\"sip:a@h\","
        "\"destinations\":[{\"rtmpUrl\":\"rtmp://h/live\","
        "\"rtmpStream\":\"%s\"}]}", bad_streams[i]);

    assert_rejected (json, "rtmpStream");
    assert_rejected (dest, "destinations[0].rtmpStream");
  }
  g_assert_false (s2r_call_id_is_valid (".."));
  g_assert_false (s2r_call_id_is_valid ("."));
  g_assert_false (s2r_call_id_is_valid ("a\r\nb"));
  g_assert_false (s2r_call_id_is_valid ("a b"));
  g_assert_true (s2r_call_id_is_valid ("a..b"));
  assert_rejected ("{\"callId\":\"..\",\"callee\":\"sip:a@h\","
      "\"rtmpUrl\":\"rtmp://h/a\",\"rtmpStream\":\"s\"}", "callId");
}

static void
test_control_characters_are_refused (void)
{
  /* they would end up in SIP headers */
  assert_rejected ("{\"callee\":\"sip:a@b\\r\\nX-Evil: 1\","
      "\"rtmpUrl\":\"rtmp://h/a\",\"rtmpStream\":\"s\"}", "callee");
  assert_rejected ("{\"callee\":\"sip:a@b\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\",\"connection\":{\"visibleName\":\"a\\nb\"}}",
      "connection.visibleName");
}

static void
test_rtmp_url_needs_rtmp_scheme (void)
{
  assert_rejected ("{\"callee\":\"sip:a@b\",\"rtmpUrl\":\"http://h/live\","
      "\"rtmpStream\":\"s\"}", "rtmpUrl");
  assert_rejected ("{\"callee\":\"sip:a@b\",\"rtmpUrl\":\"rtmp://\","
      "\"rtmpStream\":\"s\"}", "rtmpUrl");
  assert_rejected ("{\"callee\":\"sip:a@b\",\"rtmpStream\":\"s\"}", "rtmpUrl");
  assert_rejected ("{\"callee\":\"sip:a@b\",\"rtmpUrl\":\"rtmp://h/a\"}",
      "rtmpStream");
}

static void
test_bad_port_is_400_naming_the_nested_field (void)
{
  assert_rejected ("{\"callee\":\"h.example\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\",\"connection\":{\"sipPort\":\"50x\"}}",
      "connection.sipPort");
  assert_rejected ("{\"callee\":\"h.example\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\",\"sipPort\":70000}", "sipPort");
  assert_rejected ("{\"callee\":\"h.example\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\",\"sipPort\":true}", "sipPort");
}

static void
test_booleans_must_be_booleans (void)
{
  assert_rejected ("{\"callee\":\"h.example\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\",\"hasVideo\":\"yes\"}", "hasVideo");
  assert_rejected ("{\"callee\":\"h.example\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\",\"connection\":{\"sipRegisterRequired\":1}}",
      "connection.sipRegisterRequired");
}

static void
test_call_id_and_callback_url_are_checked (void)
{
  assert_rejected ("{\"callId\":\"a/b\",\"callee\":\"h.example\","
      "\"rtmpUrl\":\"rtmp://h/a\",\"rtmpStream\":\"s\"}", "callId");
  assert_rejected ("{\"callee\":\"h.example\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\",\"callbackUrl\":\"ftp://x\"}", "callbackUrl");
  assert_rejected ("{\"callee\":\"h.example\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\",\"sipPassword\":\"p\"}", "sipLogin");
}

static void
test_body_must_be_an_object (void)
{
  assert_rejected ("[1,2]", NULL);
  assert_rejected ("{\"callee\":\"h.example\",\"rtmpUrl\":\"rtmp://h/a\","
      "\"rtmpStream\":\"s\",\"connection\":\"x\"}", "connection");
}

static void
test_redacted_url_hides_credentials_and_stream (void)
{
  g_autofree char *a = s2r_redact_url ("rtmp://user:pw@host:1935/live/key");
  g_autofree char *b = s2r_redact_url ("rtmps://host/app");

  g_assert_cmpstr (a, ==, "rtmp://host:1935/...");
  g_assert_cmpstr (b, ==, "rtmps://host/...");
}

static void
test_destinations_follow_rtmp_url_and_stream (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCallRequest) req = parse ("{\"callee\":\"sip:a@h\","
      "\"rtmpUrl\":\"rtmp://a/live\",\"rtmpStream\":\"one\","
      "\"destinations\":[{\"rtmpUrl\":\"rtmps://b/app/\",\"rtmpStream\":\"k?x=1\"},"
      "\"rtmp://c:1936/live/three\"],\"rtmpUrls\":[\"rtmp://d/x/four\"],"
      "\"maxDuration\":\"3600\",\"rtpTimeout\":0}", &err);

  g_assert_no_error (err);
  g_assert_cmpuint (s2r_call_request_get_n_targets (req), ==, 4);
  g_assert_cmpstr (s2r_call_request_get_rtmp_location (req), ==,
      "rtmp://a/live/one");
  g_assert_cmpstr (s2r_rtmp_target_get_location (s2r_call_request_get_target
          (req, 1)), ==, "rtmps://b/app/k?x=1");
  g_assert_cmpstr (s2r_rtmp_target_get_url (s2r_call_request_get_target (req,
              2)), ==, "rtmp://c:1936/live");
  g_assert_cmpstr (s2r_rtmp_target_get_stream (s2r_call_request_get_target
          (req, 2)), ==, "three");
  g_assert_cmpstr (s2r_rtmp_target_get_location (s2r_call_request_get_target
          (req, 3)), ==, "rtmp://d/x/four");
  g_assert_cmpint (s2r_call_request_get_max_duration (req), ==, 3600);
  g_assert_cmpint (s2r_call_request_get_rtp_timeout (req), ==, 0);
  g_assert_cmpint (s2r_call_request_get_rtmp_retry_budget (req), ==, -1);
}

static void
test_bad_destinations_are_400_naming_the_field (void)
{
  assert_rejected ("{\"callee\":\"sip:a@h\"}", "rtmpUrl");
  assert_rejected ("{\"callee\":\"sip:a@h\",\"rtmpStream\":\"s\"}", "rtmpUrl");
  assert_rejected ("{\"callee\":\"sip:a@h\",\"rtmpUrls\":\"rtmp://a/b/c\"}",
      "rtmpUrls");
  assert_rejected ("{\"callee\":\"sip:a@h\",\"rtmpUrls\":[\"rtmp://a/c\"]}",
      "rtmpUrls[0]");
  assert_rejected ("{\"callee\":\"sip:a@h\",\"destinations\":"
      "[{\"rtmpUrl\":\"rtmp://a/b\"}]}", "destinations[0].rtmpStream");
  assert_rejected ("{\"callee\":\"sip:a@h\",\"destinations\":"
      "[{\"rtmpUrl\":\"http://a/b\",\"rtmpStream\":\"s\"}]}",
      "destinations[0].rtmpUrl");
  assert_rejected ("{\"callee\":\"sip:a@h\",\"rtmpUrl\":\"rtmp://a/b\","
      "\"rtmpStream\":\"s\",\"rtmpUrls\":[\"rtmp://a/b/s\"]}", "rtmpUrls[0]");
  assert_rejected ("{\"callee\":\"sip:a@h\",\"rtmpUrls\":[\"rtmp://a/b/s\"],"
      "\"maxDuration\":-5}", "maxDuration");
}

static void
test_generate_video_is_optional_and_accepted_in_wcs_bodies (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCallRequest) absent = parse ("{\"callee\":\"sip:a@h\","
      "\"rtmpUrls\":[\"rtmp://a/b/c\"]}", &err);
  g_autoptr (S2rCallRequest) native = parse ("{\"callee\":\"sip:a@h\","
      "\"rtmpUrls\":[\"rtmp://a/b/c\"],\"generateVideo\":true}", &err);
  g_autoptr (S2rCallRequest) off = parse ("{\"callee\":\"sip:a@h\","
      "\"rtmpUrls\":[\"rtmp://a/b/c\"],\"generateVideo\":false}", &err);
  /* WCS 4 with the extension, as a string like its own booleans */
  g_autoptr (S2rCallRequest) wcs4 = parse ("{\"callee\":\"h\","
      "\"rtmpUrl\":\"rtmp://a/live\",\"rtmpStream\":\"s\","
      "\"hasVideo\":\"false\",\"generateVideo\":\"true\","
      "\"connection\":{\"sipDomain\":\"h\"}}", &err);

  g_assert_no_error (err);
  g_assert_cmpint (s2r_call_request_get_generate_video (absent), ==, -1);
  g_assert_cmpint (s2r_call_request_get_generate_video (native), ==, 1);
  g_assert_cmpint (s2r_call_request_get_generate_video (off), ==, 0);
  g_assert_cmpint (s2r_call_request_get_generate_video (wcs4), ==, 1);
  assert_rejected ("{\"callee\":\"sip:a@h\",\"rtmpUrls\":[\"rtmp://a/b/c\"],"
      "\"generateVideo\":\"yes\"}", "generateVideo");
}

static void
test_record_is_a_file_name_ending_in_mkv_or_mp4 (void)
{
  static const char *const bad[] = { "a/b.mkv", "../a.mkv", ".a.mkv",
    "/tmp/a.mp4", "a.wav", "a", ".mkv", "a.mkv/"
  };
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCallRequest) absent = parse ("{\"callee\":\"sip:a@h\","
      "\"rtmpUrls\":[\"rtmp://a/b/c\"]}", &err);
  g_autoptr (S2rCallRequest) mkv = parse ("{\"callee\":\"sip:a@h\","
      "\"rtmpUrls\":[\"rtmp://a/b/c\"],\"record\":\"call-1.mkv\"}", &err);
  /* WCS 4 with the extension */
  g_autoptr (S2rCallRequest) wcs4 = parse ("{\"callee\":\"h\","
      "\"rtmpUrl\":\"rtmp://a/live\",\"rtmpStream\":\"s\","
      "\"record\":\"Call.MP4\",\"connection\":{\"sipDomain\":\"h\"}}", &err);

  g_assert_no_error (err);
  g_assert_null (s2r_call_request_get_record (absent));
  g_assert_cmpstr (s2r_call_request_get_record (mkv), ==, "call-1.mkv");
  g_assert_cmpstr (s2r_call_request_get_record (wcs4), ==, "Call.MP4");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree char *json = g_strdup_printf ("{\"callee\":\"sip:a@h\","
        "\"rtmpUrls\":[\"rtmp://a/b/c\"],\"record\":\"%s\"}", bad[i]);

    assert_rejected (json, "record");
  }
}

static void
test_srtp_is_optional_checked_and_accepted_in_wcs_bodies (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rCallRequest) absent = parse ("{\"callee\":\"sip:a@h\","
      "\"rtmpUrls\":[\"rtmp://a/b/c\"]}", &err);
  g_autoptr (S2rCallRequest) native = parse ("{\"callee\":\"sip:a@h\","
      "\"rtmpUrls\":[\"rtmp://a/b/c\"],\"srtp\":\"Mandatory\"}", &err);
  /* WCS 4 with the extension, beside sipTransport in the connection */
  g_autoptr (S2rCallRequest) wcs4 = parse ("{\"callee\":\"h\","
      "\"rtmpUrl\":\"rtmp://a/live\",\"rtmpStream\":\"s\","
      "\"srtp\":\"optional\",\"connection\":{\"sipDomain\":\"h\","
      "\"sipTransport\":\"TLS\"}}", &err);

  g_assert_no_error (err);
  g_assert_null (s2r_call_request_get_srtp (absent));
  g_assert_cmpstr (s2r_call_request_get_srtp (native), ==, "mandatory");
  g_assert_cmpstr (s2r_call_request_get_srtp (wcs4), ==, "optional");
  g_assert_cmpstr (s2r_call_request_get_transport (wcs4), ==, "tls");
  assert_rejected ("{\"callee\":\"sip:a@h\",\"rtmpUrls\":[\"rtmp://a/b/c\"],"
      "\"srtp\":\"always\"}", "srtp");
  assert_rejected ("{\"callee\":\"sip:a@h\",\"rtmpUrls\":[\"rtmp://a/b/c\"],"
      "\"srtp\":true}", "srtp");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/request/srtp-is-optional-checked-and-accepted-in-wcs-bodies",
      test_srtp_is_optional_checked_and_accepted_in_wcs_bodies);

  g_test_add_func ("/request/record-is-a-file-name-ending-in-mkv-or-mp4",
      test_record_is_a_file_name_ending_in_mkv_or_mp4);

  g_test_add_func
      ("/request/generate-video-is-optional-and-accepted-in-wcs-bodies",
      test_generate_video_is_optional_and_accepted_in_wcs_bodies);
  g_test_add_func ("/request/wcs4-article-body-calls-the-domain-on-its-port",
      test_wcs4_article_body_calls_the_domain_on_its_port);
  g_test_add_func ("/request/native-body-takes-real-json-types",
      test_native_body_takes_real_json_types);
  g_test_add_func ("/request/wcs5-flat-fields-with-outbound-proxy",
      test_wcs5_flat_fields_with_outbound_proxy);
  g_test_add_func ("/request/callee-forms-map-to-sip-uris",
      test_callee_forms_map_to_sip_uris);
  g_test_add_func ("/request/bare-user-without-domain-names-sipDomain",
      test_bare_user_without_domain_names_sip_domain);
  g_test_add_func ("/request/missing-callee-is-400-naming-callee",
      test_missing_callee_is_400_naming_callee);
  g_test_add_func ("/request/malformed-callee-is-400",
      test_malformed_callee_is_400);
  g_test_add_func ("/request/a-host-must-be-a-host-name-or-address",
      test_a_host_must_be_a_host_name_or_address);
  g_test_add_func ("/request/stream-names-and-call-ids-are-one-path-element",
      test_stream_names_and_call_ids_are_one_path_element);
  g_test_add_func ("/request/control-characters-are-refused",
      test_control_characters_are_refused);
  g_test_add_func ("/request/rtmp-url-needs-rtmp-scheme",
      test_rtmp_url_needs_rtmp_scheme);
  g_test_add_func ("/request/bad-port-is-400-naming-the-nested-field",
      test_bad_port_is_400_naming_the_nested_field);
  g_test_add_func ("/request/booleans-must-be-booleans",
      test_booleans_must_be_booleans);
  g_test_add_func ("/request/call-id-and-callback-url-are-checked",
      test_call_id_and_callback_url_are_checked);
  g_test_add_func ("/request/body-must-be-an-object",
      test_body_must_be_an_object);
  g_test_add_func ("/request/redacted-url-hides-credentials-and-stream",
      test_redacted_url_hides_credentials_and_stream);
  g_test_add_func ("/request/destinations-follow-rtmp-url-and-stream",
      test_destinations_follow_rtmp_url_and_stream);
  g_test_add_func ("/request/bad-destinations-are-400-naming-the-field",
      test_bad_destinations_are_400_naming_the_field);
  return g_test_run ();
}
