/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-metrics.h"
#include "s2r-process.h"

#include <string.h>
#include <unistd.h>

/* set-up times, seconds: from an INVITE on loopback to a carrier's answer */
static const double buckets[] = {
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
};

#define N_BUCKETS G_N_ELEMENTS (buckets)

enum
{
  PHASE_INVITE,                 /* API request -> INVITE sent */
  PHASE_ANSWER,                 /* INVITE -> answer */
  PHASE_MEDIA,                  /* answer -> first media published */
  N_PHASES
};

static const char *const phase_names[N_PHASES] = {
  "invite", "answer", "media"
};

typedef struct
{
  guint64 counts[N_BUCKETS];
  guint64 count;
  double sum;
} Histogram;

/* which milestones of a call were observed already */
typedef struct
{
  gboolean done[N_PHASES];
} Observed;

struct _S2rMetrics
{
  guint64 started;
  guint64 ended[S2R_CALL_BUSY + 1];     /* by final status */
  S2rMediaCounters ended_media;         /* the media of the calls that ended */
  Histogram setup[N_PHASES];
  GHashTable *observed;                 /* S2rCall -> Observed */
};

S2rMetrics *
s2r_metrics_new (void)
{
  S2rMetrics *metrics = g_new0 (S2rMetrics, 1);

  metrics->observed = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return metrics;
}

void
s2r_metrics_free (S2rMetrics * metrics)
{
  if (metrics == NULL)
    return;
  g_hash_table_unref (metrics->observed);
  g_free (metrics);
}

static void
observe (Histogram * h, double seconds)
{
  for (guint i = 0; i < N_BUCKETS; i++)
    if (seconds <= buckets[i])
      h->counts[i]++;
  h->count++;
  h->sum += seconds;
}

void
s2r_metrics_call_started (S2rMetrics * metrics)
{
  metrics->started++;
}

void
s2r_metrics_call_changed (S2rMetrics * metrics, S2rCall * call)
{
  gint64 t[N_PHASES + 1];
  Observed *o = g_hash_table_lookup (metrics->observed, call);

  if (o == NULL) {
    o = g_new0 (Observed, 1);
    g_hash_table_insert (metrics->observed, call, o);
  }
  s2r_call_get_milestones (call, &t[0], &t[1], &t[2], &t[3]);
  for (guint p = 0; p < N_PHASES; p++) {
    if (o->done[p] || t[p] == 0 || t[p + 1] == 0)
      continue;
    o->done[p] = TRUE;
    observe (&metrics->setup[p], (t[p + 1] - t[p]) / (double) G_USEC_PER_SEC);
  }
}

void
s2r_metrics_call_stopped (S2rMetrics * metrics, S2rCall * call)
{
  S2rMediaCounters m;
  S2rCallStatus status = s2r_call_get_status (call);

  s2r_metrics_call_changed (metrics, call);
  g_hash_table_remove (metrics->observed, call);
  if (status <= S2R_CALL_BUSY)
    metrics->ended[status]++;
  s2r_call_get_media_counters (call, &m);
  metrics->ended_media.rtp_packets += m.rtp_packets;
  metrics->ended_media.rtp_bytes += m.rtp_bytes;
  metrics->ended_media.rtp_lost += m.rtp_lost;
  metrics->ended_media.rtmp_frames += m.rtmp_frames;
  metrics->ended_media.rtmp_dropped_ms += m.rtmp_dropped_ms;
}

void
s2r_metrics_append_header (GString * out, const char *name, const char *type,
    const char *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
      name, type);
}

void
s2r_metrics_append_counter (GString * out, const char *name,
    const char *help, guint64 value)
{
  s2r_metrics_append_header (out, name, "counter", help);
  g_string_append_printf (out, "%s %" G_GUINT64_FORMAT "\n", name, value);
}

void
s2r_metrics_append_gauge (GString * out, const char *name, const char *help,
    gdouble value)
{
  s2r_metrics_append_header (out, name, "gauge", help);
  g_string_append_printf (out, "%s %.6g\n", name, value);
}

static gint
lowercase_status (const char *status, char *buf, gsize size)
{
  g_strlcpy (buf, status, size);
  for (char *c = buf; *c; c++)
    *c = g_ascii_tolower (*c);
  return 0;
}

/* The standard process collector's metrics, from /proc */
static void
render_process (GString * out)
{
  g_autofree char *stat = NULL;
  g_autoptr (GDir) fds = g_dir_open ("/proc/self/fd", 0, NULL);
  long page = sysconf (_SC_PAGESIZE);
  guint n_fds = 0;

  if (fds)
    while (g_dir_read_name (fds))
      n_fds++;
  if (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL)) {
    const char *after = strrchr (stat, ')');
    g_auto (GStrv) f = after ? g_strsplit (after + 2, " ", -1) : NULL;

    /* fields from the state (3rd of the line): utime 14, stime 15,
     * starttime 22, vsize 23, rss 24; the CPU time from getrusage */
    if (f && g_strv_length (f) > 22) {
      double cpu = s2r_process_cpu_us () / (double) G_USEC_PER_SEC;

      s2r_metrics_append_header (out, "process_cpu_seconds_total", "counter",
          "Total user and system CPU time spent in seconds.");
      g_string_append_printf (out, "process_cpu_seconds_total %.2f\n", cpu);
      s2r_metrics_append_header (out, "process_virtual_memory_bytes", "gauge",
          "Virtual memory size in bytes.");
      g_string_append_printf (out, "process_virtual_memory_bytes %s\n",
          f[20]);
      s2r_metrics_append_header (out, "process_resident_memory_bytes", "gauge",
          "Resident memory size in bytes.");
      g_string_append_printf (out, "process_resident_memory_bytes %"
          G_GUINT64_FORMAT "\n", g_ascii_strtoull (f[21], NULL, 10) * page);
    }
  }
  s2r_metrics_append_header (out, "process_open_fds", "gauge",
      "Number of open file descriptors.");
  g_string_append_printf (out, "process_open_fds %u\n", n_fds);
  s2r_metrics_append_header (out, "process_max_fds", "gauge",
      "Maximum number of open file descriptors.");
  g_string_append_printf (out, "process_max_fds %ld\n",
      sysconf (_SC_OPEN_MAX));
}

