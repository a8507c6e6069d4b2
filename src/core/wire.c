/* Connections of the protocol engine: connect, send and receive under
 * deadlines. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "fsmc-int.h"

/* The read buffer: room for the longest reply line, and then some. */
#define IN_BUFFER (FSMC_LINE_MAX * 8)
/* Blocks of a value are read into memory as they arrive, this much at first. */
#define BLOCK_START 65536

/* Milliseconds on a clock that only goes forward. */
int64_t
fsmc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
fsmc_conn_init(struct fsmc_conn *c, const struct fsmc_settings *st,
    const struct fsmc_server_conf *sc, int cancel_fd)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->st = st;
	c->sc = sc;
	c->binary = st->binary;
	c->cancel_fd = cancel_fd;
	c->value_max = FSMC_VALUE_MAX;
}

void
fsmc_conn_close(struct fsmc_conn *c)
{
	if (c->probe)
		fsmc_mark_release(c);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->inpos = c->inend = 0;
	c->outlen = 0;
	/* Lines no barrier confirmed may never have reached the server. */
	c->pl.lost += c->pl.unconfirmed;
	c->pl.unconfirmed = c->pl.unmarked = 0;
	c->pl.first = c->pl.nmarks = 0;
	c->quiet = 0;
}

/* Close the connection and free its buffers. */
void
fsmc_conn_free(struct fsmc_conn *c)
{
	fsmc_conn_close(c);
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	c->incap = c->outcap = 0;
}

/* Record a failure that leaves the stream unusable, and close it. */
memcached_return_t
fsmc_conn_fail(struct fsmc_conn *c, memcached_return_t rc, int errnum)
{
	if (c->owner != NULL)
		fsmc_mark_failure(c, rc, errnum);
	c->errnum = errnum;
	if (c->pl.unconfirmed > 0 && c->pl.lost == 0) {
		c->pl.lost_rc = rc;
		fsmc_conn_reason(c, rc, c->pl.lost_why, sizeof c->pl.lost_why);
	}
	fsmc_conn_close(c);
	return (rc);
}

/*
 * The reply broke the protocol: say what was wrong in c->detail, then
 * close the connection, which can no longer be read in step.
 */
memcached_return_t
fsmc_conn_broken(
    struct fsmc_conn *c, const char *what, const char *bytes, size_t len)
{
	char q[80];

	if (bytes != NULL) {
		fsmc_quote(bytes, len, q, sizeof q);
		snprintf(c->detail, sizeof c->detail, "%s: %s", what, q);
	} else
		snprintf(c->detail, sizeof c->detail, "%s", what);
	return (fsmc_conn_fail(c, MEMCACHED_PROTOCOL_ERROR, 0));
}

/*
 * A value longer than the connection takes, though within the protocol:
 * say so in c->detail, and close the connection rather than read the
 * rest of the reply.
 */
memcached_return_t
fsmc_conn_too_big(struct fsmc_conn *c, uint64_t bytes)
{
	snprintf(c->detail, sizeof c->detail,
	    "a value of %llu bytes, over the limit of %zu",
	    (unsigned long long)bytes, c->value_max);
	return (fsmc_conn_fail(c, MEMCACHED_E2BIG, 0));
}

/*
 * What libmemcached makes of an errno, so that messages and exit
 * statuses stay as they were.
 */
static memcached_return_t
errno_rc(int errnum)
{
	switch (errnum) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ENOTCONN:
		return (MEMCACHED_CONNECTION_FAILURE);
	case ENOMEM:
		return (MEMCACHED_MEMORY_ALLOCATION_FAILURE);
	case ETIMEDOUT:
		return (MEMCACHED_TIMEOUT);
	default:
		return (MEMCACHED_ERRNO);
	}
}

/* The same for a failed read or write of c, which TLS may explain. */
static memcached_return_t
io_rc(const struct fsmc_conn *c, int errnum)
{
	if (errnum == EPROTO && c->tls_rc != MEMCACHED_SUCCESS)
		return (c->tls_rc);
	return (errno_rc(errnum));
}

