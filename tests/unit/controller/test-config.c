/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The config file as an operator writes it, and what the daemon makes of it;
 * the error to HTTP status mapping.
 */
#include <string.h>
#include "s2r-call.h"
#include "s2r-config.h"
#include "s2r-error.h"

#include <glib/gstdio.h>

static void
test_defaults_listen_on_loopback_9091 (void)
{
  g_autoptr (S2rConfig) config = s2r_config_new ();

  g_assert_cmpstr (s2r_config_get_listen (config), ==, "127.0.0.1:9091");
  g_assert_null (s2r_config_get_token (config));
  g_assert_cmpuint (s2r_config_get_max_calls (config), >, 0);
  g_assert_cmpstr (s2r_config_get_template (config), ==, "default");
}

static void
test_file_sets_server_sip_webhook_and_apps (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rConfig) config =
      s2r_config_new_from_data
      ("[server]\nlisten=0.0.0.0:8081\ntoken=s3cret\nmax-calls=3\n"
      "idle-timeout=5\nrequest-timeout=2\n"
      "[sip]\nlocal-address=127.0.0.1\nanswer-timeout=20\n"
      "[webhook]\nmax-retries=2\n"
      "[app:callApp]\nurl=http://127.0.0.1:8080/hook\n"
      "[app:other]\nurl=https://hooks.example.com/x\n", &err);

  g_assert_no_error (err);
  g_assert_cmpstr (s2r_config_get_listen (config), ==, "0.0.0.0:8081");
  g_assert_cmpstr (s2r_config_get_token (config), ==, "s3cret");
  g_assert_cmpuint (s2r_config_get_max_calls (config), ==, 3);
  g_assert_cmpuint (s2r_config_get_idle_timeout (config), ==, 5);
  g_assert_cmpuint (s2r_config_get_request_timeout (config), ==, 2);
  g_assert_cmpstr (s2r_config_get_local_address (config), ==, "127.0.0.1");
  g_assert_cmpuint (s2r_config_get_answer_timeout (config), ==, 20);
  g_assert_cmpuint (s2r_config_get_webhook_max_retries (config), ==, 2);
  g_assert_cmpstr (s2r_config_get_app_url (config, "callApp"), ==,
      "http://127.0.0.1:8080/hook");
  g_assert_cmpstr (s2r_config_get_app_url (config, "other"), ==,
      "https://hooks.example.com/x");
  g_assert_null (s2r_config_get_app_url (config, "unknown"));
  g_assert_null (s2r_config_get_app_url (config, NULL));
}

static void
test_admission_limits_have_defaults_and_are_checked (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rConfig) defaults = s2r_config_new ();
  g_autoptr (S2rConfig) config =
      s2r_config_new_from_data ("[admission]\nenabled=false\ncpu-limit=70\n"
      "media-busy-limit=50\nmedia-late-limit=5\ncall-cost=0.4\n", &err);
  g_autoptr (S2rConfig) bad = NULL;
  guint cpu, busy, late;
  gdouble cost;

  g_assert_no_error (err);
  g_assert_true (s2r_config_get_admission (defaults, &cpu, &busy, &late,
          &cost));
  g_assert_cmpuint (cpu, ==, 85);
  g_assert_cmpuint (busy, ==, 70);
  g_assert_cmpuint (late, ==, 10);
  g_assert_cmpfloat_with_epsilon (cost, 1.0, 1e-9);

  g_assert_false (s2r_config_get_admission (config, &cpu, &busy, &late,
          &cost));
  g_assert_cmpuint (cpu, ==, 70);
  g_assert_cmpuint (busy, ==, 50);
  g_assert_cmpuint (late, ==, 5);
  g_assert_cmpfloat_with_epsilon (cost, 0.4, 1e-9);

  bad = s2r_config_new_from_data ("[admission]\ncall-cost=0\n", &err);
  g_assert_null (bad);
  g_assert_error (err, S2R_ERROR, S2R_ERROR_INVALID);
  g_assert_cmpstr (s2r_error_get_field (err), ==, "call-cost");
  g_clear_error (&err);
  bad = s2r_config_new_from_data ("[admission]\ncpu-limit=101\n", &err);
  g_assert_null (bad);
  g_assert_cmpstr (s2r_error_get_field (err), ==, "cpu-limit");
}

