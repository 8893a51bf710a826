/**
 * @file authguard.c  A bounded table of wrong-credential failures
 *
 * A key's entry exists from its first failure until it is forgotten: its
 * window has passed and, after a lock-out, as long again as that
 * lock-out lasted (a key that fails again within that time is locked out
 * twice as long). Entries are chained in a hash and kept in the order of
 * their last failure; a full table first drops what is forgotten, then
 * the oldest entry not locked out, then the oldest.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "authguard.h"


enum {
	BUCKETS = 1024,   /* a power of two; chains of 4 when full */
};

struct entry {
	struct entry *hnext;            /* its bucket's chain */
	struct entry *older, *newer;    /* by last failure */
	uint32_t hash;
	unsigned failures;              /* within the window */
	uint64_t window_start;
	uint64_t locked_until;
	uint32_t last_lockout_ms;       /* 0: never locked out */
	uint64_t forget_at;
	char key[AUTHGUARD_KEY_MAX];    /* "addr user" */
};

struct authguard {
	struct entry *buckets[BUCKETS];
	struct entry *oldest, *newest;
	size_t count;
	size_t max;
};


/* FNV-1a: keys crafted to collide cost at most a scan of the bounded
   table, and only failures (which need our nonce) make entries */
static uint32_t hash_key(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key; key++) {
		h ^= (uint8_t)*key;
		h *= 16777619u;
	}

	return h;
}


static void make_key(char *key, const char *addr, const char *user)
{
	size_t n = strlen(addr);

	if (n > AUTHGUARD_KEY_MAX / 4)
		n = AUTHGUARD_KEY_MAX / 4;
	memcpy(key, addr, n);
	key[n++] = ' ';   /* neither an address nor a URI user has one */
	strncpy(key + n, user ? user : "", AUTHGUARD_KEY_MAX - n - 1);
	key[AUTHGUARD_KEY_MAX - 1] = '\0';
}


static struct entry *find(const struct authguard *g, const char *key,
			  uint32_t hash)
{
	struct entry *e;

	for (e = g->buckets[hash % BUCKETS]; e; e = e->hnext) {
		if (e->hash == hash && !strcmp(e->key, key))
			return e;
	}

	return NULL;
}


static void order_unlink(struct authguard *g, struct entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		g->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		g->newest = e->older;
	e->older = e->newer = NULL;
}


static void order_append(struct authguard *g, struct entry *e)
{
	e->older = g->newest;
	e->newer = NULL;
	if (g->newest)
		g->newest->newer = e;
	else
		g->oldest = e;
	g->newest = e;
}


static void drop(struct authguard *g, struct entry *e)
{
	struct entry **pp = &g->buckets[e->hash % BUCKETS];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	order_unlink(g, e);
	--g->count;
	free(e);
}


/** A table of at most max_entries keys (0: AUTHGUARD_ENTRIES_MAX) */
int authguard_alloc(struct authguard **gp, size_t max_entries)
{
	struct authguard *g;

	if (!gp)
		return EINVAL;

	g = calloc(1, sizeof(*g));
	if (!g)
		return ENOMEM;

	g->max = max_entries ? max_entries : AUTHGUARD_ENTRIES_MAX;
	*gp = g;
	return 0;
}


void authguard_free(struct authguard *g)
{
	if (!g)
		return;

	while (g->oldest)
		drop(g, g->oldest);
	free(g);
}


/** The milliseconds left of the key's lock-out at now_ms, 0 if none */
uint32_t authguard_locked(struct authguard *g, const char *addr,
			  const char *user, uint64_t now_ms)
{
	char key[AUTHGUARD_KEY_MAX];
	struct entry *e;

	if (!g || !addr)
		return 0;

	make_key(key, addr, user);
	e = find(g, key, hash_key(key));
	if (!e)
		return 0;

	if (e->forget_at <= now_ms) {
		drop(g, e);
		return 0;
	}

	return e->locked_until > now_ms ?
		(uint32_t)(e->locked_until - now_ms) : 0;
}


/* Room for one more: the forgotten, else the oldest not locked out,
   else the oldest (a lock-out is a defence, not a promise) */
static void make_room(struct authguard *g, uint64_t now_ms)
{
	struct entry *e;

	if (g->count < g->max)
		return;

	if (authguard_sweep(g, now_ms) < g->max)
		return;

	for (e = g->oldest; e; e = e->newer) {
		if (e->locked_until <= now_ms) {
			drop(g, e);
			return;
		}
	}

	drop(g, g->oldest);
}


