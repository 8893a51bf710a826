/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Routes of incoming calls (issue 14): the table, the config's rules, the
 * API's bodies, and the resolution of an INVITE to a call request. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gio/gio.h>

#include "s2r-routes.h"
#include "s2r-call-request.h"
#include "s2r-error.h"
#include "s2r-secret.h"

#define MAX_ROUTES 10000
#define MAX_ROUTE_FIELD 128

typedef struct
{
  char *id;
  char *name;                   /* [route:NAME], or NULL (the API's) */
  char *user;                   /* request-URI user: exact or glob */
  GPatternSpec *user_pattern;   /* config rules: a glob ('*', '?') */
  char *header;                 /* a header to match instead (X-...) */
  GPatternSpec *header_pattern;
  JsonNode *body;               /* the call request's fields */
  char *login;
  char *password;               /* secret */
  GPtrArray *allow;             /* GInetAddressMask, NULL: any */
} Route;

struct _S2rRoutes
{
  GPtrArray *routes;            /* config rules first, in file order */
  guint64 next_id;
};

/* Fields of a route that are not the call request's */
static const char *const route_fields[] = {
  "id", "user", "header", "match", "allow", "name", NULL
};

static void
route_free (Route * r)
{
  g_free (r->id);
  g_free (r->name);
  g_free (r->user);
  g_clear_pointer (&r->user_pattern, g_pattern_spec_free);
  g_free (r->header);
  g_clear_pointer (&r->header_pattern, g_pattern_spec_free);
  g_clear_pointer (&r->body, json_node_unref);
  g_free (r->login);
  s2r_secret_free (r->password);
  g_clear_pointer (&r->allow, g_ptr_array_unref);
  g_free (r);
}

S2rRoutes *
s2r_routes_new (void)
{
  S2rRoutes *routes = g_new0 (S2rRoutes, 1);

  routes->routes = g_ptr_array_new_with_free_func ((GDestroyNotify) route_free);
  return routes;
}

void
s2r_routes_free (S2rRoutes * routes)
{
  if (!routes)
    return;
  g_ptr_array_unref (routes->routes);
  g_free (routes);
}

/* A SIP user, a stream key: what may be matched and put in a stream name */
static gboolean
token_is_safe (const char *s, gboolean pattern)
{
  if (!s || !*s || strlen (s) > MAX_ROUTE_FIELD)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && !strchr ("-_.+", *s) &&
        !(pattern && strchr ("*?", *s)))
      return FALSE;
  return TRUE;
}

gboolean
s2r_cidr_list_parse (const char *text, GPtrArray ** masks, GError ** error)
{
  g_auto (GStrv) parts = NULL;

  *masks = NULL;
  if (!text || !*text)
    return TRUE;
  parts = g_strsplit (text, ",", -1);
  *masks = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; parts[i]; i++) {
    g_autoptr (GError) err = NULL;
    GInetAddressMask *m;

    g_strstrip (parts[i]);
    if (!*parts[i])
      continue;
    m = g_inet_address_mask_new_from_string (parts[i], &err);
    if (!m) {
      g_clear_pointer (masks, g_ptr_array_unref);
      s2r_set_error_field (error, S2R_ERROR_INVALID, "allow",
          "field 'allow': '%.64s' is not an address or network (CIDR)",
          parts[i]);
      return FALSE;
    }
    g_ptr_array_add (*masks, m);
  }
  return TRUE;
}

gboolean
s2r_cidr_list_allows (GPtrArray * masks, const char *address)
{
  g_autoptr (GInetAddress) a = NULL;

  if (!masks)
    return TRUE;
  a = address ? g_inet_address_new_from_string (address) : NULL;
  if (!a)
    return FALSE;
  for (guint i = 0; i < masks->len; i++)
    if (g_inet_address_mask_matches (masks->pdata[i], a))
      return TRUE;
  return FALSE;
}

/* The call request a route makes for user: its body with {user} and
 * {match} replaced in rtmpStream and rtmpUrl, and "callee" (the request
 * needs one; the call is answered, not placed) */
