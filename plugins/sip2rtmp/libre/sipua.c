/**
 * @file sipua.c  The SIP user agent's handles: what other threads call
 *
 * A call is placed (or, in answer mode, waits for an INVITE: issue 14),
 * stopped and sent digits from any thread through a handle; each request
 * is a job for the SIP thread (runtime.h), where sipua_call.c runs the
 * call and sipua_incoming.c finds it its INVITE.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE 1
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netdb.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <re.h>
#include "runtime.h"
#include "sipua.h"
#include "sipua_int.h"


enum {
	PASSWORD_STR = 4,
};


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
	incoming_free(h->in);  /* issue 14 */
	waiter_destroy(&h->stopped);
	free(h);
}


static void start_handler(void *arg)
{
	call_begin(arg);
}


/* answer mode (issue 14): wait for the INVITE (sipua_incoming.c) */
static void answer_handler(void *arg)
{
	incoming_begin(arg);
}


static void stop_handler(void *arg)
{
	struct sipua_call *h = arg;

	incoming_end(h);  /* issue 14: no longer waiting */
	call_end(h);
	waiter_signal(&h->stopped);
}


static void dtmf_handler(void *arg)
{
	call_dtmf_begin(arg);  /* frees it */
}


/**
 * Place a call, or with prm->answer wait for one (issue 14). Every event
 * of it is reported through eh, on the SIP thread
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
	job_init(&h->start_job, prm->answer ? answer_handler : start_handler,
		 h);
	job_init(&h->stop_job, stop_handler, h);

	/* issue 14: answer mode waits for an INVITE (sipua_incoming.c) */
	err = prm->answer ? incoming_new(&h->in, h, prm->answer) : 0;
	if (!err)
		err = runtime_post(&h->start_job);

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

	if (runtime_on_thread()) {
		incoming_end(h);  /* issue 14 */
		call_end(h);
		handle_free(h);
		return;
	}

	runtime_post_wait(&h->stop_job, &h->stopped);
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
	job_init(&job->job, dtmf_handler, job);

	/* queued before any stop of this call: the handle outlives it */
	err = runtime_post(&job->job);
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
