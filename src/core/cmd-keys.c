/* keys, an extension: list keys with memcached's lru_crawler metadump. */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fsmc-int.h"

/*
 * libmemcached has no call for metadump (its dump uses "stats
 * cachedump", which misses keys on memcached 1.5 and later), so this
 * speaks the text protocol on a socket of its own, with the configured
 * timeouts.
 */

/* How long to wait for a crawler another client has running. */
#define BUSY_TRIES 40
#define BUSY_WAIT_MS 50

struct conn {
	int fd;
	int io_ms;
	char buf[65536];
	size_t start, end;
};

static int
wait_fd(int fd, short events, int ms)
{
	struct pollfd pfd;
	int n;

	pfd.fd = fd;
	pfd.events = events;
	do
		n = poll(&pfd, 1, ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		errno = ETIMEDOUT;
	return (n > 0 ? 0 : -1);
}

/* Connect to one address without blocking longer than ms. */
static int
connect_addr(const struct sockaddr *sa, socklen_t len, int family, int ms)
{
	int fd, err;
	socklen_t errlen = sizeof err;

	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (-1);
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	if (connect(fd, sa, len) == 0)
		return (fd);
	if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, ms) < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
		goto fail;
	if (err == 0)
		return (fd);
	errno = err;
fail:
	err = errno;
	close(fd);
	errno = err;
	return (-1);
}

static int
open_conn(const struct fsmc_server_conf *sc, int connect_ms)
{
	struct addrinfo hints, *list, *ai;
	struct sockaddr_un sun;
	char port[16];
	int fd = -1, err;

	if (sc->socket) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		if (strlen(sc->host) >= sizeof sun.sun_path) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		memcpy(sun.sun_path, sc->host, strlen(sc->host));
		return (connect_addr(
		    (struct sockaddr *)&sun, sizeof sun, AF_UNIX, connect_ms));
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", sc->port);
	if ((err = getaddrinfo(sc->host, port, &hints, &list)) != 0) {
		errno = EHOSTUNREACH;
		return (-2);
	}
	for (ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = connect_addr(
		    ai->ai_addr, ai->ai_addrlen, ai->ai_family, connect_ms);
	err = errno;
	freeaddrinfo(list);
	errno = err;
	return (fd);
}

/* The system's words for an error, in lower case as in other messages. */
static const char *
reason(int err)
{
	switch (err) {
	case ETIMEDOUT:
		return ("timed out");
	case ECONNREFUSED:
		return ("connection refused");
	case ECONNRESET:
		return ("connection reset");
	case ENOENT:
		return ("no such socket");
	case EHOSTUNREACH:
		return ("host unreachable");
	case ENETUNREACH:
		return ("network unreachable");
	default:
		return ("connection failure");
	}
}

static int
send_all(struct conn *c, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if (wait_fd(c->fd, POLLOUT, c->io_ms) < 0)
			return (-1);
		if ((w = send(c->fd, s, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return (-1);
		}
		s += w;
		n -= (size_t)w;
	}
	return (0);
}

/* The next line, without its CR LF, in place; NULL on error or EOF. */
static char *
read_line(struct conn *c)
{
	char *nl, *line;
	ssize_t r;

	for (;;) {
		nl = memchr(c->buf + c->start, '\n', c->end - c->start);
		if (nl != NULL) {
			line = c->buf + c->start;
			c->start = (size_t)(nl - c->buf) + 1;
			*nl = '\0';
			if (nl > line && nl[-1] == '\r')
				nl[-1] = '\0';
			return (line);
		}
		if (c->start > 0) {
			memmove(c->buf, c->buf + c->start, c->end - c->start);
			c->end -= c->start;
			c->start = 0;
		}
		if (c->end == sizeof c->buf) {
			errno = EMSGSIZE;
			return (NULL);
		}
		if (wait_fd(c->fd, POLLIN, c->io_ms) < 0)
			return (NULL);
		r = recv(c->fd, c->buf + c->end, sizeof c->buf - c->end, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return (NULL);
		}
		c->end += (size_t)r;
	}
}

/* Decode %XX escapes in place (metadump URL-encodes keys). */
static size_t
url_decode(char *s)
{
	char *in = s, *out = s, hex[3] = { 0, 0, 0 };

	while (*in != '\0') {
		if (in[0] == '%' && in[1] != '\0' && in[2] != '\0') {
			hex[0] = in[1];
			hex[1] = in[2];
			*out++ = (char)strtol(hex, NULL, 16);
			in += 3;
		} else
			*out++ = *in++;
	}
	*out = '\0';
	return ((size_t)(out - s));
}

static const char *
field(const char *line, const char *name)
{
	const char *p = line;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[n] == '=')
			return (p + n + 1);
		p += n;
	}
	return (NULL);
}

