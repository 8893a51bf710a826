/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __SIP2RTMP_CODECS_H__
#define __SIP2RTMP_CODECS_H__

/* What the plugin knows of each codec it can offer, in one table: the SDP
 * (libre/sipua_sdp.c), sipsrc's codecs property (gstsipsrc.c), the RTP caps
 * (gstsipstream.c) and the silence fill (gstsipsilence.c) read it. Plain C:
 * no libre and no GStreamer type, for both sides of the plugin. Adding a
 * codec is a row here (and a branch in pipelines/default.pipeline, which is
 * the controller's). */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* the values of enum sipua_media */
enum codec_media
{
  CODEC_AUDIO = 0,
  CODEC_VIDEO = 1,
};

enum
{
  CODEC_PT_DYNAMIC = -1,
  CODEC_COUNT = 6,
};

struct codec
{
  const char *name;             /* SDP encoding name, as we offer it */
  const char *rtp_encoding;     /* encoding-name of GStreamer's RTP caps */
  enum codec_media media;
  int pt;                       /* static payload type, or CODEC_PT_DYNAMIC */
  unsigned clock_rate;          /* RTP clock */
  unsigned channels;            /* SDP encoding parameters; 0: none */
  const char *fmtp;             /* what we offer, or NULL */
  const char *depayloader;      /* GStreamer's, for a pipeline downstream */
  /* 20 ms of silence for the gap fill: how far it moves the RTP clock
   * (0: none, e.g. video), and either one byte repeated per sample (G.711)
   * or a launch line that encodes it (its appsink "out" gets RTP) */
  unsigned silence_ts_step;
  int silence_byte;             /* -1: made by silence_pipeline */
  const char *silence_pipeline;
};

/* By name, case-insensitive (len bytes of name); NULL for a codec we do
 * not know */
const struct codec *codec_find (const char *name, size_t len);
/* The i-th row, i < CODEC_COUNT; its index with codec_index() */
const struct codec *codec_at (size_t i);
size_t codec_index (const struct codec *c);

#ifdef __cplusplus
}
#endif

#endif
