/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsipsrc.h"
#include "gstrtmppubsink.h"
#include "gstsiplistener.h"
#include "libre/runtime.h"

GST_DEBUG_CATEGORY_STATIC (libre_debug);

/* the libre runtime's log (its modules' and libre's own, syslog levels)
 * into the libre category */
static void
runtime_log_to_gst (int level, const char *msg, void *arg)
{
  GstDebugLevel gst_level;

  if (level <= 3)
    gst_level = GST_LEVEL_ERROR;
  else if (level == 4)
    gst_level = GST_LEVEL_WARNING;
  else if (level <= 6)
    gst_level = GST_LEVEL_INFO;
  else if (level == 7)
    gst_level = GST_LEVEL_DEBUG;
  else
    gst_level = GST_LEVEL_LOG;

  GST_CAT_LEVEL_LOG (libre_debug, gst_level, NULL, "%s", msg);
}


static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ok;

  /* every element of the plugin shares libre: its log goes to one place */
  GST_DEBUG_CATEGORY_INIT (libre_debug, "libre", 0,
      "libre, the SIP and RTMP stack of the plugin");
  runtime_set_log_handler (runtime_log_to_gst, NULL);

  ok = GST_ELEMENT_REGISTER (sipsrc, plugin);

  ok &= GST_ELEMENT_REGISTER (rtmppubsink, plugin);
  ok &= GST_ELEMENT_REGISTER (siplistener, plugin);   /* issue 14 */
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, sip2rtmp,
    "SIP calls in, RTMP out, on libre's shared event loop", plugin_init, VERSION,
    GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
