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
 * dump has the I/O timeout as its deadline, and at most FSMC_KEYS_MAX
 * keys are kept.
 */

/* How long to wait for a crawler another client has running. */
#define BUSY_TRIES 40
#define BUSY_WAIT_MS 50

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
 * prefix (the namespace is removed).  Returns 0, or with *why set (in
 * words of its own, or in buf) -1
 * when the server cannot be reached and -2 when its reply is refused.
 */
static int
dump_server(struct fsmc_call *call, const struct fsmc_server_conf *sc,
    const char **why, char *buf, size_t buflen)
{
	static const char request[] = "lru_crawler metadump all\r\n";
	const struct fsmc_settings *st = &call->fc->settings;
	const char *ns = st->ns != NULL ? st->ns : "", *v;
	size_t nslen = strlen(ns), len;
	struct timespec pause = { 0, BUSY_WAIT_MS * 1000000L };
	struct fsmc_conn c;
	memcached_return_t rc;
	int64_t deadline;
	char *line, *key, *rest;
	long long exp;
	unsigned long long size;
	int tries = 0, ret = -1;

	fsmc_conn_init(&c, st, sc, call->fc->cancel_fd);
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
		call->keybytes += len - nslen + 1;
		if (call->res->nkeys >= FSMC_KEYS_MAX ||
		    call->keybytes > FSMC_KEYS_BYTES) {
			*why = "more than " FSMC_KEYS_MAX_TEXT
			       " keys: a longer prefix lists fewer";
			ret = -2;
			goto done;
		}
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
 * given prefix.  A server that fails gets its error and status in the
 * server list and the others are still listed; the result's status is
 * that of the first to fail, in the order of the configuration.
 */
enum fsmc_status
cmd_keys(struct fsmc_call *call)
{
	const struct fsmc_settings *st = &call->fc->settings;
	struct fsmc_result *res = call->res;
	const char *why = NULL, *firstwhy = NULL;
	char detail[256], firstdetail[256];
	size_t i, failed = 0;
	char label[300], first[300] = "";
	int r, firstr = 0;

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
		if ((r = dump_server(call, &st->servers[i], &why, detail,
			 sizeof detail)) == 0)
			continue;
		res->servers[i].error = why == detail ? "protocol error" : why;
		res->servers[i].status = r == -2 ? FSMC_ESERVER : FSMC_EUNAVAIL;
		if (failed++ == 0) {
			snprintf(firstdetail, sizeof firstdetail, "%s", why);
			firstwhy = firstdetail;
			firstr = r;
			fsmc_address(st->servers[i].host, st->servers[i].port,
			    first, sizeof first);
		}
	}
	if (failed == 0)
		return (FSMC_OK);
	res->errtext = memcached_strerror(NULL, MEMCACHED_SOME_ERRORS);
	snprintf(label, sizeof label, " and %zu more server%s", failed - 1,
	    failed > 2 ? "s" : "");
	return (fsmc_fail(res, firstr == -2 ? FSMC_ESERVER : FSMC_EUNAVAIL,
	    call->cmd->name, "%s (%s)%s", firstwhy, first,
	    failed > 1 ? label : ""));
}
