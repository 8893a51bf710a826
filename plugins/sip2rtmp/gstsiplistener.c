/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-siplistener
 * @title: siplistener
 *
 * siplistener routes the incoming calls that no `sipsrc mode=answer`
 * waits for, on the SIP socket of its uri (`sip:<local IP>:<port>`,
 * `;transport=tcp` for TCP, `;transport=tls` for TLS with our
 * certificate in `tls-cert-file`; an IPv6 address in brackets,
 * `sip:[::1]:5080`): an application that decides where a call goes
 * only once it sees it (sip2rtmpd's routes). Each such INVITE is answered
 * 180 Ringing at once and posted as a `sip-invite` element message
 * (`invite-id`, `call-id`, `request-uri`, `request-user`, `from`,
 * `from-user`, `to`, `to-user`, `source` ip:port, `source-address`,
 * `has-credentials`, `headers`: its X- headers, a string field each;
 * every value printable ASCII, an INVITE whose URIs are not gets 400).
 * The application then either starts a `sipsrc mode=answer
 * invite-id=<id>` (with user-id/user-pw to challenge the caller), or
 * rejects it with the `reject` action signal; an INVITE neither taken nor
 * rejected within `park-timeout` gets 480, a CANCEL meanwhile 487. Either
 * is posted as a `sip-invite-gone` element message (`invite-id`, `reason`:
 * `cancelled`, `timeout`, or `closed` when its transaction failed,
 * `sip-status`: 487, 480 or 0), after which the id can no longer be
 * taken or rejected.
 * Without a siplistener, such INVITEs get 404. One per SIP socket.
 *
 * The element has no pads; it listens from PAUSED on.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m siplistener uri=sip:127.0.0.1:5080
 * ]| Prints the INVITEs to 127.0.0.1:5080 as messages (they get 480 after
 * 10 s).
 * |[
 * gst-launch-1.0 -m siplistener uri="sip:127.0.0.1:5061;transport=tls" \
 *     tls-cert-file=server.pem tls-key-file=server.key
 * ]| The same over TLS: callers connect to 127.0.0.1:5061 and check
 * server.pem's certificate.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include "gstsiplistener.h"
#include "gstsipuri.h"
#include "gstsipheaders.h"
#include "libre/runtime.h"
#include "libre/sipua.h"

GST_DEBUG_CATEGORY_STATIC (gst_sip_listener_debug);
#define GST_CAT_DEFAULT gst_sip_listener_debug

enum
{
  PROP_0,
  PROP_URI,
  PROP_PARK_TIMEOUT,
  PROP_STATS,
  PROP_TLS_CERT_FILE,
  PROP_TLS_KEY_FILE,
};

#define DEFAULT_PARK_TIMEOUT 10

enum
{
  SIGNAL_REJECT,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

struct _GstSipListener
{
  GstElement parent;

  /* properties, protected by the object lock */
  gchar *uri;
  guint park_timeout;
  gchar *tls_cert_file;
  gchar *tls_key_file;

