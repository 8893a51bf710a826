/* sip2rtmp
 * Copyright (C) 2024 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "s2r-call-json.h"
#include "s2r-call.h"
#include "s2r-secret.h"

#include <string.h>

static void
add_time (JsonBuilder * b, const char *name, gint64 usec)
{
  json_builder_set_member_name (b, name);
  if (usec == 0) {
    json_builder_add_null_value (b);
  } else {
    g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (usec / 1000000);
    g_autofree char *str = g_date_time_format_iso8601 (dt);

    json_builder_add_string_value (b, str);
  }
}

static void
add_string (JsonBuilder * b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_bool (JsonBuilder * b, const char *name, gboolean value, gboolean wcs)
{
  json_builder_set_member_name (b, name);
  if (wcs)
    json_builder_add_string_value (b, value ? "true" : "false");
  else
    json_builder_add_boolean_value (b, value);
}

/* A stream key (rtmpStream) is a secret: whoever has it publishes on the
 * channel. No answer, event or webhook shows it: S2R_SECRET_SHOWN (as
 * routes show theirs). The caller knows the key it gave; a destination is
 * told apart by its id and its URL. */

static void
add_rtmp_target (JsonBuilder * b, const S2rRtmpTarget * target)
{
  g_autofree char *url = s2r_rtmp_target_dup_shown_url (target);

  add_string (b, "rtmpUrl", url);
  add_string (b, "rtmpStream",
      s2r_rtmp_target_get_stream (target) ? S2R_SECRET_SHOWN : NULL);
}

/* Never the password nor the stream key */
void
s2r_destination_to_json (S2rDestination * d, JsonBuilder * b)
{
  const S2rRtmpTarget *target = s2r_destination_get_target (d);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, s2r_destination_get_id (d));
  add_rtmp_target (b, target);
  add_string (b, "status",
      s2r_stream_status_to_string (s2r_destination_get_status (d)));
  json_builder_set_member_name (b, "droppedMs");
  json_builder_add_int_value (b, (gint64) s2r_destination_get_dropped_ms (d));
  add_string (b, "error", s2r_destination_get_error (d));
  json_builder_end_object (b);
}

/* Whether a header's @value shows one of @call's stream keys: it holds
 * one, or is a good part of one (8 characters or more: a routing webhook
 * may have made the key of an X- header's value and a prefix) */
static gboolean
holds_stream_key (const S2rCallView * call, const char *value)
{
  for (guint i = 0; i < call->destinations->len; i++) {
    const char *key = s2r_rtmp_target_get_stream (s2r_destination_get_target
        (g_ptr_array_index (call->destinations, i)));

    if (key && *key && (strstr (value, key) ||
            (strlen (value) >= 8 && strstr (key, value))))
      return TRUE;
  }
  return FALSE;
}

/* @member: an object of @headers (printable ASCII values). For a call's
 * JSON (@call not NULL) the header a route made the stream key of is left
 * out and a value that shows a key is S2R_SECRET_SHOWN. */
static void
add_headers (JsonBuilder * b, const char *member, const GstStructure * headers,
    const S2rCallView * call)
{
  const char *key_header = call ? call->incoming.key_header : NULL;

  json_builder_set_member_name (b, member);
  json_builder_begin_object (b);
  for (gint i = 0; headers && i < gst_structure_n_fields (headers); i++) {
    const char *name = gst_structure_nth_field_name (headers, i);
    const char *v = gst_structure_get_string (headers, name);

    if (key_header && !g_ascii_strcasecmp (name, key_header))
      continue;
    json_builder_set_member_name (b, name);
    json_builder_add_string_value (b, !v ? "" :
        call && holds_stream_key (call, v) ? S2R_SECRET_SHOWN : v);
  }
  json_builder_end_object (b);
}

/* issue 14: direction, caller, called user, route, source and X- headers
 * of an incoming call; nothing for a call we placed */
