/**
 * @file sipua_call.c  One call, placed or answered, on the SIP thread
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "runtime.h"
#include "stack.h"
#include "sipua.h"
#include "sipua_int.h"


enum {
	/* A server that challenges again after this many answers has
	 * rejected our credentials */
	MAX_AUTH_ATTEMPTS = 3,
	REGISTER_EXPIRES_S = 3600,
	STATUS_TIMEOUT = 408,
	/* libre 1.1.0 reads this much of a UDP datagram, so a larger SIP
	 * message arrives cut (UDP_RXSZ_DEFAULT in its udp.c) */
	UDP_READ_MAX = 8192,
	/* CRLF keepalives on a call's TCP/TLS connection (RFC 5626 4.4.1),
	 * every 72-90 s: under kamailio's default idle lifetime (120 s), so
	 * that the peer's requests still find the connection */
	KEEPALIVE_S = 90,
};

struct call {
	struct le le;               /* in calls */
	struct sipua_call *handle;  /* NULL once stopped: no more events */
	struct stack *stack;
	struct sipsess *sess;
	struct sipreg *reg;
	struct sdp_session *sdp;
	struct mbuf *offer;
	struct tmr answer_tmr;
	struct session_timer timer;
	struct sip_request *refresh_req;  /* our UPDATE refreshing it */
	/* the peer's re-INVITE we answered (reinvite_handler), our 200 to it
	   retransmitted until its ACK (RFC 3261 13.3.1.4) */
	const struct sip_msg *reinvite;
	struct mbuf *reinvite_2xx;
	struct tmr reinvite_tmr;
	uint64_t reinvite_sent;     /* when the 200 went first, ms */
	uint32_t reinvite_txc;
	bool reinvite_offered;      /* the 200 had our offer: answer in ACK */
	struct sip_keepalive *ka;   /* over TCP and TLS, once established */
	const char *offer_reason;   /* what our pending offer is for */
	struct tmr dtmf_tmr;        /* paces the SIP INFO digits */
	/* a transfer (REFER): on the leg that was asked, the new leg until it
	   answers (it holds the new leg); on the new leg, the leg that asked
	   and where it calls */
	struct call *transfer;
	struct call *transferor;
	char *target;
	struct tmr free_tmr;        /* a failed new leg frees itself */
	struct sip_request *notify_req;  /* our last NOTIFY of a transfer */
	struct sa public_sa;        /* announced in Contact; AF_UNSPEC: none */
	char *contact_uri;          /* the INVITE's Contact with public_sa */
	bool peer_gone;             /* the transferor hung up meanwhile */
	char dtmf_queue[128];       /* digits not sent yet */
	char call_id[128];
	char *remote_sdp;
	char *remote_headers;       /* X- of the final response */
	struct sipua_stream_info streamv[SIPUA_MEDIA_COUNT];
	struct sdes sdesv[SIPUA_MEDIA_COUNT];  /* our SRTP keys: secrets */
	const char *answer_error;   /* why the answer is unusable */
	char answer_reason[160];    /* answer_error, when it has numbers */
	unsigned auth_attempts;
	bool streams_reported;
	bool established;
	bool finished;
};


/* Every call of the process, for the in-dialog requests sipsess leaves
 * to us (UPDATE) */
static struct list calls;


static int invite_send(struct call *call);
static void session_refresh(void *arg);
static void session_expired(void *arg);
static void transfer_progress(struct call *leg, enum sipua_call_state state,
			      uint16_t scode, const char *reason);
static int call_alloc(struct call **callp, struct sipua_call *handle,
		      const char **why);
static void contact_set(struct sip_contact *contact, struct sa *buf,
			const struct call *call, const struct sa *src,
			enum sip_transp tp);
static int contact_send_handler(enum sip_transp tp, const struct sa *src,
				const struct sa *dst, struct mbuf *mb,
				void *arg);
static void refer_handler(struct sip *sip, const struct sip_msg *msg,
			  void *arg);


static void reinvite_done(struct call *call)
{
	tmr_cancel(&call->reinvite_tmr);
	call->reinvite_2xx = mem_deref(call->reinvite_2xx);
	call->reinvite = mem_deref((void *)call->reinvite);
}


static void call_destructor(void *data)
{
	struct call *call = data;

	list_unlink(&call->le);
	tmr_cancel(&call->answer_tmr);
	tmr_cancel(&call->free_tmr);
	call->notify_req = mem_deref(call->notify_req);
	call->contact_uri = mem_deref(call->contact_uri);
	call->transfer = mem_deref(call->transfer);
	call->target = mem_deref(call->target);
	session_timer_stop(&call->timer);
	tmr_cancel(&call->dtmf_tmr);
	call->refresh_req = mem_deref(call->refresh_req);
	reinvite_done(call);
	call->ka = mem_deref(call->ka);
	/* Dereferencing the session sends CANCEL or BYE as needed */
	call->sess = mem_deref(call->sess);
	call->reg = mem_deref(call->reg);
	call->sdp = mem_deref(call->sdp);
	call->offer = mem_deref(call->offer);
	call->remote_sdp = mem_deref(call->remote_sdp);
	call->remote_headers = mem_deref(call->remote_headers);
	memset(call->sdesv, 0, sizeof(call->sdesv));
	sipua_stream_info_wipe(call->streamv, SIPUA_MEDIA_COUNT);
}


/* Hand one event to the element, unless the call is over for it */
static void deliver(struct call *call, enum sipua_call_state state,
		    uint16_t scode, const char *reason,
		    const struct sipua_stream_info *streamv, bool update)
{
	struct sipua_call_event ev;
	struct sipua_call *h = call->handle;

	if (!h || call->finished)
		return;

	/* a new leg's events are the transfer's, not the call's */
	if (call->transferor) {
		transfer_progress(call, state, scode, reason);
		return;
	}

	if (state == SIPUA_CALL_TERMINATED || state == SIPUA_CALL_FAILED)
		call->finished = true;

	memset(&ev, 0, sizeof(ev));
	ev.state = state;
	ev.sip_status = scode;
	ev.reason = reason ? reason : "";
	ev.call_id = call->call_id;
	ev.remote_sdp = call->remote_sdp;
	ev.streams = streamv;
	ev.update = update;
	ev.remote_headers = call->remote_headers;

	h->eh(&ev, h->arg);
}


static void report(struct call *call, enum sipua_call_state state,
		   uint16_t scode, const char *reason, bool with_streams)
{
	const struct sipua_stream_info *streamv = NULL;

	/* the answer's streams go out once, with the first event after it */
	if (with_streams && !call->streams_reported && call->handle &&
	    !call->finished) {
		streamv = call->streamv;
		call->streams_reported = true;
	}

	deliver(call, state, scode, reason, streamv, false);
}


static void report_msg(struct call *call, enum sipua_call_state state,
		       const struct sip_msg *msg, bool with_streams)
{
	char reason[128] = "";

	if (msg)
		pl_strcpy(&msg->reason, reason, sizeof(reason));

	report(call, state, msg ? msg->scode : 0, reason, with_streams);
}


/* The streams changed on an established call (re-INVITE, or the final
 * answer after early media): the element follows them */
static void report_update(struct call *call,
			  const struct sipua_stream_info *streamv,
			  uint16_t scode, const char *reason)
{
	deliver(call, SIPUA_CALL_ESTABLISHED, scode, reason, streamv, true);
}


/* The peer's X- headers of its final response (X-Twilio-CallSid, a
 * bridge's conference id...), "Name: value\r\n" each, for the element */
