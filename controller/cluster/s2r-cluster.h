/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "s2r-api.h"
#include "s2r-call-manager.h"
#include "s2r-config.h"

G_BEGIN_DECLS

/**
 * S2rCluster:
 *
 * This node's part in a cluster of gateways that share a Redis
 * (docs/cluster.md): its lease, the calls it owns, the placement of new
 * calls, requests forwarded to the owner of a call, the cluster's event
 * stream, the calls of lost nodes, fencing and drain. Everything runs on
 * the main loop; nothing waits for Redis or for another node.
 */
typedef struct _S2rCluster S2rCluster;

/* NULL without error when @config_file has no [cluster] group (or there
 * is no file): the single-node gateway, unchanged */
S2rCluster *s2r_cluster_new_from_file (const char *config_file,
    S2rCallManager * manager, S2rApi * api, const S2rConfig * config,
    GError ** error);
void s2r_cluster_free (S2rCluster * cluster);
/* SIGTERM: out of placement, not ready, the calls run to their end (at
 * most [cluster] drain-timeout), then @done(@user_data) */
void s2r_cluster_drain (S2rCluster * cluster, void (*done) (gpointer),
    gpointer user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rCluster, s2r_cluster_free);

G_END_DECLS
