/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* Every call's record in Redis and its events in the cluster's stream,
 * written by its owner; the calls of a lost node failed (node_lost) and,
 * when asked for, placed again. Keys: docs/cluster.md. */

#include "s2r-cluster-private.h"
#include "s2r-call-request.h"
#include "s2r-destination.h"

#include <string.h>

/* records written while Redis is away, at most (then the oldest go) */
#define OUTBOX_MAX 10000
/* a placement the call manager never turned into a call */
#define PENDING_TTL_US (30 * G_USEC_PER_SEC)

/* A call created here: the record is ours from now on; KEYS[4] lists
 * every call that has a record (GET /api/v1/calls reads it and drops the
 * ids whose records expired); KEYS[5] the reservation of its callId
 * while it was placed (given back now that the record says it);
 * KEYS[6..] its stream keys (digests), held for it until it ends (the
 * placement's reservation made lasting) */
static const char claim_script[] =
    "redis.call('DEL', KEYS[1]) "
    "redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'json', ARGV[2], "
    "'body', ARGV[4], 'path', ARGV[5], 'restart', ARGV[6], "
    "'attempt', ARGV[7], 'streams', ARGV[9]) "
    "redis.call('SADD', KEYS[2], ARGV[3]) "
    "redis.call('SADD', KEYS[4], ARGV[3]) "
    "redis.call('DEL', KEYS[5]) "
    "for i = 6, #KEYS do redis.call('SET', KEYS[i], ARGV[3]) end "
    "redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', "
    "'call', ARGV[3], 'data', ARGV[2]) return 1";

/* The stream keys of an ended call given back (those still its own) */
#define RELEASE_STREAMS \
    "local s = redis.call('HGET', KEYS[1], 'streams') " \
    "if s then for k in string.gmatch(s, '%S+') do " \
    "if redis.call('GET', k) == ARGV[3] then redis.call('DEL', k) end " \
    "end end "

/* A change of a call we own, fenced by the owner token: a node whose
 * calls were taken over writes nothing more to them */
static const char update_script[] =
    "if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end "
    "redis.call('HSET', KEYS[1], 'json', ARGV[2]) "
    "if ARGV[4] == '0' then redis.call('SREM', KEYS[2], ARGV[3]) "
    "redis.call('EXPIRE', KEYS[1], ARGV[5]) " RELEASE_STREAMS "end "
    "redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', "
    "'call', ARGV[3], 'data', ARGV[2]) return 1";

/* A lost node's calls, once, to whoever asks first while its lease is
 * still gone */
static const char reap_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return false end "
    "local ids = redis.call('SMEMBERS', KEYS[2]) "
    "redis.call('DEL', KEYS[2]) redis.call('SREM', KEYS[3], ARGV[1]) "
    "local out = {} for _, id in ipairs(ids) do "
    "local r = redis.call('HMGET', ARGV[2] .. id, 'owner', 'json', 'body', "
    "'path', 'restart', 'attempt') "
    "out[#out + 1] = {id, r[1] or '', r[2] or '', r[3] or '', r[4] or '', "
    "r[5] or '', r[6] or ''} end return out";

/* The lost call's last word, unless someone else owns it by now */
static const char lose_script[] =
    "if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end "
    "redis.call('HSET', KEYS[1], 'owner', '', 'json', ARGV[2]) "
    "redis.call('EXPIRE', KEYS[1], ARGV[4]) " RELEASE_STREAMS
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', "
    "'call', ARGV[3], 'data', ARGV[2]) return 1";

typedef struct
{
  char *body;                   /* sealed: no password in clear */
  char *path;
  gboolean restart;
  guint attempt;
  gint64 expires;
} PendingCall;

static void
pending_free (gpointer data)
{
  PendingCall *p = data;

  g_free (p->body);
  g_free (p->path);
  g_free (p);
}