static void remote_headers_keep(struct call *call, const struct sip_msg *msg)
{
	struct mbuf *mb;
	struct le *le;

	call->remote_headers = mem_deref(call->remote_headers);
	if (!msg)
		return;

	mb = mbuf_alloc(128);
	if (!mb)
		return;

	for (le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (hdr->name.l > 2 && (hdr->name.p[0] | 0x20) == 'x' &&
		    hdr->name.p[1] == '-')
			(void)mbuf_printf(mb, "%r: %r\r\n", &hdr->name,
					  &hdr->val);
	}

	if (mb->end) {
		mbuf_set_pos(mb, 0);
		(void)mbuf_strdup(mb, &call->remote_headers, mb->end);
	}
	mem_deref(mb);
}


/* The peer's last SDP, for the element's stats: its SRTP key masked */
static void remote_sdp_keep(struct call *call, const struct mbuf *body)
{
	struct pl text;

	text.p = (const char *)mbuf_buf(body);
	text.l = mbuf_get_left(body);
	call->remote_sdp = mem_deref(call->remote_sdp);
	(void)re_sdprintf(&call->remote_sdp, "%H", sdes_mask_print, &text);
}


/*
 * A view of the message's body as its Content-Length delimits it: the
 * bytes beyond are ignored (RFC 3261, 18.3; libre's UDP transport does
 * not cut them off). A body shorter than its Content-Length was cut in
 * transit (over UDP, libre reads UDP_READ_MAX bytes of a datagram):
 * EBADMSG, with *arrived and *clen saying how much.
 */
static int body_view(struct mbuf *view, const struct sip_msg *msg,
		     size_t *arrived, uint32_t *clen)
{
	*view = *msg->mb;
	*arrived = mbuf_get_left(view);
	*clen = pl_isset(&msg->clen) ? pl_u32(&msg->clen) : (uint32_t)*arrived;

	if (*clen > *arrived)
		return EBADMSG;

	view->end = view->pos + *clen;

	return 0;
}


/* End the call from our side, reporting why */
static void fail(struct call *call, uint16_t scode, const char *reason)
{
	report(call, SIPUA_CALL_FAILED, scode, reason, false);
	tmr_cancel(&call->answer_tmr);
	reinvite_done(call);
	call->sess = mem_deref(call->sess);   /* CANCEL or BYE */
}


static int auth_handler(char **user, char **pass, const char *realm,
			void *arg)
{
	struct call *call = arg;
	const struct sipua_call_params *prm = &call->handle->prm;
	int err;
	(void)realm;

	if (!prm->auth_user || !prm->password)
		return EAUTH;

	if (++call->auth_attempts > MAX_AUTH_ATTEMPTS)
		return EAUTH;

	err = str_dup(user, prm->auth_user);
	err |= str_dup(pass, prm->password);

	return err;
}


/* The m-lines of an SDP body */
static unsigned mline_count(const struct mbuf *body)
{
	const char *p = (const char *)mbuf_buf(body);
	size_t i, n = mbuf_get_left(body);
	unsigned count = 0;

	for (i = 0; i + 1 < n; i++) {
		if ((i == 0 || p[i-1] == '\n') && p[i] == 'm' && p[i+1] == '=')
			++count;
	}

	return count;
}


/* Why the streams of an answer (or offer) cannot be used, from
 * answer_read()'s error (ENOKEY: its why) */
static const char *streams_error(int err, const char *why)
{
	if (err == ENOKEY && why)
		return why;

	return err == ECONNREFUSED ?
		"the callee refused every stream (port 0 in its SDP)" :
		"no common codec in the SDP answer";
}


static void answer_decode(struct call *call, const struct sip_msg *msg)
{
	const char *why = NULL;
	struct mbuf body;
	size_t arrived;
	uint32_t clen;
	int err;

	if (!msg || !mbuf_get_left(msg->mb) ||
	    !msg_ctype_cmp(&msg->ctyp, "application", "sdp"))
		return;

	if (body_view(&body, msg, &arrived, &clen)) {
		re_snprintf(call->answer_reason, sizeof(call->answer_reason),
			    "SDP answer cut short: %zu of %u bytes arrived%s",
			    arrived, clen,
			    msg->tp == SIP_TRANSP_UDP &&
			    msg->mb->end >= UDP_READ_MAX ?
			    " (over UDP a SIP message is read up to 8 KB: "
			    "use transport=tcp)" : "");
		call->answer_error = call->answer_reason;
		return;
	}

	remote_sdp_keep(call, &body);

	err = sdp_decode(call->sdp, &body, false);
	if (err == EPROTO) {
		/* an m-line the offer does not have at its place (RFC 3264:
		 * one for each of the offer's, in order) */
		unsigned offered = list_count(sdp_session_medial(call->sdp,
								 false));
		unsigned answered = mline_count(&body);

		if (answered != offered)
			re_snprintf(call->answer_reason,
				    sizeof(call->answer_reason),
				    "SDP answer has %u m-lines for the "
				    "offer's %u", answered, offered);
		else
			re_snprintf(call->answer_reason,
				    sizeof(call->answer_reason),
				    "SDP answer's m-lines are not the offer's "
				    "(another media in their place)");
		call->answer_error = call->answer_reason;
		return;
	}
	else if (err) {
		call->answer_error = "malformed SDP answer";
		return;
	}

	err = answer_read(call->streamv, call->sdp, call->sdesv,
			  call->handle->prm.srtp, false, &why);
	if (err) {
		call->answer_error = streams_error(err, why);
		return;
	}

	call->answer_error = NULL;
}


static void dialog_info(struct call *call)
{
	const char *callid;

	if (call->call_id[0] || !call->sess)
		return;

	callid = sip_dialog_callid(sipsess_dialog(call->sess));
	if (callid)
		str_ncpy(call->call_id, callid, sizeof(call->call_id));
}


static void progress_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	bool had_answer = call->streams_reported;

	dialog_info(call);

	if (msg->scode == 183 && !had_answer && mbuf_get_left(msg->mb)) {
		answer_decode(call, msg);
		if (call->answer_error) {
			/* Wait for the final answer: it may be better */
			report_msg(call, SIPUA_CALL_RINGING, msg, false);
			return;
		}
		report_msg(call, SIPUA_CALL_EARLY_MEDIA, msg, true);
		return;
	}

	if (msg->scode > 100)
		report_msg(call, SIPUA_CALL_RINGING, msg, false);
}


/* The answer to our offer: in the final response to the INVITE, in the
 * ACK of a re-INVITE that had no SDP (offer_handler), or in the 2xx to
 * our refreshing re-INVITE (session_refresh) */
static int answer_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	if (call->established && !msg->req)
		session_timer_update(&call->timer, msg, false);

	/* Problems are acted on once the dialog exists (estab_handler) */
	answer_decode(call, msg);
	if (!call->established)
		return 0;

	/* The answer to an offer we made in the dialog: in the ACK of a
	 * re-INVITE without SDP, or in the 2xx to our refreshing re-INVITE.
	 * It cannot be refused: an unusable one leaves the media as it was. */
	if (call->answer_error || !mbuf_get_left(msg->mb))
		runtime_log(4, "call %s: the answer to our offer is not "
			    "followed: %s", call->call_id, call->answer_error ?
			    call->answer_error : "no SDP");
	else
		report_update(call, call->streamv, 0, call->offer_reason ?
			      call->offer_reason : "answer to our offer");

	return 0;
}


/* The connection did not answer a keepalive (or closed): libre drops it,
 * and the next request of the dialog opens another */
