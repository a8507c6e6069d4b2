/* keys, an extension: list keys with memcached's lru_crawler metadump. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsmc-int.h"

/*
 * libmemcached has no call for metadump (its dump uses "stats
 * cachedump", which misses keys on memcached 1.5 and later); the engine
 * speaks it in the text protocol, on a connection of its own.  The whole
 * dump has the I/O timeout as its deadline, even while lines keep
 * coming, and at most FSMC_KEYS_MAX distinct keys are kept.
 */

/* How long to wait for a crawler another client has running. */
#define BUSY_TRIES 40
#define BUSY_WAIT_MS 50

/* How many lines of a dump between looks at the clock. */
#define CLOCK_LINES 1024

/* Why a dump failed, in the words of other messages. */
static const char *
reason(memcached_return_t rc, int err)
{
	if (rc == MEMCACHED_TIMEOUT)
		return (err == EINTR ? "interrupted" : "timed out");
	if (rc == MEMCACHED_HOST_LOOKUP_FAILURE)
		return ("host not found");
	if (rc == MEMCACHED_PROTOCOL_ERROR)
		return ("protocol error");
	switch (err) {
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
		return (rc == MEMCACHED_CONNECTION_FAILURE && err == 0 ?
			"connection reset" :
			"connection failure");
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

/*
 * The keys listed so far, by name, so that a key that several servers
 * hold (replicas) is listed once, found in constant time however long
 * the listing: open addressing over res->keys, each slot 1 + an index
 * in it, 0 for none.  FNV-1a is no defence against names chosen to
 * collide, but each dump's deadline bounds what they can cost.
 */
struct keyset {
	uint32_t *slots;
	size_t mask; /* the number of slots less one, a power of two */
	size_t room; /* holders a key has room for at first: 1 + replicas */
};

static size_t
hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return ((size_t)h);
}

/* The slot of a key: where it is, or the free one where it would go. */
static uint32_t *
slot(const struct keyset *ks, const struct fsmc_result *res, const char *key,
    size_t len)
{
	const struct fsmc_key *k;
	size_t i;

	for (i = hash(key, len) & ks->mask;; i = (i + 1) & ks->mask) {
		if (ks->slots[i] == 0)
			return (&ks->slots[i]);
		k = &res->keys[ks->slots[i] - 1];
		if (k->len == len && memcmp(k->name, key, len) == 0)
			return (&ks->slots[i]);
	}
}

/* Make room for one more key: at most half the slots are taken. */
static int
grow(struct keyset *ks, const struct fsmc_result *res)
{
	struct keyset bigger = *ks;
	size_t i;

	if (ks->slots != NULL && (res->nkeys + 1) * 2 <= ks->mask + 1)
		return (0);
	bigger.mask = ks->slots == NULL ? 1023 : ks->mask * 2 + 1;
	if ((bigger.slots = calloc(bigger.mask + 1, sizeof *bigger.slots)) ==
	    NULL)
		return (-1);
	for (i = 0; i < res->nkeys; i++)
		*slot(&bigger, res, res->keys[i].name, res->keys[i].len) =
		    (uint32_t)(i + 1);
	free(ks->slots);
	*ks = bigger;
	return (0);
}

/* Where a key's servers start in its allocation: after the name. */
static size_t
holders_at(size_t len)
{
	return ((len + sizeof(uint32_t)) / sizeof(uint32_t) * sizeof(uint32_t));
}

/*
 * Add server which to those that hold k.  A key has room for as many as
 * replicas make; one on more servers (copies another configuration
 * left) grows by one each time.
 */
static int
add_holder(struct fsmc_key *k, uint32_t which, size_t room)
{
	size_t at = holders_at(k->len);
	char *block;

	/* A server that lists a key twice holds it once. */
	if (k->servers[k->nservers - 1] == which)
		return (0);
	if (k->nservers >= room) {
		if ((block = realloc(k->name,
			 at + (k->nservers + 1) * sizeof *k->servers)) == NULL)
			return (-1);
		k->name = block;
		k->servers = (uint32_t *)(void *)(block + at);
	}
	k->servers[k->nservers++] = which;
	return (0);
}

/*
 * Keep a key that server which listed, with the fields of its line: a
 * new key within the limits, or one more server for a key listed
 * before.  Returns 0, -2 past the limits, -3 out of memory.
 */
static int
keep(struct fsmc_call *call, struct keyset *ks, uint32_t which, const char *key,
    size_t len, const char *fields)
{
	struct fsmc_result *res = call->res;
	struct fsmc_key *keys, *k;
	uint32_t *s;
	const char *v;
	size_t cap, at = holders_at(len);

	if (grow(ks, res) != 0)
		return (-3);
	s = slot(ks, res, key, len);
	if (*s != 0)
		return (add_holder(&res->keys[*s - 1], which, ks->room) != 0 ?
			-3 :
			0);
	if (res->nkeys >= FSMC_KEYS_MAX ||
	    call->keybytes + len + 1 > FSMC_KEYS_BYTES)
		return (-2);
	if (res->nkeys == res->keycap) {
		cap = res->keycap == 0 ? 256 : res->keycap * 2;
		if ((keys = realloc(res->keys, cap * sizeof *keys)) == NULL)
			return (-3);
		res->keys = keys;
		res->keycap = cap;
	}
	k = &res->keys[res->nkeys];
	if ((k->name = malloc(at + ks->room * sizeof *k->servers)) == NULL)
		return (-3);
	memcpy(k->name, key, len);
	k->name[len] = '\0';
	k->len = len;
	k->servers = (uint32_t *)(void *)(k->name + at);
	k->servers[0] = which;
	k->nservers = 1;
	v = field(fields, "exp");
	k->exp = v != NULL ? strtoll(v, NULL, 10) : -1;
	v = field(fields, "size");
	k->size = v != NULL ? strtoull(v, NULL, 10) : 0;
	call->keybytes += len + 1;
	*s = (uint32_t)++res->nkeys;
	return (0);
}

/*
 * Dump one server's keys into res, keeping those under the namespace and
 * prefix (the namespace is removed).  Returns 0, or with *why set (in
 * words of its own, or in buf) -1 when the server cannot be reached, -2
 * when its reply is refused and -3 when memory runs out.
 */
static int
dump_server(struct fsmc_call *call, struct keyset *ks, uint32_t which,
    const char **why, char *buf, size_t buflen)
{
	static const char request[] = "lru_crawler metadump all\r\n";
	const struct fsmc_settings *st = &call->fc->settings;
	const char *ns = st->ns != NULL ? st->ns : "";
	size_t nslen = strlen(ns), len;
	struct timespec pause = { 0, BUSY_WAIT_MS * 1000000L };
	struct fsmc_conn c;
	memcached_return_t rc;
	int64_t deadline;
	char *line, *key, *rest;
	size_t lines = 0, listed = 0;
	int tries = 0, ret = -1, kept;

	fsmc_conn_init(&c, st, &st->servers[which], call->fc->cancel_fd);
	c.binary = 0;
	c.bare_lf = 1;
again:
	if ((rc = fsmc_conn_open(&c)) != MEMCACHED_SUCCESS ||
	    fsmc_conn_put(&c, request, sizeof request - 1) != 0)
		goto fail;
	deadline = fsmc_now_ms() + st->io_ms;
	if ((rc = fsmc_conn_send(&c, deadline)) != MEMCACHED_SUCCESS)
		goto fail;
	while ((rc = fsmc_conn_line(&c, deadline, &line, &len)) ==
	    MEMCACHED_SUCCESS) {
		if (strcmp(line, "END") == 0) {
			ret = 0;
			goto done;
		}
		/* Waits alone would miss a server that never stops. */
		if (++lines % CLOCK_LINES == 0 && fsmc_now_ms() >= deadline) {
			rc = MEMCACHED_TIMEOUT;
			break;
		}
		if (strncmp(line, "BUSY", 4) == 0 && tries++ < BUSY_TRIES) {
			fsmc_conn_close(&c);
			nanosleep(&pause, NULL);
			goto again;
		}
		if (strncmp(line, "key=", 4) != 0) {
			ret = -2;
			if (strcmp(line, "ERROR") == 0) {
				*why = "the server has no lru_crawler metadump "
				       "(memcached 1.4.31 or later)";
				goto done;
			}
			rc = fsmc_conn_broken(&c,
			    "unexpected reply to lru_crawler metadump", line,
			    len);
			break;
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
		/*
		 * A server holds a key once: one that lists more keys than
		 * the limit passes it, even if it repeats them.
		 */
		if (++listed > FSMC_KEYS_MAX)
			kept = -2;
		else
			kept = keep(
			    call, ks, which, key + nslen, len - nslen, rest);
		if (kept != 0) {
			*why = kept == -2 ?
			    "more than " FSMC_KEYS_MAX_TEXT
			    " keys: a longer prefix lists fewer" :
			    "out of memory";
			ret = kept;
			goto done;
		}
	}
fail:
	*why = reason(rc, c.errnum);
	if (rc == MEMCACHED_PROTOCOL_ERROR) {
		snprintf(buf, buflen, "protocol error: %s", c.detail);
		*why = buf;
		ret = -2;
	}
done:
	fsmc_conn_free(&c);
	return (ret);
}

/*
 * List the keys on every server that start with the namespace and the
 * given prefix, each once with the servers that hold it.  A server that
 * fails gets its error and status in the server list and the others are
 * still listed; the result's status is that of the first to fail, in
 * the order of the configuration.
 */
enum fsmc_status
cmd_keys(struct fsmc_call *call)
{
	static const enum fsmc_status of[] = { FSMC_EUNAVAIL, FSMC_ESERVER,
		FSMC_EINTERNAL };
	const struct fsmc_settings *st = &call->fc->settings;
	struct fsmc_result *res = call->res;
	struct keyset ks = { NULL, 0, 1 };
	const char *why = NULL;
	char detail[256], firstwhy[256];
	size_t i, failed = 0;
	char label[300], first[300] = "";
	enum fsmc_status status = FSMC_OK;
	int r;

	if (call->a.key == NULL)
		call->a.key = "";
	if (st->sasl_user != NULL)
		return (fsmc_fail(res, FSMC_EUSAGE, call->cmd->name,
		    "needs the text protocol, which cannot authenticate"));
	if ((res->servers = calloc(st->nservers, sizeof *res->servers)) == NULL)
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	if ((size_t)st->replicas < st->nservers)
		ks.room += (size_t)st->replicas;
	for (i = 0; i < st->nservers; i++) {
		res->servers[i].port = st->servers[i].port;
		if ((res->servers[i].host = strdup(st->servers[i].host)) ==
		    NULL) {
			free(ks.slots);
			return (fsmc_fail(res, FSMC_EINTERNAL, call->cmd->name,
			    "out of memory"));
		}
		res->nservers++;
		if ((r = dump_server(call, &ks, (uint32_t)i, &why, detail,
			 sizeof detail)) == 0)
			continue;
		res->servers[i].error = why == detail ? "protocol error" : why;
		res->servers[i].status = of[-r - 1];
		if (failed++ == 0) {
			status = res->servers[i].status;
			snprintf(firstwhy, sizeof firstwhy, "%s", why);
			fsmc_address(st->servers[i].host, st->servers[i].port,
			    first, sizeof first);
		}
	}
	free(ks.slots);
	if (failed == 0)
		return (FSMC_OK);
	res->errtext = memcached_strerror(NULL, MEMCACHED_SOME_ERRORS);
	snprintf(label, sizeof label, " and %zu more server%s", failed - 1,
	    failed > 2 ? "s" : "");
	return (fsmc_fail(res, status, call->cmd->name, "%s (%s)%s", firstwhy,
	    first, failed > 1 ? label : ""));
}