static JsonNode *
route_request (const Route * r, const char *user, const char *match)
{
  /* json_node_copy() shares the object: a deep copy, the route's stays */
  g_autofree char *text = json_to_string (r->body, FALSE);
  JsonNode *node = json_from_string (text, NULL);
  JsonObject *o = json_node_get_object (node);
  const char *keys[] = { "rtmpStream", "rtmpUrl", NULL };

  for (guint i = 0; keys[i]; i++) {
    const char *v = json_object_has_member (o, keys[i]) &&
        JSON_NODE_HOLDS_VALUE (json_object_get_member (o, keys[i])) ?
        json_object_get_string_member (o, keys[i]) : NULL;
    g_autoptr (GString) s = NULL;

    if (!v || !strchr (v, '{'))
      continue;
    s = g_string_new (v);
    g_string_replace (s, "{user}", user ? user : "", 0);
    g_string_replace (s, "{match}", match ? match : "", 0);
    json_object_set_string_member (o, keys[i], s->str);
  }
  json_object_set_string_member (o, "callee", "sip:incoming@127.0.0.1");
  return node;
}

/* A route from an object (the API's body, or a rule's keys): every field
 * checked, the call request too (as it will be made for user "test") */
static Route *
route_new (JsonNode * body, const char *name, GError ** error)
{
  JsonObject *o;
  Route *r;
  JsonNode *allow;
  g_autoptr (S2rCallRequest) sample = NULL;
  g_autoptr (JsonNode) sample_body = NULL;
  const char *match = NULL;

  if (!body || !JSON_NODE_HOLDS_OBJECT (body)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, NULL,
        "the body must be a JSON object");
    return NULL;
  }
  o = json_node_get_object (body);
  r = g_new0 (Route, 1);
  r->name = g_strdup (name);

#define STRING_FIELD(key, out, dup) \
  if (json_object_has_member (o, key)) { \
    JsonNode *n = json_object_get_member (o, key); \
    if (!JSON_NODE_HOLDS_VALUE (n) || \
        json_node_get_value_type (n) != G_TYPE_STRING) { \
      s2r_set_error_field (error, S2R_ERROR_INVALID, key, \
          "field '%s' must be a string", key); \
      goto fail; \
    } \
    out = dup (json_node_get_string (n)); \
  }
  STRING_FIELD ("user", r->user, g_strdup);
  STRING_FIELD ("header", r->header, g_strdup);
  STRING_FIELD ("sipLogin", r->login, g_strdup);
  STRING_FIELD ("sipPassword", r->password, s2r_secret_dup);
  STRING_FIELD ("match", match, (const char *));
#undef STRING_FIELD

  if (!r->user && !r->header) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "user",
        "missing field 'user' (the request-URI user the route takes)");
    goto fail;
  }
  if (r->user && !token_is_safe (r->user, name != NULL)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "user",
        "field 'user': 1 to %d letters, digits, - _ . +%s",
        MAX_ROUTE_FIELD, name ? " (and * ? as a pattern)" : "");
    goto fail;
  }
  if (r->header && (!g_str_has_prefix (r->header, "X-") ||
          !token_is_safe (r->header, FALSE) || !match ||
          !token_is_safe (match, TRUE))) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "header",
        "field 'header' names an X- header and 'match' its value or "
        "pattern (letters, digits, - _ . + * ?)");
    goto fail;
  }
  if ((r->login == NULL) != (r->password == NULL) ||
      (r->login && (!token_is_safe (r->login, FALSE) || !*r->password ||
              strlen (r->password) > MAX_ROUTE_FIELD))) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, r->login ? "sipPassword" :
        "sipLogin", "fields 'sipLogin' (letters, digits, - _ . +) and "
        "'sipPassword' go together: the credentials callers must give");
    goto fail;
  }
  allow = json_object_get_member (o, "allow");
  if (allow && !JSON_NODE_HOLDS_NULL (allow)) {
    g_autoptr (GString) list = g_string_new (NULL);

    if (!JSON_NODE_HOLDS_ARRAY (allow)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "allow",
          "field 'allow' must be an array of networks (CIDR)");
      goto fail;
    }
    for (guint i = 0; i < json_array_get_length (json_node_get_array (allow));
        i++) {
      JsonNode *n = json_array_get_element (json_node_get_array (allow), i);

      if (!JSON_NODE_HOLDS_VALUE (n) ||
          json_node_get_value_type (n) != G_TYPE_STRING ||
          strchr (json_node_get_string (n), ',')) {
        s2r_set_error_field (error, S2R_ERROR_INVALID, "allow",
            "field 'allow' must be an array of networks (CIDR)");
        goto fail;
      }
      g_string_append_printf (list, "%s,", json_node_get_string (n));
    }
    if (!s2r_cidr_list_parse (list->str, &r->allow, error))
      goto fail;
  }
  if (r->user)
    r->user_pattern = g_pattern_spec_new (r->user);
  if (r->header)
    r->header_pattern = g_pattern_spec_new (match);

  r->body = json_node_copy (body);
  o = json_node_get_object (r->body);
  for (guint i = 0; route_fields[i]; i++)
    json_object_remove_member (o, route_fields[i]);
  /* the credentials are the route's, not the call's to send */
  json_object_remove_member (o, "sipLogin");
  json_object_remove_member (o, "sipPassword");

  sample_body = route_request (r, "test", "test");
  sample = s2r_call_request_new_from_json (sample_body, error);
  if (!sample)
    goto fail;
  return r;

