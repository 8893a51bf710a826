/**
 * @file sipua_sdp.c  The SDP offer we send and what we read in the answer
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <sys/random.h>
#include <re.h>
#include "../codecs.h"
#include "runtime.h"
#include "sipua.h"
#include "sipua_int.h"


enum {
	DYNAMIC_PT_FIRST = 96,
	PT_NONE = -1,
};

/* the codec table's media are ours */
_Static_assert((int)CODEC_AUDIO == (int)SIPUA_MEDIA_AUDIO &&
	       (int)CODEC_VIDEO == (int)SIPUA_MEDIA_VIDEO,
	       "enum codec_media is enum sipua_media");

static const char telephone_event[] = "telephone-event";

/** The SDES suites we offer, in this order; the a=crypto tag is the
    index + 1 (RFC 4568; AES-128 counter mode, 80 or 32 bit tags) */
static const struct {
	enum sipua_srtp_suite suite;
	const char *name;
} suitev[SDES_SUITES] = {
	{SIPUA_SRTP_AES_CM_128_HMAC_SHA1_80, "AES_CM_128_HMAC_SHA1_80"},
	{SIPUA_SRTP_AES_CM_128_HMAC_SHA1_32, "AES_CM_128_HMAC_SHA1_32"},
};

static const char crypto[] = "crypto";


static int media_add_formats(struct sdp_media *m, const char *codecs,
			     enum sipua_media kind, int *next_pt)
{
	const char *p = codecs;
	char id[8];
	int err = 0, n = 0;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const struct codec *c;

		while (len && *p == ' ') {
			++p;
			--len;
		}

		c = codec_find(p, len);
		if (c && (int)c->media == (int)kind) {
			int pt = c->pt == CODEC_PT_DYNAMIC ?
				(*next_pt)++ : c->pt;

			re_snprintf(id, sizeof(id), "%d", pt);
			err = sdp_format_add(NULL, m, false, id, c->name,
					     c->clock_rate, c->channels, NULL,
					     NULL, NULL, false,
					     c->fmtp ? "%s" : NULL, c->fmtp);
			/* so that we may ask for a keyframe (RFC 4585/5104) */
			if (!err && kind == SIPUA_MEDIA_VIDEO)
				err = sdp_media_set_lattr(m, false, "rtcp-fb",
							  "%s nack pli", id);
			if (!err && kind == SIPUA_MEDIA_VIDEO)
				err = sdp_media_set_lattr(m, false, "rtcp-fb",
							  "%s ccm fir", id);
			if (err)
				return err;
			++n;
		}

		p = end ? end + 1 : NULL;
	}

	if (!n)
		return ENOENT;

	if (kind == SIPUA_MEDIA_AUDIO) {
		re_snprintf(id, sizeof(id), "%d", (*next_pt)++);
		err = sdp_format_add(NULL, m, false, id, telephone_event,
				     8000, 1, NULL, NULL, NULL, false,
				     "0-15");
	}

	return err;
}


/*
 * SDES (RFC 4568): each side says in its SDP the key it sends with. We
 * offer both suites (a fresh key each, from the kernel's CSPRNG), the
 * answer picks one by its tag and gives the peer's key. Keys appear in no
 * log and no event: SDP we keep or trace is printed through
 * sdes_mask_print().
 */

static int sdes_keys_new(struct sdes *sdes)
{
	ssize_t n = getrandom(sdes->keyv, sizeof(sdes->keyv), 0);

	sdes->suite = SIPUA_SRTP_NONE;

	return n == (ssize_t)sizeof(sdes->keyv) ? 0 : EIO;
}


/* Our a=crypto line: the suite of suitev[idx] under that tag, our key */
static int crypto_add(struct sdp_media *m, unsigned tag, unsigned idx,
		      const uint8_t *key)
{
	char b64[48];
	size_t len = sizeof(b64) - 1;
	int err;

	err = base64_encode(key, SIPUA_SRTP_KEY_LEN, b64, &len);
	if (err)
		return err;
	b64[len] = '\0';

	err = sdp_media_set_lattr(m, false, crypto, "%u %s inline:%s",
				  tag, suitev[idx].name, b64);
	memset(b64, 0, sizeof(b64));

	return err;
}


