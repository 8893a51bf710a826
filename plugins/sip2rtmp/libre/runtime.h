/**
 * @file runtime.h  The libre runtime: the one thread, its jobs, the log
 *
 * One libre thread per process runs every libre object: the SIP stacks,
 * the calls and the RTMP publishers. It is started by the first
 * runtime_init() and stopped by the last runtime_close() (each element
 * holds a reference while it is above NULL). Other threads never touch
 * libre objects: they post a job, which carries its own handler, and the
 * thread runs it. The runtime knows no module above it.
 *
 * No GStreamer type appears in this header; the only libre type is the
 * DNS client of the SIP-thread section, as an opaque pointer.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef RUNTIME_H
#define RUNTIME_H

#include <pthread.h>
#include <stdbool.h>

/* Any thread */

/** Where the log of every module (and libre's own) goes; syslog levels */
typedef void (runtime_log_h)(int level, const char *msg, void *arg);

int  runtime_init(void);
void runtime_close(void);
void runtime_set_log_handler(runtime_log_h *logh, void *arg);
void runtime_log(int level, const char *fmt, ...);
bool runtime_on_thread(void);

/** Work for the SIP thread: the handler runs there, with arg */
typedef void (job_h)(void *arg);

/** Embedded in its owner, which keeps it alive until the handler ran */
struct job {
	job_h *h;
	void *arg;
};

void job_init(struct job *job, job_h *h, void *arg);
int  runtime_post(struct job *job);

/** A thread waiting for the SIP thread to finish a job */
struct waiter {
	pthread_mutex_t mutex;  /* protects done */
	pthread_cond_t cond;
	bool done;
};

void waiter_init(struct waiter *w);
void waiter_destroy(struct waiter *w);
void waiter_signal(struct waiter *w);
void runtime_post_wait(struct job *job, struct waiter *w);

/* SIP thread only */

/** A module holding libre objects beyond a job: told when the thread
    quits (it may hold the quit open, runtime_hold/runtime_release, up to
    a linger), then after the loop has ended, to free what is left */
typedef void (runtime_module_h)(void);

struct runtime_module {
	const char *name;
	runtime_module_h *quith;    /**< may be NULL */
	runtime_module_h *closeh;   /**< may be NULL */
	struct runtime_module *next;  /* the runtime's */
	bool registered;              /* the runtime's */
};

void runtime_register(struct runtime_module *mod);
void runtime_hold(void);
void runtime_release(void);

/** What every module shares: the DNS client (NULL without name servers:
    hosts must be IP addresses) and the CA bundle to trust */
struct dnsc;
struct dnsc *runtime_dnsc(void);
const char *runtime_ca_file(void);

#endif
