/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-config.h"
#include "s2r-secret.h"
#include "s2r-call-request.h"
#include "s2r-error.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#define DEFAULT_LISTEN "127.0.0.1:9091"
#define DEFAULT_MAX_CALLS 200
#define DEFAULT_MAX_BODY 65536
#define DEFAULT_KEEP_FINISHED 300
#define DEFAULT_IDLE_TIMEOUT 60
#define DEFAULT_SHUTDOWN_TIMEOUT 15
#define DEFAULT_REQUEST_TIMEOUT 10
#define DEFAULT_TEMPLATE "default"
#define DEFAULT_ANSWER_TIMEOUT 60
/* incoming calls' password guessing: sipsrc's defaults */
#define DEFAULT_AUTH_MAX_FAILURES 5
#define DEFAULT_AUTH_FAILURE_WINDOW 60
#define DEFAULT_AUTH_LOCKOUT 60
#define DEFAULT_RTP_TIMEOUT 30
#define DEFAULT_MAX_DURATION 0
#define DEFAULT_RETRY_BUDGET 60
#define DEFAULT_WEBHOOK_QUEUE_SIZE 256
#define DEFAULT_WEBHOOK_MAX_RETRIES 5
#define DEFAULT_WEBHOOK_TIMEOUT 5
/* admission control (s2r-admission.c): the machine's CPU may be this busy
 * (percent) with the new call counted in; the busiest media thread may
 * spend this share of its time working; its ticks may start this late on
 * average (half a tick) */
#define DEFAULT_ADMISSION_CPU_LIMIT 85
#define DEFAULT_ADMISSION_MEDIA_BUSY_LIMIT 70
#define DEFAULT_ADMISSION_MEDIA_LATE_MS 10
/* percent of a core per audio call, until the process has measured it:
 * about 3 x the encoding floor of bench/RESULTS.md */
#define DEFAULT_ADMISSION_CALL_COST 1.0

/* [admission]: one value, so that a reload replaces it whole */
typedef struct
{
  gboolean enabled;
  guint cpu_limit;
  guint media_busy_limit;
  guint media_late_ms;
  gdouble call_cost;
} S2rAdmissionConfig;

struct _S2rConfig
{
  char *listen;
  char *monitor_listen;         /* NULL: /healthz, /readyz, /metrics on listen */
  char *token;
  guint max_calls;
  gsize max_body;
  guint keep_finished;
  guint idle_timeout;
  guint shutdown_timeout;
  guint request_timeout;

  char *pipelines_dir;
  char *template;

  gboolean console;
  char *console_dir;

  char *local_address;
  char *sip_listen;             /* [sip] listen: the SIP addresses, or NULL */
  char *public_address;         /* a NAT's, announced in Contact and SDP */
  char *user_agent;
  char *codecs;                 /* NULL: sipsrc's default */
  guint answer_timeout;
  guint auth_max_failures;
  guint auth_failure_window;    /* s */
  guint auth_lockout;           /* s */
  guint rtp_timeout;
  guint max_duration;
  guint retry_budget;
  gboolean still_video;
  /* secure calls: sipsrc's srtp default, its TLS files (NULL: unset) */
  char *srtp;
  char *tls_ca_file;
  gboolean tls_verify;
  char *tls_cert_file;
  char *tls_key_file;

  char *record_dir;             /* NULL: calls cannot ask for a recording */

  guint webhook_queue_size;
  guint webhook_max_retries;
  guint webhook_timeout;

  S2rAdmissionConfig admission;

  /* appKey -> webhook URL, from the [app:NAME] groups */
  GHashTable *app_urls;

  /* [cluster], read by the cluster at start-up: a digest of its keys and
   * values, to tell a reload that it changed (it holds a password) */
  char *cluster_digest;
};

static const char *
default_pipelines_dir (void)
{
  /* Run from the build tree until installed */
  if (g_file_test (PIPELINES_DIR, G_FILE_TEST_IS_DIR))
    return PIPELINES_DIR;
  return SOURCE_PIPELINES_DIR;
}

