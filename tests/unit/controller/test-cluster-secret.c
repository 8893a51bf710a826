/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The SIP passwords a cluster keeps in Redis (docs/cluster.md, Secrets):
 * sealed with AES-256-GCM under [cluster] secret-key, opened by a node with
 * the same key only, never when the sealed text was changed; left out when
 * there is no key.
 */
#include <string.h>

#include "s2r-cluster-private.h"

#define PASSWORD "sip-pw-not-in-redis"
#define SEALED_PREFIX "s2r-sealed:"

static S2rCluster *
cluster_with_key (const char *secret)
{
  S2rCluster *c = g_new0 (S2rCluster, 1);

  s2r_cluster_set_secret_key (c, secret);
  return c;
}

static JsonObject *
parse (const char *text, JsonParser * parser)
{
  g_assert_true (json_parser_load_from_data (parser, text, -1, NULL));
  return json_node_get_object (json_parser_get_root (parser));
}

/* the sealed sipPassword of a sealed body (top level or WCS 4's
 * connection) */
static char *
sealed_password (const char *body, gboolean in_connection)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj = parse (body, parser);

  if (in_connection)
    obj = json_object_get_object_member (obj, "connection");
  if (!json_object_has_member (obj, "sipPassword"))
    return NULL;
  return g_strdup (json_object_get_string_member (obj, "sipPassword"));
}

static void
test_round_trip (void)
{
  g_autofree S2rCluster *c = cluster_with_key ("the cluster's key");
  const char *body = "{\"callee\":\"sip:bob@example.org\",\"sipLogin\":"
      "\"alice\",\"sipPassword\":\"" PASSWORD "\",\"rtmpStream\":\"room\"}";
  g_autofree char *sealed = s2r_cluster_body_seal (c, body);
  g_autofree char *again = s2r_cluster_body_seal (c, body);
  g_autofree char *pw = sealed_password (sealed, FALSE);
  g_autofree char *opened = s2r_cluster_body_open (c, sealed);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj;

  g_assert_null (strstr (sealed, PASSWORD));
  g_assert_nonnull (pw);
  g_assert_true (g_str_has_prefix (pw, SEALED_PREFIX));
  /* a new nonce each time: the same password never seals the same */
  g_assert_cmpstr (sealed, !=, again);
  g_assert_nonnull (opened);
  obj = parse (opened, parser);
  g_assert_cmpstr (json_object_get_string_member (obj, "sipPassword"), ==,
      PASSWORD);
  /* the other fields untouched */
  g_assert_cmpstr (json_object_get_string_member (obj, "sipLogin"), ==,
      "alice");
  g_assert_cmpstr (json_object_get_string_member (obj, "rtmpStream"), ==,
      "room");
}

static void
test_wcs4_connection_round_trip (void)
{
  g_autofree S2rCluster *c = cluster_with_key ("k");
  const char *body = "{\"connection\":{\"sipLogin\":\"alice\","
      "\"sipPassword\":\"" PASSWORD "\"},\"toStream\":\"room\"}";
  g_autofree char *sealed = s2r_cluster_body_seal (c, body);
  g_autofree char *pw = sealed_password (sealed, TRUE);
  g_autofree char *opened = s2r_cluster_body_open (c, sealed);
  g_autofree char *clear = sealed_password (opened, TRUE);

  g_assert_null (strstr (sealed, PASSWORD));
  g_assert_true (g_str_has_prefix (pw, SEALED_PREFIX));
  g_assert_cmpstr (clear, ==, PASSWORD);
}

static void
test_wrong_key_does_not_open (void)
{
  g_autofree S2rCluster *a = cluster_with_key ("key of node a");
  g_autofree S2rCluster *b = cluster_with_key ("another key");
  g_autofree char *sealed = s2r_cluster_body_seal (a,
      "{\"sipPassword\":\"" PASSWORD "\"}");
  g_autofree char *opened = NULL;

  g_test_expect_message ("sip2rtmpd", G_LOG_LEVEL_WARNING,
      "*does not open with this node's secret-key*");
  opened = s2r_cluster_body_open (b, sealed);
  g_test_assert_expected_messages ();
  g_assert_null (opened);
}

/* every byte of nonce, ciphertext and tag changed in turn: none opens */
static void
test_tampered_ciphertext_does_not_open (void)
{
  g_autofree S2rCluster *c = cluster_with_key ("k");
  g_autofree char *sealed = s2r_cluster_body_seal (c,
      "{\"sipPassword\":\"" PASSWORD "\"}");
  g_autofree char *pw = sealed_password (sealed, FALSE);
  gsize len = 0;
  g_autofree guint8 *raw = g_base64_decode (pw + strlen (SEALED_PREFIX),
      &len);

  g_assert_cmpuint (len, ==, 12 + strlen (PASSWORD) + 16);
  for (gsize i = 0; i < len; i++) {
    g_autofree char *b64 = NULL;
    g_autofree char *body = NULL;
    g_autofree char *opened = NULL;

    raw[i] ^= 0x01;
    b64 = g_base64_encode (raw, len);
    raw[i] ^= 0x01;
    body = g_strdup_printf ("{\"sipPassword\":\"" SEALED_PREFIX "%s\"}", b64);
    g_test_expect_message ("sip2rtmpd", G_LOG_LEVEL_WARNING,
        "*does not open*");
    opened = s2r_cluster_body_open (c, body);
    g_test_assert_expected_messages ();
    g_assert_null (opened);
  }
  /* cut short: not even a tag */
  {
    g_autofree char *b64 = g_base64_encode (raw, 20);
    g_autofree char *body = g_strdup_printf ("{\"sipPassword\":\""
        SEALED_PREFIX "%s\"}", b64);
    g_autofree char *opened = NULL;

    g_test_expect_message ("sip2rtmpd", G_LOG_LEVEL_WARNING,
        "*does not open*");
    opened = s2r_cluster_body_open (c, body);
    g_test_assert_expected_messages ();
    g_assert_null (opened);
  }
}

static void
test_without_a_key_the_password_is_left_out (void)
{
  g_autofree S2rCluster *c = cluster_with_key (NULL);
  g_autofree S2rCluster *empty = cluster_with_key ("");
  const char *body = "{\"sipLogin\":\"alice\",\"sipPassword\":\"" PASSWORD
      "\",\"connection\":{\"sipPassword\":\"" PASSWORD "\"}}";
  g_autofree char *sealed = s2r_cluster_body_seal (c, body);
  g_autofree char *sealed2 = s2r_cluster_body_seal (empty, body);

  g_assert_null (strstr (sealed, PASSWORD));
  g_assert_null (strstr (sealed, "sipPassword"));
  g_assert_nonnull (strstr (sealed, "alice"));
  g_assert_cmpstr (sealed, ==, sealed2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cluster/secret/round-trip", test_round_trip);
  g_test_add_func ("/cluster/secret/wcs4-connection",
      test_wcs4_connection_round_trip);
  g_test_add_func ("/cluster/secret/wrong-key", test_wrong_key_does_not_open);
  g_test_add_func ("/cluster/secret/tampered",
      test_tampered_ciphertext_does_not_open);
  g_test_add_func ("/cluster/secret/no-key",
      test_without_a_key_the_password_is_left_out);
  return g_test_run ();
}
