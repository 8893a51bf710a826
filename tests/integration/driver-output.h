/* sip2rtmp: what the integration tests' drivers print, read by the tests
 * as they read gst-launch-1.0 -m's output.
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef DRIVER_OUTPUT_H
#define DRIVER_OUTPUT_H

#include <gst/gst.h>

/* One line on stdout, flushed */
void driver_say (const gchar * format, ...) G_GNUC_PRINTF (1, 2);

/* A bus message as gst-launch-1.0 -m prints it ("Got message #N from
 * element "src" (element): sip-call, ..."), and for an error or a warning
 * a second line "ERROR: from element NAME: MESSAGE (DEBUG)" */
void driver_print_message (GstMessage * msg, guint seq);

#endif
