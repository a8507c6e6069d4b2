/*
 * libFuzzer target: the protocol engine's readers (wire.c) and reply
 * parsers (proto.c), fed whatever a server might send.
 *
 * The engine talks to the harness over a socketpair: it sends its
 * request as it would to memcached, and reads a reply that is the input,
 * after which the "server" closes its end.  All of the reply is in the
 * socket before the first read, so no read ever waits: the deadline,
 * long enough for a slow sanitized build, only bounds a bug, and a
 * timeout is itself one.
 *
 * Input: byte 0 picks the handle and the reader.
 *	bit 0		binary protocol (metadump lines: CR LF required)
 *	bit 1		namespace "ns:"
 *	bits 2-3	0: the single reply to set, add, replace, append,
 *			prepend, delete, incr, decr, touch, flush or version;
 *			1: a multi-get read with fsmc_wire_value() until END;
 *			2: a stats reply read with fsmc_wire_stat() until END;
 *			3: metadump lines read with fsmc_conn_line()
 *	bit 4		stats and metadump: well-formed padding first, so
 *			that the input falls across the end of the read
 *			buffer (where a text line is moved to the front)
 *	bit 5		multi-get keys that repeat and prefix one another
 *	bit 6		instead of bits 2-3: the replies to inspect's meta
 *			get and meta debug, read with
 *			fsmc_wire_inspected() (text protocol)
 * Byte 1 is the reader's parameter: the verb of a single reply, the
 * number of keys of a multi-get (1 to 4), or how many 32-byte frames
 * short of the read buffer's end the padding stops (1 to 128).  The rest
 * is what the server sends.
 *
 * Checked beyond what the sanitizers see: a protocol error closes the
 * connection and says why in printable ASCII; items of a multi-get come
 * in the order asked, each NUL-terminated; every byte of a value or a
 * statistic is readable; nothing is left allocated.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fsmc-int.h"

#define DEADLINE_MS 10000
/* Room in the socket for the padding and the longest input at once. */
#define SOCKET_BUFFER (1024 * 1024)
#define PAD_FRAME 32
#define MAX_KEYS 4

enum mode { M_SINGLE, M_MGET, M_STATS, M_LINES, M_META };

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const enum fsmc_verb single_verbs[] = { FSMC_V_SET, FSMC_V_ADD,
	FSMC_V_REPLACE, FSMC_V_APPEND, FSMC_V_PREPEND, FSMC_V_DELETE,
	FSMC_V_INCR, FSMC_V_DECR, FSMC_V_TOUCH, FSMC_V_FLUSH, FSMC_V_VERSION };

static const char *const keysets[2][MAX_KEYS] = {
	{ "k0", "k1", "k2", "k3" },
	{ "k", "k", "kk", "k" },
};

static volatile unsigned char sink;

static void
fail(const char *why, const struct fsmc_conn *c, memcached_return_t rc)
{
	fprintf(stderr, "fuzz-reply: %s: rc %d (%s), detail \"%s\"\n", why,
	    (int)rc, memcached_strerror(NULL, rc), c->detail);
	abort();
}

/* Read every byte, so that AddressSanitizer sees one out of bounds. */
static void
touch(const char *p, size_t n)
{
	unsigned char x = 0;
	size_t i;

	for (i = 0; i < n; i++)
		x ^= (unsigned char)p[i];
	sink = x;
}

/* What holds after any read, whatever the server sent. */
static void
check(const struct fsmc_conn *c, memcached_return_t rc)
{
	size_t i;

	if (memchr(c->detail, '\0', sizeof c->detail) == NULL)
		fail("detail not terminated", c, rc);
	for (i = 0; c->detail[i] != '\0'; i++) {
		if ((unsigned char)c->detail[i] < 0x20 ||
		    (unsigned char)c->detail[i] > 0x7e)
			fail("an unprintable byte in the detail", c, rc);
	}
	if (rc == MEMCACHED_PROTOCOL_ERROR &&
	    (c->fd >= 0 || c->detail[0] == '\0'))
		fail("a protocol error that leaves the connection open or "
		     "unexplained",
		    c, rc);
	if (rc == MEMCACHED_TIMEOUT)
		fail("waited although the server had closed", c, rc);
	if (c->inpos > c->inend || c->inend > c->incap)
		fail("the read buffer out of bounds", c, rc);
}

/* As fsmc_exchange() and cmd-get.c end a reply that should be whole. */
static memcached_return_t
whole(struct fsmc_conn *c, memcached_return_t rc, memcached_return_t done)
{
	if (rc == done && fsmc_conn_pending(c))
		rc = fsmc_conn_broken(c, "more than one reply to one request",
		    c->in + c->inpos, c->inend - c->inpos);
	return (rc);
}

