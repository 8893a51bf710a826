/**
 * @file sipua_srtp.h  SRTP and SRTCP of one stream, for the media loop
 *
 * A small wrapper of libre's SRTP module for the RTP source: plain types
 * only (no libre and no GStreamer type here). Unlike the rest of sipua it
 * runs on the thread that holds the stream, not on the SIP thread: a
 * context is self-contained (keys, AES and HMAC state, per-sender counters;
 * no timer, no socket, no object shared with the SIP thread), made, used and
 * freed by one thread at a time (the media loop under the stream's entry
 * lock, or the pool thread that builds the stream before the loop has it),
 * and libre's allocator is thread-safe. The SIP thread hands over key bytes
 * only (struct sipua_stream_info), never a context.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef SIPUA_SRTP_H
#define SIPUA_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sipua.h"

/** What protecting adds at most: the SRTCP index and an 80-bit tag */
#define SIPUA_SRTP_TRAILER_MAX (4 + 10)

struct sipua_srtp;

int  sipua_srtp_alloc(struct sipua_srtp **sp, enum sipua_srtp_suite suite,
		      const uint8_t *tx_key, const uint8_t *rx_key);
int  sipua_srtp_update(struct sipua_srtp *s, const uint8_t *tx_key,
		       const uint8_t *rx_key);
enum sipua_srtp_suite sipua_srtp_suite(const struct sipua_srtp *s);
void sipua_srtp_free(struct sipua_srtp *s);

/* In place; size: the buffer's, at least *len + SIPUA_SRTP_TRAILER_MAX */
int  sipua_srtp_protect(struct sipua_srtp *s, uint8_t *pkt, size_t *len,
			size_t size);
int  sipua_srtcp_protect(struct sipua_srtp *s, uint8_t *pkt, size_t *len,
			 size_t size);

/* In place. An error: forged, replayed, garbled or not ours; drop it */
int  sipua_srtp_unprotect(struct sipua_srtp *s, uint8_t *pkt, size_t *len);
int  sipua_srtcp_unprotect(struct sipua_srtp *s, uint8_t *pkt, size_t *len);

#endif
