/* sip2rtmp: unit tests of sipsrc's call plan
 * (plugins/sip2rtmp/gstsipsrcplan.c): the properties checked, each
 * wrong one named, and what the call is given
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <re.h>
#include <gst/gst.h>
#include "gstsipsrcplan.h"

/* a new sipsrc's properties, with uri set */
static GstSipSrcSettings
settings (const gchar * uri)
{
  GstSipSrcSettings s;

  memset (&s, 0, sizeof s);
  s.uri = uri;
  s.transport = GST_SIP_SRC_DEFAULT_TRANSPORT;
  s.sip_port = GST_SIP_SRC_DEFAULT_SIP_PORT;
  s.media_mode[SIPUA_MEDIA_AUDIO] = GST_SIP_SRC_DEFAULT_AUDIO;
  s.media_mode[SIPUA_MEDIA_VIDEO] = GST_SIP_SRC_DEFAULT_VIDEO;
  s.codecs = GST_SIP_SRC_DEFAULT_CODECS;
  s.rtp_port_min = GST_SIP_SRC_DEFAULT_RTP_PORT_MIN;
  s.rtp_port_max = GST_SIP_SRC_DEFAULT_RTP_PORT_MAX;
  s.answer_timeout = GST_SIP_SRC_DEFAULT_ANSWER_TIMEOUT;
  s.do_register = GST_SIP_SRC_DEFAULT_REGISTER;
  s.user_agent = "sip2rtmp/test";
  s.srtp = GST_SIP_SRC_DEFAULT_SRTP;
  s.tls_verify = GST_SIP_SRC_DEFAULT_TLS_VERIFY;
  s.mode = GST_SIP_SRC_MODE_CALL;
  s.auth_max_failures = GST_SIP_SRC_DEFAULT_AUTH_MAX_FAILURES;
  s.auth_failure_window = GST_SIP_SRC_DEFAULT_AUTH_FAILURE_WINDOW;
  s.auth_lockout = GST_SIP_SRC_DEFAULT_AUTH_LOCKOUT;
  return s;
}

static GstSipSrcPlan *
plan_ok (const GstSipSrcSettings * s)
{
  GError *err = NULL;
  GstSipSrcPlan *plan = gst_sip_src_plan_new (s, &err);

  g_assert_no_error (err);
  g_assert_nonnull (plan);
  return plan;
}

/* the plan fails with a settings error that starts with @prefix */
static void
plan_fails (const GstSipSrcSettings * s, const gchar * prefix)
{
  GError *err = NULL;
  GstSipSrcPlan *plan = gst_sip_src_plan_new (s, &err);

  g_assert_null (plan);
  g_assert_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS);
  if (!g_str_has_prefix (err->message, prefix))
    g_error ("'%s' does not start with '%s'", err->message, prefix);
  g_error_free (err);
}

static void
test_a_uri_alone_is_a_udp_call_with_the_defaults (void)
{
  GstSipSrcSettings s = settings ("sip:1000@192.0.2.1");
  GstSipSrcPlan *plan = plan_ok (&s);

  g_assert_cmpint (plan->prm.transport, ==, SIPUA_TRANSPORT_UDP);
  /* no port: the transport's (5060 for UDP and TCP) */
  g_assert_cmpstr (plan->request_uri, ==, "sip:1000@192.0.2.1");
  g_assert_cmpuint (sip_transp_port (SIP_TRANSP_UDP, 0), ==, 5060);
  g_assert_null (plan->route);
  g_assert_cmpstr (plan->target_host, ==, "192.0.2.1");
  g_assert_cmpstr (plan->from_uri, ==, "sip:sipsrc@192.0.2.1");
  g_assert_null (plan->local_address);
  g_assert_cmpuint (plan->prm.sip_port, ==, 0);
  g_assert_cmpint (plan->prm.media[SIPUA_MEDIA_AUDIO].dir, ==,
      SIPUA_DIR_RECVONLY);
  g_assert_cmpint (plan->prm.media[SIPUA_MEDIA_VIDEO].dir, ==, SIPUA_DIR_OFF);
  g_assert_cmpstr (plan->codecs, ==, "PCMU,PCMA,H264");
  g_assert_cmpuint (plan->prm.answer_timeout_ms, ==, 60000);
  g_assert_false (plan->prm.register_first);
  g_assert_cmpint (plan->prm.srtp, ==, SIPUA_SRTP_OFF);
  g_assert_false (plan->prm.tls_no_verify);
  g_assert_null (plan->auth_user);
  g_assert_null (plan->password);
  g_assert_null (plan->extra_headers);
  g_assert_false (plan->answering);
  g_assert_cmpstr (plan->user_agent, ==, "sip2rtmp/test");
  gst_sip_src_plan_free (plan);

  /* "1000@host" is a sip: URI; an IPv6 host is bracketed in From */
  s.uri = "1000@[2001:db8::1]:5070";
  plan = plan_ok (&s);
  g_assert_cmpstr (plan->request_uri, ==, "sip:1000@[2001:db8::1]:5070");
  g_assert_cmpstr (plan->target_host, ==, "2001:db8::1");
  g_assert_cmpstr (plan->from_uri, ==, "sip:sipsrc@[2001:db8::1]");
  gst_sip_src_plan_free (plan);
}

