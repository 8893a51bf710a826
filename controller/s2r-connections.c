/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-connections.h"
#include "s2r-error.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* After a refusal, how long and how much the client may still send of what
 * it had in flight (read and dropped): closing with unread data resets the
 * connection, which can lose the answer before the client read it. A
 * client that goes on sending beyond that gets the reset. */
#define LINGER_MS 2000
#define LINGER_BYTES (1024 * 1024)

typedef enum
{
  CONN_READING,                 /* until the request's last byte */
  CONN_HANDLING,                /* a handler's answer, or an event stream */
  CONN_IDLE,                    /* keep-alive, between requests */
} ConnState;

typedef struct
{
  S2rConnections *owner;
  GSocketConnection *connection;
  /* the key: the address object given to libsoup with the connection, the
   * one soup_server_message_get_remote_address() returns */
  GSocketAddress *remote;
  /* the request in progress or the last one; it holds libsoup's side of the
   * connection, which stealing it from this message takes */
  SoupServerMessage *msg;
  ConnState state;
  goffset body_read;
  GSource *timer;
  /* while idle: wakes on the client's close before libsoup does */
  GSource *watch;
} Conn;

struct _S2rConnections
{
  SoupServer *server;
  GSocketService *service;
  gsize max_body;
  guint idle_timeout_s;
  guint request_timeout_s;
  S2rRefuseFunc refuse;
  gpointer refuse_data;
  GHashTable *conns;            /* remote GSocketAddress -> Conn */
  gulong handlers[3];
};

/* A refused connection: the answer written, then lingering until the client
 * closes or LINGER_MS, then closed */
typedef struct
{
  GIOStream *stream;
  GSocket *socket;
  GCancellable *cancellable;
  GSource *deadline;
  GBytes *answer;
  gsize lingered;
  char buf[4096];
} Closing;

static void
clear_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_clear_pointer (source, g_source_unref);
  }
}

static GSource *
add_timer (guint seconds, GSourceFunc func, gpointer data)
{
  GSource *source = g_timeout_source_new_seconds (seconds);

  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, NULL);
  return source;
}

static void
conn_free (Conn * conn)
{
  clear_source (&conn->timer);
  clear_source (&conn->watch);
  if (conn->msg) {
    g_signal_handlers_disconnect_by_data (conn->msg, conn);
    g_object_unref (conn->msg);
  }
  g_object_unref (conn->remote);
  g_object_unref (conn->connection);
  g_free (conn);
}

static void
forget (Conn * conn)
{
  g_hash_table_remove (conn->owner->conns, conn->remote);
}

static void
closing_finish (Closing * c)
{
  clear_source (&c->deadline);
  g_io_stream_close (c->stream, NULL, NULL);
  g_object_unref (c->stream);
  g_object_unref (c->socket);
  g_object_unref (c->cancellable);
  g_bytes_unref (c->answer);
  g_free (c);
}

static void
lingered_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Closing *c = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, NULL);

  if (n <= 0 || (c->lingered += n) > LINGER_BYTES) {
    closing_finish (c);
    return;
  }
  g_input_stream_read_async (G_INPUT_STREAM (source), c->buf, sizeof c->buf,
      G_PRIORITY_DEFAULT, c->cancellable, lingered_cb, c);
}

static void
answered_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Closing *c = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL,
          NULL)) {
    closing_finish (c);
    return;
  }
  /* our side is done: the client sees the end of the answer */
  g_socket_shutdown (c->socket, FALSE, TRUE, NULL);
  g_input_stream_read_async (g_io_stream_get_input_stream (c->stream),
      c->buf, sizeof c->buf, G_PRIORITY_DEFAULT, c->cancellable, lingered_cb,
      c);
}

static gboolean
deadline_cb (gpointer user_data)
{
  Closing *c = user_data;

  g_clear_pointer (&c->deadline, g_source_unref);
  g_cancellable_cancel (c->cancellable);
  return G_SOURCE_REMOVE;
}

