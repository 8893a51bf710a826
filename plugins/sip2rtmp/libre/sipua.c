/**
 * @file sipua.c  The libre thread, its command queue and the SIP stacks
 *
 * libre's reference counts are not atomic and its main loop is not
 * reentrant, so one thread per process runs re_main() and owns every
 * libre object. It is started by the first sipua_init() and stopped by
 * the last sipua_close(). Other threads post commands through an mqueue.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE 1
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netdb.h>
#include <unistd.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <re.h>

#define DEBUG_MODULE "sipua"
#define DEBUG_LEVEL 5
#include <re_dbg.h>
#include "sipua.h"
#include "sipua_int.h"


enum {
	STACK_HASH_SIZE = 32,
	/* How long closing stacks may take to finish BYE/CANCEL transactions */
	QUIT_LINGER_MS = 2000,
	PASSWORD_STR = 4,
};


/*
 * Lock order (the whole process's: docs/sipsrc-contract.md, "Threads and
 * locks"): lifecycle, then mutex, then log_mutex; a handle's mutex is
 * never held with any of them.
 * lifecycle serialises sipua_init() and sipua_close() (held while the
 * thread starts and is joined); it protects refs.
 * mutex protects thread, running, start_err and mq: held briefly, also
 * by the SIP thread.
 * log_mutex protects logh and logarg.
 */
static struct {
	pthread_mutex_t lifecycle;
	pthread_mutex_t mutex;
	pthread_mutex_t log_mutex;
	pthread_cond_t cond;
	unsigned refs;
	pthread_t thread;
	bool running;
	int start_err;
	struct mqueue *mq;
	sipua_log_h *logh;
	void *logarg;

	/* SIP thread only */
	struct list stacks;
	struct dnsc *dnsc;
	bool dnsc_warned;
	unsigned closing;
	struct tmr quit_tmr;
} ua = {
	.lifecycle = PTHREAD_MUTEX_INITIALIZER,
	.mutex = PTHREAD_MUTEX_INITIALIZER,
	.log_mutex = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};


void sipua_log(int level, const char *fmt, ...)
{
	char buf[4096];  /* a SIP message and its SDP, traced */
	va_list ap;
	sipua_log_h *logh;
	void *logarg;

	pthread_mutex_lock(&ua.log_mutex);
	logh = ua.logh;
	logarg = ua.logarg;
	pthread_mutex_unlock(&ua.log_mutex);

	if (!logh)
		return;

	va_start(ap, fmt);
	(void)re_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	logh(level, buf, logarg);
}


void sipua_set_log_handler(sipua_log_h *logh, void *arg)
{
	pthread_mutex_lock(&ua.log_mutex);
	ua.logh = logh;
	ua.logarg = arg;
	pthread_mutex_unlock(&ua.log_mutex);
}


/* libre's own debug output goes to the same handler */
static void dbg_handler(int level, const char *p, size_t len, void *arg)
{
	(void)arg;

	while (len && (p[len-1] == '\n' || p[len-1] == '\r'))
		--len;

	sipua_log(level, "%b", p, len);
}


static void sip_trace_handler(bool tx, enum sip_transp tp,
			      const struct sa *src, const struct sa *dst,
			      const uint8_t *pkt, size_t len, void *arg)
{
	struct pl text;
	(void)arg;

	/* The digest response is a hash; SRTP keys are masked */
	text.p = (const char *)pkt;
	text.l = len;
	sipua_log(DBG_DEBUG + 1, "%s %s %J -> %J\n%H",
		  tx ? "send" : "recv", sip_transp_name(tp),
		  src, dst, sdes_mask_print, &text);
}


bool sipua_on_sip_thread(void)
{
	bool on;

	pthread_mutex_lock(&ua.mutex);
	on = ua.running && pthread_equal(ua.thread, pthread_self());
	pthread_mutex_unlock(&ua.mutex);

	return on;
}


static void stack_destructor(void *data)
{
	struct stack *st = data;

	list_unlink(&st->le);
	st->lsnr_before = mem_deref(st->lsnr_before);
	st->sock = mem_deref(st->sock);
	st->lsnr_after = mem_deref(st->lsnr_after);
	stack_tls_close(st);
	sip_close(st->sip, true);
	st->sip = mem_deref(st->sip);
	st->tls = mem_deref(st->tls);
}