static const char *
default_console_dir (void)
{
  if (g_file_test (CONSOLE_DIR, G_FILE_TEST_IS_DIR))
    return CONSOLE_DIR;
  return SOURCE_CONSOLE_DIR;
}

S2rConfig *
s2r_config_new (void)
{
  S2rConfig *config = g_new0 (S2rConfig, 1);

  config->listen = g_strdup (DEFAULT_LISTEN);
  config->max_calls = DEFAULT_MAX_CALLS;
  config->max_body = DEFAULT_MAX_BODY;
  config->keep_finished = DEFAULT_KEEP_FINISHED;
  config->idle_timeout = DEFAULT_IDLE_TIMEOUT;
  config->shutdown_timeout = DEFAULT_SHUTDOWN_TIMEOUT;
  config->request_timeout = DEFAULT_REQUEST_TIMEOUT;
  config->pipelines_dir = g_strdup (default_pipelines_dir ());
  config->template = g_strdup (DEFAULT_TEMPLATE);
  config->console = TRUE;
  config->console_dir = g_strdup (default_console_dir ());
  config->answer_timeout = DEFAULT_ANSWER_TIMEOUT;
  config->auth_max_failures = DEFAULT_AUTH_MAX_FAILURES;
  config->auth_failure_window = DEFAULT_AUTH_FAILURE_WINDOW;
  config->auth_lockout = DEFAULT_AUTH_LOCKOUT;
  config->rtp_timeout = DEFAULT_RTP_TIMEOUT;
  config->max_duration = DEFAULT_MAX_DURATION;
  config->retry_budget = DEFAULT_RETRY_BUDGET;
  config->srtp = g_strdup ("off");
  config->tls_verify = TRUE;
  config->webhook_queue_size = DEFAULT_WEBHOOK_QUEUE_SIZE;
  config->webhook_max_retries = DEFAULT_WEBHOOK_MAX_RETRIES;
  config->webhook_timeout = DEFAULT_WEBHOOK_TIMEOUT;
  config->admission = (S2rAdmissionConfig) {
    .enabled = TRUE,
    .cpu_limit = DEFAULT_ADMISSION_CPU_LIMIT,
    .media_busy_limit = DEFAULT_ADMISSION_MEDIA_BUSY_LIMIT,
    .media_late_ms = DEFAULT_ADMISSION_MEDIA_LATE_MS,
    .call_cost = DEFAULT_ADMISSION_CALL_COST,
  };
  config->app_urls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  return config;
}


void
s2r_config_free (S2rConfig * config)
{
  if (config == NULL)
    return;
  g_free (config->listen);
  g_free (config->monitor_listen);
  s2r_secret_free (config->token);
  g_free (config->pipelines_dir);
  g_free (config->template);
  g_free (config->console_dir);
  g_free (config->local_address);
  g_free (config->sip_listen);
  g_free (config->public_address);
  g_free (config->user_agent);
  g_free (config->codecs);
  g_free (config->srtp);
  g_free (config->tls_ca_file);
  g_free (config->tls_cert_file);
  g_free (config->tls_key_file);
  g_free (config->record_dir);
  g_hash_table_unref (config->app_urls);
  g_free (config->cluster_digest);
  g_free (config);
}

/* An odd run of backslashes at the end: an escape of nothing */
static gboolean
ends_in_lone_backslash (const char *raw)
{
  gsize len = strlen (raw), n = 0;

  while (n < len && raw[len - 1 - n] == '\\')
    n++;
  return n % 2 == 1;
}

/* A missing key keeps the default; a present but malformed one is an error.
 * GLib 2.74's g_key_file_get_string() returns the string of a value with a
 * bad escape and sets the error too; with a bad escape before a final
 * backslash it sets the error twice (a GLib-WARNING, found by tests/fuzz):
 * that ending is refused before GLib reads the value. */
