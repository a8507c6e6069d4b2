/* dump and restore, extensions: every item with its value, flags and expiry,
 * as records that restore and -f read back. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fsmc-int.h"

/*
 * dump lists every server's keys with lru_crawler metadump, all at
 * once, then reads them, server by server and a window at a time, with
 * one multi-get on that server: memory holds the names of the servers'
 * keys (at most NAMES_MAX bytes of each one's) and the values of one
 * window, whatever the number of items.  A
 * window is WINDOW_KEYS keys, or fewer that make WINDOW_BYTES by their
 * sizes in the listing (one, however large, at least).
 */
#define WINDOW_KEYS 256
#define WINDOW_BYTES (4UL * 1024 * 1024)
#define NAMES_MAX (512UL * 1024 * 1024)
#define NAMES_MAX_TEXT "512 MiB"

/* restore: a record's first line is at most this long. */
#define HEADER_MAX 4096
#define INPUT_CHUNK 65536

struct window {
	size_t n;
	char names[WINDOW_KEYS][FSMC_KEY_MAX + 1];
	long long exp[WINDOW_KEYS];
	struct fsmc_call calls[WINDOW_KEYS];
	struct fsmc_result results[WINDOW_KEYS];
};

/* The link's connection to configured server sc. */
static struct fsmc_conn *
conn_of(struct fsmc_link *l, const struct fsmc_server_conf *sc)
{
	uint32_t i;

	for (i = 0; i < l->nconns; i++) {
		if (l->conns[i].sc == sc)
			return (&l->conns[i]);
	}
	return (NULL);
}

/*
 * Read the window's keys from the server that listed them and hand
 * each item over.  Returns 0, 1 when the reader stopped the dump, or
 * the failure of the first key that could not be read, with why.
 */
static int
read_window(struct fsmc_call *call, struct window *w, struct fsmc_conn *conn,
    const char *server, memcached_return_t *rc)
{
	const struct fsmc_cmd *get = fsmc_find_command("get");
	struct fsmc_result *res = call->res;
	struct fsmc_call *c;
	struct fsmc_item item;
	size_t i;
	int ret = 0;

	for (i = 0; i < w->n; i++) {
		c = &w->calls[i];
		memset(c, 0, sizeof *c);
		memset(&w->results[i], 0, sizeof w->results[i]);
		c->fc = call->fc;
		c->mc = call->mc;
		c->cmd = get;
		c->res = &w->results[i];
		c->a.key = w->names[i];
		c->a.keylen = strlen(w->names[i]);
		c->conn = conn;
		c->pinned = 1;
	}
	cmd_get_many(call->link, w->calls, w->n);
	for (i = 0; i < w->n; i++) {
		if (ret != 0 || w->results[i].status == FSMC_NOTFOUND) {
			/* Gone since it was listed: expired, evicted, deleted.
			 */
			res->skipped += ret == 0;
		} else if (w->results[i].status != FSMC_OK) {
			*rc = w->calls[i].rc;
			ret = -1;
		} else {
			item.key = w->names[i];
			item.keylen = w->calls[i].a.keylen;
			item.value = w->results[i].value;
			item.valuelen = w->results[i].valuelen;
			item.flags = w->results[i].flags;
			item.exp = w->exp[i] < 0 ? 0 : w->exp[i];
			item.server = server;
			if (call->stream->item(call->stream->ctx, &item) != 0)
				ret = 1;
			else
				res->items++;
		}
		fsmc_result_clear(&w->results[i]);
	}
	w->n = 0;
	return (ret);
}

/* A server's keys, listed before any is read. */
struct names {
	struct fsmc_keybuf kb;
	size_t skipped;	   /* keys the text protocol cannot carry */
	const char *error; /* for the server's entry in the result */
};

/*
 * List one server's keys that match, whole, into nm.  Returns 0, or -1,
 * -2 or -3 with *why as fsmc_metadump_next() fails (in buf when it is
 * the server's words).
 */