static void stack_exit_handler(void *arg)
{
	(void)arg;

	if (ua.closing && --ua.closing == 0)
		re_cancel();
}


/* We only place calls: an incoming INVITE is refused */
static void incoming_handler(const struct sip_msg *msg, void *arg)
{
	struct stack *st = arg;

	(void)sip_treply(NULL, st->sip, msg, 603, "Decline");
}


/*
 * In-dialog requests, before the session code sees them: libre 1.1.0's
 * takes any body of a re-INVITE for an SDP offer, so one that is not SDP
 * gets 415 here (RFC 3261, 21.4.13) and the call goes on as it was.
 */
static bool early_request_handler(const struct sip_msg *msg, void *arg)
{
	struct stack *st = arg;

	if (pl_strcmp(&msg->met, "INVITE") || !pl_isset(&msg->to.tag) ||
	    !mbuf_get_left(msg->mb) ||
	    msg_ctype_cmp(&msg->ctyp, "application", "sdp"))
		return false;

	sipua_log(4, "re-INVITE refused: its body is %r/%r, not SDP",
		  &msg->ctyp.type, &msg->ctyp.subtype);
	(void)sip_treplyf(NULL, NULL, st->sip, msg, false, 415,
			  "Unsupported Media Type",
			  "Accept: application/sdp\r\n"
			  "Content-Length: 0\r\n"
			  "\r\n");

	return true;
}


/* The requests the session code leaves unhandled (libre would answer
 * 501): an UPDATE in a call's dialog, and OPTIONS, which proxies and
 * carriers send as a keepalive and health probe, in a dialog or not */
static bool late_request_handler(const struct sip_msg *msg, void *arg)
{
	struct stack *st = arg;

	if (!pl_strcmp(&msg->met, "OPTIONS")) {
		(void)sip_treplyf(NULL, NULL, st->sip, msg, false, 200, "OK",
				  "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS,"
				  " UPDATE, INFO, REFER\r\n"
				  "Accept: application/sdp\r\n"
				  "Content-Length: 0\r\n"
				  "\r\n");
		return true;
	}

	return call_update_handler(st->sip, msg);
}


static const enum sip_transp transpv[] = {
	[SIPUA_TRANSPORT_UDP] = SIP_TRANSP_UDP,
	[SIPUA_TRANSPORT_TCP] = SIP_TRANSP_TCP,
	[SIPUA_TRANSPORT_TLS] = SIP_TRANSP_TLS,
};


/** libre's transport of a stack */
enum sip_transp sipua_stack_transp(const struct stack *st)
{
	return transpv[st->transport];
}


/**
 * The process's DNS client, on first use: the system's name servers.
 * NULL when there are none (IP addresses still work).
 */
struct dnsc *sipua_dnsc(void)
{
	struct sa nsv[8];
	uint32_t nsn = ARRAY_SIZE(nsv);
	char domain[64] = "";

	if (ua.dnsc)
		return ua.dnsc;

	if ((dns_srv_get(domain, sizeof(domain), nsv, &nsn) ||
	     dnsc_alloc(&ua.dnsc, NULL, nsv, nsn)) && !ua.dnsc_warned) {
		ua.dnsc_warned = true;
		sipua_log(4, "no DNS client: SIP and RTMP hosts must be IP "
			  "addresses");
	}

	return ua.dnsc;
}


/**
 * The SIP stack of a call: one per transport, local address and port,
 * and for TLS per server name, CA file and client certificate too (what
 * its context checks and shows: sipua_tls.c). Calls sharing a stack
 * share its socket, and over TCP and TLS its connection to each peer.
 *
 * @return 0 if success, otherwise errorcode (*why, if set, says why)
 */