static void keepalive_handler(int err, void *arg)
{
	struct call *call = arg;

	runtime_log(4, "call %s: the connection to the peer is lost (%m)",
		    call->call_id, err);
}


static void estab_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	dialog_info(call);
	tmr_cancel(&call->answer_tmr);
	call->established = true;

	if (!call->remote_sdp && !call->answer_error)
		call->answer_error = "no SDP in the answer";

	if (call->answer_error) {
		fail(call, msg ? msg->scode : 0, call->answer_error);
		return;
	}

	/* Early media already exposed the streams: the 200's SDP is the
	 * answer (no 100rel), so the element follows what it changed */
	if (call->streams_reported && msg && mbuf_get_left(msg->mb))
		report_update(call, call->streamv, msg->scode,
			      "answer after early media");

	if (msg)
		session_timer_update(&call->timer, msg, false);

	/* a connection (TCP, TLS) carries the dialog: kept open for the
	   peer's requests, which come over it */
	if (msg && msg->tp != SIP_TRANSP_UDP && !call->ka &&
	    sip_keepalive_start(&call->ka, call->stack->sip, msg, KEEPALIVE_S,
				keepalive_handler, call))
		runtime_log(4, "call %s: no keepalive on its connection",
			    call->call_id);

	remote_headers_keep(call, msg);
	report_msg(call, SIPUA_CALL_ESTABLISHED, msg, true);
}


/*
 * An offer in the dialog (a re-INVITE or an UPDATE with SDP: hold, resume,
 * a new address or codec): answer it and tell the element where the media
 * now comes from. An offer we cannot take (not SDP, cut short, malformed,
 * no stream we can receive) is refused: libre answers 488 (our UPDATE
 * handler too) and the call goes on as it was.
 */
static int offer_answer(struct call *call, const struct sip_msg *msg,
			struct mbuf **descp, const char *reason)
{
	struct sipua_stream_info streamv[SIPUA_MEDIA_COUNT];
	const char *why = NULL;
	struct mbuf body;
	size_t arrived;
	uint32_t clen;
	int err;

	if (!msg_ctype_cmp(&msg->ctyp, "application", "sdp"))
		return EPROTO;

	err = body_view(&body, msg, &arrived, &clen);
	if (err) {
		runtime_log(4, "%s refused: its SDP is cut short "
			    "(%zu of %u bytes)", reason, arrived, clen);
		return err;
	}

	err = sdp_decode(call->sdp, &body, true);
	if (err) {
		runtime_log(4, "%s refused: malformed SDP (%m)", reason, err);
		return err;
	}

	err = answer_read(streamv, call->sdp, call->sdesv,
			  call->handle->prm.srtp, true, &why);
	if (err) {
		runtime_log(4, "%s refused: %s", reason,
			    streams_error(err, why));
		return err;
	}

	err = sdp_encode(descp, call->sdp, false);
	if (!err) {
		remote_sdp_keep(call, &body);
		report_update(call, streamv, 0, reason);
	}

	sipua_stream_info_wipe(streamv, SIPUA_MEDIA_COUNT);
	return err;
}


static int offer_handler(struct mbuf **descp, const struct sip_msg *msg,
			 void *arg)
{
	struct call *call = arg;

	/* RFC 3264: a re-INVITE without SDP (a session refresh, a PBX
	   re-routing media) asks us to offer; the answer comes with the ACK
	   (answer_handler). Decoding the empty body as an offer would answer
	   every m-line with port 0 and remove the media. */
	session_timer_update(&call->timer, msg, true);

	if (!mbuf_get_left(msg->mb)) {
		call->offer_reason = "re-INVITE without SDP";
		return offer_encode(descp, call->sdp, call->sdesv,
				    call->handle->prm.srtp);
	}

	return offer_answer(call, msg, descp, "re-INVITE");
}


static int session_expires_print(struct re_printf *pf,
				 const struct session_timer *st)
{
	if (!st->interval_s)
		return 0;

	return re_hprintf(pf, "Session-Expires: %u;refresher=%s\r\n",
			  st->interval_s, st->we_refresh ? "uas" : "uac");
}


/* RFC 4028 9: a refresh asking for less than the session's floor gets 422
 * with the floor as Min-SE (a UAS never raises the interval); the session,
 * its media and the timer in force go on as they were */
static void refresh_refuse(struct sip *sip, const struct call *call,
			   const struct sip_msg *msg)
{
	runtime_log(5, "call %s: %r refused: its session interval is below "
		    "%u s", call->call_id, &msg->met,
		    session_timer_floor(&call->timer));
	(void)sip_treplyf(NULL, NULL, sip, msg, false, 422,
			  "Session Interval Too Small",
			  "Min-SE: %u\r\n"
			  "Content-Length: 0\r\n"
			  "\r\n", session_timer_floor(&call->timer));
}


static struct call *call_find(const struct sip_msg *msg)
{
	struct le *le;

	for (le = calls.head; le; le = le->next) {
		struct call *call = le->data;

		if (call->sess && call->established &&
		    sip_dialog_cmp(sipsess_dialog(call->sess), msg))
			return call;
	}

	return NULL;
}


/**
 * An UPDATE (RFC 3311) in one of our dialogs, which libre 1.1.0's session
 * code leaves unhandled (it would answer 501): with SDP it is an offer
 * like a re-INVITE's; without, a session refresh (RFC 4028), answered 200
 * and the call goes on.
 *
 * @return true if the request was for us (always answered)
 */
static bool call_update_handler(struct stack *st, const struct sip_msg *msg)
{
	struct sip *sip = st->sip;
	struct call *call;
	struct mbuf *desc = NULL;
	struct sip_contact contact;
	struct sa laddr, public;
	int err;

	if (pl_strcmp(&msg->met, "UPDATE"))
		return false;

	call = call_find(msg);
	if (!call) {
		(void)sip_reply(sip, msg, 481, "Call/Transaction Does Not Exist");
		return true;
	}

	if (!sip_dialog_rseq_valid(sipsess_dialog(call->sess), msg)) {
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
		return true;
	}

	if (session_timer_too_short(&call->timer, msg)) {
		refresh_refuse(sip, call, msg);
		return true;
	}

	session_timer_update(&call->timer, msg, true);

	if (mbuf_get_left(msg->mb)) {
		if (!msg_ctype_cmp(&msg->ctyp, "application", "sdp")) {
			(void)sip_replyf(sip, msg, 415,
					 "Unsupported Media Type",
					 "Accept: application/sdp\r\n"
					 "Content-Length: 0\r\n\r\n");
			return true;
		}
		err = offer_answer(call, msg, &desc, "UPDATE");
		if (err) {
			(void)sip_reply(sip, msg, 488, "Not Acceptable Here");
			return true;
		}
	}

	/* a 2xx to UPDATE carries our Contact (RFC 3311 5.2) */
	err = sip_transp_laddr(sip, &laddr, msg->tp, &msg->src);
	contact_set(&contact, &public, call, &laddr, msg->tp);
	if (err) {
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
	}
	else {
		/* the interval and who refreshes, as the peer (the UAC of
		   this UPDATE) asked or as they were (RFC 4028 9) */
		(void)sip_treplyf(NULL, NULL, sip, msg, true, 200, "OK",
				  "%H"
				  "%H"
				  "%s"
				  "Content-Length: %zu\r\n"
				  "\r\n"
				  "%b",
				  sip_contact_print, &contact,
				  session_expires_print, &call->timer,
				  desc ? "Content-Type: application/sdp\r\n" :
				  "",
				  desc ? mbuf_get_left(desc) : (size_t)0,
				  desc ? mbuf_buf(desc) : NULL,
				  desc ? mbuf_get_left(desc) : (size_t)0);
	}

	mem_deref(desc);
	return true;
}


