/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* The API of a cluster: requests taken before the local routes (the
 * server's request-read signal, once the body is read): a new call goes
 * to the node with the most free capacity, a request for a call to its
 * owner, /api/v1/events to the cluster's stream, /readyz says whether
 * this node takes API requests. A forwarded request carries the sender's
 * id in FORWARDED_HEADER and is never forwarded again; SIGNATURE_HEADER
 * ("<unix time>:<hex HMAC-SHA256>" under the secret-key, over method,
 * path and query, node, restart, attempt and the body's SHA-256) tells it
 * from a client's: a request without a valid one is a client's, whatever
 * X-S2r-* headers it has. */

#include "s2r-cluster-private.h"
#include "s2r-call-request.h"
#include "s2r-json.h"
#include "s2r-error.h"

#include <string.h>

#define FORWARDED_HEADER "X-S2r-Node"
#define RESTART_HEADER "X-S2r-Restart"
#define ATTEMPT_HEADER "X-S2r-Attempt"
#define SIGNATURE_HEADER "X-S2r-Signature"
/* a signed forward is taken this long after (or before) it was signed */
#define SIGNATURE_SKEW_S 30
#define CALLS_PREFIX "/api/v1/calls/"

typedef struct
{
  char *id;
  char *api;
  gint free;
  gboolean self;
} Candidate;

static void
candidate_free (gpointer data)
{
  Candidate *cand = data;

  g_free (cand->id);
  g_free (cand->api);
  g_free (cand);
}

static gint
compare_candidates (gconstpointer a, gconstpointer b)
{
  const Candidate *x = *(Candidate **) a, *y = *(Candidate **) b;

  if (x->free != y->free)
    return y->free - x->free;
  /* on a tie, here: no hop */
  if (x->self != y->self)
    return x->self ? -1 : 1;
  return strcmp (x->id, y->id);
}

GPtrArray *
s2r_cluster_placement (S2rCluster * c)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (candidate_free);
  GHashTableIter iter;
  gpointer value;
  const char *reason;

  if (s2r_cluster_is_ready (c, &reason)) {
    Candidate *self = g_new0 (Candidate, 1);

    self->id = g_strdup (c->node_id);
    self->api = g_strdup (c->advertise);
    self->free = (gint) s2r_config_get_max_calls (c->config) -
        (gint) s2r_call_manager_get_n_active (c->manager);
    self->self = TRUE;
    g_ptr_array_add (out, self);
  }
  g_hash_table_iter_init (&iter, c->nodes);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    S2rClusterNode *n = value;
    Candidate *cand;

    if (strcmp (n->id, c->node_id) == 0 || !n->ready || *n->api == '\0')
      continue;
    cand = g_new0 (Candidate, 1);
    cand->id = g_strdup (n->id);
    cand->api = g_strdup (n->api);
    /* the view is up to a second old: count what we sent since */
    cand->free = n->max_calls - n->active - n->placed;
    g_ptr_array_add (out, cand);
  }
  g_ptr_array_sort (out, compare_candidates);
  return out;
}

/* The API's own check (s2r-api.c) */
gboolean
s2r_cluster_token_ok (S2rCluster * c, SoupServerMessage * msg)
{
  return s2r_api_token_ok (c->api, msg);
}

/* The cluster's refusals that name no field, in the API's body */
void
s2r_cluster_send_error (SoupServerMessage * msg, guint status,
    const char *code, const char *message)
{
  s2r_api_send_error_body (msg, status, code, NULL, message);
}

static void
send_record (SoupServerMessage * msg, const char *json)
{
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
      json, strlen (json));
}

/* One request on its way to other nodes, tried in turn */
typedef struct
{
  S2rCluster *c;
  SoupServerMessage *msg;
  GPtrArray *candidates;        /* Candidate */
  guint next;
  gboolean placing;             /* a new call: a 503 tries the next node */
  gboolean restart;
  guint attempt;
  GBytes *body;
  char *path_query;
  char *record;                 /* the call's record: the answer when its
                                 * owner went away since the last view */
  char *reserved;               /* key reserving the client's callId while
                                 * the request is placed */
  char *call_id;
  GStrv streams;                /* stream keys reserved for it, or NULL */
  gboolean placed;              /* a node took it (2xx) */
} Forward;