/* The response the refuse function set on msg, as HTTP/1.1 text */
static GBytes *
serialize_response (SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autoptr (GBytes) body =
      soup_message_body_flatten (soup_server_message_get_response_body (msg));
  guint status = soup_server_message_get_status (msg);
  GString *text = g_string_new (NULL);
  SoupMessageHeadersIter iter;
  const char *name, *value;

  g_string_append_printf (text, "HTTP/1.1 %u %s\r\n", status,
      soup_status_get_phrase (status));
  soup_message_headers_iter_init (&iter, headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    if (g_ascii_strcasecmp (name, "Content-Length") != 0 &&
        g_ascii_strcasecmp (name, "Connection") != 0 &&
        g_ascii_strcasecmp (name, "Transfer-Encoding") != 0)
      g_string_append_printf (text, "%s: %s\r\n", name, value);
  g_string_append_printf (text, "Content-Length: %" G_GSIZE_FORMAT "\r\n"
      "Connection: close\r\n\r\n", g_bytes_get_size (body));
  g_string_append_len (text, g_bytes_get_data (body, NULL),
      g_bytes_get_size (body));
  return g_string_free_to_bytes (text);
}

/* Answers @error and closes, whatever libsoup was doing with the request:
 * libsoup cannot answer before it has read the whole request, so the
 * connection is taken from it and the answer written here. */
static void
refuse_and_close (Conn * conn, const GError * error)
{
  S2rConnections *conns = conn->owner;
  g_autoptr (SoupServerMessage) msg = g_object_ref (conn->msg);
  GSocket *socket =
      g_object_ref (g_socket_connection_get_socket (conn->connection));
  GIOStream *stream;
  Closing *c;

  forget (conn);
  conns->refuse (msg, error, conns->refuse_data);
  stream = soup_server_message_steal_connection (msg);
  if (stream == NULL) {
    g_object_unref (socket);
    return;
  }
  c = g_new0 (Closing, 1);
  c->stream = stream;
  c->socket = socket;
  c->cancellable = g_cancellable_new ();
  c->answer = serialize_response (msg);
  c->deadline = g_timeout_source_new (LINGER_MS);
  g_source_set_callback (c->deadline, deadline_cb, c, NULL);
  g_source_attach (c->deadline, NULL);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (stream),
      g_bytes_get_data (c->answer, NULL), g_bytes_get_size (c->answer),
      G_PRIORITY_DEFAULT, c->cancellable, answered_cb, c);
}

/* Between requests: nothing to answer, just close */
static void
close_idle (Conn * conn)
{
  g_autoptr (SoupServerMessage) msg = g_object_ref (conn->msg);
  g_autoptr (GIOStream) stream = NULL;

  forget (conn);
  stream = soup_server_message_steal_connection (msg);
  if (stream)
    g_io_stream_close (stream, NULL, NULL);
}

static gboolean
request_timeout_cb (gpointer user_data)
{
  Conn *conn = user_data;
  g_autoptr (GError) err = NULL;

  g_clear_pointer (&conn->timer, g_source_unref);
  s2r_set_error_field (&err, S2R_ERROR_TIMEOUT, NULL,
      "the request did not arrive whole within %u s",
      conn->owner->request_timeout_s);
  refuse_and_close (conn, err);
  return G_SOURCE_REMOVE;
}

static gboolean
idle_timeout_cb (gpointer user_data)
{
  Conn *conn = user_data;

  g_clear_pointer (&conn->timer, g_source_unref);
  close_idle (conn);
  return G_SOURCE_REMOVE;
}

/* Readable while idle: the next request, or the client's close. This source
 * runs above libsoup's priority, so it sees a close first: libsoup 3.2 would
 * end the waiting message without closing the connection, and the message
 * this closes it through would have no I/O left to steal. */
