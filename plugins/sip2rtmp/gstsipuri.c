/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Checks and completes the SIP URIs a user gives sipsrc, so that a bad
 * one fails the state change with a message, not the SIP stack later. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "gstsipuri.h"

static gboolean
is_host_char (gchar c)
{
  return g_ascii_isalnum (c) || c == '.' || c == '-' || c == '_';
}

/* Splits "sip:user@host:port;params?headers" and checks each part */
static gboolean
uri_parse (const gchar * uri, gchar ** host_out, guint * port_out,
    const gchar ** why)
{
  const gchar *p, *at, *host, *end;
  gsize host_len;

  if (g_str_has_prefix (uri, "sip:"))
    p = uri + 4;
  else if (g_str_has_prefix (uri, "sips:"))
    p = uri + 5;
  else {
    *why = "it does not start with sip: or sips:";
    return FALSE;
  }

  for (end = uri; *end; end++) {
    if (g_ascii_isspace (*end) || g_ascii_iscntrl (*end) || *end == '<'
        || *end == '>' || *end == '"') {
      *why = "it contains blanks, control characters, quotes or <>";
      return FALSE;
    }
  }

  /* the host part starts after the last @ before any ; or ? */
  end = p + strcspn (p, ";?");
  at = g_strrstr_len (p, end - p, "@");
  if (at == p) {
    *why = "the user part before @ is empty";
    return FALSE;
  }
  host = at ? at + 1 : p;

  if (*host == '[') {
    const gchar *close = strchr (host, ']');
    if (!close || close > end) {
      *why = "an IPv6 address lacks its ]";
      return FALSE;
    }
    host_len = close - host + 1;
  } else {
    host_len = 0;
    while (host + host_len < end && is_host_char (host[host_len]))
      host_len++;
  }

  if (host_len == 0) {
    *why = "it has no host";
    return FALSE;
  }

  p = host + host_len;
  *port_out = 0;
  if (*p == ':') {
    gchar *num_end;
    guint64 port = g_ascii_strtoull (p + 1, &num_end, 10);

    if (num_end == p + 1 || port == 0 || port > 65535) {
      *why = "its port is not a number from 1 to 65535";
      return FALSE;
    }
    *port_out = (guint) port;
    p = num_end;
  }

  if (p != end) {
    *why = "its host has characters a host name cannot have";
    return FALSE;
  }

  if (host_out) {
    if (*host == '[')
      *host_out = g_strndup (host + 1, host_len - 2);
    else
      *host_out = g_strndup (host, host_len);
  }
  return TRUE;
}

gchar *
gst_sip_uri_complete (const gchar * uri, gchar ** host, guint * port,
    GError ** error)
{
  gchar *full;
  const gchar *why = NULL;
  guint dummy_port;

  if (!uri || !*uri) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "it is empty");
    return NULL;
  }

  if (g_str_has_prefix (uri, "sip:") || g_str_has_prefix (uri, "sips:"))
    full = g_strdup (uri);
  else if (strstr (uri, "://") || g_str_has_prefix (uri, "tel:"))
    full = NULL, why = "it is not a sip: or sips: URI";
  else
    full = g_strconcat ("sip:", uri, NULL);

  if (full && !uri_parse (full, host, port ? port : &dummy_port, &why))
    g_clear_pointer (&full, g_free);

  if (!full)
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "'%s' is not a SIP URI: %s", uri, why);
  return full;
}

gboolean
gst_sip_uri_user_is_valid (const gchar * user)
{
  const gchar *p;

  if (!user || !*user)
    return FALSE;
  for (p = user; *p; p++) {
    if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p) || strchr ("@:<>\";", *p))
      return FALSE;
  }
  return TRUE;
}

/* The transport a URI asks for: "tls" for sips: or ;transport=tls,
 * "tcp", "udp", or NULL when it says nothing */
const gchar *
gst_sip_uri_transport (const gchar * uri)
{
  gchar *lower;
  const gchar *t = NULL;

  if (!uri)
    return NULL;
  if (g_str_has_prefix (uri, "sips:"))
    return "tls";
  lower = g_ascii_strdown (uri, -1);
  if (strstr (lower, ";transport=tls"))
    t = "tls";
  else if (strstr (lower, ";transport=tcp"))
    t = "tcp";
  else if (strstr (lower, ";transport=udp"))
    t = "udp";
  g_free (lower);
  return t;
}

/* libre takes the transport from the next hop's URI. libre 1.1.0 routes
 * sip: URIs only (a sips: one is refused with ENOSYS): a sips: URI is
 * called as sip:...;transport=tls, TLS to the peer, which is what Twilio
 * and PBXs document for TLS trunks. */
gchar *
gst_sip_uri_with_transport (const gchar * uri, const gchar * transport)
{
  if (g_str_has_prefix (uri, "sips:"))
    return strstr (uri, ";transport=") ? g_strconcat ("sip:", uri + 5, NULL)
        : g_strdup_printf ("sip:%s;transport=tls", uri + 5);

  if (!transport || !g_strcmp0 (transport, "udp") || strstr (uri,
          ";transport="))
    return g_strdup (uri);

  return g_strdup_printf ("%s;transport=%s", uri, transport);
}
