/**
 * @file sipua_incoming.c  Incoming calls: who takes an INVITE (issue 14)
 *
 * An INVITE that opens a dialog on one of our SIP stacks goes, in this
 * order, to
 *  1. the call that challenged it (same Call-ID, after our 401),
 *  2. a call waiting for its request-URI user (and caller, if it says so),
 *  3. the stack's router (an application that decides later): the INVITE
 *     is parked with 180 and its facts reported; a call takes it by its
 *     id, or the application rejects it; unclaimed after park_ms: 480,
 *  4. nobody: 404 (486 if the calls waiting for that user are all busy
 *     with a challenge).
 * A waiting call with credentials challenges with 401 (digest, MD5,
 * qop=auth); wrong credentials get 403 and the call waits on.
 *
 * Password guessing is bounded (issue 14's review): wrong credentials
 * are counted per source address and request-URI user (authguard.c, one
 * table for the process); after the call's max_failures within its
 * window, every INVITE of that pair gets 480 with Retry-After before
 * anything else here sees it (no challenge, no parking, no router) until
 * the lock-out ends. Per pair, not per address: a carrier's edge sends
 * every caller from one address, and one room's guesser must not lock
 * out the carrier. 480 rather than 503: a proxy takes 503 for the whole
 * gateway being down (RFC 3263 4.3: it tries, or marks down, another),
 * 480 is about this callee only, and Retry-After is allowed in both.
 *
 * Everything here runs on the SIP thread, except incoming_new(),
 * incoming_free() and the router's API, which post jobs to it
 * (runtime.h). The stacks (stack.c) hand us their INVITEs through the
 * calls' stack handlers (sipua_call.c); the session an INVITE becomes is
 * sipua_call.c's (its incoming block).
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <re.h>
#include "authguard.h"
#include "runtime.h"
#include "stack.h"
#include "sipua.h"
#include "sipua_int.h"


enum {
	FACT_MAX = 256,         /* a URI or header value we report */
	HEADERS_MAX = 16,       /* X- headers we report */
	NONCE_LEN = 32,
	GUARD_DEFAULT_MS = 60000,  /* window and first lock-out */
	GUARD_SWEEP_MS = 60000,
	GUARD_LOG_MS = 1000,       /* one line a second at most */
};


/** A call in answer mode; owned by its handle */
struct incoming {
	struct sipua_call *handle;
	char *user;
	char *caller;
	char *invite_id;
	char *realm;
	struct authguard_policy guard;

	/* SIP thread only */
	struct le le;           /* in inc.waiters while it waits */
	struct stack *stack;
	struct tmr tmr;         /* the retry after our 401 */
	char call_id[FACT_MAX]; /* after our 401: the INVITE we wait for */
	char nonce[NONCE_LEN + 1];
	bool begun;
};

/** Where INVITEs no call waits for go: an application that decides */
struct sipua_router {
	struct job job;         /* its start, then its stop */
	struct le le;
	struct stack *stack;
	sipua_invite_h *ih;
	sipua_invite_gone_h *gh;
	void *arg;
	uint32_t park_ms;       /* atomic: sipua_router_set_park_ms() */
	/* the start's arguments and result */
	char laddr[64];
	uint16_t port;
	enum sipua_transport tp;
	char *tls_cert_file;
	char *tls_key_file;
	int err;
	const char *why;
	struct waiter done;
};

/** An INVITE accepted with 180, waiting for a call or a rejection */
struct parked {
	struct le le;
	struct sipua_router *router;
	struct stack *stack;
	struct call *call;
	const struct sip_msg *msg;
	struct tmr tmr;
	char id[48];
};

struct reject_job {
	struct job job;
	char id[48];
	uint16_t scode;
};

static struct {
	struct list waiters;
	struct list routers;
	struct list parked;
	uint32_t next_id;
	/* wrong credentials per source address and user, and their log */
	struct authguard *guard;
	struct tmr guard_tmr;       /* sweeps it while it has entries */
	uint64_t guard_log_at;
	unsigned guard_log_held;    /* lines not logged since */
} inc;


/* The process's counts, for siplistener's stats: written on the SIP
   thread, read on any (sipua_auth_guard_stats), hence atomic */
static uint64_t wrong_credentials;   /* answered 403 */
static uint64_t locked_out;          /* answered 480 by the guard */


static void module_close(void)
{
	tmr_cancel(&inc.guard_tmr);
	authguard_free(inc.guard);
	inc.guard = NULL;
}


