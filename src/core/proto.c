/* memcached's text and binary protocols: requests out, strictly checked replies
 * in. */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsmc-int.h"

/* Binary protocol opcodes and statuses (memcached's protocol_binary.h). */
#define BIN_REQUEST 0x80
#define BIN_RESPONSE 0x81
#define BIN_HEADER 24

enum {
	OP_GET = 0x00,
	OP_SET = 0x01,
	OP_ADD = 0x02,
	OP_REPLACE = 0x03,
	OP_DELETE = 0x04,
	OP_INCR = 0x05,
	OP_DECR = 0x06,
	OP_FLUSH = 0x08,
	OP_NOOP = 0x0a,
	OP_VERSION = 0x0b,
	OP_GETKQ = 0x0d,
	OP_APPEND = 0x0e,
	OP_PREPEND = 0x0f,
	OP_STAT = 0x10,
	OP_SETQ = 0x11,
	OP_ADDQ = 0x12,
	OP_REPLACEQ = 0x13,
	OP_DELETEQ = 0x14,
	OP_TOUCH = 0x1c
};

enum {
	ST_SUCCESS = 0x00,
	ST_NOT_FOUND = 0x01,
	ST_EXISTS = 0x02,
	ST_E2BIG = 0x03,
	ST_EINVAL = 0x04,
	ST_NOT_STORED = 0x05,
	ST_DELTA_BADVAL = 0x06,
	ST_AUTH_ERROR = 0x20,
	ST_AUTH_CONTINUE = 0x21,
	ST_UNKNOWN_COMMAND = 0x81,
	ST_ENOMEM = 0x82
};

/*
 * memcached reads an expiration over 30 days as a Unix time, and one
 * that is negative as already past: it stores it as 30 days and one
 * second, a Unix time long gone.  The binary protocol carries unsigned
 * numbers, so a negative expiration is sent as that time.
 */
#define EXPIRED_TIME 2592001

static const char *
verb_name(enum fsmc_verb v)
{
	static const char *const names[] = { "get", "set", "add", "replace",
		"append", "prepend", "delete", "incr", "decr", "touch",
		"flush_all", "version", "stats", "noop" };

	return (names[v]);
}

/* Write v in decimal at p; returns the end. */
static char *
put_decimal(char *p, uint64_t v)
{
	char digits[20];
	size_t n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = digits[--n];
	return (p);
}

/* Write v in decimal at p, with its sign when negative; returns the end. */
static char *
put_signed(char *p, int64_t v)
{
	if (v >= 0)
		return (put_decimal(p, (uint64_t)v));
	*p++ = '-';
	/* -INT64_MIN is no int64_t. */
	return (put_decimal(p, (uint64_t) - (v + 1) + 1));
}

/* A key on the wire: a space, the namespace and the key. */
static int
put_text_key(struct fsmc_conn *c, const char *key, size_t keylen)
{
	const char *ns = c->st->ns != NULL ? c->st->ns : "";

	return (fsmc_conn_put(c, " ", 1) || fsmc_conn_put(c, ns, strlen(ns)) ||
	    fsmc_conn_put(c, key, keylen));
}

/*
 * A store's request in one reservation, its numbers written by hand: a
 * batch of sets writes one a line.
 */
static int
put_text_store(struct fsmc_conn *c, const struct fsmc_request *rq)
{
	const char *ns = c->st->ns != NULL ? c->st->ns : "";
	const char *name = verb_name(rq->verb);
	size_t nslen = strlen(ns), namelen = strlen(name);
	char *p, *start;

	/* name, key, three numbers, " noreply", two CR LF */
	if ((p = fsmc_conn_reserve(c,
		 namelen + 1 + nslen + rq->keylen + 3 * 21 + 8 + 4 +
		     rq->valuelen)) == NULL)
		return (-1);
	start = p;
	memcpy(p, name, namelen);
	p += namelen;
	*p++ = ' ';
	memcpy(p, ns, nslen);
	p += nslen;
	if (rq->keylen > 0)
		memcpy(p, rq->key, rq->keylen);
	p += rq->keylen;
	*p++ = ' ';
	p = put_decimal(p, rq->flags);
	*p++ = ' ';
	p = put_signed(p, rq->exptime);
	*p++ = ' ';
	p = put_decimal(p, rq->valuelen);
	if (rq->noreply) {
		memcpy(p, " noreply", 8);
		p += 8;
	}
	*p++ = '\r';
	*p++ = '\n';
	if (rq->valuelen > 0)
		memcpy(p, rq->value, rq->valuelen);
	p += rq->valuelen;
	*p++ = '\r';
	*p++ = '\n';
	c->outlen += (size_t)(p - start);
	return (0);
}