static void
forward_free (Forward * f)
{
  if (f->msg)
    g_object_unref (f->msg);
  g_ptr_array_unref (f->candidates);
  g_bytes_unref (f->body);
  g_free (f->path_query);
  g_free (f->record);
  if (f->reserved && !f->placed) {
    /* refused: nothing holds the id any more; placed, the call's claim
     * deletes it with the record written (not before: a second request
     * would find neither) */
    s2r_redis_commandv (f->c->redis, NULL, NULL, "DEL", f->reserved, NULL);
  }
  g_free (f->reserved);
  /* a placement no node took gives back its stream keys */
  if (f->streams && !f->placed)
    s2r_cluster_streams_unreserve (f->c, f->call_id, f->streams);
  g_strfreev (f->streams);
  g_free (f->call_id);
  g_free (f);
}

static void forward_next (Forward * f);

static void
relay (SoupServerMessage * msg, SoupMessage * m, GBytes * bytes)
{
  SoupMessageHeaders *in = soup_message_get_response_headers (m);
  SoupMessageHeaders *out = soup_server_message_get_response_headers (msg);
  static const char *const copied[] = { "Location", "Allow",
    "WWW-Authenticate", "Retry-After", NULL
  };
  const char *ctype = soup_message_headers_get_content_type (in, NULL);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  for (guint i = 0; copied[i]; i++) {
    const char *v = soup_message_headers_get_one (in, copied[i]);

    if (v)
      soup_message_headers_replace (out, copied[i], v);
  }
  soup_server_message_set_status (msg, soup_message_get_status (m), NULL);
  soup_server_message_set_response (msg, ctype ? ctype : "application/json",
      SOUP_MEMORY_COPY, data, len);
}

static void
forward_done (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Forward *f = user_data;
  SoupMessage *m = soup_session_get_async_result_message (SOUP_SESSION
      (source), res);
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) bytes = soup_session_send_and_read_finish (SOUP_SESSION
      (source), res, &err);
  Candidate *cand = g_ptr_array_index (f->candidates, f->next - 1);

  if (bytes == NULL || (f->placing &&
          soup_message_get_status (m) == SOUP_STATUS_SERVICE_UNAVAILABLE)) {
    if (bytes == NULL)
      g_warning ("cluster: node %s did not answer: %s", cand->id,
          err->message);
    forward_next (f);
    return;
  }
  if (f->placing && soup_message_get_status (m) < 300) {
    S2rClusterNode *n = g_hash_table_lookup (f->c->nodes, cand->id);

    f->placed = TRUE;
    if (n)
      n->placed++;
  }
  if (f->msg) {
    relay (f->msg, m, bytes);
    soup_server_message_unpause (f->msg);
  }
  forward_free (f);
}

/* The HMAC of a node's forward (SIGNATURE_HEADER), hex */
static char *
forward_signature (S2rCluster * c, const char *method, const char *path_query,
    const char *node, const char *restart, const char *attempt, GBytes * body,
    gint64 when)
{
  g_autofree char *body_sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256,
      body);
  g_autofree char *text = g_strdup_printf ("%s\n%s\n%s\n%s\n%s\n%s\n%"
      G_GINT64_FORMAT, method, path_query, node, restart ? restart : "",
      attempt ? attempt : "", body_sum, when);

  return g_compute_hmac_for_string (G_CHECKSUM_SHA256, c->key,
      sizeof (c->key), text, -1);
}

static void
sign_forward (S2rCluster * c, SoupMessageHeaders * out, const char *method,
    const char *path_query, GBytes * body)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *sig = forward_signature (c, method, path_query,
      soup_message_headers_get_one (out, FORWARDED_HEADER),
      soup_message_headers_get_one (out, RESTART_HEADER),
      soup_message_headers_get_one (out, ATTEMPT_HEADER), body, now);
  g_autofree char *value = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", now,
      sig);

  soup_message_headers_replace (out, SIGNATURE_HEADER, value);
}