static void
test_auth_limit_has_defaults_is_checked_and_reloaded (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *needs_restart = NULL;
  g_autoptr (S2rConfig) config = s2r_config_new_from_data ("", &err);
  g_autoptr (S2rConfig) next = NULL;
  S2rConfig *bad;
  guint failures, window, lockout;

  s2r_config_get_auth_limit (config, &failures, &window, &lockout);
  g_assert_cmpuint (failures, ==, 5);
  g_assert_cmpuint (window, ==, 60);
  g_assert_cmpuint (lockout, ==, 60);

  /* a window or lock-out of 0 would be no limit in disguise */
  bad = s2r_config_new_from_data ("[sip]\nauth-lockout=0\n", &err);
  g_assert_null (bad);
  g_assert_error (err, S2R_ERROR, S2R_ERROR_INVALID);
  g_assert_cmpstr (s2r_error_get_field (err), ==, "auth-lockout");
  g_clear_error (&err);
  bad = s2r_config_new_from_data ("[sip]\nauth-failure-window=86401\n", &err);
  g_assert_null (bad);
  g_assert_cmpstr (s2r_error_get_field (err), ==, "auth-failure-window");
  g_clear_error (&err);
  bad = s2r_config_new_from_data ("[sip]\nauth-max-failures=many\n", &err);
  g_assert_null (bad);
  g_assert_cmpstr (s2r_error_get_field (err), ==, "auth-max-failures");
  g_clear_error (&err);

  /* SIGHUP: the next incoming call counts under the new ones */
  next = s2r_config_new_from_data ("[sip]\nauth-max-failures=0\n"
      "auth-failure-window=600\nauth-lockout=900\n", &err);
  g_assert_no_error (err);
  g_assert_true (s2r_config_reload (config, next, &needs_restart, &err));
  g_assert_null (needs_restart);
  s2r_config_get_auth_limit (config, &failures, &window, &lockout);
  g_assert_cmpuint (failures, ==, 0);
  g_assert_cmpuint (window, ==, 600);
  g_assert_cmpuint (lockout, ==, 900);
}

static void
test_call_limits_and_retry_budget (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rConfig) defaults = s2r_config_new ();
  g_autoptr (S2rConfig) legacy =
      s2r_config_new_from_data ("[sip]\nrtp-timeout=12\n", &err);
  g_autoptr (S2rConfig) config =
      s2r_config_new_from_data ("[sip]\nrtp-timeout=12\n"
      "[calls]\nmax-duration=14400\nrtp-timeout=5\n"
      "[rtmp]\nretry-budget=10\nstill-video=true\n", &err);

  g_assert_no_error (err);
  g_assert_cmpuint (s2r_config_get_max_duration (defaults), ==, 0);
  g_assert_cmpuint (s2r_config_get_rtp_timeout (defaults), ==, 30);
  g_assert_cmpuint (s2r_config_get_retry_budget (defaults), ==, 60);
  /* [sip] rtp-timeout still read; [calls] wins */
  g_assert_cmpuint (s2r_config_get_rtp_timeout (legacy), ==, 12);
  g_assert_cmpuint (s2r_config_get_rtp_timeout (config), ==, 5);
  g_assert_cmpuint (s2r_config_get_max_duration (config), ==, 14400);
  g_assert_cmpuint (s2r_config_get_retry_budget (config), ==, 10);
  g_assert_false (s2r_config_get_still_video (defaults));
  g_assert_true (s2r_config_get_still_video (config));
  g_assert_null (s2r_config_get_record_dir (defaults));
}

static void
test_malformed_values_are_errors (void)
{
  const char *bad[] = {
    "[server]\nmax-calls=lots\n",
    "[server]\nlisten=nohostport\n",
    "[server]\nlisten=127.0.0.1:0\n",
    "[app:x]\nurl=ftp://example.com\n",
    "[rtmp]\nstill-video=sometimes\n",
    "[record]\ndir=/nonexistent/sip2rtmp-recordings\n",
    "not a key file",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) err = NULL;
    g_autoptr (S2rConfig) config = s2r_config_new_from_data (bad[i], &err);

    g_assert_null (config);
    g_assert_nonnull (err);
  }
}