static int
put_text(struct fsmc_conn *c, const struct fsmc_request *rq)
{
	char num[96], *p = num;
	int n = 0;

	switch (rq->verb) {
	case FSMC_V_SET:
	case FSMC_V_ADD:
	case FSMC_V_REPLACE:
	case FSMC_V_APPEND:
	case FSMC_V_PREPEND:
		return (put_text_store(c, rq));
	default:
		break;
	}
	if (fsmc_conn_put(c, verb_name(rq->verb), strlen(verb_name(rq->verb))))
		return (-1);
	switch (rq->verb) {
	case FSMC_V_DELETE:
		if (rq->noreply) {
			memcpy(p, " noreply", 8);
			p += 8;
		}
		break;
	case FSMC_V_INCR:
	case FSMC_V_DECR:
		*p++ = ' ';
		p = put_decimal(p, rq->delta);
		break;
	case FSMC_V_TOUCH:
		*p++ = ' ';
		p = put_signed(p, rq->exptime);
		break;
	case FSMC_V_FLUSH:
		if (rq->exptime > 0)
			n = snprintf(
			    num, sizeof num, " %" PRId64 "\r\n", rq->exptime);
		else
			n = snprintf(num, sizeof num, "\r\n");
		return (fsmc_conn_put(c, num, (size_t)n));
	case FSMC_V_STATS:
		if (rq->arg != NULL &&
		    (fsmc_conn_put(c, " ", 1) ||
			fsmc_conn_put(c, rq->arg, strlen(rq->arg))))
			return (-1);
		return (fsmc_conn_put(c, "\r\n", 2));
	default:
		return (fsmc_conn_put(c, "\r\n", 2));
	}
	*p++ = '\r';
	*p++ = '\n';
	if (put_text_key(c, rq->key, rq->keylen))
		return (-1);
	return (fsmc_conn_put(c, num, (size_t)(p - num)));
}

static void
put32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return (ntohl(v));
}

static uint64_t
get64(const unsigned char *p)
{
	return (((uint64_t)get32(p) << 32) | get32(p + 4));
}

static uint32_t
wire_exptime(int64_t exptime)
{
	return (exptime < 0 ? EXPIRED_TIME : (uint32_t)exptime);
}

/*
 * Add a binary request: header, extras, key (with the namespace) and
 * value.  The opaque field carries tag, which the reply must echo.
 */
int
fsmc_bin_put(struct fsmc_conn *c, int opcode, const void *extras, size_t extlen,
    const char *key, size_t keylen, const void *value, size_t valuelen,
    uint32_t tag)
{
	/* Statistic groups and SASL mechanisms are not keys. */
	const char *ns = c->st->ns != NULL && key != NULL &&
		opcode != OP_STAT && opcode < 0x20 ?
	    c->st->ns :
	    "";
	size_t nslen = strlen(ns);
	unsigned char h[BIN_HEADER];

	memset(h, 0, sizeof h);
	h[0] = BIN_REQUEST;
	h[1] = (unsigned char)opcode;
	h[2] = (unsigned char)((nslen + keylen) >> 8);
	h[3] = (unsigned char)(nslen + keylen);
	h[4] = (unsigned char)extlen;
	put32(h + 8, (uint32_t)(extlen + nslen + keylen + valuelen));
	put32(h + 12, tag);
	return (fsmc_conn_put(c, h, sizeof h) ||
	    fsmc_conn_put(c, extras, extlen) || fsmc_conn_put(c, ns, nslen) ||
	    fsmc_conn_put(c, key, keylen) || fsmc_conn_put(c, value, valuelen));
}

static int
put_binary(struct fsmc_conn *c, const struct fsmc_request *rq)
{
	unsigned char ex[20];
	int op;

	switch (rq->verb) {
	case FSMC_V_SET:
	case FSMC_V_ADD:
	case FSMC_V_REPLACE:
		if (rq->verb == FSMC_V_SET)
			op = rq->noreply ? OP_SETQ : OP_SET;
		else if (rq->verb == FSMC_V_ADD)
			op = rq->noreply ? OP_ADDQ : OP_ADD;
		else
			op = rq->noreply ? OP_REPLACEQ : OP_REPLACE;
		put32(ex, rq->flags);
		put32(ex + 4, wire_exptime(rq->exptime));
		return (fsmc_bin_put(c, op, ex, 8, rq->key, rq->keylen,
		    rq->value, rq->valuelen, rq->verb));
	case FSMC_V_APPEND:
	case FSMC_V_PREPEND:
		return (fsmc_bin_put(c,
		    rq->verb == FSMC_V_APPEND ? OP_APPEND : OP_PREPEND, NULL, 0,
		    rq->key, rq->keylen, rq->value, rq->valuelen, rq->verb));
	case FSMC_V_DELETE:
		return (fsmc_bin_put(c, rq->noreply ? OP_DELETEQ : OP_DELETE,
		    NULL, 0, rq->key, rq->keylen, NULL, 0, rq->verb));
	case FSMC_V_INCR:
	case FSMC_V_DECR:
		/* An expiration of all ones: count only an existing item. */
		put64(ex, rq->delta);
		put64(ex + 8, 0);
		put32(ex + 16, UINT32_MAX);
		return (
		    fsmc_bin_put(c, rq->verb == FSMC_V_INCR ? OP_INCR : OP_DECR,
			ex, 20, rq->key, rq->keylen, NULL, 0, rq->verb));
	case FSMC_V_TOUCH:
		put32(ex, wire_exptime(rq->exptime));
		return (fsmc_bin_put(c, OP_TOUCH, ex, 4, rq->key, rq->keylen,
		    NULL, 0, rq->verb));
	case FSMC_V_FLUSH:
		put32(ex, (uint32_t)rq->exptime);
		return (fsmc_bin_put(c, OP_FLUSH, ex, rq->exptime > 0 ? 4 : 0,
		    NULL, 0, NULL, 0, rq->verb));
	case FSMC_V_VERSION:
		return (fsmc_bin_put(
		    c, OP_VERSION, NULL, 0, NULL, 0, NULL, 0, rq->verb));
	case FSMC_V_STATS:
		return (fsmc_bin_put(c, OP_STAT, NULL, 0, rq->arg,
		    rq->arg != NULL ? strlen(rq->arg) : 0, NULL, 0, rq->verb));
	default:
		return (fsmc_bin_put(
		    c, OP_NOOP, NULL, 0, NULL, 0, NULL, 0, rq->verb));
	}
}

