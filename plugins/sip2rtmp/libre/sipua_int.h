/**
 * @file sipua_int.h  Internal interface of the SIP user agent (libre side)
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <pthread.h>

struct sip;
struct sip_lsnr;
struct sipsess_sock;
struct tls_conf;

/** A SIP stack: one socket per transport, local address and port */
struct stack {
	struct le le;
	struct sip *sip;
	struct sip_lsnr *lsnr_before;  /**< ahead of the session code's */
	struct sipsess_sock *sock;
	struct sip_lsnr *lsnr_after;   /**< what sipsess leaves: UPDATE,
					    OPTIONS */
	struct tls *tls;
	struct tls_conf *tls_conf;     /**< what TLS checks (sipua_tls.c) */
	char tls_error[192];  /**< why its last handshake failed, or "" */
	struct tmr tls_tmr;   /**< fails the calls a late refusal leaves */
	enum sipua_transport transport;
	char laddr[64];
	uint16_t port;        /**< the port asked for (0: any) */
};

/** A thread waiting for the SIP thread to finish a command */
struct waiter {
	pthread_mutex_t mutex;  /* protects done */
	pthread_cond_t cond;
	bool done;
};

void waiter_init(struct waiter *w);
void waiter_destroy(struct waiter *w);
void waiter_signal(struct waiter *w);

/** The handle other threads hold; see sipua_call_start() */
struct sipua_call {
	struct sipua_call_params prm;   /* strings below are our copies */
	char *strv[16];
	sipua_call_event_h *eh;
	void *arg;

	struct waiter stopped;  /* signalled by the SIP thread */

	struct call *call;      /* SIP thread only */
};

/* sipua.c: SIP thread only */
int  sipua_stack_get(struct stack **stp, const struct sipua_call_params *prm,
		     const char **why);
enum sip_transp sipua_stack_transp(const struct stack *st);
void sipua_log(int level, const char *fmt, ...);
bool sipua_on_sip_thread(void);
struct dnsc *sipua_dnsc(void);

/* sipua_tls.c: SIP thread only */
int  stack_tls_alloc(struct stack *st, const struct sipua_call_params *prm,
		     const char **why);
bool stack_tls_match(const struct stack *st,
		     const struct sipua_call_params *prm);
void stack_tls_close(struct stack *st);
const char *sipua_ca_file(void);

/* sipua_call.c: SIP thread only */
struct sip;
struct sip_msg;
void call_begin(struct sipua_call *handle);
void call_end(struct sipua_call *handle);
bool call_update_handler(struct sip *sip, const struct sip_msg *msg);

/** Digits for a call's SIP INFO sender, handed to the SIP thread */
struct dtmf_job {
	struct sipua_call *handle;
	char digits[64];
};
void call_dtmf_begin(struct dtmf_job *job);
void call_tls_failed(struct stack *st);

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

/* sipua.c: any thread */
enum sipua_cmd {
	SIPUA_CMD_CALL_START = 1,
	SIPUA_CMD_CALL_STOP,
	SIPUA_CMD_CALL_DTMF,
	SIPUA_CMD_RTMP_START,
	SIPUA_CMD_RTMP_STOP,
	SIPUA_CMD_QUIT,
};
int  sipua_post(enum sipua_cmd cmd, void *data);
void sipua_post_wait(enum sipua_cmd cmd, void *data, struct waiter *w);

/* sipua_rtmp.c: SIP thread only */
struct sipua_rtmp;
void rtmp_begin(struct sipua_rtmp *h);
void rtmp_end(struct sipua_rtmp *h);
void rtmp_shutdown(void);
