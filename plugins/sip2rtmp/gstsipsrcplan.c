/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gio/gio.h>
#include "gstsipsrcplan.h"
#include "gstsipuri.h"
#include "gstsipheaders.h"
#include "gstsipdtmfsender.h"
#include "codecs.h"

void
gst_sip_src_plan_free (GstSipSrcPlan * plan)
{
  if (!plan)
    return;
  g_free (plan->request_uri);
  g_free (plan->from_uri);
  g_free (plan->route);
  g_free (plan->target_host);
  g_free (plan->local_address);
  g_free (plan->codecs);
  g_free (plan->user_agent);
  g_free (plan->display_name);
  g_free (plan->auth_user);
  if (plan->password)
    memset (plan->password, 0, strlen (plan->password));
  g_free (plan->password);
  g_free (plan->extra_headers);
  g_free (plan->public_address);
  g_free (plan->tls_ca_file);
  g_free (plan->tls_cert_file);
  g_free (plan->tls_key_file);
  g_free (plan->answer_user);
  g_free (plan->answer_caller);
  g_free (plan->answer_invite_id);
  g_free (plan);
}

static const gchar *
transport_param (enum sipua_transport transport)
{
  switch (transport) {
    case SIPUA_TRANSPORT_TCP:
      return "tcp";
    case SIPUA_TRANSPORT_TLS:
      return "tls";
    default:
      return "udp";
  }
}

/* Checks the properties and makes the plan of their call. Any problem
 * names the property. */