/*
 * Wait until fd is ready for events or the deadline passes.  The cancel
 * descriptor, when readable, ends every wait at once: a front end makes
 * it readable from a signal handler.  Bytes TLS has already taken from
 * the socket and not yet handed over make it ready to read at once.
 */
static memcached_return_t
wait_fd(struct fsmc_conn *c, short events, int64_t deadline)
{
	struct pollfd pfd[2];
	int64_t left;
	int n, nfds = 1;

	if ((events & POLLIN) && c->ssl != NULL && SSL_pending(c->ssl) > 0)
		return (MEMCACHED_SUCCESS);
	pfd[0].fd = c->fd;
	pfd[0].events = events;
	pfd[1].fd = c->cancel_fd;
	pfd[1].events = POLLIN;
	if (c->cancel_fd > 0)
		nfds = 2;
	for (;;) {
		pfd[0].revents = pfd[1].revents = 0;
		left = deadline - fsmc_now_ms();
		if (left < 0)
			left = 0;
		n = poll(pfd, (nfds_t)nfds,
		    (int)(left > INT32_MAX ? INT32_MAX : left));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return (fsmc_conn_fail(c, errno_rc(errno), errno));
		if (nfds == 2 && pfd[1].revents != 0)
			return (fsmc_conn_fail(c, MEMCACHED_TIMEOUT, EINTR));
		if (n > 0)
			return (MEMCACHED_SUCCESS);
		if (fsmc_now_ms() >= deadline)
			return (fsmc_conn_fail(c, MEMCACHED_TIMEOUT, 0));
	}
}

/* Connect to one address without waiting past the deadline. */
static memcached_return_t
connect_addr(struct fsmc_conn *c, const struct sockaddr *sa, socklen_t len,
    int family, int64_t deadline)
{
	socklen_t errlen = sizeof(int);
	memcached_return_t rc;
	int err = 0, on = 1;

	if ((c->fd = socket(
		 family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return (fsmc_conn_fail(c, errno_rc(errno), errno));
	if (connect(c->fd, sa, len) != 0) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			return (fsmc_conn_fail(c, errno_rc(errno), errno));
		if ((rc = wait_fd(c, POLLOUT, deadline)) != MEMCACHED_SUCCESS)
			return (rc);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0)
			err = errno;
		if (err != 0)
			return (fsmc_conn_fail(c, errno_rc(err), err));
	}
	if (family != AF_UNIX && c->st->tcp_nodelay)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	return (MEMCACHED_SUCCESS);
}

static memcached_return_t
connect_server(struct fsmc_conn *c, int64_t deadline)
{
	const struct fsmc_server_conf *sc = c->sc;
	struct addrinfo hints, *list, *ai;
	struct sockaddr_un sun;
	memcached_return_t rc = MEMCACHED_CONNECTION_FAILURE;
	char port[16];

	if (sc->socket) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		if (strlen(sc->host) >= sizeof sun.sun_path)
			return (
			    fsmc_conn_fail(c, MEMCACHED_FAIL_UNIX_SOCKET, 0));
		memcpy(sun.sun_path, sc->host, strlen(sc->host));
		return (connect_addr(
		    c, (struct sockaddr *)&sun, sizeof sun, AF_UNIX, deadline));
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", sc->port);
	if (getaddrinfo(sc->host, port, &hints, &list) != 0)
		return (fsmc_conn_fail(c, MEMCACHED_HOST_LOOKUP_FAILURE, 0));
	for (ai = list; ai != NULL; ai = ai->ai_next) {
		rc = connect_addr(
		    c, ai->ai_addr, ai->ai_addrlen, ai->ai_family, deadline);
		if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_TIMEOUT)
			break;
	}
	freeaddrinfo(list);
	return (rc);
}

/*
 * TLS reads and writes the socket through these, and so as the rest of
 * the engine does: no SIGPIPE for a closed peer, which would end the
 * process (FreeSWITCH's, too).
 */