/* Add a request to what the connection will send next. */
int
fsmc_wire_request(struct fsmc_conn *c, const struct fsmc_request *rq)
{
	if (c->binary)
		return (put_binary(c, rq));
	return (put_text(c, rq));
}

/*
 * Add a set, add, replace or delete without a reply: a --pipe line on
 * the wire, with no request of the caller's to fill.
 */
int
fsmc_wire_quiet_store(struct fsmc_conn *c, enum fsmc_verb verb, const char *key,
    size_t keylen, const void *value, size_t valuelen, uint32_t flags,
    int64_t exptime)
{
	struct fsmc_request rq;

	memset(&rq, 0, sizeof rq);
	rq.verb = verb;
	rq.key = key;
	rq.keylen = keylen;
	rq.value = value;
	rq.valuelen = valuelen;
	rq.flags = flags;
	rq.exptime = exptime;
	rq.noreply = 1;
	return (fsmc_wire_request(c, &rq));
}

/* Add a multi-get of n keys. */
int
fsmc_wire_mget(
    struct fsmc_conn *c, const char *const *keys, const size_t *lens, size_t n)
{
	struct fsmc_request rq;
	const char *ns;
	size_t i, nslen;
	char *p;

	if (c->binary) {
		for (i = 0; i < n; i++) {
			if (fsmc_bin_put(c, OP_GETKQ, NULL, 0, keys[i], lens[i],
				NULL, 0, (uint32_t)i))
				return (-1);
		}
		memset(&rq, 0, sizeof rq);
		rq.verb = FSMC_V_NOOP;
		return (put_binary(c, &rq));
	}
	ns = c->st->ns != NULL ? c->st->ns : "";
	nslen = strlen(ns);
	if (fsmc_conn_put(c, "get", 3))
		return (-1);
	/* A key a reservation, not three: a multi-get has hundreds. */
	for (i = 0; i < n; i++) {
		if ((p = fsmc_conn_reserve(c, 1 + nslen + lens[i])) == NULL)
			return (-1);
		*p++ = ' ';
		memcpy(p, ns, nslen);
		memcpy(p + nslen, keys[i], lens[i]);
		c->outlen += 1 + nslen + lens[i];
	}
	return (fsmc_conn_put(c, "\r\n", 2));
}

/* Whether a line is word, alone or followed by a space. */
static int
starts(const char *line, const char *word)
{
	size_t n = strlen(word);

	return (
	    strncmp(line, word, n) == 0 && (line[n] == '\0' || line[n] == ' '));
}

/*
 * An unsigned decimal of at most max: digits only, no sign, no spaces.
 * Returns the end of the number, or NULL.
 */
static const char *
parse_unsigned(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	unsigned d;

	if (!isdigit((unsigned char)*s))
		return (NULL);
	for (; isdigit((unsigned char)*s); s++) {
		d = (unsigned)(*s - '0');
		if (d > max || v > (max - d) / 10)
			return (NULL);
		v = v * 10 + d;
	}
	*out = v;
	return (s);
}

/* The error replies any text command may get. */
static int
text_error(const char *line, memcached_return_t *rc)
{
	if (strcmp(line, "ERROR") == 0)
		*rc = MEMCACHED_ERROR;
	else if (starts(line, "CLIENT_ERROR"))
		*rc = MEMCACHED_CLIENT_ERROR;
	else if (starts(line, "SERVER_ERROR")) {
		if (strcmp(line, "SERVER_ERROR object too large for cache") ==
		    0)
			*rc = MEMCACHED_E2BIG;
		else if (strncasecmp(line, "SERVER_ERROR out of memory", 26) ==
		    0)
			*rc = MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE;
		else
			*rc = MEMCACHED_SERVER_ERROR;
	} else
		return (0);
	return (1);
}

static memcached_return_t
unexpected(struct fsmc_conn *c, enum fsmc_verb v, const char *line, size_t len)
{
	char what[64];

	snprintf(what, sizeof what, "unexpected reply to %s", verb_name(v));
	return (fsmc_conn_broken(c, what, line, len));
}

