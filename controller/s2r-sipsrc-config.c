/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-sipsrc-config.h"
#include "s2r-sip-listen.h"
#include "s2r-debug.h"

S2R_DEBUG_CATEGORY ("s2r-sipsrc-config", "sip2rtmp sipsrc configuration");
#define GST_CAT_DEFAULT s2r_debug_category ()

/* Only set what this sipsrc has: the element is developed alongside */
static void
set_prop (GstElement * element, const char *name, const char *value)
{
  if (value == NULL)
    return;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element), name) == NULL) {
    GST_WARNING_OBJECT (element, "no property %s", name);
    return;
  }
  gst_util_set_object_arg (G_OBJECT (element), name, value);
}

static void
set_string_prop (GstElement * element, const char *name, const char *value)
{
  if (value == NULL)
    return;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element), name) == NULL) {
    GST_WARNING_OBJECT (element, "no property %s", name);
    return;
  }
  /* Set as a string so nothing is parsed out of user input */
  g_object_set (element, name, value, NULL);
}

static void
set_uint_prop (GstElement * element, const char *name, guint value)
{
  g_autofree char *str = g_strdup_printf ("%u", value);

  set_prop (element, name, str);
}

void
s2r_sipsrc_configure (GstElement * sip, const S2rCallRequest * req,
    const S2rCallSettings * settings, const S2rConfig * config)
{
  guint max_failures, window, lockout;

  set_string_prop (sip, "uri", s2r_call_request_get_sip_uri (req));
  set_string_prop (sip, "user-id", s2r_call_request_get_sip_login (req));
  set_string_prop (sip, "user-pw", s2r_call_request_get_sip_password (req));
  set_string_prop (sip, "auth-user", s2r_call_request_get_sip_auth_name (req));
  set_string_prop (sip, "from-uri", s2r_call_request_get_from_uri (req));
  set_string_prop (sip, "display-name",
      s2r_call_request_get_visible_name (req));
  set_string_prop (sip, "proxy", s2r_call_request_get_proxy (req));
  set_prop (sip, "transport", s2r_call_request_get_transport (req));
  set_string_prop (sip, "local-address", s2r_config_get_local_address (config));
  set_string_prop (sip, "public-address",
      s2r_call_request_get_public_address (req) ?
      s2r_call_request_get_public_address (req) :
      s2r_config_get_public_address (config));
  set_string_prop (sip, "user-agent", s2r_config_get_user_agent (config));
  set_string_prop (sip, "codecs", s2r_config_get_codecs (config));
  set_prop (sip, "srtp", settings->srtp);
  set_string_prop (sip, "tls-ca-file", s2r_config_get_tls_ca_file (config));
  set_prop (sip, "tls-verify", s2r_config_get_tls_verify (config) ?
      "true" : "false");
  set_string_prop (sip, "tls-cert-file",
      s2r_config_get_tls_cert_file (config));
  set_string_prop (sip, "tls-key-file", s2r_config_get_tls_key_file (config));
  /* WCS: both media are offered; "true" sends too, "false" only receives */
  set_prop (sip, "audio", s2r_call_request_get_has_audio (req) ?
      "sendrecv" : "recvonly");
  set_prop (sip, "video", s2r_call_request_get_has_video (req) ?
      "sendrecv" : "recvonly");
  set_prop (sip, "register", s2r_call_request_get_register (req) ?
      "true" : "false");
  set_string_prop (sip, "dtmf", s2r_call_request_get_dtmf (req));
  if (s2r_call_request_get_sip_headers (req)) {
    const char *const *h = s2r_call_request_get_sip_headers (req);
    GstStructure *headers = gst_structure_new_empty ("headers");

    /* checked by the request (s2r-sip-fields.c), as sipsrc will */
    for (; h[0] && h[1]; h += 2)
      gst_structure_set (headers, h[0], G_TYPE_STRING, h[1], NULL);
    g_object_set (sip, "sip-headers", headers, NULL);
    gst_structure_free (headers);
  }
  set_uint_prop (sip, "answer-timeout", s2r_config_get_answer_timeout (config));
  set_uint_prop (sip, "rtp-timeout", settings->rtp_timeout);
  s2r_config_get_auth_limit (config, &max_failures, &window, &lockout);
  set_uint_prop (sip, "auth-max-failures", max_failures);
  set_uint_prop (sip, "auth-failure-window", window);
  set_uint_prop (sip, "auth-lockout", lockout);
  /* issue 14: an incoming call is answered, not placed */
  s2r_incoming_configure_sipsrc (sip, s2r_call_request_get_incoming (req));
}
