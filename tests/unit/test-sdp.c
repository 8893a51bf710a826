/* sip2rtmp: unit tests of the call's SDP (libre/sipua_sdp.c): our offer,
 * the answer read into what sipsrc builds its streams from
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <glib.h>
#include <re.h>
#include "libre/runtime.h"
#include "libre/sipua.h"
#include "libre/sipua_int.h"

typedef struct
{
  struct sipua_call_params prm;
  struct sdes sdesv[SIPUA_MEDIA_COUNT];
  struct sdp_session *sdp;
  struct mbuf *offer;
  struct sipua_stream_info infov[SIPUA_MEDIA_COUNT];
  const char *why;
} Fixture;

static void
fixture_offer (Fixture * f, enum sipua_srtp_mode srtp, const char *audio,
    const char *video)
{
  memset (f, 0, sizeof (*f));
  f->prm.request_uri = "sip:1000@127.0.0.1";
  f->prm.from_uri = "sip:alice@127.0.0.1";
  f->prm.local_address = "127.0.0.1";
  f->prm.srtp = srtp;
  f->prm.media[SIPUA_MEDIA_AUDIO] = (struct sipua_media_offer) {
  audio ? SIPUA_DIR_SENDRECV : SIPUA_DIR_OFF, 10000, 10001, audio};
  f->prm.media[SIPUA_MEDIA_VIDEO] = (struct sipua_media_offer) {
  video ? SIPUA_DIR_RECVONLY : SIPUA_DIR_OFF, 10002, 10003, video};
  g_assert_cmpint (offer_build (&f->sdp, &f->offer, &f->prm, f->sdesv), ==,
      0);
}

static gchar *
fixture_offer_text (Fixture * f)
{
  return g_strndup ((const char *) f->offer->buf, f->offer->end);
}

/* the peer's answer (or offer, @as_offer) read as the SIP thread does */
static int
fixture_read (Fixture * f, const char *text, gboolean as_offer)
{
  struct mbuf *mb = mbuf_alloc (strlen (text));
  int err;

  (void) mbuf_write_str (mb, text);
  mb->pos = 0;
  err = sdp_decode (f->sdp, mb, as_offer);
  if (!err)
    err = answer_read (f->infov, f->sdp, f->sdesv, f->prm.srtp, as_offer,
        &f->why);
  mem_deref (mb);
  return err;
}

static void
fixture_clear (Fixture * f)
{
  f->offer = mem_deref (f->offer);
  f->sdp = mem_deref (f->sdp);
  sipua_stream_info_wipe (f->infov, SIPUA_MEDIA_COUNT);
}

#define ANSWER_HEAD \
  "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n"

static void
test_the_offer_lists_our_codecs_in_order_with_their_static_payloads (void)
{
  Fixture f;
  gchar *text;

  fixture_offer (&f, SIPUA_SRTP_OFF, "PCMA,PCMU", NULL);
  text = fixture_offer_text (&f);
  g_assert_nonnull (strstr (text, "m=audio 10000 RTP/AVP 8 0"));
  g_assert_nonnull (strstr (text, "a=rtpmap:8 PCMA/8000"));
  g_assert_nonnull (strstr (text, "a=rtpmap:0 PCMU/8000"));
  g_assert_null (strstr (text, "m=video"));
  g_assert_null (strstr (text, "a=crypto"));
  g_free (text);
  fixture_clear (&f);
}

static void
test_a_mandatory_srtp_offer_is_rtp_savp_with_a_key_per_suite (void)
{
  Fixture f;
  gchar *text;

  fixture_offer (&f, SIPUA_SRTP_MANDATORY, "PCMU", NULL);
  text = fixture_offer_text (&f);
  g_assert_nonnull (strstr (text, "RTP/SAVP"));
  g_assert_nonnull (strstr (text, "a=crypto:1 AES_CM_128_HMAC_SHA1_80"));
  g_assert_nonnull (strstr (text, "a=crypto:2 AES_CM_128_HMAC_SHA1_32"));
  g_free (text);
  fixture_clear (&f);
}

static void
test_the_answers_codec_address_and_ports_are_the_streams (void)
{
  Fixture f;
  const struct sipua_stream_info *si;

  fixture_offer (&f, SIPUA_SRTP_OFF, "PCMU,PCMA", NULL);
  g_assert_cmpint (fixture_read (&f, ANSWER_HEAD
          "m=audio 20000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n", FALSE), ==,
      0);
  si = &f.infov[SIPUA_MEDIA_AUDIO];
  g_assert_true (si->accepted);
  g_assert_cmpint (si->payload, ==, 8);
  g_assert_cmpstr (si->encoding, ==, "PCMA");
  g_assert_cmpuint (si->clock_rate, ==, 8000);
  g_assert_cmpstr (si->remote_address, ==, "127.0.0.2");
  g_assert_cmpuint (si->remote_rtp_port, ==, 20000);
  g_assert_cmpuint (si->remote_rtcp_port, ==, 20001);
  g_assert_true (si->remote_sends);
  g_assert_true (si->remote_receives);
  g_assert_cmpint (si->srtp_suite, ==, SIPUA_SRTP_NONE);
  fixture_clear (&f);
}