/* Our 200 to the peer's re-INVITE again, until its ACK; none within
 * 64*T1 ends the call (RFC 3261 13.3.1.4), as libre's session code does */
static void reinvite_retransmit(void *arg)
{
	struct call *call = arg;
	const struct sip_msg *msg = call->reinvite;

	if (tmr_jiffies() - call->reinvite_sent >= 64 * SIP_T1) {
		reinvite_done(call);
		fail(call, STATUS_TIMEOUT, "no ACK to our 200 to the peer's "
		     "re-INVITE");
		return;
	}

	(void)sip_send(call->stack->sip, msg->sock, msg->tp, &msg->src,
		       call->reinvite_2xx);
	++call->reinvite_txc;
	tmr_start(&call->reinvite_tmr,
		  MIN(SIP_T1 << call->reinvite_txc, SIP_T2),
		  reinvite_retransmit, call);
}


/* The ACK of our 200 to a re-INVITE: the retransmissions stop; with our
 * offer in the 200, it has the answer */
static bool reinvite_ack(const struct sip_msg *msg)
{
	struct call *call = call_find(msg);
	bool offered;

	if (!call || !call->reinvite ||
	    msg->cseq.num != call->reinvite->cseq.num)
		return false;

	offered = call->reinvite_offered;
	reinvite_done(call);
	if (offered)
		(void)answer_handler(msg, call);

	return true;
}


/**
 * A re-INVITE in one of our dialogs, answered here: libre 1.1.0's session
 * code sends its 200 with no header of ours, and a 200 to a session
 * refresh without Session-Expires turns the peer's timer off (RFC 4028
 * 7.4) while ours runs on: the peer stopped refreshing, we hung up when
 * the session expired. Only re-INVITEs of a session with a timer, or
 * asking for one: the others keep the session code's answer. Left to it
 * too while a re-INVITE of ours may be pending (we refresh by
 * re-INVITE): its glare answer (491) needs its own state. One asking for
 * too short an interval is refused here whoever would answer it.
 *
 * @return true if the request was for us (always answered)
 */
static bool reinvite_handler(struct stack *st, const struct sip_msg *msg)
{
	struct sip *sip = st->sip;
	struct call *call;
	struct mbuf *desc = NULL;
	struct sip_contact contact;
	struct sa laddr, public;
	bool offered = false, too_short;
	int err;

	call = call_find(msg);
	if (!call || !call->handle)
		return false;

	too_short = session_timer_too_short(&call->timer, msg);
	if (!too_short &&
	    ((!call->timer.interval_s && !session_timer_asked(msg)) ||
	     (call->timer.we_refresh && !call->timer.peer_allows_update)))
		return false;

	if (call->reinvite) {
		/* its retransmission gets our 200 again (libre's server
		   transaction absorbs them first, for the 64*T1 that we wait
		   for the ACK too); another waits */
		if (msg->cseq.num == call->reinvite->cseq.num)
			(void)sip_send(sip, msg->sock, msg->tp, &msg->src,
				       call->reinvite_2xx);
		else
			(void)sip_treplyf(NULL, NULL, sip, msg, false, 500,
					  "Server Internal Error",
					  "Retry-After: 5\r\n"
					  "Content-Length: 0\r\n"
					  "\r\n");
		return true;
	}

	if (!sip_dialog_rseq_valid(sipsess_dialog(call->sess), msg)) {
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
		return true;
	}

	if (too_short) {
		refresh_refuse(sip, call, msg);
		return true;
	}

	session_timer_update(&call->timer, msg, true);

	/* without SDP (a refresh, a PBX moving media) it asks us to offer,
	   as offer_handler does for the session code */
	if (mbuf_get_left(msg->mb)) {
		err = offer_answer(call, msg, &desc, "re-INVITE");
		if (err) {
			(void)sip_reply(sip, msg, 488, "Not Acceptable Here");
			return true;
		}
	}
	else {
		call->offer_reason = "re-INVITE without SDP";
		offered = true;
		err = offer_encode(&desc, call->sdp, call->sdesv,
				   call->handle->prm.srtp);
		if (err) {
			(void)sip_reply(sip, msg, 500,
					"Server Internal Error");
			return true;
		}
	}

	/* a target refresh: the peer's new Contact is where we send next */
	(void)sip_dialog_update(sipsess_dialog(call->sess), msg);

	err = sip_transp_laddr(sip, &laddr, msg->tp, &msg->src);
	contact_set(&contact, &public, call, &laddr, msg->tp);
	if (!err)
		err = sip_treplyf(NULL, &call->reinvite_2xx, sip, msg, true,
				  200, "OK",
				  "%H"
				  "Supported: timer\r\n"
				  "%s"
				  "%H"
				  "Content-Type: application/sdp\r\n"
				  "Content-Length: %zu\r\n"
				  "\r\n"
				  "%b",
				  sip_contact_print, &contact,
				  call->timer.interval_s &&
				  !call->timer.we_refresh ?
				  "Require: timer\r\n" : "",
				  session_expires_print, &call->timer,
				  mbuf_get_left(desc),
				  mbuf_buf(desc), mbuf_get_left(desc));
	mem_deref(desc);
	if (err) {
		(void)sip_reply(sip, msg, 500, "Server Internal Error");
		return true;
	}

	call->reinvite = mem_ref((void *)msg);
	call->reinvite_offered = offered;
	call->reinvite_sent = tmr_jiffies();
	call->reinvite_txc = 0;
	tmr_start(&call->reinvite_tmr, SIP_T1, reinvite_retransmit, call);
	return true;
}


/* In-dialog requests before the session code sees them */
static bool call_dialog_handler(struct stack *st, const struct sip_msg *msg)
{
	if (!pl_strcmp(&msg->met, "ACK"))
		return reinvite_ack(msg);

	if (!pl_strcmp(&msg->met, "INVITE"))
		return reinvite_handler(st, msg);

	return false;
}


enum {
	/* a digit lasts DTMF_TONE_MS, then DTMF_GAP_MS before the next;
	   'w' waits DTMF_PAUSE_MS, as a phone's dial string */
	DTMF_TONE_MS = 100,
	DTMF_GAP_MS = 60,
	DTMF_PAUSE_MS = 500,
};


static void dtmf_info_resp(int err, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	if (err || (msg && msg->scode >= 300))
		runtime_log(4, "call %s: DTMF INFO refused: %u %m",
			    call->call_id, msg ? msg->scode : 0, err);
}


/* The next queued digit, by SIP INFO (application/dtmf-relay, as most
 * PBXs and Twilio read it) */
static void dtmf_next(void *arg)
{
	struct call *call = arg;
	struct mbuf *body;
	char digit[2] = {0, 0};
	size_t n = strlen(call->dtmf_queue);
	int err;

	if (!n || !call->sess || call->finished)
		return;

	digit[0] = call->dtmf_queue[0];
	memmove(call->dtmf_queue, call->dtmf_queue + 1, n);

	if (digit[0] == 'w') {
		tmr_start(&call->dtmf_tmr, DTMF_PAUSE_MS, dtmf_next, call);
		return;
	}

	body = mbuf_alloc(64);
	err = body ? mbuf_printf(body, "Signal=%s\r\nDuration=%u\r\n",
				 digit, DTMF_TONE_MS) : ENOMEM;
	if (!err) {
		mbuf_set_pos(body, 0);
		err = sipsess_info(call->sess, "application/dtmf-relay", body,
				   dtmf_info_resp, call);
	}
	if (err) {
		runtime_log(4, "call %s: could not send DTMF INFO: %m",
			    call->call_id, err);
	}
	else {
		struct sipua_call_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.state = SIPUA_CALL_ESTABLISHED;
		ev.reason = "";
		ev.call_id = call->call_id;
		ev.dtmf_sent = digit;
		if (call->handle)
			call->handle->eh(&ev, call->handle->arg);
	}
	mem_deref(body);

	tmr_start(&call->dtmf_tmr, DTMF_TONE_MS + DTMF_GAP_MS, dtmf_next,
		  call);
}


