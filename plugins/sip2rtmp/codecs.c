/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <strings.h>
#include "codecs.h"

static const struct codec codecv[] = {
  {"PCMU", "PCMU", CODEC_AUDIO, 0, 8000, 1, NULL, "rtppcmudepay",
      160, 0xFF, NULL},
  {"PCMA", "PCMA", CODEC_AUDIO, 8, 8000, 1, NULL, "rtppcmadepay",
      160, 0xD5, NULL},
  /* G.722's RTP clock is 8000 although it samples at 16 kHz (RFC 3551) */
  {"G722", "G722", CODEC_AUDIO, 9, 8000, 1, NULL, "rtpg722depay",
        160, -1,
        "audiotestsrc wave=silence num-buffers=5 samplesperbuffer=320 "
        "! audio/x-raw,rate=16000,channels=1 ! avenc_g722 ! rtpg722pay "
      "! appsink name=out sync=false"},
  /* GStreamer's depayloader knows Opus as OPUS */
  {"opus", "OPUS", CODEC_AUDIO, CODEC_PT_DYNAMIC, 48000, 2, "useinbandfec=1",
        "rtpopusdepay", 960, -1,
        "audiotestsrc wave=silence num-buffers=5 samplesperbuffer=960 "
        "! audio/x-raw,rate=48000,channels=1 ! opusenc frame-size=20 "
      "! rtpopuspay ! appsink name=out sync=false"},
  {"H264", "H264", CODEC_VIDEO, CODEC_PT_DYNAMIC, 90000, 0,
      "packetization-mode=1", "rtph264depay", 0, -1, NULL},
  {"VP8", "VP8", CODEC_VIDEO, CODEC_PT_DYNAMIC, 90000, 0, NULL,
      "rtpvp8depay", 0, -1, NULL},
};

_Static_assert (sizeof (codecv) / sizeof (codecv[0]) == CODEC_COUNT,
    "CODEC_COUNT is the table's length");

const struct codec *
codec_find (const char *name, size_t len)
{
  size_t i;

  if (!name)
    return NULL;
  for (i = 0; i < CODEC_COUNT; i++) {
    if (strlen (codecv[i].name) == len
        && !strncasecmp (codecv[i].name, name, len))
      return &codecv[i];
  }
  return NULL;
}

const struct codec *
codec_at (size_t i)
{
  return i < CODEC_COUNT ? &codecv[i] : NULL;
}

size_t
codec_index (const struct codec *c)
{
  return (size_t) (c - codecv);
}