/* TRUE for a forward another node of this cluster signed */
static gboolean
is_signed_forward (S2rCluster * c, SoupServerMessage * msg)
{
  SoupMessageHeaders *in = soup_server_message_get_request_headers (msg);
  const char *node = soup_message_headers_get_one (in, FORWARDED_HEADER);
  const char *value = soup_message_headers_get_one (in, SIGNATURE_HEADER);
  GUri *uri = soup_server_message_get_uri (msg);
  g_autofree char *path_query = NULL;
  g_autofree char *want = NULL;
  g_autoptr (GBytes) body = NULL;
  const char *colon;
  char *end = NULL;
  gint64 when, now = g_get_real_time () / G_USEC_PER_SEC;
  guint8 diff = 0;

  if (node == NULL || value == NULL || !c->has_key)
    return FALSE;
  colon = strchr (value, ':');
  if (colon == NULL)
    return FALSE;
  when = g_ascii_strtoll (value, &end, 10);
  if (end != colon || ABS (now - when) > SIGNATURE_SKEW_S)
    return FALSE;
  path_query = g_uri_get_query (uri) ?
      g_strconcat (g_uri_get_path (uri), "?", g_uri_get_query (uri), NULL) :
      g_strdup (g_uri_get_path (uri));
  body = soup_message_body_flatten (soup_server_message_get_request_body
      (msg));
  want = forward_signature (c, soup_server_message_get_method (msg),
      path_query, node, soup_message_headers_get_one (in, RESTART_HEADER),
      soup_message_headers_get_one (in, ATTEMPT_HEADER), body, when);
  if (strlen (colon + 1) != strlen (want))
    return FALSE;
  for (gsize i = 0; want[i]; i++)
    diff |= (guint8) (want[i] ^ colon[1 + i]);
  return diff == 0;
}

static void
forward_next (Forward * f)
{
  Candidate *cand;
  g_autofree char *url = NULL;
  g_autoptr (SoupMessage) m = NULL;
  SoupMessageHeaders *out;
  const char *method = f->msg ? soup_server_message_get_method (f->msg) :
      SOUP_METHOD_POST;
  const char *token = s2r_config_get_token (f->c->config);

  if (f->next >= f->candidates->len) {
    if (f->msg && f->record) {
      send_record (f->msg, f->record);
      soup_server_message_unpause (f->msg);
    } else if (f->msg) {
      s2r_cluster_send_error (f->msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
          "unavailable", f->placing ?
          "every node of the cluster is at capacity" :
          "the node that owns the call does not answer");
      soup_server_message_unpause (f->msg);
    } else {
      g_warning ("cluster: no node took the call again");
    }
    forward_free (f);
    return;
  }
  cand = g_ptr_array_index (f->candidates, f->next++);
  url = g_strdup_printf ("http://%s%s", cand->api, f->path_query);
  m = soup_message_new (method, url);
  if (m == NULL) {
    forward_next (f);
    return;
  }
  out = soup_message_get_request_headers (m);
  if (f->msg) {
    SoupMessageHeaders *in = soup_server_message_get_request_headers (f->msg);
    const char *v = soup_message_headers_get_one (in, "Authorization");

    if (v)
      soup_message_headers_replace (out, "Authorization", v);
  } else if (token) {
    g_autofree char *bearer = g_strconcat ("Bearer ", token, NULL);

    soup_message_headers_replace (out, "Authorization", bearer);
  }
  soup_message_headers_replace (out, FORWARDED_HEADER, f->c->node_id);
  if (f->placing) {
    g_autofree char *att = g_strdup_printf ("%u", f->attempt);

    soup_message_headers_replace (out, RESTART_HEADER, f->restart ? "1" :
        "0");
    soup_message_headers_replace (out, ATTEMPT_HEADER, att);
  }
  sign_forward (f->c, out, method, f->path_query, f->body);
  if (g_bytes_get_size (f->body) > 0)
    soup_message_set_request_body_from_bytes (m, "application/json",
        f->body);
  f->c->forwarded++;
  soup_session_send_and_read_async (f->c->session, m, G_PRIORITY_DEFAULT,
      NULL, forward_done, f);
}

/* The request is the cluster's: a status skips the local route (libsoup
 * calls no handler for a message that has one), the pause holds the
 * answer until the real status and body are set */
static void
take (SoupServerMessage * msg)
{
  soup_server_message_set_status (msg, SOUP_STATUS_ACCEPTED, NULL);
  soup_server_message_pause (msg);
}