static struct runtime_module module = {
	.name = "incoming",
	.closeh = module_close,
};


static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}


/** Any thread: the answer parameters, copied for the handle */
int incoming_new(struct incoming **inp, struct sipua_call *handle,
		 const struct sipua_answer_params *ap)
{
	struct incoming *in;

	if (!ap || (!ap->user && !ap->invite_id))
		return EINVAL;

	in = calloc(1, sizeof(*in));
	if (!in)
		return ENOMEM;

	in->handle = handle;
	in->user = dup_or_null(ap->user);
	in->caller = dup_or_null(ap->caller);
	in->invite_id = dup_or_null(ap->invite_id);
	in->realm = strdup(ap->realm ? ap->realm : "sip2rtmp");
	in->guard.max_failures = ap->max_failures;
	in->guard.window_ms = ap->failure_window_ms ?
		ap->failure_window_ms : GUARD_DEFAULT_MS;
	in->guard.lockout_ms = ap->lockout_ms ?
		ap->lockout_ms : GUARD_DEFAULT_MS;
	if ((ap->user && !in->user) || (ap->caller && !in->caller) ||
	    (ap->invite_id && !in->invite_id) || !in->realm) {
		incoming_free(in);
		return ENOMEM;
	}

	handle->prm.answer = NULL;  /* the caller's: not kept */
	*inp = in;
	return 0;
}


/** Any thread, once the SIP thread is done with it (incoming_end) */
void incoming_free(struct incoming *in)
{
	if (!in)
		return;

	free(in->user);
	free(in->caller);
	free(in->invite_id);
	free(in->realm);
	free(in);
}


static const char *reason_phrase(uint16_t scode)
{
	switch (scode) {

	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 422: return "Session Interval Too Small";
	case 480: return "Temporarily Unavailable";
	case 486: return "Busy Here";
	case 488: return "Not Acceptable Here";
	case 503: return "Service Unavailable";
	case 603: return "Decline";
	default:  return "Rejected";
	}
}


/* A fact of the INVITE as we report it: printable ASCII, one line, short;
 * false (and "") for anything else */
static bool fact_copy(char *buf, size_t size, const struct pl *pl)
{
	size_t i;

	buf[0] = '\0';
	if (!pl || !pl->p)
		return true;
	if (pl->l >= size)
		return false;

	for (i = 0; i < pl->l; i++) {
		if (pl->p[i] < 0x20 || pl->p[i] > 0x7e)
			return false;
	}

	memcpy(buf, pl->p, pl->l);
	buf[pl->l] = '\0';
	return true;
}


/* The guard's key of msg: its source (an IPv6 one by its /64) and
   request-URI user ("" if that is no printable fact: such a user is
   nobody's) */
static void guard_key(char *addr, size_t asize, char *user, size_t usize,
		      const struct sip_msg *msg)
{
	const struct sa *src = &msg->src;
	const void *ip = sa_af(src) == AF_INET6 ?
		(const void *)&src->u.in6.sin6_addr :
		(const void *)&src->u.in.sin_addr;

	if (authguard_source(addr, asize, sa_af(src), ip))
		re_snprintf(addr, asize, "%j", src);
	if (!fact_copy(user, usize, &msg->uri.user))
		user[0] = '\0';
}


/* A guesser must not flood the log either: a line a second at most, the
   next one says how many were held back. Names the source, and the user
   by a hash of it (a route may make a stream key of the request-URI
   user: the plugin cannot tell), never what they sent */
static void guard_log(const char *fmt, ...)
{
	uint64_t now = tmr_jiffies();
	char line[512];
	va_list ap;

	if (inc.guard_log_at && now - inc.guard_log_at < GUARD_LOG_MS) {
		++inc.guard_log_held;
		return;
	}

	va_start(ap, fmt);
	(void)re_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (inc.guard_log_held)
		runtime_log(4, "%s (and %u such lines not logged since the "
			    "last)", line, inc.guard_log_held);
	else
		runtime_log(4, "%s", line);
	inc.guard_log_at = now;
	inc.guard_log_held = 0;
}


static void guard_sweep(void *arg)
{
	(void)arg;

	if (authguard_sweep(inc.guard, tmr_jiffies()))
		tmr_start(&inc.guard_tmr, GUARD_SWEEP_MS, guard_sweep, NULL);
}