int sipua_stack_get(struct stack **stp, const struct sipua_call_params *prm,
		    const char **why)
{
	enum sipua_transport tp = prm->transport;
	const char *laddr = prm->local_address;
	uint16_t port = prm->sip_port;
	struct stack *st;
	struct sa sa;
	struct le *le;
	int err;

	for (le = ua.stacks.head; le; le = le->next) {
		st = le->data;
		if (st->transport == tp && st->port == port &&
		    !strcmp(st->laddr, laddr) &&
		    (tp != SIPUA_TRANSPORT_TLS || stack_tls_match(st, prm))) {
			*stp = st;
			return 0;
		}
	}

	err = sa_set_str(&sa, laddr, port);
	if (err)
		return err;

	st = mem_zalloc(sizeof(*st), stack_destructor);
	if (!st)
		return ENOMEM;

	st->transport = tp;
	st->port = port;
	str_ncpy(st->laddr, laddr, sizeof(st->laddr));

	/* a host name is resolved by libre (RFC 3263: NAPTR, SRV, A) */
	err = sip_alloc(&st->sip, sipua_dnsc(), 32, 32, 32, NULL,
			stack_exit_handler, st);
	if (err)
		goto out;

	sip_set_trace_handler(st->sip, sip_trace_handler);

	if (tp == SIPUA_TRANSPORT_TLS) {
		err = stack_tls_alloc(st, prm, why);
		if (err)
			goto out;
		err = sip_transp_add(st->sip, SIP_TRANSP_TLS, &sa, st->tls);
	}
	else {
		err = sip_transp_add(st->sip, transpv[tp], &sa);
	}
	if (err)
		goto out;

	/* libre asks its request listeners in the order they listen */
	err = sip_listen(&st->lsnr_before, st->sip, true,
			 early_request_handler, st);
	if (err)
		goto out;

	err = sipsess_listen(&st->sock, st->sip, 32, incoming_handler, st);
	if (err)
		goto out;

	/* after sipsess's: what it leaves */
	err = sip_listen(&st->lsnr_after, st->sip, true, late_request_handler,
			 st);
	if (err)
		goto out;

	list_append(&ua.stacks, &st->le, st);

 out:
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}


static void quit_timeout(void *arg)
{
	(void)arg;
	re_cancel();
}


/* Let the stacks finish their BYE and CANCEL transactions, then leave */
static void quit_begin(void)
{
	struct le *le;

	ua.closing = list_count(&ua.stacks);
	for (le = ua.stacks.head; le; le = le->next) {
		struct stack *st = le->data;

		/* the exit handler is called once the stack is idle */
		sip_close(st->sip, false);
	}

	if (!ua.closing) {
		re_cancel();
		return;
	}

	tmr_start(&ua.quit_tmr, QUIT_LINGER_MS, quit_timeout, NULL);
}


static void mqueue_handler(int id, void *data, void *arg)
{
	struct sipua_call *handle = data;
	(void)arg;

	switch (id) {

	case SIPUA_CMD_CALL_START:
		call_begin(handle);
		break;

	case SIPUA_CMD_CALL_STOP:
		call_end(handle);
		waiter_signal(&handle->stopped);
		break;

	case SIPUA_CMD_CALL_DTMF:
		call_dtmf_begin(data);  /* frees it */
		break;

	case SIPUA_CMD_RTMP_START:
		rtmp_begin(data);
		break;

	case SIPUA_CMD_RTMP_STOP:
		rtmp_end(data);  /* signals its waiter */
		break;

	case SIPUA_CMD_QUIT:
		quit_begin();
		break;

	default:
		break;
	}
}


static int open_files_limit(void)
{
	struct rlimit lim;

	if (getrlimit(RLIMIT_NOFILE, &lim) || lim.rlim_cur == RLIM_INFINITY)
		return 65536;

	return (int)MIN(lim.rlim_cur, 1 << 20);
}


static void *sip_thread(void *arg)
{
	struct mqueue *mq = NULL;
	int err;
	(void)arg;

	err = libre_init();
	/* libre indexes its handlers by fd number, 1024 by default: a process
	 * with hundreds of calls has fds numbered well above that */
	if (!err)
		err = fd_setsize(open_files_limit());
	if (!err)
		err = mqueue_alloc(&mq, mqueue_handler, NULL);

	dbg_init(DBG_INFO, DBG_NONE);
	dbg_handler_set(dbg_handler, NULL);

	pthread_mutex_lock(&ua.mutex);
	ua.start_err = err;
	ua.mq = mq;
	pthread_cond_broadcast(&ua.cond);
	pthread_mutex_unlock(&ua.mutex);

	if (!err)
		(void)re_main(NULL);  /* NULL: no process-wide signal handlers */

	tmr_cancel(&ua.quit_tmr);
	rtmp_shutdown();
	list_flush(&ua.stacks);
	ua.dnsc = mem_deref(ua.dnsc);

	pthread_mutex_lock(&ua.mutex);
	ua.mq = NULL;
	pthread_mutex_unlock(&ua.mutex);

	mem_deref(mq);
	dbg_handler_set(NULL, NULL);
	libre_close();

	return NULL;
}