fail:
  route_free (r);
  return NULL;
}

/* The call options a route's JSON shows as given (none a secret) */
static const char *const view_plain_fields[] = {
  "hasAudio", "hasVideo", "maxDuration", "rtpTimeout", "rtmpRetryBudget",
  "generateVideo", "record", "dtmf", "srtp", "visibleName", NULL
};

/* A URL as logs show it (scheme and host: no user:password@, no path, no
 * query, so no stream key and no token) */
static void
add_redacted_url (JsonBuilder * b, JsonNode * value)
{
  g_autofree char *red = NULL;

  if (JSON_NODE_HOLDS_VALUE (value) &&
      json_node_get_value_type (value) == G_TYPE_STRING)
    red = s2r_redact_url (json_node_get_string (value));
  json_builder_add_string_value (b, red ? red : S2R_SECRET_SHOWN);
}

/* One of destinations/rtmpUrls: a whole URL, or {rtmpUrl, rtmpStream},
 * or {url}, redacted */
static void
add_destination_view (JsonBuilder * b, JsonNode * d)
{
  static const char *const urls[] = { "rtmpUrl", "url", NULL };
  JsonObject *o;

  if (!JSON_NODE_HOLDS_OBJECT (d)) {
    add_redacted_url (b, d);
    return;
  }
  o = json_node_get_object (d);
  json_builder_begin_object (b);
  for (guint i = 0; urls[i]; i++)
    if (json_object_has_member (o, urls[i])) {
      json_builder_set_member_name (b, urls[i]);
      add_redacted_url (b, json_object_get_member (o, urls[i]));
    }
  if (json_object_has_member (o, "rtmpStream")) {
    json_builder_set_member_name (b, "rtmpStream");
    json_builder_add_string_value (b, S2R_SECRET_SHOWN);
  }
  json_builder_end_object (b);
}

/* A route's JSON view (POST/GET /api/v1/routes, and the cluster's: every
 * answer about a route is made here): its own fields, then the call's
 * from an allow-list, no credential and no stream key */
static void
route_to_json (const Route * r, JsonBuilder * b)
{
  JsonObjectIter it;
  const char *key;
  JsonNode *value;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, r->id);
  if (r->name) {
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, r->name);
  }
  if (r->user) {
    json_builder_set_member_name (b, "user");
    json_builder_add_string_value (b, r->user);
  }
  if (r->header) {
    json_builder_set_member_name (b, "header");
    json_builder_add_string_value (b, r->header);
  }
  json_builder_set_member_name (b, "authenticated");
  json_builder_add_boolean_value (b, r->login != NULL);
  if (r->login) {
    json_builder_set_member_name (b, "sipLogin");
    json_builder_add_string_value (b, r->login);
  }
  json_builder_set_member_name (b, "allow");
  if (r->allow) {
    json_builder_begin_array (b);
    for (guint i = 0; i < r->allow->len; i++) {
      g_autofree char *s =
          g_inet_address_mask_to_string (r->allow->pdata[i]);
      json_builder_add_string_value (b, s);
    }
    json_builder_end_array (b);
  } else {
    json_builder_add_null_value (b);
  }
  /* the call's fields from an allow-list: what a route's reader may see.
   * Anything else (appKey, sipHeaders, connection, ...) is left out; every
   * RTMP URL and callbackUrl is redacted, every stream (a key) is
   * S2R_SECRET_SHOWN */
  json_object_iter_init (&it, json_node_get_object (r->body));
  while (json_object_iter_next (&it, &key, &value)) {
    if (g_strv_contains (view_plain_fields, key)) {
      if (!JSON_NODE_HOLDS_VALUE (value))
        continue;
      json_builder_set_member_name (b, key);
      json_builder_add_value (b, json_node_copy (value));
    } else if (!strcmp (key, "rtmpUrl") || !strcmp (key, "callbackUrl")) {
      json_builder_set_member_name (b, key);
      add_redacted_url (b, value);
    } else if (!strcmp (key, "rtmpStream") || !strcmp (key, "appKey")) {
      json_builder_set_member_name (b, key);
      json_builder_add_string_value (b, S2R_SECRET_SHOWN);
    } else if ((!strcmp (key, "destinations") || !strcmp (key, "rtmpUrls"))
        && JSON_NODE_HOLDS_ARRAY (value)) {
      JsonArray *a = json_node_get_array (value);

      json_builder_set_member_name (b, key);
      json_builder_begin_array (b);
      for (guint i = 0; i < json_array_get_length (a); i++)
        add_destination_view (b, json_array_get_element (a, i));
      json_builder_end_array (b);
    }
  }
  json_builder_end_object (b);
}

