/**
 * @file rtmppub.c  The RTMP publisher, on the libre thread
 *
 * Every publisher of the process shares the libre thread: no thread and
 * no wake-up per stream. Streaming threads append FLV tag bodies to a
 * publisher's queue; one timer on the libre thread drains every queue each
 * DRAIN_INTERVAL_MS and writes what it holds to the publishing streams.
 * A publisher never blocks its caller: while its server is unreachable,
 * media is dropped (and counted) and the connection is retried with
 * backoff within a budget.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <stdlib.h>
#include <re.h>
#include "runtime.h"
#include "rtmppub.h"


enum {
	DRAIN_INTERVAL_MS = 20,
	/* Bytes a server may leave unread before we drop media for it */
	TXQ_LIMIT = 1024 * 1024,
	/* What the caller may queue between drains before we drop */
	QUEUE_LIMIT = 256,
	RETRY_FIRST_MS = 500,
	RETRY_MAX_MS = 8000,
	CLOSE_LINGER_MS = 2000,
	/* a server that takes the TCP connection but not the publication */
	PUBLISH_TIMEOUT_MS = 10000,
	CLOSE_POLL_MS = 20,
};

struct frame {
	struct frame *next;
	bool video;
	bool keyframe;
	uint32_t ts;
	size_t len;
	uint8_t data[];
};

/* The handle other threads hold */
struct rtmppub {
	char *url;
	uint32_t retry_budget_ms;
	rtmppub_event_h *eh;
	void *arg;

	pthread_mutex_t mutex;  /* protects the queue and the configurations */
	struct job start_job;
	struct job stop_job;
	struct waiter stopped;  /* signalled by the SIP thread */
	struct frame *head, *tail;
	unsigned queued;
	uint64_t dropped_queue;
	struct frame *audio_config;
	struct frame *video_config;
	unsigned config_gen;    /* bumped when a configuration changes */
	uint64_t dropped_ms;    /* copied from the publisher at each drain */

	struct publisher *pub;  /* SIP thread only */
};

/* The libre side of a publisher: SIP thread only */
struct publisher {
	struct le le;
	struct rtmppub *h;   /* NULL once stopped */
	struct rtmp_conn *conn;
	struct rtmp_stream *stream;
	struct tmr retry_tmr;
	struct tmr close_tmr;
	struct tmr publish_tmr;
	enum rtmppub_state state;
	uint64_t down_since;    /* 0 while publishing */
	uint64_t close_deadline;
	uint32_t retry_ms;
	uint64_t dropped_ms;
	uint32_t prev_audio_ts;
	uint32_t prev_video_ts;
	unsigned sent_config_gen;
	bool sent_config;
	bool need_keyframe;
	bool closing;
};

static struct {
	struct list pubs;
	struct tmr drain_tmr;
	struct tls *tls;
} rt;


static void module_close(void);

static struct runtime_module module = {
	.name = "rtmppub",
	.closeh = module_close,
};


static void frames_free(struct frame *f)
{
	while (f) {
		struct frame *next = f->next;
		free(f);
		f = next;
	}
}


static void report(struct publisher *pub, enum rtmppub_state state,
		   int err)
{
	pub->state = state;
	if (pub->h && pub->h->eh)
		pub->h->eh(state, err, pub->dropped_ms, pub->h->arg);
}


static void connect_start(struct publisher *pub);


static void conn_reset(struct publisher *pub)
{
	tmr_cancel(&pub->publish_tmr);
	pub->stream = mem_deref(pub->stream);
	pub->conn = mem_deref(pub->conn);
	pub->sent_config = false;
}


static void retry_handler(void *arg)
{
	struct publisher *pub = arg;

	connect_start(pub);
}


/* The server refused or dropped us: retry with backoff, within budget */
static void conn_lost(struct publisher *pub, int err)
{
	uint64_t now = tmr_jiffies();
	uint32_t budget = pub->h ? pub->h->retry_budget_ms : 0;

	conn_reset(pub);

	if (!pub->down_since)
		pub->down_since = now;

	if (!pub->h || now - pub->down_since >= budget) {
		report(pub, RTMPPUB_FAILED, err);
		return;
	}

	report(pub, RTMPPUB_RECONNECTING, err);
	tmr_start(&pub->retry_tmr, pub->retry_ms, retry_handler, pub);
	pub->retry_ms = pub->retry_ms * 2 > RETRY_MAX_MS ?
		RETRY_MAX_MS : pub->retry_ms * 2;
}


