/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* The API's routes of incoming calls (issue 14) in a cluster: kept in
 * Redis, so that a route made through any node takes calls on every
 * node's SIP listener, and is listed and deleted through any node.
 *
 * `prefix:routes` (hash): route id -> "<seq> <body>", the POSTed body
 * sealed whole (s2r-cluster-secret.c), seq the order of
 * creation; `prefix:routes-version` (counter): bumped by every change.
 * Each node keeps a copy in its own S2rRoutes (an INVITE is resolved on
 * the spot, never waiting for Redis): the node that made or deleted a
 * route at once, the others at their next sync: each second (one EVAL
 * that answers the version only, unless it changed) and before answering
 * a GET of the routes. The config's [route:NAME] rules are each node's
 * own (the same file on every node). */

#include "s2r-cluster-private.h"
#include "s2r-api-private.h"
#include "s2r-error.h"
#include "s2r-json.h"
#include "s2r-routes.h"

#include <string.h>

#define MAX_ROUTES "10000"

/* KEYS: the hash, the version; ARGV: id, body. -1: full */
static const char add_script[] =
    "if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end "
    "local v = redis.call('INCR', KEYS[2]) "
    "redis.call('HSET', KEYS[1], ARGV[1], v .. ' ' .. ARGV[2]) return v";

/* 0: no such route */
static const char del_script[] =
    "if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then "
    "return redis.call('INCR', KEYS[2]) end return 0";

/* {version} when it is ARGV[1] still, else {version, id, value, ...} */
static const char sync_script[] =
    "local v = redis.call('GET', KEYS[2]) or '0' "
    "if v == ARGV[1] then return {v} end "
    "local out = redis.call('HGETALL', KEYS[1]) "
    "table.insert(out, 1, v) return out";

/* @script over the routes' two keys (hash, version) with @arg1, @arg2
 * (or NULL), @arg3 (or NULL) */
static gboolean
routes_eval (S2rCluster * c, const char *script, S2rRedisReplyFunc done,
    gpointer data, const char *arg1, const char *arg2, const char *arg3)
{
  g_autofree char *hash = s2r_cluster_key (c, "routes", NULL);
  g_autofree char *version = s2r_cluster_key (c, "routes-version", NULL);

  return s2r_redis_commandv (c->redis, done, data, "EVAL", script, "2",
      hash, version, arg1, arg2, arg3, NULL);
}

typedef struct
{
  guint64 seq;
  const char *id;
  const char *value;            /* the body, after the seq */
} Entry;

static gint
compare_entries (gconstpointer a, gconstpointer b)
{
  const Entry *x = a, *y = b;

  return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : 0;
}

static S2rRoutes *
routes_of (S2rCluster * c)
{
  return c->api->routes;
}

/* The copy made like the table in Redis: routes added in their order,
 * those gone removed */
static void
apply (S2rCluster * c, redisReply * reply)
{
  S2rRoutes *routes = routes_of (c);
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto (GStrv) mine = NULL;

  for (size_t i = 1; i + 1 < reply->elements; i += 2) {
    Entry e = { 0 };
    char *end = NULL;

    if (reply->element[i]->str == NULL || reply->element[i + 1]->str == NULL)
      continue;
    e.id = reply->element[i]->str;
    e.seq = g_ascii_strtoull (reply->element[i + 1]->str, &end, 10);
    if (end == NULL || *end != ' ')
      continue;
    e.value = end + 1;
    g_array_append_val (entries, e);
    g_hash_table_add (ids, (gpointer) e.id);
  }
  g_array_sort (entries, compare_entries);
  mine = s2r_routes_api_ids (routes);
  for (guint i = 0; mine[i]; i++)
    if (!g_hash_table_contains (ids, mine[i]))
      s2r_routes_remove (routes, mine[i], NULL);
  for (guint i = 0; i < entries->len; i++) {
    Entry *e = &g_array_index (entries, Entry, i);
    g_autofree char *opened = s2r_cluster_body_open (c, e->value);
    g_autoptr (JsonNode) body = opened ?
        s2r_json_parse_object (opened, strlen (opened), NULL) : NULL;
    g_autoptr (JsonNode) added = NULL;
    g_autoptr (GError) err = NULL;

    if (opened)
      memset (opened, 0, strlen (opened));
    if (body)
      added = s2r_routes_put (routes, e->id, body, &err);
    if (added == NULL)
      g_warning ("cluster: route %s from Redis not taken: %s", e->id,
          err ? err->message : "its body cannot be read (secret-key?)");
  }
}

