/**
 * @file runtime.c  The libre thread, its job queue, the waiter, the log
 *
 * libre's reference counts are not atomic and its main loop is not
 * reentrant, so one thread per process runs re_main() and owns every
 * libre object. It is started by the first runtime_init() and stopped by
 * the last runtime_close(). Other threads post jobs through an mqueue;
 * each job carries its handler, so this loop names no module.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdarg.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <re.h>

#define DEBUG_MODULE "runtime"
#define DEBUG_LEVEL 5
#include <re_dbg.h>
#include "runtime.h"


enum {
	/* How long modules may hold the quit open (SIP stacks finishing
	   their BYE and CANCEL transactions) */
	QUIT_LINGER_MS = 2000,
};


/* Debian's ca-certificates bundle */
#define SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"


/*
 * Lock order (the whole process's: docs/sipsrc-contract.md, "Threads and
 * locks"): lifecycle, then mutex, then log_mutex; a handle's mutex (a
 * call's or a publisher's) is never held with any of them.
 * lifecycle serialises runtime_init() and runtime_close() (held while the
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
	runtime_log_h *logh;
	void *logarg;

	/* SIP thread only */
	struct runtime_module *modules;  /* newest first */
	struct dnsc *dnsc;
	bool dnsc_warned;
	bool quitting;
	unsigned holds;
	struct tmr quit_tmr;
	struct job quit_job;
} rt = {
	.lifecycle = PTHREAD_MUTEX_INITIALIZER,
	.mutex = PTHREAD_MUTEX_INITIALIZER,
	.log_mutex = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};


void runtime_log(int level, const char *fmt, ...)
{
	char buf[4096];  /* a SIP message and its SDP, traced */
	va_list ap;
	runtime_log_h *logh;
	void *logarg;

	pthread_mutex_lock(&rt.log_mutex);
	logh = rt.logh;
	logarg = rt.logarg;
	pthread_mutex_unlock(&rt.log_mutex);

	if (!logh)
		return;

	va_start(ap, fmt);
	(void)re_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	logh(level, buf, logarg);
}


void runtime_set_log_handler(runtime_log_h *logh, void *arg)
{
	pthread_mutex_lock(&rt.log_mutex);
	rt.logh = logh;
	rt.logarg = arg;
	pthread_mutex_unlock(&rt.log_mutex);
}


/* libre's own debug output goes to the same handler */
static void dbg_handler(int level, const char *p, size_t len, void *arg)
{
	(void)arg;

	while (len && (p[len-1] == '\n' || p[len-1] == '\r'))
		--len;

	runtime_log(level, "%b", p, len);
}


bool runtime_on_thread(void)
{
	bool on;

	pthread_mutex_lock(&rt.mutex);
	on = rt.running && pthread_equal(rt.thread, pthread_self());
	pthread_mutex_unlock(&rt.mutex);

	return on;
}


/**
 * The process's DNS client, on first use: the system's name servers.
 * NULL when there are none (IP addresses still work).
 */
struct dnsc *runtime_dnsc(void)
{
	struct sa nsv[8];
	uint32_t nsn = ARRAY_SIZE(nsv);
	char domain[64] = "";

	if (rt.dnsc)
		return rt.dnsc;

	if ((dns_srv_get(domain, sizeof(domain), nsv, &nsn) ||
	     dnsc_alloc(&rt.dnsc, NULL, nsv, nsn)) && !rt.dnsc_warned) {
		rt.dnsc_warned = true;
		runtime_log(4, "no DNS client: SIP and RTMP hosts must be IP "
			    "addresses");
	}

	return rt.dnsc;
}


/**
 * The CA certificates trusted when none are configured: the file
 * OpenSSL's SSL_CERT_FILE names, or the system's bundle
 */
const char *runtime_ca_file(void)
{
	const char *file = getenv("SSL_CERT_FILE");

	return file && *file ? file : SYSTEM_CA_FILE;
}


/** Be told when the thread quits and ends (once per thread's life) */
void runtime_register(struct runtime_module *mod)
{
	if (mod->registered)
		return;

	mod->registered = true;
	mod->next = rt.modules;
	rt.modules = mod;
}


/** Keep the quit from ending the loop until runtime_release() */
void runtime_hold(void)
{
	if (rt.quitting)
		++rt.holds;
}


