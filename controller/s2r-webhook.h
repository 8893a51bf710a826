/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "s2r-call-manager.h"
#include "s2r-config.h"

G_BEGIN_DECLS

/**
 * S2rWebhook:
 *
 * POSTs every call event to the call's `callbackUrl`, or to the `url` of
 * its appKey's `[app:NAME]` group. One bounded queue per URL (the oldest
 * event is dropped when full), one request in flight per URL so a receiver
 * sees its events in order, retries with exponential backoff. Nothing here
 * ever blocks the main loop: a slow or dead receiver only delays itself.
 */
typedef struct _S2rWebhook S2rWebhook;

S2rWebhook *s2r_webhook_new (S2rCallManager * manager,
    const S2rConfig * config);
void s2r_webhook_free (S2rWebhook * webhook);
guint s2r_webhook_get_n_pending (S2rWebhook * webhook);
void s2r_webhook_config_changed (S2rWebhook * webhook);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rWebhook, s2r_webhook_free);

G_END_DECLS
