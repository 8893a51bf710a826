/* sip2rtmp: unit tests of rtmppubsink
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What needs no RTMP server: properties, request pads, the location check
 * at NULL->READY, the add-location / remove-location signals and the stats
 * they leave, state cycling. Destinations point at a 127.0.0.1 port that is
 * bound but not listening, so every connection is refused at once; media
 * against real nginx-rtmp is in tests/integration/test_rtmppubsink.py.
 */

#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <string.h>

static GSocket *refuser;

/* rtmp://127.0.0.1:PORT/live/NAME where nothing listens on PORT */
static gchar *
refused_url (const gchar * name)
{
  GInetSocketAddress *addr;
  guint16 port;

  if (!refuser) {
    GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    GSocketAddress *any = g_inet_socket_address_new (lo, 0);

    refuser = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
        G_SOCKET_PROTOCOL_TCP, NULL);
    fail_unless (refuser != NULL);
    fail_unless (g_socket_bind (refuser, any, FALSE, NULL));
    g_object_unref (any);
    g_object_unref (lo);
  }
  addr = G_INET_SOCKET_ADDRESS (g_socket_get_local_address (refuser, NULL));
  port = g_inet_socket_address_get_port (addr);
  g_object_unref (addr);
  return g_strdup_printf ("rtmp://127.0.0.1:%u/live/%s", port, name);
}

static GstElement *
make_sink (void)
{
  GstElement *sink = gst_element_factory_make ("rtmppubsink", NULL);

  fail_unless (sink != NULL, "rtmppubsink not found: GST_PLUGIN_PATH?");
  return sink;
}

static guint
n_destinations (GstElement * sink, guint64 * frames)
{
  GstStructure *stats = NULL;
  const GValue *list;
  guint n;

  g_object_get (sink, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  list = gst_structure_get_value (stats, "destinations");
  fail_unless (list != NULL && GST_VALUE_HOLDS_ARRAY (list));
  n = gst_value_array_get_size (list);
  if (frames)
    fail_unless (gst_structure_get_uint64 (stats, "frames", frames));
  gst_structure_free (stats);
  return n;
}

GST_START_TEST (test_defaults_are_documented_values)
{
  GstElement *sink = make_sink ();
  gchar *location;
  guint budget;
  guint64 frames = 1;

  g_object_get (sink, "location", &location, "retry-budget", &budget, NULL);
  fail_unless (location == NULL);
  fail_unless_equals_int (budget, 60);
  fail_unless_equals_int (n_destinations (sink, &frames), 0);
  fail_unless_equals_uint64 (frames, 0);
  fail_unless (GST_OBJECT_FLAG_IS_SET (sink, GST_ELEMENT_FLAG_SINK));
  g_free (location);
  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_audio_and_video_pads_are_requested_and_released)
{
  GstElement *sink = make_sink ();
  GstPad *audio = gst_element_request_pad_simple (sink, "audio");
  GstPad *video = gst_element_request_pad_simple (sink, "video");

  fail_unless (audio != NULL);
  fail_unless (video != NULL);
  fail_unless_equals_string (GST_PAD_NAME (audio), "audio");
  fail_unless_equals_string (GST_PAD_NAME (video), "video");
  fail_unless_equals_int (GST_ELEMENT (sink)->numsinkpads, 2);

  gst_element_release_request_pad (sink, audio);
  gst_object_unref (audio);
  /* released: it can be requested again */
  audio = gst_element_request_pad_simple (sink, "audio");
  fail_unless (audio != NULL);

  gst_element_release_request_pad (sink, audio);
  gst_element_release_request_pad (sink, video);
  gst_object_unref (audio);
  gst_object_unref (video);
  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_invalid_location_fails_null_to_ready_naming_it)
{
  const gchar *bad[] = { NULL, "", "http://127.0.0.1/live/x",
    "rtmp://127.0.0.1", "rtmp://127.0.0.1/live", "rtmp://127.0.0.1/live/",
    "rtmp:///live/x", "rtmp://127.0.0.1/live/a b",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    GstElement *sink = make_sink ();
    GstBus *bus = gst_bus_new ();
    GstMessage *msg;
    GError *err = NULL;

    gst_element_set_bus (sink, bus);
    g_object_set (sink, "location", bad[i], NULL);
    fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_READY),
        GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "no error for location %s", bad[i]);
    gst_message_parse_error (msg, &err, NULL);
    fail_unless (strstr (err->message, "'location'") != NULL,
        "error for %s does not name the property: %s", bad[i], err->message);
    g_clear_error (&err);
    gst_message_unref (msg);

    gst_element_set_state (sink, GST_STATE_NULL);
    gst_element_set_bus (sink, NULL);
    gst_object_unref (bus);
    gst_object_unref (sink);
  }
}

GST_END_TEST;