static int
list_names(struct fsmc_call *call, size_t which, struct names *nm,
    const char **why, char *buf, size_t buflen)
{
	struct fsmc_metadump md;
	unsigned long long size;
	long long exp;
	size_t len;
	char *key;
	int r;

	r = fsmc_metadump_open(
	    &md, call->fc, which, call->a.key, call->a.keylen);
	md.renew = 1;
	while (r == 0 &&
	    (r = fsmc_metadump_next(&md, &key, &len, &exp, &size)) == 1) {
		/* A key the text protocol cannot carry cannot be read. */
		if (fsmc_bad_key(key, len, call->fc->nslen) != NULL)
			nm->skipped++;
		else if ((r = fsmc_keybuf_add(
			      &nm->kb, NAMES_MAX, key, len, exp, size)) != 0)
			md.why = r == -2 ? "more than " NAMES_MAX_TEXT
					   " of keys: a longer pattern "
					   "lists fewer" :
					   "out of memory";
	}
	if (r < 0) {
		snprintf(buf, buflen, "%s", md.why);
		*why = md.why == md.detail ? buf : md.why;
	}
	fsmc_metadump_close(&md);
	return (r);
}

/* What the parts of dump's listing share. */
struct dump_run {
	struct fsmc_call *call;
	struct names *names;
};

/* List the part's server's keys, before any server is read. */
static void
list_part(struct fsmc_part *p)
{
	static const enum fsmc_status of[] = { FSMC_EUNAVAIL, FSMC_ESERVER,
		FSMC_EINTERNAL };
	struct dump_run *dr = p->arg;
	struct names *nm = &dr->names[p->i];
	const char *why = NULL;
	char buf[256];
	int r;

	if ((r = list_names(dr->call, p->i, nm, &why, buf, sizeof buf)) >= 0)
		return;
	fsmc_part_failed(p, of[-r - 1],
	    memcached_strerror(NULL, MEMCACHED_SOME_ERRORS),
	    &dr->call->fc->settings.servers[p->i], "%s", why);
	/* The message says what was wrong; the server's entry, less. */
	nm->error = why == buf ? "protocol error" : why;
}

/*
 * Dump one server from its listing: its keys, with their values.  Every
 * listing is done before any server is read: reading an item moves it
 * in its LRU, and a listing going on would miss some of those moved.
 * Returns 0, 1 when the reader stopped the dump, or -1 (unavailable) or
 * -2 (server error) with *why.
 */
static int
dump_server(struct fsmc_call *call, struct window *w, size_t which,
    const struct names *nm, const char **why, char *buf, size_t buflen)
{
	const struct fsmc_settings *st = &call->fc->settings;
	struct fsmc_conn *conn;
	memcached_return_t rc = MEMCACHED_SUCCESS;
	char server[300];
	unsigned long long size, bytes = 0;
	const char *key;
	size_t at = 0, len;
	long long exp;
	int r = 0;

	fsmc_address(st->servers[which].host, st->servers[which].port, server,
	    sizeof server);
	if ((conn = conn_of(call->link, &st->servers[which])) == NULL) {
		*why = "a server the configuration does not have";
		return (-3);
	}
	while (r == 0 &&
	    fsmc_keybuf_next(&nm->kb, &at, &key, &len, &exp, &size) == 1) {
		memcpy(w->names[w->n], key, len + 1);
		w->exp[w->n++] = exp;
		bytes += size;
		if (w->n == WINDOW_KEYS || bytes >= WINDOW_BYTES ||
		    at == nm->kb.len) {
			r = read_window(call, w, conn, server, &rc);
			bytes = 0;
		}
	}
	if (r == -1) {
		/* A read failed: its connection says why. */
		fsmc_conn_reason(conn, rc, buf, buflen);
		*why = buf;
		r = fsmc_status_of(rc) == FSMC_EUNAVAIL ? -1 : -2;
	}
	return (r);
}

/*
 * Every item of every server that matches the pattern, handed to the
 * stream's item function.  A server that fails is reported as keys
 * reports it, and the others are still dumped.
 */