static void
add_incoming (const S2rCallView * call, JsonBuilder * b)
{
  const S2rIncomingView *in = &call->incoming;

  if (!in->incoming)
    return;
  add_string (b, "direction", "incoming");
  add_string (b, "caller", in->caller);
  add_string (b, "calledUser", in->called_user);
  add_string (b, "route", in->route);
  add_string (b, "source", in->source);
  add_headers (b, "xHeaders", in->x_headers, call);
}

/* "xHeaders": an incoming INVITE's X- headers (siplistener's `headers`),
 * as the routing webhook is asked with them: every value */
void
s2r_x_headers_add_member (JsonBuilder * b, const GstStructure * headers)
{
  add_headers (b, "xHeaders", headers, NULL);
}

/* The members of a call's object; the caller opens and closes it */
void
s2r_call_view_add_members (const S2rCallView * call, JsonBuilder * b,
    S2rDialect dialect)
{
  const S2rCallRequest *req = call->req;
  const S2rRtmpTarget *first =
      s2r_destination_get_target (g_ptr_array_index (call->destinations, 0));
  gboolean wcs = dialect == S2R_DIALECT_WCS;
  guint64 dropped_ms = 0;

  /* media lost: the most any destination lost */
  for (guint i = 0; i < call->destinations->len; i++)
    dropped_ms = MAX (dropped_ms, s2r_destination_get_dropped_ms
        (g_ptr_array_index (call->destinations, i)));

  add_string (b, "callId", s2r_call_request_get_call_id (req));
  add_incoming (call, b);
  add_string (b, "callee", s2r_call_request_get_callee (req));
  add_string (b, "sipUri", s2r_call_request_get_sip_uri (req));
  add_string (b, "status", s2r_call_status_to_string (call->status));
  json_builder_set_member_name (b, "sipStatus");
  json_builder_add_int_value (b, call->sip_status);
  add_string (b, "reason", call->reason);
  add_bool (b, "hasAudio", s2r_call_request_get_has_audio (req), wcs);
  add_bool (b, "hasVideo", s2r_call_request_get_has_video (req), wcs);
  add_bool (b, "generateVideo", call->settings->generate_video, wcs);
  add_string (b, "srtp", call->settings->srtp);
  add_string (b, "audioCodec", call->audio_codec);
  add_string (b, "videoCodec", call->video_codec);
  /* WCS's single stream: the first destination */
  add_rtmp_target (b, first);
  add_string (b, "rtmpStreamStatus",
      s2r_stream_status_to_string (call->stream_status));
  json_builder_set_member_name (b, "rtmpDroppedMs");
  json_builder_add_int_value (b, (gint64) dropped_ms);
  json_builder_set_member_name (b, "destinations");
  json_builder_begin_array (b);
  for (guint i = 0; i < call->destinations->len; i++)
    s2r_destination_to_json (g_ptr_array_index (call->destinations, i), b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "maxDuration");
  json_builder_add_int_value (b, call->settings->max_duration);
  json_builder_set_member_name (b, "rtpTimeout");
  json_builder_add_int_value (b, call->settings->rtp_timeout);
  json_builder_set_member_name (b, "rtmpRetryBudget");
  json_builder_add_int_value (b, call->settings->retry_budget);
  add_string (b, "sipLogin", s2r_call_request_get_sip_login (req));
  add_string (b, "sipDomain", s2r_call_request_get_sip_domain (req));
  add_string (b, "appKey", s2r_call_request_get_app_key (req));
  add_string (b, "visibleName", s2r_call_request_get_visible_name (req));
  add_string (b, "sipCallId", call->sip_call_id);
  add_string (b, "dtmf", call->dtmf);
  add_string (b, "dtmfSent", call->dtmf_sent);
  if (call->remote_headers)
    add_headers (b, "remoteHeaders", call->remote_headers, call);
  add_string (b, "record", s2r_call_request_get_record (req));
  add_string (b, "recordStatus",
      s2r_record_status_to_string (call->record_status));
  add_time (b, "created", call->created);
  add_time (b, "answered", call->answered);
  add_time (b, "ended", call->ended);
}


