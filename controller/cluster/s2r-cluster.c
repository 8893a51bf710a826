/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* The node: its [cluster] settings, its lease in Redis, the view of the
 * other nodes, fencing and drain. Timings: docs/cluster.md, "Leases". */

#include "s2r-cluster-private.h"
#include "s2r-error.h"

#include <string.h>

#define TICK_MS 250
#define DEFAULT_LEASE_MS 3000
/* a lease renewal unanswered this long: the connection is dead or hung */
#define RENEW_REPLY_TIMEOUT_US (1500 * 1000)

/* Sets the node's lease and keeps it in the set of nodes, in one op */
static const char lease_script[] =
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
    "redis.call('SADD', KEYS[2], ARGV[3]) return 1";

/* Every node of the set with its lease's value ('' once expired) */
static const char view_script[] =
    "local ids = redis.call('SMEMBERS', KEYS[1]) local out = {} "
    "for _, id in ipairs(ids) do out[#out + 1] = id "
    "out[#out + 1] = redis.call('GET', ARGV[1] .. id) or '' end return out";

char *
s2r_cluster_key (S2rCluster * c, const char *kind, const char *id)
{
  return id ? g_strconcat (c->prefix, ":", kind, ":", id, NULL) :
      g_strconcat (c->prefix, ":", kind, NULL);
}

static void
node_free (gpointer data)
{
  S2rClusterNode *n = data;

  g_free (n->id);
  g_free (n->api);
  g_free (n);
}

static gboolean
id_is_valid (const char *id)
{
  gsize len = strlen (id);

  if (len == 0 || len > 64)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

gboolean
s2r_cluster_is_ready (S2rCluster * c, const char **reason)
{
  /* not capacity: a full node still answers for its calls and places new
   * ones on the others */
  if (c->draining)
    *reason = "draining";
  else if (c->fenced)
    *reason = "fenced: the lease in Redis could not be renewed";
  else if (!s2r_redis_is_connected (c->redis))
    *reason = "no connection to Redis";
  else
    return TRUE;
  return FALSE;
}

static char *
node_json (S2rCluster * c)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  const char *reason;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "api");
  json_builder_add_string_value (b, c->advertise);
  json_builder_set_member_name (b, "owner");
  json_builder_add_string_value (b, c->owner);
  json_builder_set_member_name (b, "maxCalls");
  json_builder_add_int_value (b, s2r_config_get_max_calls (c->config));
  json_builder_set_member_name (b, "active");
  json_builder_add_int_value (b, s2r_call_manager_get_n_active (c->manager));
  json_builder_set_member_name (b, "ready");
  json_builder_add_boolean_value (b, s2r_cluster_is_ready (c, &reason));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static void
lease_reply (redisReply * reply, gpointer user_data)
{
  S2rCluster *c = user_data;

  if (reply && reply->type != REDIS_REPLY_ERROR && c->renew_sent_at) {
    c->renewed_at = c->renew_sent_at;
    if (c->fenced) {
      g_message ("cluster: lease renewed again, node %s takes calls",
          c->node_id);
      c->fenced = FALSE;
    }
    if (!c->draining)
      s2r_cluster_sip_edge_set (c, "a");
    s2r_cluster_calls_flush (c);
  } else if (reply) {
    g_warning ("cluster: lease renewal refused: %s", reply->str);
  }
  c->renew_sent_at = 0;
}

static void
renew_lease (S2rCluster * c)
{
  g_autofree char *key = s2r_cluster_key (c, "node", c->node_id);
  g_autofree char *nodes = s2r_cluster_key (c, "nodes", NULL);
  g_autofree char *value = node_json (c);
  g_autofree char *px = g_strdup_printf ("%u", c->lease_ms);
  gint64 now = g_get_monotonic_time ();

  if (c->renew_sent_at) {
    /* the last one never came back: a half-open or stalled connection
     * answers nothing; make a new one */
    if (now - c->renew_sent_at > RENEW_REPLY_TIMEOUT_US) {
      g_warning ("cluster: Redis did not answer the lease renewal");
      c->renew_sent_at = 0;
      s2r_redis_reset (c->redis);
    }
    return;
  }
  if (s2r_redis_commandv (c->redis, lease_reply, c, "EVAL", lease_script, "2",
          key, nodes, value, px, c->node_id, NULL))
    c->renew_sent_at = now;
}