/* Whether msg's key is locked out; if so it is answered here: 480 with
   the seconds left in Retry-After */
static bool guard_refuse(struct stack *st, const struct sip_msg *msg)
{
	char addr[64], user[FACT_MAX];
	uint32_t left, secs;

	if (!inc.guard)
		return false;

	guard_key(addr, sizeof(addr), user, sizeof(user), msg);
	left = authguard_locked(inc.guard, addr, user, tmr_jiffies());
	if (!left)
		return false;

	secs = (left + 999) / 1000;
	__atomic_fetch_add(&locked_out, 1, __ATOMIC_RELAXED);
	(void)sip_treplyf(NULL, NULL, st->sip, msg, false, 480,
			  "Temporarily Unavailable",
			  "Retry-After: %u\r\nContent-Length: 0\r\n\r\n",
			  secs);
	guard_log("incoming call from %s to user #%08x refused: locked out "
		  "after wrong credentials (480, %u s left)", addr,
		  hash_joaat_str(user), secs);
	return true;
}


/* Wrong credentials from msg's key, counted under the policy of the call
   that checked them */
static void guard_failure(const struct incoming *in,
			  const struct sip_msg *msg)
{
	char addr[64], user[FACT_MAX];
	uint32_t lockout;

	__atomic_fetch_add(&wrong_credentials, 1, __ATOMIC_RELAXED);
	if (!in->guard.max_failures)
		return;

	if (!inc.guard) {
		if (authguard_alloc(&inc.guard, 0))
			return;
		runtime_register(&module);
	}

	guard_key(addr, sizeof(addr), user, sizeof(user), msg);
	lockout = authguard_failure(inc.guard, addr, user, &in->guard,
				    tmr_jiffies());
	if (lockout)
		guard_log("incoming calls from %s to user #%08x locked out "
			  "for %u s after %u wrong credentials", addr,
			  hash_joaat_str(user), (lockout + 999) / 1000,
			  in->guard.max_failures);

	if (!tmr_isrunning(&inc.guard_tmr))
		tmr_start(&inc.guard_tmr, GUARD_SWEEP_MS, guard_sweep, NULL);
}


/** Any thread: the process's wrong credentials (403) and the INVITEs
    refused while their source was locked out for their user (480) */
void sipua_auth_guard_stats(uint64_t *wrong, uint64_t *refused)
{
	*wrong = __atomic_load_n(&wrong_credentials, __ATOMIC_RELAXED);
	*refused = __atomic_load_n(&locked_out, __ATOMIC_RELAXED);
}


/* The right credentials: that key's failures are forgiven */
static void guard_success(const struct sip_msg *msg)
{
	char addr[64], user[FACT_MAX];

	if (!inc.guard)
		return;

	guard_key(addr, sizeof(addr), user, sizeof(user), msg);
	authguard_success(inc.guard, addr, user);
}


static bool header_name_ok(const struct pl *name)
{
	size_t i;

	if (name->l < 3 || name->l > 64 || (name->p[0] | 0x20) != 'x' ||
	    name->p[1] != '-')
		return false;

	for (i = 0; i < name->l; i++) {
		char c = name->p[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '-' && c != '_' &&
		    c != '.')
			return false;
	}

	return true;
}


/**
 * The X- headers of msg that we pass on (X-Twilio-CallSid, a stream key,
 * a room): a name of letters, digits, - _ . and a printable ASCII value
 * under 256 bytes, at most 16; the rest are dropped. "Name: value\r\n"
 * each, or NULL if none.
 */
int incoming_x_headers(char **strp, const struct sip_msg *msg)
{
	char val[FACT_MAX];
	struct mbuf *mb;
	struct le *le;
	unsigned n = 0;
	int err = 0;

	*strp = NULL;
	mb = mbuf_alloc(128);
	if (!mb)
		return ENOMEM;

	for (le = msg->hdrl.head; le && n < HEADERS_MAX; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (!header_name_ok(&hdr->name) ||
		    !fact_copy(val, sizeof(val), &hdr->val))
			continue;
		err = mbuf_printf(mb, "%r: %s\r\n", &hdr->name, val);
		if (err)
			goto out;
		++n;
	}

	if (mb->end) {
		mbuf_set_pos(mb, 0);
		err = mbuf_strdup(mb, strp, mb->end);
	}

 out:
	mem_deref(mb);
	return err;
}


