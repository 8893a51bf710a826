/* sip2rtmp: unit tests of the table of wrong credentials
 * (plugins/sip2rtmp/libre/authguard.c): counting within a window, the
 * lock-out and its doubling, a right password's reset, expiry and the
 * bound on the table
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gst/gst.h>
#include <arpa/inet.h>
#include "libre/authguard.h"

#define S 1000                  /* ms */

static const struct authguard_policy policy = {
  .max_failures = 3,
  .window_ms = 60 * S,
  .lockout_ms = 10 * S,
};

static struct authguard *
guard_new (gsize max)
{
  struct authguard *g = NULL;

  g_assert_cmpint (authguard_alloc (&g, max), ==, 0);
  return g;
}

/* n failures of (addr, user) at now; the last one's lock-out */
static guint32
fail (struct authguard *g, const gchar * addr, const gchar * user, guint n,
    guint64 now)
{
  guint32 lockout = 0;

  while (n--) {
    g_assert_cmpuint (lockout, ==, 0);
    lockout = authguard_failure (g, addr, user, &policy, now);
  }
  return lockout;
}

static void
test_the_nth_failure_locks_the_key_out (void)
{
  struct authguard *g = guard_new (0);

  g_assert_cmpuint (fail (g, "192.0.2.1", "room42", 2, 1000), ==, 0);
  g_assert_cmpuint (authguard_locked (g, "192.0.2.1", "room42", 1000), ==, 0);
  g_assert_cmpuint (fail (g, "192.0.2.1", "room42", 1, 2000), ==, 10 * S);
  g_assert_cmpuint (authguard_locked (g, "192.0.2.1", "room42", 2500), ==,
      9500);
  /* only that pair: another user, another address are not locked */
  g_assert_cmpuint (authguard_locked (g, "192.0.2.1", "room43", 2500), ==, 0);
  g_assert_cmpuint (authguard_locked (g, "192.0.2.2", "room42", 2500), ==, 0);
  /* over at its end */
  g_assert_cmpuint (authguard_locked (g, "192.0.2.1", "room42", 12000), ==, 0);
  authguard_free (g);
}

static void
test_failures_older_than_the_window_do_not_count (void)
{
  struct authguard *g = guard_new (0);

  fail (g, "192.0.2.1", "room42", 2, 0);
  /* the window has passed: these two start a new one */
  g_assert_cmpuint (fail (g, "192.0.2.1", "room42", 2, 60 * S), ==, 0);
  g_assert_cmpuint (fail (g, "192.0.2.1", "room42", 1, 61 * S), ==, 10 * S);
  authguard_free (g);
}

static void
test_a_right_password_forgets_the_failures (void)
{
  struct authguard *g = guard_new (0);

  fail (g, "192.0.2.1", "room42", 2, 0);
  authguard_success (g, "192.0.2.1", "room42");
  g_assert_cmpuint (authguard_count (g), ==, 0);
  g_assert_cmpuint (fail (g, "192.0.2.1", "room42", 2, S), ==, 0);
  g_assert_cmpuint (authguard_locked (g, "192.0.2.1", "room42", S), ==, 0);
  authguard_free (g);
}

static void
test_a_repeated_lock_out_doubles_up_to_the_cap (void)
{
  struct authguard_policy long_one = policy;
  struct authguard *g = guard_new (0);
  guint64 now = 0;
  guint32 expect = 10 * S, got;

  /* each round fails again as soon as the last lock-out is over */
  while (expect < AUTHGUARD_LOCKOUT_CAP_MS) {
    got = fail (g, "192.0.2.1", "room42", 3, now);
    g_assert_cmpuint (got, ==, expect);
    now += got;
    expect *= 2;
  }
  g_assert_cmpuint (fail (g, "192.0.2.1", "room42", 3, now), ==,
      AUTHGUARD_LOCKOUT_CAP_MS);

  /* a first lock-out longer than the cap is kept */
  long_one.lockout_ms = 2 * AUTHGUARD_LOCKOUT_CAP_MS;
  g_assert_cmpuint (authguard_failure (g, "192.0.2.9", "room42", &long_one,
          0), ==, 0);
  authguard_failure (g, "192.0.2.9", "room42", &long_one, 0);
  g_assert_cmpuint (authguard_failure (g, "192.0.2.9", "room42", &long_one,
          0), ==, 2 * AUTHGUARD_LOCKOUT_CAP_MS);
  authguard_free (g);
}

static void
test_a_lock_out_is_forgotten_after_as_long_again (void)
{
  struct authguard *g = guard_new (0);

  fail (g, "192.0.2.1", "room42", 3, 0);        /* locked 0..10 s */
  /* remembered until 20 s: then a new lock-out is a first one */
  g_assert_cmpuint (authguard_sweep (g, 19 * S), ==, 1);
  g_assert_cmpuint (authguard_sweep (g, 60 * S), ==, 0);
  g_assert_cmpuint (fail (g, "192.0.2.1", "room42", 3, 60 * S), ==, 10 * S);
  authguard_free (g);
}

static void
test_failures_in_flight_during_a_lock_out_add_nothing (void)
{
  struct authguard *g = guard_new (0);

  fail (g, "192.0.2.1", "room42", 3, 0);
  g_assert_cmpuint (fail (g, "192.0.2.1", "room42", 1, S), ==, 0);
  g_assert_cmpuint (authguard_locked (g, "192.0.2.1", "room42", S), ==, 9 * S);
  authguard_free (g);
}

static void
test_no_limit_keeps_nothing (void)
{
  struct authguard_policy off = policy;
  struct authguard *g = guard_new (0);
  guint i;

  off.max_failures = 0;
  for (i = 0; i < 100; i++)
    g_assert_cmpuint (authguard_failure (g, "192.0.2.1", "room42", &off, 0),
        ==, 0);
  g_assert_cmpuint (authguard_count (g), ==, 0);
  authguard_free (g);
}