static void
view_reply (redisReply * reply, gpointer user_data)
{
  S2rCluster *c = user_data;

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
    return;
  g_hash_table_remove_all (c->nodes);
  for (size_t i = 0; i + 1 < reply->elements; i += 2) {
    const char *id = reply->element[i]->str;
    const char *value = reply->element[i + 1]->str;
    g_autoptr (JsonParser) parser = NULL;
    JsonObject *obj;
    S2rClusterNode *n;

    if (id == NULL || value == NULL)
      continue;
    if (*value == '\0') {
      /* in the set, no lease: lost (or gone without leaving) */
      if (strcmp (id, c->node_id) != 0)
        s2r_cluster_calls_reap (c, id);
      continue;
    }
    parser = json_parser_new ();
    if (!json_parser_load_from_data (parser, value, -1, NULL) ||
        json_parser_get_root (parser) == NULL ||
        !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
      continue;
    obj = json_node_get_object (json_parser_get_root (parser));
    n = g_new0 (S2rClusterNode, 1);
    n->id = g_strdup (id);
    n->api = g_strdup (json_object_get_string_member_with_default (obj, "api",
            ""));
    n->max_calls = json_object_get_int_member_with_default (obj, "maxCalls",
        0);
    n->active = json_object_get_int_member_with_default (obj, "active", 0);
    n->ready = json_object_get_boolean_member_with_default (obj, "ready",
        FALSE);
    g_hash_table_replace (c->nodes, n->id, n);
  }
}

static void
refresh_view (S2rCluster * c)
{
  g_autofree char *nodes = s2r_cluster_key (c, "nodes", NULL);
  g_autofree char *prefix = g_strconcat (c->prefix, ":node:", NULL);

  s2r_redis_commandv (c->redis, view_reply, c, "EVAL", view_script, "1",
      nodes, prefix, NULL);
}

/* Hang up every call before the lease runs out, so that the node that
 * takes them over never publishes beside us */
static void
fence (S2rCluster * c)
{
  g_autoptr (GPtrArray) calls = s2r_call_manager_list (c->manager);
  guint n = 0;

  c->fenced = TRUE;
  s2r_cluster_sip_edge_set (c, "d");
  for (guint i = 0; i < calls->len; i++) {
    S2rCall *call = g_ptr_array_index (calls, i);

    if (s2r_call_is_active (call)) {
      s2r_call_hangup (call);
      n++;
    }
  }
  g_warning ("cluster: lease not renewed for %u ms: fenced, %u calls hung up",
      (guint) ((g_get_monotonic_time () - c->renewed_at) / 1000), n);
}

/* Leaving: the others see at once that we are gone (no lease, out of the
 * set) and answer for our finished calls from their records */
static const char leave_script[] =
    "redis.call('DEL', KEYS[1]) redis.call('SREM', KEYS[2], ARGV[1]) "
    "return 1";

static void
left (S2rCluster * c)
{
  void (*done) (gpointer) = c->drained;

  if (done == NULL)
    return;
  c->drained = NULL;
  g_clear_handle_id (&c->drain_timer, g_source_remove);
  done (c->drained_data);
}

static void
leave_reply (redisReply * reply, gpointer user_data)
{
  left (user_data);
}

static gboolean
leave_timeout_cb (gpointer user_data)
{
  S2rCluster *c = user_data;

  c->drain_timer = 0;
  left (c);
  return G_SOURCE_REMOVE;
}

static void
check_drained (S2rCluster * c)
{
  g_autofree char *key = NULL, *nodes = NULL;

  if (!c->draining || c->drained == NULL || c->leaving ||
      s2r_call_manager_get_n_active (c->manager) > 0)
    return;
  g_message ("cluster: drained, no call left");
  c->leaving = TRUE;
  key = s2r_cluster_key (c, "node", c->node_id);
  nodes = s2r_cluster_key (c, "nodes", NULL);
  g_clear_handle_id (&c->drain_timer, g_source_remove);
  /* Redis away or slow: leave anyway, the lease runs out by itself */
  c->drain_timer = g_timeout_add (1000, leave_timeout_cb, c);
  if (!s2r_redis_commandv (c->redis, leave_reply, c, "EVAL", leave_script,
          "2", key, nodes, c->node_id, NULL))
    left (c);
}

static gboolean
tick_cb (gpointer user_data)
{
  S2rCluster *c = user_data;
  gint64 now = g_get_monotonic_time ();

  if (c->leaving)
    return G_SOURCE_CONTINUE;
  /* one lost renewal is tolerated; the second one fences, a third of a
   * lease before Redis lets it expire (docs/cluster.md, "Fencing") */
  if (!c->fenced && now - c->renewed_at > (gint64) (c->lease_ms * 2 / 3) *
      1000)
    fence (c);
  if (c->ticks++ % (1000 / TICK_MS) == 0) {
    renew_lease (c);
    refresh_view (c);
    s2r_cluster_routes_sync (c);
  }
  check_drained (c);
  return G_SOURCE_CONTINUE;
}

static gboolean
drain_timeout_cb (gpointer user_data)
{
  S2rCluster *c = user_data;
  void (*done) (gpointer) = c->drained;

  c->drain_timer = 0;
  c->drained = NULL;
  g_warning ("cluster: %u calls still up after the drain timeout",
      s2r_call_manager_get_n_active (c->manager));
  if (done)
    done (c->drained_data);
  return G_SOURCE_REMOVE;
}

void
s2r_cluster_drain (S2rCluster * c, void (*done) (gpointer), gpointer data)
{
  c->draining = TRUE;
  c->drained = done;
  c->drained_data = data;
  g_message ("cluster: draining %u calls (at most %u s)",
      s2r_call_manager_get_n_active (c->manager), c->drain_timeout_s);
  /* out of the others' placement at once, not at the next second; out of
   * the SIP edge's dispatcher */
  renew_lease (c);
  s2r_cluster_sip_edge_set (c, "d");
  c->drain_timer = g_timeout_add_seconds (c->drain_timeout_s,
      drain_timeout_cb, c);
  check_drained (c);
}

static gboolean
parse_host_port (const char *text, char **host, guint16 * port)
{
  const char *colon = text ? strrchr (text, ':') : NULL;
  guint64 p;

  if (colon == NULL || colon == text ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &p, NULL))
    return FALSE;
  *host = g_strndup (text, colon - text);
  *port = (guint16) p;
  return TRUE;
}

