/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The routing webhook of incoming calls (issue 14): ask, wait, answer */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <libsoup/soup.h>

#include "s2r-routing-webhook.h"
#include "s2r-call-json.h"
#include "s2r-json.h"

/* an answer is one call request: the API's own bound on a request body */
#define MAX_ANSWER_BYTES (64 * 1024)

struct _S2rRoutingWebhook
{
  SoupSession *session;
  char *url;
  guint timeout_ms;
};

typedef struct
{
  GCancellable *cancellable;    /* the caller's, or our own */
  guint timer;
  gboolean timed_out;
  S2rRoutingAnswerFunc func;
  gpointer user_data;
} Ask;

S2rRoutingWebhook *
s2r_routing_webhook_new (const char *url, guint timeout_ms)
{
  S2rRoutingWebhook *hook = g_new0 (S2rRoutingWebhook, 1);

  /* our own timer bounds each ask (ms); the session's timeout is the
   * backstop of a connection that hangs after it */
  hook->session = soup_session_new_with_options ("timeout",
      timeout_ms / 1000 + 1, "user-agent", "sip2rtmp/" VERSION, NULL);
  hook->url = g_strdup (url);
  hook->timeout_ms = timeout_ms;
  return hook;
}

/* An http:// or https:// URL with a host that libsoup takes as it is
 * (no space, no control character): what [sip] routing-webhook must be */
gboolean
s2r_routing_webhook_url_is_valid (const char *url)
{
  g_autoptr (GUri) uri = NULL;
  const char *scheme, *host;

  if (!url || (!g_str_has_prefix (url, "http://") &&
          !g_str_has_prefix (url, "https://")))
    return FALSE;
  for (const char *c = url; *c; c++)
    if (g_ascii_isspace (*c) || g_ascii_iscntrl (*c))
      return FALSE;
  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  if (!uri)
    return FALSE;
  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  return (!g_ascii_strcasecmp (scheme, "http") ||
      !g_ascii_strcasecmp (scheme, "https")) && host && *host;
}

void
s2r_routing_webhook_free (S2rRoutingWebhook * hook)
{
  if (!hook)
    return;
  /* not aborted: an ask under way holds the session (its GTask's source)
   * and ends as it would have, after a reload put another hook in place;
   * at shutdown the asks were cancelled first */
  g_object_unref (hook->session);
  g_free (hook->url);
  g_free (hook);
}

static void
add_string (JsonBuilder * b, const char *member, const GstStructure * s,
    const char *field)
{
  const char *v = gst_structure_get_string (s, field);

  json_builder_set_member_name (b, member);
  if (v)
    json_builder_add_string_value (b, v);
  else
    json_builder_add_null_value (b);
}

/* The INVITE's facts (siplistener's: printable ASCII), as JSON. The
 * Authorization header is not among them: no credential leaves */
JsonNode *
s2r_routing_webhook_body (const GstStructure * invite)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const GValue *hv = gst_structure_get_value (invite, "headers");
  gboolean creds = FALSE;

  json_builder_begin_object (b);
  add_string (b, "inviteId", invite, "invite-id");
  add_string (b, "sipCallId", invite, "call-id");
  add_string (b, "from", invite, "from");
  add_string (b, "fromUser", invite, "from-user");
  add_string (b, "to", invite, "to");
  add_string (b, "toUser", invite, "to-user");
  add_string (b, "requestUri", invite, "request-uri");
  add_string (b, "requestUser", invite, "request-user");
  add_string (b, "source", invite, "source");
  add_string (b, "sourceAddress", invite, "source-address");
  gst_structure_get_boolean (invite, "has-credentials", &creds);
  json_builder_set_member_name (b, "hasCredentials");
  json_builder_add_boolean_value (b, creds);
  s2r_x_headers_add_member (b, hv && G_VALUE_HOLDS (hv, GST_TYPE_STRUCTURE) ?
      gst_value_get_structure (hv) : NULL);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
