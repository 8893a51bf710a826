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

/** A SIP stack: one socket per transport, local address and port */
struct stack {
	struct le le;
	struct sip *sip;
	struct sip_lsnr *lsnr;     /* ahead of the session code's */
	struct sipsess_sock *sock;
	struct tls *tls;
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
	char *strv[10];
	sipua_call_event_h *eh;
	void *arg;

	struct waiter stopped;  /* signalled by the SIP thread */

	struct call *call;      /* SIP thread only */
};

/* sipua.c: SIP thread only */
int  sipua_stack_get(struct stack **stp, enum sipua_transport tp,
		     const char *laddr, uint16_t port);
void sipua_log(int level, const char *fmt, ...);
bool sipua_on_sip_thread(void);

/* sipua_call.c: SIP thread only */
void call_begin(struct sipua_call *handle);
void call_end(struct sipua_call *handle);

/* sipua_sdp.c: SIP thread only */
struct sdp_session;
int  offer_build(struct sdp_session **sdpp, struct mbuf **descp,
		 const struct sipua_call_params *prm);
int  answer_read(struct sipua_stream_info *infov,
		 const struct sdp_session *sdp);  /* ECONNREFUSED, EPROTO */

/* sipua.c: any thread */
enum sipua_cmd {
	SIPUA_CMD_CALL_START = 1,
	SIPUA_CMD_CALL_STOP,
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
