/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "s2r-call-json.h"
#include "s2r-call-manager.h"
#include "s2r-routes.h"
#include "s2r-sip-listen-config.h"

G_BEGIN_DECLS

/**
 * S2rSipListen:
 *
 * sip2rtmpd's SIP addresses (issue 14): a `siplistener` pipeline per
 * `[sip] listen` address (or `--sip-listen`; over TLS with
 * `[sip] tls-cert-file`/`tls-key-file` as the server's certificate); each INVITE it parks is
 * checked against `[sip] allow` (403), routed (S2rRoutes: 404, 403), and
 * becomes a call of the manager (`sipsrc mode=answer invite-id=...`;
 * a route that cannot take it: 480, max-calls: 486, other refusals 503).
 * An INVITE no route takes goes to the routing webhook if one is set
 * (S2rRoutingWebhook), parked meanwhile; parked too while its stream keys
 * are held beyond this process (a cluster's Redis: in use 480, out of
 * reach 503). A reload changes allow= and the webhook
 * (s2r_sip_listen_reconfigure). Main loop only.
 */
typedef struct _S2rSipListen S2rSipListen;

S2rSipListen *s2r_sip_listen_new (S2rCallManager * manager,
    S2rRoutes * routes, const char *listen, const char *tls_cert_file,
    const char *tls_key_file, GError ** error);
void s2r_sip_listen_free (S2rSipListen * sl);
void s2r_sip_listen_reconfigure (S2rSipListen * sl,
    S2rSipListenConfig * config);

/* The hooks of an incoming call (its request's incoming data, or NULL) */
void s2r_incoming_configure_sipsrc (GstElement * sip, gconstpointer incoming);
void s2r_incoming_get_view (gconstpointer incoming, S2rIncomingView * view);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rSipListen, s2r_sip_listen_free);

G_END_DECLS
