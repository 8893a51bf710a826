/**
 * @file sipua_sdp.c  The SDP offer we send and what we read in the answer
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <re.h>
#include "sipua.h"
#include "sipua_int.h"


enum {
	DYNAMIC_PT_FIRST = 96,
	PT_NONE = -1,
};

/** The codecs we can offer, by their SDP encoding name */
static const struct codec {
	const char *name;
	enum sipua_media media;
	int pt;                 /* PT_NONE: dynamic */
	uint32_t srate;         /* RTP clock rate */
	uint8_t ch;
	const char *params;
} codecv[] = {
	{"PCMU",  SIPUA_MEDIA_AUDIO, 0,       8000,  1, NULL},
	{"PCMA",  SIPUA_MEDIA_AUDIO, 8,       8000,  1, NULL},
	/* G.722's RTP clock is 8000 for historical reasons (RFC 3551) */
	{"G722",  SIPUA_MEDIA_AUDIO, 9,       8000,  1, NULL},
	{"opus",  SIPUA_MEDIA_AUDIO, PT_NONE, 48000, 2, "useinbandfec=1"},
	{"H264",  SIPUA_MEDIA_VIDEO, PT_NONE, 90000, 0,
	 "packetization-mode=1"},
	{"VP8",   SIPUA_MEDIA_VIDEO, PT_NONE, 90000, 0, NULL},
};

static const char telephone_event[] = "telephone-event";


static const struct codec *codec_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(codecv); i++) {
		if (strlen(codecv[i].name) == len &&
		    !strncasecmp(codecv[i].name, name, len))
			return &codecv[i];
	}

	return NULL;
}


/**
 * The media type of a codec we can offer
 *
 * @return enum sipua_media, or -1 for an unknown codec
 */
int sipua_codec_media(const char *name)
{
	const struct codec *c = name ? codec_find(name, strlen(name)) : NULL;

	return c ? (int)c->media : -1;
}


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
		if (c && c->media == kind) {
			int pt = c->pt == PT_NONE ? (*next_pt)++ : c->pt;

			re_snprintf(id, sizeof(id), "%d", pt);
			err = sdp_format_add(NULL, m, false, id, c->name,
					     c->srate, c->ch, NULL, NULL, NULL,
					     false, c->params ? "%s" : NULL,
					     c->params);
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


/**
 * Build the SDP session and the offer: one m-line per enabled media
 */
int offer_build(struct sdp_session **sdpp, struct mbuf **descp,
		const struct sipua_call_params *prm)
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
				    sdp_proto_rtpavp);
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

	err = sdp_encode(descp, sdp, true);

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
	si->clock_rate = chosen->srate ? chosen->srate : c->srate;
	si->channels = chosen->ch ? chosen->ch : c->ch;
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
 * Read the decoded answer into one stream info per media type
 *
 * @return 0 if at least one stream was accepted with a common codec,
 *         ECONNREFUSED if the peer refused every one (port 0),
 *         EPROTO otherwise
 */
int answer_read(struct sipua_stream_info *infov,
		const struct sdp_session *sdp)
{
	struct le *le;
	bool any = false;
	unsigned streams = 0, refused = 0;
	int i;

	for (i = 0; i < SIPUA_MEDIA_COUNT; i++) {
		memset(&infov[i], 0, sizeof(infov[i]));
		infov[i].payload = PT_NONE;
		infov[i].dtmf_payload = PT_NONE;
	}

	for (le = sdp_session_medial(sdp, false)->head; le; le = le->next) {
		const struct sdp_media *m = le->data;
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
		sipua_log(7, "answer %s: port %u, %s %s/%u pt %d, dtmf pt %d",
			  name, sdp_media_rport(m),
			  infov[kind].accepted ? "accepted" : "rejected",
			  infov[kind].encoding, infov[kind].clock_rate,
			  infov[kind].payload, infov[kind].dtmf_payload);
		any |= infov[kind].accepted;
	}

	if (any)
		return 0;

	return streams && refused == streams ? ECONNREFUSED : EPROTO;
}