/* The caller as a waiting call names it: a user, or user@host */
static bool caller_matches(const struct incoming *in,
			   const struct sip_msg *msg)
{
	const struct uri *from = &msg->from.uri;
	const char *at;

	if (!in->caller)
		return true;

	at = strchr(in->caller, '@');
	if (!at)
		return !pl_strcmp(&from->user, in->caller);

	return from->user.l == (size_t)(at - in->caller) &&
		!strncmp(from->user.p, in->caller, from->user.l) &&
		!pl_strcasecmp(&from->host, at + 1);
}


/* The call for this INVITE, and whether calls wait for its user but are
 * all busy with a challenge */
static struct incoming *waiter_find(const struct stack *st,
				    const struct sip_msg *msg, bool *busy)
{
	struct le *le;

	*busy = false;

	for (le = inc.waiters.head; le; le = le->next) {
		struct incoming *in = le->data;

		if (in->stack == st && in->call_id[0] &&
		    !pl_strcmp(&msg->callid, in->call_id))
			return in;
	}

	for (le = inc.waiters.head; le; le = le->next) {
		struct incoming *in = le->data;

		if (in->stack != st || in->invite_id || !in->user ||
		    pl_strcmp(&msg->uri.user, in->user))
			continue;
		if (!caller_matches(in, msg))
			continue;
		if (in->call_id[0]) {
			*busy = true;
			continue;
		}
		return in;
	}

	return NULL;
}


/* libre's httpauth_digest_response_auth() (RFC 2617 3.2.2.1), its
 * comparison in constant time: 0 if resp's response is right for ha1 */
static int digest_auth(const struct httpauth_digest_resp *resp,
		       const struct pl *method, const uint8_t *ha1)
{
	uint8_t ha2[16], digest[16], response[16];
	const char *p = resp->response.p;
	size_t i;
	int err;

	if (resp->response.l != 2 * sizeof(response))
		return EACCES;

	for (i = 0; i < 2 * sizeof(response); i++) {
		char c = p[i] | 0x20;

		if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f'))
			return EACCES;
	}

	err = md5_printf(ha2, "%r:%r", method, &resp->uri);
	if (err)
		return err;

	if (pl_isset(&resp->qop))
		err = md5_printf(digest, "%w:%r:%r:%r:%r:%w",
				 ha1, (size_t)16, &resp->nonce, &resp->nc,
				 &resp->cnonce, &resp->qop, ha2, sizeof(ha2));
	else
		err = md5_printf(digest, "%w:%r:%w", ha1, (size_t)16,
				 &resp->nonce, ha2, sizeof(ha2));
	if (err)
		return err;

	for (i = 0; i < sizeof(response); i++)
		response[i] = (uint8_t)(ch_hex(p[2 * i]) << 4 |
					ch_hex(p[2 * i + 1]));

	err = CRYPTO_memcmp(digest, response, sizeof(digest)) ? EACCES : 0;
	memset(digest, 0, sizeof(digest));
	return err;
}


/*
 * The caller's digest credentials against the call's: 0 if right,
 * ENOENT if it has none for our latest nonce (challenge it), EACCES if
 * wrong. A nonce is good for one INVITE, the challenged Call-ID's: used
 * (right or wrong) it is gone, so an Authorization cannot be replayed
 * (nc and cnonce are not tracked). The password is only ever hashed
 * here.
 */
static int auth_check(const struct incoming *in, const struct sip_msg *msg)
{
	const struct sipua_call_params *prm = &in->handle->prm;
	const struct sip_hdr *hdr;
	struct httpauth_digest_resp resp;
	uint8_t ha1[16];
	int err;

	hdr = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION);
	if (!hdr || !in->nonce[0] || !in->call_id[0] ||
	    pl_strcmp(&msg->callid, in->call_id))
		return ENOENT;

	if (httpauth_digest_response_decode(&resp, &hdr->val))
		return EACCES;

	if (pl_strcmp(&resp.nonce, in->nonce))
		return ENOENT;   /* an old nonce: a new challenge */

	if (pl_strcmp(&resp.username, prm->auth_user) ||
	    pl_strcmp(&resp.realm, in->realm))
		return EACCES;

	err = md5_printf(ha1, "%s:%s:%s", prm->auth_user, in->realm,
			 prm->password);
	if (!err)
		err = digest_auth(&resp, &msg->met, ha1);
	memset(ha1, 0, sizeof(ha1));

	return err ? EACCES : 0;
}


