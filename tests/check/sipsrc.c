/* sip2rtmp: unit tests of sipsrc
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What needs no peer: properties, the URI handler, URI completion, property
 * checks at NULL->READY, state cycling and refcounts. State cycling with a
 * call uses a real SIPp UAS on 127.0.0.1 (SIPP_SCENARIOS points at
 * tests/scenarios).
 */

#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <gst/rtp/rtp.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include "gstsipuri.h"

static GstElement *
make_sipsrc (void)
{
  GstElement *src = gst_element_factory_make ("sipsrc", NULL);

  fail_unless (src != NULL, "sipsrc not found: GST_PLUGIN_PATH?");
  return src;
}

GST_START_TEST (test_defaults_are_documented_values)
{
  GstElement *src = make_sipsrc ();
  gchar *uri, *codecs, *ua;
  guint answer_timeout, rtp_timeout, sip_port;
  gint transport, audio, video;

  g_object_get (src, "uri", &uri, "codecs", &codecs, "user-agent", &ua,
      "answer-timeout", &answer_timeout, "rtp-timeout", &rtp_timeout,
      "sip-port", &sip_port, "transport", &transport, "audio", &audio,
      "video", &video, NULL);

  fail_unless (uri == NULL);
  fail_unless_equals_string (codecs, "PCMU,PCMA,H264");
  fail_unless (g_str_has_prefix (ua, "sip2rtmp/"));
  fail_unless_equals_int (answer_timeout, 60);
  fail_unless_equals_int (rtp_timeout, 30);
  fail_unless_equals_int (sip_port, 0);
  fail_unless_equals_int (transport, 0);        /* udp */
  fail_unless_equals_int (audio, 1);    /* recvonly */
  fail_unless_equals_int (video, 0);    /* off */

  g_free (uri);
  g_free (codecs);
  g_free (ua);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_password_is_never_read_back)
{
  GstElement *src = make_sipsrc ();
  gchar *pw = (gchar *) "x";

  g_object_set (src, "user-pw", "s3cret", NULL);
  g_object_get (src, "user-pw", &pw, NULL);
  fail_unless (pw == NULL);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_is_a_live_source_bin)
{
  GstElement *src = make_sipsrc ();

  fail_unless (GST_IS_BIN (src));
  fail_unless (GST_OBJECT_FLAG_IS_SET (src, GST_ELEMENT_FLAG_SOURCE));
  fail_if (GST_OBJECT_FLAG_IS_SET (src, GST_ELEMENT_FLAG_SINK));
  fail_unless (gst_element_get_static_pad (src, "audio_0") == NULL);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_uri_handler_makes_sipsrc_for_sip_and_sips)
{
  GstElement *src;
  gchar *uri;
  gint transport;

  src = gst_element_make_from_uri (GST_URI_SRC, "sip:1000@127.0.0.1:5070",
      NULL, NULL);
  fail_unless (src != NULL);
  fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (src)),
      "sipsrc");
  g_object_get (src, "uri", &uri, NULL);
  fail_unless_equals_string (uri, "sip:1000@127.0.0.1:5070");
  g_free (uri);
  gst_object_unref (src);

  src = gst_element_make_from_uri (GST_URI_SRC, "sips:1000@example.com",
      NULL, NULL);
  fail_unless (src != NULL);
  g_object_get (src, "transport", &transport, NULL);
  fail_unless_equals_int (transport, 2);        /* tls */
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_uri_handler_refuses_other_uris)
{
  GstElement *src = make_sipsrc ();
  GError *err = NULL;

  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (src),
          "http://example.com/", &err));
  fail_unless (err != NULL);
  g_clear_error (&err);
  gst_object_unref (src);
}

GST_END_TEST;

static void
check_complete (const gchar * in, const gchar * want, const gchar * host)
{
  GError *err = NULL;
  gchar *h = NULL;
  gchar *out = gst_sip_uri_complete (in, &h, NULL, &err);

  fail_unless (out != NULL, "'%s' refused: %s", in, err ? err->message : "");
  fail_unless_equals_string (out, want);
  fail_unless_equals_string (h, host);
  g_free (out);
  g_free (h);
}