static gboolean
read_string (GKeyFile * kf, const char *group, const char *key, char **value,
    GError ** error)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *raw = g_key_file_get_value (kf, group, key, &err);
  char *str;

  if (raw == NULL) {
    if (g_error_matches (err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND)
        || g_error_matches (err, G_KEY_FILE_ERROR,
            G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
      return TRUE;
    g_propagate_prefixed_error (error, g_steal_pointer (&err), "[%s] %s: ",
        group, key);
    return FALSE;
  }
  if (ends_in_lone_backslash (raw)) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "[%s] %s: the value ends with an escape character", group, key);
    return FALSE;
  }
  str = g_key_file_get_string (kf, group, key, &err);
  if (err != NULL) {
    g_free (str);
    g_propagate_prefixed_error (error, g_steal_pointer (&err), "[%s] %s: ",
        group, key);
    return FALSE;
  }
  g_strstrip (str);
  g_free (*value);
  *value = (*str != '\0') ? str : (g_free (str), NULL);
  return TRUE;
}

static gboolean
read_uint (GKeyFile * kf, const char *group, const char *key, guint max,
    guint * value, GError ** error)
{
  g_autofree char *str = NULL;
  guint64 v;

  if (!read_string (kf, group, key, &str, error))
    return FALSE;
  if (str == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (str, 10, 0, max, &v, NULL)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, key,
        "[%s] %s: expected a number from 0 to %u", group, key, max);
    return FALSE;
  }
  *value = (guint) v;
  return TRUE;
}

/* sipsrc's auth-failure-window and auth-lockout: 1 s to a day */
static gboolean
read_seconds (GKeyFile * kf, const char *group, const char *key,
    guint * value, GError ** error)
{
  guint v = *value;

  if (!read_uint (kf, group, key, 86400, &v, error))
    return FALSE;
  if (v == 0) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, key,
        "[%s] %s: expected a number from 1 to 86400", group, key);
    return FALSE;
  }
  *value = v;
  return TRUE;
}

static gboolean
read_percent (GKeyFile * kf, const char *group, const char *key,
    gdouble * value, GError ** error)
{
  g_autofree char *str = NULL;
  char *end = NULL;
  gdouble v;

  if (!read_string (kf, group, key, &str, error))
    return FALSE;
  if (str == NULL)
    return TRUE;
  v = g_ascii_strtod (str, &end);
  if (end == str || *end != '\0' || !(v > 0 && v <= 100)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, key,
        "[%s] %s: expected a percentage above 0, at most 100", group, key);
    return FALSE;
  }
  *value = v;
  return TRUE;
}

static gboolean
read_bool (GKeyFile * kf, const char *group, const char *key,
    gboolean * value, GError ** error)
{
  g_autofree char *str = NULL;

  if (!read_string (kf, group, key, &str, error))
    return FALSE;
  if (str == NULL)
    return TRUE;
  if (g_ascii_strcasecmp (str, "true") == 0)
    *value = TRUE;
  else if (g_ascii_strcasecmp (str, "false") == 0)
    *value = FALSE;
  else {
    s2r_set_error_field (error, S2R_ERROR_INVALID, key,
        "[%s] %s: expected true or false", group, key);
    return FALSE;
  }
  return TRUE;
}

static gboolean
read_app_groups (S2rConfig * config, GKeyFile * kf, GError ** error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (guint i = 0; groups[i]; i++) {
    const char *name;
    g_autofree char *url = NULL;

    if (!g_str_has_prefix (groups[i], "app:"))
      continue;
    name = groups[i] + strlen ("app:");
    if (!read_string (kf, groups[i], "url", &url, error))
      return FALSE;
    if (url && !g_str_has_prefix (url, "http://")
        && !g_str_has_prefix (url, "https://")) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "url",
          "[%s] url: expected an http:// or https:// URL", groups[i]);
      return FALSE;
    }
    if (url)
      g_hash_table_replace (config->app_urls, g_strdup (name),
          g_steal_pointer (&url));
  }
  return TRUE;
}

