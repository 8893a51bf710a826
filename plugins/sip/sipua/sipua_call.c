/**
 * @file sipua_call.c  One outgoing call, on the SIP thread
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <re.h>
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
};

struct call {
	struct sipua_call *handle;  /* NULL once stopped: no more events */
	struct stack *stack;
	struct sipsess *sess;
	struct sipreg *reg;
	struct sdp_session *sdp;
	struct mbuf *offer;
	struct tmr answer_tmr;
	char call_id[128];
	char *remote_sdp;
	struct sipua_stream_info streamv[SIPUA_MEDIA_COUNT];
	const char *answer_error;   /* why the answer is unusable */
	char answer_reason[160];    /* answer_error, when it has numbers */
	unsigned auth_attempts;
	bool streams_reported;
	bool established;
	bool finished;
};


static void call_destructor(void *data)
{
	struct call *call = data;

	tmr_cancel(&call->answer_tmr);
	/* Dereferencing the session sends CANCEL or BYE as needed */
	call->sess = mem_deref(call->sess);
	call->reg = mem_deref(call->reg);
	call->sdp = mem_deref(call->sdp);
	call->offer = mem_deref(call->offer);
	call->remote_sdp = mem_deref(call->remote_sdp);
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


/* The peer's last SDP, for the element's stats */
static void remote_sdp_keep(struct call *call, const struct mbuf *body)
{
	call->remote_sdp = mem_deref(call->remote_sdp);
	(void)re_sdprintf(&call->remote_sdp, "%b", mbuf_buf(body),
			  mbuf_get_left(body));
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
 * answer_read()'s error */
static const char *streams_error(int err)
{
	return err == ECONNREFUSED ?
		"the callee refused every stream (port 0 in its SDP)" :
		"no common codec in the SDP answer";
}


static void answer_decode(struct call *call, const struct sip_msg *msg)
{
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

	err = answer_read(call->streamv, call->sdp);
	if (err) {
		call->answer_error = streams_error(err);
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


static int answer_handler(const struct sip_msg *msg, void *arg)
{
	struct call *call = arg;

	/* Problems are acted on once the dialog exists (estab_handler) */
	answer_decode(call, msg);

	if (!call->established)
		return 0;

	/* The ACK's answer to the offer we made in our 200 to a re-INVITE
	 * without SDP. An ACK cannot be refused: an unusable answer leaves
	 * the media as it was. */
	if (call->answer_error)
		sipua_log(4, "the answer in the ACK is not followed: %s",
			  call->answer_error);
	else
		report_update(call, call->streamv, 0, "re-INVITE");

	return 0;
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

	report_msg(call, SIPUA_CALL_ESTABLISHED, msg, true);
}


/*
 * A re-INVITE from the peer (hold, resume, new address): answer it and
 * tell the element where the media now comes from. An offer we cannot
 * take (not SDP, cut short, malformed, no stream we can receive) is
 * refused: libre answers 488 and the call goes on as it was. A body that
 * is not SDP was answered 415 before (sipua.c's request_handler). Without
 * SDP the peer asks for our offer, and answers in its ACK (answer_handler).
 */
static int offer_handler(struct mbuf **descp, const struct sip_msg *msg,
			 void *arg)
{
	struct call *call = arg;
	struct sipua_stream_info streamv[SIPUA_MEDIA_COUNT];
	struct mbuf body;
	size_t arrived;
	uint32_t clen;
	int err;

	if (!mbuf_get_left(msg->mb))
		return sdp_encode(descp, call->sdp, true);

	if (!msg_ctype_cmp(&msg->ctyp, "application", "sdp"))
		return EPROTO;

	err = body_view(&body, msg, &arrived, &clen);
	if (err) {
		sipua_log(4, "re-INVITE refused: its SDP is cut short "
			  "(%zu of %u bytes)", arrived, clen);
		return err;
	}

	err = sdp_decode(call->sdp, &body, true);
	if (err) {
		sipua_log(4, "re-INVITE refused: malformed SDP (%m)", err);
		return err;
	}

	err = answer_read(streamv, call->sdp);
	if (err) {
		sipua_log(4, "re-INVITE refused: %s", streams_error(err));
		return err;
	}

	err = sdp_encode(descp, call->sdp, false);
	if (err)
		return err;

	remote_sdp_keep(call, &body);
	report_update(call, streamv, 0, "re-INVITE");

	return 0;
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
	char reason[128];

	tmr_cancel(&call->answer_tmr);
	dialog_info(call);

	if (msg && msg->scode >= 300) {
		report_msg(call, SIPUA_CALL_FAILED, msg, false);
	}
	else if (call->established && err == ECONNRESET) {
		report(call, SIPUA_CALL_TERMINATED, 0, "remote hangup", false);
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


static void answer_timeout(void *arg)
{
	struct call *call = arg;
	char reason[64];

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

	err = sipsess_connect(&call->sess, call->stack->sock,
			      prm->request_uri, prm->display_name,
			      prm->from_uri, "sipsrc",
			      prm->route ? routev : NULL, prm->route ? 1 : 0,
			      "application/sdp", call->offer,
			      auth_handler, call, false,
			      offer_handler, answer_handler,
			      progress_handler, estab_handler,
			      info_handler, NULL, close_handler, call,
			      prm->user_agent ? "User-Agent: %s\r\n" : NULL,
			      prm->user_agent);
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


void call_begin(struct sipua_call *handle)
{
	const struct sipua_call_params *prm = &handle->prm;
	struct call *call;
	char reason[128];
	int err;

	call = mem_zalloc(sizeof(*call), call_destructor);
	if (!call) {
		err = ENOMEM;
		goto out;
	}

	call->handle = handle;
	handle->call = call;
	tmr_init(&call->answer_tmr);

	err = sipua_stack_get(&call->stack, prm->transport,
			      prm->local_address, prm->sip_port);
	if (err)
		goto out;

	err = offer_build(&call->sdp, &call->offer, prm);
	if (err)
		goto out;

	if (prm->answer_timeout_ms)
		tmr_start(&call->answer_tmr, prm->answer_timeout_ms,
			  answer_timeout, call);

	if (prm->register_first)
		err = register_send(call);
	else
		err = invite_send(call);

 out:
	if (err) {
		struct sipua_call_event ev;

		re_snprintf(reason, sizeof(reason), "could not place the call: %m",
			    err);
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