GST_START_TEST (test_uri_completion)
{
  guint port = 0;
  gchar *out;

  check_complete ("1000@pbx.example.com", "sip:1000@pbx.example.com",
      "pbx.example.com");
  check_complete ("pbx.example.com", "sip:pbx.example.com",
      "pbx.example.com");
  check_complete ("sip:1000@127.0.0.1:5080;transport=tcp",
      "sip:1000@127.0.0.1:5080;transport=tcp", "127.0.0.1");
  check_complete ("sips:room@[::1]:5061", "sips:room@[::1]:5061", "::1");

  out = gst_sip_uri_complete ("sip:a@h:5080", NULL, &port, NULL);
  fail_unless_equals_int (port, 5080);
  g_free (out);
}

GST_END_TEST;

GST_START_TEST (test_uri_malformed_are_refused_with_a_reason)
{
  const gchar *bad[] = { "", "sip:", "sip:@host", "sip:1000@", "sip:a b@h",
    "sip:1000@host:0", "sip:1000@host:99999", "sip:1000@ho$t",
    "http://example.com", "sip:1000@[::1", NULL
  };
  const gchar **b;

  for (b = bad; *b; b++) {
    GError *err = NULL;
    gchar *out = gst_sip_uri_complete (*b, NULL, NULL, &err);

    fail_unless (out == NULL, "'%s' accepted as '%s'", *b, out);
    fail_unless (err != NULL && err->message[0] != '\0');
    g_clear_error (&err);
  }
}

GST_END_TEST;

/* NULL->READY must fail with an error naming the property */
static void
check_bad_property (const gchar * prop, const gchar * first, ...)
{
  GstElement *src = make_sipsrc ();
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *quoted = g_strdup_printf ("'%s'", prop);
  va_list ap;

  va_start (ap, first);
  g_object_set_valist (G_OBJECT (src), first, ap);
  va_end (ap);

  gst_element_set_bus (src, bus);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error message for %s", prop);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, quoted) != NULL,
      "error '%s' does not name %s", err->message, quoted);

  g_clear_error (&err);
  gst_message_unref (msg);
  gst_element_set_state (src, GST_STATE_NULL);
  gst_element_set_bus (src, NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  g_free (quoted);
}

GST_START_TEST (test_bad_properties_fail_the_state_change_naming_them)
{
  check_bad_property ("uri", "uri", NULL, NULL);
  check_bad_property ("uri", "uri", "sip:1000@", NULL);
  check_bad_property ("user-id", "uri", "sip:1@127.0.0.1", "user-pw", "pw",
      NULL);
  check_bad_property ("user-id", "uri", "sip:1@127.0.0.1", "user-id",
      "al ice", NULL);
  check_bad_property ("proxy", "uri", "sip:1@127.0.0.1", "proxy", "sip:",
      NULL);
  check_bad_property ("codecs", "uri", "sip:1@127.0.0.1", "codecs", "G729",
      NULL);
  check_bad_property ("codecs", "uri", "sip:1@127.0.0.1", "codecs", "H264",
      NULL);
  check_bad_property ("local-address", "uri", "sip:1@127.0.0.1",
      "local-address", "not-an-ip", NULL);
  check_bad_property ("rtp-port-min", "uri", "sip:1@127.0.0.1",
      "rtp-port-min", 20000, "rtp-port-max", 10000, NULL);
  check_bad_property ("dtmf", "uri", "sip:1@127.0.0.1", "dtmf", "12x#",
      NULL);
}

GST_END_TEST;

/* Our own headers cannot be set, values cannot start another header */
static void
check_bad_headers (const gchar * name, const gchar * value)
{
  GstStructure *headers = gst_structure_new ("headers", name, G_TYPE_STRING,
      value, NULL);

  check_bad_property ("sip-headers", "uri", "sip:1@127.0.0.1", "sip-headers",
      headers, NULL);
  gst_structure_free (headers);
}

GST_START_TEST (test_sip_headers_refuse_our_own_and_line_breaks)
{
  check_bad_headers ("Via", "SIP/2.0/UDP 192.0.2.1");
  check_bad_headers ("Call-ID", "x");
  check_bad_headers ("Contact", "<sip:evil@192.0.2.1>");
  check_bad_headers ("Session-Expires", "1");
  check_bad_headers ("X-Room", "42\r\nVia: SIP/2.0/UDP 192.0.2.1");
  check_bad_headers ("X-Room", "42\nBYE");
  check_bad_headers ("X-Room", "");
}

GST_END_TEST;

