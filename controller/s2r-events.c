/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-events.h"
#include "s2r-metrics.h"

#include <string.h>

struct _S2rEvents
{
  S2rCallManager *manager;
  gulong handler;
  GList *clients;               /* SoupServerMessage, one ref each */
  guint keepalive;
};

static void
client_gone_cb (SoupServerMessage * msg, S2rEvents * events)
{
  GList *link = g_list_find (events->clients, msg);

  if (link == NULL)
    return;
  events->clients = g_list_delete_link (events->clients, link);
  g_signal_handlers_disconnect_by_data (msg, events);
  g_object_unref (msg);
}

void
s2r_events_send_text (SoupServerMessage * msg, const char *text)
{
  soup_message_body_append (soup_server_message_get_response_body (msg),
      SOUP_MEMORY_COPY, text, strlen (text));
  soup_server_message_unpause (msg);
}

static void
send_to_all (S2rEvents * events, const char *text)
{
  for (GList * l = events->clients; l; l = l->next)
    s2r_events_send_text (l->data, text);
}

static void
call_event_cb (S2rCallManager * manager, S2rCall * call, guint64 sequence,
    const char *json, S2rEvents * events)
{
  g_autofree char *text = NULL;

  if (events->clients == NULL)
    return;
  text = g_strdup_printf ("id: %" G_GUINT64_FORMAT "\nevent: call\ndata: %s"
      "\n\n", sequence, json);
  send_to_all (events, text);
}

static gboolean
keepalive_cb (gpointer user_data)
{
  send_to_all (user_data, S2R_EVENTS_KEEPALIVE);
  return G_SOURCE_CONTINUE;
}

static void
render_metrics (GString * out, gpointer user_data)
{
  S2rEvents *events = user_data;

  s2r_metrics_append_gauge (out, "sip2rtmp_sse_clients",
      "Clients of GET /api/v1/events on this node's own stream (a node with "
      "[cluster] serves the cluster's: not counted); one that left counts "
      "until the next write (an event, or the keep-alive every 15 s).",
      g_list_length (events->clients));
}

S2rEvents *
s2r_events_new (S2rCallManager * manager)
{
  S2rEvents *events = g_new0 (S2rEvents, 1);

  events->manager = g_object_ref (manager);
  events->handler = g_signal_connect (manager, "call-event",
      G_CALLBACK (call_event_cb), events);
  events->keepalive = g_timeout_add_seconds (S2R_EVENTS_KEEPALIVE_SECONDS,
      keepalive_cb, events);
  s2r_call_manager_add_metrics_func (manager, render_metrics, events);
  return events;
}

void
s2r_events_start_stream (SoupServerMessage * msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (headers, "text/event-stream", NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_body_set_accumulate (body, FALSE);
  /* sent at once, so a client knows it is subscribed */
  soup_message_body_append (body, SOUP_MEMORY_STATIC, ": subscribed\n\n",
      strlen (": subscribed\n\n"));
}

void
s2r_events_add_client (S2rEvents * events, SoupServerMessage * msg)
{
  s2r_events_start_stream (msg);
  events->clients = g_list_prepend (events->clients, g_object_ref (msg));
  g_signal_connect (msg, "finished", G_CALLBACK (client_gone_cb), events);
  g_signal_connect (msg, "disconnected", G_CALLBACK (client_gone_cb), events);
}

void
s2r_events_close_all (S2rEvents * events)
{
  while (events->clients) {
    SoupServerMessage *msg = events->clients->data;

    g_object_ref (msg);
    client_gone_cb (msg, events);
    soup_message_body_complete (soup_server_message_get_response_body (msg));
    soup_server_message_unpause (msg);
    g_object_unref (msg);
  }
}

void
s2r_events_free (S2rEvents * events)
{
  if (events == NULL)
    return;
  s2r_events_close_all (events);
  g_clear_handle_id (&events->keepalive, g_source_remove);
  s2r_call_manager_remove_metrics_func (events->manager, events);
  g_signal_handler_disconnect (events->manager, events->handler);
  g_object_unref (events->manager);
  g_free (events);
}