static JsonNode *
route_json (const Route * r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  route_to_json (r, b);
  return json_builder_get_root (b);
}

/* An API route with @id (NULL: a new one of this node's) after the
 * others */
static JsonNode *
route_add (S2rRoutes * routes, const char *id, JsonNode * body,
    GError ** error)
{
  Route *r;

  if (routes->routes->len >= MAX_ROUTES) {
    s2r_set_error_field (error, S2R_ERROR_UNAVAILABLE, NULL,
        "the maximum of %d routes is reached", MAX_ROUTES);
    return NULL;
  }
  r = route_new (body, NULL, error);
  if (!r)
    return NULL;
  r->id = id ? g_strdup (id) : g_strdup_printf ("rt-%" G_GUINT64_FORMAT
      "-%08x", ++routes->next_id, g_random_int ());
  g_ptr_array_add (routes->routes, r);
  return route_json (r);
}

JsonNode *
s2r_routes_add (S2rRoutes * routes, JsonNode * body, GError ** error)
{
  return route_add (routes, NULL, body, error);
}

static Route *route_find (S2rRoutes * routes, const char *id,
    GError ** error);

/* issue 16, the cluster's hook (controller/cluster/s2r-cluster-routes.c):
 * an API route with the cluster's @id (kept in Redis), checked as
 * s2r_routes_add() checks it, added after the others; one with that id
 * already: kept as it is (a route never changes) */
JsonNode *
s2r_routes_put (S2rRoutes * routes, const char *id, JsonNode * body,
    GError ** error)
{
  Route *r = route_find (routes, id, NULL);

  return r ? route_json (r) : route_add (routes, id, body, error);
}

/* issue 16: the ids of the API's routes (not the config's rules) */
GStrv
s2r_routes_api_ids (S2rRoutes * routes)
{
  GStrvBuilder *b = g_strv_builder_new ();
  GStrv out;

  for (guint i = 0; i < routes->routes->len; i++) {
    Route *r = routes->routes->pdata[i];

    if (!r->name)
      g_strv_builder_add (b, r->id);
  }
  out = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return out;
}

static Route *
route_find (S2rRoutes * routes, const char *id, GError ** error)
{
  for (guint i = 0; i < routes->routes->len; i++) {
    Route *r = routes->routes->pdata[i];

    if (!g_strcmp0 (r->id, id))
      return r;
  }
  s2r_set_error_field (error, S2R_ERROR_NOT_FOUND, NULL, "no such route");
  return NULL;
}

JsonNode *
s2r_routes_get (S2rRoutes * routes, const char *id, GError ** error)
{
  Route *r = route_find (routes, id, error);

  return r ? route_json (r) : NULL;
}