  /* set and cleared by the state change (STATE_LOCK), under the object
   * lock so that park-timeout may reach it while it runs */
  struct sipua_router *router;
  gboolean runtime_started;
};

G_DEFINE_TYPE (GstSipListener, gst_sip_listener, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (siplistener, "siplistener", GST_RANK_NONE,
    GST_TYPE_SIP_LISTENER);

/* On the SIP thread: the facts are printable ASCII (sipua_incoming.c) */
static void
invite_handler (const struct sipua_invite_info *inv, void *arg)
{
  GstSipListener *self = arg;
  GstStructure *s, *headers;

  headers = gst_sip_headers_parse (inv->headers);
  s = gst_structure_new ("sip-invite",
      "invite-id", G_TYPE_STRING, inv->invite_id,
      "call-id", G_TYPE_STRING, inv->call_id,
      "request-uri", G_TYPE_STRING, inv->request_uri,
      "request-user", G_TYPE_STRING, inv->request_user,
      "from", G_TYPE_STRING, inv->from_uri,
      "from-user", G_TYPE_STRING, inv->from_user,
      "to", G_TYPE_STRING, inv->to_uri,
      "to-user", G_TYPE_STRING, inv->to_user,
      "source", G_TYPE_STRING, inv->source,
      "source-address", G_TYPE_STRING, inv->source_ip,
      "has-credentials", G_TYPE_BOOLEAN, inv->has_credentials,
      "headers", GST_TYPE_STRUCTURE, headers, NULL);
  gst_structure_free (headers);

  GST_INFO_OBJECT (self, "INVITE %s parked", inv->invite_id);
  gst_element_post_message (GST_ELEMENT_CAST (self),
      gst_message_new_element (GST_OBJECT_CAST (self), s));
}

/* On the SIP thread: the id is ours (sipua_incoming.c's "inv-N-HEX") */
static void
invite_gone_handler (const char *invite_id, enum sipua_invite_gone why,
    uint16_t scode, void *arg)
{
  GstSipListener *self = arg;
  const gchar *reason = why == SIPUA_INVITE_CANCELLED ? "cancelled" :
      why == SIPUA_INVITE_TIMEOUT ? "timeout" : "closed";
  GstStructure *s;

  s = gst_structure_new ("sip-invite-gone",
      "invite-id", G_TYPE_STRING, invite_id,
      "reason", G_TYPE_STRING, reason,
      "sip-status", G_TYPE_INT, (gint) scode, NULL);
  GST_INFO_OBJECT (self, "INVITE %s gone: %s", invite_id, reason);
  gst_element_post_message (GST_ELEMENT_CAST (self),
      gst_message_new_element (GST_OBJECT_CAST (self), s));
}

static gboolean
gst_sip_listener_reject (GstSipListener * self, const gchar * invite_id,
    guint status)
{
  if (status < 300 || status > 699)
    return FALSE;
  return sipua_router_reject (invite_id, (uint16_t) status) == 0;
}

static enum sipua_transport
transport_of (const gchar * uri)
{
  const gchar *t = gst_sip_uri_transport (uri);

  return !g_strcmp0 (t, "tls") ? SIPUA_TRANSPORT_TLS :
      !g_strcmp0 (t, "tcp") ? SIPUA_TRANSPORT_TCP : SIPUA_TRANSPORT_UDP;
}

static gboolean
start_router (GstSipListener * self)
{
  struct sipua_router_params prm;
  struct sipua_router *router = NULL;
  gchar *uri, *host = NULL, *cert = NULL, *key = NULL;
  guint port = 0, park_timeout;
  const char *why = NULL;
  GError *err = NULL;
  gboolean ok = FALSE;
  int ret;

  GST_OBJECT_LOCK (self);
  uri = gst_sip_uri_complete (self->uri, &host, &port, &err);
  park_timeout = self->park_timeout;
  cert = g_strdup (self->tls_cert_file && *self->tls_cert_file ?
      self->tls_cert_file : NULL);
  key = g_strdup (self->tls_key_file && *self->tls_key_file ?
      self->tls_key_file : NULL);
  GST_OBJECT_UNLOCK (self);

  if (!uri) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid property 'uri': %s", err->message), (NULL));
    g_clear_error (&err);
    goto out;
  }
  /* any-address: refused as sipsrc's answer mode does
   * (gstsipsrcanswer.c) */
  if (!strcmp (host, "0.0.0.0") || !strcmp (host, "::")) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid property 'uri': siplistener listens on one local address, "
            "not '%s' (any): name the address callers reach", host), (NULL));
    goto out;
  }
  if (!g_hostname_is_ip_address (host)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid property 'uri': sip:<local IP address>:<port>"), (NULL));
    goto out;
  }

  memset (&prm, 0, sizeof (prm));
  prm.laddr = host;
  /* TLS's own port (RFC 3261 26.2) unless one is named */
  prm.tp = transport_of (uri);
  prm.port = port ? port : prm.tp == SIPUA_TRANSPORT_TLS ? 5061 : 5060;
  prm.park_ms = park_timeout * 1000;
  if (prm.tp == SIPUA_TRANSPORT_TLS) {
    if (!cert) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid property 'tls-cert-file': listening over TLS needs our "
              "certificate (PEM)"), (NULL));
      goto out;
    }
    prm.tls_cert_file = cert;
    prm.tls_key_file = key;
  }

  ret = sipua_router_start (&router, &prm, invite_handler,
      invite_gone_handler, self, &why);
  if (ret == 0) {
    GST_OBJECT_LOCK (self);
    self->router = router;
    /* a park-timeout set while it started */
    sipua_router_set_park_ms (router, self->park_timeout * 1000);
    GST_OBJECT_UNLOCK (self);
  }
  if (ret == EINVAL && why)
    /* the certificate's or key's fault: which, never the key's path */
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Could not listen for SIP on %s: %s", uri, why), (NULL));
  else if (ret)
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not listen for SIP on %s: %s", uri,
            ret == EADDRINUSE ? "a siplistener listens there already" :
            g_strerror (ret)), (NULL));
  ok = ret == 0;

out:
  g_free (uri);
  g_free (host);
  g_free (cert);
  g_free (key);
  return ok;
}

static void
stop_router (GstSipListener * self)
{
  struct sipua_router *router;

  GST_OBJECT_LOCK (self);
  router = self->router;
  self->router = NULL;
  GST_OBJECT_UNLOCK (self);
  sipua_router_stop (router);
}