/**
 * Start the SIP thread on first use
 *
 * @return 0 if success, otherwise errorcode
 */
int sipua_init(void)
{
	int err = 0;

	pthread_mutex_lock(&ua.lifecycle);

	if (ua.refs++ > 0)
		goto out;

	pthread_mutex_lock(&ua.mutex);
	ua.mq = NULL;
	ua.start_err = -1;
	err = pthread_create(&ua.thread, NULL, sip_thread, NULL);
	if (!err) {
		ua.running = true;
		while (ua.start_err == -1)
			pthread_cond_wait(&ua.cond, &ua.mutex);
		err = ua.start_err;
	}
	pthread_mutex_unlock(&ua.mutex);

	if (err) {
		if (ua.running)
			pthread_join(ua.thread, NULL);
		ua.running = false;
		--ua.refs;
	}

 out:
	pthread_mutex_unlock(&ua.lifecycle);
	return err;
}


/** Stop the SIP thread when the last user is gone */
void sipua_close(void)
{
	pthread_mutex_lock(&ua.lifecycle);

	if (!ua.refs || --ua.refs > 0) {
		pthread_mutex_unlock(&ua.lifecycle);
		return;
	}

	pthread_mutex_lock(&ua.mutex);
	(void)mqueue_push(ua.mq, SIPUA_CMD_QUIT, NULL);
	pthread_mutex_unlock(&ua.mutex);

	/* a new sipua_init() waits for this thread to be gone */
	pthread_join(ua.thread, NULL);

	pthread_mutex_lock(&ua.mutex);
	ua.running = false;
	pthread_mutex_unlock(&ua.mutex);

	pthread_mutex_unlock(&ua.lifecycle);
}


static void copy_str(struct sipua_call *h, unsigned i, const char **dst)
{
	h->strv[i] = *dst ? strdup(*dst) : NULL;
	*dst = h->strv[i];
}


/* libre writes an outbound proxy as "Route: <uri;lr>" itself
 * (sip_dialog_alloc, for INVITE and REGISTER alike): an lr parameter the
 * URI has already would be written twice */
static void route_lr_strip(char *uri)
{
	char *p, *at;

	if (!uri)
		return;

	at = strchr(uri, '@');
	p = strchr(at ? at : uri, ';');
	while (p) {
		size_t n = strcspn(p + 1, ";?>");

		if ((n == 2 || (n > 2 && p[3] == '=')) &&
		    !strncasecmp(p + 1, "lr", 2))
			memmove(p, p + 1 + n, strlen(p + 1 + n) + 1);
		else
			p += 1 + n;

		if (*p != ';')
			p = NULL;
	}
}


static void handle_free(struct sipua_call *h)
{
	size_t i;

	for (i = 0; i < sizeof(h->strv) / sizeof(h->strv[0]); i++) {
		if (h->strv[i] && i == PASSWORD_STR)
			memset(h->strv[i], 0, strlen(h->strv[i]));
		free(h->strv[i]);
	}
	waiter_destroy(&h->stopped);
	free(h);
}


/** Hand work to the SIP thread */
int sipua_post(enum sipua_cmd cmd, void *data)
{
	int err;

	pthread_mutex_lock(&ua.mutex);
	err = ua.mq ? mqueue_push(ua.mq, (int)cmd, data) : ENODEV;
	pthread_mutex_unlock(&ua.mutex);

	return err;
}


void waiter_init(struct waiter *w)
{
	pthread_mutex_init(&w->mutex, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->done = false;
}


void waiter_destroy(struct waiter *w)
{
	pthread_mutex_destroy(&w->mutex);
	pthread_cond_destroy(&w->cond);
}


void waiter_signal(struct waiter *w)
{
	pthread_mutex_lock(&w->mutex);
	w->done = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mutex);
}


/** Hand work to the SIP thread and wait until it signals w */
void sipua_post_wait(enum sipua_cmd cmd, void *data, struct waiter *w)
{
	if (sipua_post(cmd, data))
		return;  /* no SIP thread: nothing to wait for */

	pthread_mutex_lock(&w->mutex);
	while (!w->done)
		pthread_cond_wait(&w->cond, &w->mutex);
	pthread_mutex_unlock(&w->mutex);
}


