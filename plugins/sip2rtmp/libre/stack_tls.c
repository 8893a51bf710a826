/**
 * @file stack_tls.c  What a SIP stack's TLS connections check, SIP thread
 *
 * libre 1.1.0's SIP transport starts TLS on each connection with its
 * stack's context and checks nothing: it never calls
 * tls_set_verify_server() on the connections, which we cannot reach. So
 * the context itself carries the checks, through OpenSSL: the peer's
 * chain against the CA file, its name or address against the stack's
 * server name, SNI set as a handshake starts. A stack is made per server
 * name, CA file and client certificate (stack_get): the calls that
 * share them share the stack, and so one connection to each peer. Why a
 * handshake failed is kept in the stack for the calls that fail with it.
 *
 * A stack that listens for callers over TLS (tls_server) is the server
 * of its connections: its context holds our certificate chain and key,
 * and asks nothing of the callers. Its requests in a caller's dialog
 * (our BYE) go to the caller's Contact as RFC 3261 says, over a TLS
 * connection of their own where the caller's is not to that address:
 * libre 1.1.0 reuses a connection only to the address it connects
 * (no RFC 5923 alias), and the caller's certificate is not checked.
 *
 * Copyright (C) 2026 sip2rtmp authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define USE_OPENSSL 1      /* tls_openssl_context() */
#include <stdarg.h>
#include <string.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>
#include <re.h>
#include "runtime.h"
#include "stack.h"


/** What a TLS stack checks and shows: its key among the stacks */
struct tls_conf {
	char *server_name;
	char *ca_file;
	char *cert_file;
	char *key_file;
	bool no_verify;
	bool name_is_ip;
	bool server;
};


static int ctx_index = -1;


static void tls_conf_destructor(void *data)
{
	struct tls_conf *conf = data;

	mem_deref(conf->server_name);
	mem_deref(conf->ca_file);
	mem_deref(conf->cert_file);
	mem_deref(conf->key_file);
}


static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}


/** Whether a stack's TLS context is the one these call parameters ask */
bool stack_tls_match(const struct stack *st,
		     const struct stack_prm *prm)
{
	const struct tls_conf *conf = st->tls_conf;

	return conf && conf->no_verify == prm->tls_no_verify &&
		conf->server == prm->tls_server &&
		str_same(conf->server_name, prm->tls_server_name) &&
		str_same(conf->ca_file, prm->tls_ca_file) &&
		str_same(conf->cert_file, prm->tls_cert_file) &&
		str_same(conf->key_file, prm->tls_key_file);
}


static struct stack *ssl_stack(const SSL *ssl)
{
	return ctx_index < 0 ? NULL :
		SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
}


/* The first reason a handshake of ours failed, for the calls on it */
static void why_set(struct stack *st, const char *fmt, ...)
{
	va_list ap;

	if (st->tls_error[0])
		return;

	va_start(ap, fmt);
	(void)re_vsnprintf(st->tls_error, sizeof(st->tls_error), fmt, ap);
	va_end(ap);
	runtime_log(4, "TLS with %s: %s", st->tls_conf->server_name ?
		    st->tls_conf->server_name : "?", st->tls_error);
}


static int verify_handler(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs,
				     SSL_get_ex_data_X509_STORE_CTX_idx());
	struct stack *st = ssl ? ssl_stack(ssl) : NULL;
	int e = X509_STORE_CTX_get_error(xs);

	if (ok || !st)
		return ok;

	if (e == X509_V_ERR_HOSTNAME_MISMATCH ||
	    e == X509_V_ERR_IP_ADDRESS_MISMATCH)
		why_set(st, "the server's certificate is not for %s",
			st->tls_conf->server_name ? st->tls_conf->server_name :
			"the host called");
	else
		why_set(st, "the server's certificate was refused: %s",
			X509_verify_cert_error_string(e));

	return 0;
}


/* A fatal alert after the handshake: the server refused us late (TLS 1.3
   checks our certificate then). libre does not fail a request it already
   sent on the connection it closes: the calls waiting are failed here,
   outside OpenSSL's callback. */
static void late_alert_handler(void *arg)
{
	struct stack *st = arg;

	st->hv->tls_failedh(st);
}


static void info_handler(const SSL *ssl, int where, int ret)
{
	struct stack *st = ssl_stack(ssl);

	/* a listening stack's own connections (a BYE to a caller's
	   Contact) carry no call waiting for an answer */
	if (!st || st->tls_conf->server || SSL_is_server((SSL *)ssl))
		return;

	if (where & SSL_CB_HANDSHAKE_START) {
		st->tls_error[0] = '\0';
		/* RFC 6066 3: a host name, never an address */
		if (st->tls_conf->server_name && !st->tls_conf->name_is_ip)
			(void)SSL_set_tlsext_host_name((SSL *)ssl,
						       st->tls_conf->server_name);
	}
	else if ((where & SSL_CB_READ_ALERT) && (ret >> 8) == SSL3_AL_FATAL) {
		why_set(st, "the server refused the connection: %s",
			SSL_alert_desc_string_long(ret));
		if (SSL_is_init_finished((SSL *)ssl))
			tmr_start(&st->tls_tmr, 0, late_alert_handler, st);
	}
	else if ((where & SSL_CB_EXIT) && ret == 0) {
		why_set(st, "the handshake failed");
	}
}


/* The server asks for our certificate and we have none: the call goes on
   without (a server may only ask), but if the server then drops us, this
   is why (under TLS 1.3 it refuses after the handshake, often without an
   alert: the INVITE is left unanswered) */
