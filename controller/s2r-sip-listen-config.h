/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "s2r-routes.h"

G_BEGIN_DECLS

/* What of [sip] a reload changes: allow= and the routing webhook
 * (s2r-sip-listen-config.c); listen= takes a restart */
typedef struct
{
  GPtrArray *allow;             /* GInetAddressMask, NULL: any */
  char *webhook_url;            /* NULL: no routing webhook */
  guint webhook_timeout_ms;
  guint webhook_fallback;       /* a SIP status, or 0: the rule below */
  char *webhook_fallback_rule;  /* a [route:NAME] rule's name */
} S2rSipListenConfig;

S2rSipListenConfig *s2r_sip_listen_config_new_from_file (const char *path,
    S2rRoutes * rules, GError ** error);
void s2r_sip_listen_config_free (S2rSipListenConfig * config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rSipListenConfig, s2r_sip_listen_config_free);

G_END_DECLS
