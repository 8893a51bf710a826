/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "s2r-json.h"
#include "s2r-error.h"

/* The 4 hex digits of a \u escape, or -1 */
static gint
hex4 (const char *p, const char *end)
{
  gint v = 0;

  if (end - p < 4)
    return -1;
  for (guint i = 0; i < 4; i++) {
    gint d = g_ascii_xdigit_value (p[i]);

    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* One pass over the text before json-glib sees it: the nesting depth outside
 * strings, and the escapes json-glib accepts but mangles (\u0000 ends its C
 * string there: "sip:a@b\u0000..." read as "sip:a@b"; a lone surrogate
 * becomes invalid UTF-8). Syntax errors are left to the parser. */
static gboolean
prescan (const char *data, gsize len, GError ** error)
{
  const char *p = data, *end = data + len;
  guint depth = 0;
  gboolean in_string = FALSE;

  /* RFC 8259: JSON text exchanged between systems is UTF-8; what we read
   * ends up in SIP headers, logs and our own JSON */
  if (!g_utf8_validate_len (data, len, NULL)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, NULL,
        "invalid JSON: the body is not valid UTF-8");
    return FALSE;
  }
  for (; p < end; p++) {
    if (!in_string) {
      if (*p == '"')
        in_string = TRUE;
      else if (*p == '[' || *p == '{') {
        if (++depth > S2R_JSON_MAX_DEPTH) {
          s2r_set_error_field (error, S2R_ERROR_INVALID, NULL,
              "invalid JSON: arrays and objects nested deeper than %d",
              S2R_JSON_MAX_DEPTH);
          return FALSE;
        }
      } else if ((*p == ']' || *p == '}') && depth > 0)
        depth--;
      continue;
    }
    if (*p == '"')
      in_string = FALSE;
    else if (*p == '\\' && p + 1 < end) {
      gint u, low;

      p++;
      /* JSON has these escapes only; json-glib's scanner also takes C's
       * octal ones ("\200"), which make invalid UTF-8 of valid text */
      if (strchr ("\"\\/bfnrtu", *p) == NULL || *p == '\0') {
        s2r_set_error_field (error, S2R_ERROR_INVALID, NULL,
            "invalid JSON: a string holds the escape \\%c, which JSON "
            "does not have", g_ascii_isprint (*p) ? *p : '?');
        return FALSE;
      }
      if (*p != 'u')
        continue;
      u = hex4 (p + 1, end);
      if (u == 0) {
        s2r_set_error_field (error, S2R_ERROR_INVALID, NULL,
            "invalid JSON: a string holds \\u0000");
        return FALSE;
      }
      if (u >= 0xd800 && u <= 0xdbff) {
        /* a high surrogate must be followed by a low one */
        low = (end - p >= 11 && p[5] == '\\' && p[6] == 'u') ?
            hex4 (p + 7, end) : -1;
        if (low < 0xdc00 || low > 0xdfff)
          u = 0xdc00;
        else
          p += 6;
      }
      if (u >= 0xdc00 && u <= 0xdfff) {
        s2r_set_error_field (error, S2R_ERROR_INVALID, NULL,
            "invalid JSON: a string holds an unpaired surrogate \\u%.4s",
            p + 1);
        return FALSE;
      }
    }
  }
  return TRUE;
}

/**
 * s2r_json_parse_object:
 * @data: a request body, not NUL-terminated
 * @len: its length; the caller bounds it (max-body)
 *
 * Returns: (transfer full): the body's root, a JSON object, or %NULL with
 *   @error (400) saying what is wrong
 */
JsonNode *
s2r_json_parse_object (const char *data, gsize len, GError ** error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) err = NULL;
  JsonNode *root;

  if (len == 0) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, NULL,
        "invalid JSON: empty body");
    return NULL;
  }
  if (!prescan (data, len, error))
    return NULL;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, len, &err)) {
    /* json-glib quotes the offending token, which may be invalid UTF-8
     * ("\200" is an octal escape to its scanner): the client reads it in
     * a JSON body */
    g_autofree char *message = g_utf8_make_valid (err->message, -1);

    s2r_set_error_field (error, S2R_ERROR_INVALID, NULL, "invalid JSON: %s",
        message);
    return NULL;
  }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, NULL,
        "the body must be a JSON object");
    return NULL;
  }
  return json_node_copy (root);
}

/**
 * s2r_json_parse_body:
 * @max_body: the most bytes a body may have (the config's max-body)
 *
 * A request's body as the API takes it: at most @max_body bytes (413),
 * then a JSON object of bounded depth (400), as s2r_json_parse_object().
 */
JsonNode *
s2r_json_parse_body (const char *data, gsize len, gsize max_body,
    GError ** error)
{
  if (len > max_body) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_TOO_LARGE,
        "the body is larger than %" G_GSIZE_FORMAT " bytes", max_body);
    return NULL;
  }
  return s2r_json_parse_object (data, len, error);
}