char *
s2r_metrics_render (S2rMetrics * metrics, GPtrArray * calls,
    const char *extra)
{
  GString *out = g_string_new (NULL);
  guint by_status[S2R_CALL_BUSY + 1] = { 0, };
  guint by_stream[S2R_STREAM_UNPUBLISHED + 1] = { 0, };
  S2rMediaCounters media = metrics->ended_media;
  char label[32];

  for (guint i = 0; i < calls->len; i++) {
    S2rCall *call = g_ptr_array_index (calls, i);
    S2rMediaCounters m;

    if (!s2r_call_is_active (call))
      continue;
    by_status[s2r_call_get_status (call)]++;
    for (guint d = 0; d < s2r_call_get_n_destinations (call); d++)
      by_stream[s2r_destination_get_status (s2r_call_get_destination (call,
                  d))]++;
    s2r_call_get_media_counters (call, &m);
    media.rtp_packets += m.rtp_packets;
    media.rtp_bytes += m.rtp_bytes;
    media.rtp_lost += m.rtp_lost;
    media.rtmp_frames += m.rtmp_frames;
    media.rtmp_dropped_ms += m.rtmp_dropped_ms;
  }

  s2r_metrics_append_header (out, "sip2rtmp_calls", "gauge",
      "Active calls by status.");
  for (guint s = 0; s <= S2R_CALL_ESTABLISHED; s++) {
    lowercase_status (s2r_call_status_to_string (s), label, sizeof (label));
    g_string_append_printf (out, "sip2rtmp_calls{status=\"%s\"} %u\n", label,
        by_status[s]);
  }
  s2r_metrics_append_counter (out, "sip2rtmp_calls_started_total",
      "Calls accepted by the API.", metrics->started);
  s2r_metrics_append_header (out, "sip2rtmp_calls_ended_total", "counter",
      "Calls whose pipeline is down, by final status.");
  for (guint s = S2R_CALL_FINISH; s <= S2R_CALL_BUSY; s++) {
    lowercase_status (s2r_call_status_to_string (s), label, sizeof (label));
    g_string_append_printf (out, "sip2rtmp_calls_ended_total{status=\"%s\"} %"
        G_GUINT64_FORMAT "\n", label, metrics->ended[s]);
  }

  s2r_metrics_append_header (out, "sip2rtmp_call_setup_seconds", "histogram",
      "Call set-up: API request to INVITE (invite), INVITE to answer "
      "(answer), answer to the first media published (media).");
  for (guint p = 0; p < N_PHASES; p++) {
    const Histogram *h = &metrics->setup[p];

    for (guint b = 0; b < N_BUCKETS; b++)
      g_string_append_printf (out, "sip2rtmp_call_setup_seconds_bucket{phase="
          "\"%s\",le=\"%g\"} %" G_GUINT64_FORMAT "\n", phase_names[p],
          buckets[b], h->counts[b]);
    g_string_append_printf (out, "sip2rtmp_call_setup_seconds_bucket{phase="
        "\"%s\",le=\"+Inf\"} %" G_GUINT64_FORMAT "\n", phase_names[p],
        h->count);
    g_string_append_printf (out, "sip2rtmp_call_setup_seconds_sum{phase="
        "\"%s\"} %.6f\n", phase_names[p], h->sum);
    g_string_append_printf (out, "sip2rtmp_call_setup_seconds_count{phase="
        "\"%s\"} %" G_GUINT64_FORMAT "\n", phase_names[p], h->count);
  }

  s2r_metrics_append_counter (out, "sip2rtmp_rtp_packets_received_total",
      "RTP packets received from callees.", media.rtp_packets);
  s2r_metrics_append_counter (out, "sip2rtmp_rtp_received_bytes_total",
      "RTP payload bytes received from callees.", media.rtp_bytes);
  s2r_metrics_append_counter (out, "sip2rtmp_rtp_packets_lost_total",
      "RTP packets lost on the way from callees.", media.rtp_lost);
  s2r_metrics_append_counter (out, "sip2rtmp_rtmp_frames_total",
      "Frames (FLV tags) handed to RTMP destinations.", media.rtmp_frames);
  s2r_metrics_append_header (out, "sip2rtmp_rtmp_dropped_seconds_total",
      "counter", "Media lost while a destination was not publishing.");
  g_string_append_printf (out, "sip2rtmp_rtmp_dropped_seconds_total %.3f\n",
      media.rtmp_dropped_ms / 1000.0);
  s2r_metrics_append_header (out, "sip2rtmp_rtmp_destinations", "gauge",
      "Destinations of active calls by state.");
  for (guint s = S2R_STREAM_PENDING; s <= S2R_STREAM_FAILED; s++) {
    lowercase_status (s2r_stream_status_to_string (s), label, sizeof (label));
    g_string_append_printf (out, "sip2rtmp_rtmp_destinations{state=\"%s\"} "
        "%u\n", label, by_stream[s]);
  }
  if (extra)
    g_string_append (out, extra);
  render_process (out);
  return g_string_free (out, FALSE);
}