GST_START_TEST (test_state_cycling_without_a_call_leaks_nothing)
{
  GstElement *src = make_sipsrc ();
  gint i;

  g_object_set (src, "uri", "sip:1000@127.0.0.1:9", NULL);
  for (i = 0; i < 5; i++) {
    fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (src, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  ASSERT_OBJECT_REFCOUNT (src, "sipsrc", 1);
  gst_check_object_destroyed_on_unref (src);
}

GST_END_TEST;

/* A real SIPp UAS on 127.0.0.1 that answers with PCMU, plays a tone and
 * waits for our BYE, once per call */
typedef struct
{
  GPid pid;
  guint port;
  gchar *dir;
} SippPeer;

static guint
free_udp_port (void)
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (lo, 0), *bound;
  guint port;

  fail_unless (g_socket_bind (s, sa, FALSE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (sa);
  g_object_unref (lo);
  g_object_unref (s);
  return port;
}

static gboolean
sipp_peer_start (SippPeer * peer, const gchar * scenario, guint calls)
{
  const gchar *dir = g_getenv ("SIPP_SCENARIOS");
  gchar *path, *port, *count, *tone;
  gchar *argv[16];
  gboolean ok;
  gint n = 0;

  if (!dir || !g_file_test ("/usr/bin/sipp", G_FILE_TEST_IS_EXECUTABLE))
    return FALSE;

  peer->dir = g_dir_make_tmp ("sipsrc-check-XXXXXX", NULL);
  tone = g_build_filename (peer->dir, "tone-pcmu.wav", NULL);
  {
    gchar *cmd = g_strdup_printf ("sox -n -r 8000 -c 1 -e u-law -b 8 '%s' "
        "synth 10 sine 1000 vol 0.5", tone);
    ok = g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL);
    g_free (cmd);
  }
  fail_unless (ok, "sox failed");

  peer->port = free_udp_port ();
  path = g_build_filename (dir, scenario, NULL);
  port = g_strdup_printf ("%u", peer->port);
  count = g_strdup_printf ("%u", calls);
  argv[n++] = (gchar *) "/usr/bin/sipp";
  argv[n++] = (gchar *) "-sf";
  argv[n++] = path;
  argv[n++] = (gchar *) "-i";
  argv[n++] = (gchar *) "127.0.0.1";
  argv[n++] = (gchar *) "-p";
  argv[n++] = port;
  argv[n++] = (gchar *) "-m";
  argv[n++] = count;
  argv[n++] = (gchar *) "-nostdin";
  argv[n++] = (gchar *) "-timeout";
  argv[n++] = (gchar *) "60";
  argv[n++] = NULL;

  ok = g_spawn_async (peer->dir, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
      G_SPAWN_STDERR_TO_DEV_NULL | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
      &peer->pid, NULL);
  fail_unless (ok, "could not start sipp");

  g_free (path);
  g_free (port);
  g_free (count);
  g_free (tone);
  return TRUE;
}

static gint
sipp_peer_wait (SippPeer * peer)
{
  gint status = -1, i;

  /* sipp exits once its calls are done; bounded wait */
  for (i = 0; i < 200; i++) {
    if (waitpid (peer->pid, &status, WNOHANG) == peer->pid)
      break;
    g_usleep (50 * 1000);
  }
  if (i == 200) {
    kill (peer->pid, SIGKILL);
    waitpid (peer->pid, &status, 0);
  }
  g_spawn_close_pid (peer->pid);
  {
    gchar *cmd = g_strdup_printf ("rm -rf '%s'", peer->dir);
    g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL);
    g_free (cmd);
  }
  g_free (peer->dir);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
pad_added_cb (GstElement * src, GstPad * pad, gpointer user_data)
{
  GstElement *sink = user_data;
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");

  fail_unless_equals_int (gst_pad_link (pad, sinkpad), GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
}

static gboolean
wait_for_established_audio (GstBus * bus, GstElement * sink)
{
  GstClockTime deadline = 10 * GST_SECOND;
  gboolean established = FALSE;

  while (!established) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, deadline,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
    const GstStructure *s;

    if (!msg)
      return FALSE;
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "call failed");
    s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "sip-call"))
      established = !g_strcmp0 (gst_structure_get_string (s, "state"),
          "established");
    gst_message_unref (msg);
  }
  return TRUE;
}