/* RFC 3261 26.2: a sips: URI over TLS, to port 5061 when it names none;
 * libre 1.1.0 routes sip: only, so it is called as sip:...;transport=tls */
static void
test_sips_is_tls_to_5061 (void)
{
  GstSipSrcSettings s = settings ("sips:1000@pbx.example.com");
  GstSipSrcPlan *plan;

  plan = plan_ok (&s);
  g_assert_cmpint (plan->prm.transport, ==, SIPUA_TRANSPORT_TLS);
  g_assert_cmpstr (plan->request_uri, ==,
      "sip:1000@pbx.example.com;transport=tls");
  g_assert_cmpuint (sip_transp_port (SIP_TRANSP_TLS, 0), ==, 5061);
  /* the certificate is checked against the next hop's name */
  g_assert_cmpstr (plan->target_host, ==, "pbx.example.com");
  g_assert_false (plan->prm.tls_no_verify);
  gst_sip_src_plan_free (plan);

  /* whatever the transport property says */
  s.transport = SIPUA_TRANSPORT_UDP;
  s.uri = "sips:1000@pbx.example.com:5062";
  plan = plan_ok (&s);
  g_assert_cmpint (plan->prm.transport, ==, SIPUA_TRANSPORT_TLS);
  g_assert_cmpstr (plan->request_uri, ==,
      "sip:1000@pbx.example.com:5062;transport=tls");
  gst_sip_src_plan_free (plan);
}

/* The property gives the transport unless the uri's (or the proxy's, the
 * next hop's) transport parameter says one */
static void
test_the_transport_of_the_next_hop_wins_over_the_property (void)
{
  GstSipSrcSettings s = settings ("sip:1000@192.0.2.1");
  GstSipSrcPlan *plan;

  s.transport = SIPUA_TRANSPORT_TCP;
  plan = plan_ok (&s);
  g_assert_cmpint (plan->prm.transport, ==, SIPUA_TRANSPORT_TCP);
  g_assert_cmpstr (plan->request_uri, ==, "sip:1000@192.0.2.1;transport=tcp");
  gst_sip_src_plan_free (plan);

  s.transport = SIPUA_TRANSPORT_TLS;
  s.uri = "sip:1000@192.0.2.1;transport=UDP";
  plan = plan_ok (&s);
  g_assert_cmpint (plan->prm.transport, ==, SIPUA_TRANSPORT_UDP);
  g_assert_cmpstr (plan->request_uri, ==, "sip:1000@192.0.2.1;transport=UDP");
  gst_sip_src_plan_free (plan);

  s.transport = SIPUA_TRANSPORT_UDP;
  s.uri = "sip:1000@192.0.2.1";
  s.proxy = "sip:proxy.example.com:5080;transport=tcp";
  plan = plan_ok (&s);
  g_assert_cmpint (plan->prm.transport, ==, SIPUA_TRANSPORT_TCP);
  g_assert_cmpstr (plan->route, ==, "sip:proxy.example.com:5080;transport=tcp");
  g_assert_cmpstr (plan->request_uri, ==, "sip:1000@192.0.2.1;transport=tcp");
  g_assert_cmpstr (plan->target_host, ==, "proxy.example.com");
  gst_sip_src_plan_free (plan);
}