void
s2r_cluster_calls_expect (S2rCluster * c, const char *call_id,
    const char *body, const char *path, gboolean restart, guint attempt)
{
  PendingCall *p = g_new0 (PendingCall, 1);

  p->body = s2r_cluster_body_seal (c, body);
  p->path = g_strdup (path);
  p->restart = restart;
  p->attempt = MAX (1, attempt);
  p->expires = g_get_monotonic_time () + PENDING_TTL_US;
  g_hash_table_replace (c->pending, g_strdup (call_id), p);
}

static void
write_reply (redisReply * reply, gpointer user_data)
{
  if (reply && reply->type == REDIS_REPLY_ERROR)
    g_warning ("cluster: a call record was not written: %s", reply->str);
}

/* argv: a NULL-terminated array, owned by the outbox until sent */
void
s2r_cluster_calls_write (S2rCluster * c, GStrv argv)
{
  if (g_queue_is_empty (c->outbox) &&
      s2r_redis_command (c->redis, write_reply, NULL, g_strv_length (argv),
          (const char *const *) argv)) {
    g_strfreev (argv);
    return;
  }
  if (g_queue_get_length (c->outbox) >= OUTBOX_MAX)
    g_strfreev (g_queue_pop_head (c->outbox));
  g_queue_push_tail (c->outbox, argv);
}

/* After a renewal: the lease is ours again, so are these writes (the
 * scripts still refuse those of calls taken over meanwhile) */
void
s2r_cluster_calls_flush (S2rCluster * c)
{
  GStrv argv;

  while ((argv = g_queue_peek_head (c->outbox))) {
    if (!s2r_redis_command (c->redis, write_reply, NULL,
            g_strv_length (argv), (const char *const *) argv))
      return;
    g_strfreev (g_queue_pop_head (c->outbox));
  }
}

/* The manager's event plus where and which attempt it is: spliced in
 * front of its members, not parsed and written again (an event is a JSON
 * object as json-glib writes it, starting with '{'; a node id needs no
 * escaping: A-Z a-z 0-9 - _) */
static char *
cluster_json (const char *json, const char *node_id, guint attempt)
{
  if (json[0] != '{')
    return g_strdup (json);
  return g_strdup_printf ("{\"node\":\"%s\",\"attempt\":%u%s%s", node_id,
      attempt, json[1] == '}' ? "" : ",", json + 1);
}

/* The Redis key of a stream (rtmpUrl + rtmpStream, a secret: only its
 * HMAC under the cluster key is stored; a cluster does not start without
 * its secret-key, so never under a key anyone can guess) */
char *
s2r_cluster_stream_key (S2rCluster * c, const char *location)
{
  g_autofree char *digest = g_compute_hmac_for_string (G_CHECKSUM_SHA256,
      c->key, sizeof (c->key), location, -1);

  return s2r_cluster_key (c, "stream", digest);
}

static gboolean
status_is_final (S2rCallStatus status)
{
  return status == S2R_CALL_FINISH || status == S2R_CALL_FAILED ||
      status == S2R_CALL_BUSY;
}