static gboolean
read_uint (GKeyFile * kf, const char *key, guint def, guint min, guint max,
    guint * out, GError ** error)
{
  g_autoptr (GError) err = NULL;
  gint v;

  if (!g_key_file_has_key (kf, "cluster", key, NULL)) {
    *out = def;
    return TRUE;
  }
  v = g_key_file_get_integer (kf, "cluster", key, &err);
  if (err || v < (gint) min || v > (gint) max) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, key,
        "[cluster] %s: expected a number from %u to %u", key, min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

S2rCluster *
s2r_cluster_new_from_file (const char *config_file, S2rCallManager * manager,
    S2rApi * api, const S2rConfig * config, GError ** error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *redis = NULL, *redis_host = NULL, *user = NULL;
  g_autofree char *password = NULL, *listen_host = NULL;
  g_autofree char *epoch = NULL;
  guint16 redis_port, listen_port;
  guint restart = 0;
  S2rCluster *c;

  if (config_file == NULL ||
      !g_key_file_load_from_file (kf, config_file, G_KEY_FILE_NONE, NULL) ||
      !g_key_file_has_group (kf, "cluster"))
    return NULL;

  c = g_new0 (S2rCluster, 1);
  c->node_id = g_key_file_get_string (kf, "cluster", "node-id", NULL);
  if (c->node_id == NULL)
    c->node_id = g_strdup (g_get_host_name ());
  redis = g_key_file_get_string (kf, "cluster", "redis", NULL);
  user = g_key_file_get_string (kf, "cluster", "redis-user", NULL);
  password = g_key_file_get_string (kf, "cluster", "redis-password", NULL);
  c->advertise = g_key_file_get_string (kf, "cluster", "advertise", NULL);
  c->prefix = g_key_file_get_string (kf, "cluster", "prefix", NULL);
  if (c->prefix == NULL)
    c->prefix = g_strdup ("s2r");
  {
    g_autofree char *secret = g_key_file_get_string (kf, "cluster",
        "secret-key", NULL);

    s2r_cluster_set_secret_key (c, secret);
    if (secret)
      memset (secret, 0, strlen (secret));
  }
  if (g_key_file_has_key (kf, "cluster", "restart", NULL))
    restart = g_key_file_get_boolean (kf, "cluster", "restart", NULL);
  c->restart_default = restart;

  if (!c->has_key) {
    /* it seals the bodies kept in Redis, keys the streams' HMACs and
     * signs the nodes' forwards: without it none of that holds */
    s2r_set_error_field (error, S2R_ERROR_INVALID, "secret-key",
        "[cluster] secret-key: required (the same on every node): it "
        "seals the request bodies kept in Redis and signs the requests "
        "nodes forward to each other");
    goto fail;
  }
  if (!id_is_valid (c->node_id)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "node-id",
        "[cluster] node-id: 1-64 of A-Z a-z 0-9 - _");
    goto fail;
  }
  if (!id_is_valid (c->prefix)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "prefix",
        "[cluster] prefix: 1-64 of A-Z a-z 0-9 - _");
    goto fail;
  }
  if (!parse_host_port (redis ? redis : "127.0.0.1:6379", &redis_host,
          &redis_port)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "redis",
        "[cluster] redis: expected HOST:PORT");
    goto fail;
  }
  if (!read_uint (kf, "lease-ms", DEFAULT_LEASE_MS, 1500, 60000,
          &c->lease_ms, error) ||
      !read_uint (kf, "drain-timeout", 3600, 1, 86400, &c->drain_timeout_s,
          error) ||
      !read_uint (kf, "stream-maxlen", 100000, 100, 100000000,
          &c->stream_maxlen, error))
    goto fail;
  c->sip_edges = g_key_file_get_string_list (kf, "cluster", "sip-edge", NULL,
      NULL);
  c->sip_edge_address = g_key_file_get_string (kf, "cluster",
      "sip-edge-address", NULL);
  if (!read_uint (kf, "sip-edge-group", 1, 0, 1000000, &c->sip_edge_group,
          error))
    goto fail;
  for (guint i = 0; c->sip_edges && c->sip_edges[i]; i++) {
    g_autoptr (GUri) uri = g_uri_parse (g_strstrip (c->sip_edges[i]),
        G_URI_FLAGS_NONE, NULL);

    if (uri == NULL || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0 &&
            g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "sip-edge",
          "[cluster] sip-edge: expected http(s) URLs of Kamailio's JSON-RPC");
      goto fail;
    }
  }
  if (c->sip_edges && c->sip_edges[0] && (c->sip_edge_address == NULL ||
          !g_str_has_prefix (c->sip_edge_address, "sip:"))) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "sip-edge-address",
        "[cluster] sip-edge-address: this node's sip: URI in the "
        "dispatcher list (required with sip-edge)");
    goto fail;
  }
  if (c->advertise == NULL) {
    if (!parse_host_port (s2r_config_get_listen (config), &listen_host,
            &listen_port)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "advertise",
          "[cluster] advertise: expected HOST:PORT");
      goto fail;
    }
    c->advertise = g_strdup_printf ("%s:%u", listen_host,
        s2r_api_get_port (api));
  }

  c->manager = g_object_ref (manager);
  c->api = api;
  c->config = config;
  epoch = g_uuid_string_random ();
  c->owner = g_strdup_printf ("%s/%.8s", c->node_id, epoch);
  c->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, node_free);
  c->redis = s2r_redis_new (redis_host, redis_port, user, password,
      "s2r-node");
  c->reader = s2r_redis_new (redis_host, redis_port, user, password,
      "s2r-events");
  if (password)
    memset (password, 0, strlen (password));
  /* not fenced before the first renewal: there are no calls yet */
  c->renewed_at = g_get_monotonic_time ();
  s2r_cluster_calls_init (c);
  s2r_cluster_streams_init (c);
  s2r_cluster_http_init (c);
  c->events = s2r_cluster_events_new (c);
  s2r_call_manager_add_metrics_func (manager, s2r_cluster_metrics_render, c);
  c->tick = g_timeout_add (TICK_MS, tick_cb, c);
  g_message ("cluster: node %s, API for the others at %s, Redis %s:%u",
      c->node_id, c->advertise, redis_host, redis_port);
  return c;

fail:
  g_strfreev (c->sip_edges);
  g_free (c->sip_edge_address);
  g_free (c->node_id);
  g_free (c->advertise);
  g_free (c->prefix);
  memset (c->key, 0, sizeof (c->key));
  g_free (c);
  return NULL;
}

void
s2r_cluster_free (S2rCluster * c)
{
  if (c == NULL)
    return;
  g_clear_handle_id (&c->tick, g_source_remove);
  g_clear_handle_id (&c->drain_timer, g_source_remove);
  s2r_call_manager_remove_metrics_func (c->manager, c);
  s2r_cluster_streams_finalize (c);
  s2r_cluster_http_finalize (c);
  /* replies still pending get NULL now, and find everything still there */
  s2r_redis_free (c->reader);
  s2r_redis_free (c->redis);
  s2r_cluster_events_free (c->events);
  s2r_cluster_calls_finalize (c);
  s2r_cluster_routes_finalize (c);
  g_hash_table_unref (c->nodes);
  g_object_unref (c->manager);
  g_free (c->node_id);
  g_free (c->advertise);
  g_free (c->prefix);
  g_free (c->owner);
  g_strfreev (c->sip_edges);
  g_free (c->sip_edge_address);
  g_free (c);
}
