/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-call-manager.h"
#include "s2r-admission.h"
#include "s2r-metrics.h"
#include "s2r-error.h"
#include "s2r-stream-registry.h"

#include <string.h>

struct _S2rCallManager
{
  GObject parent;

  const S2rConfig *config;
  S2rTemplate *tmpl;
  /* every call's bus messages, to the context the manager was made on,
   * where the calls, the API and the events run */
  S2rBusForwarder *forwarder;
  /* call id -> S2rCall, active and recently finished */
  GHashTable *calls;
  /* record file name -> S2rCall writing it, until its pipeline is down */
  GHashTable *recordings;
  guint n_active;
  gdouble active_units;         /* s2r_admission_call_units of those */
  S2rAdmission *admission;
  S2rMetrics *metrics;
  GArray *metrics_parts;        /* MetricsPart */
  guint64 sequence;
  /* stream keys held beyond this process (a cluster), or NULL */
  const S2rStreamRegistry *registry;
  gpointer registry_data;

  gboolean shutting_down;
  GCallback shutdown_done;
  gpointer shutdown_data;
};

enum
{
  SIGNAL_CALL_EVENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (S2rCallManager, s2r_call_manager, G_TYPE_OBJECT);

typedef struct
{
  S2rMetricsFunc func;
  gpointer data;
} MetricsPart;

static void
s2r_call_manager_finalize (GObject * object)
{
  S2rCallManager *manager = S2R_CALL_MANAGER (object);

  g_hash_table_unref (manager->calls);
  g_hash_table_unref (manager->recordings);
  g_clear_pointer (&manager->tmpl, s2r_template_free);
  g_clear_pointer (&manager->admission, s2r_admission_free);
  g_clear_pointer (&manager->metrics, s2r_metrics_free);
  g_clear_pointer (&manager->forwarder, s2r_bus_forwarder_unref);
  g_array_unref (manager->metrics_parts);

  G_OBJECT_CLASS (s2r_call_manager_parent_class)->finalize (object);
}

static void
s2r_call_manager_class_init (S2rCallManagerClass * klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = s2r_call_manager_finalize;

  /**
   * S2rCallManager::call-event:
   * @call: the call that changed
   * @sequence: process-wide event number, from 1
   * @json: the event as a JSON object: the call's fields (WCS names and
   *   types) plus `sequence`, `event` and `timestamp`
   */
  signals[SIGNAL_CALL_EVENT] = g_signal_new ("call-event",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 3, S2R_TYPE_CALL, G_TYPE_UINT64, G_TYPE_STRING);
}

static void
s2r_call_manager_init (S2rCallManager * manager)
{
  /* calls die only after their pipeline has stopped (finish) */
  manager->calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_object_unref);
  manager->recordings = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  manager->metrics_parts = g_array_new (FALSE, FALSE, sizeof (MetricsPart));
}

/* The calls run on the thread-default context of the caller */
S2rCallManager *
s2r_call_manager_new (const S2rConfig * config, GError ** error)
{
  g_autoptr (S2rCallManager) manager = g_object_new (S2R_TYPE_CALL_MANAGER,
      NULL);
  g_autoptr (GMainContext) context = g_main_context_ref_thread_default ();

  manager->config = config;
  manager->forwarder = s2r_bus_forwarder_new (context);
  manager->tmpl = s2r_template_load (s2r_config_get_pipelines_dir (config),
      s2r_config_get_template (config), error);
  if (manager->tmpl == NULL ||
      (s2r_config_get_codecs (config) && !s2r_template_check_codecs
          (manager->tmpl, s2r_config_get_codecs (config), error)))
    return NULL;
  manager->admission = s2r_admission_new (config);
  manager->metrics = s2r_metrics_new ();
  return g_steal_pointer (&manager);
}

/* @digit: a DtmfEvent's key, else NULL; @method: how we sent it
 * ("rfc4733", "info"), NULL for one the peer sent */
static char *
build_event_json (S2rCall * call, guint64 sequence, const char *digit,
    guint duration, const char *method)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *timestamp = g_date_time_format_iso8601 (now);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, digit ? "DtmfEvent" : "CallStatusEvent");
  if (digit) {
    json_builder_set_member_name (b, "digit");
    json_builder_add_string_value (b, digit);
    json_builder_set_member_name (b, "durationMs");
    json_builder_add_int_value (b, duration);
    json_builder_set_member_name (b, "direction");
    json_builder_add_string_value (b, method ? "sent" : "received");
    if (method) {
      json_builder_set_member_name (b, "method");
      json_builder_add_string_value (b, method);
    }
  }
  json_builder_set_member_name (b, "sequence");
  json_builder_add_int_value (b, (gint64) sequence);
  json_builder_set_member_name (b, "timestamp");
  json_builder_add_string_value (b, timestamp);
  s2r_call_add_json_members (call, b, S2R_DIALECT_NATIVE);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static void