/* No INVITE with credentials after our 401: a call that took a parked
 * INVITE fails; one waiting for its user forgets the challenge and takes
 * other callers again (a caller that never retries cannot block it) */
static void retry_timeout(void *arg)
{
	struct incoming *in = arg;
	struct sipua_call *h = in->handle;

	runtime_log(5, "incoming call: no INVITE with credentials after our "
		    "challenge");
	in->call_id[0] = '\0';
	in->nonce[0] = '\0';
	if (!in->invite_id)
		return;

	list_unlink(&in->le);
	call_incoming_fail(h, 408, "the caller did not answer our challenge");
}


/* The challenge: 401 with a new nonce; the call waits for this Call-ID */
static void challenge(struct incoming *in, const struct sip_msg *msg,
		      struct call *parked)
{
	char hdr[256];

	rand_str(in->nonce, sizeof(in->nonce));
	(void)fact_copy(in->call_id, sizeof(in->call_id), &msg->callid);

	re_snprintf(hdr, sizeof(hdr),
		    "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", "
		    "qop=\"auth\", algorithm=MD5\r\n", in->realm, in->nonce);

	if (parked)
		call_incoming_reject(parked, 401, "Unauthorized", hdr);
	else
		(void)sip_treplyf(NULL, NULL, in->stack->sip, msg, false, 401,
				  "Unauthorized", "%sContent-Length: 0\r\n\r\n",
				  hdr);

	if (!in->le.list)
		list_append(&inc.waiters, &in->le, in);
	if (!tmr_isrunning(&in->tmr))
		tmr_start(&in->tmr, in->handle->prm.answer_timeout_ms ?
			  in->handle->prm.answer_timeout_ms : 32000,
			  retry_timeout, in);
}


/*
 * The waiting call in takes msg (parked: already accepted with 180 as
 * that call): challenged, refused or answered.
 */
static void take(struct incoming *in, const struct sip_msg *msg,
		 struct call *call)
{
	struct sipua_call *h = in->handle;
	const char *why = NULL;
	uint16_t scode = 500;
	char hdr[64];
	int err;

	if (h->prm.auth_user && h->prm.password) {
		err = auth_check(in, msg);
		if (!err) {
			in->nonce[0] = '\0';   /* single use */
			guard_success(msg);
		}
		if (err == ENOENT) {
			challenge(in, msg, call);
			mem_deref(call);
			return;
		}
		if (err) {
			runtime_log(5, "incoming call: wrong credentials: 403");
			guard_failure(in, msg);
			if (call) {
				call_incoming_reject(call, 403, "Forbidden",
						     NULL);
				mem_deref(call);
			}
			else {
				(void)sip_treply(NULL, in->stack->sip, msg,
						 403, "Forbidden");
			}
			in->call_id[0] = '\0';
			in->nonce[0] = '\0';
			tmr_cancel(&in->tmr);
			if (in->invite_id) {
				list_unlink(&in->le);
				call_incoming_fail(h, 403, "wrong credentials");
			}
			return;
		}
	}

	list_unlink(&in->le);
	tmr_cancel(&in->tmr);

	if (!call) {
		err = call_incoming_accept(&call, in->stack, msg);
		if (err) {
			(void)sip_treply(NULL, in->stack->sip, msg, 500,
					 "Server Internal Error");
			call_incoming_fail(h, 500, "could not accept the call");
			return;
		}
	}

	err = call_incoming_answer(call, h, msg, &scode, &why);
	if (!err)
		return;   /* the handle's call now */

	runtime_log(5, "incoming call refused: %u %s", scode, why);
	if (scode == 422)
		re_snprintf(hdr, sizeof(hdr), "Min-SE: %u\r\n",
			    session_timer_min_se());
	else
		str_ncpy(hdr, "Accept: application/sdp\r\n", sizeof(hdr));
	call_incoming_reject(call, scode, why, hdr);
	h->call = NULL;
	mem_deref(call);

	/* a call waiting for its user waits on; one that took a parked
	   INVITE ends with it */
	in->call_id[0] = '\0';
	if (in->invite_id)
		call_incoming_fail(h, scode, why);
	else
		list_append(&inc.waiters, &in->le, in);
}


static void parked_free(struct parked *p)
{
	list_unlink(&p->le);
	tmr_cancel(&p->tmr);
	p->msg = mem_deref((void *)p->msg);
	mem_deref(p->call);
	free(p);
}


