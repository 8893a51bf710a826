/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* Stream keys unique in the cluster (docs/cluster.md, "Placement"):
 * prefix:stream:<HMAC of rtmpUrl + rtmpStream> names the call that
 * publishes there. Reserved (with a TTL) for a call being placed or an
 * incoming call not created yet, made lasting by the call's claim; held
 * at once (lasting, in the record's `streams`) for a destination added
 * to a running call; given back when the call ends (its record's
 * `streams`), when the destination is removed, or when the call was not
 * made. This file is also the call manager's S2rStreamRegistry. */

#include "s2r-cluster-private.h"
#include "s2r-error.h"

#include <string.h>

/* A call is active while a live node owns its record and it has not
 * ended (what a single node answers 409 for) */
#define ACTIVE_FUNCTION \
    "local function active(key) " \
    "local r = redis.call('HMGET', key, 'owner', 'json') " \
    "if r[1] and r[1] ~= '' and r[2] then " \
    "local ok, call = pcall(cjson.decode, r[2]) " \
    "return ok and call.status ~= 'FINISH' and call.status ~= 'FAILED' and " \
    "call.status ~= 'BUSY' end return false end "

/* The Nth stream key (KEYS[first + N - 1]) named by another call that is
 * active, or reserved (with a TTL) by another request being placed:
 * 'stream:N' / 'stream-placing:N' is the Nth destination's conflict */
#define STREAM_CONFLICT(first) \
    "for i = " first ", #KEYS do local v = redis.call('GET', KEYS[i]) " \
    "if v and v ~= ARGV[4] then " \
    "if active(ARGV[5] .. v) then return 'stream:' .. (i - " first " + 1) " \
    "end if redis.call('PTTL', KEYS[i]) > 0 then " \
    "return 'stream-placing:' .. (i - " first " + 1) end end end "

/* A new call (KEYS[1] its record, KEYS[2] the reservation of its callId,
 * KEYS[3..] its stream keys): the client's callId (ARGV[3] '1') is in
 * use while its call is active, or reserved by another request being
 * placed; else it is reserved for as long as this request is placed, so
 * that two requests with one id on two nodes do not both make a call.
 * Each free stream key is reserved for it (PX ARGV[2]) */
static const char reserve_script[] =
    ACTIVE_FUNCTION
    "if ARGV[3] == '1' then "
    "if active(KEYS[1]) then return 'active' end "
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 'placing' end end "
    STREAM_CONFLICT ("3")
    "if ARGV[3] == '1' then "
    "redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2]) end "
    "for i = 3, #KEYS do "
    "redis.call('SET', KEYS[i], ARGV[4], 'PX', ARGV[2]) end return 'free'";

/* A call that was not made gives back its stream keys (those still
 * reserved for it: a call's own are lasting, set by its claim) */
static const char release_script[] =
    "for i = 1, #KEYS do if redis.call('GET', KEYS[i]) == ARGV[1] and "
    "redis.call('PTTL', KEYS[i]) > 0 then redis.call('DEL', KEYS[i]) end "
    "end return 1";

/* More destinations of a running call (KEYS[1] its record, KEYS[2..] their
 * stream keys): only while the record is ours (ARGV[1], the owner token)
 * and active ('unknown' otherwise: not written yet, taken over, ended);
 * held for the call as its claim holds the placement's: lasting, listed
 * in the record's `streams` (given back when it ends or is lost) */
static const char hold_script[] =
    ACTIVE_FUNCTION
    "if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or "
    "not active(KEYS[1]) then return 'unknown' end "
    STREAM_CONFLICT ("2")
    "local s = redis.call('HGET', KEYS[1], 'streams') or '' "
    "for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[4]) "
    "if not string.find(' ' .. s .. ' ', ' ' .. KEYS[i] .. ' ', 1, true) "
    "then s = s == '' and KEYS[i] or s .. ' ' .. KEYS[i] end end "
    "redis.call('HSET', KEYS[1], 'streams', s) return 'free'";

/* Destinations removed from a running call: their keys given back (those
 * still the call's) and out of its record's `streams` */
static const char unhold_script[] =
    "if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end "
    "local gone = {} for i = 2, #KEYS do gone[KEYS[i]] = true "
    "if redis.call('GET', KEYS[i]) == ARGV[2] then "
    "redis.call('DEL', KEYS[i]) end end "
    "local out = {} for k in string.gmatch(redis.call('HGET', KEYS[1], "
    "'streams') or '', '%S+') do if not gone[k] then out[#out + 1] = k end "
    "end redis.call('HSET', KEYS[1], 'streams', table.concat(out, ' ')) "
    "return 1";

static GStrv
eval_argv (const char *script, const char *const *keys,
    const char *const *args)
{
  GStrvBuilder *b = g_strv_builder_new ();
  g_autofree char *n = g_strdup_printf ("%u", g_strv_length ((GStrv) keys));
  GStrv argv;

  g_strv_builder_add_many (b, "EVAL", script, n, NULL);
  g_strv_builder_addv (b, (const char **) keys);
  g_strv_builder_addv (b, (const char **) args);
  argv = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return argv;
}

static gboolean
eval (S2rCluster * c, const char *script, const char *const *keys,
    const char *const *args, S2rRedisReplyFunc func, gpointer data)
{
  g_auto (GStrv) argv = eval_argv (script, keys, args);

  return s2r_redis_command (c->redis, func, data, g_strv_length (argv),
      (const char *const *) argv);
}

gboolean
s2r_cluster_streams_reserve (S2rCluster * c, const char *call_id,
    gboolean client_id, GStrv streams, S2rRedisReplyFunc func, gpointer data)
{
  g_autofree char *record = s2r_cluster_key (c, "call", call_id);
  g_autofree char *reserved = s2r_cluster_key (c, "placing", call_id);
  g_autofree char *ttl = g_strdup_printf ("%u",
      (S2R_CLUSTER_FORWARD_TIMEOUT_S + 1) * 1000);
  g_autofree char *calls = g_strconcat (c->prefix, ":call:", NULL);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_auto (GStrv) keys = NULL;
  const char *args[] = { c->node_id, ttl, client_id ? "1" : "0", call_id,
    calls, NULL
  };

  g_strv_builder_add_many (b, record, reserved, NULL);
  g_strv_builder_addv (b, (const char **) streams);
  keys = g_strv_builder_end (b);
  return eval (c, reserve_script, (const char *const *) keys, args, func, data);
}

void
s2r_cluster_streams_unreserve (S2rCluster * c, const char *call_id,
    GStrv streams)
{
  const char *args[] = { call_id, NULL };

  if (streams && streams[0])
    eval (c, release_script, (const char *const *) streams, args, NULL, NULL);
}

gboolean
s2r_cluster_stream_conflict (const char *reply, GError ** error)
{
  gboolean placing = g_str_has_prefix (reply, "stream-placing:");
  guint64 n = 1;

  if (!placing && !g_str_has_prefix (reply, "stream:"))
    return FALSE;
  g_ascii_string_to_unsigned (strchr (reply, ':') + 1, 10, 1, G_MAXUINT, &n,
      NULL);
  s2r_stream_conflict_error (error, (guint) n - 1, placing);
  return TRUE;
}

/* The registry's side */

static GStrv
keys_of (S2rCluster * c, const char *first, const char *const *locations)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  if (first)
    g_strv_builder_add (b, first);
  for (guint i = 0; locations[i]; i++) {
    g_autofree char *key = s2r_cluster_stream_key (c, locations[i]);

    g_strv_builder_add (b, key);
  }
  return g_strv_builder_end (b);
}

