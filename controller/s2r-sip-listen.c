/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* sip2rtmpd's incoming calls (issue 14): listeners, admission, routing */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gio/gio.h>

#include "s2r-sip-listen.h"
#include "s2r-metrics.h"
#include "s2r-error.h"
#include "s2r-routing-webhook.h"
#include "s2r-secret.h"

#define DEFAULT_PARK_TIMEOUT_S 10

/* What the call knows of its INVITE (every string printable ASCII:
 * siplistener's facts) */
typedef struct
{
  char *invite_id;
  char *listen_uri;
  char *login;
  char *password;               /* secret */
  char *caller;
  char *request_user;
  char *route_id;
  char *source;
  GstStructure *headers;
  char *key_header;
} S2rIncoming;

typedef struct
{
  S2rSipListen *owner;
  GstElement *pipeline;
  GstElement *listener;
  char *uri;
  guint watch;
} Listener;

/* An INVITE parked (180) while the routing webhook decides, or while its
 * call's stream keys are held in the cluster (@req set) */
typedef struct
{
  Listener *listener;
  GstStructure *invite;
  GCancellable *cancellable;
  gboolean gone;                /* cancelled or timed out meanwhile */
  S2rCallRequest *req;          /* the call it becomes, or NULL */
  const S2rIncoming *incoming;  /* req's */
} Pending;

struct _S2rSipListen
{
  S2rCallManager *manager;
  S2rRoutes *routes;
  GPtrArray *allow;             /* GInetAddressMask, NULL: any */
  GPtrArray *listeners;
  S2rRoutingWebhook *webhook;   /* NULL: none */
  guint webhook_fallback;       /* a SIP status, or 0: the rule below */
  char *webhook_fallback_rule;
  GPtrArray *pending;           /* Pending, while the webhook is asked */
  gboolean closing;
  /* password guessing: siplistener's counts as last logged */
  guint guard_watch;
  guint64 logged_wrong, logged_refused;
};

static void
incoming_free (S2rIncoming * in)
{
  g_free (in->invite_id);
  g_free (in->listen_uri);
  g_free (in->login);
  s2r_secret_free (in->password);
  g_free (in->caller);
  g_free (in->request_user);
  g_free (in->route_id);
  g_free (in->source);
  g_clear_pointer (&in->headers, gst_structure_free);
  g_free (in->key_header);
  g_free (in);
}

void
s2r_incoming_configure_sipsrc (GstElement * sip, gconstpointer incoming)
{
  const S2rIncoming *in = incoming;

  if (!in)
    return;
  /* strings, not parsed: nothing of the caller's becomes a description */
  g_object_set (sip, "uri", in->listen_uri, "invite-id", in->invite_id,
      "local-address", NULL, "public-address", NULL, NULL);
  gst_util_set_object_arg (G_OBJECT (sip), "mode", "answer");
  if (in->login)
    g_object_set (sip, "user-id", in->login, "user-pw", in->password, NULL);
}

/* What the call's JSON shows of it (s2r-call-json.c) */
void
s2r_incoming_get_view (gconstpointer incoming, S2rIncomingView * view)
{
  const S2rIncoming *in = incoming;

  memset (view, 0, sizeof (*view));
  if (!in)
    return;
  view->incoming = TRUE;
  view->caller = in->caller;
  view->called_user = in->request_user;
  view->route = in->route_id;
  view->source = in->source;
  view->x_headers = in->headers;
  view->key_header = in->key_header;
}

static void
reject (Listener * l, const char *invite_id, guint status, const char *why)
{
  gboolean ok = FALSE;

  g_message ("incoming call %s refused: %u (%s)", invite_id, status, why);
  g_signal_emit_by_name (l->listener, "reject", invite_id, status, &ok);
}

/*
 * The SIP status of a call a route could not make. 480 (Temporarily
 * Unavailable): the route exists but cannot take this call now, because
 * what it asks for is taken (its stream or record file by an active call)
 * or is not usable (a request that does not build, a record without
 * [record] dir); 486 (Busy Here): max-calls; 503: anything else of the
 * gateway's (admission's headroom, shutting down, a pipeline not made).
 */
