/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "s2r-call-request.h"
#include "s2r-call-settings.h"
#include "s2r-call-status.h"
#include "s2r-destination.h"

G_BEGIN_DECLS

/* Which API a call is shown to: the native API's JSON types, or WCS 4/5's
 * (booleans as "true"/"false" strings) */
typedef enum
{
  S2R_DIALECT_NATIVE,
  S2R_DIALECT_WCS,
} S2rDialect;

/**
 * S2rIncomingView:
 *
 * What an incoming call (issue 14) shows of its INVITE: filled by
 * s2r_incoming_get_view() (s2r-sip-listen.c) from the request's incoming
 * facts; all zero for a call we placed.
 */
typedef struct
{
  gboolean incoming;
  const char *caller;           /* the From URI */
  const char *called_user;      /* the Request-URI's user */
  const char *route;            /* the id of the route that took it */
  const char *source;           /* the INVITE's source address */
  const GstStructure *x_headers;        /* its X- headers, NULL if none */
  /* the header whose value a route made the stream key of: not shown */
  const char *key_header;
} S2rIncomingView;

/**
 * S2rCallView:
 *
 * What a call shows in the API, events and webhooks, read from it at one
 * moment (s2r_call_get_view()): borrowed, valid until the call changes.
 * The JSON is a function of this alone.
 */
typedef struct
{
  const S2rCallRequest *req;
  const S2rCallSettings *settings;
  S2rCallStatus status;
  S2rStreamStatus stream_status;
  S2rRecordStatus record_status;
  gint sip_status;
  const char *reason;
  const char *audio_codec;
  const char *video_codec;
  const char *sip_call_id;
  const char *dtmf;             /* received, NULL if none */
  const char *dtmf_sent;        /* NULL if none */
  const GstStructure *remote_headers;
  GPtrArray *destinations;      /* S2rDestination, at least one */
  gint64 created;               /* real time, µs; 0: not reached */
  gint64 answered;
  gint64 ended;
  S2rIncomingView incoming;     /* issue 14 */
} S2rCallView;

void s2r_call_view_add_members (const S2rCallView * view, JsonBuilder * b,
    S2rDialect dialect);
void s2r_x_headers_add_member (JsonBuilder * b,
    const GstStructure * headers);
void s2r_stats_add_members (const GstStructure * sip_stats,
    const GstStructure * rtmp_stats, JsonBuilder * b);
void s2r_destination_to_json (S2rDestination * dest, JsonBuilder * builder);

G_END_DECLS
