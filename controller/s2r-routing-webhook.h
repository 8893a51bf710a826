/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * S2rRoutingWebhook:
 *
 * The third routing source of incoming calls (issue 14), like Twilio's
 * Voice URL: an INVITE no rule or API route takes is POSTed as JSON (its
 * facts: from, to, request-URI, source, X- headers; never a credential) to
 * `[sip] routing-webhook`, asynchronously on the main loop. The answer is
 * a native call request's body (destinations and call options), or
 * `{"reject": <300-699>}`. A timeout, an HTTP or connection error or an
 * answer that is not one of those two calls the answer function with
 * neither: the caller applies its fallback. Main loop only.
 */
typedef struct _S2rRoutingWebhook S2rRoutingWebhook;

/* request: a call request's body to build (NULL otherwise); status: the
 * SIP status the webhook rejects with (0 otherwise); neither: the webhook
 * failed, why says how (no text of the answer's in it) */
typedef void (*S2rRoutingAnswerFunc) (JsonNode * request, guint status,
    const char *why, gpointer user_data);

S2rRoutingWebhook *s2r_routing_webhook_new (const char *url, guint timeout_ms);
void s2r_routing_webhook_free (S2rRoutingWebhook * hook);
gboolean s2r_routing_webhook_url_is_valid (const char *url);
void s2r_routing_webhook_ask (S2rRoutingWebhook * hook,
    const GstStructure * invite, GCancellable * cancellable,
    S2rRoutingAnswerFunc func, gpointer user_data);
JsonNode *s2r_routing_webhook_body (const GstStructure * invite);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rRoutingWebhook, s2r_routing_webhook_free);

G_END_DECLS
