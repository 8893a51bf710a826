/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/**
 * S2rConnections:
 *
 * The listening socket of one SoupServer and every HTTP connection it
 * accepts, followed from its accept to its close on the main context, so
 * that no client can hold the daemon's memory, fds or attention:
 * - a body over max-body is refused by its headers (Content-Length), or as
 *   it arrives (chunked), answered 413 at once and the connection closed
 *   without reading the rest (libsoup 3.2 reads a whole body before it
 *   answers, whatever the status set at `got-headers`);
 * - a request must arrive whole within request-timeout of the connection's
 *   opening or of its own first byte, else 408 and the connection closed;
 * - a keep-alive connection waits at most idle-timeout for its next request,
 *   and one its client closed is closed at once: libsoup 3.2 never closes
 *   a keep-alive connection closed by its client between requests, and
 *   keeps its fd for ever (upstream "server: do not leak idle connections
 *   closed by the client", in 3.3.0).
 */
typedef struct _S2rConnections S2rConnections;

/**
 * S2rRefuseFunc:
 *
 * Sets @msg's response (status, JSON body) for @error: a refusal that
 * S2rConnections then writes itself before it closes the connection, or the
 * 400 libsoup gives a request whose path it refused.
 */
typedef void (*S2rRefuseFunc) (SoupServerMessage * msg, const GError * error,
    gpointer user_data);

S2rConnections *s2r_connections_new (SoupServer * server, gsize max_body,
    guint idle_timeout_s, guint request_timeout_s, S2rRefuseFunc refuse,
    gpointer user_data);
void s2r_connections_free (S2rConnections * conns);
guint16 s2r_connections_listen (S2rConnections * conns,
    GSocketAddress * address, GError ** error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rConnections, s2r_connections_free);

G_END_DECLS