static struct parked *parked_find_id(const char *id)
{
	struct le *le;

	for (le = inc.parked.head; le; le = le->next) {
		struct parked *p = le->data;

		if (!strcmp(p->id, id))
			return p;
	}

	return NULL;
}


/* The router's application learns that p is gone, then p is freed */
static void parked_gone(struct parked *p, enum sipua_invite_gone why,
			uint16_t scode)
{
	struct sipua_router *r = p->router;
	char id[sizeof(p->id)];

	str_ncpy(id, p->id, sizeof(id));
	parked_free(p);
	r->gh(id, why, scode, r->arg);
}


/** A parked call's session is over (err ECONNRESET: the caller's CANCEL,
    answered 487 by libre; otherwise its transaction failed) */
void incoming_call_closed(struct call *call, int err)
{
	struct le *le;

	for (le = inc.parked.head; le; le = le->next) {
		struct parked *p = le->data;

		if (p->call != call)
			continue;

		if (err == ECONNRESET) {
			runtime_log(6, "incoming call %s: cancelled while "
				    "parked", p->id);
			parked_gone(p, SIPUA_INVITE_CANCELLED, 487);
		}
		else {
			runtime_log(5, "incoming call %s: closed while parked"
				    " (%m)", p->id, err);
			parked_gone(p, SIPUA_INVITE_CLOSED, 0);
		}
		return;
	}
}


static void park_timeout(void *arg)
{
	struct parked *p = arg;

	runtime_log(5, "incoming call %s: not taken in time: 480", p->id);
	call_incoming_reject(p->call, 480, "Temporarily Unavailable", NULL);
	parked_gone(p, SIPUA_INVITE_TIMEOUT, 480);
}


/* Park msg with 180 and tell the router; 400 if its facts are not fit
 * to pass on */
static void park(struct sipua_router *r, struct stack *st,
		 const struct sip_msg *msg)
{
	char ruri[FACT_MAX], ruser[FACT_MAX], from[FACT_MAX], fuser[FACT_MAX];
	char to[FACT_MAX], tuser[FACT_MAX], callid[FACT_MAX];
	char source[80], source_ip[64];
	struct sipua_invite_info inv;
	struct parked *p;
	char *headers = NULL;
	int err;

	if (!fact_copy(ruri, sizeof(ruri), &msg->ruri) ||
	    !fact_copy(ruser, sizeof(ruser), &msg->uri.user) ||
	    !fact_copy(from, sizeof(from), &msg->from.auri) ||
	    !fact_copy(fuser, sizeof(fuser), &msg->from.uri.user) ||
	    !fact_copy(to, sizeof(to), &msg->to.auri) ||
	    !fact_copy(tuser, sizeof(tuser), &msg->to.uri.user) ||
	    !fact_copy(callid, sizeof(callid), &msg->callid)) {
		(void)sip_treply(NULL, st->sip, msg, 400, "Bad Request");
		return;
	}
	re_snprintf(source, sizeof(source), "%J", &msg->src);
	re_snprintf(source_ip, sizeof(source_ip), "%j", &msg->src);

	p = calloc(1, sizeof(*p));
	if (!p) {
		(void)sip_treply(NULL, st->sip, msg, 503,
				 "Service Unavailable");
		return;
	}

	err = call_incoming_accept(&p->call, st, msg);
	if (!err)
		err = incoming_x_headers(&headers, msg);
	if (err) {
		if (p->call)
			call_incoming_reject(p->call, 503,
					     "Service Unavailable", NULL);
		else
			(void)sip_treply(NULL, st->sip, msg, 503,
					 "Service Unavailable");
		mem_deref(p->call);
		free(p);
		return;
	}

	p->router = r;
	p->stack = st;
	p->msg = mem_ref((void *)msg);
	re_snprintf(p->id, sizeof(p->id), "inv-%u-%08x", ++inc.next_id,
		    rand_u32());
	tmr_init(&p->tmr);
	tmr_start(&p->tmr, __atomic_load_n(&r->park_ms, __ATOMIC_RELAXED),
		  park_timeout, p);
	list_append(&inc.parked, &p->le, p);

	memset(&inv, 0, sizeof(inv));
	inv.invite_id = p->id;
	inv.call_id = callid;
	inv.request_uri = ruri;
	inv.request_user = ruser;
	inv.from_uri = from;
	inv.from_user = fuser;
	inv.to_uri = to;
	inv.to_user = tuser;
	inv.source = source;
	inv.source_ip = source_ip;
	inv.headers = headers;
	inv.has_credentials = sip_msg_hdr(msg, SIP_HDR_AUTHORIZATION) != NULL;

	r->ih(&inv, r->arg);
	mem_deref(headers);
}