static int
bio_write(BIO *b, const char *buf, int len)
{
	struct fsmc_conn *c = BIO_get_data(b);
	ssize_t w;

	BIO_clear_retry_flags(b);
	if ((w = send(c->fd, buf, (size_t)len, MSG_NOSIGNAL)) < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(b);
	return ((int)w);
}

static int
bio_read(BIO *b, char *buf, int len)
{
	struct fsmc_conn *c = BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	if ((r = recv(c->fd, buf, (size_t)len, 0)) < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_read(b);
	return ((int)r);
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return (cmd == BIO_CTRL_FLUSH ? 1 : 0);
}

/* The BIO method of a handle's TLS connections; BIO_meth_free() it. */
BIO_METHOD *
fsmc_wire_bio_method(void)
{
	BIO_METHOD *m;

	if ((m = BIO_meth_new(BIO_TYPE_SOURCE_SINK, "fsmemcache socket")) ==
	    NULL)
		return (NULL);
	if (BIO_meth_set_write(m, bio_write) != 1 ||
	    BIO_meth_set_read(m, bio_read) != 1 ||
	    BIO_meth_set_ctrl(m, bio_ctrl) != 1) {
		BIO_meth_free(m);
		return (NULL);
	}
	return (m);
}

/*
 * Start TLS on a new connection, under the connect deadline: the
 * server's certificate is checked against tls_server_name, or the host
 * as configured.  A failure is never followed by plaintext.
 */
static memcached_return_t
tls_handshake(struct fsmc_conn *c, int64_t deadline)
{
	const char *name = c->st->tls_server_name != NULL ?
	    c->st->tls_server_name :
	    c->sc->host;
	memcached_return_t rc;
	int r, err, ok;
	BIO *bio;

	ERR_clear_error();
	if ((c->ssl = SSL_new(c->st->tls_ctx)) == NULL ||
	    (bio = BIO_new(c->st->tls_bio)) == NULL) {
		ERR_clear_error();
		return (fsmc_conn_fail(
		    c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, ENOMEM));
	}
	BIO_set_data(bio, c);
	BIO_set_init(bio, 1);
	SSL_set_bio(c->ssl, bio, bio);
	SSL_set_app_data(c->ssl, c);
	c->cert_asked = 0;
	/* An address is checked as one, and is no name to send as SNI. */
	if (fsmc_tls_is_address(name))
		ok = X509_VERIFY_PARAM_set1_ip_asc(
			 SSL_get0_param(c->ssl), name) == 1;
	else
		ok = SSL_set_tlsext_host_name(c->ssl, name) == 1 &&
		    SSL_set1_host(c->ssl, name) == 1;
	if (!ok) {
		ERR_clear_error();
		snprintf(c->detail, sizeof c->detail,
		    "TLS: cannot check the server's certificate for this name");
		c->tls_error = 1;
		return (fsmc_conn_fail(c, MEMCACHED_AUTH_FAILURE, 0));
	}
	for (;;) {
		ERR_clear_error();
		if ((r = SSL_connect(c->ssl)) == 1)
			return (MEMCACHED_SUCCESS);
		err = SSL_get_error(c->ssl, r);
		if (err == SSL_ERROR_WANT_READ)
			rc = wait_fd(c, POLLIN, deadline);
		else if (err == SSL_ERROR_WANT_WRITE)
			rc = wait_fd(c, POLLOUT, deadline);
		else if (err == SSL_ERROR_SYSCALL && errno != 0 &&
		    ERR_peek_error() == 0)
			return (fsmc_conn_fail(c, errno_rc(errno), errno));
		else
			return (
			    fsmc_conn_fail(c, fsmc_tls_failure(c, err, 1), 0));
		if (rc != MEMCACHED_SUCCESS) {
			if (rc == MEMCACHED_TIMEOUT && c->errnum == 0) {
				snprintf(c->detail, sizeof c->detail,
				    "timed out in the TLS handshake");
				c->tls_error = 1;
			}
			return (rc);
		}
	}
}

/* Empty buffers and no error, for a connection about to start. */
static memcached_return_t
fresh_buffers(struct fsmc_conn *c)
{
	c->errnum = 0;
	c->detail[0] = '\0';
	c->heard = c->tls_error = 0;
	c->tls_rc = MEMCACHED_SUCCESS;
	c->inpos = c->inend = c->outlen = 0;
	if (c->in == NULL && (c->in = malloc(IN_BUFFER)) == NULL)
		return (MEMCACHED_MEMORY_ALLOCATION_FAILURE);
	c->incap = IN_BUFFER;
	return (MEMCACHED_SUCCESS);
}

/*
 * Make sure the connection is open, within the connect timeout, and
 * authenticated when the settings have SASL.  A server skipped after
 * failing fails at once (marks.c).
 */
memcached_return_t
fsmc_conn_open(struct fsmc_conn *c)
{
	memcached_return_t rc;
	int64_t deadline;

	if (c->owner != NULL && (rc = fsmc_mark_check(c)) != MEMCACHED_SUCCESS)
		return (rc);
	if (c->fd >= 0) {
		c->reused = 1;
		return (MEMCACHED_SUCCESS);
	}
	c->reused = c->alive = 0;
	if ((rc = fresh_buffers(c)) != MEMCACHED_SUCCESS)
		return (rc);
	deadline = fsmc_now_ms() + c->st->connect_ms;
	rc = connect_server(c, deadline);
	/* TLS first: SASL's password goes through it. */
	if (rc == MEMCACHED_SUCCESS && c->st->tls)
		rc = tls_handshake(c, deadline);
	if (rc == MEMCACHED_SUCCESS && c->binary && c->st->sasl_user != NULL)
		rc = fsmc_sasl_auth(c, fsmc_now_ms() + c->st->io_ms);
	return (rc);
}

/*
 * Take over a connected, non-blocking socket as fsmc_conn_open() would
 * have left it, without SASL: how a test speaks for the server over a
 * socketpair.  On failure fd is still the caller's.
 */
memcached_return_t
fsmc_conn_adopt(struct fsmc_conn *c, int fd)
{
	memcached_return_t rc;

	fsmc_conn_close(c);
	if ((rc = fresh_buffers(c)) == MEMCACHED_SUCCESS)
		c->fd = fd;
	return (rc);
}

/* Make room for n more bytes of request. */
char *
fsmc_conn_reserve(struct fsmc_conn *c, size_t n)
{
	size_t cap;
	char *p;

	if (c->outcap - c->outlen >= n)
		return (c->out + c->outlen);
	cap = c->outcap == 0 ? 4096 : c->outcap;
	while (cap - c->outlen < n)
		cap *= 2;
	if ((p = realloc(c->out, cap)) == NULL)
		return (NULL);
	c->out = p;
	c->outcap = cap;
	return (c->out + c->outlen);
}

/* Add bytes to the request being built. */
int
fsmc_conn_put(struct fsmc_conn *c, const void *s, size_t n)
{
	char *p;

	if ((p = fsmc_conn_reserve(c, n)) == NULL)
		return (-1);
	if (n > 0)
		memcpy(p, s, n);
	c->outlen += n;
	return (0);
}

/*
 * A TLS read or write that returned r <= 0, as recv(2) or send(2) would
 * have failed: EAGAIN with c->want to wait for, 0 at the end of the
 * stream, another errno from the socket, or EPROTO with c->tls_rc and
 * c->detail.
 */
static ssize_t
tls_io_error(struct fsmc_conn *c, int r)
{
	int err = SSL_get_error(c->ssl, r);

	switch (err) {
	case SSL_ERROR_WANT_READ:
		c->want = POLLIN;
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_WANT_WRITE:
		c->want = POLLOUT;
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_ZERO_RETURN:
		return (0);
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (errno == 0)
			return (0);
		c->want = POLLIN;
		return (-1);
	default:
		if ((c->tls_rc = fsmc_tls_failure(c, err, 0)) ==
		    MEMCACHED_CONNECTION_FAILURE) {
			c->tls_rc = MEMCACHED_SUCCESS;
			return (0);
		}
		errno = EPROTO;
		return (-1);
	}
}

/*
 * The same, but a connection that ends before a byte of reply, after the
 * server asked for a certificate it did not get, is that server refusing
 * it: a TLS 1.3 server does so once the handshake is over on this side.
 */
static ssize_t
tls_io_failed(struct fsmc_conn *c, int r)
{
	ssize_t n = tls_io_error(c, r);

	if ((n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) &&
	    fsmc_tls_refused(c)) {
		errno = EPROTO;
		return (-1);
	}
	return (n);
}

/*
 * The two ways bytes cross the connection, as recv(2) and send(2) have
 * them: every read and write of the engine goes through these, so that
 * whatever carries the bytes carries all of them.
 */
static ssize_t
wire_recv(struct fsmc_conn *c, void *buf, size_t len)
{
	ssize_t r;
	int n;

	if (c->ssl == NULL) {
		if ((r = recv(c->fd, buf, len, 0)) > 0)
			c->heard = 1;
		else if (r < 0)
			c->want = POLLIN;
		return (r);
	}
	ERR_clear_error();
	if ((n = SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) >
	    0) {
		c->heard = 1;
		return (n);
	}
	return (tls_io_failed(c, n));
}

static ssize_t
wire_send(struct fsmc_conn *c, const void *buf, size_t len)
{
	ssize_t w;
	int n;

	if (c->ssl == NULL) {
		if ((w = send(c->fd, buf, len, MSG_NOSIGNAL)) < 0)
			c->want = POLLOUT;
		return (w);
	}
	ERR_clear_error();
	if ((n = SSL_write(c->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) >
	    0)
		return (n);
	/* A write that ends the stream is a peer that hung up. */
	if ((w = tls_io_failed(c, n)) == 0) {
		errno = EPIPE;
		w = -1;
	}
	return (w);
}

/*
 * Take in what the server has sent without waiting: replies a pipeline
 * does not wait for would otherwise fill the socket and stall the
 * server.  Returns -1 when the read buffer is full.
 */
static int
read_some(struct fsmc_conn *c, int64_t deadline, int wait)
{
	memcached_return_t rc;
	ssize_t r;

	if (c->inpos > 0 && c->inpos == c->inend)
		c->inpos = c->inend = 0;
	if (c->inend == c->incap && c->inpos > 0) {
		memmove(c->in, c->in + c->inpos, c->inend - c->inpos);
		c->inend -= c->inpos;
		c->inpos = 0;
	}
	if (c->inend == c->incap)
		return (-1);
	for (;;) {
		/* A reply that keeps coming is held to its deadline too. */
		if (wait && fsmc_now_ms() >= deadline) {
			c->rc = fsmc_conn_fail(c, MEMCACHED_TIMEOUT, 0);
			return (-2);
		}
		r = wire_recv(c, c->in + c->inend, c->incap - c->inend);
		if (r > 0) {
			c->inend += (size_t)r;
			if (!c->alive && c->owner != NULL)
				fsmc_mark_success(c);
			c->alive = 1;
			return (0);
		}
		if (r == 0) {
			fsmc_conn_fail(c, MEMCACHED_CONNECTION_FAILURE, 0);
			c->rc = MEMCACHED_CONNECTION_FAILURE;
			return (-2);
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			c->rc = io_rc(c, errno);
			fsmc_conn_fail(c, c->rc, errno);
			return (-2);
		}
		if (!wait)
			return (0);
		if ((rc = wait_fd(c, c->want, deadline)) != MEMCACHED_SUCCESS) {
			c->rc = rc;
			return (-2);
		}
	}
}

/* Binary opcodes of the requests without replies that --pipe sends. */
#define BIN_NOOP 0x0a
#define BIN_SETQ 0x11
#define BIN_DELETEQ 0x14

/*
 * One barrier's reply has come: the lines before it reached the server,
 * which has read them all.
 */
static memcached_return_t
confirm(struct fsmc_conn *c, const char *reply, size_t len)
{
	struct fsmc_pipe_lines *pl = &c->pl;
	unsigned long n;

	if (pl->nmarks == 0)
		return (fsmc_conn_broken(
		    c, "a reply to a barrier never sent", reply, len));
	n = pl->marks[pl->first];
	pl->first = (pl->first + 1) % FSMC_PIPE_MARKS;
	pl->nmarks--;
	pl->unconfirmed -= n;
	pl->confirmed += n;
	return (MEMCACHED_SUCCESS);
}

/*
 * Take the complete replies in the buffer of a connection whose requests
 * want none (c->quiet): a barrier's reply confirms the lines before it,
 * an error reply is a request that failed, counted in c->refused, and
 * anything else breaks the protocol.  Without this, a server with many
 * such replies to send would stop reading, and the pipeline would stall.
 */
memcached_return_t
fsmc_conn_quiet_replies(struct fsmc_conn *c)
{
	memcached_return_t rc;
	const unsigned char *h;
	size_t bodylen, len;
	const char *line, *nl;
	uint32_t n;

	while (c->fd >= 0 && c->inpos < c->inend) {
		line = c->in + c->inpos;
		len = c->inend - c->inpos;
		if (!c->binary) {
			if ((nl = memchr(line, '\n', len)) == NULL) {
				if (len >= FSMC_LINE_MAX)
					return (fsmc_conn_broken(c,
					    "a reply line longer than " FSMC_LINE_MAX_TEXT
					    " bytes",
					    line, 40));
				break;
			}
			len = (size_t)(nl - line);
			if (len == 0 || line[len - 1] != '\r')
				return (fsmc_conn_broken(c,
				    "a reply line without CR LF", line, len));
			len--;
			if (len > 8 && memcmp(line, "VERSION ", 8) == 0)
				rc = confirm(c, line, len);
			else if ((len == 5 && memcmp(line, "ERROR", 5) == 0) ||
			    (len > 13 &&
				memcmp(line, "CLIENT_ERROR ", 13) == 0) ||
			    (len > 13 &&
				memcmp(line, "SERVER_ERROR ", 13) == 0)) {
				c->refused++;
				rc = MEMCACHED_SUCCESS;
			} else
				return (fsmc_conn_broken(c,
				    "a reply to a request without one", line,
				    len));
			if (rc != MEMCACHED_SUCCESS)
				return (rc);
			c->inpos += len + 2;
			continue;
		}
		if (len < 24)
			break;
		h = (const unsigned char *)line;
		memcpy(&n, h + 8, 4);
		bodylen = ntohl(n);
		if (h[0] != 0x81 || bodylen > FSMC_LINE_MAX)
			return (fsmc_conn_broken(c,
			    "a binary response with a bad header", line, 24));
		if (len - 24 < bodylen)
			break;
		if (h[1] == BIN_NOOP && h[6] == 0 && h[7] == 0) {
			if ((rc = confirm(c, line, 24)) != MEMCACHED_SUCCESS)
				return (rc);
		} else if (h[1] >= BIN_SETQ && h[1] <= BIN_DELETEQ &&
		    (h[6] != 0 || h[7] != 0))
			c->refused++;
		else
			return (fsmc_conn_broken(c,
			    "a binary response to a request without one", line,
			    24));
		c->inpos += 24 + bodylen;
	}
	if (c->inpos == c->inend)
		c->inpos = c->inend = 0;
	return (MEMCACHED_SUCCESS);
}

/*
 * Take in, without waiting, what the server of a quiet connection has
 * sent, and the replies it completes.
 */
memcached_return_t
fsmc_conn_quiet_take(struct fsmc_conn *c)
{
	if (c->fd >= 0 && read_some(c, 0, 0) == -2)
		return (c->rc);
	return (fsmc_conn_quiet_replies(c));
}

/*
 * Wait until at most want barriers of a quiet connection are still
 * unanswered, each within the I/O timeout of the last one answered.
 */
memcached_return_t
fsmc_conn_quiet_wait(struct fsmc_conn *c, unsigned int want)
{
	memcached_return_t rc;
	unsigned int left = c->pl.nmarks;
	int64_t deadline = fsmc_now_ms() + c->st->io_ms;

	for (;;) {
		if ((rc = fsmc_conn_quiet_replies(c)) != MEMCACHED_SUCCESS)
			return (rc);
		if (c->pl.nmarks <= want)
			return (MEMCACHED_SUCCESS);
		if (c->pl.nmarks < left) {
			left = c->pl.nmarks;
			deadline = fsmc_now_ms() + c->st->io_ms;
		}
		if (read_some(c, deadline, 1) == -2)
			return (c->rc);
	}
}

/*
 * Send the request built so far, all of it, before the deadline.  While
 * the socket is full, replies already there are read into the buffer.
 */
memcached_return_t
fsmc_conn_send(struct fsmc_conn *c, int64_t deadline)
{
	memcached_return_t rc;
	size_t done = 0;
	ssize_t w;
	int room;

	while (done < c->outlen) {
		w = wire_send(c, c->out + done, c->outlen - done);
		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			c->outlen = 0;
			if (errno == EPIPE)
				return (fsmc_conn_fail(c,
				    MEMCACHED_CONNECTION_FAILURE, ECONNRESET));
			return (fsmc_conn_fail(c, io_rc(c, errno), errno));
		}
		room = c->inend < c->incap || c->inpos > 0;
		if ((rc = wait_fd(c, room ? c->want | POLLIN : c->want,
			 deadline)) != MEMCACHED_SUCCESS) {
			c->outlen = 0;
			return (rc);
		}
		if (room && read_some(c, deadline, 0) == -2) {
			c->outlen = 0;
			return (c->rc);
		}
		if (c->quiet &&
		    (rc = fsmc_conn_quiet_replies(c)) != MEMCACHED_SUCCESS)
			return (rc);
	}
	c->outlen = 0;
	return (MEMCACHED_SUCCESS);
}

/*
 * The next reply line, without its CR LF, NUL-terminated in the read
 * buffer until the next read.  A line longer than FSMC_LINE_MAX, without
 * CR before LF (but where c->bare_lf allows it), or holding a NUL byte
 * breaks the protocol.
 */
memcached_return_t
fsmc_conn_line(
    struct fsmc_conn *c, int64_t deadline, char **linep, size_t *lenp)
{
	char *line, *nl;
	size_t len;
	int r;

	for (;;) {
		line = c->in + c->inpos;
		if ((nl = memchr(line, '\n', c->inend - c->inpos)) != NULL)
			break;
		if (c->inend - c->inpos >= FSMC_LINE_MAX)
			return (fsmc_conn_broken(c,
			    "a reply line longer than " FSMC_LINE_MAX_TEXT
			    " bytes",
			    line, 40));
		if ((r = read_some(c, deadline, 1)) == -2)
			return (c->rc);
		if (r == -1) {
			memmove(c->in, line, c->inend - c->inpos);
			c->inend -= c->inpos;
			c->inpos = 0;
		}
	}
	len = (size_t)(nl - line);
	if (len + 1 > FSMC_LINE_MAX)
		return (fsmc_conn_broken(c,
		    "a reply line longer than " FSMC_LINE_MAX_TEXT " bytes",
		    line, 40));
	c->inpos += len + 1;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	else if (!c->bare_lf)
		return (fsmc_conn_broken(
		    c, "a reply line without CR LF", line, len));
	line[len] = '\0';
	if (memchr(line, '\0', len) != NULL)
		return (fsmc_conn_broken(
		    c, "a NUL byte in a reply line", line, len));
	*linep = line;
	*lenp = len;
	return (MEMCACHED_SUCCESS);
}

/*
 * Read exactly n bytes into *bufp, a new allocation.  Memory grows with
 * what arrives, not with what a header announces.
 */
memcached_return_t
fsmc_conn_block(struct fsmc_conn *c, int64_t deadline, size_t n, char **bufp)
{
	memcached_return_t rc;
	size_t have = 0, cap, take;
	char *buf, *p;
	ssize_t r;

	*bufp = NULL;
	cap = n < BLOCK_START ? n : BLOCK_START;
	if ((buf = malloc(cap + 1)) == NULL)
		return (fsmc_conn_fail(
		    c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, ENOMEM));
	while (have < n) {
		take = c->inend - c->inpos;
		if (take > 0) {
			if (take > n - have)
				take = n - have;
			if (have + take > cap) {
				cap = have + take;
				if ((p = realloc(buf, cap + 1)) == NULL)
					goto nomem;
				buf = p;
			}
			memcpy(buf + have, c->in + c->inpos, take);
			c->inpos += take;
			have += take;
			continue;
		}
		if (fsmc_now_ms() >= deadline) {
			free(buf);
			return (fsmc_conn_fail(c, MEMCACHED_TIMEOUT, 0));
		}
		if (cap == have) {
			cap = cap * 2 < n ? cap * 2 : n;
			if ((p = realloc(buf, cap + 1)) == NULL)
				goto nomem;
			buf = p;
		}
		r = wire_recv(c, buf + have, cap - have);
		if (r > 0) {
			have += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			free(buf);
			if (r == 0)
				return (fsmc_conn_fail(
				    c, MEMCACHED_CONNECTION_FAILURE, 0));
			return (fsmc_conn_fail(c, io_rc(c, errno), errno));
		}
		if ((rc = wait_fd(c, c->want, deadline)) != MEMCACHED_SUCCESS) {
			free(buf);
			return (rc);
		}
	}
	buf[n] = '\0';
	*bufp = buf;
	return (MEMCACHED_SUCCESS);
nomem:
	free(buf);
	return (fsmc_conn_fail(c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, ENOMEM));
}

/* Read exactly n bytes into buf, which has room for them. */
memcached_return_t
fsmc_conn_read(struct fsmc_conn *c, int64_t deadline, void *buf, size_t n)
{
	char *dst = buf;
	size_t take;
	int r;

	while (n > 0) {
		take = c->inend - c->inpos;
		if (take > 0) {
			if (take > n)
				take = n;
			memcpy(dst, c->in + c->inpos, take);
			c->inpos += take;
			dst += take;
			n -= take;
			continue;
		}
		if ((r = read_some(c, deadline, 1)) == -2)
			return (c->rc);
	}
	return (MEMCACHED_SUCCESS);
}

/*
 * Whether bytes the server sent are waiting in the buffer, unread: after
 * a reply is complete there must be none, except where requests were
 * pipelined.  Only what arrived with the reply is seen, at no cost (TLS
 * may hold some of it, decrypted).
 */
int
fsmc_conn_pending(const struct fsmc_conn *c)
{
	return (c->fd >= 0 &&
	    (c->inend > c->inpos ||
		(c->ssl != NULL && SSL_pending(c->ssl) > 0)));
}

/*
 * Whether the server has sent something not yet read, or closed the
 * connection, looking without waiting: a kept connection with nothing
 * in flight must have neither (a restart, an idle timeout, bytes nobody
 * asked for), and a reply already there came in time.
 */
int
fsmc_conn_readable(struct fsmc_conn *c)
{
	struct pollfd pfd;

	if (c->fd < 0 || fsmc_conn_pending(c))
		return (1);
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == 0)
		return (0);
	if (c->ssl == NULL)
		return (1);
	/*
	 * TLS records without data (session tickets) make the socket
	 * readable too: read what is there to tell.
	 */
	return (read_some(c, 0, 0) == -2 || c->inend > c->inpos);
}

/*
 * Turn off Nagle's algorithm on an open TCP connection, whatever the
 * settings say: for a pipeline, which gathers its requests into large
 * writes itself, and whose second write of a window Nagle would hold
 * back until the server acknowledged the first.
 */
void
fsmc_conn_nodelay(struct fsmc_conn *c)
{
	int on = 1;

	if (c->fd >= 0 && !c->sc->socket)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}
