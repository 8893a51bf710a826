/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* sipsrc's call plan: its properties checked and turned into what the call
 * needs (libre/sipua.h's parameters), apart from the element and pure (no
 * lock, no socket, no name resolution), so that tests/unit/test-call-plan.c
 * checks it. gstsipsrc.c builds it at NULL->READY from a view of its
 * properties taken under its object lock. */

#ifndef __GST_SIP_SRC_PLAN_H__
#define __GST_SIP_SRC_PLAN_H__

#include <gst/gst.h>
#include "gstsipsrcanswer.h"
#include "libre/sipua.h"

G_BEGIN_DECLS

/* the defaults of the properties the plan reads (gstsipsrc.c's specs) */
#define GST_SIP_SRC_DEFAULT_TRANSPORT SIPUA_TRANSPORT_UDP
#define GST_SIP_SRC_DEFAULT_SIP_PORT 0
#define GST_SIP_SRC_DEFAULT_AUDIO SIPUA_DIR_RECVONLY
#define GST_SIP_SRC_DEFAULT_VIDEO SIPUA_DIR_OFF
#define GST_SIP_SRC_DEFAULT_CODECS "PCMU,PCMA,H264"
#define GST_SIP_SRC_DEFAULT_RTP_PORT_MIN 0
#define GST_SIP_SRC_DEFAULT_RTP_PORT_MAX 0
#define GST_SIP_SRC_DEFAULT_ANSWER_TIMEOUT 60
#define GST_SIP_SRC_DEFAULT_REGISTER FALSE
#define GST_SIP_SRC_DEFAULT_SRTP SIPUA_SRTP_OFF
#define GST_SIP_SRC_DEFAULT_TLS_VERIFY TRUE
/* answer mode: wrong credentials that lock a source out for a user */
#define GST_SIP_SRC_DEFAULT_AUTH_MAX_FAILURES 5
#define GST_SIP_SRC_DEFAULT_AUTH_FAILURE_WINDOW 60
#define GST_SIP_SRC_DEFAULT_AUTH_LOCKOUT 60

/* The properties the plan reads, borrowed from the element (NULL: unset) */
typedef struct
{
  const gchar *uri;
  const gchar *user_id;
  const gchar *user_pw;
  const gchar *auth_user;
  const gchar *from_uri;
  const gchar *display_name;
  const gchar *proxy;
  enum sipua_transport transport;
  const gchar *local_address;
  guint sip_port;
  enum sipua_dir media_mode[SIPUA_MEDIA_COUNT];
  const gchar *codecs;
  guint rtp_port_min;
  guint rtp_port_max;
  guint answer_timeout;         /* s */
  gboolean do_register;
  const gchar *user_agent;
  const gchar *dtmf;
  const GstStructure *sip_headers;
  const gchar *public_address;
  enum sipua_srtp_mode srtp;
  const gchar *tls_ca_file;
  gboolean tls_verify;
  const gchar *tls_cert_file;
  const gchar *tls_key_file;
  GstSipSrcMode mode;
  const gchar *caller;
  const gchar *invite_id;
  guint auth_max_failures;
  guint auth_failure_window;    /* s */
  guint auth_lockout;           /* s */
} GstSipSrcSettings;

/* The plan: owned copies; prm's strings are set from them when the call
 * starts (gstsipsrc.c's start_call) */
typedef struct
{
  gchar *request_uri;
  gchar *from_uri;
  gchar *route;
  gchar *target_host;           /* the next hop's host: the proxy's, or the uri's */
  gchar *local_address;         /* NULL: the one towards target_host */
  struct sipua_call_params prm;
  gchar *codecs;
  gchar *user_agent;
  gchar *display_name;
  gchar *auth_user;
  gchar *password;              /* wiped when freed */
  gchar *extra_headers;
  gchar *public_address;
  gchar *tls_ca_file;
  gchar *tls_cert_file;
  gchar *tls_key_file;
  guint rtp_port_min, rtp_port_max;
  /* answer mode (issue 14): answer.* point into these */
  struct sipua_answer_params answer;
  gchar *answer_user, *answer_caller, *answer_invite_id;
  gboolean answering;
} GstSipSrcPlan;

GstSipSrcPlan *gst_sip_src_plan_new (const GstSipSrcSettings * s,
    GError ** error);
void gst_sip_src_plan_free (GstSipSrcPlan * plan);

G_END_DECLS

#endif
