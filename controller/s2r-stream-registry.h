/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * S2rStreamRegistry:
 *
 * Stream keys (rtmpUrl + rtmpStream) held beyond this process: a
 * cluster's Redis (controller/cluster/, docs/cluster.md). Two publishers
 * on one key fight on the CDN, so the call manager checks its own calls
 * first, then has the registry hold the key before anything publishes
 * there: a destination added to a running call, an incoming call. Calls
 * placed through the API are held by the cluster's placement itself.
 * Main loop only; @done runs on it, before the function returns when
 * there is nothing to ask (Redis not connected, the node fenced).
 */
typedef void (*S2rStreamsHeldFunc) (const GError * error, gpointer user_data);

typedef struct
{
  /* @locations for @call_id: a call not created yet (@running FALSE: held
   * a short while, the call's once it is created) or one more destination
   * of a running call (held for it until it ends or is released). @done's
   * error: NULL (held), S2R_ERROR_CONFLICT as s2r_stream_conflict_error()
   * words it (@locations' index), or S2R_ERROR_UNAVAILABLE (the registry
   * cannot tell: nothing held) */
  void (*hold) (gpointer registry, const char *call_id, gboolean running,
      const char *const *locations, S2rStreamsHeldFunc done,
      gpointer user_data);
  /* Given back: what hold got for a call that was not created, or the
   * location of a destination removed from a running call */
  void (*release) (gpointer registry, const char *call_id, gboolean running,
      const char *const *locations);
} S2rStreamRegistry;

/* What a node answers for a stream key in use (409): the @index'th
 * destination of a request (0: field rtmpStream, the call's first or an
 * added destination; N: field destinations, "destination N+1"), "being
 * placed" when only a request in flight holds it */
void s2r_stream_conflict_error (GError ** error, guint index,
    gboolean being_placed);

G_END_DECLS