static enum sipua_media media_kind(const struct sdp_media *m)
{
	return str_casecmp(sdp_media_name(m), "video") ?
		SIPUA_MEDIA_AUDIO : SIPUA_MEDIA_VIDEO;
}


/**
 * Encode our offer: every suite's a=crypto on each m-line (an answer we
 * gave in between left one there)
 */
int offer_encode(struct mbuf **descp, struct sdp_session *sdp,
		 const struct sdes *sdesv, enum sipua_srtp_mode mode)
{
	struct le *le;
	unsigned i;
	int err = 0;

	for (le = sdp_session_medial(sdp, true)->head; le && !err;
	     le = le->next) {
		struct sdp_media *m = le->data;
		const struct sdes *sdes = &sdesv[media_kind(m)];

		sdp_media_del_lattr(m, crypto);
		for (i = 0; i < SDES_SUITES && mode != SIPUA_SRTP_OFF && !err;
		     i++)
			err = crypto_add(m, i + 1, i, sdes->keyv[i]);
	}

	return err ? err : sdp_encode(descp, sdp, true);
}


/* One a=crypto line of the peer: "tag suite inline:key[|lifetime]",
   without MKI (we offer none) or session parameters (we know none) */
struct crypto_line {
	unsigned tag;
	int idx;                        /* in suitev, or -1 */
	uint8_t key[SIPUA_SRTP_KEY_LEN];
	bool usable;
};

static void crypto_decode(struct crypto_line *c, const char *value)
{
	struct pl tag, suite, key, rest, extra;
	uint8_t buf[64];
	size_t len = sizeof(buf);
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->idx = -1;

	if (re_regex(value, strlen(value),
		     "[0-9]+[ \t]+[^ \t]+[ \t]+inline:[^|; \t]+[^ \t]*[^]*",
		     &tag, NULL, &suite, NULL, &key, &rest, &extra))
		return;

	c->tag = pl_u32(&tag);
	for (i = 0; i < SDES_SUITES; i++)
		if (!pl_strcmp(&suite, suitev[i].name))
			c->idx = (int)i;

	/* "|2^31" is a lifetime (we re-key no sooner); "|1:4" an MKI */
	if (pl_strchr(&rest, ':') || pl_strchr(&rest, ';'))
		return;
	while (extra.l && (extra.p[0] == ' ' || extra.p[0] == '\t'))
		pl_advance(&extra, 1);
	if (extra.l && extra.p[0] != '\r' && extra.p[0] != '\n')
		return;

	if (c->idx < 0 || base64_decode(key.p, key.l, buf, &len) ||
	    len != SIPUA_SRTP_KEY_LEN)
		goto out;

	memcpy(c->key, buf, sizeof(c->key));
	c->usable = true;

 out:
	memset(buf, 0, sizeof(buf));
}


struct crypto_pick {
	const struct sdes *sdes;
	bool peer_offer;
	struct crypto_line chosen;
	unsigned seen;
};

static bool crypto_handler(const char *name, const char *value, void *arg)
{
	struct crypto_pick *pick = arg;
	struct crypto_line c;
	(void)name;

	++pick->seen;
	crypto_decode(&c, value);

	/* an answer names our tag and its suite; an offer, its own */
	if (c.usable && (pick->peer_offer || c.tag == (unsigned)c.idx + 1)) {
		pick->chosen = c;
		memset(&c, 0, sizeof(c));
		return true;
	}

	memset(&c, 0, sizeof(c));
	return false;
}


/* The suite and keys of an accepted m-line; for the peer's offer, our
   answer's a=crypto (a new suite gets a new key: none is used twice with
   the counters restarted) */