static GstStateChangeReturn
gst_sip_listener_change_state (GstElement * element, GstStateChange transition)
{
  GstSipListener *self = GST_SIP_LISTENER (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (runtime_init () != 0) {
        GST_ELEMENT_ERROR (self, RESOURCE, FAILED, (NULL),
            ("could not start the SIP thread"));
        return GST_STATE_CHANGE_FAILURE;
      }
      self->runtime_started = TRUE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!start_router (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_router (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (gst_sip_listener_parent_class)->change_state
      (element, transition);

  if (transition == GST_STATE_CHANGE_READY_TO_NULL && self->runtime_started) {
    runtime_close ();
    self->runtime_started = FALSE;
  }

  return ret;
}

static void
gst_sip_listener_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstSipListener *self = GST_SIP_LISTENER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_URI:
      g_free (self->uri);
      self->uri = g_value_dup_string (value);
      break;
    case PROP_PARK_TIMEOUT:
      self->park_timeout = g_value_get_uint (value);
      /* the next INVITE parked waits so long */
      sipua_router_set_park_ms (self->router, self->park_timeout * 1000);
      break;
    case PROP_TLS_CERT_FILE:
      g_free (self->tls_cert_file);
      self->tls_cert_file = g_value_dup_string (value);
      break;
    case PROP_TLS_KEY_FILE:
      g_free (self->tls_key_file);
      self->tls_key_file = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_sip_listener_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstSipListener *self = GST_SIP_LISTENER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_URI:
      g_value_set_string (value, self->uri);
      break;
    case PROP_PARK_TIMEOUT:
      g_value_set_uint (value, self->park_timeout);
      break;
    case PROP_STATS:{
      guint64 wrong, refused;

      sipua_auth_guard_stats (&wrong, &refused);
      g_value_take_boxed (value,
          gst_structure_new ("application/x-siplistener-stats",
              "auth-failures", G_TYPE_UINT64, wrong,
              "auth-locked-out", G_TYPE_UINT64, refused, NULL));
      break;
    }
    case PROP_TLS_CERT_FILE:
      g_value_set_string (value, self->tls_cert_file);
      break;
    case PROP_TLS_KEY_FILE:
      g_value_set_string (value, self->tls_key_file);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_sip_listener_finalize (GObject * object)
{
  GstSipListener *self = GST_SIP_LISTENER (object);

  g_free (self->uri);
  g_free (self->tls_cert_file);
  g_free (self->tls_key_file);
  G_OBJECT_CLASS (gst_sip_listener_parent_class)->finalize (object);
}

static void
gst_sip_listener_init (GstSipListener * self)
{
  self->park_timeout = DEFAULT_PARK_TIMEOUT;
}

static void
gst_sip_listener_class_init (GstSipListenerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_sip_listener_set_property;
  gobject_class->get_property = gst_sip_listener_get_property;
  gobject_class->finalize = gst_sip_listener_finalize;
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_sip_listener_change_state);

  g_object_class_install_property (gobject_class, PROP_URI,
      g_param_spec_string ("uri", "URI", "Where to listen: sip:<local IP "
          "address, IPv6 in []>[:<port>, 5060; 5061 for TLS]"
          "[;transport=tcp|tls]", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PARK_TIMEOUT,
      g_param_spec_uint ("park-timeout", "Park timeout", "Seconds an INVITE "
          "waits (after 180) to be taken or rejected; then 480 (a change "
          "applies to the INVITEs parked after it)", 1, 3600,
          DEFAULT_PARK_TIMEOUT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /* the guard's table is the process's (sipua_incoming.c), so are these */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "The process's incoming "
          "calls on every SIP address (not this one's alone): auth-failures "
          "(wrong credentials, answered 403), auth-locked-out (INVITEs "
          "answered 480 while their source address was locked out for "
          "their user by sipsrc's auth-max-failures)", GST_TYPE_STRUCTURE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TLS_CERT_FILE,
      g_param_spec_string ("tls-cert-file", "TLS certificate file",
          "TLS (uri ;transport=tls): our certificate chain, PEM, that "
          "callers check; read when the element starts", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TLS_KEY_FILE,
      g_param_spec_string ("tls-key-file", "TLS key file",
          "The private key of tls-cert-file, unencrypted PEM (unset: in "
          "tls-cert-file); never logged", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstSipListener::reject:
   * @siplistener: the element
   * @invite_id: the `invite-id` of a `sip-invite` message
   * @status: the SIP status, 300-699 (403, 404, 480, 486, 503, 603...)
   *
   * Rejects a parked INVITE. One that is gone already (cancelled, timed
   * out, taken) is ignored.
   *
   * Returns: %TRUE if the rejection was handed to the SIP thread
   */
  signals[SIGNAL_REJECT] = g_signal_new_class_handler ("reject",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_sip_listener_reject), NULL, NULL, NULL, G_TYPE_BOOLEAN,
      2, G_TYPE_STRING, G_TYPE_UINT);

  gst_element_class_set_static_metadata (element_class,
      "SIP incoming call router", "Source/Network",
      "Parks the incoming SIP calls no sipsrc waits for and reports them",
      "sip2rtmp authors");

  GST_DEBUG_CATEGORY_INIT (gst_sip_listener_debug, "siplistener", 0,
      "SIP incoming call router");
}