enum fsmc_status
cmd_dump(struct fsmc_call *call)
{
	static const enum fsmc_status of[] = { FSMC_EUNAVAIL, FSMC_ESERVER,
		FSMC_EINTERNAL };
	const struct fsmc_settings *st = &call->fc->settings;
	struct fsmc_result *res = call->res;
	struct fsmc_failures f = { 0 };
	struct fsmc_part *parts;
	struct dump_run dr;
	struct window *w;
	const char *why;
	char detail[256];
	size_t i;
	int r = 0;

	if (call->stream == NULL || call->stream->item == NULL)
		return (fsmc_fail(res, FSMC_EUSAGE, call->cmd->name,
		    "streams its items, so it runs only as a command of "
		    "its own"));
	if (fsmc_listing_begin(call) != FSMC_OK)
		return (res->status);
	w = calloc(1, sizeof *w);
	dr.call = call;
	dr.names = calloc(st->nservers + 1, sizeof *dr.names);
	parts = calloc(st->nservers + 1, sizeof *parts);
	if (w == NULL || dr.names == NULL || parts == NULL) {
		free(w);
		free(dr.names);
		free(parts);
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	}
	fsmc_fanout_run(parts, (uint32_t)st->nservers, list_part, &dr);
	for (i = 0; i < st->nservers; i++) {
		if (r == 1) {
			free(dr.names[i].kb.buf);
			continue;
		}
		res->skipped += dr.names[i].skipped;
		if (parts[i].status == FSMC_OK) {
			why = NULL;
			r = dump_server(call, w, i, &dr.names[i], &why, detail,
			    sizeof detail);
			if (r < 0) {
				fsmc_part_failed(&parts[i], of[-r - 1],
				    memcached_strerror(
					NULL, MEMCACHED_SOME_ERRORS),
				    &st->servers[i], "%s", why);
				dr.names[i].error =
				    why == detail ? "protocol error" : why;
			}
		}
		free(dr.names[i].kb.buf);
		if (parts[i].status != FSMC_OK) {
			res->servers[i].error = dr.names[i].error;
			res->servers[i].status = parts[i].status;
		}
		fsmc_failures_add(&f, &parts[i]);
	}
	free(w);
	free(dr.names);
	free(parts);
	if (r == 1)
		return (fsmc_fail(res, FSMC_EINTERNAL, call->cmd->name,
		    "stopped: an item could not be written"));
	if (f.count == 0)
		return (FSMC_OK);
	res->errtext = memcached_strerror(NULL, MEMCACHED_SOME_ERRORS);
	return (fsmc_failures_result(call, &f));
}

/* restore's input, read through the stream a chunk at a time. */
struct input {
	const struct fsmc_stream *st;
	char buf[INPUT_CHUNK];
	size_t pos, end;
	int eof;
	unsigned long line; /* lines begun so far */
};

/* More input: 1, 0 at its end, -1 when reading failed. */
static int
fill(struct input *in)
{
	long n;

	if (in->eof)
		return (0);
	n = in->st->read(in->st->ctx, in->buf, sizeof in->buf);
	if (n < 0)
		return (-1);
	if (n == 0 || (size_t)n > sizeof in->buf) {
		in->eof = 1;
		return (0);
	}
	in->pos = 0;
	in->end = (size_t)n;
	return (1);
}

/*
 * The next line, without its newline, into out (max bytes and a NUL):
 * 1, 0 at the end of the input, -1 when reading failed, -2 when it is
 * longer (it is not read further).  The last line may lack its newline.
 */
static int
read_line(struct input *in, char *out, size_t max, size_t *lenp)
{
	size_t len = 0, n;
	char *nl;
	int f, any = 0;

	for (;;) {
		if (in->pos == in->end) {
			if ((f = fill(in)) < 0)
				return (-1);
			if (f == 0)
				break;
		}
		any = 1;
		nl = memchr(in->buf + in->pos, '\n', in->end - in->pos);
		n = (nl != NULL ? (size_t)(nl - in->buf) : in->end) - in->pos;
		if (len + n > max)
			return (-2);
		memcpy(out + len, in->buf + in->pos, n);
		len += n;
		in->pos += n + (nl != NULL);
		if (nl != NULL)
			break;
	}
	out[len] = '\0';
	*lenp = len;
	return (any);
}

