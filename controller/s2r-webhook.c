/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-webhook.h"
#include "s2r-metrics.h"

#include <libsoup/soup.h>
#include <string.h>

#define FIRST_RETRY_MS 500
#define MAX_RETRY_MS 30000

typedef struct
{
  char *body;
  guint64 sequence;
} Event;

typedef struct
{
  S2rWebhook *webhook;
  char *url;
  char *log_url;                /* no credentials, for logs */
  GQueue events;                /* Event, head in flight when busy */
  gboolean busy;
  guint attempts;
  guint retry;
  GCancellable *cancellable;
} Target;

struct _S2rWebhook
{
  S2rCallManager *manager;
  const S2rConfig *config;
  gulong handler;
  SoupSession *session;
  /* url -> Target, while it has events to send */
  GHashTable *targets;
  /* /metrics */
  guint64 delivered;
  guint64 failed_attempts;
  guint64 dropped_after_retries;
  guint64 dropped_queue_full;
};

static void
event_free (Event * ev)
{
  g_free (ev->body);
  g_free (ev);
}

static void
target_free (Target * t)
{
  g_cancellable_cancel (t->cancellable);
  g_clear_object (&t->cancellable);
  g_clear_handle_id (&t->retry, g_source_remove);
  g_queue_clear_full (&t->events, (GDestroyNotify) event_free);
  g_free (t->url);
  g_free (t->log_url);
  g_free (t);
}

static char *
url_for_log (const char *url)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL)
    return g_strdup ("(invalid url)");
  /* no user info, no query: either may carry a secret */
  if (g_uri_get_port (uri) > 0)
    return g_strdup_printf ("%s://%s:%d%s", g_uri_get_scheme (uri),
        g_uri_get_host (uri), g_uri_get_port (uri), g_uri_get_path (uri));
  return g_strdup_printf ("%s://%s%s", g_uri_get_scheme (uri),
      g_uri_get_host (uri), g_uri_get_path (uri));
}

static void send_head (Target * t);

static gboolean
retry_cb (gpointer user_data)
{
  Target *t = user_data;

  t->retry = 0;
  send_head (t);
  return G_SOURCE_REMOVE;
}

static void
delivered (Target * t, gboolean ok, guint status, const char *error)
{
  Event *ev = g_queue_peek_head (&t->events);

  if (!ok) {
    t->attempts++;
    t->webhook->failed_attempts++;
    if (t->attempts <= s2r_config_get_webhook_max_retries (t->webhook->config)) {
      guint delay = MIN (FIRST_RETRY_MS << MIN (t->attempts - 1, 16),
          MAX_RETRY_MS);

      g_debug ("webhook %s: event %" G_GUINT64_FORMAT " failed (%s), retry %u "
          "in %u ms", t->log_url, ev->sequence, error, t->attempts, delay);
      t->retry = g_timeout_add (delay, retry_cb, t);
      return;
    }
    g_warning ("webhook %s: event %" G_GUINT64_FORMAT " dropped after %u "
        "attempts (%s)", t->log_url, ev->sequence, t->attempts, error);
    t->webhook->dropped_after_retries++;
  } else {
    t->webhook->delivered++;
  }
  event_free (g_queue_pop_head (&t->events));
  t->attempts = 0;
  t->busy = FALSE;
  if (!g_queue_is_empty (&t->events))
    send_head (t);
  else                          /* no URL is kept with nothing to send */
    g_hash_table_remove (t->webhook->targets, t->url);
}

static void
sent_cb (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Target *t = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION
      (source), result);
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) reply = soup_session_send_and_read_finish (SOUP_SESSION
      (source), result, &err);
  guint status;

  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;                     /* the target is gone */
  status = msg ? soup_message_get_status (msg) : 0;
  if (reply && SOUP_STATUS_IS_SUCCESSFUL (status)) {
    delivered (t, TRUE, status, NULL);
  } else {
    g_autofree char *why = err ? g_strdup (err->message) :
        g_strdup_printf ("HTTP %u", status);

    delivered (t, FALSE, status, why);
  }
}

static void
send_head (Target * t)
{
  Event *ev = g_queue_peek_head (&t->events);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, t->url);
  g_autoptr (GBytes) body = g_bytes_new (ev->body, strlen (ev->body));
  g_autofree char *seq = g_strdup_printf ("%" G_GUINT64_FORMAT, ev->sequence);

  t->busy = TRUE;
  soup_message_set_request_body_from_bytes (msg, "application/json", body);
  soup_message_headers_replace (soup_message_get_request_headers (msg),
      "X-Sip2rtmp-Sequence", seq);
  soup_session_send_and_read_async (t->webhook->session, msg,
      G_PRIORITY_DEFAULT, t->cancellable, sent_cb, t);
}

