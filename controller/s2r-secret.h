/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A secret string: the SIP password, an RTMP stream key (and the location
 * holding it), the API token. Copied and freed through these only, so that
 * freeing one wipes it: no copy stays in the heap after its owner is gone.
 * (sipsrc and rtmppubsink keep their own, under the same rule.) */
typedef char S2rSecret;

char *s2r_secret_dup (const char *secret);
void s2r_secret_free (char *secret);
void s2r_secret_replace (char **secret, char *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rSecret, s2r_secret_free);

/* What an answer, event or webhook shows in place of a secret (a stream
 * key, an appKey, a user or header a route made a key of) */
#define S2R_SECRET_SHOWN "***"

G_END_DECLS