/** On the SIP thread: queue digits for SIP INFO (sipua_call_send_dtmf) */
void call_dtmf_begin(struct dtmf_job *job)
{
	struct call *call = job->handle->call;
	size_t have;

	if (!call || !call->established || call->finished) {
		runtime_log(4, "DTMF for a call that is not established: "
			    "dropped");
		goto out;
	}

	have = strlen(call->dtmf_queue);
	if (have + strlen(job->digits) >= sizeof(call->dtmf_queue)) {
		runtime_log(4, "call %s: too many DTMF digits queued: dropped",
			    call->call_id);
		goto out;
	}
	str_ncpy(call->dtmf_queue + have, job->digits,
		 sizeof(call->dtmf_queue) - have);
	if (!tmr_isrunning(&call->dtmf_tmr))
		dtmf_next(call);

 out:
	free(job);
}


/**
 * The TLS server of a stack refused us after the handshake (a fatal
 * alert, e.g. our certificate refused under TLS 1.3): the calls on it
 * still waiting for an answer will get none
 */
static void call_tls_failed(struct stack *st)
{
	char reason[256];
	struct le *le = calls.head;

	re_snprintf(reason, sizeof(reason), "TLS: %s", st->tls_error);

	while (le) {
		struct call *call = le->data;

		le = le->next;
		if (call->stack == st && call->sess && !call->established &&
		    !call->finished)
			fail(call, 0, reason);
	}
}


/*
 * Transfer (REFER, RFC 3515): a blind transfer, as Twilio's <Refer> and
 * PBXs send it. We call the Refer-To target with the call's settings and
 * the same RTP ports, so the element's streams (and the stream published
 * from them) go on; when the target answers, its media replaces the old
 * leg's as a re-INVITE would, the transferor gets NOTIFY 200 and BYE.
 * Until then the old leg carries on; if the target fails, it stays (or,
 * if the transferor hung up meanwhile, the call ends). Attended transfer
 * (Refer-To with Replaces) is refused with 501.
 */

static void notify_resp_handler(int err, const struct sip_msg *msg,
				void *arg)
{
	struct call *call = arg;
	(void)err;

	if (msg && msg->scode < 200)
		return;
	call->notify_req = mem_deref(call->notify_req);
}


/* The transfer's progress to the transferor, as sipfrag (RFC 3515 2.4.5) */
static void refer_notify(struct call *call, uint16_t scode,
			 const char *reason, bool final)
{
	char frag[96];
	int n;

	if (!call->sess)
		return;

	n = re_snprintf(frag, sizeof(frag), "SIP/2.0 %u %s\r\n", scode,
			reason);
	if (n < 0)
		return;

	call->notify_req = mem_deref(call->notify_req);
	(void)sip_drequestf(&call->notify_req, call->stack->sip, true,
			    "NOTIFY", sipsess_dialog(call->sess), 0, NULL,
			    contact_send_handler, notify_resp_handler, call,
			    "Event: refer\r\n"
			    "Subscription-State: %s\r\n"
			    "Content-Type: message/sipfrag;version=2.0\r\n"
			    "Content-Length: %d\r\n"
			    "\r\n"
			    "%s",
			    final ? "terminated;reason=noresource" :
			    "active;expires=60", n, frag);
}


static void leg_free(void *arg)
{
	mem_deref(arg);
}


/* The new leg answered: it becomes the call */
static void transfer_complete(struct call *leg, uint16_t scode)
{
	struct call *old = leg->transferor;
	char reason[300];
	int i;

	re_snprintf(reason, sizeof(reason), "transferred to %s", leg->target);
	leg->transferor = NULL;
	old->transfer = NULL;          /* its reference is the handle's now */
	leg->handle->call = leg;
	refer_notify(old, 200, "OK", true);
	old->handle = NULL;
	mem_deref(old);                /* BYE, unless the transferor left */

	for (i = 0; i < SIPUA_MEDIA_COUNT; i++)
		leg->streamv[i].new_peer = true;
	deliver(leg, SIPUA_CALL_ESTABLISHED, scode, reason, leg->streamv,
		true);
	for (i = 0; i < SIPUA_MEDIA_COUNT; i++)
		leg->streamv[i].new_peer = false;
}


/* The new leg failed: the old one goes on, unless its peer left */
static void transfer_failed(struct call *leg, uint16_t scode,
			    const char *why)
{
	struct call *old = leg->transferor;
	char reason[300];

	leg->transferor = NULL;
	leg->handle = NULL;            /* no event from it any more */
	old->transfer = NULL;
	tmr_start(&leg->free_tmr, 0, leg_free, leg);  /* not on its stack */

	refer_notify(old, scode >= 300 ? scode : 503,
		     scode >= 300 ? why : "Service Unavailable", true);
	re_snprintf(reason, sizeof(reason), "transfer to %s failed: %s",
		    leg->target, why);
	if (old->peer_gone)
		deliver(old, SIPUA_CALL_TERMINATED, scode, reason, NULL, false);
	else
		deliver(old, SIPUA_CALL_ESTABLISHED, scode, reason, NULL,
			false);
}


static void transfer_progress(struct call *leg, enum sipua_call_state state,
			      uint16_t scode, const char *reason)
{
	switch (state) {

	case SIPUA_CALL_ESTABLISHED:
		transfer_complete(leg, scode);
		break;

	case SIPUA_CALL_FAILED:
	case SIPUA_CALL_TERMINATED:
		transfer_failed(leg, scode, reason);
		break;

	default:
		break;   /* trying, ringing: the old leg still carries media */
	}
}


static bool pl_starts_nocase(const struct pl *pl, const char *prefix)
{
	size_t n = strlen(prefix);

	return pl->l >= n && !strncasecmp(pl->p, prefix, n);
}


/* The Refer-To URI, without <> and parameters of the header; embedded
 * headers (?Replaces=...: attended transfer) are refused */
static int refer_target(char **targetp, const struct sip_msg *msg,
			uint16_t *scode, const char **reason)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_REFER_TO);
	struct pl uri;

	*scode = 400;
	*reason = "Bad Refer-To";
	if (!hdr)
		return EINVAL;

	if (re_regex(hdr->val.p, hdr->val.l, "<[^>]+>", &uri))
		uri = hdr->val;

	if (pl_strchr(&uri, '?')) {
		*scode = 501;
		*reason = "Attended Transfer Not Supported";
		return ENOTSUP;
	}
	if (uri.l < 5 || uri.l > 255 ||
	    (!pl_starts_nocase(&uri, "sip:") &&
	     !pl_starts_nocase(&uri, "sips:")) ||
	    pl_strchr(&uri, '\r') || pl_strchr(&uri, '\n') ||
	    pl_strchr(&uri, ' '))
		return EINVAL;

	return pl_strdup(targetp, &uri);
}