GST_START_TEST (test_state_cycling_with_calls_hangs_up_and_leaks_nothing)
{
  SippPeer peer;
  GstElement *pipe, *src, *sink;
  GstBus *bus;
  gchar *uri;
  gint i, handoffs;

  if (!sipp_peer_start (&peer, "answer_pcmu_wait_bye.xml", 3)) {
    GST_WARNING ("no SIPp: skipped");
    return;
  }

  pipe = gst_pipeline_new (NULL);
  src = make_sipsrc ();
  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "signal-handoffs", FALSE, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (pipe), src, sink, NULL);
  g_signal_connect (src, "pad-added", G_CALLBACK (pad_added_cb), sink);
  uri = g_strdup_printf ("sip:1000@127.0.0.1:%u", peer.port);
  g_object_set (src, "uri", uri, "user-id", "alice", NULL);
  g_free (uri);
  bus = gst_element_get_bus (pipe);

  for (i = 0; i < 3; i++) {
    GstStructure *stats;
    guint64 packets = 0;

    fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    fail_unless (wait_for_established_audio (bus, sink), "call %d", i);

    /* media flows: wait (bounded) for packets to be counted */
    for (handoffs = 0; handoffs < 100 && packets < 10; handoffs++) {
      g_usleep (20 * 1000);
      g_object_get (src, "stats", &stats, NULL);
      gst_structure_get_uint64 (stats, "packets-received", &packets);
      fail_unless_equals_string (gst_structure_get_string (stats,
              "audio-codec"), "PCMU");
      gst_structure_free (stats);
    }
    fail_unless (packets >= 10, "only %" G_GUINT64_FORMAT " packets", packets);

    fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless (gst_element_get_static_pad (src, "audio_0") == NULL,
        "pad left behind");
    gst_bus_set_flushing (bus, TRUE);
    gst_bus_set_flushing (bus, FALSE);
  }

  /* SIPp passes only if each call got our ACK and BYE */
  fail_unless_equals_int (sipp_peer_wait (&peer), 0);

  gst_object_unref (bus);
  ASSERT_OBJECT_REFCOUNT (pipe, "pipeline", 1);
  gst_check_object_destroyed_on_unref (pipe);
}

GST_END_TEST;

/* Datagrams at a call's RTP port that are no RTP */
#define BAD_SSRC 0xbadbad00

static GstPadProbeReturn
bad_ssrc_pushed_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  gint *bad = data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  if (!gst_rtp_buffer_map (GST_PAD_PROBE_INFO_BUFFER (info), GST_MAP_READ,
          &rtp)) {
    g_atomic_int_inc (bad);
    return GST_PAD_PROBE_OK;
  }
  if (gst_rtp_buffer_get_ssrc (&rtp) == BAD_SSRC)
    g_atomic_int_inc (bad);
  gst_rtp_buffer_unmap (&rtp);
  return GST_PAD_PROBE_OK;
}

/* An RTP header (PCMU, our bad SSRC) with @first_byte, then @len - 12
 * bytes of @fill */
static gsize
malformed_rtp (guint8 * buf, guint8 first_byte, gsize len, guint8 fill)
{
  memset (buf, fill, len);
  buf[0] = first_byte;
  buf[1] = 0;
  GST_WRITE_UINT16_BE (buf + 2, 1);
  GST_WRITE_UINT32_BE (buf + 4, 0);
  GST_WRITE_UINT32_BE (buf + 8, BAD_SSRC);
  return len;
}

static guint64
stats_uint64 (GstElement * src, const gchar * name)
{
  GstStructure *stats;
  guint64 v = 0;

  g_object_get (src, "stats", &stats, NULL);
  gst_structure_get_uint64 (stats, name, &v);
  gst_structure_free (stats);
  return v;
}

/* audio-packets-invalid once it reaches @n, or after 5 s */
static guint64
wait_for_invalid (GstElement * src, guint64 n)
{
  guint64 invalid = 0;
  guint i;

  for (i = 0; i < 250 && invalid < n; i++) {
    g_usleep (20 * 1000);
    invalid = stats_uint64 (src, "audio-packets-invalid");
  }
  return invalid;
}

/* The issue's flood (300 empty datagrams gave 2100 GStreamer-CRITICALs,
 * which gst-check fails on) and malformed RTP: each dropped and counted in
 * `audio-packets-invalid`, none pushed, and the call's own RTP goes on. */