/**
 * Place a call. Every event of it is reported through eh, on the SIP thread
 *
 * @return 0 if the call was handed to the SIP thread, otherwise errorcode
 */
int sipua_call_start(struct sipua_call **callp,
		     const struct sipua_call_params *prm,
		     sipua_call_event_h *eh, void *arg)
{
	struct sipua_call *h;
	int err;

	if (!callp || !prm || !prm->request_uri || !prm->local_address)
		return EINVAL;

	h = calloc(1, sizeof(*h));
	if (!h)
		return ENOMEM;

	h->prm = *prm;
	copy_str(h, 0, &h->prm.request_uri);
	copy_str(h, 1, &h->prm.from_uri);
	copy_str(h, 2, &h->prm.display_name);
	copy_str(h, 3, &h->prm.auth_user);
	copy_str(h, PASSWORD_STR, &h->prm.password);  /* wiped when freed */
	copy_str(h, 5, &h->prm.route);
	route_lr_strip(h->strv[5]);
	copy_str(h, 6, &h->prm.user_agent);
	copy_str(h, 7, &h->prm.local_address);
	copy_str(h, 8, &h->prm.media[SIPUA_MEDIA_AUDIO].codecs);
	copy_str(h, 9, &h->prm.media[SIPUA_MEDIA_VIDEO].codecs);
	copy_str(h, 10, &h->prm.extra_headers);
	copy_str(h, 11, &h->prm.public_address);
	copy_str(h, 12, &h->prm.tls_server_name);
	copy_str(h, 13, &h->prm.tls_ca_file);
	copy_str(h, 14, &h->prm.tls_cert_file);
	copy_str(h, 15, &h->prm.tls_key_file);
	h->eh = eh;
	h->arg = arg;
	waiter_init(&h->stopped);

	err = sipua_post(SIPUA_CMD_CALL_START, h);

	if (err) {
		handle_free(h);
		return err;
	}

	*callp = h;
	return 0;
}


/**
 * Hang up (CANCEL before the answer, BYE after it) and free the call.
 * When this returns, the event handler is not called again.
 */
void sipua_call_stop(struct sipua_call *h)
{
	if (!h)
		return;

	if (sipua_on_sip_thread()) {
		call_end(h);
		handle_free(h);
		return;
	}

	sipua_post_wait(SIPUA_CMD_CALL_STOP, h, &h->stopped);
	handle_free(h);
}


/**
 * Send digits by SIP INFO (application/dtmf-relay), one after the other,
 * each reported by an event once sent: 0-9 * # A-D, w for a 0.5 s pause.
 * The call must be established; digits queue behind those not sent yet.
 *
 * @return 0 if handed to the SIP thread, EINVAL for a digit of no DTMF
 */
int sipua_call_send_dtmf(struct sipua_call *h, const char *digits)
{
	struct dtmf_job *job;
	int err;

	if (!h || !digits || !*digits ||
	    strlen(digits) >= sizeof(job->digits) ||
	    strspn(digits, "0123456789*#ABCDw") != strlen(digits))
		return EINVAL;

	job = calloc(1, sizeof(*job));
	if (!job)
		return ENOMEM;

	job->handle = h;
	str_ncpy(job->digits, digits, sizeof(job->digits));

	/* queued before any stop of this call: the handle outlives it */
	err = sipua_post(SIPUA_CMD_CALL_DTMF, job);
	if (err)
		free(job);

	return err;
}


/**
 * The local address the kernel would use to reach host (an IP literal or
 * a name, resolved here: call it from a thread that may block)
 */
int sipua_local_address_for(const char *host, char *buf, size_t size)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int fd = -1, err;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_DGRAM;

	err = getaddrinfo(host, "5060", &hints, &res);
	if (err)
		return ENOENT;

	fd = socket(res->ai_family, SOCK_DGRAM, 0);
	if (fd < 0) {
		err = errno;
		goto out;
	}

	/* connect() on UDP sends nothing: it only picks the route */
	if (connect(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
		err = errno;
		goto out;
	}

	if (!inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		       buf, (socklen_t)size))
		err = errno;

 out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return err;
}