GstSipSrcPlan *
gst_sip_src_plan_new (const GstSipSrcSettings * s, GError ** error)
{
  GstSipSrcPlan *plan = g_new0 (GstSipSrcPlan, 1);
  gchar *uri = NULL, *route = NULL, *host = NULL, *proxy_host = NULL;
  const gchar *transport;
  enum sipua_transport transport_mode;
  GError *err = NULL;
  gboolean any_media = FALSE;
  guint i;

  uri = gst_sip_uri_complete (s->uri, &host, NULL, &err);
  /* a sips: URI is reached over TLS (RFC 3261 26.2); a URI's (or the
   * proxy's, the next hop's) transport parameter wins over the property */
  transport = gst_sip_uri_transport (s->proxy && *s->proxy ?
      s->proxy : uri);
  transport_mode = !g_strcmp0 (transport, "tls") ? SIPUA_TRANSPORT_TLS :
      !g_strcmp0 (transport, "tcp") ? SIPUA_TRANSPORT_TCP :
      !g_strcmp0 (transport, "udp") ? SIPUA_TRANSPORT_UDP : s->transport;
  transport = transport_param (transport_mode);
  if (!uri) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'uri': %s", err->message);
    goto fail;
  }
  if (s->user_id && !gst_sip_uri_user_is_valid (s->user_id)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'user-id': empty or with blanks, '@', ':' or "
        "quotes");
    goto fail;
  }
  if (s->auth_user && !*s->auth_user) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'auth-user': empty");
    goto fail;
  }
  if (s->dtmf && (!*s->dtmf || strlen (s->dtmf) > 60 ||
          strspn (s->dtmf, GST_SIP_DTMF_DIGITS) != strlen (s->dtmf))) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'dtmf': 1 to 60 of 0-9 * # A-D and w");
    goto fail;
  }
  if (s->user_pw && !s->user_id && !s->auth_user) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'user-id': must be set when 'user-pw' is");
    goto fail;
  }
  if ((s->user_id || s->auth_user) && s->user_pw && !*s->user_pw) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'user-pw': empty");
    goto fail;
  }
  if (s->proxy && *s->proxy) {
    route = gst_sip_uri_complete (s->proxy, &proxy_host, NULL, &err);
    if (!route) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Invalid property 'proxy': %s", err->message);
      goto fail;
    }
  }
  if (s->from_uri && *s->from_uri) {
    plan->from_uri = gst_sip_uri_complete (s->from_uri, NULL, NULL, &err);
    if (!plan->from_uri) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Invalid property 'from-uri': %s", err->message);
      goto fail;
    }
  } else {
    gboolean v6 = strchr (host, ':') != NULL;
    plan->from_uri = g_strdup_printf ("sip:%s@%s%s%s",
        s->user_id ? s->user_id : "sipsrc", v6 ? "[" : "", host,
        v6 ? "]" : "");
  }
  if (s->local_address && *s->local_address &&
      !g_hostname_is_ip_address (s->local_address)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'local-address': '%s' is not an IP address",
        s->local_address);
    goto fail;
  }
  if (s->tls_key_file && *s->tls_key_file && !(s->tls_cert_file &&
          *s->tls_cert_file)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'tls-cert-file': must be set when 'tls-key-file' "
        "is");
    goto fail;
  }
  if (s->rtp_port_max && s->rtp_port_min > s->rtp_port_max) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'rtp-port-min': above 'rtp-port-max'");
    goto fail;
  }

  for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
    struct sipua_media_offer *mo = &plan->prm.media[i];
    gchar **names = g_strsplit (s->codecs ? s->codecs : "", ",", -1);
    gchar **n;
    gboolean found = FALSE;

    mo->dir = s->media_mode[i];
    for (n = names; *n; n++) {
      const struct codec *c;
      int media;

      g_strstrip (*n);
      if (**n == '\0')
        continue;
      c = codec_find (*n, strlen (*n));
      media = c ? (int) c->media : -1;
      if (media < 0) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "Invalid property 'codecs': unknown codec '%s'", *n);
        g_strfreev (names);
        goto fail;
      }
      if ((guint) media == i)
        found = TRUE;
    }
    g_strfreev (names);

    if (mo->dir != SIPUA_DIR_OFF) {
      any_media = TRUE;
      if (!found) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "Invalid property 'codecs': no %s codec in '%s'",
            i == SIPUA_MEDIA_AUDIO ? "audio" : "video", s->codecs);
        goto fail;
      }
    }
  }
  if (!any_media) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'audio': 'audio' and 'video' are both off");
    goto fail;
  }

  plan->request_uri = gst_sip_uri_with_transport (uri, transport);
  if (route)
    plan->route = gst_sip_uri_with_transport (route, transport);
  plan->target_host = g_strdup (proxy_host ? proxy_host : host);
  plan->local_address = g_strdup (s->local_address && *s->local_address ?
      s->local_address : NULL);
  plan->codecs = g_strdup (s->codecs);
  plan->user_agent = g_strdup (s->user_agent);
  plan->display_name = g_strdup (s->display_name);
  plan->auth_user = g_strdup (s->auth_user ? s->auth_user :
      s->user_id);
  plan->password = g_strdup (s->user_pw);
  if (s->sip_headers) {
    plan->extra_headers = gst_sip_headers_format (s->sip_headers, &err);
    if (!plan->extra_headers) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Invalid property 'sip-headers': %s", err->message);
      goto fail;
    }
  }
  if (s->public_address) {
    GInetAddress *addr = g_inet_address_new_from_string (s->public_address);

    if (!addr) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Invalid property 'public-address': not an IP address");
      goto fail;
    }
    g_object_unref (addr);
    plan->public_address = g_strdup (s->public_address);
  }
  plan->rtp_port_min = s->rtp_port_min;
  plan->rtp_port_max = s->rtp_port_max;

  plan->prm.transport = transport_mode;
  plan->prm.srtp = s->srtp;
  plan->prm.tls_no_verify = !s->tls_verify;
  plan->tls_ca_file = g_strdup (s->tls_ca_file && *s->tls_ca_file ?
      s->tls_ca_file : NULL);
  plan->tls_cert_file = g_strdup (s->tls_cert_file &&
      *s->tls_cert_file ? s->tls_cert_file : NULL);
  plan->tls_key_file = g_strdup (s->tls_key_file && *s->tls_key_file ?
      s->tls_key_file : NULL);
  plan->prm.sip_port = s->sip_port;
  plan->prm.answer_timeout_ms = s->answer_timeout * 1000;
  plan->prm.register_first = s->do_register;
  /* issue 14: answer mode listens on the uri's address and port */
  if (s->mode == GST_SIP_SRC_MODE_ANSWER) {
    gchar *listen_address = NULL;
    guint port = 0;

    if (!gst_sip_src_answer_plan (s->uri, s->caller, s->invite_id,
            plan->tls_cert_file != NULL, &plan->answer_user,
            &listen_address, &port, error))
      goto fail;
    g_free (plan->local_address);
    plan->local_address = listen_address;
    plan->prm.sip_port = port;
    plan->answer_caller = g_strdup (s->caller);
    plan->answer_invite_id = g_strdup (s->invite_id);
    plan->answer.max_failures = s->auth_max_failures;
    plan->answer.failure_window_ms = s->auth_failure_window * 1000;
    plan->answer.lockout_ms = s->auth_lockout * 1000;
    plan->answering = TRUE;
  }
  g_free (uri);
  g_free (route);
  g_free (host);
  g_free (proxy_host);
  return plan;

fail:
  g_clear_error (&err);
  g_free (uri);
  g_free (route);
  g_free (host);
  g_free (proxy_host);
  gst_sip_src_plan_free (plan);
  return NULL;
}
