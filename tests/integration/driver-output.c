/* sip2rtmp: what the integration tests' drivers print
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include "driver-output.h"

void
driver_say (const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

void
driver_print_message (GstMessage * msg, guint seq)
{
  const GstStructure *s = gst_message_get_structure (msg);
  gchar *text =
      s ? gst_structure_to_string (s) : g_strdup ("no message details");
  GError *err = NULL;
  gchar *dbg = NULL;

  driver_say ("Got message #%u from element \"%s\" (%s): %s", seq,
      GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), GST_MESSAGE_TYPE_NAME (msg),
      text);
  g_free (text);

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &err, &dbg);
  else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING)
    gst_message_parse_warning (msg, &err, &dbg);
  if (err)
    driver_say ("%s: from element %s: %s (%s)",
        GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR ? "ERROR" : "WARNING",
        GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message, dbg ? dbg : "");
  g_clear_error (&err);
  g_free (dbg);
}
