/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A request body before it becomes a request: what is refused before
 * json-glib parses it, and the 400 it gets.
 */
#include <string.h>

#include "s2r-error.h"
#include "s2r-json.h"

static void
assert_refused (const char *data, gsize len, const char *message_part)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = s2r_json_parse_object (data, len, &err);

  g_assert_null (root);
  g_assert_error (err, S2R_ERROR, S2R_ERROR_INVALID);
  g_assert_cmpuint (s2r_error_to_http_status (err), ==, 400);
  g_assert_null (s2r_error_get_field (err));
  g_assert_nonnull (strstr (err->message, message_part));
}

/* {"a":[[[...1...]]]} with depth levels in all */
static char *
nested (guint depth)
{
  GString *s = g_string_new ("{\"a\":");

  for (guint i = 1; i < depth; i++)
    g_string_append_c (s, '[');
  g_string_append_c (s, '1');
  for (guint i = 1; i < depth; i++)
    g_string_append_c (s, ']');
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

static void
test_nesting_deeper_than_the_bound_is_refused_before_parsing (void)
{
  g_autofree char *at_bound = nested (S2R_JSON_MAX_DEPTH);
  g_autofree char *over = nested (S2R_JSON_MAX_DEPTH + 1);
  g_autofree char *huge = nested (100000);
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root =
      s2r_json_parse_object (at_bound, strlen (at_bound), &err);

  g_assert_no_error (err);
  g_assert_nonnull (root);
  assert_refused (over, strlen (over), "nested deeper than 32");
  /* the body that overflowed json-glib's recursion: refused, not parsed */
  assert_refused (huge, strlen (huge), "nested deeper than 32");
  assert_refused ("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 33,
      "nested deeper than 32");
}

static void
test_brackets_inside_strings_do_not_count (void)
{
  g_autofree char *brackets = g_strnfill (1000, '[');
  g_autofree char *json = g_strdup_printf ("{\"a\":\"%s\\\"%s\"}", brackets,
      brackets);
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = s2r_json_parse_object (json, strlen (json), &err);

  g_assert_no_error (err);
  g_assert_cmpuint (strlen (json_object_get_string_member
          (json_node_get_object (root), "a")), ==, 2001);
}

static void
test_nul_and_unpaired_surrogates_are_refused (void)
{
  static const char raw_nul[] = "{\"callee\":\"a\0b\"}";
  g_autoptr (GError) err = NULL;
  /* a pair is one character */
  g_autoptr (JsonNode) pair =
      s2r_json_parse_object ("{\"a\":\"\\ud83d\\ude00\"}", 20, &err);

  g_assert_no_error (err);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object
          (pair), "a"), ==, "\xf0\x9f\x98\x80");
  /* json-glib would cut the string at \u0000 and take "sip:a@b" */
  assert_refused ("{\"callee\":\"sip:a@b\\u0000x\"}", 27, "\\u0000");
  assert_refused ("{\"a\\u0000\":1}", 13, "\\u0000");
  assert_refused ("{\"a\":\"\\ud800\"}", 14, "unpaired surrogate");
  assert_refused ("{\"a\":\"\\udc00x\"}", 15, "unpaired surrogate");
  assert_refused ("{\"a\":\"\\ud800\\u0041\"}", 20, "unpaired surrogate");
  assert_refused (raw_nul, sizeof raw_nul - 1, "invalid JSON");
  assert_refused ("{\"a\":\"\xff\"}", 9, "not valid UTF-8");
}

/* json-glib's scanner reads C's octal escapes in strings: "\200" would be
 * the byte 0x80, a value that is not UTF-8 in a body that is */
static void
test_escapes_json_does_not_have_are_refused (void)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (JsonNode) root = NULL;

  assert_refused ("{\"callId\":\"\\200\"}", 17, "escape \\2");
  assert_refused ("{\"callId\":\"a\\x41\"}", 18, "escape \\x");
  assert_refused ("{\"callId\":\"a\\'\"}", 16, "escape \\'");
  /* every escape JSON has still reads */
  root = s2r_json_parse_object ("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\"}",
      30, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object
          (root), "a"), ==, "\"\\/\b\f\n\r\tA");
}

static void
test_body_must_be_a_non_empty_object (void)
{
  assert_refused ("", 0, "empty body");
  assert_refused ("[1,2]", 5, "must be a JSON object");
  assert_refused ("{\"a\":", 5, "invalid JSON");
}

/* json-glib's error quotes the token it stopped at: bytes of the body, or
 * what its scanner made of an octal escape ("\200" is the byte 0x80); the
 * 400's message is read in a JSON body, so it must stay UTF-8 */
static void
test_a_parse_error_quoting_bytes_not_utf8_is_a_utf8_message (void)
{
  static const char *const bodies[] = {
    "{\"callId\":\"\\200\"x}",
    "{\"callId\":\"\x80\xff\"x}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++) {
    g_autoptr (GError) err = NULL;
    g_autoptr (JsonNode) root = s2r_json_parse_object (bodies[i],
        strlen (bodies[i]), &err);

    g_assert_null (root);
    g_assert_error (err, S2R_ERROR, S2R_ERROR_INVALID);
    g_assert_true (g_str_has_prefix (err->message, "invalid JSON: "));
    g_assert_true (g_utf8_validate (err->message, -1, NULL));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/json/nesting-deeper-than-the-bound-is-refused-before-"
      "parsing", test_nesting_deeper_than_the_bound_is_refused_before_parsing);
  g_test_add_func ("/json/brackets-inside-strings-do-not-count",
      test_brackets_inside_strings_do_not_count);
  g_test_add_func ("/json/nul-and-unpaired-surrogates-are-refused",
      test_nul_and_unpaired_surrogates_are_refused);
  g_test_add_func ("/json/escapes-json-does-not-have-are-refused",
      test_escapes_json_does_not_have_are_refused);
  g_test_add_func ("/json/body-must-be-a-non-empty-object",
      test_body_must_be_a_non_empty_object);
  g_test_add_func ("/json/a-parse-error-quoting-bytes-not-utf8-is-a-utf8-"
      "message", test_a_parse_error_quoting_bytes_not_utf8_is_a_utf8_message);
  return g_test_run ();
}
