/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* One debug category per file, registered on first use (as gst-libs do):
 * a file's code never depends on another file having run first.
 *   S2R_DEBUG_CATEGORY ("s2r-recorder", "sip2rtmp call recordings");
 *   #define GST_CAT_DEFAULT s2r_debug_category () */
#define S2R_DEBUG_CATEGORY(name, description)                              \
  static GstDebugCategory *                                                \
  s2r_debug_category (void)                                                \
  {                                                                        \
    static gsize cat = 0;                                                  \
                                                                           \
    if (g_once_init_enter (&cat))                                          \
      g_once_init_leave (&cat, (gsize) _gst_debug_category_new (name, 0,   \
              description));                                               \
    return (GstDebugCategory *) cat;                                       \
  }

G_END_DECLS