static void
call_event_cb (S2rCallManager * manager, S2rCall * call, guint64 sequence,
    const char *json, S2rCluster * c)
{
  const char *id = s2r_call_get_id (call);
  g_autofree char *key = s2r_cluster_key (c, "call", id);
  g_autofree char *mine = s2r_cluster_key (c, "node-calls", c->node_id);
  g_autofree char *stream = s2r_cluster_key (c, "events", NULL);
  g_autofree char *maxlen = g_strdup_printf ("%u", c->stream_maxlen);
  g_autofree char *data = NULL;
  PendingCall *p = g_hash_table_lookup (c->pending, id);
  GStrvBuilder *b = g_strv_builder_new ();
  guint attempt;

  if (s2r_call_get_status (call) == S2R_CALL_NEW &&
      (p || !g_hash_table_contains (c->attempts, id))) {
    /* no placement: a call that came in by SIP (issue 14), recorded
     * all the same, never restarted (no body to place again) */
    g_autofree char *att = g_strdup_printf ("%u", p ? p->attempt : 1);
    g_autofree char *all = s2r_cluster_key (c, "calls", NULL);

    g_autoptr (GPtrArray) streams = g_ptr_array_new_with_free_func (g_free);
    g_autofree char *nkeys = NULL;
    g_autofree char *joined = NULL;
    g_autofree char *placing = s2r_cluster_key (c, "placing", id);

    attempt = p ? p->attempt : 1;
    g_hash_table_replace (c->attempts, g_strdup (id),
        GUINT_TO_POINTER (attempt));
    data = cluster_json (json, c->node_id, attempt);
    for (guint i = 0; i < s2r_call_get_n_destinations (call); i++)
      g_ptr_array_add (streams, s2r_cluster_stream_key (c,
              s2r_rtmp_target_get_location (s2r_destination_get_target
                  (s2r_call_get_destination (call, i)))));
    g_ptr_array_add (streams, NULL);
    joined = g_strjoinv (" ", (char **) streams->pdata);
    nkeys = g_strdup_printf ("%u", 5 + streams->len - 1);
    g_strv_builder_add_many (b, "EVAL", claim_script, nkeys, key, mine,
        stream, all, placing, NULL);
    g_strv_builder_addv (b, (const char **) streams->pdata);
    g_strv_builder_add_many (b, c->owner, data, id, p ? p->body : "",
        p ? p->path : "", p && p->restart ? "1" : "0", att, maxlen, joined,
        NULL);
    g_hash_table_remove (c->pending, id);
  } else {
    gboolean final = status_is_final (s2r_call_get_status (call));
    g_autofree char *keep = g_strdup_printf ("%u",
        MAX (60, s2r_config_get_keep_finished (c->config)));

    attempt = GPOINTER_TO_UINT (g_hash_table_lookup (c->attempts, id));
    data = cluster_json (json, c->node_id, MAX (1, attempt));
    g_strv_builder_add_many (b, "EVAL", update_script, "3", key, mine,
        stream, c->owner, data, id, final ? "0" : "1", keep, maxlen, NULL);
  }
  s2r_cluster_calls_write (c, g_strv_builder_end (b));
  g_strv_builder_unref (b);
}