static void refer_handler(struct sip *sip, const struct sip_msg *msg,
			  void *arg)
{
	struct call *call = arg;
	struct call *leg = NULL;
	struct sip_contact contact;
	struct sa laddr, public;
	const char *reason, *why = NULL;
	uint16_t scode;
	char *target = NULL;
	int err;

	if (call->transfer || !call->established || !call->handle) {
		(void)sip_reply(sip, msg, 491, "Request Pending");
		return;
	}

	if (refer_target(&target, msg, &scode, &reason)) {
		(void)sip_reply(sip, msg, scode, reason);
		return;
	}

	err = call_alloc(&leg, call->handle, &why);
	if (!err)
		err = sip_transp_laddr(sip, &laddr, msg->tp, &msg->src);
	if (err) {
		(void)sip_reply(sip, msg, 503, "Service Unavailable");
		mem_deref(leg);
		mem_deref(target);
		return;
	}

	contact_set(&contact, &public, call, &laddr, msg->tp);
	(void)sip_treplyf(NULL, NULL, sip, msg, true, 202, "Accepted",
			  "%H"
			  "Content-Length: 0\r\n"
			  "\r\n",
			  sip_contact_print, &contact);
	refer_notify(call, 100, "Trying", false);

	runtime_log(6, "call %s: transfer to %s", call->call_id, target);
	leg->target = target;
	leg->transferor = call;
	call->transfer = leg;
	err = invite_send(leg);
	if (err)
		transfer_failed(leg, 0, "could not send the INVITE");
}


static void info_handler(struct sip *sip, const struct sip_msg *msg,
			 void *arg)
{
	(void)arg;
	(void)sip_reply(sip, msg, 200, "OK");
}


static void close_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	char reason[256];

	tmr_cancel(&call->answer_tmr);
	session_timer_stop(&call->timer);
	reinvite_done(call);
	dialog_info(call);

	/* the transferor hangs up while we call the new target: the call
	   goes on there (or ends if that fails) */
	if (call->transfer) {
		call->peer_gone = true;
		call->sess = mem_deref(call->sess);
		return;
	}

	/* 422 Session Interval Too Small: the same call again, asking for
	   the interval the peer's Min-SE names */
	if (msg && msg->scode == 422 && !call->established &&
	    session_timer_too_small(&call->timer, msg)) {
		call->sess = mem_deref(call->sess);
		call->call_id[0] = '\0';
		call->auth_attempts = 0;
		if (!invite_send(call))
			return;
	}

	if (msg && msg->scode == 488 && call->handle &&
	    call->handle->prm.srtp == SIPUA_SRTP_MANDATORY) {
		/* what a callee without SRTP answers RTP/SAVP */
		remote_headers_keep(call, msg);
		re_snprintf(reason, sizeof(reason), "%r (srtp is mandatory: "
			    "the callee may take no SRTP)", &msg->reason);
		report(call, SIPUA_CALL_FAILED, msg->scode, reason, false);
	}
	else if (msg && msg->scode >= 300) {
		remote_headers_keep(call, msg);
		report_msg(call, SIPUA_CALL_FAILED, msg, false);
	}
	else if (call->established && err == ECONNRESET) {
		report(call, SIPUA_CALL_TERMINATED, 0, "remote hangup", false);
	}
	else if (!call->established && err && call->stack->tls_error[0]) {
		/* the TLS connection the INVITE waited for failed: say why */
		re_snprintf(reason, sizeof(reason), "TLS: %s",
			    call->stack->tls_error);
		report(call, SIPUA_CALL_FAILED, 0, reason, false);
	}
	else if (err == ETIMEDOUT) {
		report(call, SIPUA_CALL_FAILED, STATUS_TIMEOUT,
		       "SIP transaction timed out", false);
	}
	else {
		re_snprintf(reason, sizeof(reason), "%m", err);
		report(call, call->established ? SIPUA_CALL_TERMINATED :
		       SIPUA_CALL_FAILED, 0, reason, false);
	}

	call->sess = mem_deref(call->sess);
}


/* Our Contact: the address a request left from, or the public address
 * in front of us (with that port) */
static void contact_set(struct sip_contact *contact, struct sa *buf,
			const struct call *call, const struct sa *src,
			enum sip_transp tp)
{
	if (call && sa_isset(&call->public_sa, SA_ADDR)) {
		*buf = call->public_sa;
		sa_set_port(buf, sa_port(src));
		src = buf;
	}
	sip_contact_set(contact, "sipsrc", src, tp);
}


static int contact_send_handler(enum sip_transp tp, const struct sa *src,
				const struct sa *dst, struct mbuf *mb,
				void *arg)
{
	struct sip_contact contact;
	struct sa buf;
	(void)dst;

	contact_set(&contact, &buf, arg, src, tp);

	return mbuf_printf(mb, "%H", sip_contact_print, &contact);
}


static void refresh_resp_handler(int err, const struct sip_msg *msg,
				 void *arg)
{
	struct call *call = arg;

	call->refresh_req = mem_deref(call->refresh_req);
	if (!err && msg && msg->scode < 200)
		return;

	if (!err && msg && msg->scode < 300) {
		session_timer_update(&call->timer, msg, false);
		return;
	}

	/* RFC 4028 10: a refresh that fails with 408 or 481 ends the call */
	if (err == ETIMEDOUT || (msg && (msg->scode == 408 ||
					 msg->scode == 481))) {
		fail(call, STATUS_TIMEOUT, "the session refresh (UPDATE) "
		     "was not answered");
		return;
	}

	runtime_log(4, "call %s: session refresh: %u %r (%m)", call->call_id,
		    msg ? msg->scode : 0, msg ? &msg->reason : NULL, err);
}


/* Our turn to refresh the session: an UPDATE without SDP when the peer
 * allows it (nothing is renegotiated), a re-INVITE with our offer
 * otherwise (Twilio allows no UPDATE) */
static void session_refresh(void *arg)
{
	struct call *call = arg;
	struct mbuf *desc = NULL;
	int err;

	if (!call->sess || call->refresh_req)
		return;

	if (call->timer.peer_allows_update) {
		err = sip_drequestf(&call->refresh_req, call->stack->sip, true,
				    "UPDATE", sipsess_dialog(call->sess), 0,
				    NULL, contact_send_handler,
				    refresh_resp_handler, call,
				    "Session-Expires: %u;refresher=uac\r\n"
				    "Supported: timer\r\n"
				    "Content-Length: 0\r\n"
				    "\r\n", call->timer.interval_s);
	}
	else {
		call->offer_reason = "session refresh";
		err = offer_encode(&desc, call->sdp, call->sdesv,
				   call->handle->prm.srtp);
		if (!err)
			err = sipsess_modify(call->sess, desc);
		mem_deref(desc);
	}

	if (err)
		runtime_log(4, "call %s: could not refresh the session: %m",
			    call->call_id, err);
}


static void session_expired(void *arg)
{
	struct call *call = arg;
	char reason[96];

	re_snprintf(reason, sizeof(reason), "session expired: no refresh "
		    "from the peer within %u s", call->timer.interval_s);
	fail(call, STATUS_TIMEOUT, reason);
}


static void answer_timeout(void *arg)
{
	struct call *call = arg;
	char reason[256];

	/* a TLS server that dropped us after the handshake leaves the
	   INVITE unanswered: that is why */
	if (call->stack->tls_error[0])
		re_snprintf(reason, sizeof(reason), "no answer within %u s: "
			    "TLS: %s", call->handle->prm.answer_timeout_ms /
			    1000, call->stack->tls_error);
	else
		re_snprintf(reason, sizeof(reason), "no answer within %u s",
			    call->handle->prm.answer_timeout_ms / 1000);
	fail(call, STATUS_TIMEOUT, reason);
	call->reg = mem_deref(call->reg);
}