emit_event_full (S2rCallManager * manager, S2rCall * call, const char *digit,
    guint duration, const char *method)
{
  g_autofree char *json = NULL;

  manager->sequence++;
  json = build_event_json (call, manager->sequence, digit, duration, method);
  g_signal_emit (manager, signals[SIGNAL_CALL_EVENT], 0, call,
      manager->sequence, json);
}

static void
emit_event (S2rCallManager * manager, S2rCall * call)
{
  emit_event_full (manager, call, NULL, 0, NULL);
}

/* Key presses go to the same consumers as state changes (SSE, webhooks) */
static void
call_dtmf_cb (S2rCall * call, const char *digit, guint duration,
    S2rCallManager * manager)
{
  emit_event_full (manager, call, digit, duration, NULL);
}

/* Digits we sent go to the same consumers, marked sent */
static void
call_dtmf_sent_cb (S2rCall * call, const char *digit, const char *method,
    guint duration, S2rCallManager * manager)
{
  emit_event_full (manager, call, digit, duration, method);
}

typedef struct
{
  S2rCallManager *manager;
  S2rCall *call;
} ForgetData;

static void
forget_data_free (gpointer data)
{
  ForgetData *fd = data;

  g_object_unref (fd->manager);
  g_object_unref (fd->call);
  g_free (fd);
}

/* Unless a new call took the id meanwhile */
static gboolean
forget_cb (gpointer user_data)
{
  ForgetData *fd = user_data;
  const char *id = s2r_call_get_id (fd->call);

  if (g_hash_table_lookup (fd->manager->calls, id) == fd->call)
    g_hash_table_remove (fd->manager->calls, id);
  return G_SOURCE_REMOVE;
}

static void
call_changed_cb (S2rCall * call, S2rCallManager * manager)
{
  s2r_metrics_call_changed (manager->metrics, call);
  emit_event (manager, call);
}

/* A call counts against max-calls until its pipeline is down */
static void
call_stopped_cb (S2rCall * call, S2rCallManager * manager)
{
  ForgetData *fd = g_new0 (ForgetData, 1);
  g_autoptr (GSource) forget = NULL;

  manager->n_active--;
  s2r_metrics_call_stopped (manager->metrics, call);
  manager->active_units -= s2r_admission_call_units (s2r_call_get_request
      (call), manager->config);
  if (manager->n_active == 0)
    manager->active_units = 0;  /* no rounding left over */
  s2r_admission_set_active_units (manager->admission, manager->active_units);
  if (s2r_call_request_get_record (s2r_call_get_request (call)) &&
      g_hash_table_lookup (manager->recordings,
          s2r_call_request_get_record (s2r_call_get_request (call))) == call)
    g_hash_table_remove (manager->recordings,
        s2r_call_request_get_record (s2r_call_get_request (call)));
  fd->manager = g_object_ref (manager);
  fd->call = g_object_ref (call);
  forget = g_timeout_source_new_seconds (MAX (1,
          s2r_config_get_keep_finished (manager->config)));
  g_source_set_callback (forget, forget_cb, fd, forget_data_free);
  g_source_attach (forget, s2r_bus_forwarder_get_context (manager->forwarder));

  if (manager->shutting_down && manager->n_active == 0 &&
      manager->shutdown_done) {
    GCallback done = manager->shutdown_done;

    manager->shutdown_done = NULL;
    ((void (*)(gpointer)) done) (manager->shutdown_data);
  }
}

/* Any destination of any active call */
static gboolean
stream_in_use (S2rCallManager * manager, const char *location)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, manager->calls);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    S2rCall *call = value;

    if (!s2r_call_is_active (call))
      continue;
    for (guint i = 0; i < s2r_call_get_n_destinations (call); i++)
      if (strcmp (s2r_rtmp_target_get_location (s2r_destination_get_target
                  (s2r_call_get_destination (call, i))), location) == 0)
        return TRUE;
  }
  return FALSE;
}

