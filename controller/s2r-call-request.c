/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "s2r-call-request.h"
#include "s2r-sip-fields.h"
#include "s2r-error.h"
#include "s2r-secret.h"

#include <gio/gio.h>
#include <string.h>

#define MAX_FIELD_LENGTH 1024

struct _S2rCallRequest
{
  gint ref_count;
  /* issue 14: an incoming call's facts (s2r-sip-listen.c), or NULL */
  gpointer incoming;
  GDestroyNotify incoming_free;

  char *call_id;
  char *callee;
  char *sip_uri;
  char *from_uri;
  char *proxy;
  char *transport;
  char *sip_login;
  char *sip_password;
  char *sip_auth_name;
  char *sip_domain;
  guint sip_port;
  gboolean reg;
  char *visible_name;
  gboolean has_audio;
  gboolean has_video;
  /* S2rRtmpTarget, at least one; the first is rtmpUrl + rtmpStream */
  GPtrArray *targets;
  char *app_key;
  char *callback_url;
  /* seconds; -1: the config's default */
  gint max_duration;
  gint rtp_timeout;
  gint rtmp_retry_budget;
  /* -1: the config's default, else a generated video track when the call
   * has no video (0 or 1) */
  gint generate_video;
  /* a file name in the config's record dir, .mkv or .mp4 */
  char *record;
  /* digits sent once the call is answered (s2r-sip-fields.h) */
  char *dtmf;
  /* INVITE headers: name, value, name, value..., NULL */
  GStrv sip_headers;
  /* a NAT's public IP for this call (else the config's) */
  char *public_address;
  /* off, optional, mandatory; NULL: the config's default */
  char *srtp;
};

struct _S2rRtmpTarget
{
  char *url;
  char *stream;
  char *location;
  /* the URL holds a stream key too (an incoming call's route put the
   * request-URI user or a header's value in it): shown redacted */
  gboolean url_secret;
};

/* WCS 4 nests the SIP account in "connection"; WCS 5 and the native API are
 * flat. A field is looked up in "connection" first, then at the top. */
typedef struct
{
  JsonObject *top;
  JsonObject *connection;
} Fields;

static JsonNode *
fields_lookup (const Fields * f, const char *name, const char **path)
{
  JsonNode *node;

  if (f->connection && (node = json_object_get_member (f->connection, name))) {
    *path = "connection";
    return node;
  }
  *path = NULL;
  return json_object_get_member (f->top, name);
}

static char *
field_name (const char *path, const char *name)
{
  return path ? g_strdup_printf ("%s.%s", path, name) : g_strdup (name);
}

/* SIP and RTMP values end up in protocol headers: no control characters */
static gboolean
string_is_clean (const char *s)
{
  for (; *s; s++)
    if ((guchar) * s < 0x20 || *s == 0x7f)
      return FALSE;
  return TRUE;
}

static gboolean
get_string (const Fields * f, const char *name, gboolean required, char **out,
    GError ** error)
{
  const char *path;
  JsonNode *node = fields_lookup (f, name, &path);
  g_autofree char *field = field_name (path, name);
  g_autofree char *value = NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)) {
    if (required) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, field,
          "missing field '%s'", field);
      return FALSE;
    }
    return TRUE;
  }
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    value = g_strdup (json_node_get_string (node));
  else if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_INT64)
    /* phone numbers sent as JSON numbers */
    value = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  else {
    s2r_set_error_field (error, S2R_ERROR_INVALID, field,
        "field '%s' must be a string", field);
    return FALSE;
  }

  g_strstrip (value);
  if (!g_utf8_validate (value, -1, NULL) || !string_is_clean (value)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, field,
        "field '%s' contains control characters", field);
    return FALSE;
  }
  if (strlen (value) > MAX_FIELD_LENGTH) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, field,
        "field '%s' is too long", field);
    return FALSE;
  }
  if (*value == '\0') {
    if (required) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, field,
          "field '%s' must not be empty", field);
      return FALSE;
    }
    return TRUE;
  }
  *out = g_steal_pointer (&value);
  return TRUE;
}

/* true/false, or "true"/"false" as WCS sends them */
static gboolean
get_bool (const Fields * f, const char *name, gboolean * out, GError ** error)
{
  const char *path;
  JsonNode *node = fields_lookup (f, name, &path);
  g_autofree char *field = field_name (path, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node)) {
    GType type = json_node_get_value_type (node);

    if (type == G_TYPE_BOOLEAN) {
      *out = json_node_get_boolean (node);
      return TRUE;
    }
    if (type == G_TYPE_STRING) {
      const char *s = json_node_get_string (node);

      if (g_ascii_strcasecmp (s, "true") == 0) {
        *out = TRUE;
        return TRUE;
      }
      if (g_ascii_strcasecmp (s, "false") == 0) {
        *out = FALSE;
        return TRUE;
      }
    }
  }
  s2r_set_error_field (error, S2R_ERROR_INVALID, field,
      "field '%s' must be true or false", field);
  return FALSE;
}

