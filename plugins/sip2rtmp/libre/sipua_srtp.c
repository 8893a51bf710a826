/**
 * @file sipua_srtp.c  SRTP and SRTCP of one stream (see sipua_srtp.h)
 *
 * libre 1.1.0's srtp_decrypt() changes a sender's state before it checks
 * the packet's tag: a packet of a new SSRC makes a stream (at most 8 per
 * context, then ENOSR for every new sender), and one whose sequence number
 * looks like a wrap moves the rollover counter (RFC 3711 3.3.1), after which
 * every real packet fails. A forged packet must change nothing, so:
 * - each sender that proved itself (a packet that authenticated) has a
 *   context of its own; a new sender is tried in a probe context, which
 *   becomes its context on success and is made again when forged senders
 *   filled it;
 * - a packet that would move a proven sender's rollover counter has its
 *   tag checked here first (HMAC-SHA1 with the session's authentication
 *   key, RFC 3711 4.2 and 4.3.1) and reaches libre only if it is genuine.
 * SRTCP carries its index in the packet, so nothing but its replay window
 * depends on what arrived: one context, made again when forged senders
 * filled it. Its tag is 80 bits with either suite (RFC 4568 6.2, Table 1,
 * as libsrtp does): libre would use the RTP tag's 32 bits with _32, so
 * SRTCP has contexts of the _80 suite (the same keys; only the tag's
 * length differs).
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <re.h>
#include "sipua.h"
#include "sipua_srtp.h"


enum {
	/* proven senders kept per stream: the peer's, a transfer's next */
	SENDERS = 4,
	CIPHER_KEY_LEN = 16,
	SALT_LEN = 14,
	AUTH_KEY_LEN = 20,
	RTP_HEADER_LEN = 12,
	RTCP_HEADER_LEN = 8,
	SEQ_HALF = 32768,
};

struct sender {
	struct srtp *ctx;       /* holds this sender alone */
	uint32_t ssrc;
	uint32_t roc;           /* libre's rollover counter and highest */
	uint16_t s_l;           /* sequence, mirrored */
	uint64_t used;
};

struct sipua_srtp {
	enum sipua_srtp_suite suite;
	uint8_t tx_key[SIPUA_SRTP_KEY_LEN];
	uint8_t rx_key[SIPUA_SRTP_KEY_LEN];
	uint8_t auth_key[AUTH_KEY_LEN];  /* the peer's RTP, derived */
	size_t tag_len;
	struct srtp *tx;        /* our RTP */
	struct srtp *tx_rtcp;   /* our RTCP */
	struct srtp *probe;     /* a sender not proven yet */
	struct srtp *rtcp_rx;
	struct sender senderv[SENDERS];
	uint64_t uses;
};


static enum srtp_suite libre_suite(enum sipua_srtp_suite suite)
{
	return suite == SIPUA_SRTP_AES_CM_128_HMAC_SHA1_32 ?
		SRTP_AES_CM_128_HMAC_SHA1_32 : SRTP_AES_CM_128_HMAC_SHA1_80;
}


static int ctx_alloc(struct srtp **ctxp, const struct sipua_srtp *s,
		     const uint8_t *key)
{
	return srtp_alloc(ctxp, libre_suite(s->suite), key,
			  SIPUA_SRTP_KEY_LEN, 0);
}


/* SRTCP: an 80-bit tag whatever the suite */
static int rtcp_ctx_alloc(struct srtp **ctxp, const uint8_t *key)
{
	return srtp_alloc(ctxp, SRTP_AES_CM_128_HMAC_SHA1_80, key,
			  SIPUA_SRTP_KEY_LEN, 0);
}


/* RFC 3711 4.3.1 (key derivation rate 0): the session authentication key
   is AES-CM of the master key, with the salt XOR label 1 as the IV */
static int auth_key_derive(uint8_t *k_a, const uint8_t *master)
{
	static const uint8_t zeros[AUTH_KEY_LEN];
	uint8_t iv[16];
	struct aes *aes = NULL;
	int err;

	memset(iv, 0, sizeof(iv));
	memcpy(iv, master + CIPHER_KEY_LEN, SALT_LEN);
	iv[7] ^= 0x01;

	err = aes_alloc(&aes, AES_MODE_CTR, master, CIPHER_KEY_LEN * 8, iv);
	if (!err)
		err = aes_encr(aes, k_a, zeros, AUTH_KEY_LEN);

	mem_deref(aes);
	memset(iv, 0, sizeof(iv));

	return err;
}


static void rx_reset(struct sipua_srtp *s)
{
	unsigned i;

	for (i = 0; i < SENDERS; i++) {
		s->senderv[i].ctx = mem_deref(s->senderv[i].ctx);
		s->senderv[i].used = 0;
	}
	s->probe = mem_deref(s->probe);
	s->rtcp_rx = mem_deref(s->rtcp_rx);
}