/* The record's last JSON as the API will show it from now on */
static char *
lost_json (const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *ended = g_date_time_format_iso8601 (now);
  JsonObject *obj;

  if (!json_parser_load_from_data (parser, json, -1, NULL) ||
      json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  obj = json_node_get_object (json_parser_get_root (parser));
  /* the event after the owner's last one */
  if (json_object_has_member (obj, "sequence"))
    json_object_set_int_member (obj, "sequence",
        json_object_get_int_member (obj, "sequence") + 1);
  json_object_set_string_member (obj, "status", "FAILED");
  json_object_set_string_member (obj, "reason", "node_lost");
  json_object_set_string_member (obj, "rtmpStreamStatus", "FAILED");
  json_object_set_string_member (obj, "event", "CallStatusEvent");
  json_object_set_string_member (obj, "timestamp", ended);
  if (!json_object_has_member (obj, "ended") ||
      json_object_get_null_member (obj, "ended"))
    json_object_set_string_member (obj, "ended", ended);
  json_generator_set_root (gen, json_parser_get_root (parser));
  return json_generator_to_data (gen, NULL);
}

typedef struct
{
  S2rCluster *c;
  char *node_id;
} ReapData;

/* The node_lost event to the call's webhook: posted by the one node whose
 * `lose` wrote it (the owner token makes that one node), retried a few
 * times; the owner's own events went with it */
#define LOST_HOOK_TRIES 5

typedef struct
{
  S2rCluster *c;
  char *call_id;
  char *url;
  char *data;
  char *sequence;
  guint tries;
} LostHook;

static void
lost_hook_free (LostHook * h)
{
  g_free (h->call_id);
  g_free (h->url);
  g_free (h->data);
  g_free (h->sequence);
  g_free (h);
}

static void lost_hook_send (LostHook * h);

static gboolean
lost_hook_retry_cb (gpointer user_data)
{
  lost_hook_send (user_data);
  return G_SOURCE_REMOVE;
}

static void
lost_hook_sent (gboolean ok, GBytes * answer, const char *why, gpointer data)
{
  LostHook *h = data;

  if (ok) {
    lost_hook_free (h);
    return;
  }
  if (++h->tries >= LOST_HOOK_TRIES) {
    g_warning ("cluster: the node_lost event of call %s was not delivered "
        "to its webhook: %s", h->call_id, why);
    lost_hook_free (h);
    return;
  }
  g_timeout_add (250u << h->tries, lost_hook_retry_cb, h);
}

static void
lost_hook_send (LostHook * h)
{
  s2r_cluster_post_json (h->c, h->url, h->data,
      h->sequence ? "X-Sip2rtmp-Sequence" : NULL, h->sequence,
      lost_hook_sent, h);
}

/* The call's callbackUrl, else its appKey's [app:NAME] url, as the owner's
 * webhooks chose it; NULL: none */
static LostHook *
lost_hook_new (S2rCluster * c, const char *call_id, const char *body,
    const char *data)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonParser) event = json_parser_new ();
  JsonObject *obj;
  const char *url;
  LostHook *h;

  /* opened; NULL for an incoming call's record (no body) */
  if (body == NULL || *body == '\0' ||
      !json_parser_load_from_data (parser, body, -1, NULL) ||
      json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  obj = json_node_get_object (json_parser_get_root (parser));
  url = json_object_get_string_member_with_default (obj, "callbackUrl",
      NULL);
  if (url == NULL || *url == '\0')
    url = s2r_config_get_app_url (c->config,
        json_object_get_string_member_with_default (obj, "appKey", NULL));
  if (url == NULL || *url == '\0')
    return NULL;
  h = g_new0 (LostHook, 1);
  h->c = c;
  h->call_id = g_strdup (call_id);
  h->url = g_strdup (url);
  h->data = g_strdup (data);
  if (json_parser_load_from_data (event, data, -1, NULL) &&
      json_parser_get_root (event) != NULL &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (event)) &&
      json_object_has_member (json_node_get_object (json_parser_get_root
                  (event)), "sequence"))
    h->sequence = g_strdup_printf ("%" G_GINT64_FORMAT,
        json_object_get_int_member (json_node_get_object
            (json_parser_get_root (event)), "sequence"));
  return h;
}

/* `lose` answers 1 to the node that wrote the event: that one posts it */
static void
lose_reply (redisReply * reply, gpointer user_data)
{
  LostHook *h = user_data;

  write_reply (reply, NULL);
  if (h == NULL)
    return;
  if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
    lost_hook_send (h);
  else
    lost_hook_free (h);
}