/* GLib 2.74 returned the string of a value with a bad escape, error set;
 * with a bad escape before a final backslash it set its error twice, a
 * GLib-WARNING (found by tests/fuzz: corpus/config/bad-escape-then-final-
 * backslash.conf) */
static void
test_bad_escapes_are_errors_naming_the_key (void)
{
  const char *bad[] = {
    "[sip]\nuser-agent=a\\qb\n",
    "[sip]\nuser-agent=a\\q\\\n",
    "[sip]\nuser-agent=ab\\\\\\\n",
  };
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rConfig) good =
      s2r_config_new_from_data ("[sip]\nuser-agent=a\\sb\\\\\n", &err);

  g_assert_no_error (err);
  g_assert_cmpstr (s2r_config_get_user_agent (good), ==, "a b\\");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (S2rConfig) config = s2r_config_new_from_data (bad[i], &err);

    g_assert_null (config);
    g_assert_error (err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
    g_assert_nonnull (strstr (err->message, "[sip] user-agent: "));
    g_clear_error (&err);
  }
}

static void
test_listen_forms_and_loopback (void)
{
  g_autofree char *host = NULL;
  g_autofree char *host6 = NULL;
  guint16 port = 0;

  g_assert_true (s2r_parse_listen ("127.0.0.1:9091", &host, &port, NULL));
  g_assert_cmpstr (host, ==, "127.0.0.1");
  g_assert_cmpuint (port, ==, 9091);
  g_assert_true (s2r_parse_listen ("[::1]:80", &host6, &port, NULL));
  g_assert_cmpstr (host6, ==, "::1");

  g_assert_true (s2r_host_is_loopback ("127.0.0.1"));
  g_assert_true (s2r_host_is_loopback ("127.1.2.3"));
  g_assert_true (s2r_host_is_loopback ("::1"));
  g_assert_true (s2r_host_is_loopback ("localhost"));
  g_assert_false (s2r_host_is_loopback ("0.0.0.0"));
  g_assert_false (s2r_host_is_loopback ("192.0.2.1"));
  g_assert_false (s2r_host_is_loopback ("example.com"));
}

/* SIGHUP: what new calls, requests and events read changes at once */
static void
test_reload_takes_limits_token_webhooks_and_apps (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *needs_restart = NULL;
  g_autoptr (S2rConfig) config =
      s2r_config_new_from_data ("[server]\ntoken=old\nmax-calls=3\n"
      "[app:one]\nurl=http://127.0.0.1:8080/one\n", &err);
  g_autoptr (S2rConfig) next = NULL;
  guint cpu, busy, late;
  gdouble cost;

  g_assert_cmpuint (s2r_config_get_shutdown_timeout (config), ==, 15);
  next = s2r_config_new_from_data ("[server]\ntoken=new\nmax-calls=5\n"
      "keep-finished=10\nshutdown-timeout=4\n[admission]\ncpu-limit=60\n"
      "[sip]\nanswer-timeout=20\nuser-agent=gw\npublic-address=192.0.2.7\n"
      "srtp=optional\ntls-verify=false\n"
      "[calls]\nmax-duration=7\n"
      "[rtmp]\nretry-budget=9\n[webhook]\ntimeout=9\nmax-retries=1\n"
      "[app:two]\nurl=http://127.0.0.1:8080/two\n", &err);
  g_assert_no_error (err);
  g_assert_true (s2r_config_reload (config, next, &needs_restart, &err));
  g_assert_no_error (err);
  g_assert_null (needs_restart);
  g_assert_cmpstr (s2r_config_get_token (config), ==, "new");
  g_assert_cmpuint (s2r_config_get_max_calls (config), ==, 5);
  g_assert_cmpuint (s2r_config_get_keep_finished (config), ==, 10);
  g_assert_cmpuint (s2r_config_get_shutdown_timeout (config), ==, 4);
  s2r_config_get_admission (config, &cpu, &busy, &late, &cost);
  g_assert_cmpuint (cpu, ==, 60);
  g_assert_cmpuint (s2r_config_get_answer_timeout (config), ==, 20);
  g_assert_cmpstr (s2r_config_get_user_agent (config), ==, "gw");
  g_assert_cmpstr (s2r_config_get_public_address (config), ==, "192.0.2.7");
  g_assert_cmpstr (s2r_config_get_srtp (config), ==, "optional");
  g_assert_false (s2r_config_get_tls_verify (config));
  g_assert_cmpuint (s2r_config_get_max_duration (config), ==, 7);
  g_assert_cmpuint (s2r_config_get_retry_budget (config), ==, 9);
  g_assert_cmpuint (s2r_config_get_webhook_timeout (config), ==, 9);
  g_assert_cmpuint (s2r_config_get_webhook_max_retries (config), ==, 1);
  g_assert_null (s2r_config_get_app_url (config, "one"));
  g_assert_cmpstr (s2r_config_get_app_url (config, "two"), ==,
      "http://127.0.0.1:8080/two");
}

