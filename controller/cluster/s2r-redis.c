/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-redis.h"

#include <hiredis/async.h>
#include <hiredis/adapters/glib.h>
#include <string.h>

#define RECONNECT_MS 250

struct _S2rRedis
{
  char *host;
  guint16 port;
  char *user;
  char *password;               /* never logged */
  char *name;                   /* CLIENT SETNAME, and our log lines */
  GMainContext *context;
  redisAsyncContext *ac;        /* NULL between connections */
  GSource *source;              /* hiredis' GLib adapter, for ac */
  gboolean connected;
  guint reconnect;
  guint64 n_commands;
  gboolean warned;
};

typedef struct
{
  S2rRedisReplyFunc func;
  gpointer data;
} Pending;

static void connect_now (S2rRedis * r);

static gboolean
reconnect_cb (gpointer user_data)
{
  S2rRedis *r = user_data;

  r->reconnect = 0;
  connect_now (r);
  return G_SOURCE_REMOVE;
}

/* The context is gone (hiredis frees it after these callbacks) */
static void
forget_context (S2rRedis * r)
{
  if (r->source) {
    g_source_destroy (r->source);
    g_source_unref (r->source);
    r->source = NULL;
  }
  r->ac = NULL;
  r->connected = FALSE;
  if (r->reconnect == 0) {
    GSource *t = g_timeout_source_new (RECONNECT_MS);

    g_source_set_callback (t, reconnect_cb, r, NULL);
    r->reconnect = g_source_attach (t, r->context);
    g_source_unref (t);
  }
}

static void
connect_cb (const redisAsyncContext * ac, int status)
{
  S2rRedis *r = ac->data;

  if (r == NULL)
    return;
  if (status != REDIS_OK) {
    if (!r->warned)
      g_warning ("redis %s: cannot connect to %s:%u: %s", r->name, r->host,
          r->port, ac->errstr);
    r->warned = TRUE;
    forget_context (r);
    return;
  }
  g_message ("redis %s: connected to %s:%u", r->name, r->host, r->port);
  r->warned = FALSE;
  r->connected = TRUE;
}

static void
disconnect_cb (const redisAsyncContext * ac, int status)
{
  S2rRedis *r = ac->data;

  if (r == NULL)
    return;
  g_warning ("redis %s: connection lost%s%s", r->name,
      status == REDIS_OK ? "" : ": ", status == REDIS_OK ? "" : ac->errstr);
  forget_context (r);
}

static void
reply_cb (redisAsyncContext * ac, void *reply, void *privdata)
{
  Pending *p = privdata;

  if (p->func)
    p->func (reply, p->data);
  g_free (p);
}

/* AUTH's own answer: a refusal is logged once, never with the password */
static void
auth_reply (redisReply * reply, gpointer user_data)
{
  S2rRedis *r = user_data;

  if (reply && reply->type == REDIS_REPLY_ERROR)
    g_warning ("redis %s: AUTH refused for user '%s'", r->name,
        r->user ? r->user : "default");
}

static gboolean
send_argv (S2rRedis * r, S2rRedisReplyFunc func, gpointer user_data,
    guint argc, const char *const *argv)
{
  Pending *p = g_new (Pending, 1);
  size_t *lens = g_newa (size_t, argc);

  for (guint i = 0; i < argc; i++)
    lens[i] = strlen (argv[i]);
  p->func = func;
  p->data = user_data;
  if (redisAsyncCommandArgv (r->ac, reply_cb, p, (int) argc,
          (const char **) argv, lens) != REDIS_OK) {
    g_free (p);
    return FALSE;
  }
  r->n_commands++;
  return TRUE;
}

static void
connect_now (S2rRedis * r)
{
  redisAsyncContext *ac = redisAsyncConnect (r->host, r->port);

  if (ac == NULL || ac->err) {
    if (ac && !r->warned)
      g_warning ("redis %s: cannot connect to %s:%u: %s", r->name, r->host,
          r->port, ac->errstr);
    r->warned = TRUE;
    if (ac)
      redisAsyncFree (ac);
    forget_context (r);
    return;
  }
  ac->data = r;
  r->ac = ac;
  r->source = redis_source_new (ac);
  g_source_attach (r->source, r->context);
  redisAsyncSetConnectCallback (ac, connect_cb);
  redisAsyncSetDisconnectCallback (ac, disconnect_cb);
  /* queued before anything else, sent once the socket connects */
  if (r->password) {
    const char *auth[] = { "AUTH", r->user ? r->user : "default",
      r->password
    };
    send_argv (r, auth_reply, r, 3, auth);
  }
  {
    const char *setname[] = { "CLIENT", "SETNAME", r->name };
    send_argv (r, NULL, NULL, 3, setname);
  }
}

S2rRedis *
s2r_redis_new (const char *host, guint16 port, const char *user,
    const char *password, const char *name)
{
  S2rRedis *r = g_new0 (S2rRedis, 1);

  r->host = g_strdup (host);
  r->port = port;
  r->user = g_strdup (user);
  r->password = g_strdup (password);
  r->name = g_strdup (name);
  r->context = g_main_context_ref_thread_default ();
  connect_now (r);
  return r;
}

gboolean
s2r_redis_is_connected (S2rRedis * r)
{
  return r->connected;
}

/* Not from a reply callback: hiredis would free the context under it */
void
s2r_redis_reset (S2rRedis * r)
{
  redisAsyncContext *ac = r->ac;

  if (ac == NULL)
    return;
  /* connected: disconnect_cb runs inside and forgets it; connecting:
   * hiredis calls nobody, so forget it here */
  redisAsyncFree (ac);
  if (r->ac == ac) {
    ac->data = NULL;
    forget_context (r);
  }
}

gboolean
s2r_redis_command (S2rRedis * r, S2rRedisReplyFunc func, gpointer user_data,
    guint argc, const char *const *argv)
{
  if (!r->connected)
    return FALSE;
  return send_argv (r, func, user_data, argc, argv);
}

gboolean
s2r_redis_commandv (S2rRedis * r, S2rRedisReplyFunc func, gpointer user_data,
    ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list ap;
  const char *arg;

  va_start (ap, user_data);
  while ((arg = va_arg (ap, const char *)))
     g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  return s2r_redis_command (r, func, user_data, argv->len,
      (const char *const *) argv->pdata);
}

guint64
s2r_redis_get_n_commands (S2rRedis * r)
{
  return r->n_commands;
}

void
s2r_redis_free (S2rRedis * r)
{
  if (r == NULL)
    return;
  g_clear_handle_id (&r->reconnect, g_source_remove);
  if (r->ac) {
    redisAsyncContext *ac = r->ac;

    /* pending callbacks get NULL; ours must not reconnect */
    ac->data = NULL;
    redisAsyncFree (ac);
    if (r->source) {
      g_source_destroy (r->source);
      g_source_unref (r->source);
    }
  }
  g_main_context_unref (r->context);
  g_free (r->host);
  g_free (r->user);
  if (r->password)
    memset (r->password, 0, strlen (r->password));
  g_free (r->password);
  g_free (r->name);
  g_free (r);
}