static int rx_set(struct sipua_srtp *s, const uint8_t *rx_key)
{
	int err;

	rx_reset(s);
	memcpy(s->rx_key, rx_key, SIPUA_SRTP_KEY_LEN);

	err = auth_key_derive(s->auth_key, s->rx_key);
	if (!err)
		err = ctx_alloc(&s->probe, s, s->rx_key);
	if (!err)
		err = rtcp_ctx_alloc(&s->rtcp_rx, s->rx_key);

	return err;
}


/**
 * SRTP of a stream: we protect with tx_key, the peer's packets are
 * checked and decrypted with rx_key (SIPUA_SRTP_KEY_LEN bytes each)
 */
int sipua_srtp_alloc(struct sipua_srtp **sp, enum sipua_srtp_suite suite,
		     const uint8_t *tx_key, const uint8_t *rx_key)
{
	struct sipua_srtp *s;
	int err;

	if (!sp || !tx_key || !rx_key || suite == SIPUA_SRTP_NONE)
		return EINVAL;

	s = mem_zalloc(sizeof(*s), NULL);
	if (!s)
		return ENOMEM;

	s->suite = suite;
	s->tag_len = suite == SIPUA_SRTP_AES_CM_128_HMAC_SHA1_32 ? 4 : 10;
	memcpy(s->tx_key, tx_key, SIPUA_SRTP_KEY_LEN);

	err = ctx_alloc(&s->tx, s, s->tx_key);
	if (!err)
		err = rtcp_ctx_alloc(&s->tx_rtcp, s->tx_key);
	if (!err)
		err = rx_set(s, rx_key);

	if (err)
		sipua_srtp_free(s);
	else
		*sp = s;

	return err;
}


/**
 * New keys of the same suite (a re-INVITE): what changed starts over.
 * Our context is kept while our key is: its counters go on, so no index
 * is used twice with a key.
 */
int sipua_srtp_update(struct sipua_srtp *s, const uint8_t *tx_key,
		      const uint8_t *rx_key)
{
	int err = 0;

	if (!s || !tx_key || !rx_key)
		return EINVAL;

	if (memcmp(s->tx_key, tx_key, SIPUA_SRTP_KEY_LEN)) {
		s->tx = mem_deref(s->tx);
		s->tx_rtcp = mem_deref(s->tx_rtcp);
		memcpy(s->tx_key, tx_key, SIPUA_SRTP_KEY_LEN);
		err = ctx_alloc(&s->tx, s, s->tx_key);
		if (!err)
			err = rtcp_ctx_alloc(&s->tx_rtcp, s->tx_key);
	}

	if (!err && memcmp(s->rx_key, rx_key, SIPUA_SRTP_KEY_LEN))
		err = rx_set(s, rx_key);

	return err;
}


enum sipua_srtp_suite sipua_srtp_suite(const struct sipua_srtp *s)
{
	return s ? s->suite : SIPUA_SRTP_NONE;
}


/** Free the contexts and wipe the keys */
void sipua_srtp_free(struct sipua_srtp *s)
{
	if (!s)
		return;

	rx_reset(s);
	s->tx = mem_deref(s->tx);
	s->tx_rtcp = mem_deref(s->tx_rtcp);
	memset(s, 0, sizeof(*s));
	mem_deref(s);
}


static void mbuf_view(struct mbuf *mb, uint8_t *pkt, size_t len, size_t size)
{
	memset(mb, 0, sizeof(*mb));
	mb->buf = pkt;
	mb->size = size;
	mb->end = len;
}


static int protect(struct srtp *ctx, bool rtcp, uint8_t *pkt, size_t *len,
		   size_t size)
{
	struct mbuf mb;
	int err;

	/* libre appends to the buffer: it must never need to grow it */
	if (!ctx || !pkt || !len ||
	    *len < (rtcp ? RTCP_HEADER_LEN : RTP_HEADER_LEN) ||
	    size < *len + SIPUA_SRTP_TRAILER_MAX)
		return EINVAL;

	mbuf_view(&mb, pkt, *len, size);
	err = rtcp ? srtcp_encrypt(ctx, &mb) : srtp_encrypt(ctx, &mb);
	if (!err)
		*len = mb.end;

	return err;
}


/**
 * Protect our RTP packet in place (encrypt, append the tag)
 */
int sipua_srtp_protect(struct sipua_srtp *s, uint8_t *pkt, size_t *len,
		       size_t size)
{
	return protect(s ? s->tx : NULL, false, pkt, len, size);
}


/**
 * Protect our RTCP packet in place (encrypt, append index and tag)
 */
int sipua_srtcp_protect(struct sipua_srtp *s, uint8_t *pkt, size_t *len,
			size_t size)
{
	return protect(s ? s->tx_rtcp : NULL, true, pkt, len, size);
}


static struct sender *sender_find(struct sipua_srtp *s, uint32_t ssrc)
{
	unsigned i;

	for (i = 0; i < SENDERS; i++)
		if (s->senderv[i].ctx && s->senderv[i].ssrc == ssrc)
			return &s->senderv[i];

