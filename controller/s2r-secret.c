/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-secret.h"

#include <string.h>

char *
s2r_secret_dup (const char *secret)
{
  return g_strdup (secret);
}

/* explicit_bzero: a plain memset before free may be optimised away */
void
s2r_secret_free (char *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

/* @value: (transfer full) */
void
s2r_secret_replace (char **secret, char *value)
{
  s2r_secret_free (*secret);
  *secret = value;
}
