/**
 * @file sipua.h  The SIP user agent behind sipsrc: outgoing calls
 *
 * The libre thread (runtime.h) runs every SIP call. Other threads never
 * touch libre objects: they call the functions below, which post jobs to
 * that thread. Results come back through the event handler, which is
 * always called on the SIP thread. runtime_init() must have succeeded.
 *
 * No libre and no GStreamer type appears in this header.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef SIPUA_H
#define SIPUA_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

enum sipua_transport {
	SIPUA_TRANSPORT_UDP = 0,
	SIPUA_TRANSPORT_TCP,
	SIPUA_TRANSPORT_TLS,
};

enum sipua_dir {
	SIPUA_DIR_OFF = 0,
	SIPUA_DIR_RECVONLY,
	SIPUA_DIR_SENDRECV,
};

enum sipua_media {
	SIPUA_MEDIA_AUDIO = 0,
	SIPUA_MEDIA_VIDEO,
	SIPUA_MEDIA_COUNT,
};

/** SRTP (SDES, RFC 4568) asked of a call */
enum sipua_srtp_mode {
	SIPUA_SRTP_OFF = 0,
	SIPUA_SRTP_OPTIONAL,    /**< RTP/AVP with a=crypto: SRTP if answered */
	SIPUA_SRTP_MANDATORY,   /**< RTP/SAVP: no crypto in the answer fails */
};

/** The SRTP suites we offer, in this order; NONE: plain RTP */
enum sipua_srtp_suite {
	SIPUA_SRTP_NONE = 0,
	SIPUA_SRTP_AES_CM_128_HMAC_SHA1_80,
	SIPUA_SRTP_AES_CM_128_HMAC_SHA1_32,
};

/** An SRTP master key and salt (AES-128: 16 + 14 bytes) */
#define SIPUA_SRTP_KEY_LEN 30

enum sipua_call_state {
	SIPUA_CALL_TRYING = 0,
	SIPUA_CALL_RINGING,
	SIPUA_CALL_EARLY_MEDIA,
	SIPUA_CALL_ESTABLISHED,
	SIPUA_CALL_TERMINATED,
	SIPUA_CALL_FAILED,
	SIPUA_CALL_WAITING,     /**< answer mode: listening (issue 14) */
};

/** What we offer for one media type */
struct sipua_media_offer {
	enum sipua_dir dir;
	uint16_t rtp_port;
	uint16_t rtcp_port;
	const char *codecs;     /**< comma list, preference order */
};

struct sipua_call_params {
	const char *request_uri;
	const char *from_uri;
	const char *display_name;   /**< may be NULL */
	const char *auth_user;      /**< may be NULL: no credentials */
	const char *password;       /**< may be NULL */
	const char *route;          /**< outbound proxy URI, may be NULL */
	const char *user_agent;     /**< may be NULL */
	const char *local_address;  /**< IP literal of our side */
	/** IP literal announced in Contact and SDP instead (the public
	    address of a NAT in front of us, ports forwarded as they are);
	    may be NULL */
	const char *public_address;
	/** more headers for the INVITE, "Name: value\r\n" each, checked by
	    the caller (names it may set, no CR/LF in values); may be NULL */
	const char *extra_headers;
	enum sipua_transport transport;
	uint16_t sip_port;          /**< 0: any, shared by all such calls */
	uint32_t answer_timeout_ms;
	bool register_first;
	struct sipua_media_offer media[SIPUA_MEDIA_COUNT];
	enum sipua_srtp_mode srtp;
	/* TLS (transport TLS): the peer's certificate is checked against
	   tls_ca_file (NULL: SSL_CERT_FILE, else the system's bundle) and
	   tls_server_name (the next hop's host name or IP address, also
	   sent as SNI when a name), unless tls_no_verify (labs only) */
	const char *tls_server_name;
	const char *tls_ca_file;
	const char *tls_cert_file;  /**< our certificate (mutual TLS), or NULL */
	const char *tls_key_file;   /**< its key; never logged */
	bool tls_no_verify;
	/* issue 14: non-NULL: we answer an incoming call instead of placing
	   one (sipua_incoming.c); request_uri and from_uri are unused then,
	   auth_user/password are the credentials we challenge the caller
	   with */
	const struct sipua_answer_params *answer;
};

/** One m-line of the answer */
struct sipua_stream_info {
	bool accepted;
	char remote_address[64];
	uint16_t remote_rtp_port;
	uint16_t remote_rtcp_port;
	int payload;
	char encoding[32];
	uint32_t clock_rate;
	uint8_t channels;
	char fmtp[256];
	int dtmf_payload;       /**< -1: none */
	bool remote_sends;      /**< its SDP says sendrecv or sendonly */
	bool new_peer;          /**< another party sends now (a transfer):
				     what the previous one still sends is
				     not this stream's */
	bool remote_receives;   /**< its SDP says sendrecv or recvonly; if
				     not (sendonly, inactive: it holds the
				     call) we must not send any media */
	/** SRTP of this stream (NONE: plain RTP): the keys we send and
	    the peer sends with. Secrets: wipe copies with
	    sipua_stream_info_wipe() */
	enum sipua_srtp_suite srtp_suite;
	uint8_t srtp_tx_key[SIPUA_SRTP_KEY_LEN];
	uint8_t srtp_rx_key[SIPUA_SRTP_KEY_LEN];
};