/* Exactly n bytes into out: 1, 0 when the input ends first, -1 failing. */
static int
read_bytes(struct input *in, char *out, size_t n)
{
	size_t got = 0, k;
	int f;

	while (got < n) {
		if (in->pos == in->end) {
			if ((f = fill(in)) <= 0)
				return (f);
		}
		k = in->end - in->pos < n - got ? in->end - in->pos : n - got;
		memcpy(out + got, in->buf + in->pos, k);
		in->pos += k;
		got += k;
	}
	return (1);
}

/*
 * The expiration to store a record with, now: memcached's reading of
 * exp (0 never, up to 30 days from now, beyond that a Unix time), told
 * as seconds from now when it fits in 30 days.  -1 when it has passed.
 */
static long long
expiration(long long exp, time_t now)
{
	long long left;

	if (exp < 0)
		return (-1);
	if (exp <= FSMC_RELATIVE_MAX)
		return (exp);
	if ((left = exp - (long long)now) <= 0)
		return (-1);
	return (left <= FSMC_RELATIVE_MAX ? left : exp);
}

/* A malformed record: nothing of it is sent, and restore stops. */
static enum fsmc_status
malformed(struct fsmc_call *call, unsigned long line, const char *why,
    const char *more)
{
	call->res->errtext =
	    memcached_strerror(NULL, MEMCACHED_INVALID_ARGUMENTS);
	return (fsmc_fail(call->res, FSMC_EDATA, call->cmd->name,
	    "line %lu: %s%s", line, why, more != NULL ? more : ""));
}

/*
 * restore's sets wait on their connections, a window at a time, and
 * their replies are read together: what a connection holds is at most
 * RESTORE_WINDOW sets, or a few more than RESTORE_BYTES of them.
 */
#define RESTORE_WINDOW 256
#define RESTORE_BYTES (4UL * 1024 * 1024)

/* A set sent and not yet answered. */
struct pending {
	struct fsmc_conn *conn;
	unsigned long line;
	int copy; /* to a replica: its reply does not count */
	char key[FSMC_KEY_MAX + 1];
};

struct restore {
	struct fsmc_call *call;
	struct pending *p;
	size_t n;
	size_t bytes;
	/* The first set a server refused, for the message. */
	unsigned long refused_line;
	memcached_return_t refused_rc;
	const struct fsmc_conn *refused_conn;
	char refused_key[FSMC_KEY_MAX + 1];
};

/* A failure of the set of p, named by its line and key. */
static enum fsmc_status
set_failed(struct restore *rs, const struct pending *p,
    const struct fsmc_conn *c, memcached_return_t rc)
{
	struct fsmc_result *res = rs->call->res;
	char reason[256], where[300], key[96];

	fsmc_conn_reason(c, rc, reason, sizeof reason);
	fsmc_escape(p->key, strlen(p->key), key, sizeof key);
	res->errtext = memcached_strerror(NULL, rc);
	return (fsmc_fail(res, fsmc_status_of(rc), rs->call->cmd->name,
	    "line %lu: set %s: %s (%s)", p->line, key, reason,
	    fsmc_address(c->sc->host, c->sc->port, where, sizeof where)));
}

/*
 * Send what waits on each connection and read the replies, in order.
 * A set the server refuses is counted; a connection that fails stops
 * restore, naming the first set it did not answer.
 */
static enum fsmc_status
restore_flush(struct restore *rs)
{
	struct fsmc_link *l = rs->call->link;
	struct fsmc_request rq;
	struct fsmc_response rp;
	memcached_return_t rc;
	int64_t deadline;
	uint32_t i;
	size_t k;

	memset(&rq, 0, sizeof rq);
	rq.verb = FSMC_V_SET;
	for (i = 0; i < l->nconns; i++) {
		if (l->conns[i].outlen == 0)
			continue;
		deadline = fsmc_now_ms() + l->conns[i].st->io_ms;
		if ((rc = fsmc_conn_send(&l->conns[i], deadline)) ==
		    MEMCACHED_SUCCESS)
			continue;
		for (k = 0; rs->p[k].conn != &l->conns[i]; k++)
			;
		rs->n = 0;
		return (set_failed(rs, &rs->p[k], &l->conns[i], rc));
	}
	for (k = 0; k < rs->n; k++) {
		deadline = fsmc_now_ms() + rs->p[k].conn->st->io_ms;
		rc = fsmc_wire_reply(rs->p[k].conn, &rq, deadline, &rp);
		free(rp.value);
		if (rc == MEMCACHED_SUCCESS || rs->p[k].copy)
			continue;
		if (fsmc_status_of(rc) == FSMC_EUNAVAIL ||
		    rc == MEMCACHED_PROTOCOL_ERROR) {
			rs->n = 0;
			return (set_failed(rs, &rs->p[k], rs->p[k].conn, rc));
		}
		if (rs->call->res->refused++ == 0) {
			rs->refused_line = rs->p[k].line;
			rs->refused_rc = rc;
			rs->refused_conn = rs->p[k].conn;
			memcpy(rs->refused_key, rs->p[k].key,
			    sizeof rs->refused_key);
		}
	}
	rs->n = 0;
	rs->bytes = 0;
	return (FSMC_OK);
}