ask_finish (Ask * ask, JsonNode * request, guint status, const char *why)
{
  if (ask->timer)
    g_source_remove (ask->timer);
  ask->func (request, status, why, ask->user_data);
  g_object_unref (ask->cancellable);
  g_free (ask);
}

/* {"reject": N} or a call request's body; anything else: the webhook failed */
static void
read_answer (Ask * ask, GBytes * reply)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (reply, &len);
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) node = s2r_json_parse_body (data, len,
      MAX_ANSWER_BYTES, &err);
  JsonObject *o;
  JsonNode *rj;

  if (!node) {
    ask_finish (ask, NULL, 0, "the answer is not a JSON object");
    return;
  }
  o = json_node_get_object (node);
  rj = json_object_get_member (o, "reject");
  if (rj) {
    gint64 status = JSON_NODE_HOLDS_VALUE (rj) &&
        json_node_get_value_type (rj) == G_TYPE_INT64 ?
        json_node_get_int (rj) : 0;

    if (status < 300 || status > 699) {
      ask_finish (ask, NULL, 0, "'reject' is not a SIP status 300-699");
      return;
    }
    ask_finish (ask, NULL, (guint) status, NULL);
    return;
  }
  ask_finish (ask, node, 0, NULL);
}

static void
sent_cb (GObject * source, GAsyncResult * result, gpointer user_data)
{
  Ask *ask = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION
      (source), result);
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) reply = soup_session_send_and_read_finish (SOUP_SESSION
      (source), result, &err);
  guint status = msg ? soup_message_get_status (msg) : 0;
  g_autofree char *why = NULL;

  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    ask_finish (ask, NULL, 0, ask->timed_out ? "timed out" : "cancelled");
    return;
  }
  if (reply && status == SOUP_STATUS_OK) {
    read_answer (ask, reply);
    return;
  }
  /* libsoup's message says what failed (connection refused...), not what
   * the server sent */
  why = err ? g_strdup (err->message) : g_strdup_printf ("HTTP %u", status);
  ask_finish (ask, NULL, 0, why);
}

static gboolean
timeout_cb (gpointer user_data)
{
  Ask *ask = user_data;

  ask->timer = 0;
  ask->timed_out = TRUE;
  g_cancellable_cancel (ask->cancellable);
  return G_SOURCE_REMOVE;
}

static gboolean
bad_url_cb (gpointer user_data)
{
  Ask *ask = user_data;

  ask->timer = 0;
  ask_finish (ask, NULL, 0, "the webhook's URL is not usable");
  return G_SOURCE_REMOVE;
}

/**
 * s2r_routing_webhook_ask:
 * @cancellable: (nullable): cancelling it ends the ask (func is called
 *   with "cancelled", from the main loop)
 *
 * POSTs the INVITE's facts; @func is called once, from the main loop,
 * within the timeout.
 */
void
s2r_routing_webhook_ask (S2rRoutingWebhook * hook, const GstStructure * invite,
    GCancellable * cancellable, S2rRoutingAnswerFunc func, gpointer user_data)
{
  Ask *ask = g_new0 (Ask, 1);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST,
      hook->url);
  g_autoptr (JsonNode) body = s2r_routing_webhook_body (invite);
  char *text = json_to_string (body, FALSE);
  g_autoptr (GBytes) bytes = g_bytes_new_take (text, strlen (text));

  ask->cancellable = cancellable ? g_object_ref (cancellable) :
      g_cancellable_new ();
  ask->func = func;
  ask->user_data = user_data;
  if (!msg) {
    /* a URL libsoup does not take (the config's check should have
     * refused it): the fallback at once, from the main loop as promised */
    ask->timer = g_idle_add (bad_url_cb, ask);
    return;
  }
  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  ask->timer = g_timeout_add (hook->timeout_ms, timeout_cb, ask);
  soup_session_send_and_read_async (hook->session, msg, G_PRIORITY_DEFAULT,
      ask->cancellable, sent_cb, ask);
}