/* One reply line to a text command other than get and stats. */
static memcached_return_t
text_reply(struct fsmc_conn *c, const struct fsmc_request *rq, int64_t deadline,
    struct fsmc_response *rp)
{
	memcached_return_t rc;
	const char *end;
	char *line;
	size_t len;

	if ((rc = fsmc_conn_line(c, deadline, &line, &len)) !=
	    MEMCACHED_SUCCESS)
		return (rc);
	if (text_error(line, &rp->rc))
		return (rp->rc);
	switch (rq->verb) {
	case FSMC_V_SET:
	case FSMC_V_ADD:
	case FSMC_V_REPLACE:
	case FSMC_V_APPEND:
	case FSMC_V_PREPEND:
		if (strcmp(line, "STORED") == 0)
			return (rp->rc = MEMCACHED_SUCCESS);
		if (strcmp(line, "NOT_STORED") == 0)
			return (rp->rc = MEMCACHED_NOTSTORED);
		if (strcmp(line, "EXISTS") == 0)
			return (rp->rc = MEMCACHED_DATA_EXISTS);
		if (strcmp(line, "NOT_FOUND") == 0)
			return (rp->rc = MEMCACHED_NOTFOUND);
		break;
	case FSMC_V_DELETE:
		if (strcmp(line, "DELETED") == 0)
			return (rp->rc = MEMCACHED_SUCCESS);
		if (strcmp(line, "NOT_FOUND") == 0)
			return (rp->rc = MEMCACHED_NOTFOUND);
		break;
	case FSMC_V_INCR:
	case FSMC_V_DECR:
		if (strcmp(line, "NOT_FOUND") == 0)
			return (rp->rc = MEMCACHED_NOTFOUND);
		if ((end = parse_unsigned(line, UINT64_MAX, &rp->number)) !=
			NULL &&
		    *end == '\0')
			return (rp->rc = MEMCACHED_SUCCESS);
		break;
	case FSMC_V_TOUCH:
		if (strcmp(line, "TOUCHED") == 0)
			return (rp->rc = MEMCACHED_SUCCESS);
		if (strcmp(line, "NOT_FOUND") == 0)
			return (rp->rc = MEMCACHED_NOTFOUND);
		break;
	case FSMC_V_FLUSH:
		if (strcmp(line, "OK") == 0)
			return (rp->rc = MEMCACHED_SUCCESS);
		break;
	case FSMC_V_VERSION:
		if (strncmp(line, "VERSION ", 8) == 0 && line[8] != '\0') {
			if ((rp->value = strdup(line + 8)) == NULL)
				return (fsmc_conn_fail(c,
				    MEMCACHED_MEMORY_ALLOCATION_FAILURE,
				    ENOMEM));
			rp->valuelen = len - 8;
			return (rp->rc = MEMCACHED_SUCCESS);
		}
		break;
	default:
		break;
	}
	return (unexpected(c, rq->verb, line, len));
}

/* A binary response header, checked against what was asked. */
struct bin_header {
	int opcode;
	size_t keylen, extlen, bodylen;
	int status;
	uint32_t opaque;
};

/*
 * Read and check one response header.  limit bounds the body; opcode is
 * the one expected, or -1 for any of a multi-get's.
 */
static memcached_return_t
bin_header(
    struct fsmc_conn *c, int64_t deadline, size_t limit, struct bin_header *h)
{
	unsigned char b[BIN_HEADER];
	memcached_return_t rc;

	if ((rc = fsmc_conn_read(c, deadline, b, sizeof b)) !=
	    MEMCACHED_SUCCESS)
		return (rc);
	h->opcode = b[1];
	h->keylen = (size_t)b[2] << 8 | b[3];
	h->extlen = b[4];
	h->status = b[6] << 8 | b[7];
	h->bodylen = get32(b + 8);
	h->opaque = get32(b + 12);
	if (b[0] != BIN_RESPONSE)
		return (fsmc_conn_broken(
		    c, "not a binary response", (const char *)b, 8));
	if (b[5] != 0 || h->keylen + h->extlen > h->bodylen)
		return (
		    fsmc_conn_broken(c, "a malformed binary response header",
			(const char *)b, sizeof b));
	if (h->bodylen > limit)
		return (fsmc_conn_broken(
		    c, "a binary response too large", NULL, 0));
	return (MEMCACHED_SUCCESS);
}

static memcached_return_t
bin_status(int status)
{
	switch (status) {
	case ST_SUCCESS:
		return (MEMCACHED_SUCCESS);
	case ST_NOT_FOUND:
		return (MEMCACHED_NOTFOUND);
	case ST_EXISTS:
		return (MEMCACHED_DATA_EXISTS);
	case ST_NOT_STORED:
		return (MEMCACHED_NOTSTORED);
	case ST_E2BIG:
		return (MEMCACHED_E2BIG);
	case ST_ENOMEM:
		return (MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE);
	case ST_AUTH_CONTINUE:
		return (MEMCACHED_AUTH_CONTINUE);
	case ST_AUTH_ERROR:
		return (MEMCACHED_AUTH_FAILURE);
	case ST_DELTA_BADVAL:
		return (MEMCACHED_CLIENT_ERROR);
	case ST_EINVAL:
	case ST_UNKNOWN_COMMAND:
		return (MEMCACHED_UNKNOWN_READ_FAILURE);
	default:
		return (MEMCACHED_PROTOCOL_ERROR);
	}
}