static void
test_the_other_properties_reach_the_call (void)
{
  GstSipSrcSettings s = settings ("sip:1000@192.0.2.1");
  GstStructure *headers = gst_structure_new ("headers", "X-Room",
      G_TYPE_STRING, "42", NULL);
  GstSipSrcPlan *plan;

  s.user_id = "alice";
  s.user_pw = "secret";
  s.display_name = "Alice";
  s.local_address = "127.0.0.1";
  s.sip_port = 5099;
  s.media_mode[SIPUA_MEDIA_AUDIO] = SIPUA_DIR_SENDRECV;
  s.media_mode[SIPUA_MEDIA_VIDEO] = SIPUA_DIR_RECVONLY;
  s.rtp_port_min = 20000;
  s.rtp_port_max = 20100;
  s.answer_timeout = 5;
  s.do_register = TRUE;
  s.sip_headers = headers;
  s.public_address = "198.51.100.7";
  s.srtp = SIPUA_SRTP_MANDATORY;
  s.tls_verify = FALSE;
  s.tls_cert_file = "/c.pem";
  s.tls_key_file = "/k.pem";
  s.tls_ca_file = "";
  plan = plan_ok (&s);
  g_assert_cmpstr (plan->from_uri, ==, "sip:alice@192.0.2.1");
  g_assert_cmpstr (plan->auth_user, ==, "alice");
  g_assert_cmpstr (plan->password, ==, "secret");
  g_assert_cmpstr (plan->display_name, ==, "Alice");
  g_assert_cmpstr (plan->local_address, ==, "127.0.0.1");
  g_assert_cmpuint (plan->prm.sip_port, ==, 5099);
  g_assert_cmpint (plan->prm.media[SIPUA_MEDIA_AUDIO].dir, ==,
      SIPUA_DIR_SENDRECV);
  g_assert_cmpint (plan->prm.media[SIPUA_MEDIA_VIDEO].dir, ==,
      SIPUA_DIR_RECVONLY);
  g_assert_cmpuint (plan->rtp_port_min, ==, 20000);
  g_assert_cmpuint (plan->rtp_port_max, ==, 20100);
  g_assert_cmpuint (plan->prm.answer_timeout_ms, ==, 5000);
  g_assert_true (plan->prm.register_first);
  g_assert_nonnull (strstr (plan->extra_headers, "X-Room: 42"));
  g_assert_cmpstr (plan->public_address, ==, "198.51.100.7");
  g_assert_cmpint (plan->prm.srtp, ==, SIPUA_SRTP_MANDATORY);
  g_assert_true (plan->prm.tls_no_verify);
  g_assert_cmpstr (plan->tls_cert_file, ==, "/c.pem");
  g_assert_cmpstr (plan->tls_key_file, ==, "/k.pem");
  g_assert_null (plan->tls_ca_file);    /* empty is unset */
  gst_sip_src_plan_free (plan);

  /* auth-user is the digest's user; From keeps user-id */
  s.auth_user = "alice-auth";
  plan = plan_ok (&s);
  g_assert_cmpstr (plan->auth_user, ==, "alice-auth");
  g_assert_cmpstr (plan->from_uri, ==, "sip:alice@192.0.2.1");
  gst_sip_src_plan_free (plan);
  gst_structure_free (headers);
}

/* Each wrong property fails the plan, named first in the message */
static void
test_a_wrong_property_fails_naming_it (void)
{
  GstStructure *bad_headers = gst_structure_new ("headers", "Via",
      G_TYPE_STRING, "x", NULL);
  GstSipSrcSettings s;

  s = settings (NULL);
  plan_fails (&s, "Invalid property 'uri': ");
  s = settings ("http://example.com/");
  plan_fails (&s, "Invalid property 'uri': ");
  s = settings ("sip:1000@bad host");
  plan_fails (&s, "Invalid property 'uri': ");
  s = settings ("sip:1000@192.0.2.1");
  s.user_id = "al ice";
  plan_fails (&s, "Invalid property 'user-id': ");
  s = settings ("sip:1000@192.0.2.1");
  s.auth_user = "";
  plan_fails (&s, "Invalid property 'auth-user': ");
  s = settings ("sip:1000@192.0.2.1");
  s.dtmf = "12x";
  plan_fails (&s, "Invalid property 'dtmf': ");
  s.dtmf = "";
  plan_fails (&s, "Invalid property 'dtmf': ");
  s = settings ("sip:1000@192.0.2.1");
  s.user_pw = "secret";
  plan_fails (&s, "Invalid property 'user-id': must be set when 'user-pw'");
  s.user_id = "alice";
  s.user_pw = "";
  plan_fails (&s, "Invalid property 'user-pw': ");
  s = settings ("sip:1000@192.0.2.1");
  s.proxy = "tel:+15550100";
  plan_fails (&s, "Invalid property 'proxy': ");
  s = settings ("sip:1000@192.0.2.1");
  s.from_uri = "sip:a b@c";
  plan_fails (&s, "Invalid property 'from-uri': ");
  s = settings ("sip:1000@192.0.2.1");
  s.local_address = "localhost";
  plan_fails (&s, "Invalid property 'local-address': ");
  s = settings ("sip:1000@192.0.2.1");
  s.tls_key_file = "/k.pem";
  plan_fails (&s, "Invalid property 'tls-cert-file': ");
  s = settings ("sip:1000@192.0.2.1");
  s.rtp_port_min = 20002;
  s.rtp_port_max = 20000;
  plan_fails (&s, "Invalid property 'rtp-port-min': ");
  s = settings ("sip:1000@192.0.2.1");
  s.codecs = "PCMU,GSM";
  plan_fails (&s, "Invalid property 'codecs': unknown codec 'GSM'");
  s.codecs = "PCMU";
  s.media_mode[SIPUA_MEDIA_VIDEO] = SIPUA_DIR_RECVONLY;
  plan_fails (&s, "Invalid property 'codecs': no video codec");
  s = settings ("sip:1000@192.0.2.1");
  s.media_mode[SIPUA_MEDIA_AUDIO] = SIPUA_DIR_OFF;
  plan_fails (&s, "Invalid property 'audio': ");
  s = settings ("sip:1000@192.0.2.1");
  s.sip_headers = bad_headers;
  plan_fails (&s, "Invalid property 'sip-headers': ");
  s = settings ("sip:1000@192.0.2.1");
  s.public_address = "nat.example.com";
  plan_fails (&s, "Invalid property 'public-address': ");
  s = settings ("sip:room42@192.0.2.1:5070");
  s.mode = GST_SIP_SRC_MODE_ANSWER;
  s.caller = "a b";
  plan_fails (&s, "Invalid property 'caller': ");
  gst_structure_free (bad_headers);
}