static int client_cert_handler(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
	struct stack *st = ssl_stack(ssl);
	(void)x509;
	(void)pkey;

	if (st)
		why_set(st, "the server asks for our certificate (mutual TLS) "
			"and none is configured (tls-cert-file)");

	return 0;
}


static bool is_ip(const char *name)
{
	uint8_t buf[16];

	return inet_pton(AF_INET, name, buf) == 1 ||
		inet_pton(AF_INET6, name, buf) == 1;
}


static int tls_conf_alloc(struct tls_conf **confp,
		      const struct stack_prm *prm)
{
	struct tls_conf *conf;
	int err = 0;

	conf = mem_zalloc(sizeof(*conf), tls_conf_destructor);
	if (!conf)
		return ENOMEM;

	conf->no_verify = prm->tls_no_verify;
	conf->server = prm->tls_server;
	if (prm->tls_server_name)
		err |= str_dup(&conf->server_name, prm->tls_server_name);
	if (prm->tls_ca_file)
		err |= str_dup(&conf->ca_file, prm->tls_ca_file);
	if (prm->tls_cert_file)
		err |= str_dup(&conf->cert_file, prm->tls_cert_file);
	if (prm->tls_key_file)
		err |= str_dup(&conf->key_file, prm->tls_key_file);
	if (err) {
		mem_deref(conf);
		return ENOMEM;
	}

	conf->name_is_ip = conf->server_name && is_ip(conf->server_name);
	*confp = conf;

	return 0;
}


/**
 * The stack's TLS context, made from the call's parameters: our
 * certificate, whom we trust, what we check
 *
 * @return 0 if success, otherwise errorcode and *why says what is wrong
 */
int stack_tls_alloc(struct stack *st, const struct stack_prm *prm,
		    const char **why)
{
	X509_VERIFY_PARAM *param;
	SSL_CTX *ctx;
	const char *ca;
	int err;

	err = tls_conf_alloc(&st->tls_conf, prm);
	if (err)
		return err;

	err = tls_alloc(&st->tls, TLS_METHOD_SSLV23, NULL, NULL);
	if (err)
		return err;

	ctx = tls_openssl_context(st->tls);
	if (ctx_index < 0)
		ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
						     NULL);
	if (!ctx || ctx_index < 0)
		return ENOMEM;

	/* no TLS 1.0 or 1.1 (RFC 8996) */
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_ex_data(ctx, ctx_index, st);
	SSL_CTX_set_info_callback(ctx, info_handler);
	SSL_CTX_set_client_cert_cb(ctx, client_cert_handler);

	if (prm->tls_server && !prm->tls_cert_file) {
		*why = "TLS: listening needs our certificate (tls-cert-file)";
		err = EINVAL;
		goto out;
	}

	if (prm->tls_cert_file) {
		if (SSL_CTX_use_certificate_chain_file(ctx,
						prm->tls_cert_file) != 1) {
			*why = "TLS: cannot read our certificate "
				"(tls-cert-file: a PEM certificate)";
			err = EINVAL;
			goto out;
		}
		/* the key is never printed, nor its file named */
		if (SSL_CTX_use_PrivateKey_file(ctx, prm->tls_key_file ?
						prm->tls_key_file :
						prm->tls_cert_file,
						SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			*why = "TLS: cannot read our private key, or it is "
				"not our certificate's (tls-key-file: an "
				"unencrypted PEM key)";
			err = EINVAL;
			goto out;
		}
	}

	/* a caller's certificate is not asked for: callers are clients of
	   any CA (softphones often have none); the digest challenge and
	   [sip] allow say who may call */
	if (prm->tls_server) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		goto out;
	}

	if (prm->tls_no_verify) {
		runtime_log(4, "TLS with %s: the server's certificate is NOT "
			    "checked (tls-verify off: self-signed labs only)",
			    st->tls_conf->server_name ? st->tls_conf->server_name :
			    "?");
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		goto out;
	}

	ca = prm->tls_ca_file ? prm->tls_ca_file : runtime_ca_file();
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		runtime_log(3, "TLS: cannot read the CA certificates of %s",
			    ca);
		*why = "TLS: cannot read the CA certificates (tls-ca-file, "
			"SSL_CERT_FILE or the system's bundle)";
		err = EINVAL;
		goto out;
	}

	if (!st->tls_conf->server_name) {
		*why = "TLS: no server name to check the certificate against";
		err = EINVAL;
		goto out;
	}

	param = SSL_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_hostflags(param,
					X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (st->tls_conf->name_is_ip)
		err = X509_VERIFY_PARAM_set1_ip_asc(param,
				st->tls_conf->server_name) == 1 ? 0 : EINVAL;
	else
		err = X509_VERIFY_PARAM_set1_host(param,
				st->tls_conf->server_name, 0) == 1 ? 0 : EINVAL;
	if (err) {
		*why = "TLS: no server name to check the certificate against";
		goto out;
	}

	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_handler);

 out:
	ERR_clear_error();
	return err;
}


/** Before the stack goes: no callback may find it any more */
void stack_tls_close(struct stack *st)
{
	SSL_CTX *ctx = st->tls ? tls_openssl_context(st->tls) : NULL;

	if (ctx && ctx_index >= 0)
		SSL_CTX_set_ex_data(ctx, ctx_index, NULL);
	tmr_cancel(&st->tls_tmr);
	st->tls_conf = mem_deref(st->tls_conf);
}