static guint
create_error_status (S2rSipListen * sl, const GError * err)
{
  if (g_error_matches (err, S2R_ERROR, S2R_ERROR_CONFLICT) ||
      g_error_matches (err, S2R_ERROR, S2R_ERROR_INVALID))
    return 480;
  if (g_error_matches (err, S2R_ERROR, S2R_ERROR_UNAVAILABLE) &&
      s2r_call_manager_is_full (sl->manager))
    return 486;
  return 503;
}

/* SIP header names are case-insensitive */
static void
drop_header (GstStructure * headers, const char *name)
{
  for (gint i = gst_structure_n_fields (headers) - 1; i >= 0; i--)
    if (!g_ascii_strcasecmp (gst_structure_nth_field_name (headers, i), name))
      gst_structure_remove_field (headers,
          gst_structure_nth_field_name (headers, i));
}

static Pending *
pending_new (Listener * l, const GstStructure * invite)
{
  Pending *p = g_new0 (Pending, 1);

  p->listener = l;
  p->invite = gst_structure_copy (invite);
  p->cancellable = g_cancellable_new ();
  g_ptr_array_add (l->owner->pending, p);
  return p;
}

static void
pending_free (Pending * p)
{
  gst_structure_free (p->invite);
  g_object_unref (p->cancellable);
  g_clear_pointer (&p->req, s2r_call_request_unref);
  g_free (p);
}

/* The INVITE's call, once its stream keys are held (in a cluster, by
 * Redis: another node may publish there); a key in use is what a route
 * that cannot take the call answers (480), Redis out of reach 503 */
static void
streams_held_cb (const GError * error, gpointer user_data)
{
  Pending *p = user_data;
  Listener *l = p->listener;
  S2rSipListen *sl = l->owner;
  const char *id = gst_structure_get_string (p->invite, "invite-id");
  g_autoptr (S2rCall) call = NULL;
  g_autoptr (GError) err = NULL;

  g_ptr_array_remove_fast (sl->pending, p);
  if (sl->closing || p->gone) {
    if (error == NULL)
      s2r_call_manager_release_streams (sl->manager, p->req);
  } else if (error) {
    reject (l, id, create_error_status (sl, error), error->message);
  } else if (!(call = s2r_call_manager_create (sl->manager, p->req, &err))) {
    s2r_call_manager_release_streams (sl->manager, p->req);
    reject (l, id, create_error_status (sl, err), err->message);
  } else {
    g_message ("call %s: incoming %s, route %s", s2r_call_get_id (call), id,
        p->incoming->route_id);
  }
  pending_free (p);
}

/* A call for an INVITE from its route (match: consumed) */
static void
make_call (Listener * l, const GstStructure * s, S2rRouteMatch * match)
{
  S2rSipListen *sl = l->owner;
  const char *id = gst_structure_get_string (s, "invite-id");
  g_autoptr (S2rCallRequest) req = NULL;
  g_autoptr (GError) err = NULL;
  const GValue *hv;
  S2rIncoming *in;
  Pending *p;

  req = s2r_call_request_new_from_json (match->request, &err);
  if (!req) {
    reject (l, id, 480, err->message);
    s2r_route_match_clear (match);
    return;
  }
  in = g_new0 (S2rIncoming, 1);
  in->invite_id = g_strdup (id);
  in->listen_uri = g_strdup (l->uri);
  in->login = g_steal_pointer (&match->login);
  in->password = g_steal_pointer (&match->password);
  in->caller = g_strdup (gst_structure_get_string (s, "from"));
  /* a user or header value the route made the stream name of is a stream
   * key: not in the call's JSON nor its events */
  in->request_user = match->user_is_key ? g_strdup (S2R_SECRET_SHOWN) :
      g_strdup (gst_structure_get_string (s, "request-user"));
  in->route_id = g_steal_pointer (&match->route_id);
  in->source = g_strdup (gst_structure_get_string (s, "source"));
  hv = gst_structure_get_value (s, "headers");
  if (hv && G_VALUE_HOLDS (hv, GST_TYPE_STRUCTURE)) {
    in->headers = gst_structure_copy (gst_value_get_structure (hv));
    if (match->key_header)
      drop_header (in->headers, match->key_header);
  }
  in->key_header = g_strdup (match->key_header);
  if (match->url_has_key)
    s2r_call_request_hide_first_url (req);
  s2r_call_request_set_incoming (req, in, (GDestroyNotify) incoming_free);
  s2r_route_match_clear (match);

  /* parked while the keys are held: a cluster asks Redis */
  p = pending_new (l, s);
  p->req = g_steal_pointer (&req);
  p->incoming = in;
  s2r_call_manager_hold_streams (sl->manager, p->req, streams_held_cb, p);
}