/* Answer mode (issue 14): the uri is where to listen and whom for */
static void
test_answer_mode_listens_on_the_uris_address_and_port (void)
{
  GstSipSrcSettings s = settings ("sip:room42@127.0.0.1:5070");
  GstSipSrcPlan *plan;

  s.mode = GST_SIP_SRC_MODE_ANSWER;
  s.local_address = "192.0.2.9";        /* the uri's wins */
  plan = plan_ok (&s);
  g_assert_true (plan->answering);
  g_assert_cmpstr (plan->answer_user, ==, "room42");
  g_assert_cmpstr (plan->local_address, ==, "127.0.0.1");
  g_assert_cmpuint (plan->prm.sip_port, ==, 5070);
  g_assert_null (plan->answer_caller);
  gst_sip_src_plan_free (plan);
}

/* Password guessing: the element's seconds become the SIP thread's ms */
static void
test_answer_mode_carries_the_guess_limit (void)
{
  GstSipSrcSettings s = settings ("sip:room42@127.0.0.1:5070");
  GstSipSrcPlan *plan;

  s.mode = GST_SIP_SRC_MODE_ANSWER;
  plan = plan_ok (&s);
  g_assert_cmpuint (plan->answer.max_failures, ==, 5);
  g_assert_cmpuint (plan->answer.failure_window_ms, ==, 60000);
  g_assert_cmpuint (plan->answer.lockout_ms, ==, 60000);
  gst_sip_src_plan_free (plan);

  s.auth_max_failures = 0;
  s.auth_failure_window = 600;
  s.auth_lockout = 2;
  plan = plan_ok (&s);
  g_assert_cmpuint (plan->answer.max_failures, ==, 0);
  g_assert_cmpuint (plan->answer.failure_window_ms, ==, 600000);
  g_assert_cmpuint (plan->answer.lockout_ms, ==, 2000);
  gst_sip_src_plan_free (plan);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/call-plan/a-uri-alone-is-a-udp-call-with-the-defaults",
      test_a_uri_alone_is_a_udp_call_with_the_defaults);
  g_test_add_func ("/call-plan/sips-is-tls-to-5061", test_sips_is_tls_to_5061);
  g_test_add_func
      ("/call-plan/the-transport-of-the-next-hop-wins-over-the-property",
      test_the_transport_of_the_next_hop_wins_over_the_property);
  g_test_add_func ("/call-plan/the-other-properties-reach-the-call",
      test_the_other_properties_reach_the_call);
  g_test_add_func ("/call-plan/a-wrong-property-fails-naming-it",
      test_a_wrong_property_fails_naming_it);
  g_test_add_func
      ("/call-plan/answer-mode-listens-on-the-uris-address-and-port",
      test_answer_mode_listens_on_the_uris_address_and_port);
  g_test_add_func ("/call-plan/answer-mode-carries-the-guess-limit",
      test_answer_mode_carries_the_guess_limit);
  return g_test_run ();
}