static uint32_t next_lockout(const struct entry *e,
			     const struct authguard_policy *pol)
{
	uint64_t ms;

	if (!e->last_lockout_ms)
		return pol->lockout_ms;

	ms = (uint64_t)e->last_lockout_ms * 2;
	if (ms > AUTHGUARD_LOCKOUT_CAP_MS)
		ms = AUTHGUARD_LOCKOUT_CAP_MS;
	if (ms < pol->lockout_ms)
		ms = pol->lockout_ms;

	return (uint32_t)ms;
}


/**
 * The key gave wrong credentials at now_ms, under pol.
 *
 * @return the lock-out this failure starts (ms), 0 if none
 */
uint32_t authguard_failure(struct authguard *g, const char *addr,
			   const char *user,
			   const struct authguard_policy *pol,
			   uint64_t now_ms)
{
	char key[AUTHGUARD_KEY_MAX];
	uint32_t hash, lockout = 0;
	struct entry *e;
	uint64_t t;

	if (!g || !addr || !pol || !pol->max_failures)
		return 0;

	make_key(key, addr, user);
	hash = hash_key(key);
	e = find(g, key, hash);
	if (e && e->forget_at <= now_ms) {
		drop(g, e);
		e = NULL;
	}

	if (!e) {
		make_room(g, now_ms);
		e = calloc(1, sizeof(*e));
		if (!e)
			return 0;
		memcpy(e->key, key, sizeof(e->key));
		e->hash = hash;
		e->hnext = g->buckets[hash % BUCKETS];
		g->buckets[hash % BUCKETS] = e;
		++g->count;
	}
	else {
		order_unlink(g, e);
	}
	order_append(g, e);

	/* one that was in flight when its key was locked out adds nothing */
	if (e->locked_until > now_ms)
		return 0;

	if (!e->failures || now_ms - e->window_start >= pol->window_ms) {
		e->window_start = now_ms;
		e->failures = 0;
	}

	if (++e->failures >= pol->max_failures) {
		lockout = next_lockout(e, pol);
		e->locked_until = now_ms + lockout;
		e->last_lockout_ms = lockout;
		e->failures = 0;
	}

	e->forget_at = e->window_start + pol->window_ms;
	t = e->locked_until + e->last_lockout_ms;
	if (e->last_lockout_ms && t > e->forget_at)
		e->forget_at = t;

	return lockout;
}


/** The key gave the right credentials: its failures are forgotten */
void authguard_success(struct authguard *g, const char *addr,
		       const char *user)
{
	char key[AUTHGUARD_KEY_MAX];
	struct entry *e;

	if (!g || !addr)
		return;

	make_key(key, addr, user);
	e = find(g, key, hash_key(key));
	if (e)
		drop(g, e);
}


/** Drop the forgotten entries. @return the entries left */
size_t authguard_sweep(struct authguard *g, uint64_t now_ms)
{
	struct entry *e, *next;

	if (!g)
		return 0;

	for (e = g->oldest; e; e = next) {
		next = e->newer;
		if (e->forget_at <= now_ms)
			drop(g, e);
	}

	return g->count;
}


size_t authguard_count(const struct authguard *g)
{
	return g ? g->count : 0;
}


/**
 * The source a key counts a guesser by, as text: an IPv4 address as it
 * is; an IPv6 address by its /64 ("2001:db8:1:2::/64"), the least one
 * host is given (RFC 6177) and whose other addresses it can take at will,
 * so that a guesser cannot start afresh from each; an IPv4-mapped IPv6
 * address as the IPv4 host it is.
 *
 * @param out   Where the text goes (INET6_ADDRSTRLEN + 3 is enough)
 * @param size  Its size
 * @param af    AF_INET or AF_INET6
 * @param addr  A struct in_addr or struct in6_addr
 *
 * @return 0, or EINVAL (another family, or out too small)
 */
int authguard_source(char *out, size_t size, int af, const void *addr)
{
	struct in6_addr net;
	size_t n;

	if (af == AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr)) {
		memcpy(&net, addr, sizeof(net));
		memset(&net.s6_addr[8], 0, 8);
		if (!inet_ntop(AF_INET6, &net, out, (socklen_t)size))
			return EINVAL;
		n = strlen(out);
		if (n + sizeof("/64") > size)
			return EINVAL;
		memcpy(out + n, "/64", sizeof("/64"));
		return 0;
	}
	if (af == AF_INET6)  /* ::ffff:a.b.c.d */
		addr = &((const struct in6_addr *)addr)->s6_addr[12];
	else if (af != AF_INET)
		return EINVAL;

	return inet_ntop(AF_INET, addr, out, (socklen_t)size) ? 0 : EINVAL;
}