static gboolean
file_check (const char *key, const char *path, gboolean secret,
    GError ** error)
{
  GStatBuf st;

  if (path == NULL)
    return TRUE;
  if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode)
      || g_access (path, R_OK) != 0) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, key,
        "[sip] %s: '%s' is not a file this process can read", key, path);
    return FALSE;
  }
  /* a private key: for the service's eyes only */
  if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, key,
        "[sip] %s: '%s' can be read by others (mode %03o): chmod 600 it",
        key, path, (guint) (st.st_mode & 0777));
    return FALSE;
  }
  return TRUE;
}

/* Checked once here, so that a typo fails the daemon, not every call */
static gboolean
tls_files_check (S2rConfig * config, GError ** error)
{
  if (config->srtp == NULL)
    config->srtp = g_strdup ("off");
  if (!s2r_srtp_mode_is_valid (config->srtp)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "srtp",
        "[sip] srtp: expected off, optional or mandatory");
    return FALSE;
  }
  if (config->tls_key_file && !config->tls_cert_file) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "tls-cert-file",
        "[sip] tls-key-file needs tls-cert-file");
    return FALSE;
  }
  return file_check ("tls-ca-file", config->tls_ca_file, FALSE, error)
      && file_check ("tls-cert-file", config->tls_cert_file,
      config->tls_key_file == NULL, error)
      && file_check ("tls-key-file", config->tls_key_file, TRUE, error);
}

/* A digest of @group's keys and values as written (NULL: no such group) */
static char *
group_digest (GKeyFile * kf, const char *group)
{
  g_autoptr (GChecksum) sum = NULL;
  g_auto (GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);

  if (!keys)
    return NULL;
  sum = g_checksum_new (G_CHECKSUM_SHA256);
  for (guint i = 0; keys[i]; i++) {
    g_autofree char *value = g_key_file_get_value (kf, group, keys[i], NULL);

    /* NUL-separated: "a=bc" and "ab=c" differ */
    g_checksum_update (sum, (const guchar *) keys[i], strlen (keys[i]) + 1);
    if (value)
      g_checksum_update (sum, (const guchar *) value, strlen (value) + 1);
  }
  return g_strdup (g_checksum_get_string (sum));
}

