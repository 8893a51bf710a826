/**
 * @file stack.c  SIP stacks: sockets per transport and address, SIP thread
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <re.h>

#define DEBUG_MODULE "stack"
#define DEBUG_LEVEL 5
#include <re_dbg.h>
#include "runtime.h"
#include "stack.h"


static struct list stacks;
/* the layer above, the same for every stack; libre's trace handler is
   per SIP stack but not given the stack */
static const struct stack_handlers *handlers;


static void quit_handler(void)
{
	struct le *le;

	/* all held first: an exit handler may be called at once */
	for (le = stacks.head; le; le = le->next)
		runtime_hold();

	for (le = stacks.head; le; le = le->next) {
		struct stack *st = le->data;

		/* the exit handler is called once the stack is idle */
		sip_close(st->sip, false);
	}
}


static void close_handler(void)
{
	list_flush(&stacks);
}


static struct runtime_module module = {
	.name = "stack",
	.quith = quit_handler,
	.closeh = close_handler,
};


static void sip_trace_handler(bool tx, enum sip_transp tp,
			      const struct sa *src, const struct sa *dst,
			      const uint8_t *pkt, size_t len, void *arg)
{
	struct pl text;
	(void)arg;

	/* The digest response is a hash; SRTP keys are masked */
	text.p = (const char *)pkt;
	text.l = len;
	runtime_log(DBG_DEBUG + 1, "%s %s %J -> %J\n%H",
		    tx ? "send" : "recv", sip_transp_name(tp),
		    src, dst, handlers->bodyh, &text);
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


static void exit_handler(void *arg)
{
	(void)arg;

	runtime_release();
}


/* An incoming INVITE: the layer above decides (issue 14: the call waiting
 * for it, the stack's router, or 404); without a handler it is refused */
static void incoming_handler(const struct sip_msg *msg, void *arg)
{
	struct stack *st = arg;

	if (st->hv->inviteh) {
		st->hv->inviteh(st, msg);
		return;
	}

	(void)sip_treply(NULL, st->sip, msg, 603, "Decline");
}


/*
 * In-dialog requests, before the session code sees them: libre 1.1.0's
 * takes any body of a re-INVITE for an SDP offer, so one that is not SDP
 * gets 415 here (RFC 3261, 21.4.13) and the call goes on as it was; the
 * others go to the calls' dialog handler first.
 */
static bool early_request_handler(const struct sip_msg *msg, void *arg)
{
	struct stack *st = arg;

	if (!pl_isset(&msg->to.tag))
		return false;

	if (pl_strcmp(&msg->met, "INVITE") || !mbuf_get_left(msg->mb) ||
	    msg_ctype_cmp(&msg->ctyp, "application", "sdp"))
		return st->hv->dialogh && st->hv->dialogh(st, msg);

	runtime_log(4, "re-INVITE refused: its body is %r/%r, not SDP",
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

	return st->hv->requesth(st, msg);
}


/**
 * The SIP stack of a call: one per transport, local address and port,
 * and for TLS per server name, CA file and client certificate too (what
 * its context checks and shows: stack_tls.c). Calls sharing a stack
 * share its socket, and over TCP and TLS its connection to each peer.
 *
 * @return 0 if success, otherwise errorcode (*why, if set, says why)
 */
int stack_get(struct stack **stp, const struct stack_prm *prm,
	      const struct stack_handlers *hv, const char **why)
{
	struct stack *st;
	struct sa sa;
	struct le *le;
	int err;

	for (le = stacks.head; le; le = le->next) {
		st = le->data;
		if (st->tp == prm->tp && st->port == prm->port &&
		    !strcmp(st->laddr, prm->laddr) &&
		    (prm->tp != SIP_TRANSP_TLS || stack_tls_match(st, prm))) {
			*stp = st;
			return 0;
		}
	}

	err = sa_set_str(&sa, prm->laddr, prm->port);
	if (err)
		return err;

	st = mem_zalloc(sizeof(*st), stack_destructor);
	if (!st)
		return ENOMEM;

	st->hv = hv;
	handlers = hv;
	st->tp = prm->tp;
	st->port = prm->port;
	str_ncpy(st->laddr, prm->laddr, sizeof(st->laddr));

	/* a host name is resolved by libre (RFC 3263: NAPTR, SRV, A) */
	err = sip_alloc(&st->sip, runtime_dnsc(), 32, 32, 32, NULL,
			exit_handler, st);
	if (err)
		goto out;

	sip_set_trace_handler(st->sip, sip_trace_handler);

	if (prm->tp == SIP_TRANSP_TLS) {
		err = stack_tls_alloc(st, prm, why);
		if (err)
			goto out;
		err = sip_transp_add(st->sip, SIP_TRANSP_TLS, &sa, st->tls);
	}
	else {
		err = sip_transp_add(st->sip, prm->tp, &sa);
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

	runtime_register(&module);
	list_append(&stacks, &st->le, st);

 out:
	if (err)
		mem_deref(st);
	else
		*stp = st;

	return err;
}
