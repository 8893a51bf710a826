/* sip2rtmp: what every libFuzzer target of tests/fuzz shares: GLib's
 * CRITICALs and WARNINGs are fatal
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include "fuzz-glib.h"

/* GLib's own fatal logs stop with SIGTRAP, which libFuzzer does not catch
 * (no input saved): abort instead */
static GLogWriterOutput
fatal_writer (GLogLevelFlags level, const GLogField * fields, gsize n_fields,
    gpointer user_data)
{
  GLogWriterOutput out = g_log_writer_default (level, fields, n_fields,
      user_data);

  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
          G_LOG_LEVEL_WARNING))
    abort ();
  return out;
}

/* A CRITICAL or a WARNING on hostile input is a finding too, like a crash */
int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_writer_func (fatal_writer, NULL, NULL);
  return 0;
}
