/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* GET /api/v1/events of a cluster: the events of every node's calls, read
 * from the cluster's Redis stream, with the stream's entry ids as SSE ids
 * so that Last-Event-ID resumes where a client left, on any node.
 *
 * One connection reads the stream (XREAD BLOCK) and the catch-up of a
 * resuming client (XRANGE) goes over the same connection: Redis answers
 * a connection's commands in order, so no entry falls between the two.
 *
 * The stream is read only while this node has SSE clients (nothing else
 * here reads it: webhooks are posted by the owner from its own events):
 * a node without clients is not woken by every event of the cluster. The
 * first client after a pause starts the reader again from the stream's
 * newest entry (XREVRANGE), sent before that client's catch-up, so a
 * resuming client still gets every entry after its Last-Event-ID. */

#include "s2r-cluster-private.h"

#define BLOCK_MS "1000"
#define BATCH "500"

typedef struct
{
  guint64 ms, seq;
} StreamId;

typedef struct
{
  SoupServerMessage *msg;
  StreamId last;                /* sent up to here */
  gboolean live;                /* caught up */
  S2rClusterEvents *owner;
} Client;

struct _S2rClusterEvents
{
  S2rCluster *c;
  char *stream;
  GList *clients;
  StreamId last;                /* read up to here */
  gboolean started;             /* last is known */
  gboolean reading;             /* an XREAD or its start is in flight */
  guint poll;
  guint keepalive;
  gboolean closing;
};

static gboolean
parse_id (const char *text, StreamId * id)
{
  g_auto (GStrv) parts = NULL;

  if (text == NULL)
    return FALSE;
  parts = g_strsplit (text, "-", 3);
  return g_strv_length (parts) == 2 &&
      g_ascii_string_to_unsigned (parts[0], 10, 0, G_MAXUINT64, &id->ms,
      NULL) &&
      g_ascii_string_to_unsigned (parts[1], 10, 0, G_MAXUINT64, &id->seq,
      NULL);
}

static gint
compare_ids (const StreamId * a, const StreamId * b)
{
  if (a->ms != b->ms)
    return a->ms < b->ms ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq ? 1 : 0;
}

static char *
id_string (const StreamId * id)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, id->ms,
      id->seq);
}

static void
client_free (Client * cl)
{
  g_signal_handlers_disconnect_by_data (cl->msg, cl);
  g_object_unref (cl->msg);
  g_free (cl);
}

static void
client_gone_cb (SoupServerMessage * msg, Client * cl)
{
  S2rClusterEvents *e = cl->owner;

  e->clients = g_list_remove (e->clients, cl);
  client_free (cl);
}

/* An entry: [id, [field, value, ...]] with fields call and data */
static gboolean
entry_of (redisReply * r, StreamId * id, const char **data)
{
  redisReply *fields;

  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      !parse_id (r->element[0]->str, id))
    return FALSE;
  fields = r->element[1];
  *data = NULL;
  for (size_t i = 0; fields->type == REDIS_REPLY_ARRAY &&
      i + 1 < fields->elements; i += 2)
    if (g_strcmp0 (fields->element[i]->str, "data") == 0)
      *data = fields->element[i + 1]->str;
  return *data != NULL;
}

static void
send_entry (Client * cl, const StreamId * id, const char *data)
{
  g_autofree char *sid = NULL;
  g_autofree char *text = NULL;

  if (compare_ids (id, &cl->last) <= 0)
    return;
  sid = id_string (id);
  text = g_strdup_printf ("id: %s\nevent: call\ndata: %s\n\n", sid, data);
  s2r_events_send_text (cl->msg, text);
  cl->last = *id;
}

static void read_more (S2rClusterEvents * e);

static void
xread_reply (redisReply * reply, gpointer user_data)
{
  S2rClusterEvents *e = user_data;

  if (e->closing)
    return;
  e->reading = FALSE;
  /* [[stream, [entries]]], or nil when BLOCK ran out */
  if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
      reply->element[0]->type == REDIS_REPLY_ARRAY &&
      reply->element[0]->elements == 2) {
    redisReply *entries = reply->element[0]->element[1];

    for (size_t i = 0; i < entries->elements; i++) {
      StreamId id;
      const char *data;

      if (!entry_of (entries->element[i], &id, &data))
        continue;
      e->last = id;
      for (GList * l = e->clients; l; l = l->next) {
        Client *cl = l->data;

        if (cl->live)
          send_entry (cl, &id, data);
      }
    }
  }
  if (reply)
    read_more (e);
}

static void
start_reply (redisReply * reply, gpointer user_data)
{
  S2rClusterEvents *e = user_data;

  if (e->closing)
    return;
  e->reading = FALSE;
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
    return;
  /* XREVRANGE + - COUNT 1: the newest entry, or none */
  e->last.ms = e->last.seq = 0;
  if (reply->elements == 1 && reply->element[0]->type == REDIS_REPLY_ARRAY &&
      reply->element[0]->elements == 2)
    parse_id (reply->element[0]->element[0]->str, &e->last);
  e->started = TRUE;
  for (GList * l = e->clients; l; l = l->next) {
    Client *cl = l->data;

    if (cl->live && cl->last.ms == 0 && cl->last.seq == 0)
      cl->last = e->last;
  }
  read_more (e);
}

