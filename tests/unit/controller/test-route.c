/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The API's route table: which path is which route, what it captures, and
 * which methods a route's Allow header lets through.
 */
#include "s2r-route.h"

#define CALL_DEST "/api/v1/calls/{callId}/destinations/{destId}"

static void
test_a_literal_pattern_matches_only_its_own_path (void)
{
  g_auto (GStrv) params = NULL;

  g_assert_true (s2r_route_match ("/api/v1/calls", "/api/v1/calls", &params));
  g_assert_cmpuint (g_strv_length (params), ==, 0);
  g_assert_false (s2r_route_match ("/api/v1/calls", "/api/v1/call", NULL));
  g_assert_false (s2r_route_match ("/api/v1/calls", "/api/v1/calls/x", NULL));
  g_assert_false (s2r_route_match ("/api/v1/calls", "/api/v1/callsx", NULL));
  g_assert_false (s2r_route_match ("/rest-api/call/find",
          "/rest-api/call/find_all", NULL));
}

static void
test_segments_in_braces_are_captured_in_order (void)
{
  g_auto (GStrv) params = NULL;

  g_assert_true (s2r_route_match (CALL_DEST,
          "/api/v1/calls/abc/destinations/2", &params));
  g_assert_cmpuint (g_strv_length (params), ==, 2);
  g_assert_cmpstr (params[0], ==, "abc");
  g_assert_cmpstr (params[1], ==, "2");
}

/* The handler checks what a segment holds (a call id's characters): the
 * route only says where it is */
static void
test_a_capture_is_one_non_empty_segment (void)
{
  g_auto (GStrv) params = NULL;

  g_assert_false (s2r_route_match (CALL_DEST,
          "/api/v1/calls/abc/destinations/", NULL));
  g_assert_false (s2r_route_match ("/api/v1/calls/{callId}",
          "/api/v1/calls/a/b", NULL));
  g_assert_false (s2r_route_match ("/api/v1/calls/{callId}/dtmf",
          "/api/v1/calls//dtmf", NULL));
  g_assert_true (s2r_route_match ("/api/v1/calls/{callId}",
          "/api/v1/calls/a\r\nb", &params));
  g_assert_cmpstr (params[0], ==, "a\r\nb");
}

static void
test_the_allow_list_names_the_methods_taken (void)
{
  g_assert_true (s2r_route_allows ("GET, POST", "GET"));
  g_assert_true (s2r_route_allows ("GET, POST", "POST"));
  g_assert_false (s2r_route_allows ("GET, POST", "DELETE"));
  g_assert_false (s2r_route_allows ("GET, POST", "get"));
  g_assert_false (s2r_route_allows ("POST", "POS"));
  g_assert_true (s2r_route_allows ("GET, HEAD", "HEAD"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/route/a-literal-pattern-matches-only-its-own-path",
      test_a_literal_pattern_matches_only_its_own_path);
  g_test_add_func ("/route/segments-in-braces-are-captured-in-order",
      test_segments_in_braces_are_captured_in_order);
  g_test_add_func ("/route/a-capture-is-one-non-empty-segment",
      test_a_capture_is_one_non_empty_segment);
  g_test_add_func ("/route/the-allow-list-names-the-methods-taken",
      test_the_allow_list_names_the_methods_taken);
  return g_test_run ();
}