static gboolean
check_streams_free (S2rCallManager * manager, S2rCallRequest * req,
    GError ** error)
{
  for (guint i = 0; i < s2r_call_request_get_n_targets (req); i++)
    if (stream_in_use (manager, s2r_rtmp_target_get_location
            (s2r_call_request_get_target (req, i)))) {
      s2r_stream_conflict_error (error, i, FALSE);
      return FALSE;
    }
  return TRUE;
}

S2rCall *
s2r_call_manager_create (S2rCallManager * manager, S2rCallRequest * req,
    GError ** error)
{
  g_autoptr (S2rCall) call = NULL;
  const char *call_id = s2r_call_request_get_call_id (req);
  const char *record = s2r_call_request_get_record (req);
  S2rCall *existing;
  gdouble units;

  if (manager->shutting_down) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_UNAVAILABLE,
        "the gateway is shutting down");
    return NULL;
  }
  if (call_id == NULL) {
    g_autofree char *uuid = g_uuid_string_random ();

    s2r_call_request_set_call_id (req, uuid);
    call_id = s2r_call_request_get_call_id (req);
  }
  existing = g_hash_table_lookup (manager->calls, call_id);
  if (existing && s2r_call_is_active (existing)) {
    s2r_set_error_field (error, S2R_ERROR_CONFLICT, "callId",
        "callId '%s' is in use by an active call", call_id);
    return NULL;
  }
  if (!check_streams_free (manager, req, error))
    return NULL;
  if (record) {
    if (s2r_config_get_record_dir (manager->config) == NULL) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "record",
          "field 'record' needs a [record] dir in the daemon's config");
      return NULL;
    }
    if (g_hash_table_contains (manager->recordings, record)) {
      s2r_set_error_field (error, S2R_ERROR_CONFLICT, "record",
          "record file '%s' is being written by an active call", record);
      return NULL;
    }
  }
  if (manager->n_active >= s2r_config_get_max_calls (manager->config)) {
    g_set_error (error, S2R_ERROR, S2R_ERROR_UNAVAILABLE,
        "the maximum of %u calls is reached",
        s2r_config_get_max_calls (manager->config));
    return NULL;
  }
  units = s2r_admission_call_units (req, manager->config);
  if (!s2r_admission_admit (manager->admission, units, error))
    return NULL;

  call = s2r_call_new (req, manager->tmpl, manager->config,
      manager->forwarder, error);
  if (call == NULL)
    return NULL;

  /* a finished call of the same id is replaced */
  g_hash_table_replace (manager->calls, g_strdup (call_id),
      g_object_ref (call));
  manager->n_active++;
  s2r_metrics_call_started (manager->metrics);
  manager->active_units += units;
  s2r_admission_set_active_units (manager->admission, manager->active_units);
  if (record)
    g_hash_table_insert (manager->recordings, g_strdup (record), call);
  g_signal_connect (call, "changed", G_CALLBACK (call_changed_cb), manager);
  g_signal_connect (call, "stopped", G_CALLBACK (call_stopped_cb), manager);
  g_signal_connect (call, "dtmf", G_CALLBACK (call_dtmf_cb), manager);
  g_signal_connect (call, "dtmf-sent", G_CALLBACK (call_dtmf_sent_cb),
      manager);
  emit_event (manager, call);

  /* the pipeline goes to PLAYING right after the answer is sent */
  s2r_call_start (call);
  return g_steal_pointer (&call);
}

/**
 * s2r_call_manager_set_stream_registry:
 * @registry: (nullable): not owned; NULL: this process's calls only
 *
 * Where stream keys are held beyond this process (a cluster): asked
 * before a destination is added to a running call and, through
 * s2r_call_manager_hold_streams(), before an incoming call is created.
 */
void
s2r_call_manager_set_stream_registry (S2rCallManager * manager,
    const S2rStreamRegistry * registry, gpointer registry_data)
{
  manager->registry = registry;
  manager->registry_data = registry_data;
}

static void
release_streams (S2rCallManager * manager, const char *call_id,
    gboolean running, const char *const *locations)
{
  if (manager->registry)
    manager->registry->release (manager->registry_data, call_id, running,
        locations);
}

/* The running call's new destination, once nothing else publishes there;
 * a location the registry held for it is given back if it was not added
 * (unless a destination here publishes there: then it is that one's) */
