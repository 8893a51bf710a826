/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

/* The request bodies a cluster keeps in Redis (a call's, so that another
 * node can place it again; an API route's) hold secrets: SIP passwords,
 * RTMP stream keys (rtmpUrl, rtmpStream, destinations, rtmpUrls). The
 * whole body is sealed with AES-256-GCM under the SHA-256 of [cluster]
 * secret-key (which a cluster needs to start: s2r-cluster.c), never
 * stored without it. Bodies written by an older node (only their
 * `sipPassword` sealed) still open. */

#include "s2r-cluster-private.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#define SEALED_PREFIX "s2r-sealed:"
#define NONCE_LEN 12
#define TAG_LEN 16

static char *
seal (const guint8 * key, const char *clear)
{
  gsize len = strlen (clear);
  g_autofree guint8 *out = g_malloc (NONCE_LEN + len + TAG_LEN);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  int n = 0, fin = 0;
  gboolean ok;
  g_autofree char *b64 = NULL;

  ok = ctx && RAND_bytes (out, NONCE_LEN) == 1 &&
      EVP_EncryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, key, out) == 1 &&
      EVP_EncryptUpdate (ctx, out + NONCE_LEN, &n, (const guint8 *) clear,
      (int) len) == 1 &&
      EVP_EncryptFinal_ex (ctx, out + NONCE_LEN + n, &fin) == 1 &&
      EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
      out + NONCE_LEN + len) == 1;
  EVP_CIPHER_CTX_free (ctx);
  if (!ok)
    return NULL;
  b64 = g_base64_encode (out, NONCE_LEN + len + TAG_LEN);
  return g_strconcat (SEALED_PREFIX, b64, NULL);
}

static char *
open_sealed (const guint8 * key, const char *sealed)
{
  gsize len = 0;
  g_autofree guint8 *in = NULL;
  g_autofree char *clear = NULL;
  EVP_CIPHER_CTX *ctx;
  int n = 0, fin = 0;
  gboolean ok;

  if (!g_str_has_prefix (sealed, SEALED_PREFIX))
    return NULL;
  in = g_base64_decode (sealed + strlen (SEALED_PREFIX), &len);
  if (len < NONCE_LEN + TAG_LEN)
    return NULL;
  len -= NONCE_LEN + TAG_LEN;
  clear = g_malloc0 (len + 1);
  ctx = EVP_CIPHER_CTX_new ();
  ok = ctx && EVP_DecryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, key,
      in) == 1 &&
      EVP_DecryptUpdate (ctx, (guint8 *) clear, &n, in + NONCE_LEN,
      (int) len) == 1 &&
      EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
      in + NONCE_LEN + len) == 1 &&
      EVP_DecryptFinal_ex (ctx, (guint8 *) clear + n, &fin) == 1;
  EVP_CIPHER_CTX_free (ctx);
  if (!ok) {
    memset (clear, 0, len);
    return NULL;
  }
  return g_steal_pointer (&clear);
}

/* An older node's body: its sipPassword alone sealed; FALSE when that
 * does not open */
static gboolean
open_legacy_password (S2rCluster * c, JsonObject * obj)
{
  JsonNode *node = json_object_get_member (obj, "sipPassword");
  g_autofree char *out = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return TRUE;
  if (c->has_key)
    out = open_sealed (c->key, json_node_get_string (node));
  if (out == NULL)
    return FALSE;
  json_object_set_string_member (obj, "sipPassword", out);
  memset (out, 0, strlen (out));
  return TRUE;
}

static char *
open_legacy_body (S2rCluster * c, const char *body)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  JsonObject *obj, *conn;

  if (!json_parser_load_from_data (parser, body, -1, NULL) ||
      json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  obj = json_node_get_object (json_parser_get_root (parser));
  if (!open_legacy_password (c, obj))
    return NULL;
  if (json_object_has_member (obj, "connection") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (obj, "connection"))) {
    conn = json_object_get_object_member (obj, "connection");
    if (!open_legacy_password (c, conn))
      return NULL;
  }
  json_generator_set_root (gen, json_parser_get_root (parser));
  return json_generator_to_data (gen, NULL);
}

void
s2r_cluster_set_secret_key (S2rCluster * c, const char *secret)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize len = sizeof (c->key);

  memset (c->key, 0, sizeof (c->key));
  c->has_key = secret != NULL && *secret != '\0';
  if (c->has_key) {
    g_checksum_update (sum, (const guchar *) secret, strlen (secret));
    g_checksum_get_digest (sum, c->key, &len);
  }
}

/* "" (nothing to store) without a key or when it does not seal */
char *
s2r_cluster_body_seal (S2rCluster * c, const char *body)
{
  char *out = c->has_key ? seal (c->key, body) : NULL;

  return out ? out : g_strdup ("");
}

/* NULL when the key changed since it was sealed, or it was changed */
char *
s2r_cluster_body_open (S2rCluster * c, const char *sealed)
{
  char *out = NULL;

  if (g_str_has_prefix (sealed, SEALED_PREFIX))
    out = c->has_key ? open_sealed (c->key, sealed) : NULL;
  else if (*sealed == '{')
    /* an older node's: its sipPassword only sealed */
    out = open_legacy_body (c, sealed);

  if (out == NULL)
    g_warning ("cluster: a stored request body does not open with "
        "this node's secret-key");
  return out;
}