	return NULL;
}


/* The probe's sender proved itself: the probe is its context now, in the
   place of the least recently used one */
static void sender_adopt(struct sipua_srtp *s, uint32_t ssrc, uint16_t seq)
{
	struct sender *snd = &s->senderv[0];
	unsigned i;

	for (i = 1; i < SENDERS; i++)
		if (s->senderv[i].used < snd->used)
			snd = &s->senderv[i];

	mem_deref(snd->ctx);
	snd->ctx = s->probe;
	snd->ssrc = ssrc;
	snd->roc = 0;
	snd->s_l = seq;
	snd->used = ++s->uses;
	s->probe = NULL;
}


/* Is the tag of this packet the one its sender's next rollover gives?
   (checked before libre moves the counter) */
static bool rollover_genuine(const struct sipua_srtp *s,
			     const struct sender *snd, uint8_t *pkt,
			     size_t len)
{
	uint8_t tag[10], md[20];
	size_t auth_len = len - s->tag_len;
	uint32_t roc = snd->roc + 1;
	bool ok;

	memcpy(tag, pkt + auth_len, s->tag_len);
	pkt[auth_len + 0] = (uint8_t)(roc >> 24);
	pkt[auth_len + 1] = (uint8_t)(roc >> 16);
	pkt[auth_len + 2] = (uint8_t)(roc >> 8);
	pkt[auth_len + 3] = (uint8_t)roc;

	hmac_sha1(s->auth_key, sizeof(s->auth_key), pkt, auth_len + 4, md,
		  sizeof(md));
	memcpy(pkt + auth_len, tag, s->tag_len);

	ok = !memcmp(md, tag, s->tag_len);
	memset(md, 0, sizeof(md));

	return ok;
}


/* libre's state after a packet of a proven sender authenticated */
static void sender_advance(struct sender *snd, uint16_t seq)
{
	int diff = (int)seq - (int)snd->s_l;

	if (diff <= -SEQ_HALF) {
		++snd->roc;
		snd->s_l = 0;
	}
	if (seq > snd->s_l)
		snd->s_l = seq;
}


/**
 * Check and decrypt the peer's RTP packet in place
 *
 * @return 0 if genuine and new (*len: without the tag), otherwise an
 *         error: EAUTH forged or garbled, EALREADY replayed, ...
 */
int sipua_srtp_unprotect(struct sipua_srtp *s, uint8_t *pkt, size_t *len)
{
	struct sender *snd;
	struct mbuf mb;
	uint32_t ssrc;
	uint16_t seq;
	int err;

	if (!s || !pkt || !len)
		return EINVAL;
	if (*len < RTP_HEADER_LEN + s->tag_len)
		return EBADMSG;

	seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
	ssrc = (uint32_t)pkt[8] << 24 | (uint32_t)pkt[9] << 16 |
		(uint32_t)pkt[10] << 8 | pkt[11];

	mbuf_view(&mb, pkt, *len, *len);

	snd = sender_find(s, ssrc);
	if (snd) {
		if ((int)seq - (int)snd->s_l <= -SEQ_HALF &&
		    !rollover_genuine(s, snd, pkt, *len))
			return EAUTH;

		err = srtp_decrypt(snd->ctx, &mb);
		if (err)
			return err;

		sender_advance(snd, seq);
		snd->used = ++s->uses;
		*len = mb.end;
		return 0;
	}

	if (!s->probe) {
		err = ctx_alloc(&s->probe, s, s->rx_key);
		if (err)
			return err;
	}

	err = srtp_decrypt(s->probe, &mb);
	if (err == ENOSR) {
		/* forged senders filled the probe: a clean one */
		s->probe = mem_deref(s->probe);
		err = ctx_alloc(&s->probe, s, s->rx_key);
		if (!err) {
			mbuf_view(&mb, pkt, *len, *len);
			err = srtp_decrypt(s->probe, &mb);
		}
	}
	if (err)
		return err;

	sender_adopt(s, ssrc, seq);
	*len = mb.end;

	return 0;
}


/**
 * Check and decrypt the peer's RTCP packet in place
 */
int sipua_srtcp_unprotect(struct sipua_srtp *s, uint8_t *pkt, size_t *len)
{
	struct mbuf mb;
	int err;

	if (!s || !pkt || !len)
		return EINVAL;
	if (*len < RTCP_HEADER_LEN + 4 + 10)
		return EBADMSG;

	mbuf_view(&mb, pkt, *len, *len);
	err = srtcp_decrypt(s->rtcp_rx, &mb);
	if (err == ENOSR) {
		s->rtcp_rx = mem_deref(s->rtcp_rx);
		err = rtcp_ctx_alloc(&s->rtcp_rx, s->rx_key);
		if (!err) {
			mbuf_view(&mb, pkt, *len, *len);
			err = srtcp_decrypt(s->rtcp_rx, &mb);
		}
	}
	if (!err)
		*len = mb.end;

	return err;
}
