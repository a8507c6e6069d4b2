/* TLS with OpenSSL: a handle's context, and the words for its failures. */

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "fsmc-int.h"

/* A CA bundle of the whole Web PKI is about 200 KiB. */
#define PEM_MAX (4UL * 1024 * 1024)

/* Whether a name is an IP address, which a certificate names otherwise. */
int
fsmc_tls_is_address(const char *name)
{
	unsigned char a[16];

	return (inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1);
}

/*
 * A key with a passphrase is refused rather than asked for: OpenSSL's
 * own prompt would wait on a terminal, and in FreeSWITCH there is none.
 */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return (-1);
}

/*
 * Read a PEM file as the configuration files are read: a regular file of
 * bounded size, so that a FIFO or a device cannot stall fsmc_open().
 */
static BIO *
read_pem(const char *setting, const char *path, mode_t *mode,
    struct fsmc_result *res)
{
	char *buf = NULL, name[256];
	size_t n = 0;
	BIO *b;

	fsmc_escape(path, strlen(path), name, sizeof name);
	switch (fsmc_read_whole(path, PEM_MAX, &buf, &n, mode)) {
	case FSMC_READ_OK:
		break;
	case FSMC_READ_ERRNO:
		fsmc_fail(res, FSMC_ECONFIG, NULL, "%s: %s: %s", setting, name,
		    strerror(errno));
		return (NULL);
	case FSMC_READ_NOTREG:
		fsmc_fail(res, FSMC_ECONFIG, NULL, "%s: %s: not a regular file",
		    setting, name);
		return (NULL);
	case FSMC_READ_BIG:
		fsmc_fail(res, FSMC_ECONFIG, NULL, "%s: %s: larger than 4 MiB",
		    setting, name);
		return (NULL);
	case FSMC_READ_NOMEM:
		fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory");
		return (NULL);
	}
	/* The BIO reads from a copy, so that a key's bytes can be wiped. */
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    BIO_write(b, buf, (int)n) != (int)n) {
		BIO_free(b);
		b = NULL;
		fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory");
	}
	OPENSSL_cleanse(buf, n);
	free(buf);
	return (b);
}

/* The certificates authorities of tls_ca_file, to check servers by. */
static enum fsmc_status
load_ca(SSL_CTX *ctx, const char *path, struct fsmc_result *res)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	char name[256];
	mode_t mode;
	X509 *x;
	BIO *b;
	int n = 0;

	if ((b = read_pem("tls_ca_file", path, &mode, res)) == NULL)
		return (res->status);
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
		X509_STORE_add_cert(store, x);
		X509_free(x);
		n++;
	}
	BIO_free(b);
	ERR_clear_error();
	if (n == 0) {
		fsmc_escape(path, strlen(path), name, sizeof name);
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "tls_ca_file: %s: no certificate in PEM form", name));
	}
	return (FSMC_OK);
}

/* The client's certificate, the chain after it, and its private key. */
static enum fsmc_status
load_identity(
    SSL_CTX *ctx, const struct fsmc_settings *st, struct fsmc_result *res)
{
	const char *keyfile, *what;
	char name[256];
	EVP_PKEY *key;
	mode_t mode;
	X509 *x;
	BIO *b;
	int n = 0;

	if ((b = read_pem("tls_cert_file", st->tls_cert_file, &mode, res)) ==
	    NULL)
		return (res->status);
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
		if ((n++ == 0 ? SSL_CTX_use_certificate(ctx, x) :
				SSL_CTX_add0_chain_cert(ctx, x)) != 1) {
			X509_free(x);
			BIO_free(b);
			fsmc_escape(st->tls_cert_file,
			    strlen(st->tls_cert_file), name, sizeof name);
			ERR_clear_error();
			return (fsmc_fail(res, FSMC_ECONFIG, NULL,
			    "tls_cert_file: %s: a certificate OpenSSL refuses",
			    name));
		}
		if (n == 1)
			X509_free(x);
	}
	BIO_free(b);
	ERR_clear_error();
	fsmc_escape(
	    st->tls_cert_file, strlen(st->tls_cert_file), name, sizeof name);
	if (n == 0)
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "tls_cert_file: %s: no certificate in PEM form", name));

	/* Without tls_key_file the key is in the certificate's file. */
	keyfile =
	    st->tls_key_file != NULL ? st->tls_key_file : st->tls_cert_file;
	what = st->tls_key_file != NULL ? "tls_key_file" : "tls_cert_file";
	fsmc_escape(keyfile, strlen(keyfile), name, sizeof name);
	if ((b = read_pem(what, keyfile, &mode, res)) == NULL)
		return (res->status);
	/* Warned about like a password file. */
	if ((mode & (S_IRGRP | S_IROTH)) != 0)
		fsmc_warn(res,
		    "%s holds a private key and can be read by group or others "
		    "(chmod 600)",
		    name);
	key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (key == NULL)
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "%s: %s: no private key in PEM form without a passphrase",
		    what, name));
	n = SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
	    SSL_CTX_check_private_key(ctx) == 1;
	EVP_PKEY_free(key);
	ERR_clear_error();
	if (!n)
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "%s: %s: not the key of the certificate in tls_cert_file",
		    what, name));
	return (FSMC_OK);
}

/*
 * The server asks for a client certificate and there is none: go on
 * without, but remember it, for the reset that TLS 1.3 servers answer
 * with once the handshake is over on this side.
 */
static int
no_certificate(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
	struct fsmc_conn *c = SSL_get_app_data(ssl);

	(void)x509;
	(void)pkey;
	if (c != NULL)
		c->cert_asked = 1;
	return (0);
}

