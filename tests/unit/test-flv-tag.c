/* sip2rtmp: unit tests of the FLV tag bodies rtmppubsink sends
 * (plugins/sip2rtmp/gstflvtag.c)
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/gst.h>
#include "gstflvtag.h"

static GstBuffer *
payload (void)
{
  static const guint8 bytes[] = { 0xde, 0xad, 0xbe, 0xef };

  return gst_buffer_new_memdup (bytes, sizeof (bytes));
}

static void
assert_tag (GBytes * tag, const guint8 * expected, gsize len)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (tag, &size);

  g_assert_nonnull (tag);
  g_assert_cmpmem (data, size, expected, len);
  g_bytes_unref (tag);
}

static void
test_an_aac_frame_is_af_01_then_the_payload (void)
{
  static const guint8 expected[] = { 0xaf, 0x01, 0xde, 0xad, 0xbe, 0xef };
  GstBuffer *buf = payload ();

  assert_tag (gst_flv_tag_aac (buf, FALSE), expected, sizeof (expected));
  gst_buffer_unref (buf);
}

static void
test_the_aac_config_is_af_00_then_the_audio_specific_config (void)
{
  static const guint8 expected[] = { 0xaf, 0x00, 0xde, 0xad, 0xbe, 0xef };
  GstBuffer *buf = payload ();

  assert_tag (gst_flv_tag_aac (buf, TRUE), expected, sizeof (expected));
  gst_buffer_unref (buf);
}

static void
test_an_avc_keyframe_is_17_01_with_its_composition_time (void)
{
  static const guint8 expected[] = { 0x17, 0x01, 0x00, 0x00, 0x50,
    0xde, 0xad, 0xbe, 0xef
  };
  GstBuffer *buf = payload ();

  assert_tag (gst_flv_tag_avc (buf, FALSE, TRUE, 80), expected,
      sizeof (expected));
  gst_buffer_unref (buf);
}

static void
test_an_avc_inter_frame_is_27_01 (void)
{
  static const guint8 expected[] = { 0x27, 0x01, 0x00, 0x00, 0x00,
    0xde, 0xad, 0xbe, 0xef
  };
  GstBuffer *buf = payload ();

  assert_tag (gst_flv_tag_avc (buf, FALSE, FALSE, 0), expected,
      sizeof (expected));
  gst_buffer_unref (buf);
}

static void
test_the_avc_config_is_a_keyframe_17_00_without_composition_time (void)
{
  static const guint8 expected[] = { 0x17, 0x00, 0x00, 0x00, 0x00,
    0xde, 0xad, 0xbe, 0xef
  };
  GstBuffer *buf = payload ();

  assert_tag (gst_flv_tag_avc (buf, TRUE, FALSE, 40), expected,
      sizeof (expected));
  gst_buffer_unref (buf);
}

static void
test_the_composition_time_is_pts_minus_dts_in_ms_never_negative (void)
{
  g_assert_cmpint (gst_flv_tag_cts_ms (120 * GST_MSECOND, 40 * GST_MSECOND),
      ==, 80);
  g_assert_cmpint (gst_flv_tag_cts_ms (40 * GST_MSECOND, 120 * GST_MSECOND),
      ==, 0);
  g_assert_cmpint (gst_flv_tag_cts_ms (GST_CLOCK_TIME_NONE, 0), ==, 0);
  g_assert_cmpint (gst_flv_tag_cts_ms (0, GST_CLOCK_TIME_NONE), ==, 0);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/flv-tag/aac/frame",
      test_an_aac_frame_is_af_01_then_the_payload);
  g_test_add_func ("/flv-tag/aac/config",
      test_the_aac_config_is_af_00_then_the_audio_specific_config);
  g_test_add_func ("/flv-tag/avc/keyframe",
      test_an_avc_keyframe_is_17_01_with_its_composition_time);
  g_test_add_func ("/flv-tag/avc/inter-frame",
      test_an_avc_inter_frame_is_27_01);
  g_test_add_func ("/flv-tag/avc/config",
      test_the_avc_config_is_a_keyframe_17_00_without_composition_time);
  g_test_add_func ("/flv-tag/avc/composition-time",
      test_the_composition_time_is_pts_minus_dts_in_ms_never_negative);
  return g_test_run ();
}