static gboolean
idle_readable_cb (GSocket * socket, GIOCondition condition, gpointer user_data)
{
  Conn *conn = user_data;
  char c;
  gssize n;

  /* a peek: the bytes stay for libsoup */
  n = recv (g_socket_get_fd (socket), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n > 0) {
    /* libsoup reads it and starts the request (request-started) */
    g_clear_pointer (&conn->watch, g_source_unref);
    return G_SOURCE_REMOVE;
  }
  g_clear_pointer (&conn->watch, g_source_unref);
  close_idle (conn);
  return G_SOURCE_REMOVE;
}

static void
refuse_too_large (Conn * conn)
{
  g_autoptr (GError) err = NULL;

  s2r_set_error_field (&err, S2R_ERROR_TOO_LARGE, NULL,
      "the body is larger than %" G_GSIZE_FORMAT " bytes",
      conn->owner->max_body);
  refuse_and_close (conn, err);
}

static void
got_headers_cb (SoupServerMessage * msg, Conn * conn)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  S2rConnections *conns = conn->owner;
  g_autoptr (GError) err = NULL;

  if (soup_message_headers_get_encoding (headers) ==
      SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (headers) >
      (goffset) conns->max_body) {
    refuse_too_large (conn);
    return;
  }
  /* libsoup refused the path or Host (400, no body): say so in JSON too */
  if (soup_server_message_get_status (msg) == SOUP_STATUS_BAD_REQUEST) {
    s2r_set_error_field (&err, S2R_ERROR_INVALID, NULL,
        "the request's path or Host header is not valid");
    conns->refuse (msg, err, conns->refuse_data);
  }
}

static void
got_chunk_cb (SoupServerMessage * msg, GBytes * chunk, Conn * conn)
{
  conn->body_read += g_bytes_get_size (chunk);
  if (conn->body_read > (goffset) conn->owner->max_body)
    refuse_too_large (conn);
}

static void
got_body_cb (SoupServerMessage * msg, Conn * conn)
{
  conn->state = CONN_HANDLING;
  clear_source (&conn->timer);
}

static void
disconnected_cb (SoupServerMessage * msg, Conn * conn)
{
  forget (conn);
}

static Conn *
lookup (S2rConnections * conns, SoupServerMessage * msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote ? g_hash_table_lookup (conns->conns, remote) : NULL;
}

static void
request_started_cb (SoupServer * server, SoupServerMessage * msg,
    S2rConnections * conns)
{
  Conn *conn = lookup (conns, msg);

  if (conn == NULL)
    return;
  if (conn->msg) {
    g_signal_handlers_disconnect_by_data (conn->msg, conn);
    g_object_unref (conn->msg);
  }
  conn->msg = g_object_ref (msg);
  conn->state = CONN_READING;
  conn->body_read = 0;
  clear_source (&conn->watch);
  clear_source (&conn->timer);
  conn->timer = add_timer (conns->request_timeout_s, request_timeout_cb, conn);
  /* after the server's own got-headers handler, which sets the status of a
   * request it refuses */
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers_cb), conn);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (got_chunk_cb), conn);
  g_signal_connect (msg, "got-body", G_CALLBACK (got_body_cb), conn);
  g_signal_connect (msg, "disconnected", G_CALLBACK (disconnected_cb), conn);
}

/* request-finished and request-aborted: the connection is closed right after
 * (disconnected) or waits for the next request */
