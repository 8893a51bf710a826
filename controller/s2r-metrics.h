/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include "s2r-call.h"

G_BEGIN_DECLS

/**
 * S2rMetrics:
 *
 * What GET /metrics reports, in the Prometheus text format: the counters
 * kept over the process's life (calls started and ended, the media of the
 * calls that ended) and the set-up histograms, fed by the call manager on
 * the main loop. Labels have bounded values only (statuses, phases),
 * never a call id.
 */
typedef struct _S2rMetrics S2rMetrics;

S2rMetrics *s2r_metrics_new (void);
void s2r_metrics_free (S2rMetrics * metrics);

void s2r_metrics_call_started (S2rMetrics * metrics);
void s2r_metrics_call_changed (S2rMetrics * metrics, S2rCall * call);
void s2r_metrics_call_stopped (S2rMetrics * metrics, S2rCall * call);

/* Lines of the text format, for the parts that add their own (the call
 * manager's metrics parts): # HELP and # TYPE, then the sample */
void s2r_metrics_append_header (GString * out, const char *name,
    const char *type, const char *help);
void s2r_metrics_append_counter (GString * out, const char *name,
    const char *help, guint64 value);
void s2r_metrics_append_gauge (GString * out, const char *name,
    const char *help, gdouble value);

/* @calls: the calls still listed (S2rCall), @extra: lines the caller adds
 * (its own gauges, already in the text format) */
char *s2r_metrics_render (S2rMetrics * metrics, GPtrArray * calls,
    const char *extra);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rMetrics, s2r_metrics_free);

G_END_DECLS
