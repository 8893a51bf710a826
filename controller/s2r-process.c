/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-process.h"

#include <sys/resource.h>

/* getrusage: µs, where /proc/self/stat counts clock ticks (10 ms) */
gint64
s2r_process_cpu_us (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (gint64) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * G_USEC_PER_SEC
      + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}