static void
lose_call (S2rCluster * c, redisReply * r)
{
  const char *id, *owner, *json, *body, *path, *restart, *attempt;
  g_autofree char *key = NULL, *stream = NULL, *data = NULL, *keep = NULL;
  g_autofree char *maxlen = NULL, *opened = NULL;
  guint64 att = 1;
  LostHook *hook;

  if (r->type != REDIS_REPLY_ARRAY || r->elements != 7)
    return;
  id = r->element[0]->str;
  owner = r->element[1]->str;
  json = r->element[2]->str;
  body = r->element[3]->str;
  path = r->element[4]->str;
  restart = r->element[5]->str;
  attempt = r->element[6]->str;
  if (id == NULL || owner == NULL || *owner == '\0' || json == NULL)
    return;
  data = lost_json (json);
  if (data == NULL)
    return;
  key = s2r_cluster_key (c, "call", id);
  stream = s2r_cluster_key (c, "events", NULL);
  keep = g_strdup_printf ("%u", MAX (60,
          s2r_config_get_keep_finished (c->config)));
  maxlen = g_strdup_printf ("%u", c->stream_maxlen);
  /* sealed (an incoming call's record has none): its callbackUrl or
   * appKey, and the request placed again */
  if (body && *body)
    opened = s2r_cluster_body_open (c, body);
  hook = lost_hook_new (c, id, opened, data);
  if (!s2r_redis_commandv (c->redis, lose_reply, hook, "EVAL", lose_script,
          "2", key, stream, owner, data, id, keep, maxlen, NULL) && hook)
    lost_hook_free (hook);
  g_message ("cluster: call %s lost with its node", id);
  if (g_strcmp0 (restart, "1") == 0 && opened && path && *path) {
    g_ascii_string_to_unsigned (attempt, 10, 1, G_MAXUINT, &att, NULL);
    s2r_cluster_place_body (c, path, opened, (guint) att + 1);
  }
  if (opened)
    memset (opened, 0, strlen (opened));
}

static void
reap_reply (redisReply * reply, gpointer user_data)
{
  ReapData *rd = user_data;

  if (reply && reply->type == REDIS_REPLY_ARRAY) {
    g_message ("cluster: node %s lost, %zu calls to take over", rd->node_id,
        reply->elements);
    for (size_t i = 0; i < reply->elements; i++)
      lose_call (rd->c, reply->element[i]);
  }
  g_free (rd->node_id);
  g_free (rd);
}

void
s2r_cluster_calls_reap (S2rCluster * c, const char *node_id)
{
  g_autofree char *lease = s2r_cluster_key (c, "node", node_id);
  g_autofree char *calls = s2r_cluster_key (c, "node-calls", node_id);
  g_autofree char *nodes = s2r_cluster_key (c, "nodes", NULL);
  g_autofree char *prefix = g_strconcat (c->prefix, ":call:", NULL);
  ReapData *rd = g_new0 (ReapData, 1);

  rd->c = c;
  rd->node_id = g_strdup (node_id);
  if (!s2r_redis_commandv (c->redis, reap_reply, rd, "EVAL", reap_script,
          "3", lease, calls, nodes, node_id, prefix, NULL)) {
    g_free (rd->node_id);
    g_free (rd);
  }
}

static void
call_forget_cb (S2rCluster * c)
{
  GHashTableIter iter;
  gpointer key, value;
  gint64 now = g_get_monotonic_time ();

  /* the attempt of a call the manager forgot is not needed any more */
  g_hash_table_iter_init (&iter, c->attempts);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    g_autoptr (S2rCall) call = s2r_call_manager_lookup (c->manager, key,
        NULL);

    if (call == NULL)
      g_hash_table_iter_remove (&iter);
  }

  g_hash_table_iter_init (&iter, c->pending);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((PendingCall *) value)->expires < now)
      g_hash_table_iter_remove (&iter);
}

static gboolean
sweep_cb (gpointer user_data)
{
  call_forget_cb (user_data);
  return G_SOURCE_CONTINUE;
}

static guint sweep_source;

void
s2r_cluster_calls_init (S2rCluster * c)
{
  c->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      pending_free);
  c->attempts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  c->outbox = g_queue_new ();
  c->event_handler = g_signal_connect (c->manager, "call-event",
      G_CALLBACK (call_event_cb), c);
  sweep_source = g_timeout_add_seconds (10, sweep_cb, c);
}

void
s2r_cluster_calls_finalize (S2rCluster * c)
{
  g_clear_handle_id (&sweep_source, g_source_remove);
  g_signal_handler_disconnect (c->manager, c->event_handler);
  g_queue_free_full (c->outbox, (GDestroyNotify) g_strfreev);
  g_hash_table_unref (c->pending);
  g_hash_table_unref (c->attempts);
}