/* What a webhook's answer may set: destinations and call options. Never
 * credentials (a route's to challenge with, not a webhook's to hand out:
 * sipLogin, sipPassword, sipAuthenticationName, nor a "connection" object
 * holding them), callee or callId; anything else is dropped */
static const char *const webhook_fields[] = {
  "rtmpUrl", "rtmpStream", "destinations", "rtmpUrls", "hasAudio",
  "hasVideo", "maxDuration", "rtpTimeout", "rtmpRetryBudget",
  "generateVideo", "record", "dtmf", "srtp", "callbackUrl", "appKey",
  "visibleName", NULL
};

/* The webhook's request as a route's (the call is answered) */
static gboolean
webhook_match (JsonNode * request, S2rRouteMatch * match, GError ** error)
{
  g_autoptr (S2rCallRequest) sample = NULL;
  JsonObject *o = json_node_get_object (request);
  GList *members = json_object_get_members (o);

  for (GList * m = members; m; m = m->next)
    if (!g_strv_contains (webhook_fields, m->data))
      json_object_remove_member (o, m->data);
  g_list_free (members);
  json_object_set_string_member (o, "callee", "sip:incoming@127.0.0.1");
  sample = s2r_call_request_new_from_json (request, error);
  if (!sample)
    return FALSE;
  memset (match, 0, sizeof (*match));
  match->route_id = g_strdup ("webhook");
  match->request = json_node_ref (request);
  return TRUE;
}

static void
webhook_fallback (Listener * l, const GstStructure * s, const char *why)
{
  S2rSipListen *sl = l->owner;
  const char *id = gst_structure_get_string (s, "invite-id");
  S2rRouteMatch match;
  guint status;

  g_message ("incoming call %s: routing webhook failed (%s): fallback", id,
      why);
  if (!sl->webhook_fallback_rule) {
    reject (l, id, sl->webhook_fallback, "routing webhook fallback");
    return;
  }
  status = s2r_routes_resolve_rule (sl->routes, sl->webhook_fallback_rule, s,
      &match);
  if (status) {
    reject (l, id, status, "the fallback rule does not take it");
    return;
  }
  make_call (l, s, &match);
}

static void
webhook_answer_cb (JsonNode * request, guint status, const char *why,
    gpointer user_data)
{
  Pending *p = user_data;
  Listener *l = p->listener;
  S2rSipListen *sl = l->owner;
  const char *id = gst_structure_get_string (p->invite, "invite-id");
  g_autoptr (GError) err = NULL;
  S2rRouteMatch match;

  g_ptr_array_remove_fast (sl->pending, p);
  if (sl->closing || p->gone) {
    pending_free (p);
    return;
  }
  if (status)
    reject (l, id, status, "the routing webhook's answer");
  else if (request && webhook_match (request, &match, &err))
    make_call (l, p->invite, &match);
  else if (request) {
    /* its field, not its value: the answer is the webhook's text */
    g_autofree char *what = g_strdup_printf ("its answer is not a call "
        "request: field '%s'", s2r_error_get_field (err) ?
        s2r_error_get_field (err) : "?");

    webhook_fallback (l, p->invite, what);
  } else
    webhook_fallback (l, p->invite, why);
  pending_free (p);
}