JsonNode *
s2r_routes_list (S2rRoutes * routes)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "routes");
  json_builder_begin_array (b);
  for (guint i = 0; i < routes->routes->len; i++)
    route_to_json (routes->routes->pdata[i], b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
s2r_routes_remove (S2rRoutes * routes, const char *id, GError ** error)
{
  Route *r = route_find (routes, id, error);

  if (!r)
    return FALSE;
  if (r->name) {
    s2r_set_error_field (error, S2R_ERROR_CONFLICT, NULL,
        "route '%s' is a rule of the config file", r->name);
    return FALSE;
  }
  g_ptr_array_remove (routes->routes, r);
  return TRUE;
}

/* [route:NAME]: user= or header= + match=, allow=, sip-login=,
 * sip-password=, and the call request's fields by their JSON names
 * (rtmpUrl=, rtmpStream=, record=, maxDuration=...) */
static gboolean
load_rules (S2rRoutes * routes, const char *path, GError ** error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_auto (GStrv) groups = NULL;
  guint n_rules = 0;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return FALSE;
  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i]; i++) {
    g_autoptr (JsonObject) o = NULL;
    g_autoptr (JsonNode) body = NULL;
    g_auto (GStrv) keys = NULL;
    g_autoptr (GError) err = NULL;
    Route *r;

    if (!g_str_has_prefix (groups[i], "route:"))
      continue;
    o = json_object_new ();
    keys = g_key_file_get_keys (kf, groups[i], NULL, NULL);
    for (guint k = 0; keys && keys[k]; k++) {
      g_autofree char *v = g_key_file_get_string (kf, groups[i], keys[k],
          NULL);
      const char *name = !strcmp (keys[k], "sip-login") ? "sipLogin" :
          !strcmp (keys[k], "sip-password") ? "sipPassword" : keys[k];

      if (!v)
        continue;
      if (!strcmp (name, "allow")) {
        g_auto (GStrv) nets = g_strsplit (v, ",", -1);
        JsonArray *a = json_array_new ();

        for (guint n = 0; nets[n]; n++)
          if (*g_strstrip (nets[n]))
            json_array_add_string_element (a, nets[n]);
        json_object_set_array_member (o, name, a);
      } else if (!strcmp (name, "maxDuration") ||
          !strcmp (name, "rtpTimeout") || !strcmp (name, "rtmpRetryBudget")) {
        gint64 n;

        /* the whole value a number ("10x" is no 10); the range is the
         * call request's to check */
        if (!g_ascii_string_to_signed (g_strstrip (v), 10, G_MININT64,
                G_MAXINT64, &n, NULL)) {
          g_set_error (error, S2R_ERROR, S2R_ERROR_INVALID,
              "[%s] field '%s' must be a whole number of seconds",
              groups[i], name);
          return FALSE;
        }
        json_object_set_int_member (o, name, n);
      } else {
        json_object_set_string_member (o, name, v);
      }
    }
    body = json_node_init_object (json_node_alloc (), o);
    r = route_new (body, groups[i] + strlen ("route:"), &err);
    if (!r) {
      g_set_error (error, S2R_ERROR, S2R_ERROR_INVALID, "[%s] %s",
          groups[i], err->message);
      return FALSE;
    }
    r->id = g_strdup_printf ("config-%s", groups[i] + strlen ("route:"));
    g_ptr_array_insert (routes->routes, (gint) n_rules++, r);
  }
  return TRUE;
}

/* A table of @path's rules alone (none without a file), checked whole:
 * the daemon's at start-up, a reload's to replace them with */
S2rRoutes *
s2r_routes_new_from_file (const char *path, GError ** error)
{
  g_autoptr (S2rRoutes) routes = s2r_routes_new ();

  if (path && !load_rules (routes, path, error))
    return NULL;
  return g_steal_pointer (&routes);
}

/* A reload: @rules' rules (s2r_routes_new_from_file) take the place of
 * the config's, in their order; the API's routes stay, after them. The
 * calls up hold copies of what their route gave them. */
void
s2r_routes_replace_rules (S2rRoutes * routes, S2rRoutes * rules)
{
  guint n_rules = 0;

  for (guint i = routes->routes->len; i > 0; i--)
    if (((Route *) routes->routes->pdata[i - 1])->name)
      g_ptr_array_remove_index (routes->routes, i - 1);
  while (rules->routes->len) {
    Route *r = g_ptr_array_steal_index (rules->routes, 0);

    /* config rules go before the API's routes */
    g_ptr_array_insert (routes->routes, (gint) n_rules++, r);
  }
}

static const char *
header_value (const GstStructure * invite, const char *name)
{
  const GstStructure *h = NULL;
  const GValue *v = gst_structure_get_value (invite, "headers");

  if (v && G_VALUE_HOLDS (v, GST_TYPE_STRUCTURE))
    h = gst_value_get_structure (v);
  if (!h)
    return NULL;
  /* SIP header names are case-insensitive */
  for (gint i = 0; i < gst_structure_n_fields (h); i++) {
    const char *f = gst_structure_nth_field_name (h, i);

    if (!g_ascii_strcasecmp (f, name))
      return gst_structure_get_string (h, f);
  }
  return NULL;
}

