/**
 * @file sipua_int.h  Internal interface of the SIP user agent (libre side):
 * the call handle, the call, its session timer and its SDP
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/** The handle other threads hold; see sipua_call_start() */
struct sipua_call {
	struct sipua_call_params prm;   /* strings below are our copies */
	char *strv[16];
	sipua_call_event_h *eh;
	void *arg;

	struct job start_job;
	struct job stop_job;
	struct waiter stopped;  /* signalled by the SIP thread */

	struct call *call;      /* SIP thread only */
	struct incoming *in;    /* answer mode (issue 14), sipua_incoming.c */
};

/* sipua_call.c: SIP thread only */
struct sip;
struct sip_msg;
void call_begin(struct sipua_call *handle);
void call_end(struct sipua_call *handle);

/** Digits for a call's SIP INFO sender, handed to the SIP thread */
struct dtmf_job {
	struct job job;
	struct sipua_call *handle;
	char digits[64];
};
void call_dtmf_begin(struct dtmf_job *job);

/* sipua_timer.c: SIP thread only */
typedef void (session_timer_h)(void *arg);

/** RFC 4028 for one call; the fields are sipua_timer.c's */
struct session_timer {
	struct tmr tmr;
	uint32_t asked_s;        /**< in our INVITE */
	uint32_t interval_s;     /**< negotiated; 0: no timer */
	unsigned retries;        /**< 422s followed */
	bool we_refresh;
	bool peer_allows_update;
	session_timer_h *refreshh;
	session_timer_h *expiredh;
	void *arg;
};

void session_timer_init(struct session_timer *st, session_timer_h *refreshh,
			session_timer_h *expiredh, void *arg);
void session_timer_stop(struct session_timer *st);
int  session_timer_print(struct re_printf *pf,
			 const struct session_timer *st);
void session_timer_update(struct session_timer *st,
			  const struct sip_msg *msg, bool peer_is_uac);
bool session_timer_too_small(struct session_timer *st,
			     const struct sip_msg *msg);
bool session_timer_too_short(const struct session_timer *st,
			     const struct sip_msg *msg);
uint32_t session_timer_floor(const struct session_timer *st);
bool session_timer_asked(const struct sip_msg *msg);
uint32_t session_timer_min_se(void);

/* sipua_sdp.c: SIP thread only */
enum {
	SDES_SUITES = 2,        /**< the suites we offer (enum order) */
};

/** Our side of SDES (RFC 4568) on one m-line: a key per suite we offer
    (a=crypto tag = suite), fresh per call; secrets, wiped with the call */
struct sdes {
	uint8_t keyv[SDES_SUITES][SIPUA_SRTP_KEY_LEN];
	enum sipua_srtp_suite suite;    /**< negotiated, or NONE */
};

struct sdp_session;
int  offer_build(struct sdp_session **sdpp, struct mbuf **descp,
		 const struct sipua_call_params *prm, struct sdes *sdesv);
int  offer_encode(struct mbuf **descp, struct sdp_session *sdp,
		  const struct sdes *sdesv, enum sipua_srtp_mode mode);
int  answer_read(struct sipua_stream_info *infov, struct sdp_session *sdp,
		 struct sdes *sdesv, enum sipua_srtp_mode mode, bool peer_offer,
		 const char **why);  /* ECONNREFUSED, EPROTO, ENOKEY */
int  sdes_mask_print(struct re_printf *pf, const struct pl *text);
bool offer_has_media(const struct mbuf *body, const char *name);

/* sipua_incoming.c (issue 14): incoming calls. incoming_new() and
   incoming_free() on any thread, the rest on the SIP thread */
struct incoming;
struct stack;
struct call;
int  incoming_new(struct incoming **inp, struct sipua_call *handle,
		  const struct sipua_answer_params *ap);
void incoming_free(struct incoming *in);
void incoming_begin(struct sipua_call *handle);
void incoming_end(struct sipua_call *handle);
void incoming_dispatch(struct stack *st, const struct sip_msg *msg);
void incoming_call_closed(struct call *call, int err);
int  incoming_x_headers(char **strp, const struct sip_msg *msg);

/* sipua_call.c: the SIP stack for prm (shared, with the calls' handlers
   of its requests and INVITEs); listen: for callers (over TLS, we are
   the server, with prm's certificate); SIP thread only */
int  call_stack_get(struct stack **stp, const struct sipua_call_params *prm,
		    bool listen, const char **why);

/* sipua_call.c, its incoming block (issue 14): SIP thread only */
int  call_incoming_accept(struct call **callp, struct stack *st,
			  const struct sip_msg *msg);
int  call_incoming_answer(struct call *call, struct sipua_call *handle,
			  const struct sip_msg *msg, uint16_t *scode,
			  const char **why);
void call_incoming_reject(struct call *call, uint16_t scode,
			  const char *reason, const char *headers);
void call_incoming_fail(struct sipua_call *handle, uint16_t scode,
			const char *reason);