static struct sipua_router *router_find(const struct stack *st)
{
	struct le *le;

	for (le = inc.routers.head; le; le = le->next) {
		struct sipua_router *r = le->data;

		if (r->stack == st)
			return r;
	}

	return NULL;
}


/** An INVITE outside any dialog of ours, on stack st; its Call-ID goes
    to logs and events (and is kept by a challenge): 400 if it is not
    printable ASCII under FACT_MAX bytes */
void incoming_dispatch(struct stack *st, const struct sip_msg *msg)
{
	char callid[FACT_MAX];
	struct sipua_router *r;
	struct incoming *in;
	bool busy;

	if (!fact_copy(callid, sizeof(callid), &msg->callid)) {
		(void)sip_treply(NULL, st->sip, msg, 400, "Bad Request");
		return;
	}

	if (guard_refuse(st, msg))
		return;

	in = waiter_find(st, msg, &busy);
	if (in) {
		take(in, msg, NULL);
		return;
	}

	if (busy) {
		(void)sip_treply(NULL, st->sip, msg, 486, "Busy Here");
		return;
	}

	r = router_find(st);
	if (r) {
		park(r, st, msg);
		return;
	}

	(void)sip_treply(NULL, st->sip, msg, 404, "Not Found");
}


/** The handle starts waiting (or takes its parked INVITE) */
void incoming_begin(struct sipua_call *handle)
{
	struct incoming *in = handle->in;
	struct sipua_call_event ev;
	const char *why = NULL;
	struct parked *p;
	int err;

	tmr_init(&in->tmr);
	in->begun = true;

	if (in->invite_id) {
		struct call *call;
		const struct sip_msg *msg;

		p = parked_find_id(in->invite_id);
		if (!p) {
			call_incoming_fail(handle, 481, "the INVITE is no "
					   "longer waiting (cancelled or "
					   "timed out)");
			return;
		}
		in->stack = p->stack;
		call = p->call;
		msg = mem_ref((void *)p->msg);
		p->call = NULL;
		parked_free(p);
		take(in, msg, call);
		mem_deref((void *)msg);
		return;
	}

	err = call_stack_get(&in->stack, &handle->prm, true, &why);
	if (err) {
		char reason[160];

		re_snprintf(reason, sizeof(reason), "could not listen: %s",
			    why ? why : "");
		if (!why)
			re_snprintf(reason, sizeof(reason),
				    "could not listen on %s:%u: %m",
				    handle->prm.local_address,
				    handle->prm.sip_port, err);
		call_incoming_fail(handle, 0, reason);
		return;
	}

	list_append(&inc.waiters, &in->le, in);

	memset(&ev, 0, sizeof(ev));
	ev.state = SIPUA_CALL_WAITING;
	ev.reason = "waiting for a call";
	ev.call_id = "";
	handle->eh(&ev, handle->arg);
}


/** The handle stops: it waits no more (its call, if any: call_end) */
void incoming_end(struct sipua_call *handle)
{
	struct incoming *in = handle->in;

	if (!in || !in->begun)
		return;

	list_unlink(&in->le);
	tmr_cancel(&in->tmr);
}


/* The router's API: jobs on the SIP thread */

static void router_free(struct sipua_router *r)
{
	waiter_destroy(&r->done);
	free(r->tls_cert_file);
	free(r->tls_key_file);
	free(r);
}


static void router_start_handler(void *arg)
{
	struct sipua_router *r = arg;
	struct sipua_call_params prm;
	const char *why = NULL;

	memset(&prm, 0, sizeof(prm));
	prm.local_address = r->laddr;
	prm.sip_port = r->port;
	prm.transport = r->tp;
	prm.tls_cert_file = r->tls_cert_file;
	prm.tls_key_file = r->tls_key_file;

	r->err = call_stack_get(&r->stack, &prm, true, &why);
	r->why = why;
	if (!r->err && router_find(r->stack))
		r->err = EADDRINUSE;
	if (!r->err)
		list_append(&inc.routers, &r->le, r);

	waiter_signal(&r->done);
}