/*
 * Read one whole binary response to a request with opcode and tag, or
 * to any request when opcode is -1: the body, of at most limit bytes, is
 * returned in out->body (NULL when empty).
 */
memcached_return_t
fsmc_bin_response(struct fsmc_conn *c, int64_t deadline, int opcode,
    uint32_t tag, size_t limit, struct bin_frame *out)
{
	struct bin_header h;
	memcached_return_t rc;

	memset(out, 0, sizeof *out);
	if ((rc = bin_header(c, deadline, limit, &h)) != MEMCACHED_SUCCESS)
		return (rc);
	if (opcode >= 0 && (h.opcode != opcode || h.opaque != tag))
		return (fsmc_conn_broken(
		    c, "a binary response to another request", NULL, 0));
	out->opcode = h.opcode;
	out->status = h.status;
	out->extlen = h.extlen;
	out->keylen = h.keylen;
	out->bodylen = h.bodylen;
	if (h.bodylen > 0 &&
	    (rc = fsmc_conn_block(c, deadline, h.bodylen, &out->body)) !=
		MEMCACHED_SUCCESS)
		return (rc);
	if (bin_status(h.status) == MEMCACHED_PROTOCOL_ERROR) {
		free(out->body);
		out->body = NULL;
		return (fsmc_conn_broken(
		    c, "an unknown binary response status", NULL, 0));
	}
	return (MEMCACHED_SUCCESS);
}

static int
bin_opcode(enum fsmc_verb v)
{
	static const int ops[] = { OP_GET, OP_SET, OP_ADD, OP_REPLACE,
		OP_APPEND, OP_PREPEND, OP_DELETE, OP_INCR, OP_DECR, OP_TOUCH,
		OP_FLUSH, OP_VERSION, OP_STAT, OP_NOOP };

	return (ops[v]);
}

/* One binary response to a command other than get and stats. */
static memcached_return_t
binary_reply(struct fsmc_conn *c, const struct fsmc_request *rq,
    int64_t deadline, struct fsmc_response *rp)
{
	struct bin_frame h;
	memcached_return_t rc;
	size_t vlen;

	if ((rc = fsmc_bin_response(c, deadline, bin_opcode(rq->verb), rq->verb,
		 FSMC_LINE_MAX, &h)) != MEMCACHED_SUCCESS)
		return (rc);
	rp->rc = bin_status(h.status);
	vlen = h.bodylen - h.extlen - h.keylen;
	if (rp->rc == MEMCACHED_SUCCESS) {
		if ((rq->verb == FSMC_V_INCR || rq->verb == FSMC_V_DECR) &&
		    (h.extlen != 0 || h.keylen != 0 || vlen != 8)) {
			free(h.body);
			return (fsmc_conn_broken(
			    c, "a counter that is not 8 bytes", NULL, 0));
		}
		if (rq->verb == FSMC_V_INCR || rq->verb == FSMC_V_DECR)
			rp->number = get64((unsigned char *)h.body);
		if (rq->verb == FSMC_V_VERSION &&
		    (h.extlen != 0 || h.keylen != 0)) {
			free(h.body);
			return (fsmc_conn_broken(
			    c, "a malformed reply to version", NULL, 0));
		}
		if (rq->verb == FSMC_V_VERSION) {
			rp->value = h.body;
			rp->valuelen = h.bodylen;
			h.body = NULL;
			if (rp->value == NULL &&
			    (rp->value = strdup("")) == NULL)
				return (fsmc_conn_fail(c,
				    MEMCACHED_MEMORY_ALLOCATION_FAILURE,
				    ENOMEM));
		}
	}
	free(h.body);
	return (rp->rc);
}

/* Read the reply to a request other than get and stats. */
memcached_return_t
fsmc_wire_reply(struct fsmc_conn *c, const struct fsmc_request *rq,
    int64_t deadline, struct fsmc_response *rp)
{
	memset(rp, 0, sizeof *rp);
	if (c->binary)
		return (binary_reply(c, rq, deadline, rp));
	return (text_reply(c, rq, deadline, rp));
}

/* Whether the namespaced key on the wire is ns + key. */
static int
same_key(const struct fsmc_conn *c, const char *wire, size_t wirelen,
    const char *key, size_t keylen)
{
	size_t nslen = c->st->ns != NULL ? strlen(c->st->ns) : 0;

	return (wirelen == nslen + keylen &&
	    memcmp(wire, c->st->ns != NULL ? c->st->ns : "", nslen) == 0 &&
	    memcmp(wire + nslen, key, keylen) == 0);
}

/*
 * The key of a VALUE line must be one of the keys asked for, at or after
 * the cursor: servers answer in the order asked.  Returns its index, or
 * n when there is none.
 */
static size_t
match_key(const struct fsmc_conn *c, const char *wire, size_t wirelen,
    const char *const *keys, const size_t *lens, size_t n, size_t cursor)
{
	size_t i;

	for (i = cursor; i < n; i++) {
		if (same_key(c, wire, wirelen, keys[i], lens[i]))
			return (i);
	}
	return (n);
}

