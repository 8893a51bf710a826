/**
 * @file stack.h  SIP stacks: a socket per transport, local address and
 * port (and TLS context), shared by the calls that ask the same. SIP
 * thread only.
 *
 * The stacks know no call: what they receive for the layer above (an
 * INVITE that opens a dialog, an in-dialog request the session code
 * leaves, a late TLS refusal) goes to the handlers that layer gives with
 * stack_get().
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef STACK_H
#define STACK_H

struct sip;
struct sip_lsnr;
struct sip_msg;
struct sipsess_sock;
struct tls_conf;
struct stack;

/** What makes a stack; calls that ask the same share it */
struct stack_prm {
	enum sip_transp tp;
	const char *laddr;          /**< IP literal */
	uint16_t port;              /**< 0: any */
	/* TLS only: the peer's certificate is checked against ca_file
	   (NULL: runtime_ca_file()) and server_name (also sent as SNI when
	   a name), unless no_verify; our certificate, or NULL */
	const char *tls_server_name;
	const char *tls_ca_file;
	const char *tls_cert_file;
	const char *tls_key_file;   /**< never logged */
	bool tls_no_verify;
	/* TLS: we are the server, callers connect to laddr:port; our
	   certificate (tls_cert_file, required) is all the context has:
	   callers are not asked for theirs (digest authenticates them) */
	bool tls_server;
};

/** An INVITE outside any dialog of ours (an incoming call): the handler
    answers it, on st (NULL handler: 603) */
typedef void (stack_invite_h)(struct stack *st, const struct sip_msg *msg);
/** A request in a dialog that the session code leaves: true if handled */
typedef bool (stack_request_h)(struct stack *st, const struct sip_msg *msg);
/** The TLS server refused us after the handshake: the calls waiting on
    st will get no answer (st->tls_error says why) */
typedef void (stack_failed_h)(struct stack *st);

/** The layer above a stack (the calls), set when the stack is made */
struct stack_handlers {
	stack_invite_h *inviteh;      /**< may be NULL */
	stack_request_h *requesth;
	/** a request in a dialog before the session code sees it (may be
	    NULL): true if handled */
	stack_request_h *dialogh;
	stack_failed_h *tls_failedh;
	re_printf_h *bodyh;   /**< prints a traced body (secrets masked) */
};

/** A SIP stack: the fields the calls use, read-only for them */
struct stack {
	struct le le;
	struct sip *sip;
	struct sip_lsnr *lsnr_before;  /**< ahead of the session code's */
	struct sipsess_sock *sock;
	struct sip_lsnr *lsnr_after;   /**< what sipsess leaves: UPDATE,
					    OPTIONS */
	struct tls *tls;
	struct tls_conf *tls_conf;     /**< what TLS checks (stack_tls.c) */
	char tls_error[192];  /**< why its last handshake failed, or "" */
	struct tmr tls_tmr;   /**< fails the calls a late refusal leaves */
	const struct stack_handlers *hv;
	enum sip_transp tp;
	char laddr[64];
	uint16_t port;        /**< the port asked for (0: any) */
};

int  stack_get(struct stack **stp, const struct stack_prm *prm,
	       const struct stack_handlers *hv, const char **why);

/* stack_tls.c */
int  stack_tls_alloc(struct stack *st, const struct stack_prm *prm,
		     const char **why);
bool stack_tls_match(const struct stack *st, const struct stack_prm *prm);
void stack_tls_close(struct stack *st);

#endif
