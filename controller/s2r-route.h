/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Paths of the API as patterns: literal segments, and {name} for one
 * non-empty segment whose text is captured ("/api/v1/calls/{id}/dtmf") */
gboolean s2r_route_match (const char *pattern, const char *path,
    GStrv * params);
/* @allow: the route's methods as its Allow header lists them, "GET, POST" */
gboolean s2r_route_allows (const char *allow, const char *method);

G_END_DECLS
