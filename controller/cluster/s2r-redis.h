/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <hiredis/hiredis.h>

G_BEGIN_DECLS

/**
 * S2rRedis:
 *
 * One Redis connection driven by the thread-default GMainContext of its
 * maker (hiredis' async API on a GSource): commands are queued and their
 * replies come back on that context, so nothing ever waits for Redis.
 * AUTH (ACL user + password) is the first command of every connection;
 * a lost connection is made again every 250 ms. hiredis 0.14 has no TLS:
 * reach a remote Redis through a TLS tunnel (docs/cluster.md).
 */
typedef struct _S2rRedis S2rRedis;

/* @reply: NULL when the connection was lost or closed first (the command
 * may or may not have run); an error reply has type REDIS_REPLY_ERROR */
typedef void (*S2rRedisReplyFunc) (redisReply * reply, gpointer user_data);

S2rRedis *s2r_redis_new (const char *host, guint16 port, const char *user,
    const char *password, const char *name);
void s2r_redis_free (S2rRedis * redis);
gboolean s2r_redis_is_connected (S2rRedis * redis);
/* Drop the connection (its pending commands get NULL) and make it again:
 * for a connection that stopped answering */
void s2r_redis_reset (S2rRedis * redis);
/* FALSE (and @func not called) while not connected */
gboolean s2r_redis_command (S2rRedis * redis, S2rRedisReplyFunc func,
    gpointer user_data, guint argc, const char *const *argv);
/* NULL-terminated */
gboolean s2r_redis_commandv (S2rRedis * redis, S2rRedisReplyFunc func,
    gpointer user_data, ...) G_GNUC_NULL_TERMINATED;
guint64 s2r_redis_get_n_commands (S2rRedis * redis);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rRedis, s2r_redis_free);

G_END_DECLS