/*
 * Queue a set on the server of its key, and with replicas a copy on the
 * next servers, as a set has; the replies come with the window's.
 */
static enum fsmc_status
restore_set(struct restore *rs, const struct fsmc_args *a, long long exp,
    unsigned long line)
{
	struct fsmc_link *l = rs->call->link;
	struct fsmc_request rq;
	struct fsmc_conn *c;
	memcached_return_t rc;
	uint32_t first, r, copies;

	if (l->nconns == 0) {
		rs->call->conn = NULL;
		return (fsmc_fail_rc(rs->call, MEMCACHED_NO_SERVERS));
	}
	memset(&rq, 0, sizeof rq);
	rq.verb = FSMC_V_SET;
	rq.key = a->key;
	rq.keylen = a->keylen;
	rq.value = a->value;
	rq.valuelen = a->valuelen;
	rq.flags = a->flags;
	rq.exptime = exp;
	copies = (uint32_t)rs->call->fc->settings.replicas;
	first = fsmc_link_place(l, a->key, a->keylen);
	for (r = 0; r <= copies && r < l->nconns; r++) {
		if (rs->n == RESTORE_WINDOW || rs->bytes >= RESTORE_BYTES) {
			if (restore_flush(rs) != FSMC_OK)
				return (rs->call->res->status);
		}
		c = &l->conns[(first + r) % l->nconns];
		rs->p[rs->n].conn = c;
		rs->p[rs->n].line = line;
		rs->p[rs->n].copy = r > 0;
		memcpy(rs->p[rs->n].key, a->key, a->keylen);
		rs->p[rs->n].key[a->keylen] = '\0';
		if ((rc = fsmc_conn_open(c)) != MEMCACHED_SUCCESS) {
			set_failed(rs, &rs->p[rs->n], c, rc);
			rs->n = 0;
			return (rs->call->res->status);
		}
		if (fsmc_wire_request(c, &rq) != 0)
			return (fsmc_fail(rs->call->res, FSMC_EINTERNAL,
			    rs->call->cmd->name, "out of memory"));
		rs->n++;
		rs->bytes += a->valuelen + a->keylen + 64;
	}
	return (FSMC_OK);
}

/*
 * One record: its first line is in hdr.  Reads its value, checks it and
 * stores it, unless expired.  Returns FSMC_OK, or the failure that
 * stops restore.
 */
static enum fsmc_status
restore_record(
    struct restore *rs, struct input *in, char *hdr, unsigned long line)
{
	struct fsmc_call *call = rs->call;
	struct fsmc_result *res = call->res;
	struct fsmc_call check;
	struct fsmc_result r;
	char *words[FSMC_MAX_TOKENS], *value, *p;
	enum fsmc_status status;
	long long exp;
	size_t n;
	int off, argc, got;

