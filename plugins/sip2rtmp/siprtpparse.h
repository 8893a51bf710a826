/* sip2rtmp
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __SIP_RTP_PARSE_H__
#define __SIP_RTP_PARSE_H__

#include <glib.h>

G_BEGIN_DECLS

/* What a datagram received at a call's RTP or RTCP port says, read without
 * an element, a lock or a buffer: the parse step of gstsiprtpsource.c, alone
 * so that it can be fuzzed (tests/fuzz/fuzz-rtp-datagram.c). */

/* The fixed header of an RTP packet, and where its payload is */
typedef struct
{
  guint8 payload_type;
  gboolean marker;
  guint16 seq;
  guint32 timestamp;
  guint32 ssrc;
  gsize payload_offset;         /* after the CSRCs and the extension */
  gsize payload_len;            /* without the padding */
} SipRtpHeader;

gboolean sip_rtp_header_parse (const guint8 * data, gsize len,
    SipRtpHeader * hdr);

gboolean sip_rtcp_sender_ntp (const guint8 * data, gsize len, guint64 * ntp);

G_END_DECLS

#endif