static void
invite_cb (Listener * l, const GstStructure * s)
{
  S2rSipListen *sl = l->owner;
  const char *id = gst_structure_get_string (s, "invite-id");
  const char *source = gst_structure_get_string (s, "source-address");
  S2rRouteMatch match;
  guint status;

  if (!id)
    return;
  if (!s2r_cidr_list_allows (sl->allow, source)) {
    reject (l, id, 403, "source not in [sip] allow");
    return;
  }
  status = s2r_routes_resolve (sl->routes, s, &match);
  if (status == 404 && sl->webhook) {
    /* parked (180) meanwhile: the webhook never holds up another call */
    Pending *p = pending_new (l, s);

    s2r_routing_webhook_ask (sl->webhook, p->invite, p->cancellable,
        webhook_answer_cb, p);
    return;
  }
  if (status) {
    reject (l, id, status, status == 404 ? "no route" :
        "source not allowed by the route");
    return;
  }
  make_call (l, s, &match);
}

/* A parked INVITE went away (the caller's CANCEL, park-timeout): the
 * webhook's ask for it ends, its answer, if any comes, is not read; keys
 * held for it meanwhile are given back */
static void
invite_gone_cb (Listener * l, const GstStructure * s)
{
  S2rSipListen *sl = l->owner;
  const char *id = gst_structure_get_string (s, "invite-id");
  const char *reason = gst_structure_get_string (s, "reason");

  if (!id)
    return;
  for (guint i = 0; i < sl->pending->len; i++) {
    Pending *p = sl->pending->pdata[i];

    if (p->listener != l || p->gone ||
        g_strcmp0 (gst_structure_get_string (p->invite, "invite-id"), id))
      continue;
    g_message ("incoming call %s: gone (%s) while %s: no call", id,
        reason ? reason : "?", p->req ? "its stream keys were held" :
        "the routing webhook was asked");
    p->gone = TRUE;
    g_cancellable_cancel (p->cancellable);
    return;
  }
}

static gboolean
bus_cb (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Listener *l = user_data;
  const GstStructure *s;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      s = gst_message_get_structure (msg);
      if (s && gst_structure_has_name (s, "sip-invite"))
        invite_cb (l, s);
      else if (s && gst_structure_has_name (s, "sip-invite-gone"))
        invite_gone_cb (l, s);
      break;
    case GST_MESSAGE_ERROR:{
      g_autoptr (GError) err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      g_warning ("SIP listener %s: %s", l->uri, err->message);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static void
listener_free (Listener * l)
{
  if (l->watch)
    g_source_remove (l->watch);
  if (l->pipeline) {
    gst_element_set_state (l->pipeline, GST_STATE_NULL);
    gst_object_unref (l->pipeline);
  }
  g_free (l->uri);
  g_free (l);
}

/* "udp:127.0.0.1:5080", "tcp:...", "tls:...", an IPv6 address in brackets
 * ("udp:[::1]:5080"); the transport may be left out (udp). Its siplistener
 * uri, and *tls whether it is over TLS. */
static char *
listen_uri (const char *spec, gboolean * tls, GError ** error)
{
  const char *tp = "udp", *rest = spec, *colon;
  g_autofree char *host = NULL;
  guint64 portn = 0;
  gboolean v6;

  for (guint i = 0; i < 3; i++) {
    static const char *const tps[] = { "udp:", "tcp:", "tls:" };

    if (g_str_has_prefix (spec, tps[i])) {
      tp = i == 0 ? "udp" : i == 1 ? "tcp" : "tls";
      rest = spec + 4;
    }
  }
  v6 = *rest == '[';
  colon = v6 ? strstr (rest, "]:") : strrchr (rest, ':');
  if (colon) {
    host = v6 ? g_strndup (rest + 1, colon - rest - 1) :
        g_strndup (rest, colon - rest);
    colon += v6 ? 2 : 1;
  }

  if (host && (!strcmp (host, "0.0.0.0") || !strcmp (host, "::"))) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "listen",
        "[sip] listen: '%.64s': one local address per entry, not %s "
        "(list each address callers reach, comma-separated)", spec, host);
    return NULL;
  }
  /* an IPv6 address only in brackets: its colons would read as a port */
  if (!host || !g_hostname_is_ip_address (host) ||
      v6 != (strchr (host, ':') != NULL) ||
      !g_ascii_string_to_unsigned (colon, 10, 1, 65535, &portn, NULL)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "listen",
        "[sip] listen: '%.64s' is not <transport>:<IP address>:<port> "
        "(transport udp, tcp or tls; IPv6 in brackets: udp:[::1]:5080)", spec);
    return NULL;
  }
  *tls = !strcmp (tp, "tls");
  return g_strdup_printf ("sip:%s%s%s:%u;transport=%s", v6 ? "[" : "", host,
      v6 ? "]" : "", (guint) portn, tp);
}