GST_START_TEST (test_add_location_only_while_running)
{
  GstElement *sink = make_sink ();
  gchar *url = refused_url ("first");
  guint id = 99;

  g_signal_emit_by_name (sink, "add-location", url, &id);
  fail_unless_equals_int (id, 0);
  fail_unless_equals_int (n_destinations (sink, NULL), 0);

  g_object_set (sink, "location", url, NULL);
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  g_signal_emit_by_name (sink, "add-location", url, &id);
  fail_unless_equals_int (id, 0);
  fail_unless_equals_int (n_destinations (sink, NULL), 0);

  gst_element_set_state (sink, GST_STATE_NULL);
  g_free (url);
  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_add_and_remove_locations_while_running)
{
  GstElement *sink = make_sink ();
  gchar *first = refused_url ("first");
  gchar *second = refused_url ("second");
  gboolean removed = TRUE;
  guint id = 99, id2 = 0;

  g_object_set (sink, "location", first, NULL);
  fail_unless (gst_element_set_state (sink, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (n_destinations (sink, NULL), 1);

  g_signal_emit_by_name (sink, "add-location", "http://127.0.0.1/live/x", &id);
  fail_unless_equals_int (id, 0);
  g_signal_emit_by_name (sink, "add-location", "rtmp://127.0.0.1", &id);
  fail_unless_equals_int (id, 0);
  fail_unless_equals_int (n_destinations (sink, NULL), 1);

  g_signal_emit_by_name (sink, "add-location", second, &id);
  fail_unless (id != 0 && id != 1, "id %u", id);
  g_signal_emit_by_name (sink, "add-location", second, &id2);
  fail_unless (id2 != 0 && id2 != id, "ids %u, %u", id, id2);
  fail_unless_equals_int (n_destinations (sink, NULL), 3);

  g_signal_emit_by_name (sink, "remove-location", id, &removed);
  fail_unless (removed);
  fail_unless_equals_int (n_destinations (sink, NULL), 2);
  g_signal_emit_by_name (sink, "remove-location", id, &removed);
  fail_if (removed);
  g_signal_emit_by_name (sink, "remove-location", 12345, &removed);
  fail_if (removed);
  /* the first one too: removing the location given as property is allowed */
  g_signal_emit_by_name (sink, "remove-location", 1, &removed);
  fail_unless (removed);
  fail_unless_equals_int (n_destinations (sink, NULL), 1);

  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (n_destinations (sink, NULL), 0);
  g_free (first);
  g_free (second);
  gst_object_unref (sink);
}

GST_END_TEST;

static gboolean
has_state (GstBus * bus, const gchar * wanted, GstClockTime timeout)
{
  GstMessage *msg;

  while ((msg = gst_bus_timed_pop_filtered (bus, timeout,
              GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    gboolean match = gst_structure_has_name (s, "rtmp-publish") &&
        !g_strcmp0 (gst_structure_get_string (s, "state"), wanted);
    const gchar *loc = gst_structure_get_string (s, "location");

    fail_unless (loc && g_str_has_suffix (loc, "/***"), "location %s", loc);
    gst_message_unref (msg);
    if (match)
      return TRUE;
  }
  return FALSE;
}

GST_START_TEST (test_refused_destination_fails_when_the_budget_is_spent)
{
  GstElement *sink = make_sink ();
  GstBus *bus = gst_bus_new ();
  gchar *url = refused_url ("nobody");
  GstMessage *warning;
  gint64 t0;

  gst_element_set_bus (sink, bus);
  g_object_set (sink, "location", url, "retry-budget", 1, NULL);
  t0 = g_get_monotonic_time ();
  fail_unless (gst_element_set_state (sink, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (has_state (bus, "connecting", 2 * GST_SECOND));
  fail_unless (has_state (bus, "reconnecting", 2 * GST_SECOND));
  fail_unless (has_state (bus, "failed", 4 * GST_SECOND));
  /* budget 1 s: retries at 0.5 s and 1.5 s */
  fail_unless (g_get_monotonic_time () - t0 < 3 * G_USEC_PER_SEC);
  warning = gst_bus_timed_pop_filtered (bus, GST_SECOND, GST_MESSAGE_WARNING);
  fail_unless (warning != NULL, "no warning");
  gst_message_unref (warning);

  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (sink, NULL);
  gst_object_unref (bus);
  g_free (url);
  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_state_cycling_leaks_nothing)
{
  GstElement *sink = make_sink ();
  gchar *url = refused_url ("cycle");
  guint i;

  g_object_set (sink, "location", url, NULL);
  for (i = 0; i < 5; i++) {
    fail_unless (gst_element_set_state (sink, GST_STATE_PAUSED) !=
        GST_STATE_CHANGE_FAILURE);
    fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  g_free (url);
  ASSERT_OBJECT_REFCOUNT (sink, "sink", 1);
  gst_check_object_destroyed_on_unref (sink);
}

GST_END_TEST;

static Suite *
rtmppubsink_suite (void)
{
  Suite *s = suite_create ("rtmppubsink");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_defaults_are_documented_values);
  tcase_add_test (tc, test_audio_and_video_pads_are_requested_and_released);
  tcase_add_test (tc, test_invalid_location_fails_null_to_ready_naming_it);
  tcase_add_test (tc, test_add_location_only_while_running);
  tcase_add_test (tc, test_add_and_remove_locations_while_running);
  tcase_add_test (tc, test_refused_destination_fails_when_the_budget_is_spent);
  tcase_add_test (tc, test_state_cycling_leaks_nothing);
  return s;
}

GST_CHECK_MAIN (rtmppubsink);