/* A boolean whose absence means "the config's default": -1, 0 or 1 */
static gboolean
get_optional_bool (const Fields * f, const char *name, gint * out,
    GError ** error)
{
  const char *path;
  JsonNode *node = fields_lookup (f, name, &path);
  gboolean value = FALSE;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!get_bool (f, name, &value, error))
    return FALSE;
  *out = value ? 1 : 0;
  return TRUE;
}

/* 1-65535, as a number or a string of digits */
static gboolean
get_port (const Fields * f, const char *name, guint * out, GError ** error)
{
  const char *path;
  JsonNode *node = fields_lookup (f, name, &path);
  g_autofree char *field = field_name (path, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node)) {
    GType type = json_node_get_value_type (node);
    guint64 v;

    if (type == G_TYPE_INT64) {
      gint64 i = json_node_get_int (node);

      if (i >= 1 && i <= 65535) {
        *out = (guint) i;
        return TRUE;
      }
    } else if (type == G_TYPE_STRING) {
      const char *s = json_node_get_string (node);

      if (*s == '\0')
        return TRUE;
      if (g_ascii_string_to_unsigned (s, 10, 1, 65535, &v, NULL)) {
        *out = (guint) v;
        return TRUE;
      }
    }
  }
  s2r_set_error_field (error, S2R_ERROR_INVALID, field,
      "field '%s' must be a port number from 1 to 65535", field);
  return FALSE;
}

/* Whole seconds up to max, as a number or a string of digits */
static gboolean
get_seconds (const Fields * f, const char *name, guint max, gint * out,
    GError ** error)
{
  const char *path;
  JsonNode *node = fields_lookup (f, name, &path);
  g_autofree char *field = field_name (path, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node)) {
    GType type = json_node_get_value_type (node);
    guint64 v;

    if (type == G_TYPE_INT64) {
      gint64 i = json_node_get_int (node);

      if (i >= 0 && i <= max) {
        *out = (gint) i;
        return TRUE;
      }
    } else if (type == G_TYPE_STRING &&
        g_ascii_string_to_unsigned (json_node_get_string (node), 10, 0, max,
            &v, NULL)) {
      *out = (gint) v;
      return TRUE;
    }
  }
  s2r_set_error_field (error, S2R_ERROR_INVALID, field,
      "field '%s' must be a number of seconds from 0 to %u", field, max);
  return FALSE;
}

/* A name, never a path: the daemon writes it under its [record] dir */
gboolean
s2r_record_name_is_valid (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);

  /* longer names than a file system takes would fail only in the muxer */
  if (*name == '.' || strchr (name, '/') || strchr (name, '\\') ||
      strlen (name) > 255)
    return FALSE;
  return (g_str_has_suffix (lower, ".mkv") || g_str_has_suffix (lower, ".mp4"))
      && strlen (name) > 4;
}

gboolean
s2r_call_id_is_valid (const char *call_id)
{
  gsize len = strlen (call_id);

  if (len == 0 || len > 128)
    return FALSE;
  /* it is a path segment of /api/v1/calls/{id}: "." and ".." would be
   * resolved away there, and the call could never be addressed */
  if (strcmp (call_id, ".") == 0 || strcmp (call_id, "..") == 0)
    return FALSE;
  for (const char *p = call_id; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("-_.~", *p))
      return FALSE;
  return TRUE;
}

/* An IPv4 address or a host name (RFC 1123: labels of letters, digits and
 * inner hyphens, 1-63 each, 253 in all), as the resolver would take it:
 * `..`, `-a.b` or `1.2.3.999` are none and would only fail later, in the
 * SIP stack */
static gboolean
host_name_is_valid (const char *host)
{
  gsize len = strlen (host);
  const char *label = host;
  gboolean numeric = TRUE;

  if (len == 0 || len > 253)
    return FALSE;
  if (g_hostname_is_ip_address (host))
    return strchr (host, ':') == NULL;
  for (const char *c = host;; c++) {
    if (*c == '.' || *c == '\0') {
      gsize n = c - label;

      if (n == 0 || n > 63 || label[0] == '-' || c[-1] == '-')
        return FALSE;
      if (*c == '\0')
        break;
      label = c + 1;
      numeric = TRUE;
    } else if (g_ascii_isalpha (*c) || *c == '-')
      numeric = FALSE;
    else if (!g_ascii_isdigit (*c))
      return FALSE;
  }
  /* all digits in the last label: a malformed address, not a name */
  return !numeric;
}

static gboolean
is_user_char (char c)
{
  /* RFC 3261 user: unreserved / escaped / user-unreserved */
  return g_ascii_isalnum (c) || strchr ("-_.!~*'()&=+$,;?/%#", c) != NULL;
}