static memcached_return_t
text_value(struct fsmc_conn *c, int64_t deadline, const char *const *keys,
    const size_t *lens, size_t n, size_t *cursor, size_t *which,
    struct fsmc_response *rp)
{
	memcached_return_t rc;
	const char *p, *key;
	uint64_t flags, bytes, cas = 0;
	size_t len, keylen, i;
	char *line, *data;

	if ((rc = fsmc_conn_line(c, deadline, &line, &len)) !=
	    MEMCACHED_SUCCESS)
		return (rc);
	/* The line a multi-get's reply has most of is looked for first. */
	if (strncmp(line, "VALUE ", 6) != 0) {
		if (strcmp(line, "END") == 0)
			return (MEMCACHED_END);
		if (text_error(line, &rc))
			return (rc);
		return (unexpected(c, FSMC_V_GET, line, len));
	}
	key = line + 6;
	for (keylen = 0; key[keylen] != '\0' && key[keylen] != ' '; keylen++)
		;
	p = key + keylen;
	if (keylen == 0 || *p++ != ' ' ||
	    (p = parse_unsigned(p, UINT32_MAX, &flags)) == NULL ||
	    *p++ != ' ' ||
	    (p = parse_unsigned(p, FSMC_VALUE_MAX, &bytes)) == NULL ||
	    (*p == ' ' &&
		(p = parse_unsigned(p + 1, UINT64_MAX, &cas)) == NULL) ||
	    *p != '\0')
		return (
		    fsmc_conn_broken(c, "a malformed VALUE line", line, len));
	if ((i = match_key(c, key, keylen, keys, lens, n, *cursor)) == n)
		return (fsmc_conn_broken(
		    c, "a VALUE for a key not asked for", line, len));
	if (bytes > c->value_max)
		return (fsmc_conn_too_big(c, bytes));
	if ((rc = fsmc_conn_block(c, deadline, (size_t)bytes + 2, &data)) !=
	    MEMCACHED_SUCCESS)
		return (rc);
	if (data[bytes] != '\r' || data[bytes + 1] != '\n') {
		free(data);
		return (fsmc_conn_broken(
		    c, "a value longer than its VALUE line says", NULL, 0));
	}
	data[bytes] = '\0';
	rp->value = data;
	rp->valuelen = (size_t)bytes;
	rp->flags = (uint32_t)flags;
	rp->cas = cas;
	*which = i;
	*cursor = i + 1;
	return (MEMCACHED_SUCCESS);
}

static memcached_return_t
binary_value(struct fsmc_conn *c, int64_t deadline, const char *const *keys,
    const size_t *lens, size_t n, size_t *cursor, size_t *which,
    struct fsmc_response *rp)
{
	struct bin_header h;
	memcached_return_t rc;
	char *body;
	size_t i;

	if ((rc = bin_header(c, deadline, FSMC_VALUE_MAX + 512, &h)) !=
	    MEMCACHED_SUCCESS)
		return (rc);
	if (h.opcode == OP_NOOP) {
		if (h.bodylen != 0 || h.opaque != FSMC_V_NOOP)
			return (fsmc_conn_broken(
			    c, "a malformed reply to noop", NULL, 0));
		return (MEMCACHED_END);
	}
	if (h.opcode != OP_GETKQ || h.opaque >= n || h.opaque < *cursor)
		return (fsmc_conn_broken(
		    c, "a binary response to another request", NULL, 0));
	i = h.opaque;
	if (h.status == ST_SUCCESS &&
	    h.bodylen - h.extlen - h.keylen > c->value_max)
		return (fsmc_conn_too_big(c, h.bodylen - h.extlen - h.keylen));
	if ((rc = fsmc_conn_block(c, deadline, h.bodylen, &body)) !=
	    MEMCACHED_SUCCESS)
		return (rc);
	if (h.status != ST_SUCCESS) {
		free(body);
		if ((rc = bin_status(h.status)) == MEMCACHED_PROTOCOL_ERROR ||
		    rc == MEMCACHED_NOTFOUND)
			return (fsmc_conn_broken(c,
			    "an unexpected status for a quiet get", NULL, 0));
		return (rc);
	}
	if (h.extlen != 4 ||
	    !same_key(c, body + 4, h.keylen, keys[i], lens[i])) {
		free(body);
		return (fsmc_conn_broken(
		    c, "a value for a key not asked for", NULL, 0));
	}
	rp->flags = get32((unsigned char *)body);
	rp->valuelen = h.bodylen - 4 - h.keylen;
	memmove(body, body + 4 + h.keylen, rp->valuelen);
	body[rp->valuelen] = '\0';
	rp->value = body;
	*which = i;
	*cursor = i + 1;
	return (MEMCACHED_SUCCESS);
}

/*
 * The next item of a multi-get's reply: MEMCACHED_SUCCESS with the item
 * in rp and its index in *which, MEMCACHED_END after the last, or a
 * failure.  Items come in the order asked; *cursor follows them.
 */
