/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "gstsipsrcanswer.h"
#include "gstsipuri.h"

GType
gst_sip_src_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_SIP_SRC_MODE_CALL, "Place a call to uri", "call"},
    {GST_SIP_SRC_MODE_ANSWER, "Wait for a call to uri's user on uri's "
          "address and port, and answer it", "answer"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstSipSrcMode",
            values));
  return type;
}

/* An id of sip2rtmp's router: inv-<digits>-<hex> */
static gboolean
invite_id_is_valid (const gchar * id)
{
  return strlen (id) < 48 && g_str_has_prefix (id, "inv-") &&
      strspn (id + 4, "0123456789abcdef-") == strlen (id + 4);
}

/*
 * Answer mode: uri names what we wait for (its user) and where (its host,
 * an IP address of ours; its port, 5060 by default), and
 * caller (a user or user@host) whom, if set. With invite-id (an INVITE
 * parked by a router, see siplistener) the user is not needed. Over TLS
 * (`;transport=tls`, or sips:) the port is 5061 by default.
 */
gboolean
gst_sip_src_answer_plan (const gchar * uri, const gchar * caller,
    const gchar * invite_id, gboolean has_cert, gchar ** user,
    gchar ** listen_address, guint * port, GError ** error)
{
  gchar *full, *host = NULL;
  const gchar *colon, *at;
  GError *err = NULL;
  gboolean tls;

  *user = NULL;
  *listen_address = NULL;
  *port = 0;

  full = gst_sip_uri_complete (uri, &host, port, &err);
  if (!full) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'uri': %s", err->message);
    g_clear_error (&err);
    return FALSE;
  }

  if (!g_hostname_is_ip_address (host)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'uri': in answer mode its host is the local IP "
        "address to listen on, not '%s'", host);
    goto fail;
  }
  /* libre 1.1.0 binds a SIP transport to one address only; and a socket
   * per interface found at start would miss the addresses that come later
   * and could answer from another address than the one called (decided:
   * refused, docs/sipsrc-contract.md) */
  if (!strcmp (host, "0.0.0.0") || !strcmp (host, "::")) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'uri': answer mode listens on one local address, "
        "not '%s' (any): name the address callers reach", host);
    goto fail;
  }
  tls = !g_strcmp0 (gst_sip_uri_transport (full), "tls");
  /* waiting for a user over TLS, our stack is the server: it needs our
   * certificate; a parked INVITE comes on siplistener's stack, with its */
  if (tls && !invite_id && !has_cert) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'tls-cert-file': answer mode over TLS needs our "
        "certificate (PEM)");
    goto fail;
  }

  colon = strchr (full, ':') + 1;
  at = strchr (colon, '@');
  if (at)
    *user = g_strndup (colon, at - colon);
  if (!invite_id && !gst_sip_uri_user_is_valid (*user)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'uri': answer mode needs the user to answer for "
        "(sip:room42@<address>:<port>)");
    goto fail;
  }
  if (caller && (!*caller || strlen (caller) > 128 ||
          strspn (caller, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
              "0123456789-_.!~*'()&=+$,;?/%@[]:") != strlen (caller))) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'caller': a SIP user or user@host");
    goto fail;
  }
  if (invite_id && !invite_id_is_valid (invite_id)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid property 'invite-id': not an id of siplistener's");
    goto fail;
  }

  if (!*port)
    *port = tls ? 5061 : 5060;
  *listen_address = host;
  g_free (full);
  return TRUE;

fail:
  g_clear_pointer (user, g_free);
  g_free (host);
  g_free (full);
  return FALSE;
}
