/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib-unix.h>
#include <gst/gst.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "s2r-api.h"
#include "s2r-cluster.h"
#include "s2r-sip-listen.h"
#include "s2r-call-manager.h"
#include "s2r-config.h"
#include "s2r-events.h"
#include "s2r-systemd.h"
#include "s2r-webhook.h"

/* After the last call ended, the final webhooks get this long to go out */
#define WEBHOOK_GRACE_MS 2000
/* fds a few thousand calls need (see raise_fd_limit) */
#define PREALLOCATED_FDS 16384
/* The exit status when the shutdown bound ([server] shutdown-timeout)
 * passed with calls still going down (docs/daemon.md, "Running it") */
#define EXIT_CALLS_ABANDONED 3

typedef struct
{
  GMainLoop *loop;
  S2rConfig *config;
  const char *config_file;
  const char *listen;           /* --listen, wins over the file's */
  const char *monitor_listen;   /* --monitor-listen, the same */
  const char *sip_listen;       /* --sip-listen, the same */
  S2rCallManager *manager;
  S2rRoutes *routes;            /* incoming calls' */
  S2rSipListen *sip;            /* NULL: no SIP address listened on */
  S2rWebhook *webhook;
  S2rCluster *cluster;          /* NULL: a single node */
  gint64 flush_deadline;
  gboolean stopping;
  guint abandoned;              /* calls still going down at the bound */
} Daemon;

static gboolean
flush_webhooks_cb (gpointer user_data)
{
  Daemon *d = user_data;

  if (s2r_webhook_get_n_pending (d->webhook) > 0 &&
      g_get_monotonic_time () < d->flush_deadline)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit (d->loop);
  return G_SOURCE_REMOVE;
}

static void
all_calls_ended (gpointer user_data)
{
  Daemon *d = user_data;

  g_message ("all calls ended");
  d->flush_deadline = g_get_monotonic_time () + WEBHOOK_GRACE_MS * 1000;
  g_timeout_add (50, flush_webhooks_cb, d);
}

static gboolean
shutdown_timeout_cb (gpointer user_data)
{
  Daemon *d = user_data;

  d->abandoned = s2r_call_manager_get_n_active (d->manager);
  g_main_loop_quit (d->loop);
  return G_SOURCE_REMOVE;
}

static void
hang_up_and_stop (gpointer user_data)
{
  Daemon *d = user_data;

  g_message ("stopping: hanging up %u calls",
      s2r_call_manager_get_n_active (d->manager));
  s2r_systemd_notify ("STOPPING=1");
  g_timeout_add_seconds (s2r_config_get_shutdown_timeout (d->config),
      shutdown_timeout_cb, d);
  s2r_call_manager_shutdown (d->manager, G_CALLBACK (all_calls_ended), d);
}

static gboolean
signal_cb (gpointer user_data)
{
  Daemon *d = user_data;

  if (d->stopping)
    return G_SOURCE_CONTINUE;
  d->stopping = TRUE;
  /* cluster (issue 16): the calls run to their end first */
  if (d->cluster)
    s2r_cluster_drain (d->cluster, hang_up_and_stop, d);
  else
    hang_up_and_stop (d);
  return G_SOURCE_CONTINUE;
}

/* SIGHUP: what can change under live calls does (s2r_config_reload); a
 * file that does not load leaves everything as it was */
static gboolean
reload_cb (gpointer user_data)
{
  Daemon *d = user_data;
  g_autoptr (S2rConfig) next = NULL;
  g_autoptr (S2rRoutes) rules = NULL;
  g_autoptr (S2rSipListenConfig) sip_config = NULL;
  g_autoptr (GError) err = NULL;
  g_autofree char *needs_restart = NULL;

  if (d->stopping)
    return G_SOURCE_CONTINUE;
  if (d->config_file == NULL) {
    g_message ("SIGHUP: no --config file, nothing to reload");
    return G_SOURCE_CONTINUE;
  }
  s2r_systemd_notifyf ("RELOADING=1\nMONOTONIC_USEC=%" G_GINT64_FORMAT,
      g_get_monotonic_time ());
  next = s2r_config_new_from_file (d->config_file, &err);
  if (next && d->listen)
    s2r_config_set_listen (next, d->listen);
  if (next && d->monitor_listen)
    s2r_config_set_monitor_listen (next, d->monitor_listen, NULL);
  if (next && d->sip_listen)
    s2r_config_set_sip_listen (next, d->sip_listen);
  /* incoming calls' rules, allow= and routing webhook: checked with the
   * rest before anything changes */
  if (next)
    rules = s2r_routes_new_from_file (d->config_file, &err);
  if (rules)
    sip_config = s2r_sip_listen_config_new_from_file (d->config_file, rules,
        &err);
  if (sip_config == NULL ||
      !s2r_config_reload (d->config, next, &needs_restart, &err)) {
    g_warning ("reload failed, the running configuration stays: %s",
        err->message);
  } else {
    s2r_routes_replace_rules (d->routes, rules);
    if (d->sip)
      s2r_sip_listen_reconfigure (d->sip, sip_config);
    s2r_call_manager_config_changed (d->manager);
    s2r_webhook_config_changed (d->webhook);
    g_message ("reloaded %s", d->config_file);
    if (needs_restart)
      g_warning ("changed in %s, applied only by a restart: %s",
          d->config_file, needs_restart);
  }
  s2r_systemd_notify ("READY=1");
  return G_SOURCE_CONTINUE;
}

