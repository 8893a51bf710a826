/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* What an application may add to our INVITE: X- headers (what carriers
 * and bridges read: X-Room, X-Twilio-...) and a short list of others that
 * say who calls and why. Everything the SIP stack writes itself (Via, From,
 * To, Call-ID, CSeq, Contact, Route, Max-Forwards, the body's, the
 * authorization's, the session timer's...) cannot be set or overridden.
 * A value is one line: CR, LF and NUL are refused, never escaped. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "gstsipheaders.h"

#define MAX_VALUE 1024
#define MAX_HEADERS 32

static const gchar *const safe_headers[] = {
  "P-Asserted-Identity", "P-Preferred-Identity", "Remote-Party-ID",
  "Privacy", "Subject", "Priority", "Organization", "Call-Info",
  "Alert-Info", "User-to-User", "Diversion", NULL
};

/* RFC 3261 25.1 token characters */
static gboolean
is_token (const gchar * s)
{
  if (!*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && !strchr ("-.!%*_+`'~", *s))
      return FALSE;
  return TRUE;
}

static gboolean
name_is_allowed (const gchar * name)
{
  guint i;

  if (g_ascii_strncasecmp (name, "X-", 2) == 0 && name[2])
    return TRUE;
  for (i = 0; safe_headers[i]; i++)
    if (g_ascii_strcasecmp (name, safe_headers[i]) == 0)
      return TRUE;
  return FALSE;
}

typedef struct
{
  GString *out;
  GError **error;
} FormatData;

static gboolean
format_field (GQuark field, const GValue * value, gpointer user_data)
{
  FormatData *d = user_data;
  const gchar *name = g_quark_to_string (field);
  const gchar *text;

  if (!is_token (name) || !name_is_allowed (name)) {
    g_set_error (d->error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "header '%s' cannot be set: X- headers and %s only", name,
        "P-Asserted-Identity, P-Preferred-Identity, Remote-Party-ID, "
        "Privacy, Subject, Priority, Organization, Call-Info, Alert-Info, "
        "User-to-User, Diversion");
    return FALSE;
  }
  if (!G_VALUE_HOLDS_STRING (value) || !(text = g_value_get_string (value))
      || !*text || strlen (text) > MAX_VALUE || strpbrk (text, "\r\n")) {
    g_set_error (d->error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "header '%s': a string of 1 to %d characters on one line", name,
        MAX_VALUE);
    return FALSE;
  }
  g_string_append_printf (d->out, "%s: %s\r\n", name, text);
  return TRUE;
}

/* "Name: value\r\n" each, or NULL and an error naming the header */
gchar *
gst_sip_headers_format (const GstStructure * headers, GError ** error)
{
  FormatData d = { g_string_new (NULL), error };

  if (gst_structure_n_fields (headers) > MAX_HEADERS) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "more than %d headers", MAX_HEADERS);
    g_string_free (d.out, TRUE);
    return NULL;
  }
  if (!gst_structure_foreach (headers, format_field, &d)) {
    g_string_free (d.out, TRUE);
    return NULL;
  }
  return g_string_free (d.out, FALSE);
}

/* "Name: value\r\n" lines (the SIP thread's) into a structure; a name a
 * GstStructure cannot hold is left out */
GstStructure *
gst_sip_headers_parse (const gchar * text)
{
  GstStructure *s = gst_structure_new_empty ("headers");
  gchar **lines = g_strsplit (text ? text : "", "\r\n", -1);
  gchar **l;

  for (l = lines; *l; l++) {
    gchar *colon = strchr (*l, ':');

    if (!colon || colon == *l)
      continue;
    *colon = '\0';
    if (is_token (*l) && g_ascii_isalpha (**l))
      gst_structure_set (s, *l, G_TYPE_STRING, g_strstrip (colon + 1), NULL);
  }
  g_strfreev (lines);
  return s;
}