static void
enqueue (S2rWebhook * webhook, const char *url, const char *json,
    guint64 sequence)
{
  Target *t = g_hash_table_lookup (webhook->targets, url);
  Event *ev;

  if (t == NULL) {
    t = g_new0 (Target, 1);
    t->webhook = webhook;
    t->url = g_strdup (url);
    t->log_url = url_for_log (url);
    t->cancellable = g_cancellable_new ();
    g_queue_init (&t->events);
    g_hash_table_insert (webhook->targets, t->url, t);
  }

  /* Bounded: the oldest waiting event goes, never the one in flight */
  if (g_queue_get_length (&t->events) >=
      s2r_config_get_webhook_queue_size (webhook->config) + (t->busy ? 1 : 0)) {
    Event *old = g_queue_pop_nth (&t->events, t->busy ? 1 : 0);

    if (old) {
      g_warning ("webhook %s: queue full, event %" G_GUINT64_FORMAT
          " dropped", t->log_url, old->sequence);
      event_free (old);
      webhook->dropped_queue_full++;
    }
  }

  ev = g_new0 (Event, 1);
  ev->body = g_strdup (json);
  ev->sequence = sequence;
  g_queue_push_tail (&t->events, ev);
  if (!t->busy && t->retry == 0)
    send_head (t);
}

static void
call_event_cb (S2rCallManager * manager, S2rCall * call, guint64 sequence,
    const char *json, S2rWebhook * webhook)
{
  S2rCallRequest *req = s2r_call_get_request (call);
  const char *url = s2r_call_request_get_callback_url (req);

  if (url == NULL)
    url = s2r_config_get_app_url (webhook->config,
        s2r_call_request_get_app_key (req));
  if (url)
    enqueue (webhook, url, json, sequence);
}

static void
render_metrics (GString * out, gpointer user_data)
{
  S2rWebhook *webhook = user_data;

  s2r_metrics_append_counter (out, "sip2rtmp_webhook_events_delivered_total",
      "Call events a webhook URL answered with a 2xx.", webhook->delivered);
  s2r_metrics_append_counter (out,
      "sip2rtmp_webhook_attempts_failed_total", "Deliveries of a call event "
      "that failed (an error, a timeout or a non-2xx answer), retried or "
      "not.", webhook->failed_attempts);
  s2r_metrics_append_header (out, "sip2rtmp_webhook_events_dropped_total",
      "counter", "Call events given up on: after [webhook] max-retries "
      "(retries), or the oldest waiting when a URL's queue was full "
      "(queue-full).");
  g_string_append_printf (out, "sip2rtmp_webhook_events_dropped_total"
      "{reason=\"retries\"} %" G_GUINT64_FORMAT "\n"
      "sip2rtmp_webhook_events_dropped_total{reason=\"queue-full\"} %"
      G_GUINT64_FORMAT "\n", webhook->dropped_after_retries,
      webhook->dropped_queue_full);
  s2r_metrics_append_gauge (out, "sip2rtmp_webhook_events_queued",
      "Call events waiting for their webhook URL, or on their way.",
      s2r_webhook_get_n_pending (webhook));
  s2r_metrics_append_gauge (out, "sip2rtmp_webhook_urls",
      "Webhook URLs with call events queued.",
      g_hash_table_size (webhook->targets));
}

S2rWebhook *
s2r_webhook_new (S2rCallManager * manager, const S2rConfig * config)
{
  S2rWebhook *webhook = g_new0 (S2rWebhook, 1);

  webhook->manager = g_object_ref (manager);
  webhook->config = config;
  webhook->session = soup_session_new_with_options ("timeout",
      s2r_config_get_webhook_timeout (config), "user-agent",
      "sip2rtmp/" VERSION, NULL);
  webhook->targets = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) target_free);
  webhook->handler = g_signal_connect (manager, "call-event",
      G_CALLBACK (call_event_cb), webhook);
  s2r_call_manager_add_metrics_func (manager, render_metrics, webhook);
  return webhook;
}

/* After a reload: the queue size, retries and [app:NAME] URLs are read
 * per event, the timeout belongs to the session (the next request on) */
void
s2r_webhook_config_changed (S2rWebhook * webhook)
{
  g_object_set (webhook->session, "timeout",
      s2r_config_get_webhook_timeout (webhook->config), NULL);
}

guint
s2r_webhook_get_n_pending (S2rWebhook * webhook)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, webhook->targets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += g_queue_get_length (&((Target *) value)->events);
  return n;
}

void
s2r_webhook_free (S2rWebhook * webhook)
{
  if (webhook == NULL)
    return;
  g_signal_handler_disconnect (webhook->manager, webhook->handler);
  s2r_call_manager_remove_metrics_func (webhook->manager, webhook);
  g_hash_table_unref (webhook->targets);
  g_object_unref (webhook->session);
  g_object_unref (webhook->manager);
  g_free (webhook);
}
