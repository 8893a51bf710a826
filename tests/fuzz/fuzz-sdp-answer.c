/* sip2rtmp: libFuzzer target, the SDP a callee answers (or offers)
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the SIP thread does with the body of a 183/200 (sipua_call.c's
 * answer_decode: libre's sdp_decode, then answer_read) and of a re-INVITE
 * (offer_handler: sdp_decode as an offer, answer_read, our answer encoded),
 * each against a fresh offer of every codec, audio sendrecv and video, with
 * srtp off, optional and mandatory (the a=crypto lines read, SDES). An
 * accepted stream must describe what sipsrc builds caps and sockets from.
 */

#include <errno.h>
#include <string.h>
#include <re.h>
#include "fuzz-glib.h"
#include "sipua.h"
#include "runtime.h"
#include "../codecs.h"
#include "sipua_int.h"

/* sipua.c's, without a handler: the format and its arguments are still
 * read */
void
runtime_log (int level, const char *fmt, ...)
{
  char buf[512];
  va_list ap;

  va_start (ap, fmt);
  (void) re_vsnprintf (buf, sizeof (buf), fmt, ap);
  va_end (ap);
}

static const struct sipua_call_params params = {
  .request_uri = "sip:1000@127.0.0.1",
  .from_uri = "sip:alice@127.0.0.1",
  .local_address = "127.0.0.1",
  .media = {
        {SIPUA_DIR_SENDRECV, 10000, 10001, "PCMU,PCMA,G722,opus"},
        {SIPUA_DIR_RECVONLY, 10002, 10003, "H264,VP8"},
      },
};

static void
check_streams (const struct sipua_stream_info *infov,
    enum sipua_srtp_mode mode)
{
  for (int i = 0; i < SIPUA_MEDIA_COUNT; i++) {
    const struct sipua_stream_info *si = &infov[i];

    g_assert_true (si->dtmf_payload >= -1 && si->dtmf_payload <= 127);
    if (!si->accepted)
      continue;
    /* SRTP as asked: none when off, a suite of ours when mandatory */
    g_assert_true (si->srtp_suite == SIPUA_SRTP_NONE ||
        si->srtp_suite == SIPUA_SRTP_AES_CM_128_HMAC_SHA1_80 ||
        si->srtp_suite == SIPUA_SRTP_AES_CM_128_HMAC_SHA1_32);
    if (mode == SIPUA_SRTP_OFF)
      g_assert_cmpint (si->srtp_suite, ==, SIPUA_SRTP_NONE);
    if (mode == SIPUA_SRTP_MANDATORY)
      g_assert_cmpint (si->srtp_suite, !=, SIPUA_SRTP_NONE);
    /* caps: payload, encoding-name, clock-rate; the RTP source's
     * addresses and its CNAME */
    g_assert_true (si->payload >= 0 && si->payload <= 127);
    /* the RTP source tells DTMF from media by payload type alone */
    g_assert_cmpint (si->dtmf_payload, !=, si->payload);
    g_assert_nonnull (codec_find (si->encoding, strlen (si->encoding)));
    g_assert_cmpint (codec_find (si->encoding, strlen (si->encoding))->media,
        ==, i);
    g_assert_cmpuint (si->clock_rate, >, 0);
    g_assert_cmpuint (si->remote_rtp_port, >, 0);
    g_assert_nonnull (memchr (si->remote_address, '\0',
            sizeof (si->remote_address)));
    g_assert_cmpuint (si->clock_rate, <=, G_MAXINT);
    g_assert_nonnull (memchr (si->fmtp, '\0', sizeof (si->fmtp)));
    for (const char *p = si->fmtp; *p; p++)
      g_assert_true (*p >= 0x20 && *p <= 0x7e);
  }
}

/* @as_offer: a re-INVITE's SDP, answered; else the answer to our offer */
static void
read_sdp (struct mbuf *mb, bool as_offer, enum sipua_srtp_mode mode)
{
  struct sipua_stream_info infov[SIPUA_MEDIA_COUNT];
  struct sdes sdesv[SIPUA_MEDIA_COUNT];
  struct sipua_call_params prm = params;
  struct sdp_session *sdp = NULL;
  struct mbuf *offer = NULL, *answer = NULL;
  const char *why = NULL;

  memset (sdesv, 0, sizeof (sdesv));
  prm.srtp = mode;
  g_assert_cmpint (offer_build (&sdp, &offer, &prm, sdesv), ==, 0);
  mb->pos = 0;
  if (sdp_decode (sdp, mb, as_offer) == 0) {
    int err = answer_read (infov, sdp, sdesv, mode, as_offer, &why);

    if (err == 0) {
      check_streams (infov, mode);
      if (as_offer)
        (void) sdp_encode (&answer, sdp, false);
    } else if (err == ENOKEY) {
      g_assert_nonnull (why);
    }
  }
  mem_deref (answer);
  mem_deref (offer);
  mem_deref (sdp);
}

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  struct mbuf *mb = mbuf_alloc (size ? size : 1);

  g_assert_nonnull (mb);
  (void) mbuf_write_mem (mb, data, size);
  for (int mode = SIPUA_SRTP_OFF; mode <= SIPUA_SRTP_MANDATORY; mode++) {
    read_sdp (mb, false, (enum sipua_srtp_mode) mode);
    read_sdp (mb, true, (enum sipua_srtp_mode) mode);
  }
  mem_deref (mb);
  return 0;
}