void runtime_release(void)
{
	if (rt.quitting && rt.holds && --rt.holds == 0)
		re_cancel();
}


static void quit_timeout(void *arg)
{
	(void)arg;
	re_cancel();
}


/* Let the modules finish (BYE, CANCEL), then leave */
static void quit_handler(void *arg)
{
	struct runtime_module *mod;
	(void)arg;

	rt.quitting = true;
	rt.holds = 0;
	for (mod = rt.modules; mod; mod = mod->next) {
		if (mod->quith)
			mod->quith();
	}

	if (!rt.holds) {
		re_cancel();
		return;
	}

	tmr_start(&rt.quit_tmr, QUIT_LINGER_MS, quit_timeout, NULL);
}


/* Every job carries its own handler: the loop knows no module */
static void mqueue_handler(int id, void *data, void *arg)
{
	struct job *job = data;
	(void)id;
	(void)arg;

	job->h(job->arg);
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
	struct runtime_module *mod;
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

	pthread_mutex_lock(&rt.mutex);
	rt.start_err = err;
	rt.mq = mq;
	pthread_cond_broadcast(&rt.cond);
	pthread_mutex_unlock(&rt.mutex);

	if (!err)
		(void)re_main(NULL);  /* NULL: no process-wide signal handlers */

	tmr_cancel(&rt.quit_tmr);
	/* newest first: what registered last may use what came before */
	while ((mod = rt.modules)) {
		rt.modules = mod->next;
		mod->next = NULL;
		mod->registered = false;
		if (mod->closeh)
			mod->closeh();
	}
	rt.quitting = false;
	rt.dnsc = mem_deref(rt.dnsc);

	pthread_mutex_lock(&rt.mutex);
	rt.mq = NULL;
	pthread_mutex_unlock(&rt.mutex);

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
int runtime_init(void)
{
	int err = 0;

	pthread_mutex_lock(&rt.lifecycle);

	if (rt.refs++ > 0)
		goto out;

	pthread_mutex_lock(&rt.mutex);
	rt.mq = NULL;
	rt.start_err = -1;
	err = pthread_create(&rt.thread, NULL, sip_thread, NULL);
	if (!err) {
		rt.running = true;
		while (rt.start_err == -1)
			pthread_cond_wait(&rt.cond, &rt.mutex);
		err = rt.start_err;
	}
	pthread_mutex_unlock(&rt.mutex);

	if (err) {
		if (rt.running)
			pthread_join(rt.thread, NULL);
		rt.running = false;
		--rt.refs;
	}

 out:
	pthread_mutex_unlock(&rt.lifecycle);
	return err;
}


/** Stop the SIP thread when the last user is gone */
void runtime_close(void)
{
	pthread_mutex_lock(&rt.lifecycle);

	if (!rt.refs || --rt.refs > 0) {
		pthread_mutex_unlock(&rt.lifecycle);
		return;
	}

	job_init(&rt.quit_job, quit_handler, NULL);
	pthread_mutex_lock(&rt.mutex);
	(void)mqueue_push(rt.mq, 0, &rt.quit_job);
	pthread_mutex_unlock(&rt.mutex);

	/* a new runtime_init() waits for this thread to be gone */
	pthread_join(rt.thread, NULL);

	pthread_mutex_lock(&rt.mutex);
	rt.running = false;
	pthread_mutex_unlock(&rt.mutex);

	pthread_mutex_unlock(&rt.lifecycle);
}


void job_init(struct job *job, job_h *h, void *arg)
{
	job->h = h;
	job->arg = arg;
}


/** Hand a job to the SIP thread */
int runtime_post(struct job *job)
{
	int err;

	pthread_mutex_lock(&rt.mutex);
	err = rt.mq ? mqueue_push(rt.mq, 0, job) : ENODEV;
	pthread_mutex_unlock(&rt.mutex);

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


/** Hand a job to the SIP thread and wait until it signals w */
void runtime_post_wait(struct job *job, struct waiter *w)
{
	if (runtime_post(job))
		return;  /* no SIP thread: nothing to wait for */

	pthread_mutex_lock(&w->mutex);
	while (!w->done)
		pthread_cond_wait(&w->cond, &w->mutex);
	pthread_mutex_unlock(&w->mutex);
}