/* Whether the route's @key (rtmpStream or rtmpUrl) has `placeholder` */
static gboolean
member_substitutes (const Route * r, const char *key, const char *placeholder)
{
  JsonNode *n = json_object_get_member (json_node_get_object (r->body), key);

  return n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_STRING &&
      strstr (json_node_get_string (n), placeholder);
}

/* Whether the route's rtmpStream or rtmpUrl has `placeholder` */
static gboolean
route_substitutes (const Route * r, const char *placeholder)
{
  return member_substitutes (r, "rtmpStream", placeholder) ||
      member_substitutes (r, "rtmpUrl", placeholder);
}

/* matched: the value of the route's header (header_matched), or the user */
static guint
route_match (const Route * r, const char *user, const char *matched,
    gboolean header_matched, const char *source, S2rRouteMatch * match)
{
  gboolean by_match = route_substitutes (r, "{match}");

  if (!s2r_cidr_list_allows (r->allow, source))
    return 403;
  match->route_id = g_strdup (r->id);
  match->request = route_request (r, user, matched);
  match->login = g_strdup (r->login);
  match->password = s2r_secret_dup (r->password);
  match->user_is_key = route_substitutes (r, "{user}") ||
      (by_match && !header_matched);
  match->key_header = by_match && header_matched ? g_strdup (r->header) :
      NULL;
  match->url_has_key = member_substitutes (r, "rtmpUrl", "{user}") ||
      member_substitutes (r, "rtmpUrl", "{match}");
  return 0;
}

/*
 * The route of an INVITE (a siplistener's sip-invite facts): 0 and *match
 * filled, or the SIP status to reject it with: 404 (no route), 403 (its
 * source is not on the route's list).
 */
guint
s2r_routes_resolve (S2rRoutes * routes, const GstStructure * invite,
    S2rRouteMatch * match)
{
  const char *user = gst_structure_get_string (invite, "request-user");
  const char *source = gst_structure_get_string (invite, "source-address");

  memset (match, 0, sizeof (*match));
  if (user && !token_is_safe (user, FALSE))
    user = NULL;                /* matches no route, goes into no stream */

  for (guint i = 0; i < routes->routes->len; i++) {
    Route *r = routes->routes->pdata[i];
    const char *matched = NULL;

    if (r->header) {
      const char *v = header_value (invite, r->header);

      if (v && token_is_safe (v, FALSE) &&
          g_pattern_spec_match_string (r->header_pattern, v))
        matched = v;
      if (!matched || (r->user && (!user ||
                  !g_pattern_spec_match_string (r->user_pattern, user))))
        continue;
    } else {
      if (!user || !(r->name ? g_pattern_spec_match_string (r->user_pattern,
                  user) : !strcmp (r->user, user)))
        continue;
      matched = user;
    }

    return route_match (r, user, matched, r->header != NULL, source, match);
  }
  return 404;
}

static Route *
rule_find (S2rRoutes * routes, const char *name)
{
  for (guint i = 0; i < routes->routes->len; i++) {
    Route *r = routes->routes->pdata[i];

    if (r->name && !strcmp (r->name, name))
      return r;
  }
  return NULL;
}

gboolean
s2r_routes_has_rule (S2rRoutes * routes, const char *name)
{
  return rule_find (routes, name) != NULL;
}

/* The config rule `name` for an INVITE whatever it matches (the routing
 * webhook's fallback): 0 and *match filled, 404 (no such rule) or 403 */
guint
s2r_routes_resolve_rule (S2rRoutes * routes, const char *name,
    const GstStructure * invite, S2rRouteMatch * match)
{
  const char *user = gst_structure_get_string (invite, "request-user");
  Route *r = rule_find (routes, name);

  memset (match, 0, sizeof (*match));
  if (user && !token_is_safe (user, FALSE))
    user = NULL;
  if (!r)
    return 404;
  return route_match (r, user, user, FALSE, gst_structure_get_string (invite,
          "source-address"), match);
}

void
s2r_route_match_clear (S2rRouteMatch * match)
{
  g_clear_pointer (&match->route_id, g_free);
  g_clear_pointer (&match->request, json_node_unref);
  g_clear_pointer (&match->login, g_free);
  g_clear_pointer (&match->password, s2r_secret_free);
  g_clear_pointer (&match->key_header, g_free);
  match->user_is_key = FALSE;
  match->url_has_key = FALSE;
}