static void
test_telephone_events_of_the_answer_give_the_dtmf_payload (void)
{
  Fixture f;

  fixture_offer (&f, SIPUA_SRTP_OFF, "PCMU", NULL);
  g_assert_cmpint (fixture_read (&f, ANSWER_HEAD
          "m=audio 20000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
          "a=rtpmap:101 telephone-event/8000\r\n", FALSE), ==, 0);
  g_assert_cmpint (f.infov[SIPUA_MEDIA_AUDIO].dtmf_payload, ==, 101);
  fixture_clear (&f);
}

static void
test_a_sendonly_answer_holds_the_call_we_must_not_send (void)
{
  Fixture f;

  fixture_offer (&f, SIPUA_SRTP_OFF, "PCMU", NULL);
  g_assert_cmpint (fixture_read (&f, ANSWER_HEAD
          "m=audio 20000 RTP/AVP 0\r\na=sendonly\r\n", FALSE), ==, 0);
  g_assert_true (f.infov[SIPUA_MEDIA_AUDIO].remote_sends);
  g_assert_false (f.infov[SIPUA_MEDIA_AUDIO].remote_receives);
  fixture_clear (&f);
}

static void
test_an_answer_refusing_every_stream_fails (void)
{
  Fixture f;

  fixture_offer (&f, SIPUA_SRTP_OFF, "PCMU", NULL);
  g_assert_cmpint (fixture_read (&f, ANSWER_HEAD
          "m=audio 0 RTP/AVP 0\r\n", FALSE), !=, 0);
  g_assert_false (f.infov[SIPUA_MEDIA_AUDIO].accepted);
  fixture_clear (&f);
}

static void
test_a_mandatory_call_answered_without_keys_fails_with_enokey (void)
{
  Fixture f;

  fixture_offer (&f, SIPUA_SRTP_MANDATORY, "PCMU", NULL);
  g_assert_cmpint (fixture_read (&f, ANSWER_HEAD
          "m=audio 20000 RTP/SAVP 0\r\n", FALSE), ==, ENOKEY);
  g_assert_nonnull (f.why);
  fixture_clear (&f);
}

static void
test_a_keyed_answer_gives_both_keys_of_the_chosen_suite (void)
{
  Fixture f;
  const struct sipua_stream_info *si;
  static const guint8 zero[SIPUA_SRTP_KEY_LEN];

  fixture_offer (&f, SIPUA_SRTP_MANDATORY, "PCMU", NULL);
  g_assert_cmpint (fixture_read (&f, ANSWER_HEAD
          "m=audio 20000 RTP/SAVP 0\r\n"
          "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
          "inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw\r\n", FALSE), ==, 0);
  si = &f.infov[SIPUA_MEDIA_AUDIO];
  g_assert_cmpint (si->srtp_suite, ==, SIPUA_SRTP_AES_CM_128_HMAC_SHA1_32);
  g_assert_cmpmem (si->srtp_rx_key, 10, "1234567890", 10);
  g_assert_true (memcmp (si->srtp_tx_key, zero, sizeof (zero)) != 0);
  fixture_clear (&f);
}

static void
test_video_is_read_beside_audio (void)
{
  Fixture f;

  fixture_offer (&f, SIPUA_SRTP_OFF, "PCMU", "H264");
  g_assert_cmpint (fixture_read (&f, ANSWER_HEAD
          "m=audio 20000 RTP/AVP 0\r\n"
          "m=video 20002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
          "a=fmtp:96 packetization-mode=1\r\n", FALSE), ==, 0);
  g_assert_true (f.infov[SIPUA_MEDIA_VIDEO].accepted);
  g_assert_cmpstr (f.infov[SIPUA_MEDIA_VIDEO].encoding, ==, "H264");
  g_assert_cmpuint (f.infov[SIPUA_MEDIA_VIDEO].clock_rate, ==, 90000);
  g_assert_cmpstr (f.infov[SIPUA_MEDIA_VIDEO].fmtp, ==,
      "packetization-mode=1");
  fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (libre_init (), ==, 0);
  g_test_add_func ("/sdp/offer/lists-our-codecs-in-order",
      test_the_offer_lists_our_codecs_in_order_with_their_static_payloads);
  g_test_add_func ("/sdp/offer/mandatory-srtp-is-savp-with-a-key-per-suite",
      test_a_mandatory_srtp_offer_is_rtp_savp_with_a_key_per_suite);
  g_test_add_func ("/sdp/answer/codec-address-and-ports",
      test_the_answers_codec_address_and_ports_are_the_streams);
  g_test_add_func ("/sdp/answer/telephone-event",
      test_telephone_events_of_the_answer_give_the_dtmf_payload);
  g_test_add_func ("/sdp/answer/sendonly-holds",
      test_a_sendonly_answer_holds_the_call_we_must_not_send);
  g_test_add_func ("/sdp/answer/every-stream-refused-fails",
      test_an_answer_refusing_every_stream_fails);
  g_test_add_func ("/sdp/answer/mandatory-without-keys-fails",
      test_a_mandatory_call_answered_without_keys_fails_with_enokey);
  g_test_add_func ("/sdp/answer/keys-of-the-chosen-suite",
      test_a_keyed_answer_gives_both_keys_of_the_chosen_suite);
  g_test_add_func ("/sdp/answer/video-beside-audio",
      test_video_is_read_beside_audio);
  ret = g_test_run ();
  libre_close ();
  return ret;
}
