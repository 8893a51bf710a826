/* sip2rtmp: SRTP for the tests and the bench, with libsrtp (the reference
 * implementation, not libre's: what sipsrc sends and takes is checked by
 * another implementation than its own)
 *
 *   srtp-tool MODE SUITE KEY
 *
 * MODE: protect, unprotect (RTP) or protect-rtcp, unprotect-rtcp (SRTCP,
 * an 80-bit tag with either suite, RFC 4568 6.2); SUITE:
 * AES_CM_128_HMAC_SHA1_80 or AES_CM_128_HMAC_SHA1_32; KEY: the base64
 * key and salt of an a=crypto line (40 characters).
 *
 * Reads datagrams on stdin, each a 2-byte big-endian length then its
 * bytes, and writes each result the same way; a datagram that fails to
 * unprotect (forged, replayed, not SRTP) comes out with length 0. One
 * context for the whole stream: packets in order, replays detected.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <srtp2/srtp.h>

#define MAX_DATAGRAM 4096

static gboolean
read_exact (guint8 * buf, gsize len)
{
  return len == 0 || fread (buf, 1, len, stdin) == len;
}

static void
write_datagram (const guint8 * buf, gsize len)
{
  guint8 hdr[2] = { (guint8) (len >> 8), (guint8) len };

  fwrite (hdr, 1, 2, stdout);
  fwrite (buf, 1, len, stdout);
}

int
main (int argc, char **argv)
{
  const gchar *mode, *suite;
  guchar *key;
  gsize key_len = 0;
  srtp_policy_t policy;
  srtp_t session;
  gboolean rtcp, protect, tag32;
  guint8 buf[MAX_DATAGRAM + SRTP_MAX_TRAILER_LEN];

  if (argc != 4) {
    fprintf (stderr, "usage: %s protect|unprotect|protect-rtcp|unprotect-rtcp"
        " SUITE KEY\n", argv[0]);
    return 2;
  }
  mode = argv[1];
  suite = argv[2];
  protect = g_str_has_prefix (mode, "protect");
  rtcp = g_str_has_suffix (mode, "-rtcp");
  tag32 = !strcmp (suite, "AES_CM_128_HMAC_SHA1_32");
  if (!tag32 && strcmp (suite, "AES_CM_128_HMAC_SHA1_80")) {
    fprintf (stderr, "unknown suite %s\n", suite);
    return 2;
  }
  key = g_base64_decode (argv[3], &key_len);
  if (key_len != SRTP_AES_ICM_128_KEY_LEN_WSALT) {
    fprintf (stderr, "the key is %zu bytes, not 30\n", key_len);
    return 2;
  }

  if (srtp_init () != srtp_err_status_ok)
    return 1;
  memset (&policy, 0, sizeof (policy));
  if (tag32)
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32 (&policy.rtp);
  else
    srtp_crypto_policy_set_rtp_default (&policy.rtp);
  srtp_crypto_policy_set_rtcp_default (&policy.rtcp);
  policy.ssrc.type = protect ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = key;
  policy.window_size = 128;
  if (srtp_create (&session, &policy) != srtp_err_status_ok)
    return 1;

  for (;;) {
    guint8 hdr[2];
    int len;
    srtp_err_status_t st;

    if (!read_exact (hdr, 2))
      break;
    len = hdr[0] << 8 | hdr[1];
    if (len > MAX_DATAGRAM || !read_exact (buf, len))
      return 1;
    if (protect)
      st = rtcp ? srtp_protect_rtcp (session, buf, &len) :
          srtp_protect (session, buf, &len);
    else
      st = rtcp ? srtp_unprotect_rtcp (session, buf, &len) :
          srtp_unprotect (session, buf, &len);
    write_datagram (buf, st == srtp_err_status_ok ? (gsize) len : 0);
  }

  fflush (stdout);
  srtp_dealloc (session);
  memset (key, 0, key_len);
  g_free (key);
  srtp_shutdown ();
  return 0;
}
