/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * S2rCallRequest:
 *
 * What a client asked for, validated and mapped to SIP terms: the fields of
 * WCS 4 (`connection` object, booleans and port as strings), WCS 5 (flat) and
 * the native API (real JSON types) all land here. Immutable once parsed,
 * except for the call id the manager assigns when none was given.
 */
typedef struct _S2rCallRequest S2rCallRequest;

/* Destinations of one call, at most */
#define S2R_MAX_DESTINATIONS 16

/**
 * S2rRtmpTarget:
 *
 * One RTMP destination: the server URL with its app (`rtmpUrl`), the stream
 * name or key (`rtmpStream`) and the location published, `rtmpUrl + "/" +
 * rtmpStream`.
 */
typedef struct _S2rRtmpTarget S2rRtmpTarget;

S2rRtmpTarget *s2r_rtmp_target_new_from_json (JsonNode * node,
    const char *field, GError ** error);
S2rRtmpTarget *s2r_rtmp_target_copy (const S2rRtmpTarget * target);
void s2r_rtmp_target_free (S2rRtmpTarget * target);
const char *s2r_rtmp_target_get_url (const S2rRtmpTarget * target);
const char *s2r_rtmp_target_get_stream (const S2rRtmpTarget * target);
char *s2r_rtmp_target_dup_shown_url (const S2rRtmpTarget * target);
const char *s2r_rtmp_target_get_location (const S2rRtmpTarget * target);

S2rCallRequest *s2r_call_request_new_from_json (JsonNode * root,
    GError ** error);
S2rCallRequest *s2r_call_request_ref (S2rCallRequest * req);
void s2r_call_request_unref (S2rCallRequest * req);

const char *s2r_call_request_get_call_id (const S2rCallRequest * req);
void s2r_call_request_set_call_id (S2rCallRequest * req, const char *call_id);
const char *s2r_call_request_get_callee (const S2rCallRequest * req);
const char *s2r_call_request_get_sip_uri (const S2rCallRequest * req);
const char *s2r_call_request_get_from_uri (const S2rCallRequest * req);
const char *s2r_call_request_get_proxy (const S2rCallRequest * req);
const char *s2r_call_request_get_transport (const S2rCallRequest * req);
const char *s2r_call_request_get_sip_login (const S2rCallRequest * req);
const char *s2r_call_request_get_sip_password (const S2rCallRequest * req);
const char *s2r_call_request_get_sip_auth_name (const S2rCallRequest * req);
const char *s2r_call_request_get_sip_domain (const S2rCallRequest * req);
guint s2r_call_request_get_sip_port (const S2rCallRequest * req);
gboolean s2r_call_request_get_register (const S2rCallRequest * req);
const char *s2r_call_request_get_visible_name (const S2rCallRequest * req);
gboolean s2r_call_request_get_has_audio (const S2rCallRequest * req);
gboolean s2r_call_request_get_has_video (const S2rCallRequest * req);
void s2r_call_request_hide_first_url (S2rCallRequest * req);
const char *s2r_call_request_get_rtmp_url (const S2rCallRequest * req);
const char *s2r_call_request_get_rtmp_stream (const S2rCallRequest * req);
const char *s2r_call_request_get_rtmp_location (const S2rCallRequest * req);
guint s2r_call_request_get_n_targets (const S2rCallRequest * req);
const S2rRtmpTarget *s2r_call_request_get_target (const S2rCallRequest * req,
    guint i);
gint s2r_call_request_get_max_duration (const S2rCallRequest * req);
gint s2r_call_request_get_rtp_timeout (const S2rCallRequest * req);
gint s2r_call_request_get_rtmp_retry_budget (const S2rCallRequest * req);
/* -1: not in the request (the config decides), 0 or 1 */
gint s2r_call_request_get_generate_video (const S2rCallRequest * req);
const char *s2r_call_request_get_app_key (const S2rCallRequest * req);
const char *s2r_call_request_get_callback_url (const S2rCallRequest * req);
/* NULL: no recording; else a file name checked by s2r_record_name_is_valid() */
const char *s2r_call_request_get_record (const S2rCallRequest * req);
const char *s2r_call_request_get_dtmf (const S2rCallRequest * req);
const char *s2r_call_request_get_public_address (const S2rCallRequest * req);
const char *const *s2r_call_request_get_sip_headers (const S2rCallRequest *
    req);
/* NULL: the config's default; else off, optional or mandatory */
const char *s2r_call_request_get_srtp (const S2rCallRequest * req);

/* issue 14: an incoming call's facts (s2r-sip-listen.c), or NULL */
void s2r_call_request_set_incoming (S2rCallRequest * req, gpointer incoming,
    GDestroyNotify free_func);
gpointer s2r_call_request_get_incoming (const S2rCallRequest * req);

char *s2r_map_callee (const char *callee, const char *sip_domain,
    guint sip_port, GError ** error);
gboolean s2r_call_id_is_valid (const char *call_id);
gboolean s2r_record_name_is_valid (const char *name);
gboolean s2r_srtp_mode_is_valid (const char *mode);
char *s2r_redact_url (const char *url);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rCallRequest, s2r_call_request_unref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (S2rRtmpTarget, s2r_rtmp_target_free);

G_END_DECLS
