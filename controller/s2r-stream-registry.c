/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* The words of a stream key in use: one place for the node's own check
 * (s2r-call-manager.c) and the cluster's (controller/cluster/), so that a
 * client sees one answer wherever the other publisher is */

#include "s2r-stream-registry.h"
#include "s2r-error.h"

void
s2r_stream_conflict_error (GError ** error, guint index, gboolean being_placed)
{
  const char *placed = being_placed ? " being placed" : "";

  if (index == 0)
    s2r_set_error_field (error, S2R_ERROR_CONFLICT, "rtmpStream",
        "rtmpUrl + rtmpStream is in use by an active call%s", placed);
  else
    s2r_set_error_field (error, S2R_ERROR_CONFLICT, "destinations",
        "destination %u (rtmpUrl + rtmpStream) is in use by an active "
        "call%s", index + 1, placed);
}