static gboolean
config_load (S2rConfig * config, GKeyFile * kf, GError ** error)
{
  guint max_body = (guint) config->max_body;
  g_autofree char *listen = NULL;
  g_autofree char *monitor_listen = NULL;

  if (!read_string (kf, "server", "listen", &listen, error) ||
      !read_string (kf, "server", "monitor-listen", &monitor_listen, error) ||
      !read_string (kf, "server", "token", &config->token, error) ||
      !read_uint (kf, "server", "max-calls", 100000, &config->max_calls, error)
      || !read_uint (kf, "server", "max-body", 16 * 1024 * 1024, &max_body,
          error)
      || !read_uint (kf, "server", "keep-finished", 86400,
          &config->keep_finished, error)
      || !read_uint (kf, "server", "idle-timeout", 3600,
          &config->idle_timeout, error)
      || !read_uint (kf, "server", "request-timeout", 3600,
          &config->request_timeout, error)
      || !read_uint (kf, "server", "shutdown-timeout", 3600,
          &config->shutdown_timeout, error)
      || !read_string (kf, "pipeline", "dir", &config->pipelines_dir, error)
      || !read_string (kf, "pipeline", "template", &config->template, error)
      || !read_bool (kf, "console", "enabled", &config->console, error)
      || !read_string (kf, "console", "dir", &config->console_dir, error)
      || !read_string (kf, "sip", "public-address", &config->public_address,
          error)
      || !read_string (kf, "sip", "local-address", &config->local_address,
          error)
      || !read_string (kf, "sip", "listen", &config->sip_listen, error)
      || !read_string (kf, "sip", "user-agent", &config->user_agent, error)
      || !read_string (kf, "sip", "codecs", &config->codecs, error)
      || !read_uint (kf, "sip", "answer-timeout", 3600,
          &config->answer_timeout, error)
      || !read_uint (kf, "sip", "auth-max-failures", 1000,
          &config->auth_max_failures, error)
      || !read_seconds (kf, "sip", "auth-failure-window",
          &config->auth_failure_window, error)
      || !read_seconds (kf, "sip", "auth-lockout", &config->auth_lockout, error)
      || !read_string (kf, "sip", "srtp", &config->srtp, error)
      || !read_string (kf, "sip", "tls-ca-file", &config->tls_ca_file, error)
      || !read_bool (kf, "sip", "tls-verify", &config->tls_verify, error)
      || !read_string (kf, "sip", "tls-cert-file", &config->tls_cert_file,
          error)
      || !read_string (kf, "sip", "tls-key-file", &config->tls_key_file,
          error)
      /* [sip] rtp-timeout: where it was first; [calls] wins */
      || !read_uint (kf, "sip", "rtp-timeout", 3600, &config->rtp_timeout,
          error)
      || !read_uint (kf, "calls", "rtp-timeout", 3600, &config->rtp_timeout,
          error)
      || !read_uint (kf, "calls", "max-duration", 7 * 86400,
          &config->max_duration, error)
      || !read_uint (kf, "rtmp", "retry-budget", 86400, &config->retry_budget,
          error)
      || !read_bool (kf, "rtmp", "still-video", &config->still_video, error)
      || !read_string (kf, "record", "dir", &config->record_dir, error)
      || !read_uint (kf, "webhook", "queue-size", 1000000,
          &config->webhook_queue_size, error)
      || !read_uint (kf, "webhook", "max-retries", 100,
          &config->webhook_max_retries, error)
      || !read_uint (kf, "webhook", "timeout", 600, &config->webhook_timeout,
          error)
      || !read_bool (kf, "admission", "enabled", &config->admission.enabled,
          error)
      || !read_uint (kf, "admission", "cpu-limit", 100,
          &config->admission.cpu_limit, error)
      || !read_uint (kf, "admission", "media-busy-limit", 1000,
          &config->admission.media_busy_limit, error)
      || !read_uint (kf, "admission", "media-late-limit", 10000,
          &config->admission.media_late_ms, error)
      || !read_percent (kf, "admission", "call-cost",
          &config->admission.call_cost, error)
      || !read_app_groups (config, kf, error))
    return FALSE;
  config->cluster_digest = group_digest (kf, "cluster");

  if (listen) {
    g_autofree char *host = NULL;
    guint16 port;

    if (!s2r_parse_listen (listen, &host, &port, error))
      return FALSE;
    s2r_config_set_listen (config, listen);
  }
  if (monitor_listen && !s2r_config_set_monitor_listen (config,
          monitor_listen, error))
    return FALSE;
  if (config->public_address) {
    g_autoptr (GInetAddress) addr =
        g_inet_address_new_from_string (config->public_address);

    if (addr == NULL) {
      s2r_set_error_field (error, S2R_ERROR_INVALID, "public-address",
          "[sip] public-address: '%s' is not an IP address",
          config->public_address);
      return FALSE;
    }
  }
  /* checked once here, so a typo fails the daemon rather than each call */
  if (config->record_dir &&
      !g_file_test (config->record_dir, G_FILE_TEST_IS_DIR)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "dir",
        "[record] dir: '%s' is not a directory", config->record_dir);
    return FALSE;
  }
  if (!tls_files_check (config, error))
    return FALSE;
  config->max_body = max_body;
  /* 0 would close every connection at once: at least a second */
  config->idle_timeout = MAX (config->idle_timeout, 1);
  config->request_timeout = MAX (config->request_timeout, 1);
  config->shutdown_timeout = MAX (config->shutdown_timeout, 1);
  if (config->webhook_queue_size == 0)
    config->webhook_queue_size = 1;
  if (config->pipelines_dir == NULL)
    config->pipelines_dir = g_strdup (default_pipelines_dir ());
  if (config->template == NULL)
    config->template = g_strdup (DEFAULT_TEMPLATE);
  if (config->console_dir == NULL)
    config->console_dir = g_strdup (default_console_dir ());
  return TRUE;
}

