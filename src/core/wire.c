/* Connections of the protocol engine: connect, send and receive under
 * deadlines. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->inpos = c->inend = 0;
	c->outlen = 0;
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

/*
 * Wait until fd is ready for events or the deadline passes.  The cancel
 * descriptor, when readable, ends every wait at once: a front end makes
 * it readable from a signal handler.
 */
static memcached_return_t
wait_fd(struct fsmc_conn *c, short events, int64_t deadline)
{
	struct pollfd pfd[2];
	int64_t left;
	int n, nfds = 1;

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

/* Empty buffers and no error, for a connection about to start. */
static memcached_return_t
fresh_buffers(struct fsmc_conn *c)
{
	c->errnum = 0;
	c->detail[0] = '\0';
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

	if (c->owner != NULL && (rc = fsmc_mark_check(c)) != MEMCACHED_SUCCESS)
		return (rc);
	if (c->fd >= 0) {
		c->reused = 1;
		return (MEMCACHED_SUCCESS);
	}
	c->reused = c->alive = 0;
	if ((rc = fresh_buffers(c)) != MEMCACHED_SUCCESS)
		return (rc);
	rc = connect_server(c, fsmc_now_ms() + c->st->connect_ms);
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
		r = recv(c->fd, c->in + c->inend, c->incap - c->inend, 0);
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
			c->rc = errno_rc(errno);
			fsmc_conn_fail(c, c->rc, errno);
			return (-2);
		}
		if (!wait)
			return (0);
		if ((rc = wait_fd(c, POLLIN, deadline)) != MEMCACHED_SUCCESS) {
			c->rc = rc;
			return (-2);
		}
	}
}

/*
 * Pass over the complete replies in the buffer of a connection whose
 * requests want none: each is a request that failed.  Without this, a
 * server with many such replies to send would stop reading, and the
 * pipeline would stall.
 */
static void
pass_over_replies(struct fsmc_conn *c)
{
	size_t bodylen, len;
	const char *nl;
	uint32_t n;

	for (;;) {
		len = c->inend - c->inpos;
		if (!c->binary) {
			if ((nl = memchr(c->in + c->inpos, '\n', len)) == NULL)
				break;
			c->inpos = (size_t)(nl - c->in) + 1;
		} else {
			if (len < 24)
				break;
			memcpy(&n, c->in + c->inpos + 8, 4);
			bodylen = ntohl(n);
			if (len - 24 < bodylen)
				break;
			c->inpos += 24 + bodylen;
		}
		c->refused++;
	}
	if (c->inpos == c->inend)
		c->inpos = c->inend = 0;
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
		w = send(c->fd, c->out + done, c->outlen - done, MSG_NOSIGNAL);
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
			return (fsmc_conn_fail(c, errno_rc(errno), errno));
		}
		room = c->inend < c->incap || c->inpos > 0;
		if ((rc = wait_fd(c, room ? POLLOUT | POLLIN : POLLOUT,
			 deadline)) != MEMCACHED_SUCCESS) {
			c->outlen = 0;
			return (rc);
		}
		if (room && read_some(c, deadline, 0) == -2) {
			c->outlen = 0;
			return (c->rc);
		}
		if (c->quiet)
			pass_over_replies(c);
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
		r = recv(c->fd, buf + have, cap - have, 0);
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
			return (fsmc_conn_fail(c, errno_rc(errno), errno));
		}
		if ((rc = wait_fd(c, POLLIN, deadline)) != MEMCACHED_SUCCESS) {
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
 * pipelined.  Only what arrived with the reply is seen, at no cost.
 */
int
fsmc_conn_pending(const struct fsmc_conn *c)
{
	return (c->fd >= 0 && c->inend > c->inpos);
}
