/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include "s2r-call-request.h"
#include "s2r-config.h"

G_BEGIN_DECLS

/**
 * S2rAdmission:
 *
 * Admission control by measured headroom: a new call is refused (503)
 * while the admitted ones would fall behind the clock. Three figures,
 * sampled every second on the main loop:
 *  - the media loop's load (sipsrc's `media-loop-busy`,
 *    `media-loop-late-ms`, docs/sipsrc-contract.md),
 *  - the machine's CPU in use (/proc/stat, every process on it),
 *  - the cost of a call, measured as the process's CPU per cost unit of
 *    the calls it carries (an audio call is one unit; video, a generated
 *    video track, recording and extra destinations add to it).
 * A call is admitted when the media loop is neither busy nor late and the
 * CPU in use, plus what the calls admitted since the last sample and the
 * new one will cost, stays under the limit.
 */
typedef struct _S2rAdmission S2rAdmission;

S2rAdmission *s2r_admission_new (const S2rConfig * config);
void s2r_admission_free (S2rAdmission * admission);
void s2r_admission_configure (S2rAdmission * admission,
    const S2rConfig * config);

gdouble s2r_admission_call_units (const S2rCallRequest * req,
    const S2rConfig * config);
void s2r_admission_set_active_units (S2rAdmission * admission,
    gdouble units);
gboolean s2r_admission_admit (S2rAdmission * admission, gdouble units,
    GError ** error);

/* the figures of the last sample, for status and tests */
void s2r_admission_get_figures (S2rAdmission * admission,
    gdouble * cpu_busy, gdouble * unit_cost, gdouble * media_busy,
    gdouble * media_late_ms, guint64 * refused);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rAdmission, s2r_admission_free);

G_END_DECLS
