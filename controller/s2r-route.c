/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-route.h"

#include <string.h>

/**
 * s2r_route_match:
 * @params: (out) (optional): the captured segments, in order, when it
 *   matches (a %NULL-terminated array, even if empty)
 *
 * Returns: whether @path is one of @pattern's
 */
gboolean
s2r_route_match (const char *pattern, const char *path, GStrv * params)
{
  g_auto (GStrv) want = g_strsplit (pattern, "/", -1);
  g_auto (GStrv) have = g_strsplit (path, "/", -1);
  g_autoptr (GStrvBuilder) captured = g_strv_builder_new ();

  if (g_strv_length (want) != g_strv_length (have))
    return FALSE;
  for (guint i = 0; want[i]; i++) {
    if (want[i][0] == '{') {
      if (have[i][0] == '\0')
        return FALSE;
      g_strv_builder_add (captured, have[i]);
    } else if (strcmp (want[i], have[i]) != 0) {
      return FALSE;
    }
  }
  if (params)
    *params = g_strv_builder_end (captured);
  return TRUE;
}

gboolean
s2r_route_allows (const char *allow, const char *method)
{
  g_auto (GStrv) methods = g_strsplit (allow, ",", -1);

  for (guint i = 0; methods[i]; i++)
    if (g_strcmp0 (g_strstrip (methods[i]), method) == 0)
      return TRUE;
  return FALSE;
}