static void
test_the_table_is_bounded_and_keeps_lock_outs_first (void)
{
  struct authguard *g = guard_new (4);
  gchar addr[32];
  guint i;

  fail (g, "192.0.2.1", "room42", 3, 0);        /* locked out, the oldest */
  for (i = 0; i < 1000; i++) {
    g_snprintf (addr, sizeof addr, "198.51.100.%u", i);
    fail (g, addr, "room42", 1, S);
    g_assert_cmpuint (authguard_count (g), <=, 4);
  }
  /* the newest one-failure keys are kept, and the lock-out too */
  g_assert_cmpuint (authguard_count (g), ==, 4);
  g_assert_cmpuint (authguard_locked (g, "192.0.2.1", "room42", S), ==, 9 * S);

  /* all locked out: the oldest goes */
  for (i = 0; i < 4; i++) {
    g_snprintf (addr, sizeof addr, "203.0.113.%u", i);
    fail (g, addr, "room42", 3, 2 * S);
  }
  g_assert_cmpuint (authguard_count (g), ==, 4);
  g_assert_cmpuint (authguard_locked (g, "192.0.2.1", "room42", 2 * S), ==, 0);
  g_assert_cmpuint (authguard_locked (g, "203.0.113.0", "room42", 2 * S), ==,
      10 * S);
  authguard_free (g);
}

static void
test_a_long_user_is_cut_not_overflowed (void)
{
  struct authguard *g = guard_new (0);
  gchar *user = g_strnfill (5000, 'u');

  g_assert_cmpuint (fail (g, "192.0.2.1", user, 3, 0), ==, 10 * S);
  g_assert_cmpuint (authguard_locked (g, "192.0.2.1", user, 0), ==, 10 * S);
  g_free (user);
  authguard_free (g);
}

/* authguard_source of a textual address */
static gchar *
source_of (const gchar * text)
{
  guint8 addr[16];
  gchar out[INET6_ADDRSTRLEN + 3];
  int af = strchr (text, ':') ? AF_INET6 : AF_INET;

  g_assert_cmpint (inet_pton (af, text, addr), ==, 1);
  g_assert_cmpint (authguard_source (out, sizeof (out), af, addr), ==, 0);
  return g_strdup (out);
}

/* an IPv6 host has a /64 at least and picks its address in it: counted
 * per address, a guesser would start afresh from each */
static void
test_an_ipv6_source_counts_by_its_64 (void)
{
  struct authguard *g = guard_new (0);
  gchar *a = source_of ("2001:db8:1:2::10");
  gchar *b = source_of ("2001:db8:1:2:ffff:1:2:3");
  gchar *other = source_of ("2001:db8:1:3::10");
  gchar *v4 = source_of ("192.0.2.7");
  gchar *mapped = source_of ("::ffff:192.0.2.8");
  gchar out[5];                 /* "::" fits, "::/64" does not */
  guint8 any[16] = { 0 };

  g_assert_cmpstr (a, ==, "2001:db8:1:2::/64");
  g_assert_cmpstr (b, ==, a);
  g_assert_cmpstr (other, ==, "2001:db8:1:3::/64");
  /* IPv4, and IPv4 in IPv6, by the host */
  g_assert_cmpstr (v4, ==, "192.0.2.7");
  g_assert_cmpstr (mapped, ==, "192.0.2.8");
  /* too small, or no IP family: refused, not cut */
  g_assert_cmpint (authguard_source (out, sizeof (out), AF_INET6, any), !=,
      0);
  g_assert_cmpint (authguard_source (out, sizeof (out), AF_UNIX, any), !=, 0);

  /* failures from two addresses of one /64 lock the /64 out */
  g_assert_cmpuint (fail (g, a, "room42", 2, 0), ==, 0);
  g_assert_cmpuint (fail (g, b, "room42", 1, 0), ==, 10 * S);
  g_assert_cmpuint (authguard_locked (g, other, "room42", 0), ==, 0);
  g_free (a);
  g_free (b);
  g_free (other);
  g_free (v4);
  g_free (mapped);
  authguard_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/authguard/the-nth-failure-locks-the-key-out",
      test_the_nth_failure_locks_the_key_out);
  g_test_add_func ("/authguard/failures-older-than-the-window-do-not-count",
      test_failures_older_than_the_window_do_not_count);
  g_test_add_func ("/authguard/a-right-password-forgets-the-failures",
      test_a_right_password_forgets_the_failures);
  g_test_add_func ("/authguard/a-repeated-lock-out-doubles-up-to-the-cap",
      test_a_repeated_lock_out_doubles_up_to_the_cap);
  g_test_add_func ("/authguard/a-lock-out-is-forgotten-after-as-long-again",
      test_a_lock_out_is_forgotten_after_as_long_again);
  g_test_add_func
      ("/authguard/failures-in-flight-during-a-lock-out-add-nothing",
      test_failures_in_flight_during_a_lock_out_add_nothing);
  g_test_add_func ("/authguard/no-limit-keeps-nothing",
      test_no_limit_keeps_nothing);
  g_test_add_func ("/authguard/the-table-is-bounded-and-keeps-lock-outs-first",
      test_the_table_is_bounded_and_keeps_lock_outs_first);
  g_test_add_func ("/authguard/a-long-user-is-cut-not-overflowed",
      test_a_long_user_is_cut_not_overflowed);
  g_test_add_func ("/authguard/an-ipv6-source-counts-by-its-64",
      test_an_ipv6_source_counts_by_its_64);
  return g_test_run ();
}
