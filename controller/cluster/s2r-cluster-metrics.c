/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The cluster's lines of GET /metrics (the call manager's metrics parts):
 * what an operator watching a cluster needs to see from each node, in the
 * Prometheus text format: whether the node takes calls (its state), how
 * fresh its lease is (a fence comes when it grows past the lease), how
 * many nodes it sees, what it forwards and what waits for Redis. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-cluster-private.h"
#include "s2r-redis.h"
#include "s2r-metrics.h"

/* active: joined, its lease renewed; draining: SIGTERM, taking no new
 * call; fenced: its lease may have run out, its calls hung up */
static const char *
node_state (S2rCluster * c)
{
  if (c->fenced)
    return "fenced";
  if (c->draining)
    return "draining";
  return "active";
}

void
s2r_cluster_metrics_render (GString * out, gpointer user_data)
{
  S2rCluster *c = user_data;
  static const char *const states[] = { "active", "draining", "fenced" };
  const char *state = node_state (c);

  s2r_metrics_append_header (out, "sip2rtmp_cluster_node_state", "gauge",
      "This node's state in the cluster: 1 for the one it is in.");
  for (guint i = 0; i < G_N_ELEMENTS (states); i++)
    g_string_append_printf (out, "sip2rtmp_cluster_node_state{state=\"%s\"} "
        "%d\n", states[i], !g_strcmp0 (state, states[i]));
  s2r_metrics_append_gauge (out, "sip2rtmp_cluster_nodes",
      "Live nodes this node sees in Redis, itself included.",
      g_hash_table_size (c->nodes));
  s2r_metrics_append_gauge (out, "sip2rtmp_cluster_lease_age_seconds",
      "Since Redis last acknowledged this node's lease renewal.",
      (g_get_monotonic_time () - c->renewed_at) / (gdouble) G_USEC_PER_SEC);
  s2r_metrics_append_counter (out,
      "sip2rtmp_cluster_forwarded_requests_total",
      "API requests this node forwarded to the node that owns the call or "
      "takes it.", c->forwarded);
  s2r_metrics_append_gauge (out, "sip2rtmp_cluster_records_queued",
      "Call record writes waiting for Redis (sent when it is back).",
      g_queue_get_length (c->outbox));
  s2r_metrics_append_gauge (out, "sip2rtmp_cluster_sse_clients",
      "Clients of GET /api/v1/events on this node (the cluster's stream); "
      "one that left counts until the next write.",
      c->events ? s2r_cluster_events_get_n_clients (c->events) : 0);
  s2r_metrics_append_counter (out, "sip2rtmp_cluster_redis_commands_total",
      "Commands sent to Redis.", s2r_redis_get_n_commands (c->redis) +
      s2r_redis_get_n_commands (c->reader));
}
