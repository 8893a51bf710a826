/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * S2rRoutes:
 *
 * Where incoming calls go (issue 14): the config's `[route:NAME]` rules
 * first, in file order, then the routes made by `POST /api/v1/routes`.
 * A route says which INVITEs it takes (request-URI user, or a header such
 * as X-Stream-Key, exactly or by a glob pattern), who may call (source
 * networks, digest credentials), and the body of the call request the
 * call is made from (destinations, options), `{user}` and `{match}` in
 * rtmpStream replaced by what matched. Main loop only.
 */
typedef struct _S2rRoutes S2rRoutes;

/** What an INVITE leads to */
typedef struct
{
  char *route_id;
  JsonNode *request;            /* a native call request's body */
  char *login;                  /* digest credentials to challenge with */
  char *password;               /* secret: wiped when freed */
  /* what went into the request's rtmpStream/rtmpUrl ({user}, {match}): a
   * stream key, not to be shown in the call's JSON */
  gboolean user_is_key;         /* the request-URI user */
  char *key_header;             /* the X- header whose value, or NULL */
  gboolean url_has_key;         /* rtmpUrl has one of them */
} S2rRouteMatch;

S2rRoutes *s2r_routes_new (void);
void s2r_routes_free (S2rRoutes * routes);
S2rRoutes *s2r_routes_new_from_file (const char *path, GError ** error);
void s2r_routes_replace_rules (S2rRoutes * routes, S2rRoutes * rules);
JsonNode *s2r_routes_add (S2rRoutes * routes, JsonNode * body,
    GError ** error);
JsonNode *s2r_routes_get (S2rRoutes * routes, const char *id, GError ** error);
JsonNode *s2r_routes_list (S2rRoutes * routes);
gboolean s2r_routes_remove (S2rRoutes * routes, const char *id,
    GError ** error);
/* issue 16: the cluster keeps the API's routes in Redis, every node a copy */
JsonNode *s2r_routes_put (S2rRoutes * routes, const char *id,
    JsonNode * body, GError ** error);
GStrv s2r_routes_api_ids (S2rRoutes * routes);
guint s2r_routes_resolve (S2rRoutes * routes, const GstStructure * invite,
    S2rRouteMatch * match);
gboolean s2r_routes_has_rule (S2rRoutes * routes, const char *name);
guint s2r_routes_resolve_rule (S2rRoutes * routes, const char *name,
    const GstStructure * invite, S2rRouteMatch * match);
void s2r_route_match_clear (S2rRouteMatch * match);
gboolean s2r_cidr_list_parse (const char *text, GPtrArray ** masks,
    GError ** error);
gboolean s2r_cidr_list_allows (GPtrArray * masks, const char *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rRoutes, s2r_routes_free);

G_END_DECLS