static memcached_return_t
read_single(struct fsmc_conn *c, int64_t deadline, enum fsmc_verb verb)
{
	struct fsmc_request rq;
	struct fsmc_response rp;
	memcached_return_t rc;

	memset(&rq, 0, sizeof rq);
	rq.verb = verb;
	rc = fsmc_wire_reply(c, &rq, deadline, &rp);
	if (rc == MEMCACHED_SUCCESS && verb == FSMC_V_VERSION &&
	    (rp.value == NULL || rp.value[rp.valuelen] != '\0'))
		fail("a version without its text", c, rc);
	if (rp.value != NULL)
		touch(rp.value, rp.valuelen);
	free(rp.value);
	/* fsmc_exchange() checks after any reply that leaves it in step. */
	if (rc != MEMCACHED_PROTOCOL_ERROR)
		rc = whole(c, rc, rc);
	return (rc);
}

/*
 * Like cmd-get.c, a failure ends the reply without freeing rp: a value
 * left in it would be a leak there too.
 */
static memcached_return_t
read_mget(struct fsmc_conn *c, int64_t deadline, const char *const *keys,
    const size_t *lens, size_t n)
{
	struct fsmc_response rp;
	memcached_return_t rc;
	size_t cursor = 0, before, which;

	for (;;) {
		before = cursor;
		which = n;
		rc = fsmc_wire_value(
		    c, deadline, keys, lens, n, &cursor, &which, &rp);
		if (rc != MEMCACHED_SUCCESS)
			break;
		if (which < before || which >= n || cursor != which + 1)
			fail("an item out of order", c, rc);
		if (rp.value == NULL || rp.value[rp.valuelen] != '\0')
			fail("a value not NUL-terminated", c, rc);
		touch(rp.value, rp.valuelen);
		free(rp.value);
	}
	return (whole(c, rc, MEMCACHED_END));
}

static memcached_return_t
read_stats(struct fsmc_conn *c, int64_t deadline)
{
	struct fsmc_stat_line sl;
	memcached_return_t rc;
	size_t count = 0;

	memset(&sl, 0, sizeof sl);
	while ((rc = fsmc_wire_stat(c, deadline, &count, &sl)) ==
	    MEMCACHED_SUCCESS) {
		if (sl.name == NULL || sl.namelen == 0 || sl.value == NULL)
			fail("a statistic without a name", c, rc);
		if (count > FSMC_STATS_MAX)
			fail("too many statistics", c, rc);
		/* A line or a binary body holds both. */
		if (sl.namelen + sl.valuelen > FSMC_LINE_MAX)
			fail("a statistic too long", c, rc);
		touch(sl.name, sl.namelen);
		touch(sl.value, sl.valuelen);
	}
	free(sl.body);
	return (whole(c, rc, MEMCACHED_END));
}

/* As cmd-keys.c reads a metadump, but past lines it would refuse. */
static memcached_return_t
read_lines(struct fsmc_conn *c, int64_t deadline)
{
	memcached_return_t rc;
	char *line;
	size_t len;

	while ((rc = fsmc_conn_line(c, deadline, &line, &len)) ==
	    MEMCACHED_SUCCESS) {
		if (line[len] != '\0' || strlen(line) != len)
			fail("a line whose length is wrong", c, rc);
		if (len > FSMC_LINE_MAX)
			fail("a line too long", c, rc);
		if (strcmp(line, "END") == 0)
			return (MEMCACHED_END);
	}
	return (rc);
}

/* As cmd-inspect.c reads inspect's replies. */
static memcached_return_t
read_meta(struct fsmc_conn *c, int64_t deadline, const char *key)
{
	struct fsmc_meta m;
	memcached_return_t rc;

	rc = fsmc_wire_inspected(c, deadline, key, strlen(key), &m);
	if (rc != MEMCACHED_SUCCESS && m.known != 0)
		fail("fields of a key not found", c, rc);
	if ((m.known & FSMC_META_TTL) && m.ttl < -1)
		fail("a TTL below -1", c, rc);
	if (rc == MEMCACHED_PROTOCOL_ERROR)
		return (rc);
	return (whole(c, rc, rc));
}

/*
 * Padding of n bytes (a multiple of PAD_FRAME) that the reader takes as
 * well-formed: statistics, or metadump lines.
 */
static void
pad(char *p, size_t n, enum mode m, int binary)
{
	/* A binary response to stats: statistic "pad", value "12345". */
	static const unsigned char frame[PAD_FRAME] = { 0x81, 0x10, 0, 3, 0, 0,
		0, 0, 0, 0, 0, 8, 0, 0, 0, FSMC_V_STATS, 0, 0, 0, 0, 0, 0, 0, 0,
		'p', 'a', 'd', '1', '2', '3', '4', '5' };
	const char *line;
	size_t i;

	line = m == M_STATS ? "STAT pad 12345\r\n" : "key=pad exp=-1\r\n";
	for (i = 0; i < n; i += PAD_FRAME) {
		if (binary)
			memcpy(p + i, frame, PAD_FRAME);
		else {
			memcpy(p + i, line, PAD_FRAME / 2);
			memcpy(p + i + PAD_FRAME / 2, line, PAD_FRAME / 2);
		}
	}
}