GST_START_TEST (test_empty_and_malformed_datagrams_are_dropped_and_counted)
{
  SippPeer peer;
  GstElement *pipe, *src, *sink;
  GstPad *sinkpad;
  GSocket *sock;
  GSocketAddress *to;
  GInetAddress *lo;
  GstBus *bus;
  gchar *uri;
  guint8 pkt[64];
  guint port, i;
  guint64 before;
  gint bad = 0;
  guint n_malformed = 0;

  if (!sipp_peer_start (&peer, "answer_pcmu_wait_bye.xml", 1)) {
    GST_WARNING ("no SIPp: skipped");
    return;
  }

  pipe = gst_pipeline_new (NULL);
  src = make_sipsrc ();
  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (pipe), src, sink, NULL);
  g_signal_connect (src, "pad-added", G_CALLBACK (pad_added_cb), sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER,
      bad_ssrc_pushed_probe, &bad, NULL);
  gst_object_unref (sinkpad);
  /* our RTP port, known: an even free port and the one above it */
  port = free_udp_port () & ~1u;
  uri = g_strdup_printf ("sip:1000@127.0.0.1:%u", peer.port);
  g_object_set (src, "uri", uri, "user-id", "alice", "rtp-port-min", port,
      "rtp-port-max", port + 1, NULL);
  g_free (uri);
  bus = gst_element_get_bus (pipe);

  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (wait_for_established_audio (bus, sink));
  for (i = 0; i < 100 && stats_uint64 (src, "packets-received") < 5; i++)
    g_usleep (20 * 1000);
  before = stats_uint64 (src, "packets-received");
  fail_unless (before >= 5, "no RTP from the peer");

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  to = g_inet_socket_address_new (lo, port);
  for (i = 0; i < 300; i++) {
    fail_unless (g_socket_send_to (sock, to, (const gchar *) pkt, 0, NULL,
            NULL) == 0);
    /* within the socket's receive buffer (slow under valgrind) */
    if (i % 50 == 49)
      wait_for_invalid (src, i + 1);
  }
  {
    /* version 1; 15 CSRCs in 20 bytes; 255 bytes of padding in 20 bytes;
     * an extension of 255 words in 20 bytes; an RTCP type (RFC 5761);
     * 11 bytes */
    const struct
    {
      guint8 first_byte;
      gsize len;
      guint8 fill;
    } malformed[] = {
      {0x40, 20, 0}, {0x8f, 20, 0}, {0xa0, 20, 0xff}, {0x90, 20, 0xff},
      {0x80, 11, 0},
    };

    for (i = 0; i < G_N_ELEMENTS (malformed); i++) {
      gsize len = malformed_rtp (pkt, malformed[i].first_byte,
          malformed[i].len, malformed[i].fill);

      fail_unless (g_socket_send_to (sock, to, (const gchar *) pkt, len,
              NULL, NULL) == (gssize) len);
      n_malformed++;
    }
    malformed_rtp (pkt, 0x80, 20, 0);
    pkt[1] = 200 | 0x80;
    fail_unless (g_socket_send_to (sock, to, (const gchar *) pkt, 20, NULL,
            NULL) == 20);
    n_malformed++;
  }

  fail_unless_equals_uint64 (wait_for_invalid (src, 300 + n_malformed),
      300 + n_malformed);
  fail_unless_equals_int (g_atomic_int_get (&bad), 0);
  /* the call's own RTP still flows */
  for (i = 0; i < 100 && stats_uint64 (src, "packets-received") < before + 5;
      i++)
    g_usleep (20 * 1000);
  fail_unless (stats_uint64 (src, "packets-received") >= before + 5);

  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (sipp_peer_wait (&peer), 0);

  g_object_unref (to);
  g_object_unref (lo);
  g_object_unref (sock);
  gst_object_unref (bus);
  gst_object_unref (pipe);
}

GST_END_TEST;

static Suite *
sipsrc_suite (void)
{
  Suite *s = suite_create ("sipsrc");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_defaults_are_documented_values);
  tcase_add_test (tc, test_password_is_never_read_back);
  tcase_add_test (tc, test_is_a_live_source_bin);
  tcase_add_test (tc, test_uri_handler_makes_sipsrc_for_sip_and_sips);
  tcase_add_test (tc, test_uri_handler_refuses_other_uris);
  tcase_add_test (tc, test_uri_completion);
  tcase_add_test (tc, test_uri_malformed_are_refused_with_a_reason);
  tcase_add_test (tc, test_bad_properties_fail_the_state_change_naming_them);
  tcase_add_test (tc, test_sip_headers_refuse_our_own_and_line_breaks);
  tcase_add_test (tc, test_state_cycling_without_a_call_leaks_nothing);
  tcase_add_test (tc,
      test_state_cycling_with_calls_hangs_up_and_leaks_nothing);
  tcase_add_test (tc,
      test_empty_and_malformed_datagrams_are_dropped_and_counted);
  return s;
}

GST_CHECK_MAIN (sipsrc);