static int invite_send(struct call *call)
{
	const struct sipua_call_params *prm = &call->handle->prm;
	const char *routev[1];
	int err;

	routev[0] = prm->route;

	/* behind a NAT: its public address in our Contact, with our port */
	if (sa_isset(&call->public_sa, SA_ADDR) && !call->contact_uri) {
		struct sa laddr;

		err = sip_transp_laddr(call->stack->sip, &laddr,
				       call->stack->tp,
				       &call->public_sa);
		if (!err)
			err = re_sdprintf(&call->contact_uri,
					  "sip:sipsrc@%j:%u%s",
					  &call->public_sa, sa_port(&laddr),
					  sip_transp_param(
						  call->stack->tp));
		if (err)
			return err;
	}

	err = sipsess_connect(&call->sess, call->stack->sock,
			      call->target ? call->target : prm->request_uri,
			      prm->display_name,
			      prm->from_uri,
			      call->contact_uri ? call->contact_uri : "sipsrc",
			      prm->route ? routev : NULL, prm->route ? 1 : 0,
			      "application/sdp", call->offer,
			      auth_handler, call, false,
			      offer_handler, answer_handler,
			      progress_handler, estab_handler,
			      info_handler, refer_handler, close_handler, call,
			      "%H%s%s%s%s",
			      session_timer_print, &call->timer,
			      prm->user_agent ? "User-Agent: " : "",
			      prm->user_agent ? prm->user_agent : "",
			      prm->user_agent ? "\r\n" : "",
			      prm->extra_headers ? prm->extra_headers : "");
	if (err)
		return err;

	dialog_info(call);
	report(call, SIPUA_CALL_TRYING, 0, "", false);

	return 0;
}


static void register_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;
	char reason[128];

	if (call->sess || call->finished)
		return;   /* a refresh: the call is already under way */

	if (err || !msg || msg->scode >= 300) {
		if (msg) {
			pl_strcpy(&msg->reason, reason, sizeof(reason));
			fail(call, msg->scode, reason);
		}
		else {
			re_snprintf(reason, sizeof(reason),
				    "REGISTER failed: %m", err);
			fail(call, err == ETIMEDOUT ? STATUS_TIMEOUT : 0,
			     reason);
		}
		return;
	}

	err = invite_send(call);
	if (err) {
		re_snprintf(reason, sizeof(reason), "INVITE failed: %m", err);
		fail(call, 0, reason);
	}
}


static int register_send(struct call *call)
{
	const struct sipua_call_params *prm = &call->handle->prm;
	struct uri uri;
	struct pl pl;
	char *reg_uri = NULL;
	const char *routev[1];
	int err;

	pl_set_str(&pl, prm->request_uri);
	err = uri_decode(&uri, &pl);
	if (err)
		return err;

	if (uri.port)
		err = re_sdprintf(&reg_uri, "%r:%r:%u", &uri.scheme, &uri.host,
				  uri.port);
	else
		err = re_sdprintf(&reg_uri, "%r:%r", &uri.scheme, &uri.host);
	if (err)
		return err;

	routev[0] = prm->route;
	err = sipreg_register(&call->reg, call->stack->sip, reg_uri,
			      prm->from_uri, prm->display_name, prm->from_uri,
			      REGISTER_EXPIRES_S, "sipsrc",
			      prm->route ? routev : NULL, prm->route ? 1 : 0,
			      0, auth_handler, call, false,
			      register_handler, call, NULL,
			      prm->user_agent ? "User-Agent: %s\r\n" : NULL,
			      prm->user_agent);
	mem_deref(reg_uri);

	return err;
}


/* What the calls handle of their stacks' requests: an INVITE that opens
 * a dialog goes to sipua_incoming.c (issue 14) */
static const struct stack_handlers stack_handlers = {
	.inviteh = incoming_dispatch,
	.requesth = call_update_handler,
	.dialogh = call_dialog_handler,
	.tls_failedh = call_tls_failed,
	.bodyh = (re_printf_h *)sdes_mask_print,
};


static const enum sip_transp transpv[] = {
	[SIPUA_TRANSPORT_UDP] = SIP_TRANSP_UDP,
	[SIPUA_TRANSPORT_TCP] = SIP_TRANSP_TCP,
	[SIPUA_TRANSPORT_TLS] = SIP_TRANSP_TLS,
};


/**
 * The SIP stack of prm's transport, local address and port (and TLS
 * settings), with the calls' handlers: a placed call's, a waiting call's
 * and a router's (sipua_incoming.c, listen: true)
 */
int call_stack_get(struct stack **stp, const struct sipua_call_params *prm,
		   bool listen, const char **why)
{
	/* listening over TLS, we are the server: our certificate only */
	const struct stack_prm sprm = {
		.tp = transpv[prm->transport],
		.laddr = prm->local_address,
		.port = prm->sip_port,
		.tls_server_name = listen ? NULL : prm->tls_server_name,
		.tls_ca_file = listen ? NULL : prm->tls_ca_file,
		.tls_cert_file = prm->tls_cert_file,
		.tls_key_file = prm->tls_key_file,
		.tls_no_verify = listen ? false : prm->tls_no_verify,
		.tls_server = listen,
	};

	return stack_get(stp, &sprm, &stack_handlers, why);
}


/* A call of the process, placed or answered (handle NULL: an INVITE
 * accepted that no call has taken yet), in calls for their requests */
static struct call *call_new(struct sipua_call *handle)
{
	struct call *call = mem_zalloc(sizeof(*call), call_destructor);

	if (!call)
		return NULL;

	call->handle = handle;
	tmr_init(&call->answer_tmr);
	tmr_init(&call->dtmf_tmr);
	tmr_init(&call->free_tmr);
	tmr_init(&call->reinvite_tmr);
	session_timer_init(&call->timer, session_refresh, session_expired,
			   call);
	list_append(&calls, &call->le, call);

	return call;
}


/* A call (or a transfer's new leg) of the handle, ready to send its
 * INVITE: its SIP stack, its SDP offer (the handle's ports: a new leg
 * reuses the element's sockets), its answer timer */
static int call_alloc(struct call **callp, struct sipua_call *handle,
		      const char **why)
{
	const struct sipua_call_params *prm = &handle->prm;
	struct call *call;
	int err;

	call = call_new(handle);
	if (!call)
		return ENOMEM;

	err = call_stack_get(&call->stack, prm, false, why);
	if (err)
		goto out;

	err = offer_build(&call->sdp, &call->offer, prm, call->sdesv);
	if (err)
		goto out;

	if (prm->public_address) {
		err = sa_set_str(&call->public_sa, prm->public_address, 0);
		if (err)
			goto out;
	}

	if (prm->answer_timeout_ms)
		tmr_start(&call->answer_tmr, prm->answer_timeout_ms,
			  answer_timeout, call);

 out:
	if (err)
		mem_deref(call);
	else
		*callp = call;

	return err;
}


void call_begin(struct sipua_call *handle)
{
	struct call *call = NULL;
	const char *why = NULL;
	char reason[160];
	int err;

	err = call_alloc(&call, handle, &why);
	if (err)
		goto out;

	handle->call = call;
	if (handle->prm.register_first)
		err = register_send(call);
	else
		err = invite_send(call);

 out:
	if (err) {
		struct sipua_call_event ev;

		if (why)
			re_snprintf(reason, sizeof(reason),
				    "could not place the call: %s", why);
		else
			re_snprintf(reason, sizeof(reason),
				    "could not place the call: %m", err);
		memset(&ev, 0, sizeof(ev));
		ev.state = SIPUA_CALL_FAILED;
		ev.reason = reason;
		ev.call_id = "";
		handle->eh(&ev, handle->arg);
		if (call)
			call->finished = true;
	}
}


