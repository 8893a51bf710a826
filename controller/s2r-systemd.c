/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-systemd.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

gboolean
s2r_systemd_notify (const char *state)
{
  const char *path = g_getenv ("NOTIFY_SOCKET");
  struct sockaddr_un sa = {.sun_family = AF_UNIX };
  gsize path_len, state_len = strlen (state);
  ssize_t sent;
  int fd, saved_errno;

  if (path == NULL || (path[0] != '/' && path[0] != '@'))
    return FALSE;
  path_len = strlen (path);
  if (path_len >= sizeof (sa.sun_path))
    return FALSE;
  memcpy (sa.sun_path, path, path_len);
  /* "@name": a socket in the abstract namespace */
  if (sa.sun_path[0] == '@')
    sa.sun_path[0] = '\0';

  fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return FALSE;
  sent = sendto (fd, state, state_len, MSG_NOSIGNAL,
      (struct sockaddr *) &sa, offsetof (struct sockaddr_un, sun_path)
      + path_len);
  saved_errno = errno;
  close (fd);
  if (sent != (ssize_t) state_len) {
    g_debug ("notify %s: %s", path, g_strerror (saved_errno));
    return FALSE;
  }
  return TRUE;
}

gboolean
s2r_systemd_notifyf (const char *format, ...)
{
  g_autofree char *state = NULL;
  va_list args;

  va_start (args, format);
  state = g_strdup_vprintf (format, args);
  va_end (args);
  return s2r_systemd_notify (state);
}

static gboolean
watchdog_cb (gpointer user_data)
{
  s2r_systemd_notify ("WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

guint
s2r_systemd_watchdog_add (void)
{
  const char *usec = g_getenv ("WATCHDOG_USEC");
  const char *pid = g_getenv ("WATCHDOG_PID");
  guint64 interval_us, for_pid;

  if (usec == NULL ||
      !g_ascii_string_to_unsigned (usec, 10, 1, G_MAXUINT64, &interval_us,
          NULL))
    return 0;
  if (pid && (!g_ascii_string_to_unsigned (pid, 10, 1, G_MAXUINT64, &for_pid,
              NULL) || for_pid != (guint64) getpid ()))
    return 0;
  /* half the interval, as sd_watchdog_enabled(3) advises */
  s2r_systemd_notify ("WATCHDOG=1");
  return g_timeout_add (MAX (1, interval_us / 2000), watchdog_cb, NULL);
}