/* Under systemd, GLib's default writer sends messages to the journal with
 * their priority but no SYSLOG_IDENTIFIER, which the daemon's stderr lines
 * have: add it, so that journalctl -t sip2rtmpd shows them all. The default
 * writer still filters (G_MESSAGES_DEBUG) and formats for a terminal. */
static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField * fields, gsize n_fields,
    gpointer user_data)
{
  GLogField *all = g_newa (GLogField, n_fields + 1);

  memcpy (all, fields, n_fields * sizeof (GLogField));
  all[n_fields].key = "SYSLOG_IDENTIFIER";
  all[n_fields].value = "sip2rtmpd";
  all[n_fields].length = -1;
  return g_log_writer_default (level, all, n_fields + 1, user_data);
}

/* Every call holds a few sockets and bus fds: hundreds of calls need more
 * than the usual soft limit of 1024 */
static void
raise_fd_limit (void)
{
  struct rlimit lim;
  int high;

  if (getrlimit (RLIMIT_NOFILE, &lim) != 0)
    return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit (RLIMIT_NOFILE, &lim) != 0)
      g_warning ("could not raise the open files limit");
    getrlimit (RLIMIT_NOFILE, &lim);
  }

  /* The kernel grows a process's fd table by doubling it, and in a
   * threaded process each growth waits for an RCU grace period: measured
   * here, the socket() that crossed fd 256 took 16 ms and made that call's
   * set-up the slowest. Grow it once now, before any call. */
  high = (int) MIN (lim.rlim_cur, PREALLOCATED_FDS) - 1;
  if (high > 2 && dup2 (2, high) == high)
    close (high);
}