static Forward *
forward_new (S2rCluster * c, SoupServerMessage * msg, GPtrArray * candidates,
    gboolean placing)
{
  Forward *f = g_new0 (Forward, 1);
  GUri *uri = soup_server_message_get_uri (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  f->c = c;
  f->msg = g_object_ref (msg);
  f->candidates = candidates;
  f->placing = placing;
  f->attempt = 1;
  f->body = soup_message_body_flatten (body);
  f->path_query = g_uri_get_query (uri) ?
      g_strconcat (g_uri_get_path (uri), "?", g_uri_get_query (uri), NULL) :
      g_strdup (g_uri_get_path (uri));
  return f;
}

/* A restart: no client waits, the best node that takes it gets it */
void
s2r_cluster_place_body (S2rCluster * c, const char *path, const char *body,
    guint attempt)
{
  Forward *f = g_new0 (Forward, 1);

  f->c = c;
  f->candidates = s2r_cluster_placement (c);
  f->placing = TRUE;
  f->restart = TRUE;
  f->attempt = attempt;
  f->body = g_bytes_new (body, strlen (body));
  f->path_query = g_strdup (path);
  forward_next (f);
}

static GPtrArray *
only_node (S2rCluster * c, const char *id, const char *api)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (candidate_free);
  Candidate *cand = g_new0 (Candidate, 1);

  cand->id = g_strdup (id);
  cand->api = g_strdup (api);
  g_ptr_array_add (out, cand);
  return out;
}

static gboolean
is_create (const char *method, const char *path)
{
  return method == SOUP_METHOD_POST && (g_str_equal (path, "/api/v1/calls")
      || g_str_equal (path, "/RESTCall/call") ||
      g_str_equal (path, "/rest-api/call/startup"));
}