static void
test_reload_names_what_needs_a_restart_and_keeps_it (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *needs_restart = NULL;
  g_autoptr (S2rConfig) config = s2r_config_new ();
  g_autoptr (S2rConfig) next =
      s2r_config_new_from_data ("[server]\nlisten=127.0.0.1:9092\n"
      "monitor-listen=127.0.0.1:9093\n"
      "max-body=1000\n[pipeline]\ntemplate=other\n[console]\nenabled=false\n"
      "[sip]\nlocal-address=127.0.0.2\ncodecs=PCMA\nanswer-timeout=5\n", &err);

  g_assert_no_error (err);
  g_assert_true (s2r_config_reload (config, next, &needs_restart, &err));
  g_assert_cmpstr (needs_restart, ==, "[server] listen, [server] monitor-listen, "
      "[server] max-body, [pipeline] template, [console] enabled, "
      "[sip] local-address, [sip] codecs");
  g_assert_null (s2r_config_get_monitor_listen (config));
  g_assert_true (s2r_config_get_console (config));
  g_assert_cmpstr (s2r_config_get_listen (config), ==, "127.0.0.1:9091");
  g_assert_cmpuint (s2r_config_get_max_body (config), ==, 65536);
  g_assert_cmpstr (s2r_config_get_template (config), ==, "default");
  g_assert_null (s2r_config_get_local_address (config));
  g_assert_null (s2r_config_get_codecs (config));
  g_assert_cmpuint (s2r_config_get_answer_timeout (config), ==, 5);
}

static void
test_monitor_listen_and_console_keys (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rConfig) config =
      s2r_config_new_from_data ("[server]\nmonitor-listen=127.0.0.1:9100\n"
      "[console]\ndir=/srv/console\n", &err);
  g_autoptr (S2rConfig) bad = NULL;

  g_assert_no_error (err);
  g_assert_cmpstr (s2r_config_get_monitor_listen (config), ==,
      "127.0.0.1:9100");
  g_assert_true (s2r_config_get_console (config));
  g_assert_cmpstr (s2r_config_get_console_dir (config), ==, "/srv/console");
  /* an empty value (a command line's) turns it off */
  g_assert_true (s2r_config_set_monitor_listen (config, "", &err));
  g_assert_null (s2r_config_get_monitor_listen (config));

  bad = s2r_config_new_from_data ("[server]\nmonitor-listen=9100\n", &err);
  g_assert_null (bad);
  g_assert_nonnull (strstr (err->message, "monitor-listen"));
}

static void
test_reload_keeps_the_token_of_an_api_off_loopback (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *needs_restart = NULL;
  g_autoptr (S2rConfig) config =
      s2r_config_new_from_data ("[server]\nlisten=0.0.0.0:9091\n"
      "token=kept\nmax-calls=3\n", &err);
  g_autoptr (S2rConfig) next =
      s2r_config_new_from_data ("[server]\nlisten=0.0.0.0:9091\n"
      "max-calls=5\n", &err);

  g_assert_no_error (err);
  g_assert_false (s2r_config_reload (config, next, &needs_restart, &err));
  g_assert_error (err, S2R_ERROR, S2R_ERROR_INVALID);
  g_assert_cmpstr (s2r_error_get_field (err), ==, "token");
  g_assert_cmpstr (s2r_config_get_token (config), ==, "kept");
  g_assert_cmpuint (s2r_config_get_max_calls (config), ==, 3);
}