/* Send the reply, as much as the socket holds, and close. */
static void
serve(int fd, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t w;

	while (off < len) {
		w = write(fd, buf + off, len - off);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno == EINTR)
			continue;
		else
			break;
	}
	shutdown(fd, SHUT_WR);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char ns[] = "ns:", host[] = "fuzz";
	static const char metadump[] = "lru_crawler metadump all\r\n";
	struct fsmc_settings st;
	struct fsmc_server_conf sc;
	struct fsmc_conn c;
	struct fsmc_request rq;
	memcached_return_t rc;
	const char *const *keys;
	size_t lens[MAX_KEYS], nkeys = 1, padlen = 0, i;
	int64_t deadline;
	int fds[2], bufsize = SOCKET_BUFFER, binary, padded, putfail;
	enum fsmc_verb verb;
	enum mode m;
	char *reply;

	if (size < 2)
		return (0);
	binary = data[0] & 1;
	m = (enum mode)((data[0] >> 2) & 3);
	if ((data[0] & 0x40) != 0)
		m = M_META;
	padded = (data[0] & 0x10) != 0 && (m == M_STATS || m == M_LINES);
	keys = keysets[(data[0] >> 5) & 1];
	verb = single_verbs[data[1] %
	    (sizeof single_verbs / sizeof single_verbs[0])];
	memset(&st, 0, sizeof st);
	st.ns = (data[0] & 2) != 0 ? ns : NULL;
	st.binary = binary && m != M_LINES && m != M_META;
	st.connect_ms = st.io_ms = DEADLINE_MS;
	memset(&sc, 0, sizeof sc);
	sc.host = host;
	sc.port = 1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		fds) != 0)
		abort();
	for (i = 0; i < 2; i++) {
		setsockopt(
		    fds[i], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
		setsockopt(
		    fds[i], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
	}
	fsmc_conn_init(&c, &st, &sc, -1);
	if (fsmc_conn_adopt(&c, fds[0]) != MEMCACHED_SUCCESS)
		abort();
	deadline = fsmc_now_ms() + DEADLINE_MS;

	/* The request, as the engine sends it. */
	memset(&rq, 0, sizeof rq);
	rq.key = keys[0];
	rq.keylen = strlen(keys[0]);
	switch (m) {
	case M_SINGLE:
		rq.verb = verb;
		rq.value = "v";
		rq.valuelen = 1;
		rq.flags = 1;
		rq.delta = 1;
		putfail = fsmc_wire_request(&c, &rq);
		break;
	case M_MGET:
		nkeys = 1 + (data[1] & 3);
		for (i = 0; i < nkeys; i++)
			lens[i] = strlen(keys[i]);
		putfail = fsmc_wire_mget(&c, keys, lens, nkeys);
		break;
	case M_STATS:
		rq.verb = FSMC_V_STATS;
		putfail = fsmc_wire_request(&c, &rq);
		break;
	case M_META:
		putfail = fsmc_wire_inspect(&c, rq.key, rq.keylen);
		break;
	default:
		c.bare_lf = !binary;
		putfail = fsmc_conn_put(&c, metadump, sizeof metadump - 1);
		break;
	}
	if (putfail != 0 || fsmc_conn_send(&c, deadline) != MEMCACHED_SUCCESS)
		abort();

	/* The reply: padding that ends just short of the buffer's end. */
	if (padded) {
		padlen = (size_t)PAD_FRAME * (1 + (data[1] & 127));
		padlen = c.incap > padlen ? c.incap - padlen : 0;
		padlen -= padlen % PAD_FRAME;
	}
	if ((reply = malloc(padlen + size - 2 + 1)) == NULL)
		abort();
	pad(reply, padlen, m, st.binary);
	memcpy(reply + padlen, data + 2, size - 2);
	serve(fds[1], reply, padlen + size - 2);
	free(reply);

	switch (m) {
	case M_SINGLE:
		rc = read_single(&c, deadline, verb);
		break;
	case M_MGET:
		rc = read_mget(&c, deadline, keys, lens, nkeys);
		break;
	case M_STATS:
		rc = read_stats(&c, deadline);
		break;
	case M_META:
		rc = read_meta(&c, deadline, keys[0]);
		break;
	default:
		rc = read_lines(&c, deadline);
		break;
	}
	check(&c, rc);
	fsmc_conn_free(&c);
	close(fds[1]);
	return (0);
}