/* A sync, then maybe a request waiting for it */
typedef struct
{
  S2rCluster *c;
  SoupServerMessage *msg;       /* NULL: the periodic one */
  char *route_id;               /* GET of one route */
} Sync;

static void
answer_get (S2rCluster * c, SoupServerMessage * msg, const char *route_id)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = route_id ?
      s2r_routes_get (routes_of (c), route_id, &err) :
      s2r_routes_list (routes_of (c));

  if (root)
    s2r_api_send_json (msg, SOUP_STATUS_OK, root);
  else
    s2r_api_send_error (msg, err);
}

static void
sync_reply (redisReply * reply, gpointer user_data)
{
  Sync *s = user_data;
  S2rCluster *c = s->c;

  /* a change of ours still in flight: this answer was read before it
   * (one connection, answered in order), the next sync is after it */
  if (c->routes_writes == 0 &&
      reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
      reply->element[0]->str && g_strcmp0 (reply->element[0]->str,
          c->routes_version) != 0) {
    apply (c, reply);
    g_free (c->routes_version);
    c->routes_version = g_strdup (reply->element[0]->str);
  }
  c->routes_syncing = s->msg ? c->routes_syncing : FALSE;
  /* Redis out of reach: the copy this node has */
  if (s->msg) {
    answer_get (c, s->msg, s->route_id);
    soup_server_message_unpause (s->msg);
    g_object_unref (s->msg);
  }
  g_free (s->route_id);
  g_free (s);
}

static void
read_routes (S2rCluster * c, SoupServerMessage * msg, const char *route_id)
{
  Sync *s = g_new0 (Sync, 1);

  s->c = c;
  s->msg = msg ? g_object_ref (msg) : NULL;
  s->route_id = g_strdup (route_id);
  if (!routes_eval (c, sync_script, sync_reply, s,
          c->routes_version ? c->routes_version : "", NULL, NULL))
    sync_reply (NULL, s);
}

/* Each second, from the node's tick: one at a time */
void
s2r_cluster_routes_sync (S2rCluster * c)
{
  if (routes_of (c) == NULL || c->routes_syncing)
    return;
  c->routes_syncing = TRUE;
  read_routes (c, NULL, NULL);
}

typedef struct
{
  S2rCluster *c;
  SoupServerMessage *msg;
  char *route_id;
  JsonNode *answer;             /* POST: the route as made */
} Change;

static void
change_free (Change * ch)
{
  g_object_unref (ch->msg);
  g_free (ch->route_id);
  g_clear_pointer (&ch->answer, json_node_unref);
  g_free (ch);
}

static void
add_reply (redisReply * reply, gpointer user_data)
{
  Change *ch = user_data;

  ch->c->routes_writes--;
  if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
    s2r_api_send_json (ch->msg, SOUP_STATUS_CREATED, ch->answer);
  } else {
    /* not in Redis: not here either */
    s2r_routes_remove (routes_of (ch->c), ch->route_id, NULL);
    if (reply && reply->type == REDIS_REPLY_INTEGER)
      s2r_cluster_send_error (ch->msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
          "unavailable", "the maximum of " MAX_ROUTES " routes is reached");
    else
      s2r_cluster_send_error (ch->msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
          "unavailable", "the cluster's routes cannot be written (Redis)");
  }
  soup_server_message_unpause (ch->msg);
  change_free (ch);
}