S2rConfig *
s2r_config_new_from_data (const char *data, GError ** error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (S2rConfig) config = s2r_config_new ();

  if (!g_key_file_load_from_data (kf, data, -1, G_KEY_FILE_NONE, error))
    return NULL;
  if (!config_load (config, kf, error))
    return NULL;
  return g_steal_pointer (&config);
}

S2rConfig *
s2r_config_new_from_file (const char *path, GError ** error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (S2rConfig) config = s2r_config_new ();

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return NULL;
  if (!config_load (config, kf, error)) {
    g_prefix_error (error, "%s: ", path);
    return NULL;
  }
  return g_steal_pointer (&config);
}

static void
take_string (char **to, char **from)
{
  g_free (*to);
  *to = g_steal_pointer (from);
}

static void
note_restart (GString * keys, const char *key, gboolean changed)
{
  if (!changed)
    return;
  if (keys->len)
    g_string_append (keys, ", ");
  g_string_append (keys, key);
}

gboolean
s2r_config_reload (S2rConfig * config, S2rConfig * next,
    char **needs_restart, GError ** error)
{
  g_autoptr (GString) restart = g_string_new (NULL);
  g_autofree char *host = NULL;
  guint16 port;

  /* the same rule as at start-up (main.c), on the address still bound */
  if (next->token == NULL &&
      s2r_parse_listen (config->listen, &host, &port, NULL) &&
      !s2r_host_is_loopback (host)) {
    s2r_set_error_field (error, S2R_ERROR_INVALID, "token",
        "[server] token: required while listening on %s", config->listen);
    return FALSE;
  }

  note_restart (restart, "[server] listen",
      g_strcmp0 (config->listen, next->listen) != 0);
  note_restart (restart, "[server] monitor-listen",
      g_strcmp0 (config->monitor_listen, next->monitor_listen) != 0);
  note_restart (restart, "[server] max-body",
      config->max_body != next->max_body);
  note_restart (restart, "[server] idle-timeout",
      config->idle_timeout != next->idle_timeout);
  note_restart (restart, "[server] request-timeout",
      config->request_timeout != next->request_timeout);
  note_restart (restart, "[pipeline] dir",
      g_strcmp0 (config->pipelines_dir, next->pipelines_dir) != 0);
  note_restart (restart, "[pipeline] template",
      g_strcmp0 (config->template, next->template) != 0);
  note_restart (restart, "[console] enabled", config->console != next->console);
  note_restart (restart, "[console] dir",
      g_strcmp0 (config->console_dir, next->console_dir) != 0);
  note_restart (restart, "[sip] local-address",
      g_strcmp0 (config->local_address, next->local_address) != 0);
  note_restart (restart, "[sip] codecs",
      g_strcmp0 (config->codecs, next->codecs) != 0);
  note_restart (restart, "[sip] listen",
      g_strcmp0 (config->sip_listen, next->sip_listen) != 0);
  note_restart (restart, "[cluster]",
      g_strcmp0 (config->cluster_digest, next->cluster_digest) != 0);

  s2r_secret_free (config->token);
  config->token = g_steal_pointer (&next->token);
  config->max_calls = next->max_calls;
  config->keep_finished = next->keep_finished;
  config->shutdown_timeout = next->shutdown_timeout;
  take_string (&config->public_address, &next->public_address);
  take_string (&config->user_agent, &next->user_agent);
  /* secure calls: what the next call's sipsrc is given (its TLS stack is
     per CA and certificate file, so a new file makes a new one) */
  take_string (&config->srtp, &next->srtp);
  take_string (&config->tls_ca_file, &next->tls_ca_file);
  config->tls_verify = next->tls_verify;
  take_string (&config->tls_cert_file, &next->tls_cert_file);
  take_string (&config->tls_key_file, &next->tls_key_file);
  config->answer_timeout = next->answer_timeout;
  /* the next incoming call's sipsrc counts under these */
  config->auth_max_failures = next->auth_max_failures;
  config->auth_failure_window = next->auth_failure_window;
  config->auth_lockout = next->auth_lockout;
  config->rtp_timeout = next->rtp_timeout;
  config->max_duration = next->max_duration;
  config->retry_budget = next->retry_budget;
  config->still_video = next->still_video;
  take_string (&config->record_dir, &next->record_dir);
  config->webhook_queue_size = next->webhook_queue_size;
  config->webhook_max_retries = next->webhook_max_retries;
  config->webhook_timeout = next->webhook_timeout;
  config->admission = next->admission;
  g_hash_table_unref (config->app_urls);
  config->app_urls = g_hash_table_ref (next->app_urls);

  if (needs_restart)
    *needs_restart = restart->len ? g_strdup (restart->str) : NULL;
  return TRUE;
}