static void close_handler(int err, void *arg)
{
	struct publisher *pub = arg;

	runtime_log(5, "rtmp: connection closed (%m)", err);
	conn_lost(pub, err ? err : ECONNRESET);
}


static void command_handler(const struct odict *msg, void *arg)
{
	struct publisher *pub = arg;
	const char *name = odict_string(msg, "0");
	const struct odict_entry *e;
	const char *code = NULL;

	if (!name || str_casecmp(name, "onStatus"))
		return;

	/* onStatus(transaction, null, {level, code, description}) */
	e = odict_lookup(msg, "3");
	if (e && e->type == ODICT_OBJECT)
		code = odict_string(e->u.odict, "code");

	runtime_log(6, "rtmp: onStatus %s", code ? code : "?");

	if (code && !str_casecmp(code, "NetStream.Publish.Start")) {
		tmr_cancel(&pub->publish_tmr);
		pub->down_since = 0;
		pub->retry_ms = RETRY_FIRST_MS;
		pub->need_keyframe = true;
		report(pub, RTMPPUB_PUBLISHING, 0);
	}
	else if (code && (strstr(code, "BadName") || strstr(code, "Failed") ||
			  strstr(code, "Rejected"))) {
		conn_lost(pub, EACCES);
	}
}


static void create_resp_handler(bool success, const struct odict *msg,
				void *arg)
{
	struct publisher *pub = arg;
	int err;
	(void)msg;

	if (!success) {
		conn_lost(pub, EPROTO);
		return;
	}

	err = rtmp_publish(pub->stream, rtmp_conn_stream(pub->conn));
	if (err)
		conn_lost(pub, err);
}


static void estab_handler(void *arg)
{
	struct publisher *pub = arg;
	int err;

	err = rtmp_stream_create(&pub->stream, pub->conn, create_resp_handler,
				 command_handler, NULL, NULL, NULL, NULL, pub);
	if (err)
		conn_lost(pub, err);
}


static void publish_timeout(void *arg)
{
	struct publisher *pub = arg;

	runtime_log(4, "rtmp: the server did not start the publication");
	conn_lost(pub, ETIMEDOUT);
}


/* libre's TLS context trusts nothing until given CAs: the system's bundle,
 * or the file OpenSSL's SSL_CERT_FILE names */
static int ca_load(struct tls *tls)
{
	const char *file = runtime_ca_file();
	int err;

	err = tls_add_ca(tls, file);
	if (err)
		runtime_log(3, "rtmp: cannot load the CA certificates of %s "
			    "(%m)", file, err);

	return err;
}


static void connect_start(struct publisher *pub)
{
	struct tls *tls = NULL;
	int err;

	if (!pub->h)
		return;

	if (!strncasecmp(pub->h->url, "rtmps:", 6)) {
		if (!rt.tls) {
			err = tls_alloc(&rt.tls, TLS_METHOD_SSLV23, NULL, NULL);
			if (err)
				goto out;
			/* without CAs every server is refused, as it should */
			(void)ca_load(rt.tls);
		}
		tls = rt.tls;
	}

	/* only a host name needs DNS; its failure is reported on connect */
	err = rtmp_connect(&pub->conn, runtime_dnsc(), pub->h->url, tls,
			   estab_handler, command_handler, close_handler, pub);
	if (!err) {
		uint64_t spent = tmr_jiffies() - pub->down_since;
		uint64_t left = pub->h->retry_budget_ms > spent ?
			pub->h->retry_budget_ms - spent : 0;

		tcp_conn_txqsz_set(rtmp_conn_tcpconn(pub->conn), TXQ_LIMIT);
		/* no longer than the budget allows, but give it a second */
		tmr_start(&pub->publish_tmr,
			  MIN(PUBLISH_TIMEOUT_MS, MAX(left, 1000)),
			  publish_timeout, pub);
	}

 out:
	if (err)
		conn_lost(pub, err);
}


static bool frame_send(struct publisher *pub, const struct frame *f)
{
	int err;

	if (f->video)
		err = rtmp_send_video(pub->stream, f->ts, f->data, f->len);
	else
		err = rtmp_send_audio(pub->stream, f->ts, f->data, f->len);

	if (err == ENOSPC)
		return false;   /* the server is slow: this frame is lost */

	if (err) {
		conn_lost(pub, err);
		return false;
	}

	return true;
}


static struct frame *frame_dup(const struct frame *f)
{
	struct frame *copy;