struct sipua_call_event {
	enum sipua_call_state state;
	uint16_t sip_status;     /**< 0: none */
	const char *reason;
	const char *call_id;
	/** non-NULL (SIPUA_MEDIA_COUNT entries) when the answer is new */
	const struct sipua_stream_info *streams;
	const char *remote_sdp;  /**< the peer's last SDP, SRTP keys masked */
	bool update;            /**< streams changed by a re-INVITE */
	/** non-NULL: this event says one digit was sent by SIP INFO (the
	    state is the call's, unchanged) */
	const char *dtmf_sent;
	/** the peer's X- headers of a final response, "Name: value\r\n"
	    each, or NULL */
	const char *remote_headers;
};

struct sipua_call;

/** Called on the SIP thread. Must not block or call sipua_call_stop */
typedef void (sipua_call_event_h)(const struct sipua_call_event *ev,
				  void *arg);

int  sipua_call_start(struct sipua_call **callp,
		      const struct sipua_call_params *prm,
		      sipua_call_event_h *eh, void *arg);
void sipua_call_stop(struct sipua_call *call);
int  sipua_call_send_dtmf(struct sipua_call *call, const char *digits);

int  sipua_local_address_for(const char *host, char *buf, size_t size);
void sipua_stream_info_wipe(struct sipua_stream_info *infov, size_t count);
const char *sipua_srtp_suite_name(enum sipua_srtp_suite suite);


/*
 * Incoming calls (issue 14, sipua_incoming.c). An element that answers
 * starts a call with sipua_call_params.answer set: it waits on the SIP
 * stack of (transport, local address, SIP port) for an INVITE whose
 * request-URI user is `user` (and whose From user, or user@host, is
 * `caller` if set), or takes the parked INVITE `invite_id`. An INVITE that
 * no call waits for goes to the router of its stack, if one listens there
 * (parked: 180, an invite handler call; then taken by a call, or rejected),
 * otherwise it gets 404.
 */
struct sipua_answer_params {
	const char *user;       /**< request-URI user; NULL with invite_id */
	const char *caller;     /**< From user or user@host; NULL: any */
	const char *invite_id;  /**< a parked INVITE to take; NULL: none */
	const char *realm;      /**< digest realm we challenge with */
	/* wrong credentials from one source address to one user that lock
	   them out (their INVITEs get 480 with Retry-After until then) */
	unsigned max_failures;  /**< failures within the window; 0: no limit */
	uint32_t failure_window_ms;  /**< 0: 60 s */
	uint32_t lockout_ms;    /**< the first lock-out, doubled on repeats;
				     0: 60 s */
};

/** The facts of a parked INVITE: checked, printable ASCII, one line each */
struct sipua_invite_info {
	const char *invite_id;
	const char *call_id;
	const char *request_uri;
	const char *request_user;
	const char *from_uri;
	const char *from_user;
	const char *to_uri;
	const char *to_user;
	const char *source;       /**< "ip:port" the INVITE came from */
	const char *source_ip;
	const char *headers;      /**< its X- headers, "Name: value\r\n" */
	bool has_credentials;     /**< it carries an Authorization header */
};

struct sipua_router;

/** Called on the SIP thread. Must not block */
typedef void (sipua_invite_h)(const struct sipua_invite_info *inv,
			      void *arg);

/** Why a parked INVITE went away before a call took it or it was rejected */
enum sipua_invite_gone {
	SIPUA_INVITE_CANCELLED,   /**< the caller's CANCEL: 487 sent */
	SIPUA_INVITE_TIMEOUT,     /**< not taken within park_ms: 480 sent */
	SIPUA_INVITE_CLOSED,      /**< its transaction failed (transport) */
};

/** A parked INVITE is gone. Called on the SIP thread. Must not block */
typedef void (sipua_invite_gone_h)(const char *invite_id,
				   enum sipua_invite_gone why,
				   uint16_t scode, void *arg);

/** Where a router listens */
struct sipua_router_params {
	const char *laddr;          /**< IP literal (IPv4 or IPv6) */
	uint16_t port;
	enum sipua_transport tp;
	uint32_t park_ms;           /**< 0: 10 s */
	/* TLS: our certificate chain (PEM) and its key (NULL: in the
	   certificate's file); the key is never logged nor named */
	const char *tls_cert_file;
	const char *tls_key_file;
};

int  sipua_router_start(struct sipua_router **rp,
			const struct sipua_router_params *prm,
			sipua_invite_h *ih, sipua_invite_gone_h *gh,
			void *arg, const char **why);
void sipua_router_stop(struct sipua_router *r);
void sipua_router_set_park_ms(struct sipua_router *r, uint32_t park_ms);
int  sipua_router_reject(const char *invite_id, uint16_t scode);
void sipua_auth_guard_stats(uint64_t *wrong, uint64_t *refused);

#endif