memcached_return_t
fsmc_wire_value(struct fsmc_conn *c, int64_t deadline, const char *const *keys,
    const size_t *lens, size_t n, size_t *cursor, size_t *which,
    struct fsmc_response *rp)
{
	memset(rp, 0, sizeof *rp);
	if (c->binary)
		return (binary_value(
		    c, deadline, keys, lens, n, cursor, which, rp));
	return (text_value(c, deadline, keys, lens, n, cursor, which, rp));
}

/*
 * The next statistic of a stats reply: MEMCACHED_SUCCESS with name and
 * value (valid until the next call), MEMCACHED_END after the last, or a
 * failure.  *count bounds the lines of one reply.
 */
memcached_return_t
fsmc_wire_stat(struct fsmc_conn *c, int64_t deadline, size_t *count,
    struct fsmc_stat_line *sl)
{
	struct bin_frame h;
	memcached_return_t rc;
	char *line, *sp;
	size_t len;

	free(sl->body);
	memset(sl, 0, sizeof *sl);
	if (++*count > FSMC_STATS_MAX)
		return (fsmc_conn_broken(c,
		    "a stats reply of more than " FSMC_STATS_MAX_TEXT " lines",
		    NULL, 0));
	if (c->binary) {
		if ((rc = fsmc_bin_response(c, deadline, OP_STAT, FSMC_V_STATS,
			 FSMC_LINE_MAX, &h)) != MEMCACHED_SUCCESS)
			return (rc);
		if (h.status != ST_SUCCESS) {
			free(h.body);
			return (bin_status(h.status));
		}
		if (h.keylen == 0) {
			free(h.body);
			return (MEMCACHED_END);
		}
		sl->body = h.body;
		sl->name = h.body + h.extlen;
		sl->namelen = h.keylen;
		sl->value = sl->name + h.keylen;
		sl->valuelen = h.bodylen - h.extlen - h.keylen;
		return (MEMCACHED_SUCCESS);
	}
	if ((rc = fsmc_conn_line(c, deadline, &line, &len)) !=
	    MEMCACHED_SUCCESS)
		return (rc);
	if (strcmp(line, "END") == 0)
		return (MEMCACHED_END);
	if (text_error(line, &rc))
		return (rc);
	if (strncmp(line, "STAT ", 5) != 0 || line[5] == ' ' ||
	    (sp = strchr(line + 5, ' ')) == NULL)
		return (unexpected(c, FSMC_V_STATS, line, len));
	sl->name = line + 5;
	sl->namelen = (size_t)(sp - sl->name);
	sl->value = sp + 1;
	sl->valuelen = len - (size_t)(sl->value - line);
	return (MEMCACHED_SUCCESS);
}

/*
 * inspect and ttl: a meta get of everything but the value that leaves
 * the item as it was (u: not bumped in its LRU, not marked fetched),
 * then meta debug, which alone tells the slab class and the item's whole
 * size.  Both are text commands of memcached 1.6; its meta debug's exp
 * is not used, as 1.6.18 gives it negated.
 */
#define MG_FLAGS "kstfchl"

int
fsmc_wire_inspect(struct fsmc_conn *c, const char *key, size_t keylen)
{
	return (fsmc_conn_put(c, "mg", 2) || put_text_key(c, key, keylen) ||
	    fsmc_conn_put(c, " k s t f c h l u\r\nme", 20) ||
	    put_text_key(c, key, keylen) || fsmc_conn_put(c, "\r\n", 2));
}

/* A gets of one key: what the text protocol tells without meta commands. */
int
fsmc_wire_gets(struct fsmc_conn *c, const char *key, size_t keylen)
{
	return (fsmc_conn_put(c, "gets", 4) || put_text_key(c, key, keylen) ||
	    fsmc_conn_put(c, "\r\n", 2));
}

/* A signed decimal of at most max either way; the end of it, or NULL. */
static const char *
parse_signed(const char *s, uint64_t max, long long *out)
{
	const char *end;
	uint64_t v;

	end = parse_unsigned(s + (*s == '-'), max, &v);
	if (end != NULL)
		*out = *s == '-' ? -(long long)v : (long long)v;
	return (end);
}

/*
 * The tokens of a meta get's HD line: each flag asked for, once, with
 * its value.  Returns 0, or -1 when a token is not one of them.
 */