typedef struct
{
  S2rStreamsHeldFunc done;
  gpointer data;
} Hold;

static void
unavailable (S2rStreamsHeldFunc done, gpointer data, const char *why)
{
  g_autoptr (GError) err = g_error_new_literal (S2R_ERROR,
      S2R_ERROR_UNAVAILABLE, why);

  done (err, data);
}

static void
hold_reply (redisReply * reply, gpointer user_data)
{
  Hold *h = user_data;
  g_autoptr (GError) err = NULL;

  if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
    if (reply && reply->type == REDIS_REPLY_ERROR)
      g_warning ("cluster: a stream key was not held: %s", reply->str);
    unavailable (h->done, h->data, "the cluster's state is out of reach");
  } else if (s2r_cluster_stream_conflict (reply->str, &err)) {
    h->done (err, h->data);
  } else if (g_str_equal (reply->str, "free")) {
    h->done (NULL, h->data);
  } else {
    /* 'unknown': the record is not (or no longer) this node's */
    unavailable (h->done, h->data, "the call's record in the cluster is "
        "not this node's");
  }
  g_free (h);
}

/* Refused with 503 when Redis cannot say: unlike a placement (whose claim
 * writes its keys later all the same), nothing would ever hold a key
 * published without it, and a second publisher elsewhere could start */
static void
registry_hold (gpointer registry, const char *call_id, gboolean running,
    const char *const *locations, S2rStreamsHeldFunc done, gpointer data)
{
  S2rCluster *c = registry;
  g_autofree char *record = s2r_cluster_key (c, "call", call_id);
  g_autofree char *calls = g_strconcat (c->prefix, ":call:", NULL);
  g_auto (GStrv) keys = keys_of (c, running ? record : NULL, locations);
  Hold *h;
  gboolean sent;

  if (c->fenced) {
    unavailable (done, data, "this node lost its lease and takes no call");
    return;
  }
  /* record writes still queued from an outage go first, a key's release
   * among them: a hold sent past it would be undone when they are sent */
  if (!g_queue_is_empty (c->outbox)) {
    unavailable (done, data, "the cluster's state is out of reach");
    return;
  }
  h = g_new0 (Hold, 1);
  h->done = done;
  h->data = data;
  if (running) {
    const char *args[] = { c->owner, "", "", call_id, calls, NULL };

    sent = eval (c, hold_script, (const char *const *) keys, args,
        hold_reply, h);
  } else {
    sent = s2r_cluster_streams_reserve (c, call_id, FALSE, keys, hold_reply, h);
  }
  if (!sent) {
    g_free (h);
    unavailable (done, data, "the cluster's state is out of reach");
  }
}

static void
registry_release (gpointer registry, const char *call_id, gboolean running,
    const char *const *locations)
{
  S2rCluster *c = registry;
  g_autofree char *record = s2r_cluster_key (c, "call", call_id);
  g_auto (GStrv) keys = keys_of (c, running ? record : NULL, locations);
  const char *args[] = { c->owner, call_id, NULL };

  if (!running) {
    s2r_cluster_streams_unreserve (c, call_id, keys);
    return;
  }
  /* a record write: in order with the call's others, kept while Redis is
   * away (the key stays the call's until it ends if this is lost) */
  s2r_cluster_calls_write (c, eval_argv (unhold_script,
          (const char *const *) keys, args));
}

static const S2rStreamRegistry registry = {
  .hold = registry_hold,
  .release = registry_release,
};

void
s2r_cluster_streams_init (S2rCluster * c)
{
  s2r_call_manager_set_stream_registry (c->manager, &registry, c);
}

void
s2r_cluster_streams_finalize (S2rCluster * c)
{
  s2r_call_manager_set_stream_registry (c->manager, NULL, NULL);
}