/* host, host:port, IPv4, IPv6, [IPv6]:port */
static gboolean
parse_host (const char *s, char **host, guint * port)
{
  g_autoptr (GInetAddress) v6 = NULL;
  const char *colon;
  guint64 p = 0;

  if (s[0] == '[') {
    const char *end = strchr (s, ']');
    g_autofree char *addr = NULL;

    if (end == NULL)
      return FALSE;
    addr = g_strndup (s + 1, end - s - 1);
    v6 = g_inet_address_new_from_string (addr);
    if (v6 == NULL)
      return FALSE;
    if (end[1] == ':' &&
        !g_ascii_string_to_unsigned (end + 2, 10, 1, 65535, &p, NULL))
      return FALSE;
    if (end[1] != ':' && end[1] != '\0')
      return FALSE;
    *host = g_strdup_printf ("[%s]", addr);
    *port = (guint) p;
    return TRUE;
  }

  if (strchr (s, ':') != strrchr (s, ':')) {
    v6 = g_inet_address_new_from_string (s);
    if (v6 == NULL)
      return FALSE;
    *host = g_strdup_printf ("[%s]", s);
    *port = 0;
    return TRUE;
  }

  colon = strchr (s, ':');
  if (colon && !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &p, NULL))
    return FALSE;
  *host = colon ? g_strndup (s, colon - s) : g_strdup (s);
  if (!host_name_is_valid (*host)) {
    g_clear_pointer (host, g_free);
    return FALSE;
  }
  *port = (guint) p;
  return TRUE;
}

/* sip:[user[:password]@]host[:port][;params][?headers], sips: too: the host
 * must be one parse_host() takes, the user (if any) not empty */
static gboolean
sip_uri_is_valid (const char *uri)
{
  const char *rest = uri + (g_ascii_strncasecmp (uri, "sips:", 5) == 0 ? 5 : 4);
  g_autofree char *hostport = NULL;
  g_autofree char *host = NULL;
  const char *at, *end;
  guint port = 0;

  /* a header value may hold '@': the host ends before '?' */
  end = strchr (rest, '?');
  hostport = end ? g_strndup (rest, end - rest) : g_strdup (rest);
  /* a user may hold ';' (user parameters): its '@' is the last one */
  at = strrchr (hostport, '@');
  if (at == hostport)
    return FALSE;
  rest = at ? at + 1 : hostport;
  end = strchr (rest, ';');
  if (end)
    hostport[end - hostport] = '\0';
  return parse_host (rest, &host, &port);
}

static gboolean
looks_like_host (const char *s)
{
  return strchr (s, '.') || strchr (s, ':') || s[0] == '['
      || g_ascii_strcasecmp (s, "localhost") == 0;
}

static char *
host_port (const char *host, guint port)
{
  return port ? g_strdup_printf ("%s:%u", host, port) : g_strdup (host);
}

/**
 * s2r_map_callee:
 * @callee: what the client wants called
 * @sip_domain: (nullable): the account's domain
 * @sip_port: the account's port, 0 if not given
 *
 * `sip:`/`sips:` URIs are used as they are; `user@host` gets `sip:`; a host
 * name or address (WCS calls the SIP domain itself) becomes `sip:host:port`;
 * a bare user or number becomes `sip:callee@domain:port`.
 *
 * Returns: the request URI, or %NULL with @error naming the field at fault
 */
char *
s2r_map_callee (const char *callee, const char *sip_domain, guint sip_port,
    GError ** error)
{
  g_autofree char *host = NULL;
  guint port = 0;

  if (callee == NULL || *callee == '\0') {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "callee",
        "missing field 'callee'");
    return NULL;
  }
  if (strpbrk (callee, " \t<>\"")) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "callee",
        "field 'callee' is not a SIP URI, user, number or host");
    return NULL;
  }

  if (g_ascii_strncasecmp (callee, "sip:", 4) == 0 ||
      g_ascii_strncasecmp (callee, "sips:", 5) == 0) {
    if (callee[g_ascii_strncasecmp (callee, "sip:", 4) == 0 ? 4 : 5] == '\0') {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "callee",
          "field 'callee' is an empty SIP URI");
      return NULL;
    }
    if (!sip_uri_is_valid (callee)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "callee",
          "field 'callee' has no valid host name or IP address");
      return NULL;
    }
    return g_strdup (callee);
  }

  if (strchr (callee, '@')) {
    const char *at = strchr (callee, '@');

    if (at == callee || !parse_host (at + 1, &host, &port)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "callee",
          "field 'callee' is not user@host");
      return NULL;
    }
    return g_strdup_printf ("sip:%s", callee);
  }

  if (looks_like_host (callee)) {
    if (!parse_host (callee, &host, &port)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "callee",
          "field 'callee' is not a valid host");
      return NULL;
    }
    return g_strdup_printf ("sip:%s:%u", host, port ? port :
        (sip_port ? sip_port : 5060));
  }

  for (const char *c = callee; *c; c++)
    if (!is_user_char (*c)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "callee",
          "field 'callee' is not a valid SIP user");
      return NULL;
    }
  if (sip_domain == NULL) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "sipDomain",
        "a callee without a host needs field 'sipDomain'");
    return NULL;
  }
  if (!parse_host (sip_domain, &host, &port)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "sipDomain",
        "field 'sipDomain' is not a valid host");
    return NULL;
  }
  {
    g_autofree char *hp = host_port (host, port ? port : sip_port);

    return g_strdup_printf ("sip:%s@%s", callee, hp);
  }
}