static int
add_key(struct fsmc_result *res, const char *key, size_t len, long long exp,
    unsigned long long size)
{
	struct fsmc_key *keys, *k;
	size_t cap;

	if (res->nkeys == res->keycap) {
		cap = res->keycap == 0 ? 256 : res->keycap * 2;
		if ((keys = realloc(res->keys, cap * sizeof *keys)) == NULL)
			return (-1);
		res->keys = keys;
		res->keycap = cap;
	}
	k = &res->keys[res->nkeys];
	if ((k->name = malloc(len + 1)) == NULL)
		return (-1);
	memcpy(k->name, key, len);
	k->name[len] = '\0';
	k->len = len;
	k->exp = exp;
	k->size = size;
	res->nkeys++;
	return (0);
}

/*
 * Dump one server's keys into res, keeping those under the namespace and
 * prefix (the namespace is removed).  Returns 0, or -1 with *why set.
 */
static int
dump_server(
    struct fsmc_call *call, const struct fsmc_server_conf *sc, const char **why)
{
	const struct fsmc_settings *st = &call->fc->settings;
	const char *ns = st->ns != NULL ? st->ns : "", *v;
	size_t nslen = strlen(ns), len;
	struct timespec pause = { 0, BUSY_WAIT_MS * 1000000L };
	struct conn *c;
	char *line, *key, *rest;
	long long exp;
	unsigned long long size;
	int tries = 0, rc = -1;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		*why = "out of memory";
		return (-1);
	}
	c->io_ms = st->io_ms;
again:
	if ((c->fd = open_conn(sc, st->connect_ms)) < 0) {
		*why = c->fd == -2 ? "host not found" : reason(errno);
		free(c);
		return (-1);
	}
	if (send_all(c, "lru_crawler metadump all\r\n", 26) < 0)
		goto io;
	while ((line = read_line(c)) != NULL) {
		if (strcmp(line, "END") == 0) {
			rc = 0;
			goto done;
		}
		if (strncmp(line, "BUSY", 4) == 0 && tries++ < BUSY_TRIES) {
			close(c->fd);
			c->start = c->end = 0;
			nanosleep(&pause, NULL);
			goto again;
		}
		if (strncmp(line, "key=", 4) != 0) {
			*why = strncmp(line, "ERROR", 5) == 0 ?
			    "the server has no lru_crawler metadump "
			    "(memcached 1.4.31 or later)" :
			    "unexpected reply to lru_crawler metadump";
			goto done;
		}
		/* The fields follow the key, which decoding shortens. */
		key = line + 4;
		rest = key + strcspn(key, " ");
		if (*rest != '\0')
			*rest++ = '\0';
		len = url_decode(key);
		if (len < nslen || memcmp(key, ns, nslen) != 0 ||
		    len - nslen < call->a.keylen ||
		    memcmp(key + nslen, call->a.key, call->a.keylen) != 0)
			continue;
		v = field(rest, "exp");
		exp = v != NULL ? strtoll(v, NULL, 10) : -1;
		v = field(rest, "size");
		size = v != NULL ? strtoull(v, NULL, 10) : 0;
		if (add_key(call->res, key + nslen, len - nslen, exp, size) !=
		    0) {
			*why = "out of memory";
			goto done;
		}
	}
io:
	*why = reason(errno);
done:
	close(c->fd);
	free(c);
	return (rc);
}

/*
 * List the keys on every server that start with the namespace and the
 * given prefix.  A server that fails gets its error in the server list,
 * as with status verbose, and the others are still listed.
 */
enum fsmc_status
cmd_keys(struct fsmc_call *call)
{
	const struct fsmc_settings *st = &call->fc->settings;
	struct fsmc_result *res = call->res;
	const char *why = NULL, *firstwhy = NULL;
	size_t i, failed = 0;
	char label[300], first[300] = "";

	if (call->a.key == NULL)
		call->a.key = "";
	if (st->sasl_user != NULL)
		return (fsmc_fail(res, FSMC_EUSAGE, call->cmd->name,
		    "needs the text protocol, which cannot authenticate"));
	if ((res->servers = calloc(st->nservers, sizeof *res->servers)) == NULL)
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	for (i = 0; i < st->nservers; i++) {
		res->servers[i].port = st->servers[i].port;
		if ((res->servers[i].host = strdup(st->servers[i].host)) ==
		    NULL)
			return (fsmc_fail(res, FSMC_EINTERNAL, call->cmd->name,
			    "out of memory"));
		res->nservers++;
		if (dump_server(call, &st->servers[i], &why) == 0)
			continue;
		res->servers[i].error = why;
		if (failed++ == 0) {
			firstwhy = why;
			fsmc_address(st->servers[i].host, st->servers[i].port,
			    first, sizeof first);
		}
	}
	if (failed == 0)
		return (FSMC_OK);
	res->errtext = memcached_strerror(NULL, MEMCACHED_SOME_ERRORS);
	snprintf(label, sizeof label, " and %zu more server%s", failed - 1,
	    failed > 2 ? "s" : "");
	return (fsmc_fail(res,
	    strstr(firstwhy, "metadump") != NULL ? FSMC_ESERVER : FSMC_EUNAVAIL,
	    call->cmd->name, "%s (%s)%s", firstwhy, first,
	    failed > 1 ? label : ""));
}