static gboolean
restart_of (JsonObject * obj, gboolean def)
{
  JsonNode *node = json_object_get_member (obj, "restart");

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return def;
  if (json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    return json_node_get_boolean (node);
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    return g_ascii_strcasecmp (json_node_get_string (node), "true") == 0;
  return def;
}

typedef struct
{
  S2rCluster *c;
  SoupServerMessage *msg;
  char *call_id;
  char *reserved;
  gboolean client_id;           /* the client's callId: checked too */
  GStrv streams;
  gboolean restart;
} UniqueCheck;

static void
unique_reply (redisReply * reply, gpointer user_data)
{
  UniqueCheck *u = user_data;
  S2rCluster *c = u->c;
  g_autoptr (GError) err = NULL;
  Forward *f;

  if (reply && reply->type == REDIS_REPLY_STRING &&
      s2r_cluster_stream_conflict (reply->str, &err)) {
    s2r_api_send_error_body (u->msg, SOUP_STATUS_CONFLICT, "conflict",
        s2r_error_get_field (err), err->message);
    soup_server_message_unpause (u->msg);
  } else if (reply && reply->type == REDIS_REPLY_STRING &&
      !g_str_equal (reply->str, "free")) {
    g_autofree char *message = g_strdup_printf ("callId '%s' is in use by "
        "an active call%s", u->call_id, g_str_equal (reply->str, "active") ?
        "" : " being placed");

    s2r_api_send_error_body (u->msg, SOUP_STATUS_CONFLICT, "conflict",
        "callId", message);
    soup_server_message_unpause (u->msg);
  } else {
    /* free (or Redis out of reach: each node still refuses an id it
     * has active): the best node, this one through its own API */
    f = forward_new (c, u->msg, s2r_cluster_placement (c), TRUE);
    f->restart = u->restart;
    f->call_id = g_strdup (u->call_id);
    if (reply && reply->type == REDIS_REPLY_STRING) {
      if (u->client_id)
        f->reserved = g_steal_pointer (&u->reserved);
      f->streams = g_steal_pointer (&u->streams);
    }
    forward_next (f);
  }
  g_object_unref (u->msg);
  g_free (u->call_id);
  g_free (u->reserved);
  g_strfreev (u->streams);
  g_free (u);
}

/* The call's id (the client's: @client_id) and its stream keys, unique in
 * the cluster: one EVAL, then the best node, this one through its API */
static void
check_unique (S2rCluster * c, SoupServerMessage * msg, const char *call_id,
    gboolean client_id, GStrv streams, gboolean restart)
{
  UniqueCheck *u = g_new0 (UniqueCheck, 1);

  u->c = c;
  u->msg = g_object_ref (msg);
  u->call_id = g_strdup (call_id);
  u->reserved = s2r_cluster_key (c, "placing", call_id);
  u->client_id = client_id;
  u->streams = streams;
  u->restart = restart;
  take (msg);
  if (!s2r_cluster_streams_reserve (c, call_id, client_id, streams,
          unique_reply, u))
    unique_reply (NULL, u);
}

/* The stream keys of the call @root asks for (none when the local route
 * will refuse it anyway) */
static GStrv
stream_keys_of (S2rCluster * c, JsonNode * root)
{
  g_autoptr (S2rCallRequest) req = s2r_call_request_new_from_json (root,
      NULL);
  GStrvBuilder *b = g_strv_builder_new ();
  GStrv out;

  for (guint i = 0; req && i < s2r_call_request_get_n_targets (req); i++) {
    g_autofree char *key = s2r_cluster_stream_key (c,
        s2r_rtmp_target_get_location (s2r_call_request_get_target (req, i)));

    g_strv_builder_add (b, key);
  }
  out = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return out;
}

/* A new call from a client: a call id of our own when it has none (so its
 * record can be found before the call exists), then the best node */
static void
place_request (S2rCluster * c, SoupServerMessage * msg, const char *path)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;
  g_autofree char *uuid = NULL;
  JsonObject *obj;
  const char *call_id;
  GPtrArray *candidates;
  Forward *f;
  gboolean restart;
  GStrv streams;

  if (len > s2r_config_get_max_body (c->config))
    return;
  /* a body the local route refuses (400) is refused here, unforwarded */
  root = s2r_json_parse_object (data, len, NULL);
  if (root == NULL)
    return;
  obj = json_node_get_object (root);
  call_id = json_object_get_string_member_with_default (obj, "callId", NULL);
  if (call_id == NULL && !json_object_has_member (obj, "callId")) {
    uuid = g_uuid_string_random ();
    json_object_set_string_member (obj, "callId", uuid);
    call_id = uuid;
  }
  if (call_id == NULL || !s2r_call_id_is_valid (call_id))
    return;
  restart = restart_of (obj, c->restart_default);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  soup_message_body_truncate (body);
  soup_message_body_append (body, SOUP_MEMORY_COPY, text, len);

  if (c->fenced) {
    s2r_cluster_send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "unavailable", "this node lost its lease and takes no call");
    return;
  }
  streams = stream_keys_of (c, root);
  if (uuid == NULL || streams[0] != NULL) {
    /* the client's id (ours are UUIDs) and the stream keys: unique in
     * the cluster */
    check_unique (c, msg, call_id, uuid == NULL, streams, restart);
    return;
  }
  g_strfreev (streams);
  candidates = s2r_cluster_placement (c);
  /* here, unless even the best one is full by the view: then the chain
   * below asks every node in turn */
  if (candidates->len > 0 &&
      ((Candidate *) g_ptr_array_index (candidates, 0))->self &&
      ((Candidate *) g_ptr_array_index (candidates, 0))->free > 0) {
    /* here, by the local route */
    s2r_cluster_calls_expect (c, call_id, text, path, restart, 1);
    g_ptr_array_unref (candidates);
    return;
  }
  take (msg);
  f = forward_new (c, msg, candidates, TRUE);
  f->restart = restart;
  forward_next (f);
}

/* A call placed here by another node (or by us, through HTTP) */
static void
accept_placed (S2rCluster * c, SoupServerMessage * msg, const char *path)
{
  SoupMessageHeaders *in = soup_server_message_get_request_headers (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten
      (soup_server_message_get_request_body (msg));
  g_autoptr (JsonNode) root = NULL;
  const char *call_id, *restart, *attempt;
  const char *reason;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  guint64 att = 1;

  if (!s2r_cluster_is_ready (c, &reason)) {
    s2r_cluster_send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "unavailable", reason);
    return;
  }
  root = s2r_json_parse_object (data, len, NULL);
  if (root == NULL)
    return;
  call_id = json_object_get_string_member_with_default (json_node_get_object
      (root), "callId", NULL);
  if (call_id == NULL || !s2r_call_id_is_valid (call_id))
    return;
  restart = soup_message_headers_get_one (in, RESTART_HEADER);
  attempt = soup_message_headers_get_one (in, ATTEMPT_HEADER);
  if (attempt)
    g_ascii_string_to_unsigned (attempt, 10, 1, 1000000, &att, NULL);
  s2r_cluster_calls_expect (c, call_id, data, path,
      g_strcmp0 (restart, "1") == 0, (guint) att);
}