	if (!f)
		return NULL;
	copy = malloc(sizeof(*f) + f->len);
	if (copy) {
		memcpy(copy, f, sizeof(*f) + f->len);
		copy->next = NULL;
	}
	return copy;
}


/* (Re)start a publication with the decoder configurations. They are
 * copied first: sending may fail and report, and reports must not run
 * under h->mutex (the element takes its own lock in them). */
static void config_send(struct publisher *pub)
{
	struct rtmppub *h = pub->h;
	struct frame *acfg, *vcfg;

	pthread_mutex_lock(&h->mutex);
	acfg = frame_dup(h->audio_config);
	vcfg = frame_dup(h->video_config);
	pub->sent_config_gen = h->config_gen;
	pthread_mutex_unlock(&h->mutex);

	pub->sent_config = true;
	if (acfg && pub->stream)
		(void)frame_send(pub, acfg);
	if (vcfg && pub->stream)
		(void)frame_send(pub, vcfg);

	free(acfg);
	free(vcfg);
}


/* Media lost while not publishing, counted on one track: audio, or video
 * when there is no audio */
static void count_dropped(struct publisher *pub, const struct frame *f,
			  bool has_audio)
{
	uint32_t *prev = f->video ? &pub->prev_video_ts : &pub->prev_audio_ts;

	if (f->video == !has_audio && *prev && f->ts > *prev)
		pub->dropped_ms += f->ts - *prev;
}


static void publisher_drain(struct publisher *pub)
{
	struct rtmppub *h = pub->h;
	struct frame *list, *f;
	bool has_audio;

	pthread_mutex_lock(&h->mutex);
	list = h->head;
	h->head = h->tail = NULL;
	h->queued = 0;
	has_audio = h->audio_config != NULL;
	if (pub->sent_config_gen != h->config_gen)
		pub->sent_config = false;
	pthread_mutex_unlock(&h->mutex);

	for (f = list; f; f = f->next) {
		bool sent = false;

		if (pub->state == RTMPPUB_PUBLISHING && pub->stream) {

			if (!pub->sent_config)
				config_send(pub);

			/* after a (re)start, video resumes at a keyframe */
			if (f->video && pub->need_keyframe && f->keyframe)
				pub->need_keyframe = false;

			if (!(f->video && pub->need_keyframe))
				sent = frame_send(pub, f);
		}

		if (!sent)
			count_dropped(pub, f, has_audio);

		if (f->video)
			pub->prev_video_ts = f->ts;
		else
			pub->prev_audio_ts = f->ts;
	}

	pthread_mutex_lock(&h->mutex);
	h->dropped_ms = pub->dropped_ms;
	pthread_mutex_unlock(&h->mutex);

	frames_free(list);
}


static void drain_handler(void *arg)
{
	struct le *le;
	(void)arg;

	for (le = rt.pubs.head; le; le = le->next) {
		struct publisher *pub = le->data;

		if (pub->h && !pub->closing)
			publisher_drain(pub);
	}

	if (rt.pubs.head)
		tmr_start(&rt.drain_tmr, DRAIN_INTERVAL_MS, drain_handler, NULL);
}


static void publisher_destructor(void *data)
{
	struct publisher *pub = data;

	tmr_cancel(&pub->retry_tmr);
	tmr_cancel(&pub->close_tmr);
	tmr_cancel(&pub->publish_tmr);
	list_unlink(&pub->le);
	conn_reset(pub);
}


static void start_handler(void *arg)
{
	struct rtmppub *h = arg;
	struct publisher *pub;

	pub = mem_zalloc(sizeof(*pub), publisher_destructor);
	if (!pub) {
		if (h->eh)
			h->eh(RTMPPUB_FAILED, ENOMEM, 0, h->arg);
		return;
	}

	pub->h = h;
	pub->retry_ms = RETRY_FIRST_MS;
	pub->state = RTMPPUB_CONNECTING;
	/* not publishing yet: the budget counts from now */
	pub->down_since = tmr_jiffies();
	h->pub = pub;
	runtime_register(&module);
	list_append(&rt.pubs, &pub->le, pub);

	if (!tmr_isrunning(&rt.drain_tmr))
		tmr_start(&rt.drain_tmr, DRAIN_INTERVAL_MS, drain_handler, NULL);

	report(pub, RTMPPUB_CONNECTING, 0);
	connect_start(pub);
}


