/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

#include "s2r-cluster.h"
#include "s2r-redis.h"

G_BEGIN_DECLS

/* Shared by the cluster's files only; the rest of the controller sees
 * s2r-cluster.h. Everything here runs on the main loop. */

/* Another node as the last view (each second) saw it */
typedef struct
{
  char *id;
  char *api;                    /* host:port of its REST API */
  gint max_calls;
  gint active;
  gboolean ready;
  gint placed;                  /* calls we sent it since that view */
} S2rClusterNode;

typedef struct _S2rClusterEvents S2rClusterEvents;

struct _S2rCluster
{
  S2rCallManager *manager;
  S2rApi *api;
  const S2rConfig *config;

  /* [cluster] */
  char *node_id;
  char *advertise;              /* our API's host:port, for the others */
  char *prefix;                 /* of every key */
  guint lease_ms;
  gboolean restart_default;
  guint drain_timeout_s;
  guint stream_maxlen;
  /* SHA-256 of [cluster] secret-key: seals SIP passwords in Redis */
  guint8 key[32];
  gboolean has_key;

  char *owner;                  /* node_id/epoch: who writes a call record */
  S2rRedis *redis;              /* commands */
  S2rRedis *reader;             /* the event stream's blocking reads */
  GHashTable *nodes;            /* id -> S2rClusterNode, live ones */
  gint64 renewed_at;            /* monotonic µs: send time of the last
                                 * lease renewal Redis acknowledged */
  gint64 renew_sent_at;         /* of the one in flight, 0: none */
  gboolean fenced;
  gboolean draining;
  gboolean leaving;             /* drained: lease given back */
  void (*drained) (gpointer);
  gpointer drained_data;
  guint drain_timer;
  guint tick;
  guint ticks;
  GHashTable *pending;          /* callId -> PendingCall, placed here and
                                 * not yet created */
  GHashTable *attempts;         /* callId -> attempt (guint) of our calls */
  GQueue *outbox;               /* record writes while Redis is away */
  SoupSession *session;
  S2rClusterEvents *events;
  gulong event_handler;
  guint64 forwarded;
  /* Kamailio in front of the nodes' SIP listeners: its JSON-RPC URLs, this
   * node's address in its dispatcher list and the set's number */
  char **sip_edges;
  char *sip_edge_address;
  guint sip_edge_group;
  const char *sip_edge_state;   /* the last one set: "a" or "d" */
  /* the API's routes kept in Redis (s2r-cluster-routes.c) */
  char *routes_version;         /* of the copy in the node's S2rRoutes */
  gboolean routes_syncing;      /* the periodic sync is in flight */
  guint routes_writes;          /* POST/DELETEs in flight */
};

/* a forward not answered in this time tries the next node (a request
 * placed holds its callId and stream keys a second longer) */
#define S2R_CLUSTER_FORWARD_TIMEOUT_S 10

/* keys */
char *s2r_cluster_key (S2rCluster * c, const char *kind, const char *id);

/* s2r-cluster-calls.c */
void s2r_cluster_calls_init (S2rCluster * c);
void s2r_cluster_calls_finalize (S2rCluster * c);
void s2r_cluster_calls_expect (S2rCluster * c, const char *call_id,
    const char *body, const char *path, gboolean restart, guint attempt);
void s2r_cluster_calls_flush (S2rCluster * c);
void s2r_cluster_calls_reap (S2rCluster * c, const char *node_id);
/* A record write (an EVAL's argv, taken): now, or after the writes
 * waiting for Redis */
void s2r_cluster_calls_write (S2rCluster * c, GStrv argv);
/* prefix:stream:<HMAC of rtmpUrl + rtmpStream>: held by the active call
 * that publishes there (unique in the cluster) */
char *s2r_cluster_stream_key (S2rCluster * c, const char *location);

/* s2r-cluster-metrics.c: the call manager's metrics part (@user_data: c) */
void s2r_cluster_metrics_render (GString * out, gpointer user_data);

/* s2r-cluster-http.c */
void s2r_cluster_http_init (S2rCluster * c);
void s2r_cluster_http_finalize (S2rCluster * c);
/* Candidates for a new call, best first (ids, self included) */
GPtrArray *s2r_cluster_placement (S2rCluster * c);
/* POST @body to @path on the best node that takes it; for restarts */
void s2r_cluster_place_body (S2rCluster * c, const char *path,
    const char *body, guint attempt);
gboolean s2r_cluster_token_ok (S2rCluster * c, SoupServerMessage * msg);
void s2r_cluster_send_error (SoupServerMessage * msg, guint status,
    const char *code, const char *message);
gboolean s2r_cluster_is_ready (S2rCluster * c, const char **reason);
/* POST @json to @url on the cluster's session (@header: an extra header
 * "Name: value", or NULL); @done gets ok (a 2xx), the answer's body and
 * why not; never called when the session is gone (the process ends) */
typedef void (*S2rClusterPostDone) (gboolean ok, GBytes * answer,
    const char *why, gpointer data);
void s2r_cluster_post_json (S2rCluster * c, const char *url,
    const char *json, const char *header, const char *value,
    S2rClusterPostDone done, gpointer data);
/* Tell the SIP edges (Kamailio's dispatcher) this node's state: "a"
 * (active: joined, lease renewed) or "d" (disabled: draining, fenced);
 * only a change is sent */
void s2r_cluster_sip_edge_set (S2rCluster * c, const char *state);

/* s2r-cluster-events.c */
S2rClusterEvents *s2r_cluster_events_new (S2rCluster * c);
void s2r_cluster_events_free (S2rClusterEvents * e);
guint s2r_cluster_events_get_n_clients (S2rClusterEvents * e);
void s2r_cluster_events_add_client (S2rClusterEvents * e,
    SoupServerMessage * msg);

/* s2r-cluster-routes.c */
gboolean s2r_cluster_routes_request (S2rCluster * c, SoupServerMessage * msg,
    const char *path);
void s2r_cluster_routes_sync (S2rCluster * c);
void s2r_cluster_routes_finalize (S2rCluster * c);

/* s2r-cluster-streams.c: stream keys unique in the cluster */
void s2r_cluster_streams_init (S2rCluster * c);
void s2r_cluster_streams_finalize (S2rCluster * c);
/* One EVAL: the client's callId (@client_id) and the stream keys
 * (@streams, prefix:stream:<HMAC>) of a call being placed, reserved for
 * it when free; @func gets "free", "active" or "placing" (the callId) or
 * a stream conflict (s2r_cluster_stream_conflict) */
gboolean s2r_cluster_streams_reserve (S2rCluster * c, const char *call_id,
    gboolean client_id, GStrv streams, S2rRedisReplyFunc func, gpointer data);
/* The reservations of a call that was not made, given back */
void s2r_cluster_streams_unreserve (S2rCluster * c, const char *call_id,
    GStrv streams);
/* TRUE and @error (a node's words, 409) for a stream conflict reply */
gboolean s2r_cluster_stream_conflict (const char *reply, GError ** error);

/* s2r-cluster-secret.c */
/* the key from [cluster] secret-key (NULL or "": none, passwords left out) */
void s2r_cluster_set_secret_key (S2rCluster * c, const char *secret);
char *s2r_cluster_body_seal (S2rCluster * c, const char *body);
char *s2r_cluster_body_open (S2rCluster * c, const char *sealed);

G_END_DECLS
