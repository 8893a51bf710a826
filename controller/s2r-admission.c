/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-admission.h"
#include "s2r-process.h"
#include "s2r-error.h"

#include <gst/gst.h>
#include <stdio.h>

#define SAMPLE_INTERVAL_MS 1000
/* a call's CPU shows in the samples about this long after it is admitted:
 * until then it is counted by its estimate */
#define SETTLE_US (2 * G_USEC_PER_SEC)
/* the measured cost per unit needs a few calls to mean something */
#define MIN_UNITS_TO_MEASURE 3.0
#define COST_SMOOTHING 0.3
/* one line in the log per this many refusals at most per second */
#define REFUSAL_LOG_INTERVAL_US G_USEC_PER_SEC

/* Estimated cost of a call beyond its audio, in audio calls. The audio
 * chain (decode, resample, AAC) is the unit; H.264 is passed through
 * (depayload, parse, FLV), the generated video track is encoded once per
 * process and replayed, a recording muxes and writes a second copy, and
 * each further destination is one more RTMP session on the SIP thread. */
#define UNITS_VIDEO 0.5
#define UNITS_STILL_VIDEO 0.1
#define UNITS_RECORD 0.3
#define UNITS_EXTRA_DESTINATION 0.1

typedef struct
{
  gint64 at;
  gdouble units;
} Admitted;

struct _S2rAdmission
{
  gboolean enabled;
  guint cpu_limit;
  guint media_busy_limit;
  guint media_late_limit_ms;
  gdouble default_unit_cost;    /* fraction of one core */
  gboolean cost_measured;       /* unit_cost is no longer the default */
  guint n_cores;

  GSource *sampler;
  /* never started: its stats carry the process's media loop load */
  GstElement *probe;

  /* the last sample */
  gint64 sampled_at;
  guint64 machine_busy_jiffies, machine_nice_jiffies, machine_total_jiffies;
  gint64 process_cpu_us;
  gdouble cpu_busy;             /* the machine, 0..1 */
  gdouble unit_cost;            /* fraction of one core per unit */
  gdouble media_busy;
  gdouble media_late_ms;

  gdouble active_units;
  GQueue recent;                /* Admitted, not yet in the samples */
  guint64 refused;
  guint64 refused_unlogged;
  gint64 refusal_logged_at;
};

/* The machine's jiffies: busy at normal priority, busy niced, and all.
 * Other programs on the host take the headroom too, except niced batch
 * work (a fuzzer, a backup), which yields to the calls; but the media
 * threads are niced themselves (gstsipmedialoop.c), so their share of the
 * niced time is counted back from the process's own CPU (sample). */
static gboolean
read_machine_cpu (guint64 * busy, guint64 * nice, guint64 * total)
{
  g_autofree char *text = NULL;
  guint64 v[8] = { 0, };

  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL) ||
      sscanf (text, "cpu %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
          " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
          " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
          &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 8)
    return FALSE;
  /* user nice system idle iowait irq softirq steal */
  *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
  *nice = v[1];
  *busy = *total - v[1] - v[3] - v[4];
  return TRUE;
}

static void
read_media_loop (S2rAdmission * admission)
{
  GstStructure *stats = NULL;

  if (admission->probe == NULL)
    return;
  g_object_get (admission->probe, "stats", &stats, NULL);
  if (stats == NULL)
    return;
  gst_structure_get_double (stats, "media-loop-busy", &admission->media_busy);
  gst_structure_get_double (stats, "media-loop-late-ms",
      &admission->media_late_ms);
  gst_structure_free (stats);
}

static void
sample (S2rAdmission * admission)
{
  gint64 now = g_get_monotonic_time ();
  gint64 cpu_us = s2r_process_cpu_us ();
  guint64 busy = 0, nice = 0, total = 0;
  Admitted *a;

  if (read_machine_cpu (&busy, &nice, &total) &&
      total > admission->machine_total_jiffies &&
      admission->machine_total_jiffies && now > admission->sampled_at) {
    gdouble all = total - admission->machine_total_jiffies;
    gdouble niced = (nice - admission->machine_nice_jiffies) / all;
    gdouble ours = (gdouble) (cpu_us - admission->process_cpu_us) /
        (now - admission->sampled_at) / admission->n_cores;

    /* the niced time that is our media threads' counts, other niced
     * work does not */
    admission->cpu_busy = (busy - admission->machine_busy_jiffies) / all +
        MIN (niced, ours);
  }
  admission->machine_busy_jiffies = busy;
  admission->machine_nice_jiffies = nice;
  admission->machine_total_jiffies = total;

  /* what a unit costs, from what the process spent carrying the calls */
  if (admission->sampled_at && now > admission->sampled_at &&
      admission->active_units >= MIN_UNITS_TO_MEASURE) {
    gdouble cores = (gdouble) (cpu_us - admission->process_cpu_us) /
        (now - admission->sampled_at);
    gdouble measured = cores / admission->active_units;

    admission->unit_cost = admission->unit_cost * (1 - COST_SMOOTHING) +
        measured * COST_SMOOTHING;
    admission->cost_measured = TRUE;
  }
  admission->process_cpu_us = cpu_us;
  admission->sampled_at = now;

  read_media_loop (admission);

  while ((a = g_queue_peek_head (&admission->recent)) &&
      now - a->at > SETTLE_US)
    g_free (g_queue_pop_head (&admission->recent));
}

static gboolean
sample_cb (gpointer user_data)
{
  sample (user_data);
  return G_SOURCE_CONTINUE;
}