typedef struct
{
  S2rCluster *c;
  SoupServerMessage *msg;
  char *call_id;
  gboolean whole_call;          /* /api/v1/calls/{id} itself */
} OwnerLookup;

static void
owner_reply (redisReply * reply, gpointer user_data)
{
  OwnerLookup *o = user_data;
  S2rCluster *c = o->c;
  const char *owner = NULL, *json = NULL;
  g_autofree char *node_id = NULL;
  S2rClusterNode *n = NULL;
  Forward *f;

  if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) {
    owner = reply->element[0]->str;
    json = reply->element[1]->str;
  }
  if (reply == NULL) {
    s2r_cluster_send_error (o->msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "unavailable", "the cluster's state is out of reach");
    soup_server_message_unpause (o->msg);
    goto out;
  }
  if (owner && *owner) {
    node_id = g_strndup (owner, strcspn (owner, "/"));
    n = g_hash_table_lookup (c->nodes, node_id);
  }
  if (json && (owner == NULL || *owner == '\0' ||
          (n == NULL && strcmp (node_id, c->node_id) != 0)) &&
      o->whole_call) {
    /* no live owner: the record says how the call ended */
    send_record (o->msg, json);
    soup_server_message_unpause (o->msg);
    goto out;
  }
  /* ours (a call that ended here), another's, or nobody's: the local
   * route of that node answers */
  f = forward_new (c, o->msg, only_node (c, n ? n->id : c->node_id,
          n ? n->api : c->advertise), FALSE);
  if (json && o->whole_call)
    f->record = g_strdup (json);
  forward_next (f);

out:
  g_object_unref (o->msg);
  g_free (o->call_id);
  g_free (o);
}

static void
route_to_owner (S2rCluster * c, SoupServerMessage * msg, const char *rest)
{
  g_autofree char *call_id = g_strndup (rest, strcspn (rest, "/"));
  g_autofree char *key = NULL;
  g_autoptr (S2rCall) call = NULL;
  OwnerLookup *o;

  if (!s2r_call_id_is_valid (call_id))
    return;
  call = s2r_call_manager_lookup (c->manager, call_id, NULL);
  if (call && s2r_call_is_active (call))
    return;
  key = s2r_cluster_key (c, "call", call_id);
  o = g_new0 (OwnerLookup, 1);
  o->c = c;
  o->msg = g_object_ref (msg);
  o->call_id = g_steal_pointer (&call_id);
  o->whole_call = strchr (rest, '/') == NULL &&
      (soup_server_message_get_method (msg) == SOUP_METHOD_GET ||
      soup_server_message_get_method (msg) == SOUP_METHOD_DELETE);
  if (!s2r_redis_commandv (c->redis, owner_reply, o, "HMGET", key, "owner",
          "json", NULL)) {
    g_object_unref (o->msg);
    g_free (o->call_id);
    g_free (o);
    return;                     /* Redis away: what this node knows */
  }
  take (msg);
}

/* WCS 5's terminate, send_dtmf and find name the call in the body: to
 * its owner like /api/v1/calls/{id} (find without a callId, find_all: this
 * node's calls) */
static void
wcs5_to_owner (S2rCluster * c, SoupServerMessage * msg)
{
  g_autoptr (GBytes) bytes = soup_message_body_flatten
      (soup_server_message_get_request_body (msg));
  g_autoptr (JsonNode) root = NULL;
  JsonNode *id;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (len > s2r_config_get_max_body (c->config))
    return;
  root = s2r_json_parse_object (data, len, NULL);
  if (root == NULL)
    return;
  id = json_object_get_member (json_node_get_object (root), "callId");
  if (id == NULL || !JSON_NODE_HOLDS_VALUE (id) ||
      json_node_get_value_type (id) != G_TYPE_STRING ||
      strchr (json_node_get_string (id), '/') != NULL)
    return;
  route_to_owner (c, msg, json_node_get_string (id));
}

static gboolean
is_wcs5_by_id (const char *path)
{
  return g_str_equal (path, "/rest-api/call/terminate") ||
      g_str_equal (path, "/rest-api/call/send_dtmf") ||
      g_str_equal (path, "/rest-api/call/find");
}

