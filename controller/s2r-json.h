/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Arrays and objects inside each other, at most. The deepest body the API
 * takes is 3 (a call, its `destinations`, a destination): json-glib's parser
 * recurses once per level, and 100000 levels overflowed the daemon's stack. */
#define S2R_JSON_MAX_DEPTH 32

JsonNode *s2r_json_parse_object (const char *data, gsize len, GError ** error);
JsonNode *s2r_json_parse_body (const char *data, gsize len, gsize max_body,
    GError ** error);

G_END_DECLS