static int sdes_read(struct sipua_stream_info *si, struct sdp_media *m,
		     struct sdes *sdes, enum sipua_srtp_mode mode, bool peer_offer,
		     const char **why)
{
	struct crypto_pick pick;
	int err = 0;

	memset(&pick, 0, sizeof(pick));
	pick.peer_offer = peer_offer;
	(void)sdp_media_rattr_apply(m, crypto, crypto_handler, &pick);

	if (!pick.chosen.usable) {
		if (pick.seen) {
			*why = peer_offer ?
				"no SRTP suite of the peer's we can use "
				"(AES_CM_128_HMAC_SHA1_80 or _32, no MKI)" :
				"the callee's SRTP keys (a=crypto) cannot "
				"be used (not a suite we offered, MKI or "
				"session parameters)";
			return ENOKEY;
		}
		if (mode == SIPUA_SRTP_MANDATORY) {
			*why = peer_offer ?
				"the peer offered no SRTP keys (a=crypto) "
				"and srtp is mandatory" :
				"the callee answered without SRTP keys "
				"(a=crypto) and srtp is mandatory";
			return ENOKEY;
		}
		/* optional: plain RTP */
		if (peer_offer)
			sdp_media_del_lattr(m, crypto);
		sdes->suite = SIPUA_SRTP_NONE;
		return 0;
	}

	if (sdes->suite != SIPUA_SRTP_NONE &&
	    sdes->suite != suitev[pick.chosen.idx].suite) {
		/* the suite we leave gets a fresh key, for when it comes back */
		uint8_t *old = sdes->keyv[sdes->suite ==
					  SIPUA_SRTP_AES_CM_128_HMAC_SHA1_80 ?
					  0 : 1];

		if (getrandom(old, SIPUA_SRTP_KEY_LEN, 0) !=
		    SIPUA_SRTP_KEY_LEN)
			err = EIO;
	}

	if (!err && peer_offer) {
		sdp_media_del_lattr(m, crypto);
		err = crypto_add(m, pick.chosen.tag, (unsigned)pick.chosen.idx,
				 sdes->keyv[pick.chosen.idx]);
	}

	if (!err) {
		sdes->suite = suitev[pick.chosen.idx].suite;
		si->srtp_suite = sdes->suite;
		memcpy(si->srtp_tx_key, sdes->keyv[pick.chosen.idx],
		       SIPUA_SRTP_KEY_LEN);
		memcpy(si->srtp_rx_key, pick.chosen.key, SIPUA_SRTP_KEY_LEN);
	}

	memset(&pick, 0, sizeof(pick));
	return err;
}


/**
 * Print SDP (or a SIP message) with the SDES keys masked: "inline:***"
 */
int sdes_mask_print(struct re_printf *pf, const struct pl *text)
{
	static const char tag[] = "inline:";
	struct pl rest = *text;
	int err = 0;

	while (rest.l && !err) {
		const char *p = NULL;
		size_t i, skip;

		for (i = 0; i + sizeof(tag) - 1 <= rest.l; i++) {
			if (!memcmp(rest.p + i, tag, sizeof(tag) - 1)) {
				p = rest.p + i;
				break;
			}
		}
		if (!p)
			return re_hprintf(pf, "%r", &rest);

		skip = (size_t)(p - rest.p) + sizeof(tag) - 1;
		err = re_hprintf(pf, "%b***", rest.p, skip);
		pl_advance(&rest, skip);
		while (rest.l && !strchr("|; \t\r\n", rest.p[0]))
			pl_advance(&rest, 1);
	}

	return err;
}


/**
 * Wipe the SRTP keys of stream infos (copies of an event's)
 */
void sipua_stream_info_wipe(struct sipua_stream_info *infov, size_t count)
{
	size_t i;

	for (i = 0; infov && i < count; i++) {
		memset(infov[i].srtp_tx_key, 0, SIPUA_SRTP_KEY_LEN);
		memset(infov[i].srtp_rx_key, 0, SIPUA_SRTP_KEY_LEN);
	}
}


/** The RFC 4568 name of a suite, "" for none */
const char *sipua_srtp_suite_name(enum sipua_srtp_suite suite)
{
	unsigned i;

	for (i = 0; i < SDES_SUITES; i++)
		if (suitev[i].suite == suite)
			return suitev[i].name;

	return "";
}


/**
 * Build the SDP session and the offer: one m-line per enabled media
 */
