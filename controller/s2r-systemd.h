/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * The service manager's notification protocol (sd_notify(3)), written here
 * instead of linking libsystemd: it is one datagram to $NOTIFY_SOCKET, a
 * protocol systemd documents as stable, and the daemon stays the same
 * program with or without systemd. Without $NOTIFY_SOCKET every call does
 * nothing.
 */

gboolean s2r_systemd_notify (const char *state);
gboolean s2r_systemd_notifyf (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* WATCHDOG=1 at half of $WATCHDOG_USEC from a timeout on the thread-default
 * main context, so a main loop that stops turning gets the service killed
 * and restarted. The source's id, or 0 when no watchdog was asked for (or
 * it was asked for another process, $WATCHDOG_PID). */
guint s2r_systemd_watchdog_add (void);

G_END_DECLS
