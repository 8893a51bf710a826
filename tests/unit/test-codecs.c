/* sip2rtmp: unit tests of the codec table (plugins/sip2rtmp/codecs.c) and
 * what reads it without a peer: the G.711 silence fill
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <gst/gst.h>
#include "codecs.h"
#include "gstsipsilence.h"

static const struct codec *
find (const char *name)
{
  return codec_find (name, strlen (name));
}

static void
test_names_are_found_whatever_their_case_and_unknown_ones_are_not (void)
{
  g_assert_true (find ("pcmu") == find ("PCMU"));
  g_assert_true (find ("OPUS") == find ("opus"));
  g_assert_null (find ("GSM"));
  g_assert_null (find ("PCM"));
  g_assert_null (codec_find ("PCMUX", 5));
  g_assert_true (codec_find ("PCMUX", 4) == find ("PCMU"));
  g_assert_null (codec_find (NULL, 0));
}

static void
test_static_payload_types_and_clocks_are_rfc_3551s (void)
{
  g_assert_cmpint (find ("PCMU")->pt, ==, 0);
  g_assert_cmpint (find ("PCMA")->pt, ==, 8);
  g_assert_cmpint (find ("G722")->pt, ==, 9);
  /* G.722's RTP clock is 8000 although it samples at 16 kHz */
  g_assert_cmpuint (find ("G722")->clock_rate, ==, 8000);
  g_assert_cmpint (find ("opus")->pt, ==, CODEC_PT_DYNAMIC);
  g_assert_cmpuint (find ("opus")->clock_rate, ==, 48000);
  g_assert_cmpuint (find ("opus")->channels, ==, 2);
  g_assert_cmpuint (find ("H264")->clock_rate, ==, 90000);
  g_assert_cmpstr (find ("H264")->fmtp, ==, "packetization-mode=1");
}

static void
test_every_row_is_whole (void)
{
  size_t i;

  for (i = 0; i < CODEC_COUNT; i++) {
    const struct codec *c = codec_at (i);
    gchar *upper = g_ascii_strup (c->name, -1);

    g_assert_true (codec_index (c) == i);
    g_assert_true (find (c->name) == c);
    /* GStreamer's RTP caps spell every encoding upper case */
    g_assert_cmpstr (c->rtp_encoding, ==, upper);
    g_assert_nonnull (c->depayloader);
    g_assert_cmpuint (c->clock_rate, >, 0);
    if (c->media == CODEC_AUDIO) {
      /* 20 ms of the RTP clock */
      g_assert_cmpuint (c->silence_ts_step, ==, c->clock_rate / 50);
      g_assert_true ((c->silence_byte >= 0) != (c->silence_pipeline != NULL));
    } else {
      g_assert_cmpuint (c->silence_ts_step, ==, 0);
    }
    g_free (upper);
  }
  g_assert_null (codec_at (CODEC_COUNT));
}

static void
test_g711_silence_is_160_bytes_of_their_zero (void)
{
  guint step = 0;
  GBytes *pcmu = gst_sip_silence_payload ("PCMU", &step);
  GBytes *pcma = gst_sip_silence_payload ("pcma", &step);
  gsize len;
  const guint8 *data;

  g_assert_nonnull (pcmu);
  g_assert_cmpuint (step, ==, 160);
  data = g_bytes_get_data (pcmu, &len);
  g_assert_cmpuint (len, ==, 160);
  g_assert_cmpuint (data[0], ==, 0xFF);
  g_assert_cmpuint (data[159], ==, 0xFF);
  data = g_bytes_get_data (pcma, &len);
  g_assert_cmpuint (len, ==, 160);
  g_assert_cmpuint (data[0], ==, 0xD5);
  g_bytes_unref (pcmu);
  g_bytes_unref (pcma);
}

static void
test_video_and_unknown_codecs_have_no_silence (void)
{
  guint step = 0;

  g_assert_null (gst_sip_silence_payload ("H264", &step));
  g_assert_null (gst_sip_silence_payload ("GSM", &step));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/codecs/find",
      test_names_are_found_whatever_their_case_and_unknown_ones_are_not);
  g_test_add_func ("/codecs/rfc-3551",
      test_static_payload_types_and_clocks_are_rfc_3551s);
  g_test_add_func ("/codecs/every-row-is-whole", test_every_row_is_whole);
  g_test_add_func ("/codecs/silence/g711",
      test_g711_silence_is_160_bytes_of_their_zero);
  g_test_add_func ("/codecs/silence/none-for-video",
      test_video_and_unknown_codecs_have_no_silence);
  return g_test_run ();
}