static void
request_ended_cb (SoupServer * server, SoupServerMessage * msg,
    S2rConnections * conns)
{
  Conn *conn = lookup (conns, msg);

  if (conn == NULL || conn->msg != msg)
    return;
  conn->state = CONN_IDLE;
  clear_source (&conn->timer);
  clear_source (&conn->watch);
  conn->timer = add_timer (conns->idle_timeout_s, idle_timeout_cb, conn);
  conn->watch =
      g_socket_create_source (g_socket_connection_get_socket
      (conn->connection), G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_priority (conn->watch, G_PRIORITY_HIGH);
  g_source_set_callback (conn->watch, G_SOURCE_FUNC (idle_readable_cb), conn,
      NULL);
  g_source_attach (conn->watch, NULL);
}

/* Accepted here rather than by soup_server_listen(): libsoup 3.2's listener
 * keeps a reference to every socket it accepts (about 340 bytes a
 * connection, for ever; upstream "soup-listener: Plug a leak", 3.3.x) */
static gboolean
incoming_cb (GSocketService * service, GSocketConnection * connection,
    GObject * source, S2rConnections * conns)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_autoptr (GSocketAddress) local =
      g_socket_connection_get_local_address (connection, NULL);
  g_autoptr (GSocketAddress) remote =
      g_socket_connection_get_remote_address (connection, NULL);
  Conn *conn;

  if (local == NULL || remote == NULL)
    return TRUE;                /* gone already; closed as it is dropped */
  /* what libsoup's listener sets: answers are small, Nagle only delays them */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  conn = g_new0 (Conn, 1);
  conn->owner = conns;
  conn->connection = g_object_ref (connection);
  conn->remote = g_object_ref (remote);
  g_hash_table_insert (conns->conns, remote, conn);
  /* its first request starts in here (request-started) */
  soup_server_accept_iostream (conns->server, G_IO_STREAM (connection), local,
      remote, NULL);
  return TRUE;
}

/**
 * s2r_connections_listen:
 * @address: where to listen; port 0 for any
 *
 * Returns: the port listened on, 0 with @error set on failure
 */
guint16
s2r_connections_listen (S2rConnections * conns, GSocketAddress * address,
    GError ** error)
{
  g_autoptr (GSocketAddress) effective = NULL;

  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (conns->service),
          address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
          &effective, error))
    return 0;
  g_socket_service_start (conns->service);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
}

/**
 * s2r_connections_new:
 * @server: the server to hand each connection to
 * @max_body: bytes a request body may have
 * @idle_timeout_s: seconds a keep-alive connection may wait for a request
 * @request_timeout_s: seconds a request may take to arrive whole
 * @refuse: sets a refused request's response (the API's error body)
 *
 * Returns: (transfer full): the follower, to free before @server
 */
S2rConnections *
s2r_connections_new (SoupServer * server, gsize max_body,
    guint idle_timeout_s, guint request_timeout_s, S2rRefuseFunc refuse,
    gpointer user_data)
{
  S2rConnections *conns = g_new0 (S2rConnections, 1);

  conns->server = g_object_ref (server);
  conns->max_body = max_body;
  conns->idle_timeout_s = MAX (idle_timeout_s, 1);
  conns->request_timeout_s = MAX (request_timeout_s, 1);
  conns->refuse = refuse;
  conns->refuse_data = user_data;
  conns->conns = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) conn_free);
  conns->service = g_socket_service_new ();
  /* GLib's default of 10 pending connections: a burst of a few hundred
   * clients overflowed it and waited for their SYN to be resent (1 s, 3 s..) */
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (conns->service), 128);
  g_signal_connect (conns->service, "incoming", G_CALLBACK (incoming_cb),
      conns);
  conns->handlers[0] = g_signal_connect (server, "request-started",
      G_CALLBACK (request_started_cb), conns);
  conns->handlers[1] = g_signal_connect (server, "request-finished",
      G_CALLBACK (request_ended_cb), conns);
  conns->handlers[2] = g_signal_connect (server, "request-aborted",
      G_CALLBACK (request_ended_cb), conns);
  return conns;
}

void
s2r_connections_free (S2rConnections * conns)
{
  if (conns == NULL)
    return;
  g_socket_service_stop (conns->service);
  g_socket_listener_close (G_SOCKET_LISTENER (conns->service));
  g_signal_handlers_disconnect_by_data (conns->service, conns);
  g_object_unref (conns->service);
  for (guint i = 0; i < G_N_ELEMENTS (conns->handlers); i++)
    g_signal_handler_disconnect (conns->server, conns->handlers[i]);
  g_hash_table_destroy (conns->conns);
  g_object_unref (conns->server);
  g_free (conns);
}