/* Why the listener's pipeline did not start: its element's error (the
 * certificate's or key's fault names which, never the key's path) */
static char *
start_error (Listener * l)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (l->pipeline);
  g_autoptr (GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_autoptr (GError) err = NULL;

  if (!msg)
    return g_strdup ("cannot listen");
  gst_message_parse_error (msg, &err, NULL);
  return g_strdup (err->message);
}

/* GET /metrics: password guessing. siplistener's counts are the
 * process's (one table of wrong credentials per process), so the first
 * listener's are all of them */
static void
guard_counts (S2rSipListen * sl, guint64 * wrong, guint64 * refused)
{
  GstStructure *stats = NULL;

  *wrong = *refused = 0;
  if (!sl->listeners->len)
    return;
  g_object_get (((Listener *) sl->listeners->pdata[0])->listener, "stats",
      &stats, NULL);
  if (stats) {
    gst_structure_get_uint64 (stats, "auth-failures", wrong);
    gst_structure_get_uint64 (stats, "auth-locked-out", refused);
    gst_structure_free (stats);
  }
}

/* A line a second at most, and only when a lock-out refused INVITEs: the
 * journal sees a guesser without GST_DEBUG (the plugin's own line, with
 * the source address and user, is GST_DEBUG=libre:4) */
static gboolean
log_guard (gpointer user_data)
{
  S2rSipListen *sl = user_data;
  guint64 wrong, refused;

  guard_counts (sl, &wrong, &refused);
  if (refused != sl->logged_refused)
    g_message ("incoming calls: %" G_GUINT64_FORMAT " wrong credentials "
        "(403) and %" G_GUINT64_FORMAT " INVITEs refused for a lock-out "
        "(480) in the last second", wrong - sl->logged_wrong,
        refused - sl->logged_refused);
  sl->logged_wrong = wrong;
  sl->logged_refused = refused;
  return G_SOURCE_CONTINUE;
}

static void
render_metrics (GString * out, gpointer user_data)
{
  guint64 wrong, refused;

  guard_counts (user_data, &wrong, &refused);
  s2r_metrics_append_counter (out, "sip2rtmp_incoming_auth_failures_total",
      "Incoming calls refused for wrong credentials (403).", wrong);
  s2r_metrics_append_counter (out, "sip2rtmp_incoming_auth_locked_out_total",
      "Incoming INVITEs refused (480) while their source was locked out for "
      "their user after wrong credentials.", refused);
}