static void
add_uint64_field (JsonBuilder * b, const char *name, const GstStructure * s,
    const char *field)
{
  const GValue *v = gst_structure_get_value (s, field);

  json_builder_set_member_name (b, name);
  if (v && G_VALUE_HOLDS_UINT64 (v))
    json_builder_add_int_value (b, (gint64) g_value_get_uint64 (v));
  else if (v && G_VALUE_HOLDS_UINT (v))
    json_builder_add_int_value (b, g_value_get_uint (v));
  else if (v && G_VALUE_HOLDS_INT (v))
    json_builder_add_int_value (b, g_value_get_int (v));
  else if (v && G_VALUE_HOLDS_INT64 (v))
    json_builder_add_int_value (b, g_value_get_int64 (v));
  else
    json_builder_add_null_value (b);
}

static void
add_double_field (JsonBuilder * b, const char *name, const GstStructure * s,
    const char *field)
{
  gdouble v;

  json_builder_set_member_name (b, name);
  if (gst_structure_get_double (s, field, &v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_codec_field (JsonBuilder * b, const char *name, const GstStructure * s,
    const char *field)
{
  const char *codec = gst_structure_get_string (s, field);

  add_string (b, name, codec && *codec ? codec : NULL);
}

/**
 * s2r_stats_add_members:
 *
 * `rtpStats` (sipsrc: packets and bytes received, packets lost, the audio
 * stream's interarrival jitter in ms, codecs)
 * and `rtmpStats` (rtmppubsink: frames sent, frames dropped), null when not
 * known (yet).
 */
void
s2r_stats_add_members (const GstStructure * sip_stats,
    const GstStructure * rtmp_stats, JsonBuilder * b)
{
  json_builder_set_member_name (b, "rtpStats");
  if (sip_stats) {
    json_builder_begin_object (b);
    add_uint64_field (b, "packetsReceived", sip_stats,
        "packets-received");
    add_uint64_field (b, "packetsLost", sip_stats, "packets-lost");
    add_uint64_field (b, "bytesReceived", sip_stats, "bytes-received");
    add_double_field (b, "jitterMs", sip_stats, "audio-jitter-ms");
    add_codec_field (b, "audioCodec", sip_stats, "audio-codec");
    add_codec_field (b, "videoCodec", sip_stats, "video-codec");
    /* the suite in use (never a key), and the packets it refused */
    add_codec_field (b, "srtp", sip_stats, "audio-srtp");
    add_uint64_field (b, "srtpDropped", sip_stats, "srtp-dropped");
    json_builder_end_object (b);
  } else {
    json_builder_add_null_value (b);
  }

  json_builder_set_member_name (b, "rtmpStats");
  if (rtmp_stats) {
    json_builder_begin_object (b);
    add_uint64_field (b, "frames", rtmp_stats, "frames");
    add_uint64_field (b, "droppedFrames", rtmp_stats, "dropped-frames");
    json_builder_end_object (b);
  } else {
    json_builder_add_null_value (b);
  }
}

/* The call's, as the API shows it */

void
s2r_call_add_json_members (S2rCall * call, JsonBuilder * b, S2rDialect dialect)
{
  S2rCallView view;

  s2r_call_get_view (call, &view);
  s2r_call_view_add_members (&view, b, dialect);
}

void
s2r_call_to_json (S2rCall * call, JsonBuilder * b, S2rDialect dialect)
{
  json_builder_begin_object (b);
  s2r_call_add_json_members (call, b, dialect);
  json_builder_end_object (b);
}

/* Read from the elements now, or the last values once the call has ended */
void
s2r_call_add_stats_members (S2rCall * call, JsonBuilder * b)
{
  const GstStructure *sip_stats, *rtmp_stats;

  s2r_call_get_stats (call, &sip_stats, &rtmp_stats);
  s2r_stats_add_members (sip_stats, rtmp_stats, b);
}