int offer_build(struct sdp_session **sdpp, struct mbuf **descp,
		const struct sipua_call_params *prm, struct sdes *sdesv)
{
	static const char *namev[SIPUA_MEDIA_COUNT] = {"audio", "video"};
	struct sdp_session *sdp = NULL;
	struct sa laddr;
	int next_pt = DYNAMIC_PT_FIRST;
	int err, i;

	/* behind a NAT, the SDP names its public address (the RTP ports
	   forwarded as they are) */
	err = sa_set_str(&laddr, prm->public_address ? prm->public_address :
			 prm->local_address, 0);
	if (err)
		return err;

	err = sdp_session_alloc(&sdp, &laddr);
	if (err)
		return err;

	for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
		const struct sipua_media_offer *mo = &prm->media[i];
		struct sdp_media *m;

		if (mo->dir == SIPUA_DIR_OFF)
			continue;

		err = sdp_media_add(&m, sdp, namev[i], mo->rtp_port,
				    prm->srtp == SIPUA_SRTP_MANDATORY ?
				    sdp_proto_rtpsavp : sdp_proto_rtpavp);
		if (err)
			goto out;

		/* an answer in the other profile is read, so that what it
		   lacks is said (sdes_read), not taken for a refusal */
		if (prm->srtp != SIPUA_SRTP_OFF)
			err = sdp_media_set_alt_protos(m, 1,
				prm->srtp == SIPUA_SRTP_MANDATORY ?
				sdp_proto_rtpavp : sdp_proto_rtpsavp);
		if (!err && prm->srtp != SIPUA_SRTP_OFF)
			err = sdes_keys_new(&sdesv[i]);
		if (err)
			goto out;

		sdp_media_set_lport_rtcp(m, mo->rtcp_port);
		sdp_media_set_ldir(m, mo->dir == SIPUA_DIR_SENDRECV ?
				   SDP_SENDRECV : SDP_RECVONLY);

		err = media_add_formats(m, mo->codecs, (enum sipua_media)i,
					&next_pt);
		if (err)
			goto out;
	}

	err = offer_encode(descp, sdp, sdesv, prm->srtp);

 out:
	if (err)
		mem_deref(sdp);
	else
		*sdpp = sdp;

	return err;
}


/* Names of the static payload types an answer may use without rtpmap */
static const char *static_pt_name(int pt)
{
	switch (pt) {
	case 0:  return "PCMU";
	case 8:  return "PCMA";
	case 9:  return "G722";
	case 18: return "G729";
	default: return NULL;
	}
}


static bool is_offered(const struct sdp_media *m, const char *name)
{
	struct le *le;

	for (le = sdp_media_format_lst(m, true)->head; le; le = le->next) {
		const struct sdp_format *lf = le->data;

		if (lf->name && !str_casecmp(lf->name, name))
			return true;
	}

	return false;
}


/* RTP carries a 7-bit payload type (RFC 3550); GStreamer's caps an int
 * clock rate: a format outside them could never match a packet or caps */
static bool format_usable(const struct sdp_format *f)
{
	return f->pt >= 0 && f->pt <= 127 && f->srate <= INT32_MAX;
}


/* Parameters become caps fields: printable ASCII only (GStreamer warns
 * about a string that is not UTF-8 and drops the field) */
static bool is_printable(const char *s)
{
	for (; *s; s++) {
		if (*s < 0x20 || *s > 0x7e)
			return false;
	}

	return true;
}


static void stream_read(struct sipua_stream_info *si,
			const struct sdp_media *m)
{
	const struct codec *c = NULL;
	const struct sdp_format *chosen = NULL;
	struct sa rtcp;
	struct le *le;

	memset(si, 0, sizeof(*si));
	si->payload = PT_NONE;
	si->dtmf_payload = PT_NONE;

	if (!sdp_media_rport(m))
		return;   /* rejected m-line */

	/* The answerer's first format we offered is the one in use */
	for (le = sdp_media_format_lst(m, false)->head; le; le = le->next) {
		const struct sdp_format *rf = le->data;
		const char *name = rf->name ? rf->name : static_pt_name(rf->pt);

		if (!name || !format_usable(rf))
			continue;

		if (!str_casecmp(name, telephone_event)) {
			if (si->dtmf_payload == PT_NONE)
				si->dtmf_payload = rf->pt;
			continue;
		}

		if (!chosen && is_offered(m, name)) {
			chosen = rf;
			c = codec_find(name, strlen(name));
		}
	}

	if (!chosen || !c)
		return;   /* no common codec */

	/* the RTP source tells events from media by payload type alone */
	if (si->dtmf_payload == chosen->pt)
		si->dtmf_payload = PT_NONE;

	si->accepted = true;
	si->payload = chosen->pt;
	str_ncpy(si->encoding, c->name, sizeof(si->encoding));
	si->clock_rate = chosen->srate ? chosen->srate : c->clock_rate;
	si->channels = chosen->ch ? chosen->ch : c->channels;
	if (chosen->params && is_printable(chosen->params))
		str_ncpy(si->fmtp, chosen->params, sizeof(si->fmtp));

	sa_ntop(sdp_media_raddr(m), si->remote_address,
		sizeof(si->remote_address));
	si->remote_rtp_port = sdp_media_rport(m);
	sdp_media_raddr_rtcp(m, &rtcp);
	si->remote_rtcp_port = sa_port(&rtcp) ? sa_port(&rtcp) :
		(uint16_t)(si->remote_rtp_port + 1);

	/* libre keeps the remote direction as seen from us: the peer's
	   a=sendonly is SDP_RECVONLY (we only receive) */
	si->remote_sends = (sdp_media_rdir(m) & SDP_RECVONLY) != 0;
	/* RFC 3264 6.1: what the answer says it does not receive, we do
	   not send */
	si->remote_receives = (sdp_media_rdir(m) & SDP_SENDONLY) != 0;
}


