/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-sip-fields.h"

#include <string.h>

/* sipsrc's sip-headers contract: X- headers and these; the headers the SIP
 * stack writes itself can never be set by a client */
static const char *const safe_headers[] = {
  "P-Asserted-Identity", "P-Preferred-Identity", "Remote-Party-ID",
  "Privacy", "Subject", "Priority", "Organization", "Call-Info",
  "Alert-Info", "User-to-User", "Diversion", NULL
};

/* 0-9 * # A-D, w a 0.5 s pause, as a phone's dial string */
gboolean
s2r_dtmf_digits_are_valid (const char *digits)
{
  size_t n = digits ? strlen (digits) : 0;

  return n > 0 && n <= S2R_DTMF_MAX &&
      strspn (digits, "0123456789*#ABCDw") == n;
}

gboolean
s2r_dtmf_method_is_valid (const char *method)
{
  return !g_strcmp0 (method, "rfc4733") || !g_strcmp0 (method, "info");
}

/* RFC 3261 25.1 token, and one a client may set */
gboolean
s2r_sip_header_name_is_allowed (const char *name)
{
  const char *c;

  if (!name || !*name || strlen (name) > 64)
    return FALSE;
  for (c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && !strchr ("-.!%*_+`'~", *c))
      return FALSE;
  if (g_ascii_strncasecmp (name, "X-", 2) == 0 && name[2])
    return TRUE;
  for (guint i = 0; safe_headers[i]; i++)
    if (g_ascii_strcasecmp (name, safe_headers[i]) == 0)
      return TRUE;
  return FALSE;
}

/* One line of printable text: CR, LF and other control characters would
 * start another header */
gboolean
s2r_sip_header_value_is_valid (const char *value)
{
  size_t n = value ? strlen (value) : 0;

  if (n == 0 || n > S2R_SIP_HEADER_VALUE_MAX ||
      !g_utf8_validate (value, -1, NULL))
    return FALSE;
  for (const char *c = value; *c; c++)
    if ((guchar) * c < 0x20 || *c == 0x7f)
      return FALSE;
  return TRUE;
}