void call_end(struct sipua_call *handle)
{
	struct call *call = handle->call;

	if (!call)
		return;

	call->handle = NULL;
	handle->call = NULL;
	mem_deref(call);
}


/*
 * Incoming calls (issue 14). sipua_incoming.c decides which call takes an
 * INVITE; the session it becomes is a call like ours, with the same
 * handlers (re-INVITE, UPDATE, INFO, REFER, BYE), so an answered call
 * behaves as a placed one. An INVITE is accepted with 180 at once (its
 * transaction, CANCEL included, is then the session's) and answered with
 * 200 when a call takes it: at once if one waits, later if parked.
 */

/* The dialog is confirmed (the ACK of our 200): the streams go out to
 * the element as an outgoing call's do with the peer's 200 */
static void incoming_estab_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	dialog_info(call);
	tmr_cancel(&call->answer_tmr);
	call->established = true;

	if (msg && msg->tp != SIP_TRANSP_UDP && !call->ka &&
	    sip_keepalive_start(&call->ka, call->stack->sip, msg, KEEPALIVE_S,
				keepalive_handler, call))
		runtime_log(4, "call %s: no keepalive on its connection",
			    call->call_id);

	report(call, SIPUA_CALL_ESTABLISHED, 200, "OK", true);
}


static void incoming_close_handler(int err, const struct sip_msg *msg,
				   void *arg)
{
	struct call *call = arg;

	if (!call->handle) {
		/* parked, no call took it yet (CANCEL: libre answered 487) */
		call->sess = mem_deref(call->sess);
		incoming_call_closed(call, err);  /* frees it */
		return;
	}

	if (call->established || err != ECONNRESET) {
		close_handler(err, msg, arg);
		return;
	}

	/* CANCEL (or BYE) before the ACK: libre answered 487 */
	report(call, SIPUA_CALL_FAILED, 487, "cancelled by the caller", false);
	call->sess = mem_deref(call->sess);
}


/** Accept an INVITE with 180: a call without a handle yet */
int call_incoming_accept(struct call **callp, struct stack *st,
			 const struct sip_msg *msg)
{
	struct call *call;
	int err;

	call = call_new(NULL);
	if (!call)
		return ENOMEM;

	call->stack = st;

	err = incoming_x_headers(&call->remote_headers, msg);
	if (err)
		goto out;

	err = sipsess_accept(&call->sess, st->sock, msg, 180, "Ringing",
			     "sipsrc", "application/sdp", NULL,
			     NULL, NULL, false,
			     offer_handler, answer_handler,
			     incoming_estab_handler, info_handler,
			     refer_handler, incoming_close_handler, call,
			     "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE,"
			     " INFO, REFER\r\n");
	if (err)
		goto out;

	dialog_info(call);

 out:
	if (err)
		mem_deref(call);
	else
		*callp = call;

	return err;
}


/**
 * The handle's call takes the accepted INVITE msg: our answer to its
 * offer, in a 200. On error the INVITE is not answered: *scode and *why
 * say what to reject it with.
 */
int call_incoming_answer(struct call *call, struct sipua_call *handle,
			 const struct sip_msg *msg, uint16_t *scode,
			 const char **why)
{
	struct sipua_call_params prm = handle->prm;
	struct mbuf body, *desc = NULL;
	char laddr[64];
	size_t arrived;
	uint32_t clen;
	int err;

	call->handle = handle;
	handle->call = call;
	*scode = 488;
	*why = "Not Acceptable Here";

	/* listening on any address: the SDP names the one the caller
	   reaches us on */
	if (!strcmp(prm.local_address, "0.0.0.0") &&
	    re_snprintf(laddr, sizeof(laddr), "%j", &msg->src) > 0) {
		if (sipua_local_address_for(laddr, laddr, sizeof(laddr)))
			return EADDRNOTAVAIL;
		prm.local_address = laddr;
	}

	if (prm.public_address) {
		err = sa_set_str(&call->public_sa, prm.public_address, 0);
		if (err)
			return err;
	}

	if (session_timer_too_short(&call->timer, msg)) {
		/* RFC 4028 9: 422 with our Min-SE (take() adds it) */
		*scode = 422;
		*why = "Session Interval Too Small";
		return EPROTO;
	}

	if (!mbuf_get_left(msg->mb) ||
	    !msg_ctype_cmp(&msg->ctyp, "application", "sdp")) {
		/* an offer in our answer, the answer in the ACK: libre 1.1.0
		   cannot take the answer from an initial ACK, so refused */
		*why = "Not Acceptable Here (no SDP offer)";
		return EPROTO;
	}

	err = body_view(&body, msg, &arrived, &clen);
	if (err)
		return err;

	/* what the offer lacks is not in the answer (offer_has_media) */
	if (!offer_has_media(&body, "audio"))
		prm.media[SIPUA_MEDIA_AUDIO].dir = SIPUA_DIR_OFF;
	if (!offer_has_media(&body, "video"))
		prm.media[SIPUA_MEDIA_VIDEO].dir = SIPUA_DIR_OFF;

	err = offer_build(&call->sdp, &call->offer, &prm, call->sdesv);
	if (err)
		return err;

	err = sdp_decode(call->sdp, &body, true);
	if (err)
		return err;

	err = answer_read(call->streamv, call->sdp, call->sdesv, prm.srtp,
			  true, why);
	if (err) {
		*why = err == ENOKEY && *why ? *why :
			"Not Acceptable Here (no common codec)";
		return err;
	}

	remote_sdp_keep(call, &body);

	/* RFC 4028: the caller's Session-Expires is honoured as asked (as a
	   2xx's is for our calls), the 200 says it and who refreshes */
	session_timer_update(&call->timer, msg, true);

	err = sdp_encode(&desc, call->sdp, false);
	if (!err)
		err = sipsess_answer(call->sess, 200, "OK", desc,
				     "Supported: timer\r\n%s%H%s%s%s",
				     call->timer.interval_s &&
				     sip_msg_hdr_has_value(msg,
							   SIP_HDR_SUPPORTED,
							   "timer") ?
				     "Require: timer\r\n" : "",
				     session_expires_print, &call->timer,
				     prm.user_agent ? "User-Agent: " : "",
				     prm.user_agent ? prm.user_agent : "",
				     prm.user_agent ? "\r\n" : "");
	mem_deref(desc);
	if (err) {
		*scode = 500;
		*why = "Server Internal Error";
		return err;
	}

	runtime_log(6, "call %s: answered", call->call_id);
	return 0;
}


/** Reject an accepted INVITE (headers: "Name: value\r\n" each, or NULL) */
void call_incoming_reject(struct call *call, uint16_t scode,
			  const char *reason, const char *headers)
{
	if (call->sess)
		(void)sipsess_reject(call->sess, scode, reason, "%s"
				     "Content-Length: 0\r\n\r\n",
				     headers ? headers : "");
	call->finished = true;
}


/** The handle's call ends before it had a session */
void call_incoming_fail(struct sipua_call *handle, uint16_t scode,
			const char *reason)
{
	struct sipua_call_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.state = SIPUA_CALL_FAILED;
	ev.sip_status = scode;
	ev.reason = reason;
	ev.call_id = "";
	handle->eh(&ev, handle->arg);
}