/**
 * Whether an SDP offer has an m-line of this media type ("audio",
 * "video"). Our answer must have the offer's m-lines and no other
 * (RFC 3264 6): libre 1.1.0 answers a medium we have and the offer lacks
 * with "m=video 0", which a caller's libre (baresip) refuses as a
 * protocol error, so such a medium is left out of the answer's session.
 */
bool offer_has_media(const struct mbuf *body, const char *name)
{
	struct pl rest, line;

	rest.p = (const char *)mbuf_buf(body);
	rest.l = mbuf_get_left(body);

	while (rest.l) {
		const char *eol = pl_strchr(&rest, '\n');

		line.p = rest.p;
		line.l = eol ? (size_t)(eol - rest.p) : rest.l;
		rest.p += line.l + (eol ? 1 : 0);
		rest.l -= line.l + (eol ? 1 : 0);

		if (line.l > 2 + strlen(name) && !memcmp(line.p, "m=", 2) &&
		    !memcmp(line.p + 2, name, strlen(name)) &&
		    line.p[2 + strlen(name)] == ' ')
			return true;
	}

	return false;
}


/**
 * Read the decoded answer (or the peer's offer, which we answer) into
 * one stream info per media type, with its SRTP keys; for an offer, our
 * answer's a=crypto is set
 *
 * @return 0 if at least one stream was accepted with a common codec,
 *         ECONNREFUSED if the peer refused every one (port 0),
 *         ENOKEY if SRTP cannot be used as asked (*why says why),
 *         EPROTO otherwise
 */
int answer_read(struct sipua_stream_info *infov, struct sdp_session *sdp,
		struct sdes *sdesv, enum sipua_srtp_mode mode, bool peer_offer,
		const char **why)
{
	struct le *le;
	bool any = false;
	unsigned streams = 0, refused = 0;
	int i, err;

	for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
		memset(&infov[i], 0, sizeof(infov[i]));
		infov[i].payload = PT_NONE;
		infov[i].dtmf_payload = PT_NONE;
	}

	for (le = sdp_session_medial(sdp, false)->head; le; le = le->next) {
		struct sdp_media *m = le->data;
		const char *name = sdp_media_name(m);
		enum sipua_media kind;

		if (!str_casecmp(name, "audio"))
			kind = SIPUA_MEDIA_AUDIO;
		else if (!str_casecmp(name, "video"))
			kind = SIPUA_MEDIA_VIDEO;
		else
			continue;

		++streams;
		if (!sdp_media_rport(m))
			++refused;

		stream_read(&infov[kind], m);
		runtime_log(7, "answer %s: port %u, %s %s/%u pt %d, dtmf pt %d",
			    name, sdp_media_rport(m),
			    infov[kind].accepted ? "accepted" : "rejected",
			    infov[kind].encoding, infov[kind].clock_rate,
			    infov[kind].payload, infov[kind].dtmf_payload);

		if (infov[kind].accepted && mode != SIPUA_SRTP_OFF) {
			err = sdes_read(&infov[kind], m, &sdesv[kind], mode,
					peer_offer, why);
			if (err) {
				sipua_stream_info_wipe(infov,
						       SIPUA_MEDIA_COUNT);
				return err;
			}
		}
		any |= infov[kind].accepted;
	}

	if (any)
		return 0;

	return streams && refused == streams ? ECONNREFUSED : EPROTO;
}