static char *
map_proxy (const char *proxy, GError ** error)
{
  g_autofree char *host = NULL;
  guint port = 0;
  g_auto (GStrv) parts = NULL;

  if (g_ascii_strncasecmp (proxy, "sip:", 4) == 0 ||
      g_ascii_strncasecmp (proxy, "sips:", 5) == 0) {
    if (!sip_uri_is_valid (proxy)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "sipOutboundProxy",
          "field 'sipOutboundProxy' has no valid host name or IP address");
      return NULL;
    }
    return g_strdup (proxy);
  }
  /* host[:port][;params] */
  parts = g_strsplit (proxy, ";", 2);
  if (!parse_host (parts[0], &host, &port)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "sipOutboundProxy",
        "field 'sipOutboundProxy' is not host[:port]");
    return NULL;
  }
  return g_strdup_printf ("sip:%s", proxy);
}

static gboolean
validate_rtmp_url (const char *url, const char *field, GError ** error)
{
  const char *rest;

  if (g_ascii_strncasecmp (url, "rtmp://", 7) == 0)
    rest = url + 7;
  else if (g_ascii_strncasecmp (url, "rtmps://", 8) == 0)
    rest = url + 8;
  else {
    s2r_set_error_field (error, S2R_ERROR_INVALID, field,
        "field '%s' must start with rtmp:// or rtmps://", field);
    return FALSE;
  }
  if (*rest == '\0' || *rest == '/' || strpbrk (url, " \t")) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, field,
        "field '%s' has no host", field);
    return FALSE;
  }
  return TRUE;
}

static gboolean
validate_http_url (const char *url, const char *field, GError ** error)
{
  if ((g_ascii_strncasecmp (url, "http://", 7) != 0 &&
          g_ascii_strncasecmp (url, "https://", 8) != 0) ||
      strpbrk (url, " \t")) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, field,
        "field '%s' must be an http:// or https:// URL", field);
    return FALSE;
  }
  return TRUE;
}

void
s2r_rtmp_target_free (S2rRtmpTarget * target)
{
  if (target == NULL)
    return;
  g_free (target->url);
  s2r_secret_free (target->stream);
  s2r_secret_free (target->location);
  g_free (target);
}

/* The last element of the published URL: one path element (no '/', not "."
 * or "..", which a server would take as another app or stream), then a
 * query string as some CDNs' keys have, where '/' may occur (base64) */
static gboolean
stream_name_is_valid (const char *stream)
{
  gsize name_len = strcspn (stream, "?");

  if (name_len == 0 || strpbrk (stream, " \t") || !string_is_clean (stream))
    return FALSE;
  if (memchr (stream, '/', name_len))
    return FALSE;
  return !((name_len == 1 && stream[0] == '.') ||
      (name_len == 2 && stream[0] == '.' && stream[1] == '.'));
}

/* Errors name `prefix.rtmpUrl` or the prefix itself for a whole URL */
static S2rRtmpTarget *
target_new (const char *url, const char *stream, const char *prefix,
    GError ** error)
{
  g_autoptr (S2rRtmpTarget) t = g_new0 (S2rRtmpTarget, 1);
  g_autofree char *url_field = prefix ?
      g_strdup_printf ("%s.rtmpUrl", prefix) : g_strdup ("rtmpUrl");
  g_autofree char *stream_field = prefix ?
      g_strdup_printf ("%s.rtmpStream", prefix) : g_strdup ("rtmpStream");

  if (!validate_rtmp_url (url, url_field, error))
    return NULL;
  if (!stream_name_is_valid (stream)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, stream_field,
        "field '%s' must be a stream name without spaces, control "
        "characters or '/' (a query string may follow)", stream_field);
    return NULL;
  }
  t->url = g_strdup (url);
  t->stream = s2r_secret_dup (stream);
  /* that exact name, no prefix */
  if (g_str_has_suffix (url, "/"))
    t->location = g_strconcat (url, stream, NULL);
  else
    t->location = g_strconcat (url, "/", stream, NULL);
  return g_steal_pointer (&t);
}

/* A whole URL: the stream name (key) is its last path element */
static S2rRtmpTarget *
target_new_from_location (const char *location, const char *field,
    GError ** error)
{
  const char *host = strstr (location, "://");
  const char *slash = host ? strrchr (host + 3, '/') : NULL;
  g_autofree char *url = NULL;
  g_autoptr (GError) err = NULL;
  S2rRtmpTarget *t;

  if (slash == NULL || strchr (host + 3, '/') == slash || slash[1] == '\0') {
    s2r_set_error_field (error, S2R_ERROR_INVALID, field,
        "field '%s' must be rtmp://host[:port]/app/stream (or rtmps://)",
        field);
    return NULL;
  }
  url = g_strndup (location, slash - location);
  t = target_new (url, slash + 1, field, &err);
  if (t == NULL)
    s2r_set_error_field (error, S2R_ERROR_INVALID, field, "field '%s': %s",
        field, err->message);
  return t;
}