static void
add_destination_now (S2rCallManager * manager, S2rCall * call,
    S2rRtmpTarget * target, gboolean held, S2rDestinationAddedFunc done,
    gpointer user_data)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *location = g_strdup (s2r_rtmp_target_get_location (target));
  const char *locations[] = { location, NULL };
  S2rDestination *d = NULL;

  /* asked again after the registry's answer: another request may have
   * added it here meanwhile */
  if (stream_in_use (manager, location)) {
    s2r_rtmp_target_free (target);
    s2r_stream_conflict_error (&err, 0, FALSE);
  } else {
    d = s2r_call_add_destination (call, target, &err);
  }
  if (d == NULL && held && !stream_in_use (manager, location))
    release_streams (manager, s2r_call_get_id (call), TRUE, locations);
  done (call, d, err, user_data);
}

typedef struct
{
  S2rCallManager *manager;
  S2rCall *call;
  S2rRtmpTarget *target;
  S2rDestinationAddedFunc done;
  gpointer user_data;
} AddDestination;

static void
destination_held_cb (const GError * error, gpointer user_data)
{
  AddDestination *a = user_data;

  /* a call that ended meanwhile is refused as such (409), whatever the
   * registry said of its key */
  if (error && s2r_call_is_active (a->call)) {
    s2r_rtmp_target_free (a->target);
    a->done (a->call, NULL, error, a->user_data);
  } else {
    add_destination_now (a->manager, a->call, a->target, error == NULL,
        a->done, a->user_data);
  }
  g_object_unref (a->manager);
  g_object_unref (a->call);
  g_free (a);
}

/**
 * s2r_call_manager_add_destination:
 * @target: (transfer full):
 * @done: the call's new destination, or %NULL and why: 409 when an active
 *   call publishes there already (here or, with a registry, anywhere in
 *   it) or the call has ended, 503 when the registry cannot tell; before
 *   this returns when there is no registry to ask
 */
void
s2r_call_manager_add_destination (S2rCallManager * manager, S2rCall * call,
    S2rRtmpTarget * target, S2rDestinationAddedFunc done, gpointer user_data)
{
  const char *locations[] = { s2r_rtmp_target_get_location (target), NULL };
  AddDestination *a;

  if (manager->registry == NULL || stream_in_use (manager, locations[0])) {
    add_destination_now (manager, call, target, FALSE, done, user_data);
    return;
  }
  a = g_new0 (AddDestination, 1);
  a->manager = g_object_ref (manager);
  a->call = g_object_ref (call);
  a->target = target;
  a->done = done;
  a->user_data = user_data;
  manager->registry->hold (manager->registry_data, s2r_call_get_id (call),
      TRUE, locations, destination_held_cb, a);
}

/**
 * s2r_call_manager_remove_destination:
 *
 * s2r_call_remove_destination(), and its stream key given back to the
 * registry
 */
gboolean
s2r_call_manager_remove_destination (S2rCallManager * manager,
    S2rCall * call, guint id, GError ** error)
{
  g_autofree char *location = NULL;
  const char *locations[] = { NULL, NULL };

  for (guint i = 0; i < s2r_call_get_n_destinations (call); i++) {
    S2rDestination *d = s2r_call_get_destination (call, i);

    if (s2r_destination_get_id (d) == id)
      location = g_strdup (s2r_rtmp_target_get_location
          (s2r_destination_get_target (d)));
  }
  if (!s2r_call_remove_destination (call, id, error))
    return FALSE;
  locations[0] = location;
  if (!stream_in_use (manager, location))
    release_streams (manager, s2r_call_get_id (call), TRUE, locations);
  return TRUE;
}

static GStrv
request_locations (S2rCallRequest * req)
{
  GStrvBuilder *b = g_strv_builder_new ();
  GStrv out;

  for (guint i = 0; i < s2r_call_request_get_n_targets (req); i++)
    g_strv_builder_add (b, s2r_rtmp_target_get_location
        (s2r_call_request_get_target (req, i)));
  out = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return out;
}

/**
 * s2r_call_manager_hold_streams:
 *
 * A call not placed through the API (an incoming one): its stream keys
 * free here, then held by the registry, before s2r_call_manager_create();
 * if that is not called or fails, s2r_call_manager_release_streams(). A
 * request without a callId gets one now. @done gets the refusal (409 as
 * s2r_call_manager_create() words it, 503 the registry cannot tell), or
 * NULL; before this returns when nothing is to be asked.
 */