/* Wait (bounded) until the server has taken what we sent, then close */
static void close_poll(void *arg)
{
	struct publisher *pub = arg;
	struct tcp_conn *tc = pub->conn ? rtmp_conn_tcpconn(pub->conn) : NULL;

	if (tc && tcp_conn_txqsz(tc) > 0 && tmr_jiffies() < pub->close_deadline) {
		tmr_start(&pub->close_tmr, CLOSE_POLL_MS, close_poll, pub);
		return;
	}

	mem_deref(pub);
}


static void stop_handler(void *arg)
{
	struct rtmppub *h = arg;
	struct publisher *pub = h->pub;

	if (!pub) {
		waiter_signal(&h->stopped);
		return;
	}

	/* what is queued still goes out: an EOS must not lose the end */
	if (pub->state == RTMPPUB_PUBLISHING)
		publisher_drain(pub);

	pub->h = NULL;
	h->pub = NULL;
	pub->closing = true;
	tmr_cancel(&pub->retry_tmr);
	pub->close_deadline = tmr_jiffies() + CLOSE_LINGER_MS;
	close_poll(pub);
	waiter_signal(&h->stopped);
}


/* The thread ends: what is still open goes */
static void module_close(void)
{
	tmr_cancel(&rt.drain_tmr);
	list_flush(&rt.pubs);
	rt.tls = mem_deref(rt.tls);
}


static void handle_free(struct rtmppub *h)
{
	frames_free(h->head);
	free(h->audio_config);
	free(h->video_config);
	if (h->url)
		memset(h->url, 0, strlen(h->url));  /* it holds a stream key */
	free(h->url);
	pthread_mutex_destroy(&h->mutex);
	waiter_destroy(&h->stopped);
	free(h);
}


/**
 * Start publishing to url (rtmp:// or rtmps://, the stream name last)
 *
 * @return 0 if success, otherwise errorcode
 */
int rtmppub_start(struct rtmppub **hp, const char *url,
		  uint32_t retry_budget_ms, rtmppub_event_h *eh, void *arg)
{
	struct rtmppub *h;
	int err;

	if (!hp || !url)
		return EINVAL;

	h = calloc(1, sizeof(*h));
	if (!h)
		return ENOMEM;

	h->url = strdup(url);
	h->retry_budget_ms = retry_budget_ms;
	h->eh = eh;
	h->arg = arg;
	pthread_mutex_init(&h->mutex, NULL);
	waiter_init(&h->stopped);
	job_init(&h->start_job, start_handler, h);
	job_init(&h->stop_job, stop_handler, h);

	err = runtime_post(&h->start_job);
	if (err) {
		handle_free(h);
		return err;
	}

	*hp = h;
	return 0;
}


/**
 * Queue one FLV tag body (from any thread; never blocks). A configuration
 * (AAC AudioSpecificConfig or AVC decoder record) is also kept and sent
 * again at each (re)connection.
 *
 * @return 0 if queued, ENOBUFS if dropped because the queue is full
 */
int rtmppub_send(struct rtmppub *h, bool video, uint32_t ts,
		 const uint8_t *data, size_t len, bool config, bool keyframe)
{
	struct frame *f;
	int err = 0;

	if (!h || !data)
		return EINVAL;

	f = malloc(sizeof(*f) + len);
	if (!f)
		return ENOMEM;

	f->next = NULL;
	f->video = video;
	f->keyframe = keyframe;
	f->ts = ts;
	f->len = len;
	memcpy(f->data, data, len);

	pthread_mutex_lock(&h->mutex);
	if (config) {
		struct frame **slot = video ? &h->video_config :
			&h->audio_config;
		free(*slot);
		*slot = f;
		/* the publisher sends it before the next frame */
		++h->config_gen;
	}
	else if (h->queued >= QUEUE_LIMIT) {
		++h->dropped_queue;
		free(f);
		err = ENOBUFS;
	}
	else {
		if (h->tail)
			h->tail->next = f;
		else
			h->head = f;
		h->tail = f;
		++h->queued;
	}
	pthread_mutex_unlock(&h->mutex);

	return err;
}


/**
 * Send what is queued, close, and free. No event is delivered after it
 * returns.
 */
void rtmppub_stop(struct rtmppub *h)
{
	if (!h)
		return;

	if (runtime_on_thread())
		stop_handler(h);
	else
		runtime_post_wait(&h->stop_job, &h->stopped);

	handle_free(h);
}


/** Media lost so far while not publishing (any thread) */
uint64_t rtmppub_dropped_ms(struct rtmppub *h)
{
	uint64_t ms;

	pthread_mutex_lock(&h->mutex);
	ms = h->dropped_ms;
	pthread_mutex_unlock(&h->mutex);

	return ms;
}