static const char *
member_string (JsonObject * obj, const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);
  return NULL;
}

/**
 * s2r_rtmp_target_new_from_json:
 * @node: a whole URL (`"rtmp://host/app/stream"`), or an object with
 *   `rtmpUrl` and `rtmpStream`, or with `url` (a whole URL)
 * @field: (nullable): the field's name, for errors; %NULL for a whole body
 *
 * Returns: the destination, or %NULL with @error naming the field at fault
 */
S2rRtmpTarget *
s2r_rtmp_target_new_from_json (JsonNode * node, const char *field,
    GError ** error)
{
  if (node && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    return target_new_from_location (json_node_get_string (node), field, error);
  if (node && JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *obj = json_node_get_object (node);
    const char *url = member_string (obj, "rtmpUrl");
    const char *stream = member_string (obj, "rtmpStream");
    const char *whole = member_string (obj, "url");

    if (whole && !url && !stream) {
      g_autofree char *f = field ? g_strdup_printf ("%s.url", field) :
          g_strdup ("url");

      return target_new_from_location (whole, f, error);
    }
    if (url && stream)
      return target_new (url, stream, field, error);
    {
      const char *missing = url ? "rtmpStream" : "rtmpUrl";
      g_autofree char *f = field ? g_strdup_printf ("%s.%s", field,
          missing) : g_strdup (missing);

      s2r_set_error_field (error, S2R_ERROR_INVALID, f,
          "missing field '%s' (a destination is rtmpUrl and rtmpStream, "
          "or url)", f);
      return NULL;
    }
  }
  s2r_set_error_field (error, S2R_ERROR_INVALID, field,
      "field '%s' must be an RTMP URL or an object with rtmpUrl and "
      "rtmpStream", field);
  return NULL;
}

S2rRtmpTarget *
s2r_rtmp_target_copy (const S2rRtmpTarget * target)
{
  S2rRtmpTarget *t = g_new0 (S2rRtmpTarget, 1);

  t->url = g_strdup (target->url);
  t->url_secret = target->url_secret;
  t->stream = s2r_secret_dup (target->stream);
  t->location = s2r_secret_dup (target->location);
  return t;
}

const char *
s2r_rtmp_target_get_url (const S2rRtmpTarget * target)
{
  return target->url;
}

const char *
s2r_rtmp_target_get_stream (const S2rRtmpTarget * target)
{
  return target->stream;
}

/* What the API, events and webhooks show of the URL: as given, or
 * redacted when it holds a key (s2r_call_request_hide_first_url) */
char *
s2r_rtmp_target_dup_shown_url (const S2rRtmpTarget * target)
{
  return target->url_secret ? s2r_redact_url (target->url) :
      g_strdup (target->url);
}

const char *
s2r_rtmp_target_get_location (const S2rRtmpTarget * target)
{
  return target->location;
}

static gboolean
add_target (S2rCallRequest * req, S2rRtmpTarget * t, const char *field,
    GError ** error)
{
  for (guint i = 0; i < req->targets->len; i++)
    if (strcmp (s2r_rtmp_target_get_location (g_ptr_array_index (req->targets,
                    i)), t->location) == 0) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, field,
          "field '%s' repeats a destination of this call", field);
      s2r_rtmp_target_free (t);
      return FALSE;
    }
  g_ptr_array_add (req->targets, t);
  return TRUE;
}

/* rtmpUrl + rtmpStream first, then `destinations` and `rtmpUrls` (arrays of
 * whole URLs or of {rtmpUrl, rtmpStream} objects) */