/*
 * A TLS connection that ended, or was reset, before a byte of reply:
 * when the server had asked for a certificate it did not get, that is
 * why, and the failure is that of the handshake.  Returns whether it
 * was.
 */
int
fsmc_tls_refused(struct fsmc_conn *c)
{
	if (c->heard || !c->cert_asked)
		return (0);
	snprintf(c->detail, sizeof c->detail,
	    "TLS: the server requires a client certificate "
	    "(tls_cert_file, tls_key_file)");
	c->tls_error = 1;
	c->tls_rc = MEMCACHED_AUTH_FAILURE;
	return (1);
}

/*
 * Build the handle's TLS context from the settings.  Threads share it,
 * and only read it: each connection has an SSL of its own.
 */
enum fsmc_status
fsmc_tls_setup(struct fsmc_settings *st, struct fsmc_result *res)
{
	SSL_CTX *ctx;

	if (!st->tls)
		return (FSMC_OK);
	if ((st->tls_bio = fsmc_wire_bio_method()) == NULL ||
	    (ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ERR_clear_error();
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, NULL, "cannot make a TLS context"));
	}
	st->tls_ctx = ctx;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Writes behave as send(2)'s: partial, from wherever the rest is. */
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
		SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_verify(
	    ctx, st->tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (st->tls_cert_file == NULL)
		SSL_CTX_set_client_cert_cb(ctx, no_certificate);
	if (st->tls_ca_file != NULL) {
		if (load_ca(ctx, st->tls_ca_file, res) != FSMC_OK)
			return (res->status);
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		ERR_clear_error();
	if (st->tls_cert_file != NULL && load_identity(ctx, st, res) != FSMC_OK)
		return (res->status);
	return (FSMC_OK);
}

/* Why the server's certificate was not accepted, in a user's words. */
static void
verify_words(struct fsmc_conn *c, long v, char *buf, size_t len)
{
	const char *name = c->st->tls_server_name != NULL ?
	    c->st->tls_server_name :
	    c->sc->host;
	char esc[64];

	switch (v) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		snprintf(buf, len, "the server's certificate has expired");
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		snprintf(buf, len, "the server's certificate is not valid yet");
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		snprintf(buf, len,
		    "the server's certificate is signed by an unknown "
		    "CA (tls_ca_file)");
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		fsmc_escape(name, strlen(name), esc, sizeof esc);
		snprintf(buf, len,
		    "the server's certificate is not for \"%s\" "
		    "(name mismatch; tls_server_name)",
		    esc);
		break;
	default:
		snprintf(buf, len, "the server's certificate: %s",
		    X509_verify_cert_error_string(v));
	}
}

/*
 * The failure of a TLS call on c, whose SSL_get_error() was err: say why
 * in c->detail and return the library's code for it.  A handshake that
 * fails, for a certificate either side refuses or a peer that does not
 * speak TLS, is an authentication failure (the server could not be
 * known to be the one asked for); a broken stream afterwards, a protocol
 * error, unless it is the server refusing the client's certificate.
 */
memcached_return_t
fsmc_tls_failure(struct fsmc_conn *c, int err, int handshake)
{
	memcached_return_t rc =
	    handshake ? MEMCACHED_AUTH_FAILURE : MEMCACHED_PROTOCOL_ERROR;
	unsigned long e = ERR_peek_error();
	char why[160];
	const char *s;
	long v;
	int reason = ERR_GET_REASON(e);

	ERR_clear_error();
	if (err == SSL_ERROR_SYSCALL || e == 0) {
		if (!handshake)
			return (MEMCACHED_CONNECTION_FAILURE);
		snprintf(why, sizeof why,
		    "the server closed the connection in the handshake");
	} else if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		if (!handshake)
			return (MEMCACHED_CONNECTION_FAILURE);
		snprintf(why, sizeof why,
		    "the server closed the connection in the handshake");
	} else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED &&
	    (v = SSL_get_verify_result(c->ssl)) != X509_V_OK) {
		verify_words(c, v, why, sizeof why);
		rc = MEMCACHED_AUTH_FAILURE;
	} else if (reason == SSL_R_WRONG_VERSION_NUMBER ||
	    reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
	    reason == SSL_R_RECORD_LENGTH_MISMATCH ||
	    reason == SSL_R_HTTP_REQUEST) {
		snprintf(why, sizeof why,
		    "the server does not answer in TLS (a plaintext port?)");
		rc = MEMCACHED_AUTH_FAILURE;
	} else if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
	    (reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE &&
		c->st->tls_cert_file == NULL)) {
		snprintf(why, sizeof why,
		    "the server requires a client certificate "
		    "(tls_cert_file, tls_key_file)");
		rc = MEMCACHED_AUTH_FAILURE;
	} else if (reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
	    reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
	    reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED ||
	    reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN ||
	    reason == SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE ||
	    reason == SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED ||
	    reason == SSL_R_TLSV1_ALERT_ACCESS_DENIED) {
		s = ERR_reason_error_string(e);
		snprintf(why, sizeof why,
		    "the server refused the client certificate (%s)",
		    s != NULL ? s : "an alert");
		rc = MEMCACHED_AUTH_FAILURE;
	} else {
		s = ERR_reason_error_string(e);
		snprintf(why, sizeof why, "%s", s != NULL ? s : "failed");
	}
	snprintf(c->detail, sizeof c->detail, "TLS: %s", why);
	c->tls_error = 1;
	return (rc);
}