void
s2r_call_manager_hold_streams (S2rCallManager * manager,
    S2rCallRequest * req, S2rStreamsHeldFunc done, gpointer user_data)
{
  g_autoptr (GError) err = NULL;
  g_auto (GStrv) locations = NULL;

  if (s2r_call_request_get_call_id (req) == NULL) {
    g_autofree char *uuid = g_uuid_string_random ();

    s2r_call_request_set_call_id (req, uuid);
  }
  if (!check_streams_free (manager, req, &err) || manager->registry == NULL ||
      s2r_call_request_get_n_targets (req) == 0) {
    done (err, user_data);
    return;
  }
  locations = request_locations (req);
  manager->registry->hold (manager->registry_data,
      s2r_call_request_get_call_id (req), FALSE,
      (const char *const *) locations, done, user_data);
}

void
s2r_call_manager_release_streams (S2rCallManager * manager,
    S2rCallRequest * req)
{
  g_auto (GStrv) locations = request_locations (req);

  if (s2r_call_request_get_call_id (req))
    release_streams (manager, s2r_call_request_get_call_id (req), FALSE,
        (const char *const *) locations);
}

S2rCall *
s2r_call_manager_lookup (S2rCallManager * manager, const char *call_id,
    GError ** error)
{
  S2rCall *call = call_id ? g_hash_table_lookup (manager->calls, call_id) :
      NULL;

  if (call == NULL) {
    s2r_set_error_field (error, S2R_ERROR_NOT_FOUND, "callId",
        "no call with callId '%s'", call_id ? call_id : "");
    return NULL;
  }
  return g_object_ref (call);
}

static gint
compare_created (gconstpointer a, gconstpointer b)
{
  S2rCall *ca = *(S2rCall **) a, *cb = *(S2rCall **) b;
  gint64 ta = s2r_call_get_created (ca), tb = s2r_call_get_created (cb);

  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/* Oldest first */
GPtrArray *
s2r_call_manager_list (S2rCallManager * manager)
{
  GPtrArray *calls = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, manager->calls);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (calls, g_object_ref (value));
  g_ptr_array_sort (calls, compare_created);
  return calls;
}

/* The load figures behind admission control, as members of an object */
void
s2r_call_manager_add_status_members (S2rCallManager * manager,
    JsonBuilder * b)
{
  gdouble cpu_busy, unit_cost, media_busy, media_late_ms;
  guint64 refused;

  s2r_admission_get_figures (manager->admission, &cpu_busy, &unit_cost,
      &media_busy, &media_late_ms, &refused);
  json_builder_set_member_name (b, "activeCalls");
  json_builder_add_int_value (b, manager->n_active);
  json_builder_set_member_name (b, "maxCalls");
  json_builder_add_int_value (b, s2r_config_get_max_calls (manager->config));
  json_builder_set_member_name (b, "shuttingDown");
  json_builder_add_boolean_value (b, manager->shutting_down);
  json_builder_set_member_name (b, "admission");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "cpuBusyPercent");
  json_builder_add_double_value (b, cpu_busy * 100);
  json_builder_set_member_name (b, "callCostPercent");
  json_builder_add_double_value (b, unit_cost * 100);
  json_builder_set_member_name (b, "activeUnits");
  json_builder_add_double_value (b, manager->active_units);
  json_builder_set_member_name (b, "mediaBusyPercent");
  json_builder_add_double_value (b, media_busy * 100);
  json_builder_set_member_name (b, "mediaLateMs");
  json_builder_add_double_value (b, media_late_ms);
  json_builder_set_member_name (b, "refused");
  json_builder_add_int_value (b, (gint64) refused);
  json_builder_end_object (b);
}

void
s2r_call_manager_add_metrics_func (S2rCallManager * manager,
    S2rMetricsFunc func, gpointer user_data)
{
  MetricsPart part = { func, user_data };

  g_array_append_val (manager->metrics_parts, part);
}

void
s2r_call_manager_remove_metrics_func (S2rCallManager * manager,
    gpointer user_data)
{
  for (guint i = manager->metrics_parts->len; i > 0; i--)
    if (g_array_index (manager->metrics_parts, MetricsPart, i - 1).data ==
        user_data)
      g_array_remove_index (manager->metrics_parts, i - 1);
}

