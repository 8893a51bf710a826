/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The request bodies a cluster keeps in Redis (docs/cluster.md, Secrets):
 * sealed whole (SIP passwords, RTMP stream keys) with AES-256-GCM under
 * [cluster] secret-key, opened by a node with the same key only, never
 * when the sealed text was changed; not stored without a key. An older
 * node's body (its sipPassword alone sealed) still opens.
 */
#include <string.h>

#include "s2r-cluster-private.h"

#define PASSWORD "sip-pw-not-in-redis"
#define STREAM "stream-key-not-in-redis"
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

/* what a node of the previous version stored: its sipPassword sealed
 * (the same AES-256-GCM as a whole body now) */
static char *
legacy_body (S2rCluster * c, const char *clear_password, const char *rest)
{
  g_autofree char *sealed = s2r_cluster_body_seal (c, clear_password);

  return g_strdup_printf ("{\"sipPassword\":\"%s\"%s}", sealed, rest);
}

static void
test_round_trip (void)
{
  g_autofree S2rCluster *c = cluster_with_key ("the cluster's key");
  const char *body = "{\"callee\":\"sip:bob@example.org\",\"sipLogin\":"
      "\"alice\",\"sipPassword\":\"" PASSWORD "\",\"rtmpUrl\":"
      "\"rtmp://example.org/live\",\"rtmpStream\":\"" STREAM "\","
      "\"destinations\":[{\"rtmpUrl\":\"rtmp://x/" STREAM "2\"}]}";
  g_autofree char *sealed = s2r_cluster_body_seal (c, body);
  g_autofree char *again = s2r_cluster_body_seal (c, body);
  g_autofree char *opened = s2r_cluster_body_open (c, sealed);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj;

  /* sealed whole: no secret, no field name, no JSON */
  g_assert_true (g_str_has_prefix (sealed, SEALED_PREFIX));
  g_assert_null (strstr (sealed, PASSWORD));
  g_assert_null (strstr (sealed, STREAM));
  g_assert_null (strstr (sealed, "rtmp"));
  g_assert_null (strstr (sealed, "alice"));
  /* a new nonce each time: the same body never seals the same */
  g_assert_cmpstr (sealed, !=, again);
  g_assert_cmpstr (opened, ==, body);
  obj = parse (opened, parser);
  g_assert_cmpstr (json_object_get_string_member (obj, "sipPassword"), ==,
      PASSWORD);
  g_assert_cmpstr (json_object_get_string_member (obj, "rtmpStream"), ==,
      STREAM);
}

static void
test_legacy_body_opens (void)
{
  g_autofree S2rCluster *c = cluster_with_key ("k");
  g_autofree char *top = legacy_body (c, PASSWORD, ",\"sipLogin\":\"alice\"");
  g_autofree char *inner = s2r_cluster_body_seal (c, PASSWORD);
  g_autofree char *wcs4 = g_strdup_printf ("{\"connection\":{\"sipPassword\""
      ":\"%s\"},\"toStream\":\"room\"}", inner);
  g_autofree char *opened = s2r_cluster_body_open (c, top);
  g_autofree char *opened4 = s2r_cluster_body_open (c, wcs4);
  g_autofree char *pw4 = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj = parse (opened, parser);

  g_assert_cmpstr (json_object_get_string_member (obj, "sipPassword"), ==,
      PASSWORD);
  g_assert_cmpstr (json_object_get_string_member (obj, "sipLogin"), ==,
      "alice");
  pw4 = sealed_password (opened4, TRUE);
  g_assert_cmpstr (pw4, ==, PASSWORD);
}

static void
test_wrong_key_does_not_open (void)
{
  g_autofree S2rCluster *a = cluster_with_key ("key of node a");
  g_autofree S2rCluster *b = cluster_with_key ("another key");
  g_autofree char *sealed = s2r_cluster_body_seal (a,
      "{\"sipPassword\":\"" PASSWORD "\"}");
  g_autofree char *legacy = legacy_body (a, PASSWORD, "");
  g_autofree char *opened = NULL;
  g_autofree char *opened2 = NULL;

  g_test_expect_message ("sip2rtmpd", G_LOG_LEVEL_WARNING,
      "*does not open with this node's secret-key*");
  opened = s2r_cluster_body_open (b, sealed);
  g_test_assert_expected_messages ();
  g_assert_null (opened);
  g_test_expect_message ("sip2rtmpd", G_LOG_LEVEL_WARNING,
      "*does not open with this node's secret-key*");
  opened2 = s2r_cluster_body_open (b, legacy);
  g_test_assert_expected_messages ();
  g_assert_null (opened2);
}

/* every byte of nonce, ciphertext and tag changed in turn: none opens */
static void
test_tampered_ciphertext_does_not_open (void)
{
  g_autofree S2rCluster *c = cluster_with_key ("k");
  const char *body = "{\"sipPassword\":\"" PASSWORD "\"}";
  g_autofree char *sealed = s2r_cluster_body_seal (c, body);
  gsize len = 0;
  g_autofree guint8 *raw = g_base64_decode (sealed + strlen (SEALED_PREFIX),
      &len);

  g_assert_cmpuint (len, ==, 12 + strlen (body) + 16);
  for (gsize i = 0; i < len; i++) {
    g_autofree char *b64 = NULL;
    g_autofree char *changed = NULL;
    g_autofree char *opened = NULL;

    raw[i] ^= 0x01;
    b64 = g_base64_encode (raw, len);
    raw[i] ^= 0x01;
    changed = g_strconcat (SEALED_PREFIX, b64, NULL);
    g_test_expect_message ("sip2rtmpd", G_LOG_LEVEL_WARNING,
        "*does not open*");
    opened = s2r_cluster_body_open (c, changed);
    g_test_assert_expected_messages ();
    g_assert_null (opened);
  }
  /* cut short: not even a tag */
  {
    g_autofree char *b64 = g_base64_encode (raw, 20);
    g_autofree char *changed = g_strconcat (SEALED_PREFIX, b64, NULL);
    g_autofree char *opened = NULL;

    g_test_expect_message ("sip2rtmpd", G_LOG_LEVEL_WARNING,
        "*does not open*");
    opened = s2r_cluster_body_open (c, changed);
    g_test_assert_expected_messages ();
    g_assert_null (opened);
  }
}

/* (a cluster does not start without one: s2r-cluster.c) */
static void
test_without_a_key_nothing_is_stored (void)
{
  g_autofree S2rCluster *c = cluster_with_key (NULL);
  g_autofree S2rCluster *empty = cluster_with_key ("");
  const char *body = "{\"sipLogin\":\"alice\",\"sipPassword\":\"" PASSWORD
      "\",\"rtmpStream\":\"" STREAM "\"}";
  g_autofree char *sealed = s2r_cluster_body_seal (c, body);
  g_autofree char *sealed2 = s2r_cluster_body_seal (empty, body);

  g_assert_cmpstr (sealed, ==, "");
  g_assert_cmpstr (sealed2, ==, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cluster/secret/round-trip", test_round_trip);
  g_test_add_func ("/cluster/secret/legacy-body",
      test_legacy_body_opens);
  g_test_add_func ("/cluster/secret/wrong-key", test_wrong_key_does_not_open);
  g_test_add_func ("/cluster/secret/tampered",
      test_tampered_ciphertext_does_not_open);
  g_test_add_func ("/cluster/secret/no-key",
      test_without_a_key_nothing_is_stored);
  return g_test_run ();
}