	if ((off = fsmc_record_header(hdr, &n)) <= 0)
		return (malformed(call, line,
		    "not a record: one starts \"{LENGTH} set \"", NULL));
	argc = fsmc_split_line(hdr + off, words, FSMC_MAX_TOKENS);
	if (argc < 1 || strcasecmp(words[0], "set") != 0)
		return (malformed(call, line,
		    "not a set record: restore stores with set", NULL));
	if ((value = malloc(n + 1)) == NULL)
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	if (fsmc_prepare(&check, call->fc, argc, words, value, n, &r) !=
	    FSMC_OK) {
		free(value);
		return (malformed(call, line, r.msg, NULL));
	}
	if ((got = read_bytes(in, value, n)) == 1)
		got = read_bytes(in, value + n, 1);
	if (got <= 0) {
		free(value);
		if (got < 0)
			return (fsmc_fail(res, FSMC_EINTERNAL, call->cmd->name,
			    "reading the input failed"));
		return (malformed(call, line,
		    "the input ends inside the value of the record", NULL));
	}
	if (value[n] != '\n') {
		free(value);
		return (malformed(call, line,
		    "the value is not followed by a newline: its length is "
		    "wrong",
		    NULL));
	}
	for (p = value; (p = memchr(p, '\n', (size_t)(value + n - p))) != NULL;
	     p++)
		in->line++;
	in->line++;
	res->items++;
	status = FSMC_OK;
	if ((exp = expiration(check.a.expiration, time(NULL))) < 0)
		res->skipped++;
	else
		status = restore_set(rs, &check.a, exp, line);
	free(value);
	return (status);
}

/*
 * Store the records of the stream's input, as dump writes them, with
 * set, pipelined.  Blank lines and comments are skipped; a record whose
 * expiry has passed is counted and skipped.  At the first malformed
 * record restore stops, and none of it is sent; a set that a server
 * refuses (too large) is counted and restore goes on.
 */
enum fsmc_status
cmd_restore(struct fsmc_call *call)
{
	struct fsmc_result *res = call->res;
	struct restore rs;
	struct input *in;
	char hdr[HEADER_MAX + 1], *p, key[96], msg[sizeof res->msg];
	const char *errtext;
	enum fsmc_status status;
	unsigned long line;
	size_t len;
	int got;

	if (call->stream == NULL || call->stream->read == NULL)
		return (fsmc_fail(res, FSMC_EUSAGE, call->cmd->name,
		    "reads its items from a stream, so it runs only as a "
		    "command of its own"));
	memset(&rs, 0, sizeof rs);
	rs.call = call;
	in = calloc(1, sizeof *in);
	rs.p = calloc(RESTORE_WINDOW, sizeof *rs.p);
	if (in == NULL || rs.p == NULL) {
		free(in);
		free(rs.p);
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	}
	in->st = call->stream;
	while ((got = read_line(in, hdr, HEADER_MAX, &len)) > 0) {
		line = ++in->line;
		for (p = hdr; *p == ' ' || *p == '\t' || *p == '\r'; p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		if (memchr(hdr, '\0', len) != NULL) {
			malformed(call, line, "not a record: a NUL byte", NULL);
			break;
		}
		if (restore_record(&rs, in, hdr, line) != FSMC_OK)
			break;
	}
	if (got == -2)
		malformed(call, in->line + 1,
		    "not a record: longer than 4096 bytes", NULL);
	else if (got == -1)
		fsmc_fail(res, FSMC_EINTERNAL, call->cmd->name,
		    "reading the input failed");
	/*
	 * What was queued before a failure is sent all the same; the
	 * first failure is the one to tell.
	 */
	status = res->status;
	errtext = res->errtext;
	memcpy(msg, res->msg, sizeof msg);
	if (restore_flush(&rs) != FSMC_OK && status != FSMC_OK) {
		res->status = status;
		res->errtext = errtext;
		memcpy(res->msg, msg, sizeof msg);
	}
	if (res->refused > 0 && res->status == FSMC_OK) {
		fsmc_escape(
		    rs.refused_key, strlen(rs.refused_key), key, sizeof key);
		res->errtext = memcached_strerror(NULL, rs.refused_rc);
		fsmc_reason(rs.refused_rc, 0, hdr, sizeof hdr);
		fsmc_fail(res, fsmc_status_of(rs.refused_rc), call->cmd->name,
		    "%llu item%s refused by the servers, the first at line %lu: "
		    "set %s: %s",
		    res->refused, res->refused > 1 ? "s" : "", rs.refused_line,
		    key, hdr);
	}
	free(rs.p);
	free(in);
	return (res->status);
}