/* GET /metrics: the Prometheus text format */
char *
s2r_call_manager_render_metrics (S2rCallManager * manager)
{
  g_autoptr (GPtrArray) calls = s2r_call_manager_list (manager);
  g_autoptr (GString) extra = g_string_new (NULL);
  gdouble cpu_busy, unit_cost, media_busy, media_late_ms;
  guint64 refused;

  s2r_admission_get_figures (manager->admission, &cpu_busy, &unit_cost,
      &media_busy, &media_late_ms, &refused);
  g_string_append_printf (extra,
      "# HELP sip2rtmp_calls_refused_total New calls refused at capacity.\n"
      "# TYPE sip2rtmp_calls_refused_total counter\n"
      "sip2rtmp_calls_refused_total %" G_GUINT64_FORMAT "\n"
      "# HELP sip2rtmp_max_calls The configured maximum of calls.\n"
      "# TYPE sip2rtmp_max_calls gauge\n"
      "sip2rtmp_max_calls %u\n"
      "# HELP sip2rtmp_media_loop_busy_ratio The busiest media thread's share "
      "of the last second spent working.\n"
      "# TYPE sip2rtmp_media_loop_busy_ratio gauge\n"
      "sip2rtmp_media_loop_busy_ratio %.4f\n"
      "# HELP sip2rtmp_media_loop_tick_lateness_seconds How late the media "
      "loop's ticks started in the last second, on average.\n"
      "# TYPE sip2rtmp_media_loop_tick_lateness_seconds gauge\n"
      "sip2rtmp_media_loop_tick_lateness_seconds %.6f\n"
      "# HELP sip2rtmp_machine_cpu_busy_ratio The machine's CPU in use "
      "(admission control's sample).\n"
      "# TYPE sip2rtmp_machine_cpu_busy_ratio gauge\n"
      "sip2rtmp_machine_cpu_busy_ratio %.4f\n",
      refused, s2r_config_get_max_calls (manager->config), media_busy,
      media_late_ms / 1000.0, cpu_busy);
  for (guint i = 0; i < manager->metrics_parts->len; i++) {
    MetricsPart *part = &g_array_index (manager->metrics_parts, MetricsPart, i);

    part->func (extra, part->data);
  }
  return s2r_metrics_render (manager->metrics, calls, extra->str);
}

/* Ready to take a call: not draining, below max-calls, and admission
 * control would take an audio call now. @reason says why not. */
gboolean
s2r_call_manager_is_ready (S2rCallManager * manager, char **reason)
{
  gdouble cpu_busy, unit_cost, media_busy, media_late_ms;
  guint64 refused;
  guint cpu_limit, busy_limit, late_limit;
  gdouble call_cost;

  if (manager->shutting_down) {
    *reason = g_strdup ("shutting down");
    return FALSE;
  }
  if (manager->n_active >= s2r_config_get_max_calls (manager->config)) {
    *reason = g_strdup ("the maximum of calls is reached");
    return FALSE;
  }
  if (!s2r_config_get_admission (manager->config, &cpu_limit, &busy_limit,
          &late_limit, &call_cost))
    return TRUE;
  s2r_admission_get_figures (manager->admission, &cpu_busy, &unit_cost,
      &media_busy, &media_late_ms, &refused);
  if (media_busy * 100 > busy_limit || media_late_ms > late_limit) {
    *reason = g_strdup ("the media loop is behind");
    return FALSE;
  }
  if ((cpu_busy + unit_cost / MAX (1, g_get_num_processors ())) * 100 >
      cpu_limit) {
    *reason = g_strdup ("no CPU headroom");
    return FALSE;
  }
  return TRUE;
}

guint
s2r_call_manager_get_n_active (S2rCallManager * manager)
{
  return manager->n_active;
}

/* max-calls reached: what an incoming call is refused with 486 for (the
 * other refusals of s2r_call_manager_create have the same error code) */
gboolean
s2r_call_manager_is_full (S2rCallManager * manager)
{
  return manager->n_active >= s2r_config_get_max_calls (manager->config);
}

/**
 * s2r_call_manager_shutdown:
 * @done: (scope async): a `void (*)(gpointer user_data)`, called once every
 *   call has ended and its pipeline is down
 *
 * Refuses new calls and hangs up every active one.
 */
void
s2r_call_manager_shutdown (S2rCallManager * manager, GCallback done,
    gpointer user_data)
{
  g_autoptr (GPtrArray) calls = s2r_call_manager_list (manager);

  manager->shutting_down = TRUE;
  manager->shutdown_done = done;
  manager->shutdown_data = user_data;

  for (guint i = 0; i < calls->len; i++)
    s2r_call_hangup (g_ptr_array_index (calls, i));

  if (manager->n_active == 0 && manager->shutdown_done) {
    manager->shutdown_done = NULL;
    ((void (*)(gpointer)) done) (user_data);
  }
}

/* After a reload of the config it reads: max-calls, keep-finished and the
 * per-call defaults are read as calls come and go; admission keeps its
 * limits */
void
s2r_call_manager_config_changed (S2rCallManager * manager)
{
  s2r_admission_configure (manager->admission, manager->config);
}
