/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the service manager receives on $NOTIFY_SOCKET: the states as sent,
 * and the watchdog's keep-alives at half its interval.
 */
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "s2r-systemd.h"

typedef struct
{
  char *dir;
  GSocket *socket;
} Manager;

/* a datagram socket standing for systemd's, named in $NOTIFY_SOCKET */
static void
manager_setup (Manager * m, gconstpointer data)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GSocketAddress) addr = NULL;

  m->dir = g_dir_make_tmp ("s2r-notify-XXXXXX", &err);
  g_assert_no_error (err);
  path = g_build_filename (m->dir, "notify", NULL);
  m->socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_DEFAULT, &err);
  g_assert_no_error (err);
  addr = g_unix_socket_address_new (path);
  g_assert_true (g_socket_bind (m->socket, addr, FALSE, &err));
  g_assert_no_error (err);
  g_setenv ("NOTIFY_SOCKET", path, TRUE);
  g_unsetenv ("WATCHDOG_USEC");
  g_unsetenv ("WATCHDOG_PID");
}

static void
manager_teardown (Manager * m, gconstpointer data)
{
  g_autofree char *path = g_build_filename (m->dir, "notify", NULL);

  g_unsetenv ("NOTIFY_SOCKET");
  g_object_unref (m->socket);
  g_unlink (path);
  g_rmdir (m->dir);
  g_free (m->dir);
}

/* the next datagram, or NULL after 1 s */
static char *
manager_receive (Manager * m)
{
  char buf[256];
  gssize n;

  if (!g_socket_condition_timed_wait (m->socket, G_IO_IN, G_USEC_PER_SEC,
          NULL, NULL))
    return NULL;
  n = g_socket_receive (m->socket, buf, sizeof (buf), NULL, NULL);
  g_assert_cmpint (n, >=, 0);
  return g_strndup (buf, n);
}

static void
test_states_reach_the_notify_socket_as_sent (Manager * m, gconstpointer data)
{
  g_autofree char *ready = NULL;
  g_autofree char *status = NULL;

  g_assert_true (s2r_systemd_notify ("READY=1"));
  ready = manager_receive (m);
  g_assert_cmpstr (ready, ==, "READY=1");
  g_assert_true (s2r_systemd_notifyf ("STATUS=%u calls", 3));
  status = manager_receive (m);
  g_assert_cmpstr (status, ==, "STATUS=3 calls");
}

static void
test_without_a_notify_socket_nothing_is_sent (void)
{
  g_unsetenv ("NOTIFY_SOCKET");
  g_assert_false (s2r_systemd_notify ("READY=1"));
  g_setenv ("NOTIFY_SOCKET", "relative/path", TRUE);
  g_assert_false (s2r_systemd_notify ("READY=1"));
  g_unsetenv ("NOTIFY_SOCKET");
}

static gboolean
quit_cb (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
test_watchdog_is_fed_at_half_its_interval (Manager * m, gconstpointer data)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  guint id, n = 0;
  char *msg;

  g_setenv ("WATCHDOG_USEC", "200000", TRUE);
  g_setenv ("WATCHDOG_PID", pid, TRUE);
  id = s2r_systemd_watchdog_add ();
  g_assert_cmpuint (id, !=, 0);
  /* one at once, then every 100 ms: 5 by 450 ms, fewer on a busy machine
   * (each tick is timed from the last), never more */
  g_timeout_add (450, quit_cb, loop);
  g_main_loop_run (loop);
  g_source_remove (id);
  while (g_socket_condition_check (m->socket, G_IO_IN) &&
      (msg = manager_receive (m))) {
    g_assert_cmpstr (msg, ==, "WATCHDOG=1");
    g_free (msg);
    n++;
  }
  g_assert_cmpuint (n, >=, 3);
  g_assert_cmpuint (n, <=, 5);
}

static void
test_no_watchdog_unless_asked_for_this_process (Manager * m, gconstpointer data)
{
  g_assert_cmpuint (s2r_systemd_watchdog_add (), ==, 0);
  g_setenv ("WATCHDOG_USEC", "200000", TRUE);
  g_setenv ("WATCHDOG_PID", "1", TRUE);
  g_assert_cmpuint (s2r_systemd_watchdog_add (), ==, 0);
  g_assert_false (g_socket_condition_check (m->socket, G_IO_IN));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/systemd/states-reach-the-notify-socket-as-sent", Manager,
      NULL, manager_setup, test_states_reach_the_notify_socket_as_sent,
      manager_teardown);
  g_test_add_func ("/systemd/without-a-notify-socket-nothing-is-sent",
      test_without_a_notify_socket_nothing_is_sent);
  g_test_add ("/systemd/watchdog-is-fed-at-half-its-interval", Manager,
      NULL, manager_setup, test_watchdog_is_fed_at_half_its_interval,
      manager_teardown);
  g_test_add ("/systemd/no-watchdog-unless-asked-for-this-process", Manager,
      NULL, manager_setup, test_no_watchdog_unless_asked_for_this_process,
      manager_teardown);
  return g_test_run ();
}