static void
post_route (S2rCluster * c, SoupServerMessage * msg)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) body = s2r_api_parse_body (c->api, msg, &err);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  g_autofree char *sealed = NULL;
  g_autofree char *uuid = g_uuid_string_random ();
  Change *ch;

  ch = g_new0 (Change, 1);
  ch->c = c;
  ch->msg = g_object_ref (msg);
  ch->route_id = g_strconcat ("rt-", uuid, NULL);
  /* as posted (the route keeps a body that shares its object and takes
   * its own fields out of it) */
  if (body) {
    json_generator_set_root (gen, body);
    text = json_generator_to_data (gen, NULL);
  }
  /* checked as one node checks it, and this node's copy at once */
  if (body)
    ch->answer = s2r_routes_put (routes_of (c), ch->route_id, body, &err);
  if (ch->answer == NULL) {
    if (text)
      memset (text, 0, strlen (text));
    s2r_api_send_error (msg, err);
    change_free (ch);
    return;
  }
  sealed = s2r_cluster_body_seal (c, text);
  memset (text, 0, strlen (text));
  if (*sealed == '\0') {
    /* into Redis sealed or not at all (a cluster has its secret-key) */
    s2r_routes_remove (routes_of (c), ch->route_id, NULL);
    s2r_cluster_send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "unavailable", "the route cannot be sealed for Redis "
        "([cluster] secret-key)");
    change_free (ch);
    return;
  }
  soup_server_message_pause (msg);
  c->routes_writes++;
  if (!routes_eval (c, add_script, add_reply, ch, ch->route_id, sealed,
          MAX_ROUTES))
    add_reply (NULL, ch);
}

static void
del_reply (redisReply * reply, gpointer user_data)
{
  Change *ch = user_data;
  g_autoptr (GError) err = NULL;

  ch->c->routes_writes--;
  if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0) {
    s2r_routes_remove (routes_of (ch->c), ch->route_id, NULL);
    soup_server_message_set_status (ch->msg, SOUP_STATUS_NO_CONTENT, NULL);
  } else if (reply && reply->type == REDIS_REPLY_INTEGER) {
    /* not the cluster's: a rule of the config file (409), or none */
    if (g_str_has_prefix (ch->route_id, "config-"))
      s2r_routes_remove (routes_of (ch->c), ch->route_id, &err);
    else
      s2r_routes_remove (routes_of (ch->c), ch->route_id, NULL);
    if (err == NULL)
      s2r_set_error_field (&err, S2R_ERROR_NOT_FOUND, NULL, "no such route");
    s2r_api_send_error (ch->msg, err);
  } else {
    s2r_cluster_send_error (ch->msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "unavailable", "the cluster's routes cannot be written (Redis)");
  }
  soup_server_message_unpause (ch->msg);
  change_free (ch);
}

static void
delete_route (S2rCluster * c, SoupServerMessage * msg, const char *id)
{
  Change *ch = g_new0 (Change, 1);

  ch->c = c;
  ch->msg = g_object_ref (msg);
  ch->route_id = g_strdup (id);
  soup_server_message_pause (msg);
  c->routes_writes++;
  if (!routes_eval (c, del_script, del_reply, ch, id, NULL, NULL))
    del_reply (NULL, ch);
}

/* /api/v1/routes and /api/v1/routes/{id}: TRUE when taken (answered now
 * or later); other methods are left to the local route (405) */
gboolean
s2r_cluster_routes_request (S2rCluster * c, SoupServerMessage * msg,
    const char *path)
{
  const char *method = soup_server_message_get_method (msg);
  const char *id = NULL;

  if (routes_of (c) == NULL)
    return FALSE;
  if (g_str_has_prefix (path, "/api/v1/routes/")) {
    id = path + strlen ("/api/v1/routes/");
    if (*id == '\0' || strchr (id, '/'))
      return FALSE;
  } else if (!g_str_equal (path, "/api/v1/routes")) {
    return FALSE;
  }
  if (method == SOUP_METHOD_GET) {
    soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
    soup_server_message_pause (msg);
    read_routes (c, msg, id);
  } else if (method == SOUP_METHOD_POST && id == NULL) {
    soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
    post_route (c, msg);
  } else if (method == SOUP_METHOD_DELETE && id) {
    soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
    delete_route (c, msg, id);
  } else {
    return FALSE;
  }
  return TRUE;
}

void
s2r_cluster_routes_finalize (S2rCluster * c)
{
  g_clear_pointer (&c->routes_version, g_free);
}