static void router_stop_handler(void *arg)
{
	struct sipua_router *r = arg;
	struct le *le = inc.parked.head;

	list_unlink(&r->le);

	while (le) {
		struct parked *p = le->data;

		le = le->next;
		if (p->router != r)
			continue;
		call_incoming_reject(p->call, 503, "Service Unavailable",
				     NULL);
		parked_free(p);
	}

	waiter_signal(&r->done);
}


/**
 * Route the INVITEs that no call waits for on (laddr, port, tp): each is
 * parked (180) and reported to ih on the SIP thread, to be taken by a
 * call (sipua_answer_params.invite_id) or rejected within park_ms (then:
 * 480). One that goes away meanwhile (CANCEL, park_ms, a failed
 * transaction) is reported to gh, on the SIP thread; not one rejected
 * through sipua_router_reject() nor those refused by sipua_router_stop().
 * One router per SIP stack. Over TLS the stack is the server of its
 * connections, with prm's certificate.
 *
 * @return 0 if success, otherwise errorcode (EADDRINUSE: a router
 *         listens there already; EINVAL: *why, if set, says what is
 *         wrong with the certificate or key)
 */
int sipua_router_start(struct sipua_router **rp,
		       const struct sipua_router_params *prm,
		       sipua_invite_h *ih, sipua_invite_gone_h *gh,
		       void *arg, const char **why)
{
	struct sipua_router *r;
	int err;

	if (!rp || !prm || !prm->laddr || !ih || !gh)
		return EINVAL;

	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;

	job_init(&r->job, router_start_handler, r);
	r->ih = ih;
	r->gh = gh;
	r->arg = arg;
	r->park_ms = prm->park_ms ? prm->park_ms : 10000;
	str_ncpy(r->laddr, prm->laddr, sizeof(r->laddr));
	r->port = prm->port;
	r->tp = prm->tp;
	r->tls_cert_file = dup_or_null(prm->tls_cert_file);
	r->tls_key_file = dup_or_null(prm->tls_key_file);
	r->err = ENODEV;
	waiter_init(&r->done);

	if ((prm->tls_cert_file && !r->tls_cert_file) ||
	    (prm->tls_key_file && !r->tls_key_file))
		r->err = ENOMEM;
	else
		runtime_post_wait(&r->job, &r->done);
	err = r->err;
	if (why)
		*why = r->why;
	if (err) {
		router_free(r);
		return err;
	}

	*rp = r;
	return 0;
}


/** Stop routing: the INVITEs still parked get 503. Not on the SIP thread */
void sipua_router_stop(struct sipua_router *r)
{
	if (!r)
		return;

	job_init(&r->job, router_stop_handler, r);
	waiter_destroy(&r->done);
	waiter_init(&r->done);
	runtime_post_wait(&r->job, &r->done);
	router_free(r);
}


/**
 * Any thread, while the router runs: the INVITEs parked from now on wait
 * park_ms (0: 10 s) to be taken or rejected; those parked already keep
 * their time
 */
void sipua_router_set_park_ms(struct sipua_router *r, uint32_t park_ms)
{
	if (r)
		__atomic_store_n(&r->park_ms, park_ms ? park_ms : 10000,
				 __ATOMIC_RELAXED);
}


static void reject_handler(void *arg)
{
	struct reject_job *rj = arg;
	struct parked *p = parked_find_id(rj->id);

	if (p) {
		runtime_log(6, "incoming call %s: rejected with %u", p->id,
			    rj->scode);
		call_incoming_reject(p->call, rj->scode,
				     reason_phrase(rj->scode), NULL);
		parked_free(p);
	}

	free(rj);
}


/**
 * Reject a parked INVITE (300-699). An id that is no longer parked
 * (cancelled, timed out, taken) is ignored.
 *
 * @return 0 if handed to the SIP thread, EINVAL for a bad status or id
 */
int sipua_router_reject(const char *invite_id, uint16_t scode)
{
	struct reject_job *rj;
	int err;

	if (!invite_id || strlen(invite_id) >= sizeof(rj->id) ||
	    scode < 300 || scode > 699)
		return EINVAL;

	rj = calloc(1, sizeof(*rj));
	if (!rj)
		return ENOMEM;

	job_init(&rj->job, reject_handler, rj);
	str_ncpy(rj->id, invite_id, sizeof(rj->id));
	rj->scode = scode;

	err = runtime_post(&rj->job);
	if (err)
		free(rj);

	return err;
}

