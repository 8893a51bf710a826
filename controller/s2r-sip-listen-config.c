/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* What of the config file's [sip] decides who may call in and where a call
 * no route takes goes (issue 14): allow= and the routing webhook. Read and
 * checked whole, at start-up and on a reload, which applies all of it or
 * nothing (s2r_sip_listen_reconfigure). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-sip-listen-config.h"
#include "s2r-error.h"
#include "s2r-routing-webhook.h"

#define DEFAULT_WEBHOOK_TIMEOUT_MS 3000
#define DEFAULT_WEBHOOK_FALLBACK 480

void
s2r_sip_listen_config_free (S2rSipListenConfig * config)
{
  if (!config)
    return;
  g_clear_pointer (&config->allow, g_ptr_array_unref);
  g_free (config->webhook_url);
  g_free (config->webhook_fallback_rule);
  g_free (config);
}

/* [sip] routing-webhook-fallback= : a SIP status 300-699 (default 480), or
 * route:NAME, a rule of @rules */
static gboolean
read_fallback (S2rSipListenConfig * config, const char *fallback,
    S2rRoutes * rules, GError ** error)
{
  guint64 status = DEFAULT_WEBHOOK_FALLBACK;

  if (fallback && g_str_has_prefix (fallback, "route:")) {
    if (!s2r_routes_has_rule (rules, fallback + 6)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID,
          "routing-webhook-fallback", "[sip] routing-webhook-fallback: "
          "no [route:%.64s] rule", fallback + 6);
      return FALSE;
    }
    config->webhook_fallback_rule = g_strdup (fallback + 6);
    status = 0;
  } else if (fallback && !g_ascii_string_to_unsigned (fallback, 10, 300, 699,
          &status, NULL)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID,
        "routing-webhook-fallback", "[sip] routing-webhook-fallback: a SIP "
        "status 300-699 or route:NAME");
    return FALSE;
  }
  config->webhook_fallback = (guint) status;
  return TRUE;
}

/* [sip] allow= (CIDR list, default: any), routing-webhook= (NULL: none),
 * routing-webhook-timeout= (seconds, default 3), routing-webhook-fallback=;
 * a fallback rule is looked up in @rules, the rules the config will have.
 * No @path: the defaults. */
S2rSipListenConfig *
s2r_sip_listen_config_new_from_file (const char *path, S2rRoutes * rules,
    GError ** error)
{
  g_autoptr (S2rSipListenConfig) config = g_new0 (S2rSipListenConfig, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) e = NULL;
  g_autofree char *allow = NULL;
  g_autofree char *fallback = NULL;

  config->webhook_timeout_ms = DEFAULT_WEBHOOK_TIMEOUT_MS;
  config->webhook_fallback = DEFAULT_WEBHOOK_FALLBACK;
  if (!path)
    return g_steal_pointer (&config);
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return NULL;
  allow = g_key_file_get_string (kf, "sip", "allow", NULL);
  if (!s2r_cidr_list_parse (allow, &config->allow, error)) {
    g_prefix_error (error, "[sip] ");
    return NULL;
  }
  if (g_key_file_has_key (kf, "sip", "routing-webhook-timeout", NULL)) {
    gdouble t = g_key_file_get_double (kf, "sip", "routing-webhook-timeout",
        &e);

    if (e || t < 0.1 || t > 30) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "routing-webhook-timeout",
          "[sip] routing-webhook-timeout: seconds, 0.1 to 30");
      return NULL;
    }
    config->webhook_timeout_ms = (guint) (t * 1000);
  }
  config->webhook_url = g_key_file_get_string (kf, "sip", "routing-webhook",
      NULL);
  if (!config->webhook_url)
    return g_steal_pointer (&config);
  if (!s2r_routing_webhook_url_is_valid (config->webhook_url)) {
    /* not the URL itself: its query may carry a token */
    s2r_set_error_field (error, S2R_ERROR_INVALID, "routing-webhook",
        "[sip] routing-webhook: expected an http:// or https:// URL with a "
        "host, without spaces");
    return NULL;
  }
  fallback = g_key_file_get_string (kf, "sip", "routing-webhook-fallback",
      NULL);
  if (!read_fallback (config, fallback, rules, error))
    return NULL;
  return g_steal_pointer (&config);
}
