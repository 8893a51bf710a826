/**
 * @file sipua_timer.c  Session timers (RFC 4028) of one call, SIP thread
 *
 * Carriers end calls whose session is not refreshed: we offer the timer
 * in our INVITE, and once the 2xx says who refreshes, either refresh at
 * half the interval (the call's refresh handler sends the re-INVITE or
 * UPDATE) or expect the peer's refresh and end the call when none came
 * (RFC 4028 10: BYE before the session expires).
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "runtime.h"
#include "sipua.h"
#include "sipua_int.h"


enum {
	/* What we ask for; RFC 4028 recommends 1800 s */
	SESSION_EXPIRES_S = 1800,
	/* RFC 4028 4: no interval below 90 s, from us */
	MIN_SE_S = 90,
	/* a 422 is followed this many times */
	MAX_RETRIES = 2,
	/* the longest interval we take (a day): larger ones are capped */
	MAX_SE_S = 86400,
	/* the shortest interval we run (ours refresh at most every second):
	   a 2xx may set it */
	MIN_ANY_S = 2,
};


/** The shortest interval a caller may ask for: RFC 4028's 90 s (the
    test-hooks build may lower it: SIP2RTMP_TEST_MIN_SE, for tests that
    cannot wait minutes) */
uint32_t session_timer_min_se(void)
{
#ifdef SIP2RTMP_TEST_HOOKS
	const char *env = getenv("SIP2RTMP_TEST_MIN_SE");

	if (env && atoi(env) >= MIN_ANY_S)
		return (uint32_t)atoi(env);
#endif
	return MIN_SE_S;
}


static const struct sip_hdr *session_expires_hdr(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;

	hdr = sip_msg_hdr(msg, SIP_HDR_SESSION_EXPIRES);
	if (!hdr)
		hdr = sip_msg_xhdr(msg, "x");  /* its compact form */

	return hdr;
}


/* Seconds of a header's digits, a day at most (pl_u32 would wrap beyond
   9 digits) */
static uint32_t seconds(const struct pl *digits)
{
	return digits->l > 9 ? (uint32_t)MAX_SE_S :
		MIN(pl_u32(digits), (uint32_t)MAX_SE_S);
}


/* A message's Min-SE (RFC 4028 5), 0 without one: in a request, what our
   2xx says must not be shorter; in a 422, what to ask for again. Its
   digits, before any parameter ("Min-SE: 1800;x=y"); a day at most, as
   every interval we take */
static uint32_t min_se_of(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = sip_msg_hdr(msg, SIP_HDR_MIN_SE);
	struct pl secs;

	if (!hdr || re_regex(hdr->val.p, hdr->val.l, "[0-9]+", &secs))
		return 0;

	return seconds(&secs);
}


static bool has_update(const struct sip_hdr *hdr, const struct sip_msg *msg,
		       void *arg)
{
	struct pl m;
	(void)msg;
	(void)arg;

	return 0 == re_regex(hdr->val.p, hdr->val.l, "[^a-zA-Z]*UPDATE", &m)
		|| !pl_strcasecmp(&hdr->val, "UPDATE");
}


void session_timer_init(struct session_timer *st, session_timer_h *refreshh,
			session_timer_h *expiredh, void *arg)
{
	memset(st, 0, sizeof(*st));
	tmr_init(&st->tmr);
	st->asked_s = SESSION_EXPIRES_S;
	st->refreshh = refreshh;
	st->expiredh = expiredh;
	st->arg = arg;
}


void session_timer_stop(struct session_timer *st)
{
	tmr_cancel(&st->tmr);
}


/** The headers of our INVITE: we support the timer and ask for one */
int session_timer_print(struct re_printf *pf, const struct session_timer *st)
{
	return re_hprintf(pf,
			  "Supported: timer\r\n"
			  "Session-Expires: %u\r\n"
			  "Min-SE: %u\r\n",
			  st->asked_s, MIN(MIN_SE_S, st->asked_s));
}


static void timeout(void *arg)
{
	struct session_timer *st = arg;

	if (st->we_refresh) {
		tmr_start(&st->tmr, (uint64_t)st->interval_s * 1000 / 2,
			  timeout, st);
		st->refreshh(st->arg);
	}
	else {
		st->expiredh(st->arg);
	}
}


static void start(struct session_timer *st)
{
	uint64_t ms = (uint64_t)st->interval_s * 1000;

	/* the refresher at half the interval; the other side ends the
	   session before it expires: by min(32 s, a third) (RFC 4028 10) */
	if (st->we_refresh)
		ms /= 2;
	else
		ms -= 1000 * (uint64_t)MIN(32, st->interval_s / 3);

	tmr_start(&st->tmr, ms, timeout, st);
}


/**
 * Read the interval and the refresher from a message of the session: the
 * 2xx to our INVITE (we are its UAC), the peer's INVITE that we answer, or
 * a refresh request of the peer (the peer is their UAC). No Session-Expires in a 2xx: the peer has no
 * timer, nor do we. A refresh request without one keeps what we had (no
 * shorter than its Min-SE).
 */
