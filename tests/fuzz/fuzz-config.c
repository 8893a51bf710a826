/* sip2rtmp: libFuzzer target, sip2rtmpd's configuration file
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * s2r-config.c reads a GKeyFile; main.c then parses the listen address and
 * asks whether it is loopback. A configuration that loads must hold values
 * within their documented ranges.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "fuzz-glib.h"
#include "s2r-config.h"

static void
check_config (const S2rConfig * config)
{
  g_autofree char *host = NULL;
  guint16 port = 0;

  /* main.c: the address to listen on, and whether a token is needed */
  g_assert_true (s2r_parse_listen (s2r_config_get_listen (config), &host,
          &port, NULL));
  g_assert_cmpuint (port, >=, 1);
  (void) s2r_host_is_loopback (host);

  g_assert_cmpuint (s2r_config_get_max_calls (config), <=, 100000);
  g_assert_cmpuint (s2r_config_get_max_body (config), <=, 16 * 1024 * 1024);
  g_assert_cmpuint (s2r_config_get_keep_finished (config), <=, 86400);
  g_assert_nonnull (s2r_config_get_pipelines_dir (config));
  g_assert_nonnull (s2r_config_get_template (config));
  g_assert_cmpuint (s2r_config_get_answer_timeout (config), <=, 3600);
  g_assert_cmpuint (s2r_config_get_rtp_timeout (config), <=, 3600);
  g_assert_cmpuint (s2r_config_get_max_duration (config), <=, 7 * 86400);
  g_assert_cmpuint (s2r_config_get_retry_budget (config), <=, 86400);
  g_assert_cmpuint (s2r_config_get_webhook_queue_size (config), >=, 1);
  g_assert_cmpuint (s2r_config_get_webhook_max_retries (config), <=, 100);
  g_assert_cmpuint (s2r_config_get_webhook_timeout (config), <=, 600);
  (void) s2r_config_get_token (config);
  (void) s2r_config_get_local_address (config);
  (void) s2r_config_get_user_agent (config);
  (void) s2r_config_get_codecs (config);
  (void) s2r_config_get_still_video (config);
  (void) s2r_config_get_record_dir (config);
  (void) s2r_config_get_app_url (config, "callApp");
  (void) s2r_config_get_app_url (config, "");
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  /* a file's bytes: a NUL in them ends the text, as in a C string */
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (S2rConfig) config = NULL;
  g_autoptr (GError) error = NULL;

  config = s2r_config_new_from_data (text, &error);
  if (config == NULL) {
    g_assert_nonnull (error);
    g_assert_nonnull (error->message);
  } else {
    check_config (config);
  }
  return 0;
}