S2rAdmission *
s2r_admission_new (const S2rConfig * config)
{
  S2rAdmission *admission = g_new0 (S2rAdmission, 1);

  admission->n_cores = MAX (1, g_get_num_processors ());
  g_queue_init (&admission->recent);
  s2r_admission_configure (admission, config);
  return admission;
}

/* At start-up and on a reload: the sampler starts the first time admission
 * control is enabled and then keeps the figures of /api/v1/status fresh */
void
s2r_admission_configure (S2rAdmission * admission, const S2rConfig * config)
{
  gdouble call_cost;

  admission->enabled = s2r_config_get_admission (config,
      &admission->cpu_limit, &admission->media_busy_limit,
      &admission->media_late_limit_ms, &call_cost);
  admission->default_unit_cost = call_cost / 100.0;
  if (!admission->cost_measured)
    admission->unit_cost = admission->default_unit_cost;
  if (!admission->enabled || admission->sampler)
    return;

  admission->probe = gst_element_factory_make ("sipsrc", NULL);
  if (admission->probe)
    gst_object_ref_sink (admission->probe);
  else
    g_warning ("admission control: no sipsrc element, the media loop's "
        "load is not watched");
  sample (admission);
  admission->sampler = g_timeout_source_new (SAMPLE_INTERVAL_MS);
  g_source_set_callback (admission->sampler, sample_cb, admission, NULL);
  g_source_attach (admission->sampler, g_main_context_get_thread_default ());
}

void
s2r_admission_free (S2rAdmission * admission)
{
  if (admission == NULL)
    return;
  if (admission->sampler) {
    g_source_destroy (admission->sampler);
    g_source_unref (admission->sampler);
  }
  g_clear_pointer (&admission->probe, gst_object_unref);
  g_queue_clear_full (&admission->recent, g_free);
  g_free (admission);
}

gdouble
s2r_admission_call_units (const S2rCallRequest * req,
    const S2rConfig * config)
{
  gdouble units = 1.0;
  gint still = s2r_call_request_get_generate_video (req);

  if (s2r_call_request_get_has_video (req))
    units += UNITS_VIDEO;
  else if (still > 0 || (still < 0 && s2r_config_get_still_video (config)))
    units += UNITS_STILL_VIDEO;
  if (s2r_call_request_get_record (req))
    units += UNITS_RECORD;
  if (s2r_call_request_get_n_targets (req) > 1)
    units += UNITS_EXTRA_DESTINATION *
        (s2r_call_request_get_n_targets (req) - 1);
  return units;
}

void
s2r_admission_set_active_units (S2rAdmission * admission, gdouble units)
{
  admission->active_units = MAX (0, units);
}

static void
log_refusal (S2rAdmission * admission, const char *reason)
{
  gint64 now = g_get_monotonic_time ();

  admission->refused++;
  admission->refused_unlogged++;
  if (now - admission->refusal_logged_at < REFUSAL_LOG_INTERVAL_US)
    return;
  g_message ("admission: %" G_GUINT64_FORMAT " call(s) refused: %s",
      admission->refused_unlogged, reason);
  admission->refused_unlogged = 0;
  admission->refusal_logged_at = now;
}

static gboolean
refuse (S2rAdmission * admission, GError ** error, const char *format, ...)
G_GNUC_PRINTF (3, 4);

static gboolean
refuse (S2rAdmission * admission, GError ** error, const char *format, ...)
{
  g_autofree char *reason = NULL;
  va_list args;

  va_start (args, format);
  reason = g_strdup_vprintf (format, args);
  va_end (args);
  log_refusal (admission, reason);
  g_set_error (error, S2R_ERROR, S2R_ERROR_UNAVAILABLE,
      "at capacity: %s", reason);
  return FALSE;
}

gboolean
s2r_admission_admit (S2rAdmission * admission, gdouble units,
    GError ** error)
{
  gdouble settling = 0, projected;
  Admitted *a;

  if (!admission->enabled)
    return TRUE;

  /* the calls up already miss their ticks: one more makes it worse */
  if (admission->media_busy * 100 > admission->media_busy_limit)
    return refuse (admission, error,
        "the busiest media thread works %.0f %% of the time (limit %u %%)",
        admission->media_busy * 100, admission->media_busy_limit);
  if (admission->media_late_ms > admission->media_late_limit_ms)
    return refuse (admission, error,
        "media ticks start %.1f ms late on average (limit %u ms)",
        admission->media_late_ms, admission->media_late_limit_ms);
  for (GList * l = admission->recent.head; l; l = l->next)
    settling += ((Admitted *) l->data)->units;
  projected = admission->cpu_busy + (settling + units) *
      admission->unit_cost / admission->n_cores;
  if (projected * 100 > admission->cpu_limit)
    return refuse (admission, error, "the CPU is %.0f %% busy, %.0f %% with "
        "the calls being set up and this one (limit %u %%)",
        admission->cpu_busy * 100, projected * 100, admission->cpu_limit);

  a = g_new (Admitted, 1);
  a->at = g_get_monotonic_time ();
  a->units = units;
  g_queue_push_tail (&admission->recent, a);
  return TRUE;
}

void
s2r_admission_get_figures (S2rAdmission * admission, gdouble * cpu_busy,
    gdouble * unit_cost, gdouble * media_busy, gdouble * media_late_ms,
    guint64 * refused)
{
  *cpu_busy = admission->cpu_busy;
  *unit_cost = admission->unit_cost;
  *media_busy = admission->media_busy;
  *media_late_ms = admission->media_late_ms;
  *refused = admission->refused;
}