static gboolean
get_targets (S2rCallRequest * req, const Fields * f, GError ** error)
{
  static const char *const arrays[] = { "destinations", "rtmpUrls" };
  g_autofree char *url = NULL;
  g_autoptr (S2rSecret) stream = NULL;

  if (!get_string (f, "rtmpUrl", FALSE, &url, error) ||
      !get_string (f, "rtmpStream", FALSE, &stream, error))
    return FALSE;
  if (url || stream) {
    S2rRtmpTarget *t;

    if (!url || !stream) {
      const char *missing = url ? "rtmpStream" : "rtmpUrl";

      s2r_set_error_field (error, S2R_ERROR_INVALID, missing,
          "missing field '%s'", missing);
      return FALSE;
    }
    t = target_new (url, stream, NULL, error);
    if (t == NULL || !add_target (req, t, "rtmpStream", error))
      return FALSE;
  }

  for (guint a = 0; a < G_N_ELEMENTS (arrays); a++) {
    JsonNode *node = json_object_get_member (f->top, arrays[a]);
    JsonArray *array;

    if (node == NULL || JSON_NODE_HOLDS_NULL (node))
      continue;
    if (!JSON_NODE_HOLDS_ARRAY (node)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, arrays[a],
          "field '%s' must be an array", arrays[a]);
      return FALSE;
    }
    array = json_node_get_array (node);
    if (json_array_get_length (array) > S2R_MAX_DESTINATIONS) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, arrays[a],
          "a call has at most %d destinations", S2R_MAX_DESTINATIONS);
      return FALSE;
    }
    for (guint i = 0; i < json_array_get_length (array); i++) {
      g_autofree char *field = g_strdup_printf ("%s[%u]", arrays[a], i);
      S2rRtmpTarget *t =
          s2r_rtmp_target_new_from_json (json_array_get_element (array, i),
          field, error);

      if (t == NULL || !add_target (req, t, field, error))
        return FALSE;
    }
  }

  if (req->targets->len == 0) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "rtmpUrl",
        "missing field 'rtmpUrl' (or 'destinations')");
    return FALSE;
  }
  if (req->targets->len > S2R_MAX_DESTINATIONS) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "destinations",
        "a call has at most %d destinations", S2R_MAX_DESTINATIONS);
    return FALSE;
  }
  return TRUE;
}

/* "sipHeaders": {"X-Room": "42", ...}, names and values as sipsrc takes
 * them (s2r-sip-fields.h) */
static gboolean
get_sip_headers (S2rCallRequest * req, const Fields * f, GError ** error)
{
  const char *path;
  JsonNode *node = fields_lookup (f, "sipHeaders", &path);
  g_autofree char *field = field_name (path, "sipHeaders");
  g_autoptr (GStrvBuilder) builder = NULL;
  JsonObject *obj;
  GList *members;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, field,
        "field '%s' must be an object of header names and string values",
        field);
    return FALSE;
  }
  obj = json_node_get_object (node);
  if (json_object_get_size (obj) > S2R_SIP_HEADERS_MAX) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, field,
        "field '%s' has more than %d headers", field, S2R_SIP_HEADERS_MAX);
    return FALSE;
  }
  builder = g_strv_builder_new ();
  members = json_object_get_members (obj);
  for (GList * l = members; l; l = l->next) {
    const char *name = l->data;
    JsonNode *value = json_object_get_member (obj, name);

    if (!s2r_sip_header_name_is_allowed (name)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, field,
          "field '%s': header '%s' cannot be set (X- headers and "
          "P-Asserted-Identity, P-Preferred-Identity, Remote-Party-ID, "
          "Privacy, Subject, Priority, Organization, Call-Info, Alert-Info, "
          "User-to-User, Diversion only)", field, name);
      g_list_free (members);
      return FALSE;
    }
    if (!JSON_NODE_HOLDS_VALUE (value) ||
        json_node_get_value_type (value) != G_TYPE_STRING ||
        !s2r_sip_header_value_is_valid (json_node_get_string (value))) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, field,
          "field '%s': header '%s' must be a string of 1 to %d characters "
          "on one line", field, name, S2R_SIP_HEADER_VALUE_MAX);
      g_list_free (members);
      return FALSE;
    }
    g_strv_builder_add (builder, name);
    g_strv_builder_add (builder, json_node_get_string (value));
  }
  g_list_free (members);
  req->sip_headers = g_strv_builder_end (builder);
  return TRUE;
}

static const char *const transports[] = { "udp", "tcp", "tls", NULL };
static const char *const srtp_modes[] = { "off", "optional", "mandatory",
  NULL
};

/* sipsrc's srtp values: off, optional, mandatory */
gboolean
s2r_srtp_mode_is_valid (const char *mode)
{
  return mode && g_strv_contains (srtp_modes, mode);
}