static void
test_each_error_has_its_http_status (void)
{
  struct
  {
    S2rError code;
    guint status;
  } cases[] = {
    {S2R_ERROR_INVALID, 400}, {S2R_ERROR_UNAUTHORIZED, 401},
    {S2R_ERROR_NOT_FOUND, 404}, {S2R_ERROR_METHOD, 405},
    {S2R_ERROR_CONFLICT, 409}, {S2R_ERROR_TOO_LARGE, 413},
    {S2R_ERROR_TIMEOUT, 408}, {S2R_ERROR_UNAVAILABLE, 503},
    {S2R_ERROR_INTERNAL, 500},
  };
  g_autoptr (GError) foreign = g_error_new_literal (G_IO_ERROR,
      G_IO_ERROR_FAILED, "x");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) err = NULL;

    s2r_set_error_field (&err, cases[i].code, "f", "m %d", 1);
    g_assert_cmpuint (s2r_error_to_http_status (err), ==, cases[i].status);
    g_assert_cmpstr (s2r_error_get_field (err), ==, "f");
    g_assert_cmpstr (err->message, ==, "m 1");
  }
  g_assert_cmpuint (s2r_error_to_http_status (foreign), ==, 500);
}

static void
test_copied_error_keeps_its_field (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (GError) copy = NULL;

  s2r_set_error_field (&err, S2R_ERROR_CONFLICT, "callId", "in use");
  copy = g_error_copy (err);
  g_assert_cmpstr (s2r_error_get_field (copy), ==, "callId");
}

static void
test_sip_states_map_to_wcs_statuses (void)
{
  g_assert_cmpint (s2r_call_status_from_sip_state ("trying", 100), ==,
      S2R_CALL_TRYING);
  g_assert_cmpint (s2r_call_status_from_sip_state ("ringing", 180), ==,
      S2R_CALL_RING);
  g_assert_cmpint (s2r_call_status_from_sip_state ("early-media", 183), ==,
      S2R_CALL_SESSION_PROGRESS);
  g_assert_cmpint (s2r_call_status_from_sip_state ("established", 200), ==,
      S2R_CALL_ESTABLISHED);
  g_assert_cmpint (s2r_call_status_from_sip_state ("terminated", 0), ==,
      S2R_CALL_FINISH);
  g_assert_cmpint (s2r_call_status_from_sip_state ("failed", 486), ==,
      S2R_CALL_BUSY);
  g_assert_cmpint (s2r_call_status_from_sip_state ("failed", 600), ==,
      S2R_CALL_BUSY);
  g_assert_cmpint (s2r_call_status_from_sip_state ("failed", 404), ==,
      S2R_CALL_FAILED);
  g_assert_cmpstr (s2r_call_status_to_string (S2R_CALL_SESSION_PROGRESS), ==,
      "SESSION_PROGRESS");
}