S2rSipListen *
s2r_sip_listen_new (S2rCallManager * manager, S2rRoutes * routes,
    const char *listen, const char *tls_cert_file, const char *tls_key_file,
    GError ** error)
{
  g_autoptr (S2rSipListen) sl = g_new0 (S2rSipListen, 1);
  g_auto (GStrv) specs = NULL;

  sl->manager = g_object_ref (manager);
  sl->routes = routes;
  sl->listeners = g_ptr_array_new_with_free_func ((GDestroyNotify)
      listener_free);
  sl->pending = g_ptr_array_new ();

  specs = g_strsplit (listen ? listen : "", ",", -1);
  for (guint i = 0; specs[i]; i++) {
    Listener *l;
    g_autoptr (GstBus) bus = NULL;
    gboolean tls = FALSE;

    if (!*g_strstrip (specs[i]))
      continue;
    l = g_new0 (Listener, 1);
    l->owner = sl;
    g_ptr_array_add (sl->listeners, l);
    l->uri = listen_uri (specs[i], &tls, error);
    if (!l->uri)
      return NULL;
    /* the gateway's one certificate: the one it shows callers is the one
     * it shows servers that ask (mutual TLS) */
    if (tls && !tls_cert_file) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "tls-cert-file",
          "[sip] listen: '%.64s' is over TLS: [sip] tls-cert-file (the "
          "certificate callers check) must be set", specs[i]);
      return NULL;
    }
    l->pipeline = gst_pipeline_new (NULL);
    l->listener = gst_element_factory_make ("siplistener", NULL);
    if (!l->listener) {
      s2r_set_error_field (error, S2R_ERROR_INTERNAL, NULL,
          "the siplistener element is missing (GST_PLUGIN_PATH?)");
      return NULL;
    }
    g_object_set (l->listener, "uri", l->uri, "park-timeout",
        DEFAULT_PARK_TIMEOUT_S, NULL);
    if (tls)
      g_object_set (l->listener, "tls-cert-file", tls_cert_file,
          "tls-key-file", tls_key_file, NULL);
    gst_bin_add (GST_BIN (l->pipeline), l->listener);
    bus = gst_element_get_bus (l->pipeline);
    l->watch = gst_bus_add_watch (bus, bus_cb, l);
    if (gst_element_set_state (l->pipeline, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE) {
      g_autofree char *why = start_error (l);

      s2r_set_error_field (error, S2R_ERROR_INVALID, tls &&
          strstr (why, "TLS:") ? "tls-cert-file" : "listen",
          "[sip] listen: cannot listen for SIP on %s: %s", specs[i], why);
      return NULL;
    }
  }
  s2r_call_manager_add_metrics_func (manager, render_metrics, sl);
  sl->guard_watch = g_timeout_add_seconds (1, log_guard, sl);
  return g_steal_pointer (&sl);
}

void
s2r_sip_listen_free (S2rSipListen * sl)
{
  if (!sl)
    return;
  /* what parked INVITEs wait for ends here, before the listeners they
   * name: the webhook's asks soon once cancelled, a cluster's holds of
   * their stream keys when Redis answers (its own timeout, 1.5 s, bounds
   * that); each ends from the main loop */
  sl->closing = TRUE;
  for (guint i = 0; i < sl->pending->len; i++)
    g_cancellable_cancel (((Pending *) sl->pending->pdata[i])->cancellable);
  while (sl->pending->len)
    g_main_context_iteration (NULL, TRUE);
  g_clear_pointer (&sl->pending, g_ptr_array_unref);
  g_clear_pointer (&sl->webhook, s2r_routing_webhook_free);
  g_free (sl->webhook_fallback_rule);
  s2r_call_manager_remove_metrics_func (sl->manager, sl);
  g_clear_handle_id (&sl->guard_watch, g_source_remove);
  g_clear_pointer (&sl->listeners, g_ptr_array_unref);
  g_clear_pointer (&sl->allow, g_ptr_array_unref);
  g_clear_object (&sl->manager);
  g_free (sl);
}

/* A reload's [sip] allow and routing webhook (the start's too): the next
 * INVITE meets them; one parked for the webhook in force meanwhile is
 * answered from it as it was asked */
void
s2r_sip_listen_reconfigure (S2rSipListen * sl, S2rSipListenConfig * config)
{
  guint park_s = DEFAULT_PARK_TIMEOUT_S;

  g_clear_pointer (&sl->allow, g_ptr_array_unref);
  sl->allow = g_steal_pointer (&config->allow);
  g_clear_pointer (&sl->webhook, s2r_routing_webhook_free);
  g_clear_pointer (&sl->webhook_fallback_rule, g_free);
  sl->webhook_fallback = config->webhook_fallback;
  sl->webhook_fallback_rule = g_steal_pointer (&config->webhook_fallback_rule);
  if (config->webhook_url) {
    sl->webhook = s2r_routing_webhook_new (config->webhook_url,
        config->webhook_timeout_ms);
    /* the INVITE stays parked for the webhook's time, and some */
    park_s = MAX (park_s, config->webhook_timeout_ms / 1000 + 5);
  }
  for (guint i = 0; i < sl->listeners->len; i++) {
    Listener *l = sl->listeners->pdata[i];

    g_object_set (l->listener, "park-timeout", park_s, NULL);
  }
}