S2rCallRequest *
s2r_call_request_new_from_json (JsonNode * root, GError ** error)
{
  g_autoptr (S2rCallRequest) req = g_new0 (S2rCallRequest, 1);
  Fields f = { NULL, NULL };
  JsonNode *conn;

  req->ref_count = 1;
  req->has_audio = TRUE;
  req->has_video = FALSE;
  req->targets = g_ptr_array_new_with_free_func ((GDestroyNotify)
      s2r_rtmp_target_free);
  req->max_duration = -1;
  req->rtp_timeout = -1;
  req->rtmp_retry_budget = -1;
  req->generate_video = -1;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, NULL,
        "the body must be a JSON object");
    return NULL;
  }
  f.top = json_node_get_object (root);
  conn = json_object_get_member (f.top, "connection");
  if (conn && JSON_NODE_HOLDS_OBJECT (conn))
    f.connection = json_node_get_object (conn);
  else if (conn && !JSON_NODE_HOLDS_NULL (conn)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "connection",
        "field 'connection' must be an object");
    return NULL;
  }

  if (!get_string (&f, "callId", FALSE, &req->call_id, error) ||
      !get_string (&f, "callee", TRUE, &req->callee, error) ||
      !get_targets (req, &f, error) ||
      !get_bool (&f, "hasAudio", &req->has_audio, error) ||
      !get_bool (&f, "hasVideo", &req->has_video, error) ||
      !get_string (&f, "sipLogin", FALSE, &req->sip_login, error) ||
      !get_string (&f, "sipPassword", FALSE, &req->sip_password, error) ||
      !get_string (&f, "sipAuthenticationName", FALSE, &req->sip_auth_name,
          error) ||
      !get_string (&f, "sipDomain", FALSE, &req->sip_domain, error) ||
      !get_string (&f, "sipOutboundProxy", FALSE, &req->proxy, error) ||
      !get_port (&f, "sipPort", &req->sip_port, error) ||
      !get_string (&f, "sipTransport", FALSE, &req->transport, error) ||
      !get_bool (&f, "sipRegisterRequired", &req->reg, error) ||
      !get_string (&f, "appKey", FALSE, &req->app_key, error) ||
      !get_string (&f, "visibleName", FALSE, &req->visible_name, error) ||
      !get_string (&f, "callbackUrl", FALSE, &req->callback_url, error) ||
      !get_seconds (&f, "maxDuration", 7 * 86400, &req->max_duration, error)
      || !get_seconds (&f, "rtpTimeout", 3600, &req->rtp_timeout, error)
      || !get_seconds (&f, "rtmpRetryBudget", 86400, &req->rtmp_retry_budget,
          error)
      || !get_optional_bool (&f, "generateVideo", &req->generate_video, error)
      || !get_string (&f, "record", FALSE, &req->record, error)
      || !get_string (&f, "dtmf", FALSE, &req->dtmf, error)
      || !get_string (&f, "sipPublicAddress", FALSE, &req->public_address,
          error)
      || !get_sip_headers (req, &f, error)
      || !get_string (&f, "srtp", FALSE, &req->srtp, error))
    return NULL;

  if (req->public_address) {
    g_autoptr (GInetAddress) addr =
        g_inet_address_new_from_string (req->public_address);

    if (addr == NULL) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "sipPublicAddress",
          "field 'sipPublicAddress' must be an IP address");
      return NULL;
    }
  }
  if (req->dtmf && !s2r_dtmf_digits_are_valid (req->dtmf)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "dtmf",
        "field 'dtmf' must be 1 to %d of 0-9 * # A-D and w (a 0.5 s pause)",
        S2R_DTMF_MAX);
    return NULL;
  }

  if (req->call_id && !s2r_call_id_is_valid (req->call_id)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "callId",
        "field 'callId' must be 1-128 characters of A-Z a-z 0-9 - _ . ~");
    return NULL;
  }
  if (req->record && !s2r_record_name_is_valid (req->record)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "record",
        "field 'record' must be a file name ending in .mkv or .mp4, without "
        "'/' and not starting with '.'");
    return NULL;
  }
  if (req->callback_url
      && !validate_http_url (req->callback_url, "callbackUrl", error))
    return NULL;
  if (req->transport) {
    char *lower = g_ascii_strdown (req->transport, -1);

    g_free (req->transport);
    req->transport = lower;
    if (!g_strv_contains (transports, req->transport)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "sipTransport",
          "field 'sipTransport' must be udp, tcp or tls");
      return NULL;
    }
  }
  if (req->srtp) {
    char *lower = g_ascii_strdown (req->srtp, -1);

    g_free (req->srtp);
    req->srtp = lower;
    if (!s2r_srtp_mode_is_valid (req->srtp)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "srtp",
          "field 'srtp' must be off, optional or mandatory");
      return NULL;
    }
  }
  if (req->sip_password && !req->sip_login) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "sipLogin",
        "field 'sipPassword' needs field 'sipLogin'");
    return NULL;
  }
  if (req->reg && !req->sip_login) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "sipLogin",
        "field 'sipRegisterRequired' needs field 'sipLogin'");
    return NULL;
  }

  req->sip_uri = s2r_map_callee (req->callee, req->sip_domain, req->sip_port,
      error);
  if (req->sip_uri == NULL)
    return NULL;
  if (req->proxy) {
    char *proxy = map_proxy (req->proxy, error);

    if (proxy == NULL)
      return NULL;
    g_free (req->proxy);
    req->proxy = proxy;
  }
  if (req->sip_login && req->sip_domain) {
    g_autofree char *host = NULL;
    guint port = 0;

    if (!parse_host (req->sip_domain, &host, &port)) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "sipDomain",
          "field 'sipDomain' is not a valid host");
      return NULL;
    }
    req->from_uri = g_strdup_printf ("sip:%s@%s", req->sip_login, host);
  }

  return g_steal_pointer (&req);
}

S2rCallRequest *
s2r_call_request_ref (S2rCallRequest * req)
{
  g_atomic_int_inc (&req->ref_count);
  return req;
}