const char *
s2r_config_get_listen (const S2rConfig * config)
{
  return config->listen;
}

void
s2r_config_set_listen (S2rConfig * config, const char *listen)
{
  g_free (config->listen);
  config->listen = g_strdup (listen);
}

const char *
s2r_config_get_sip_listen (const S2rConfig * config)
{
  return config->sip_listen;
}

/* --sip-listen: wins over the file's, at start and on a reload */
void
s2r_config_set_sip_listen (S2rConfig * config, const char *listen)
{
  g_free (config->sip_listen);
  config->sip_listen = g_strdup (listen);
}

const char *
s2r_config_get_monitor_listen (const S2rConfig * config)
{
  return config->monitor_listen;
}

/* An empty value turns it off, so that a command line can undo a file */
gboolean
s2r_config_set_monitor_listen (S2rConfig * config, const char *listen,
    GError ** error)
{
  g_autofree char *host = NULL;
  guint16 port;

  if (listen && *listen &&
      !s2r_parse_listen (listen, &host, &port, error)) {
    g_prefix_error (error, "monitor-");
    return FALSE;
  }
  g_free (config->monitor_listen);
  config->monitor_listen = listen && *listen ? g_strdup (listen) : NULL;
  return TRUE;
}

gboolean
s2r_config_get_console (const S2rConfig * config)
{
  return config->console;
}

const char *
s2r_config_get_console_dir (const S2rConfig * config)
{
  return config->console_dir;
}

const char *
s2r_config_get_token (const S2rConfig * config)
{
  return config->token;
}

guint
s2r_config_get_max_calls (const S2rConfig * config)
{
  return config->max_calls;
}

gboolean
s2r_config_get_admission (const S2rConfig * config, guint * cpu_limit,
    guint * media_busy_limit, guint * media_late_ms, gdouble * call_cost)
{
  *cpu_limit = config->admission.cpu_limit;
  *media_busy_limit = config->admission.media_busy_limit;
  *media_late_ms = config->admission.media_late_ms;
  *call_cost = config->admission.call_cost;
  return config->admission.enabled;
}

gsize
s2r_config_get_max_body (const S2rConfig * config)
{
  return config->max_body;
}

guint
s2r_config_get_keep_finished (const S2rConfig * config)
{
  return config->keep_finished;
}

guint
s2r_config_get_idle_timeout (const S2rConfig * config)
{
  return config->idle_timeout;
}

/* Seconds from SIGTERM's hang-up of every call to the exit, at the most */
guint
s2r_config_get_shutdown_timeout (const S2rConfig * config)
{
  return config->shutdown_timeout;
}