/* Every record the cluster keeps (active calls and ended ones until their
 * records expire): the ids of the index whose record expired are dropped */
static const char list_script[] =
    "local out = {} for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do "
    "local j = redis.call('HGET', ARGV[1] .. id, 'json') "
    "if j then out[#out + 1] = j else redis.call('SREM', KEYS[1], id) end "
    "end return out";

static gint
compare_created (gconstpointer a, gconstpointer b)
{
  JsonObject *x = json_node_get_object (*(JsonNode **) a);
  JsonObject *y = json_node_get_object (*(JsonNode **) b);
  gint r = g_strcmp0 (json_object_get_string_member_with_default (x,
          "created", NULL), json_object_get_string_member_with_default (y,
          "created", NULL));

  return r ? r : g_strcmp0 (json_object_get_string_member_with_default (x,
          "callId", NULL), json_object_get_string_member_with_default (y,
          "callId", NULL));
}

static void
list_reply (redisReply * reply, gpointer user_data)
{
  SoupServerMessage *msg = user_data;
  g_autoptr (GPtrArray) calls = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
    s2r_cluster_send_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "unavailable", "the cluster's state is out of reach");
    soup_server_message_unpause (msg);
    g_object_unref (msg);
    return;
  }
  for (gsize i = 0; i < reply->elements; i++) {
    redisReply *r = reply->element[i];
    JsonNode *node;

    if (r->type != REDIS_REPLY_STRING)
      continue;
    node = json_from_string (r->str, NULL);
    if (node && JSON_NODE_HOLDS_OBJECT (node))
      g_ptr_array_add (calls, node);
    else if (node)
      json_node_unref (node);
  }
  g_ptr_array_sort (calls, compare_created);
  for (guint i = 0; i < calls->len; i++)
    json_array_add_element (array, json_node_ref (g_ptr_array_index (calls,
                i)));
  json_node_set_array (root, array);
  s2r_api_send_json (msg, SOUP_STATUS_OK, root);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
list_calls (S2rCluster * c, SoupServerMessage * msg)
{
  g_autofree char *index = s2r_cluster_key (c, "calls", NULL);
  g_autofree char *prefix = s2r_cluster_key (c, "call", "");

  if (!s2r_redis_commandv (c->redis, list_reply, g_object_ref (msg), "EVAL",
          list_script, "1", index, prefix, NULL)) {
    g_object_unref (msg);
    return;                     /* Redis away: this node's calls */
  }
  take (msg);
}

typedef struct
{
  S2rClusterPostDone done;
  gpointer data;
} Post;

static void
post_sent (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Post *p = user_data;
  SoupMessage *m = soup_session_get_async_result_message (SOUP_SESSION
      (source), res);
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) bytes = soup_session_send_and_read_finish (SOUP_SESSION
      (source), res, &err);
  g_autofree char *why = NULL;
  gboolean ok = bytes && m &&
      SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (m));

  if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    if (!ok)
      why = err ? g_strdup (err->message) : g_strdup_printf ("HTTP %u",
          m ? soup_message_get_status (m) : 0);
    p->done (ok, bytes, why, p->data);
  }
  g_free (p);
}

void
s2r_cluster_post_json (S2rCluster * c, const char *url, const char *json,
    const char *header, const char *value, S2rClusterPostDone done,
    gpointer data)
{
  g_autoptr (SoupMessage) m = c->session ?
      soup_message_new (SOUP_METHOD_POST, url) : NULL;
  g_autoptr (GBytes) body = g_bytes_new (json, strlen (json));
  Post *p;

  if (m == NULL) {
    done (FALSE, NULL, "not a URL", data);
    return;
  }
  p = g_new0 (Post, 1);
  p->done = done;
  p->data = data;
  soup_message_set_request_body_from_bytes (m, "application/json", body);
  if (header)
    soup_message_headers_replace (soup_message_get_request_headers (m),
        header, value);
  soup_session_send_and_read_async (c->session, m, G_PRIORITY_DEFAULT, NULL,
      post_sent, p);
}

static void
sip_edge_done (gboolean ok, GBytes * answer, const char *why, gpointer data)
{
  char *state = data;
  gsize len = 0;
  const char *text = answer ? g_bytes_get_data (answer, &len) : NULL;

  /* a JSON-RPC error comes with 200 and an "error" member */
  if (!ok || (text && g_strstr_len (text, len, "\"error\"")))
    g_warning ("cluster: the SIP edge did not take state '%s': %s", state,
        why ? why : "refused");
  else
    g_message ("cluster: SIP edge: this node's state is '%s'", state);
  g_free (state);
}