int
main (int argc, char **argv)
{
  g_autofree char *listen = NULL;
  g_autofree char *monitor_listen = NULL;
  g_autofree char *config_file = NULL;
  g_autofree char *sip_listen = NULL;   /* issue 14 */
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    {"listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
        "Address to serve the API on (default 127.0.0.1:9091)", "HOST:PORT"},
    {"monitor-listen", 0, 0, G_OPTION_ARG_STRING, &monitor_listen,
          "Address of its own for /healthz, /readyz and /metrics, without "
          "a token (\"\": none)", "HOST:PORT"},
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file,
        "Configuration file (GKeyFile)", "FILE"},
    {"sip-listen", 0, 0, G_OPTION_ARG_STRING, &sip_listen,
        "Where to take incoming SIP calls, over the config's [sip] listen",
        "udp|tcp|tls:IP:PORT,... (IPv6: udp:[::1]:PORT)"},
    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- SIP to RTMP gateway service");
  g_autoptr (GError) err = NULL;
  g_autoptr (S2rConfig) config = NULL;
  g_autoptr (S2rCallManager) manager = NULL;
  g_autoptr (S2rEvents) events = NULL;
  g_autoptr (S2rWebhook) webhook = NULL;
  g_autoptr (S2rApi) api = NULL;
  g_autoptr (S2rCluster) cluster = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (S2rRoutes) routes = NULL;
  g_autoptr (S2rSipListen) sip = NULL;
  g_autofree char *host = NULL;
  g_autofree char *monitor_host = NULL;
  guint16 port, monitor_port = 0;
  Daemon d = { 0 };

  g_log_set_writer_func (log_writer, NULL, NULL);
  raise_fd_limit ();
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("sip2rtmpd: %s\n", err->message);
    return 2;
  }
  if (version) {
    g_print ("sip2rtmpd %s\n", VERSION);
    return 0;
  }

  config = config_file ? s2r_config_new_from_file (config_file, &err) :
      s2r_config_new ();
  if (config == NULL) {
    g_printerr ("sip2rtmpd: %s\n", err->message);
    return 2;
  }
  if (listen)
    s2r_config_set_listen (config, listen);
  if (!s2r_parse_listen (s2r_config_get_listen (config), &host, &port, &err) ||
      (monitor_listen &&
          !s2r_config_set_monitor_listen (config, monitor_listen, &err)) ||
      (s2r_config_get_monitor_listen (config) &&
          !s2r_parse_listen (s2r_config_get_monitor_listen (config),
              &monitor_host, &monitor_port, &err))) {
    g_printerr ("sip2rtmpd: %s\n", err->message);
    return 2;
  }
  /* An open API places calls on anyone's behalf: loopback only without a
   * token */
  if (!s2r_host_is_loopback (host) && s2r_config_get_token (config) == NULL) {
    g_printerr ("sip2rtmpd: refusing to listen on %s without an API token "
        "([server] token= in the config file)\n", host);
    return 2;
  }

  manager = s2r_call_manager_new (config, &err);
  if (manager == NULL) {
    g_printerr ("sip2rtmpd: %s\n", err->message);
    return 1;
  }
  events = s2r_events_new (manager);
  webhook = s2r_webhook_new (manager, config);
  api = s2r_api_new (manager, events, config);
  if (s2r_config_get_console (config)) {
    S2rConsole *console =
        s2r_console_new_from_dir (s2r_config_get_console_dir (config), &err);

    if (console == NULL) {
      g_printerr ("sip2rtmpd: %s\n", err->message);
      return 2;
    }
    s2r_api_set_console (api, console);
  }

  /* issue 14: incoming calls, their routes and SIP addresses */
  {
    g_autoptr (S2rSipListenConfig) sip_config = NULL;

    if (sip_listen)
      s2r_config_set_sip_listen (config, sip_listen);
    routes = s2r_routes_new_from_file (config_file, &err);
    if (routes)
      sip_config = s2r_sip_listen_config_new_from_file (config_file, routes,
          &err);
    if (!sip_config) {
      g_printerr ("sip2rtmpd: %s\n", err->message);
      return 2;
    }
    s2r_api_set_routes (api, routes);
    if (s2r_config_get_sip_listen (config)) {
      sip = s2r_sip_listen_new (manager, routes,
          s2r_config_get_sip_listen (config),
          s2r_config_get_tls_cert_file (config),
          s2r_config_get_tls_key_file (config), &err);
      if (!sip) {
        g_printerr ("sip2rtmpd: %s\n", err->message);
        return 2;
      }
      s2r_sip_listen_reconfigure (sip, sip_config);
    }
  }
  if (!s2r_api_listen (api, host, port, &err)) {
    g_printerr ("sip2rtmpd: cannot listen on %s: %s\n",
        s2r_config_get_listen (config), err->message);
    return 1;
  }
  if (monitor_host &&
      !s2r_api_listen_monitor (api, monitor_host, monitor_port, &err)) {
    g_printerr ("sip2rtmpd: cannot listen on %s: %s\n",
        s2r_config_get_monitor_listen (config), err->message);
    return 1;
  }

  /* cluster (issue 16): only with a [cluster] group in the config file */
  cluster = s2r_cluster_new_from_file (config_file, manager, api, config,
      &err);
  if (cluster == NULL && err) {
    g_printerr ("sip2rtmpd: %s\n", err->message);
    return 2;
  }

  loop = g_main_loop_new (NULL, FALSE);
  d.loop = loop;
  d.cluster = cluster;
  d.config = config;
  d.config_file = config_file;
  d.listen = listen;
  d.monitor_listen = monitor_listen;
  d.sip_listen = sip_listen;
  d.manager = manager;
  d.routes = routes;
  d.sip = sip;
  d.webhook = webhook;
  g_unix_signal_add (SIGTERM, signal_cb, &d);
  g_unix_signal_add (SIGINT, signal_cb, &d);
  g_unix_signal_add (SIGHUP, reload_cb, &d);

  if (monitor_host)
    g_printerr ("sip2rtmpd: /healthz, /readyz and /metrics on "
        "http://%s:%u/\n", monitor_host, s2r_api_get_monitor_port (api));
  /* tests wait for this line */
  g_printerr ("sip2rtmpd %s listening on http://%s:%u/\n", VERSION,
      host, s2r_api_get_port (api));
  s2r_systemd_notifyf ("READY=1\nSTATUS=listening on http://%s:%u/", host,
      s2r_api_get_port (api));
  s2r_systemd_watchdog_add ();

  g_main_loop_run (loop);

  /* The bound passed with calls still going down: a call's pipeline goes
   * to NULL on a GStreamer pool thread (s2r-call.c, stop_pipeline), which
   * holds the call, its pipeline and the bus forwarder and may be blocked
   * for good (a SIP stack or RTMP server that does not answer). Returning
   * from main() would free the manager, the template and the config under
   * it, a call still draining would meet its finalizer's assertion, and
   * exit() would run the libraries' atexit handlers (OpenSSL's among them)
   * while those threads still use them; waiting longer only moves the
   * bound. So nothing is freed and nothing more waited for: _exit() ends
   * every thread at once, and the status says the calls were abandoned. */
  if (d.abandoned > 0) {
    g_warning ("%u call%s still going down after %u s: abandoned, exiting "
        "with status %d", d.abandoned, d.abandoned == 1 ? "" : "s",
        s2r_config_get_shutdown_timeout (config), EXIT_CALLS_ABANDONED);
    _exit (EXIT_CALLS_ABANDONED);
  }

  s2r_events_close_all (events);
  g_message ("stopped");
  return 0;
}