void session_timer_update(struct session_timer *st,
			  const struct sip_msg *msg, bool peer_is_uac)
{
	const struct sip_hdr *hdr = session_expires_hdr(msg);
	/* what a request may ask for, before this one changes it */
	const uint32_t request_floor = session_timer_floor(st);
	struct pl secs, refresher;
	bool uac_refreshes = true;

	if (msg->req && peer_is_uac && st->interval_s) {
		/* a refresh: the time starts again, for no less than its
		   Min-SE (RFC 4028 9) */
		if (!hdr) {
			st->interval_s = MAX(st->interval_s,
					     min_se_of(msg));
			start(st);
			return;
		}
	}

	if (!hdr || re_regex(hdr->val.p, hdr->val.l, "[0-9]+", &secs)
	    || !seconds(&secs)) {
		if (!msg->req)
			tmr_cancel(&st->tmr);
		return;
	}

	if (!re_regex(hdr->val.p, hdr->val.l, "refresher=[a-z]+",
		      &refresher))
		uac_refreshes = !pl_strcasecmp(&refresher, "uac");
	else if (msg->req && peer_is_uac &&
		 !sip_msg_hdr_has_value(msg, SIP_HDR_SUPPORTED, "timer"))
		uac_refreshes = false;  /* RFC 4028 9: a UAC without the
					   timer cannot refresh: we do */

	/* a day at most; a request below our floor was refused (422,
	   session_timer_too_short) if its UAC can follow a 422 */
	st->interval_s = seconds(&secs);
	/* one whose UAC cannot (a proxy put the interval in for a UAC
	   without the timer, RFC 4028 8) is raised to the floor, as RFC
	   4028's erratum 1687 has it, rather than run as short as asked:
	   below 90 s no proxy may ask (RFC 4028 4), and a 2 s one would have
	   us refresh every second for the whole call */
	if (msg->req && peer_is_uac &&
	    !sip_msg_hdr_has_value(msg, SIP_HDR_SUPPORTED, "timer"))
		st->interval_s = MAX(st->interval_s, request_floor);
	st->interval_s = MAX(st->interval_s, (uint32_t)MIN_ANY_S);
	/* the UAC of the message that set the timer is us, or the peer */
	st->we_refresh = peer_is_uac ? !uac_refreshes : uac_refreshes;
	/* the 2xx to our INVITE, or the peer's INVITE to us, says what the
	   peer allows; the answers to our refreshes need not repeat it */
	if (sip_msg_hdr(msg, SIP_HDR_ALLOW))
		st->peer_allows_update = NULL !=
			sip_msg_hdr_apply(msg, true, SIP_HDR_ALLOW,
					  has_update, NULL);

	runtime_log(6, "session timer: %u s, %s refresh%s", st->interval_s,
		    st->we_refresh ? "we" : "the peer",
		    st->we_refresh ? (st->peer_allows_update ? " by UPDATE" :
				      " by re-INVITE") : "es");
	start(st);
}


/** A request with a Session-Expires: a session refresh (RFC 4028) */
bool session_timer_asked(const struct sip_msg *msg)
{
	return session_expires_hdr(msg) != NULL;
}


/**
 * The shortest interval a request of the session may ask for: our Min-SE,
 * or the interval in force when shorter (a callee's 2xx set it, and its
 * refreshes at that interval are not refused)
 */
uint32_t session_timer_floor(const struct session_timer *st)
{
	uint32_t min_se = session_timer_min_se();

	return st->interval_s ? MIN(min_se, st->interval_s) : min_se;
}


/**
 * A request (a caller's INVITE, a refresh) asking for an interval below
 * session_timer_floor(): to be answered 422 with it as Min-SE (RFC 4028
 * 9), and the session goes on as it was. Only a UAC that says it supports
 * the timer can follow a 422; an interval that a proxy put in for another
 * is taken as asked (9: a UAS never raises it), and we refresh.
 */
bool session_timer_too_short(const struct session_timer *st,
			     const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = session_expires_hdr(msg);
	struct pl secs;

	if (!hdr || re_regex(hdr->val.p, hdr->val.l, "[0-9]+", &secs) ||
	    !sip_msg_hdr_has_value(msg, SIP_HDR_SUPPORTED, "timer"))
		return false;

	return seconds(&secs) < session_timer_floor(st);
}


/**
 * A 422 Session Interval Too Small: ask again with its Min-SE
 *
 * @return true if the INVITE is to be sent again
 */
bool session_timer_too_small(struct session_timer *st,
			     const struct sip_msg *msg)
{
	uint32_t min_se;

	if (st->retries >= MAX_RETRIES)
		return false;

	/* 0 without one: no better interval to ask for */
	min_se = min_se_of(msg);
	if (min_se <= st->asked_s)
		return false;

	++st->retries;
	st->asked_s = min_se;
	return true;
}