guint
s2r_config_get_request_timeout (const S2rConfig * config)
{
  return config->request_timeout;
}

const char *
s2r_config_get_pipelines_dir (const S2rConfig * config)
{
  return config->pipelines_dir;
}

const char *
s2r_config_get_template (const S2rConfig * config)
{
  return config->template;
}

const char *
s2r_config_get_public_address (const S2rConfig * config)
{
  return config->public_address;
}

const char *
s2r_config_get_local_address (const S2rConfig * config)
{
  return config->local_address;
}

const char *
s2r_config_get_user_agent (const S2rConfig * config)
{
  return config->user_agent;
}

/* off, optional or mandatory */
const char *
s2r_config_get_srtp (const S2rConfig * config)
{
  return config->srtp;
}

const char *
s2r_config_get_tls_ca_file (const S2rConfig * config)
{
  return config->tls_ca_file;
}

gboolean
s2r_config_get_tls_verify (const S2rConfig * config)
{
  return config->tls_verify;
}

const char *
s2r_config_get_tls_cert_file (const S2rConfig * config)
{
  return config->tls_cert_file;
}

const char *
s2r_config_get_tls_key_file (const S2rConfig * config)
{
  return config->tls_key_file;
}

const char *
s2r_config_get_codecs (const S2rConfig * config)
{
  return config->codecs;
}

/* incoming calls' password guessing (sipsrc's auth-* properties) */
void
s2r_config_get_auth_limit (const S2rConfig * config, guint * max_failures,
    guint * failure_window, guint * lockout)
{
  *max_failures = config->auth_max_failures;
  *failure_window = config->auth_failure_window;
  *lockout = config->auth_lockout;
}

guint
s2r_config_get_answer_timeout (const S2rConfig * config)
{
  return config->answer_timeout;
}

guint
s2r_config_get_rtp_timeout (const S2rConfig * config)
{
  return config->rtp_timeout;
}

guint
s2r_config_get_max_duration (const S2rConfig * config)
{
  return config->max_duration;
}

guint
s2r_config_get_retry_budget (const S2rConfig * config)
{
  return config->retry_budget;
}

gboolean
s2r_config_get_still_video (const S2rConfig * config)
{
  return config->still_video;
}

const char *
s2r_config_get_record_dir (const S2rConfig * config)
{
  return config->record_dir;
}

guint
s2r_config_get_webhook_queue_size (const S2rConfig * config)
{
  return config->webhook_queue_size;
}

guint
s2r_config_get_webhook_max_retries (const S2rConfig * config)
{
  return config->webhook_max_retries;
}

guint
s2r_config_get_webhook_timeout (const S2rConfig * config)
{
  return config->webhook_timeout;
}

const char *
s2r_config_get_app_url (const S2rConfig * config, const char *app_key)
{
  if (app_key == NULL)
    return NULL;
  return g_hash_table_lookup (config->app_urls, app_key);
}

/* HOST:PORT, [V6]:PORT */
gboolean
s2r_parse_listen (const char *listen, char **host, guint16 * port,
    GError ** error)
{
  const char *colon;
  guint64 p;

  if (listen[0] == '[') {
    const char *end = strchr (listen, ']');

    if (end == NULL || end[1] != ':')
      goto bad;
    *host = g_strndup (listen + 1, end - listen - 1);
    colon = end + 1;
  } else {
    colon = strrchr (listen, ':');
    if (colon == NULL || colon == listen)
      goto bad;
    *host = g_strndup (listen, colon - listen);
  }
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &p, NULL)) {
    g_clear_pointer (host, g_free);
    goto bad;
  }
  *port = (guint16) p;
  return TRUE;

bad:
  s2r_set_error_field (error, S2R_ERROR_INVALID, "listen",
      "listen: expected HOST:PORT, got '%s'", listen);
  return FALSE;
}

gboolean
s2r_host_is_loopback (const char *host)
{
  g_autoptr (GInetAddress) addr = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}