void
s2r_cluster_sip_edge_set (S2rCluster * c, const char *state)
{
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonGenerator) gen = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *body = NULL;

  if (c->sip_edges == NULL || c->session == NULL ||
      g_strcmp0 (c->sip_edge_state, state) == 0)
    return;
  c->sip_edge_state = g_str_equal (state, "a") ? "a" : "d";
  /* built, not spliced: the address is the config's, quoted as JSON */
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "jsonrpc");
  json_builder_add_string_value (b, "2.0");
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, "dispatcher.set_state");
  json_builder_set_member_name (b, "params");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, c->sip_edge_state);
  json_builder_add_int_value (b, c->sip_edge_group);
  json_builder_add_string_value (b, c->sip_edge_address);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, 1);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, NULL);
  for (guint i = 0; c->sip_edges[i]; i++)
    s2r_cluster_post_json (c, c->sip_edges[i], body, NULL, NULL,
        sip_edge_done, g_strdup (c->sip_edge_state));
}

/* In a cluster, ready means: takes API requests (not draining, not
 * fenced, Redis reachable); a node at capacity still is */
static void
readyz (S2rCluster * c, SoupServerMessage * msg)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  const char *reason = NULL;
  gboolean ok = s2r_cluster_is_ready (c, &reason);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, ok ? "ok" : "unavailable");
  if (!ok) {
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, reason);
  }
  json_builder_set_member_name (b, "node");
  json_builder_add_string_value (b, c->node_id);
  json_builder_set_member_name (b, "activeCalls");
  json_builder_add_int_value (b, s2r_call_manager_get_n_active (c->manager));
  json_builder_set_member_name (b, "clusterNodes");
  json_builder_add_int_value (b, g_hash_table_size (c->nodes));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  s2r_api_send_json (msg, ok ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE,
      root);
}

static void
request_read_cb (SoupServer * server, SoupServerMessage * msg,
    S2rCluster * c)
{
  const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
  const char *method = soup_server_message_get_method (msg);
  gboolean forwarded;

  /* refused already (413, 400 by S2rConnections or libsoup) */
  if (soup_server_message_get_status (msg) != 0)
    return;
  if (g_str_equal (path, "/readyz") && (method == SOUP_METHOD_GET ||
          method == SOUP_METHOD_HEAD)) {
    readyz (c, msg);
    return;
  }
  /* the local route answers 401 */
  if (!s2r_cluster_token_ok (c, msg))
    return;
  /* a client's X-S2r-Node without the signature makes it no node */
  forwarded = is_signed_forward (c, msg);
  if (g_str_equal (path, "/api/v1/events") && method == SOUP_METHOD_GET)
    s2r_cluster_events_add_client (c->events, msg);
  else if (!forwarded && s2r_cluster_routes_request (c, msg, path))
    return;
  else if (is_create (method, path))
    forwarded ? accept_placed (c, msg, path) : place_request (c, msg, path);
  else if (!forwarded && g_str_has_prefix (path, CALLS_PREFIX))
    route_to_owner (c, msg, path + strlen (CALLS_PREFIX));
  else if (!forwarded && method == SOUP_METHOD_GET &&
      g_str_equal (path, "/api/v1/calls"))
    list_calls (c, msg);
  else if (!forwarded && method == SOUP_METHOD_POST && is_wcs5_by_id (path))
    wcs5_to_owner (c, msg);
}

void
s2r_cluster_http_init (S2rCluster * c)
{
  c->session = soup_session_new_with_options ("timeout",
      S2R_CLUSTER_FORWARD_TIMEOUT_S,
      "max-conns-per-host", 32, "max-conns", 128, NULL);
  soup_session_set_proxy_resolver (c->session, NULL);
  g_signal_connect (s2r_api_get_server (c->api), "request-read",
      G_CALLBACK (request_read_cb), c);
}

void
s2r_cluster_http_finalize (S2rCluster * c)
{
  g_signal_handlers_disconnect_by_data (s2r_api_get_server (c->api), c);
  soup_session_abort (c->session);
  g_clear_object (&c->session);
}
