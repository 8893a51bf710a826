/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The CPU time this process has used, user and system, µs: what admission
 * control samples and /metrics reports as process_cpu_seconds_total */
gint64 s2r_process_cpu_us (void);

G_END_DECLS
