/**
 * @file authguard.h  A bounded table of wrong-credential failures
 *
 * Counts the wrong digest credentials of incoming calls per key (the
 * caller's source, authguard_source(), and the request-URI user,
 * sipua_incoming.c)
 * and locks a key out after too many within a window: fail2ban's idea,
 * bounded so that many sources cannot grow it. Plain C, no libre type,
 * no clock and no lock: the caller passes the time, and keeps one table
 * on one thread (the SIP thread), so tests/unit/test-authguard.c runs it
 * as it is.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef AUTHGUARD_H
#define AUTHGUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	AUTHGUARD_ENTRIES_MAX = 4096,  /* the process's table */
	AUTHGUARD_KEY_MAX = 320,       /* address + user, longer is cut */
};

/** Lock-outs double while a key repeats them, up to this (or to the
    first lock-out if that is longer) */
#define AUTHGUARD_LOCKOUT_CAP_MS (3600u * 1000u)

/** The policy of the call that checked the credentials */
struct authguard_policy {
	unsigned max_failures;   /**< failures that lock out; 0: no limit */
	uint32_t window_ms;      /**< they count within this window */
	uint32_t lockout_ms;     /**< the first lock-out's length */
};

struct authguard;

int      authguard_alloc(struct authguard **gp, size_t max_entries);
void     authguard_free(struct authguard *g);
uint32_t authguard_locked(struct authguard *g, const char *addr,
			  const char *user, uint64_t now_ms);
uint32_t authguard_failure(struct authguard *g, const char *addr,
			   const char *user,
			   const struct authguard_policy *pol,
			   uint64_t now_ms);
void     authguard_success(struct authguard *g, const char *addr,
			   const char *user);
size_t   authguard_sweep(struct authguard *g, uint64_t now_ms);
int      authguard_source(char *out, size_t size, int af, const void *addr);
size_t   authguard_count(const struct authguard *g);

#endif