static int
mg_tokens(const struct fsmc_conn *c, const char *p, const char *key,
    size_t keylen, struct fsmc_meta *m)
{
	const char *end, *tok;
	unsigned int seen = 0, bit;
	uint64_t v;
	size_t len;

	while (*p != '\0') {
		if (*p++ != ' ' || *p == '\0' ||
		    (tok = strchr(MG_FLAGS, *p)) == NULL)
			return (-1);
		bit = 1U << (tok - MG_FLAGS);
		if ((seen & bit) != 0)
			return (-1);
		seen |= bit;
		p++;
		len = strcspn(p, " ");
		switch (*tok) {
		case 'k':
			if (!same_key(c, p, len, key, keylen))
				return (-1);
			end = p + len;
			break;
		case 't':
			end = parse_signed(p, INT64_MAX, &m->ttl);
			if (end != NULL && m->ttl < -1)
				end = NULL;
			break;
		case 'h':
			end = parse_unsigned(p, 1, &v);
			m->fetched = (int)v;
			break;
		case 'f':
			end = parse_unsigned(p, UINT32_MAX, &v);
			m->flags = (uint32_t)v;
			break;
		case 'c':
			end = parse_unsigned(p, UINT64_MAX, &m->cas);
			break;
		case 's':
			end = parse_unsigned(p, UINT64_MAX, &v);
			m->size = v;
			break;
		default:
			end = parse_unsigned(p, UINT64_MAX, &v);
			m->last_access = v;
			break;
		}
		if (end != p + len || len == 0)
			return (-1);
		p = end;
	}
	if (seen != (1U << (sizeof MG_FLAGS - 1)) - 1)
		return (-1);
	m->known |= FSMC_META_TTL | FSMC_META_ACCESS | FSMC_META_FETCHED |
	    FSMC_META_SIZE | FSMC_META_FLAGS | FSMC_META_CAS;
	return (0);
}

/*
 * The fields of a meta debug's ME line, NAME=VALUE each: the slab class
 * and the item's size are kept, the others checked for their shape only
 * (later versions may add some).  Returns 0, or -1 when malformed.
 */
static int
me_fields(const struct fsmc_conn *c, const char *p, const char *key,
    size_t keylen, struct fsmc_meta *m)
{
	const char *eq, *end;
	size_t len;
	uint64_t v;

	len = strcspn(p, " ");
	if (!same_key(c, p, len, key, keylen))
		return (-1);
	for (p += len; *p != '\0'; p = end) {
		if (*p++ != ' ')
			return (-1);
		len = strcspn(p, " ");
		end = p + len;
		if ((eq = memchr(p, '=', len)) == NULL || eq == p ||
		    eq + 1 == end)
			return (-1);
		if (eq - p == 3 && memcmp(p, "cls", 3) == 0) {
			if (parse_unsigned(eq + 1, UINT32_MAX, &v) != end)
				return (-1);
			m->slab_class = (unsigned int)v;
			m->known |= FSMC_META_CLASS;
		} else if (eq - p == 4 && memcmp(p, "size", 4) == 0) {
			if (parse_unsigned(eq + 1, UINT64_MAX, &v) != end)
				return (-1);
			m->item_size = v;
			m->known |= FSMC_META_ITEM_SIZE;
		}
	}
	return (0);
}

static memcached_return_t
inspected(struct fsmc_conn *c, int64_t deadline, const char *key, size_t keylen,
    struct fsmc_meta *m)
{
	memcached_return_t rc, mg, me;
	char *line;
	size_t len;

	if ((rc = fsmc_conn_line(c, deadline, &line, &len)) !=
	    MEMCACHED_SUCCESS)
		return (rc);
	/* A miss echoes the key too. */
	if (strcmp(line, "EN") == 0 ||
	    (strncmp(line, "EN k", 4) == 0 &&
		same_key(c, line + 4, len - 4, key, keylen)))
		mg = MEMCACHED_NOTFOUND;
	else if (strncmp(line, "HD ", 3) == 0) {
		if (mg_tokens(c, line + 2, key, keylen, m) != 0)
			return (fsmc_conn_broken(
			    c, "a malformed reply to mg", line, len));
		mg = MEMCACHED_SUCCESS;
	} else if (text_error(line, &mg)) {
		if (mg == MEMCACHED_ERROR || mg == MEMCACHED_CLIENT_ERROR)
			mg = MEMCACHED_NOT_SUPPORTED;
	} else
		return (
		    fsmc_conn_broken(c, "unexpected reply to mg", line, len));

	if ((rc = fsmc_conn_line(c, deadline, &line, &len)) !=
	    MEMCACHED_SUCCESS)
		return (rc);
	if (strncmp(line, "ME ", 3) == 0) {
		if (me_fields(c, line + 3, key, keylen, m) != 0)
			return (fsmc_conn_broken(
			    c, "a malformed reply to me", line, len));
	} else if (strcmp(line, "EN") != 0 && !text_error(line, &me))
		return (
		    fsmc_conn_broken(c, "unexpected reply to me", line, len));
	return (mg);
}

/*
 * The replies to fsmc_wire_inspect(): MEMCACHED_SUCCESS with the
 * fields in m, MEMCACHED_NOTFOUND, MEMCACHED_NOT_SUPPORTED when the
 * server has no meta get (ERROR or CLIENT_ERROR: older than 1.6), or a
 * failure.  A server without meta debug alone leaves the slab class and
 * item size unknown.
 */
memcached_return_t
fsmc_wire_inspected(struct fsmc_conn *c, int64_t deadline, const char *key,
    size_t keylen, struct fsmc_meta *m)
{
	memcached_return_t rc;

	memset(m, 0, sizeof *m);
	/* Without the item, nothing of it counts, whatever me said. */
	if ((rc = inspected(c, deadline, key, keylen, m)) != MEMCACHED_SUCCESS)
		m->known = 0;
	return (rc);
}