static void
test_srtp_and_tls_keys_have_defaults_and_are_checked (void)
{
  g_autoptr (S2rConfig) defaults = s2r_config_new ();
  g_autoptr (GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("s2r-config-XXXXXX", NULL);
  g_autofree char *cert = g_build_filename (dir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename (dir, "key.pem", NULL);
  g_autofree char *data = NULL;
  S2rConfig *config;

  g_assert_cmpstr (s2r_config_get_srtp (defaults), ==, "off");
  g_assert_true (s2r_config_get_tls_verify (defaults));
  g_assert_null (s2r_config_get_tls_ca_file (defaults));
  g_assert_null (s2r_config_get_tls_cert_file (defaults));

  g_assert_true (g_file_set_contents (cert, "x", -1, NULL));
  g_assert_true (g_file_set_contents (key, "x", -1, NULL));
  g_assert_cmpint (g_chmod (key, 0600), ==, 0);
  data = g_strdup_printf ("[sip]\nsrtp=mandatory\ntls-verify=false\n"
      "tls-ca-file=%s\ntls-cert-file=%s\ntls-key-file=%s\n", cert, cert, key);
  config = s2r_config_new_from_data (data, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (s2r_config_get_srtp (config), ==, "mandatory");
  g_assert_false (s2r_config_get_tls_verify (config));
  g_assert_cmpstr (s2r_config_get_tls_key_file (config), ==, key);
  s2r_config_free (config);

  /* a key others can read, a key without its certificate, a missing file,
   * a mode sipsrc has not: errors naming the key */
  g_assert_cmpint (g_chmod (key, 0640), ==, 0);
  g_clear_pointer (&data, g_free);
  data = g_strdup_printf ("[sip]\ntls-cert-file=%s\ntls-key-file=%s\n", cert,
      key);
  g_assert_null (s2r_config_new_from_data (data, &err));
  g_assert_cmpstr (s2r_error_get_field (err), ==, "tls-key-file");
  g_clear_error (&err);
  g_clear_pointer (&data, g_free);
  data = g_strdup_printf ("[sip]\ntls-key-file=%s\n", key);
  g_assert_null (s2r_config_new_from_data (data, &err));
  g_assert_cmpstr (s2r_error_get_field (err), ==, "tls-cert-file");
  g_clear_error (&err);
  g_assert_null (s2r_config_new_from_data ("[sip]\ntls-ca-file=/nonexistent\n",
          &err));
  g_assert_cmpstr (s2r_error_get_field (err), ==, "tls-ca-file");
  g_clear_error (&err);
  g_assert_null (s2r_config_new_from_data ("[sip]\nsrtp=always\n", &err));
  g_assert_cmpstr (s2r_error_get_field (err), ==, "srtp");

  g_unlink (cert);
  g_unlink (key);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/config/srtp-and-tls-keys-have-defaults-and-are-checked",
      test_srtp_and_tls_keys_have_defaults_and_are_checked);

  g_test_add_func ("/config/defaults-listen-on-loopback-9091",
      test_defaults_listen_on_loopback_9091);
  g_test_add_func ("/config/file-sets-server-sip-webhook-and-apps",
      test_file_sets_server_sip_webhook_and_apps);
  g_test_add_func ("/config/admission-limits-have-defaults-and-are-checked",
      test_admission_limits_have_defaults_and_are_checked);
  g_test_add_func ("/config/auth-limit-has-defaults-is-checked-and-reloaded",
      test_auth_limit_has_defaults_is_checked_and_reloaded);
  g_test_add_func ("/config/call-limits-and-retry-budget",
      test_call_limits_and_retry_budget);
  g_test_add_func ("/config/malformed-values-are-errors",
      test_malformed_values_are_errors);
  g_test_add_func ("/config/bad-escapes-are-errors-naming-the-key",
      test_bad_escapes_are_errors_naming_the_key);
  g_test_add_func ("/config/listen-forms-and-loopback",
      test_listen_forms_and_loopback);
  g_test_add_func ("/config/reload-takes-limits-token-webhooks-and-apps",
      test_reload_takes_limits_token_webhooks_and_apps);
  g_test_add_func ("/config/reload-names-what-needs-a-restart-and-keeps-it",
      test_reload_names_what_needs_a_restart_and_keeps_it);
  g_test_add_func ("/config/monitor-listen-and-console-keys",
      test_monitor_listen_and_console_keys);
  g_test_add_func ("/config/reload-keeps-the-token-of-an-api-off-loopback",
      test_reload_keeps_the_token_of_an_api_off_loopback);
  g_test_add_func ("/error/each-error-has-its-http-status",
      test_each_error_has_its_http_status);
  g_test_add_func ("/error/copied-error-keeps-its-field",
      test_copied_error_keeps_its_field);
  g_test_add_func ("/call/sip-states-map-to-wcs-statuses",
      test_sip_states_map_to_wcs_statuses);
  return g_test_run ();
}