static void
read_more (S2rClusterEvents * e)
{
  S2rRedis *r = e->c->reader;
  g_autofree char *from = NULL;

  if (e->reading)
    return;
  if (e->clients == NULL) {
    /* nobody to read for: stop; the next client starts from the newest */
    e->started = FALSE;
    return;
  }
  if (!e->started) {
    e->reading = s2r_redis_commandv (r, start_reply, e, "XREVRANGE",
        e->stream, "+", "-", "COUNT", "1", NULL);
    return;
  }
  from = id_string (&e->last);
  e->reading = s2r_redis_commandv (r, xread_reply, e, "XREAD", "COUNT", BATCH,
      "BLOCK", BLOCK_MS, "STREAMS", e->stream, from, NULL);
}

/* Until the reader's connection is up, and after it was lost */
static gboolean
poll_cb (gpointer user_data)
{
  S2rClusterEvents *e = user_data;

  if (!e->reading)
    read_more (e);
  return G_SOURCE_CONTINUE;
}

static void catch_up (Client * cl);

typedef struct
{
  S2rClusterEvents *e;
  Client *cl;                   /* checked against e->clients */
} CatchUp;

static void
catch_up_reply (redisReply * reply, gpointer user_data)
{
  CatchUp *cu = user_data;
  S2rClusterEvents *e = cu->e;
  Client *cl = cu->cl;

  g_free (cu);
  if (e->closing || g_list_find (e->clients, cl) == NULL)
    return;
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
    cl->live = TRUE;            /* no history to give: go on from here */
    return;
  }
  for (size_t i = 0; i < reply->elements; i++) {
    StreamId id;
    const char *data;

    if (entry_of (reply->element[i], &id, &data))
      send_entry (cl, &id, data);
  }
  if (reply->elements == (size_t) g_ascii_strtoull (BATCH, NULL, 10))
    catch_up (cl);
  else
    cl->live = TRUE;
}

static void
catch_up (Client * cl)
{
  S2rClusterEvents *e = cl->owner;
  g_autofree char *sid = id_string (&cl->last);
  g_autofree char *from = g_strconcat ("(", sid, NULL);
  CatchUp *cu = g_new0 (CatchUp, 1);

  cu->e = e;
  cu->cl = cl;
  if (!s2r_redis_commandv (e->c->reader, catch_up_reply, cu, "XRANGE",
          e->stream, from, "+", "COUNT", BATCH, NULL)) {
    g_free (cu);
    cl->live = TRUE;
  }
}

void
s2r_cluster_events_add_client (S2rClusterEvents * e, SoupServerMessage * msg)
{
  const char *resume = soup_message_headers_get_one
      (soup_server_message_get_request_headers (msg), "Last-Event-ID");
  Client *cl = g_new0 (Client, 1);

  s2r_events_start_stream (msg);
  cl->msg = g_object_ref (msg);
  cl->owner = e;
  e->clients = g_list_prepend (e->clients, cl);
  g_signal_connect (msg, "finished", G_CALLBACK (client_gone_cb), cl);
  g_signal_connect (msg, "disconnected", G_CALLBACK (client_gone_cb), cl);
  /* the reader first (when it was stopped: its XREVRANGE goes before the
   * catch-up's XRANGE on the one connection) */
  read_more (e);
  /* an id we never gave out is not resumed from */
  if (parse_id (resume, &cl->last)) {
    catch_up (cl);
  } else {
    /* not started: start_reply gives it the newest id */
    if (e->started)
      cl->last = e->last;
    else
      cl->last.ms = cl->last.seq = 0;
    cl->live = TRUE;
  }
}

static gboolean
keepalive_cb (gpointer user_data)
{
  S2rClusterEvents *e = user_data;

  for (GList * l = e->clients; l; l = l->next)
    s2r_events_send_text (((Client *) l->data)->msg, S2R_EVENTS_KEEPALIVE);
  return G_SOURCE_CONTINUE;
}

S2rClusterEvents *
s2r_cluster_events_new (S2rCluster * c)
{
  S2rClusterEvents *e = g_new0 (S2rClusterEvents, 1);

  e->c = c;
  e->stream = s2r_cluster_key (c, "events", NULL);
  e->poll = g_timeout_add (200, poll_cb, e);
  e->keepalive = g_timeout_add_seconds (S2R_EVENTS_KEEPALIVE_SECONDS,
      keepalive_cb, e);
  return e;
}

/* After the reader's connection is freed: no reply comes any more */
/* /metrics: the clients of this node's cluster-wide stream */
guint
s2r_cluster_events_get_n_clients (S2rClusterEvents * e)
{
  return g_list_length (e->clients);
}

void
s2r_cluster_events_free (S2rClusterEvents * e)
{
  e->closing = TRUE;
  g_clear_handle_id (&e->poll, g_source_remove);
  g_clear_handle_id (&e->keepalive, g_source_remove);
  while (e->clients) {
    Client *cl = e->clients->data;

    e->clients = g_list_delete_link (e->clients, e->clients);
    soup_message_body_complete (soup_server_message_get_response_body
        (cl->msg));
    soup_server_message_unpause (cl->msg);
    client_free (cl);
  }
  g_free (e->stream);
  g_free (e);
}
