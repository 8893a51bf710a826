/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The rendezvous behind GST_SIP_TEST_HOOK (test build only).
 *
 * SIP2RTMP_TEST_RENDEZVOUS="a,b" names hooks that wait for each other:
 * the first time a thread reaches one of them it waits (at most
 * RENDEZVOUS_TIMEOUT) until every named hook has been reached once, so
 * that a test holds two threads in a window that is otherwise a few
 * microseconds wide, whatever the timing. Each hook meets once.
 *
 * SIP2RTMP_TEST_HOLD="a,b" names hooks that hold every thread reaching
 * them (at most HOLD_TIMEOUT, longer than any test): the work behind them
 * cannot finish, for tests of what waits for it (the daemon's shutdown
 * bound with a pipeline that does not go down). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include "gstsiptesthook.h"

#define RENDEZVOUS_TIMEOUT (5 * G_TIME_SPAN_SECOND)
#define HOLD_TIMEOUT (120 * G_TIME_SPAN_SECOND)

/* lock protects arrived; a leaf lock, as test hooks are called with any
 * of the plugin's locks held */
static GMutex lock;
static GCond cond;
static gchar **names;
static gboolean *arrived;
static gchar **held;

static void
rendezvous_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    const gchar *env = g_getenv ("SIP2RTMP_TEST_RENDEZVOUS");
    const gchar *hold = g_getenv ("SIP2RTMP_TEST_HOLD");

    names = g_strsplit (env ? env : "", ",", -1);
    arrived = g_new0 (gboolean, g_strv_length (names) + 1);
    held = g_strsplit (hold ? hold : "", ",", -1);
    g_once_init_leave (&done, 1);
  }
}

static gboolean
all_arrived (void)
{
  guint i;

  for (i = 0; names[i]; i++)
    if (!arrived[i])
      return FALSE;
  return TRUE;
}

/* Nothing wakes it: it waits out HOLD_TIMEOUT (the process ends first) */
static void
hold (const gchar * name)
{
  gint64 deadline = g_get_monotonic_time () + HOLD_TIMEOUT;

  g_printerr ("sip2rtmp test hook %s: holding\n", name);
  g_mutex_lock (&lock);
  while (g_cond_wait_until (&cond, &lock, deadline))
    continue;
  g_mutex_unlock (&lock);
  g_printerr ("sip2rtmp test hook %s: released\n", name);
}

void
gst_sip_test_hook (const gchar * name)
{
  gint64 deadline;
  guint i;

  rendezvous_init ();
  if (g_strv_contains ((const gchar * const *) held, name)) {
    hold (name);
    return;
  }
  g_mutex_lock (&lock);
  for (i = 0; names[i]; i++)
    if (!g_strcmp0 (names[i], name) && !arrived[i])
      break;
  if (!names[i]) {
    g_mutex_unlock (&lock);
    return;
  }
  arrived[i] = TRUE;
  g_cond_broadcast (&cond);
  deadline = g_get_monotonic_time () + RENDEZVOUS_TIMEOUT;
  while (!all_arrived ())
    if (!g_cond_wait_until (&cond, &lock, deadline))
      break;
  /* what the tests read: the window was really reached */
  g_printerr ("sip2rtmp test hook %s: %s\n", name,
      all_arrived ()? "met" : "gave up waiting");
  g_mutex_unlock (&lock);
}
