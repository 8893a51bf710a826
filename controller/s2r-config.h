/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * S2rConfig:
 *
 * The daemon's settings, read from a GKeyFile:
 *
 * |[
 * [server]
 * listen=127.0.0.1:9091
 * monitor-listen=127.0.0.1:9092 ; /healthz, /readyz, /metrics, no token
 * token=secret            ; Bearer token; required to listen off loopback
 * max-calls=200
 * max-body=65536
 * keep-finished=300       ; seconds a finished call stays listed
 * idle-timeout=60         ; s an HTTP connection may wait for a request
 * request-timeout=10      ; s from a request's first byte to its last
 * [pipeline]
 * dir=/usr/share/sip2rtmp/pipelines
 * template=default
 * [console]
 * enabled=true            ; the operator console at /
 * dir=/usr/share/sip2rtmp/console
 * [sip]
 * local-address=192.0.2.10
 * public-address=198.51.100.7 ; a NAT's, in Contact and SDP
 * user-agent=sip2rtmp
 * codecs=G722,PCMU,PCMA,H264
 * answer-timeout=60
 * auth-max-failures=5     ; incoming calls: wrong credentials from one
 * auth-failure-window=60  ; source to one user within these seconds lock
 * auth-lockout=60         ; them out (480) this long, doubling; 0: no limit
 * srtp=off                ; default of a call's `srtp`: off, optional, mandatory
 * tls-ca-file=/etc/sip2rtmp/ca.pem    ; TLS: whom to trust (default: the
 *                         ; system's bundle, or SSL_CERT_FILE)
 * tls-verify=true         ; false: no certificate check (labs only)
 * tls-cert-file=/etc/sip2rtmp/client.pem  ; mutual TLS, and a tls: listen's, with:
 * tls-key-file=/etc/sip2rtmp/client.key   ; mode 600 (checked at start)
 * [calls]
 * max-duration=0          ; seconds from the answer; 0: no limit
 * rtp-timeout=30          ; seconds without RTP; 0: off ([sip] rtp-timeout too)
 * [rtmp]
 * retry-budget=60         ; seconds a destination may stay down
 * still-video=false       ; a generated video track for calls without video
 * [record]
 * dir=/var/lib/sip2rtmp   ; where calls' `record` files go; unset: none
 * [admission]
 * enabled=true            ; refuse calls (503) by measured headroom
 * cpu-limit=85            ; % of the machine's CPU, the new call counted in
 * media-busy-limit=70     ; % of the busiest media thread's time
 * media-late-limit=10     ; ms media ticks may start late, on average
 * call-cost=1.0           ; % of a core per audio call, until measured
 * [webhook]
 * queue-size=256
 * max-retries=5
 * timeout=5
 * [app:callApp]
 * url=http://127.0.0.1:8081/hooks
 * ]|
 *
 * s2r_config_reload() takes from @next what every request, new call or
 * event reads afresh: [server] token, max-calls, keep-finished;
 * [admission]; [sip] public-address, user-agent, answer-timeout, auth-*; [calls];
 * [rtmp]; [record]; [webhook]; the [app:NAME] groups. What was set up once
 * at start-up stays until a restart, and is named in @needs_restart when
 * @next changes it: [server] listen and monitor-listen (the bound
 * sockets), [console] enabled and dir (read once), max-body,
 * idle-timeout and request-timeout (the connections' limits, set with the
 * listener), [pipeline] dir and template (parsed once, the calls up use
 * it), [sip] local-address (the process's SIP socket) and codecs (checked
 * against that template), [sip] listen (the listeners' sockets), the
 * [cluster] group (its Redis connection and node identity). The
 * incoming calls' [route:NAME] rules, [sip] allow and routing webhook are
 * read by s2r_routes_new_from_file() and
 * s2r_sip_listen_config_new_from_file(), and reloaded with the rest
 * (main.c). A reload that would leave an API reachable off
 * loopback without a token fails and changes nothing.
 */
typedef struct _S2rConfig S2rConfig;

S2rConfig *s2r_config_new (void);
S2rConfig *s2r_config_new_from_data (const char *data, GError ** error);
S2rConfig *s2r_config_new_from_file (const char *path, GError ** error);
void s2r_config_free (S2rConfig * config);
gboolean s2r_config_reload (S2rConfig * config, S2rConfig * next,
    char **needs_restart, GError ** error);

const char *s2r_config_get_listen (const S2rConfig * config);
void s2r_config_set_listen (S2rConfig * config, const char *listen);
const char *s2r_config_get_sip_listen (const S2rConfig * config);
void s2r_config_set_sip_listen (S2rConfig * config, const char *listen);
const char *s2r_config_get_monitor_listen (const S2rConfig * config);
gboolean s2r_config_set_monitor_listen (S2rConfig * config,
    const char *listen, GError ** error);
const char *s2r_config_get_token (const S2rConfig * config);
guint s2r_config_get_max_calls (const S2rConfig * config);
gsize s2r_config_get_max_body (const S2rConfig * config);
gboolean s2r_config_get_admission (const S2rConfig * config,
    guint * cpu_limit, guint * media_busy_limit, guint * media_late_ms,
    gdouble * call_cost);
guint s2r_config_get_keep_finished (const S2rConfig * config);
guint s2r_config_get_idle_timeout (const S2rConfig * config);
guint s2r_config_get_shutdown_timeout (const S2rConfig * config);
guint s2r_config_get_request_timeout (const S2rConfig * config);

const char *s2r_config_get_pipelines_dir (const S2rConfig * config);
const char *s2r_config_get_template (const S2rConfig * config);

gboolean s2r_config_get_console (const S2rConfig * config);
const char *s2r_config_get_console_dir (const S2rConfig * config);

const char *s2r_config_get_local_address (const S2rConfig * config);
const char *s2r_config_get_public_address (const S2rConfig * config);
const char *s2r_config_get_user_agent (const S2rConfig * config);
const char *s2r_config_get_codecs (const S2rConfig * config);
const char *s2r_config_get_srtp (const S2rConfig * config);
const char *s2r_config_get_tls_ca_file (const S2rConfig * config);
gboolean s2r_config_get_tls_verify (const S2rConfig * config);
const char *s2r_config_get_tls_cert_file (const S2rConfig * config);
const char *s2r_config_get_tls_key_file (const S2rConfig * config);
guint s2r_config_get_answer_timeout (const S2rConfig * config);
void s2r_config_get_auth_limit (const S2rConfig * config,
    guint * max_failures, guint * failure_window, guint * lockout);
guint s2r_config_get_rtp_timeout (const S2rConfig * config);
guint s2r_config_get_max_duration (const S2rConfig * config);
guint s2r_config_get_retry_budget (const S2rConfig * config);
gboolean s2r_config_get_still_video (const S2rConfig * config);
const char *s2r_config_get_record_dir (const S2rConfig * config);

guint s2r_config_get_webhook_queue_size (const S2rConfig * config);
guint s2r_config_get_webhook_max_retries (const S2rConfig * config);
guint s2r_config_get_webhook_timeout (const S2rConfig * config);

const char *s2r_config_get_app_url (const S2rConfig * config,
    const char *app_key);

gboolean s2r_parse_listen (const char *listen, char **host, guint16 * port,
    GError ** error);
gboolean s2r_host_is_loopback (const char *host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rConfig, s2r_config_free);

G_END_DECLS