void
s2r_call_request_unref (S2rCallRequest * req)
{
  if (!g_atomic_int_dec_and_test (&req->ref_count))
    return;
  if (req->incoming_free)       /* issue 14 */
    req->incoming_free (req->incoming);
  g_free (req->call_id);
  g_free (req->callee);
  g_free (req->sip_uri);
  g_free (req->from_uri);
  g_free (req->proxy);
  g_free (req->transport);
  g_free (req->sip_login);
  s2r_secret_free (req->sip_password);
  g_free (req->sip_auth_name);
  g_free (req->sip_domain);
  g_free (req->visible_name);
  g_ptr_array_unref (req->targets);
  g_free (req->app_key);
  g_free (req->callback_url);
  g_free (req->record);
  g_free (req->dtmf);
  g_strfreev (req->sip_headers);
  g_free (req->public_address);
  g_free (req->srtp);
  g_free (req);
}

void
s2r_call_request_set_call_id (S2rCallRequest * req, const char *call_id)
{
  g_free (req->call_id);
  req->call_id = g_strdup (call_id);
}

/* For logs: no user:password@ and no stream key */
char *
s2r_redact_url (const char *url)
{
  const char *scheme_end = strstr (url, "://");
  const char *host, *at, *slash;

  if (scheme_end == NULL)
    return g_strdup ("(url)");
  host = scheme_end + 3;
  slash = strchr (host, '/');
  at = strchr (host, '@');
  if (at && (slash == NULL || at < slash))
    host = at + 1;
  return g_strdup_printf ("%.*s%.*s/...", (int) (scheme_end + 3 - url), url,
      (int) (slash ? slash - host : (gssize) strlen (host)), host);
}

/* The first destination, what WCS calls rtmpUrl and rtmpStream */
/* The first destination's URL holds a stream key (s2r-sip-listen.c: a
 * route made it from the call): shown redacted from now on */
void
s2r_call_request_hide_first_url (S2rCallRequest * req)
{
  ((S2rRtmpTarget *) g_ptr_array_index (req->targets, 0))->url_secret = TRUE;
}

const char *
s2r_call_request_get_rtmp_url (const S2rCallRequest * req)
{
  return s2r_rtmp_target_get_url (g_ptr_array_index (req->targets, 0));
}

const char *
s2r_call_request_get_rtmp_stream (const S2rCallRequest * req)
{
  return s2r_rtmp_target_get_stream (g_ptr_array_index (req->targets, 0));
}

const char *
s2r_call_request_get_rtmp_location (const S2rCallRequest * req)
{
  return s2r_rtmp_target_get_location (g_ptr_array_index (req->targets, 0));
}

guint
s2r_call_request_get_n_targets (const S2rCallRequest * req)
{
  return req->targets->len;
}

const S2rRtmpTarget *
s2r_call_request_get_target (const S2rCallRequest * req, guint i)
{
  g_return_val_if_fail (i < req->targets->len, NULL);
  return g_ptr_array_index (req->targets, i);
}

#define GETTER(type, name, field) \
  type s2r_call_request_get_##name (const S2rCallRequest * req) \
  { return req->field; }

GETTER (const char *, call_id, call_id)
GETTER (const char *, callee, callee)
GETTER (const char *, sip_uri, sip_uri)
GETTER (const char *, from_uri, from_uri)
GETTER (const char *, proxy, proxy)
GETTER (const char *, transport, transport)
GETTER (const char *, sip_login, sip_login)
GETTER (const char *, sip_password, sip_password)
GETTER (const char *, sip_auth_name, sip_auth_name)
GETTER (const char *, sip_domain, sip_domain)
GETTER (guint, sip_port, sip_port)
GETTER (gboolean, register, reg)
GETTER (const char *, visible_name, visible_name)
GETTER (gboolean, has_audio, has_audio)
GETTER (gboolean, has_video, has_video)
GETTER (gint, max_duration, max_duration)
GETTER (gint, rtp_timeout, rtp_timeout)
GETTER (gint, rtmp_retry_budget, rtmp_retry_budget)
GETTER (gint, generate_video, generate_video)
GETTER (const char *, app_key, app_key)
GETTER (const char *, callback_url, callback_url)
GETTER (const char *, record, record)
GETTER (const char *, dtmf, dtmf)
GETTER (const char *, public_address, public_address)
GETTER (const char *, srtp, srtp)

const char *const *
s2r_call_request_get_sip_headers (const S2rCallRequest * req)
{
  return (const char *const *) req->sip_headers;
}

/* issue 14: what s2r-sip-listen.c knows of an incoming call, for the
 * pipeline (sipsrc's answer mode) and the call's JSON */
void
s2r_call_request_set_incoming (S2rCallRequest * req, gpointer incoming,
    GDestroyNotify free_func)
{
  if (req->incoming_free)
    req->incoming_free (req->incoming);
  req->incoming = incoming;
  req->incoming_free = free_func;
}

gpointer
s2r_call_request_get_incoming (const S2rCallRequest * req)
{
  return req->incoming;
}
