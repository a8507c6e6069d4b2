/* Render a result as the bytes FreeSWITCH's memcache API replies with. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fsmc-int.h"

struct out {
	fsmc_write_fn write;
	void *ctx;
	int failed;
};

static void
put(struct out *o, int stream, const void *buf, size_t len)
{
	if (!o->failed && len > 0 && o->write(o->ctx, stream, buf, len) != 0)
		o->failed = 1;
}

static void putf(struct out *o, int stream, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
putf(struct out *o, int stream, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	put(o, stream, buf, (size_t)n);
}

static void
render_usage(struct out *o)
{
	char line[256];
	size_t i;

	put(o, FSMC_STREAM_ERROR, "-ERR\n", 5);
	for (i = 0; fsmc_usage_line(i, 0, line, sizeof line, NULL) != NULL; i++)
		putf(o, FSMC_STREAM_ERROR, "%s\n", line);
	put(o, FSMC_STREAM_ERROR, "\n", 1);
}

/*
 * "Lib version" and "Servers" lines, then per server "  HOST (PORT)" and,
 * with verbose, its statistics or the reason it gave none.
 */
static void
render_status(struct out *o, const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	size_t i, j;

	putf(o, FSMC_STREAM_REPLY, "Lib version: %s\nServers: %zu\n",
	    res->libversion, res->nservers);
	if (res->nservers == 0 && res->errtext != NULL) {
		putf(o, FSMC_STREAM_ERROR, "-ERR %s\n", res->errtext);
		return;
	}
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		putf(o, FSMC_STREAM_REPLY, "  %s (%u)\n", srv->host, srv->port);
		for (j = 0; j < srv->nstats; j++)
			putf(o, FSMC_STREAM_REPLY, "    %s: %s\n",
			    srv->stats[j].name, srv->stats[j].value);
		if (srv->error != NULL)
			putf(o, FSMC_STREAM_REPLY, "    error: %s\n",
			    srv->error);
	}
}

/*
 * One key a line.  A listing that some server could not give is
 * incomplete, and says so first: a FreeSWITCH script that checks for
 * "-ERR" then sees it before any key, and the command line sends that
 * line to standard error, apart from the keys.  No key holds a space,
 * so the line cannot be taken for one.
 */
static void render_big(struct out *, const struct fsmc_result *);

static void
render_keys(struct out *o, const struct fsmc_result *res)
{
	const struct fsmc_key *k;
	const struct fsmc_server *srv;
	char addr[300];
	size_t i, j;

	if (res->status != FSMC_OK)
		putf(o, FSMC_STREAM_ERROR, "-ERR %s\n",
		    res->errtext != NULL ? res->errtext : "");
	if (res->big > 0) {
		render_big(o, res);
		return;
	}
	for (i = 0; i < res->nkeys; i++) {
		k = &res->keys[i];
		for (j = 0; res->servers_column && j < k->nservers; j++) {
			srv = &res->servers[k->servers[j]];
			putf(o, FSMC_STREAM_REPLY, "%s%s",
			    fsmc_address(
				srv->host, srv->port, addr, sizeof addr),
			    j + 1 < k->nservers ? "," : " ");
		}
		put(o, FSMC_STREAM_REPLY, k->name, k->len);
		put(o, FSMC_STREAM_REPLY, "\n", 1);
	}
}

/* One key of a --big list: where, its size, the key. */
static void
render_big_key(struct out *o, const char *where, const struct fsmc_key *k)
{
	putf(o, FSMC_STREAM_REPLY, "%s %llu ", where, k->size);
	put(o, FSMC_STREAM_REPLY, k->name, k->len);
	put(o, FSMC_STREAM_REPLY, "\n", 1);
}

/*
 * keys --big: each server's largest keys, "SERVER SIZE KEY", then the
 * largest of all, "all SIZE KEY".
 */
static void
render_big(struct out *o, const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	char addr[300];
	size_t i;

	for (i = 0; i < res->nkeys; i++) {
		srv = &res->servers[res->keys[i].servers[0]];
		render_big_key(o,
		    fsmc_address(srv->host, srv->port, addr, sizeof addr),
		    &res->keys[i]);
	}
	for (i = 0; i < res->ntop; i++)
		render_big_key(o, "all", &res->keys[res->top[i]]);
}

/*
 * inspect: "NAME: VALUE" lines of what the server told; the fields of
 * memcached's meta debug come last, as an older server may not tell
 * them.
 */
static void
render_inspect(struct out *o, const struct fsmc_result *res)
{
	const struct fsmc_meta *m = &res->meta;
	char addr[300];

	put(o, FSMC_STREAM_REPLY, "key: ", 5);
	put(o, FSMC_STREAM_REPLY, res->key, res->keylen);
	if (res->nservers > 0)
		putf(o, FSMC_STREAM_REPLY, "\nserver: %s",
		    fsmc_address(res->servers[0].host, res->servers[0].port,
			addr, sizeof addr));
	put(o, FSMC_STREAM_REPLY, "\n", 1);
	if (m->known & FSMC_META_TTL && m->ttl < 0)
		putf(o, FSMC_STREAM_REPLY, "ttl: never\n");
	else if (m->known & FSMC_META_TTL)
		putf(o, FSMC_STREAM_REPLY, "ttl: %lld\n", m->ttl);
	if (m->known & FSMC_META_SIZE)
		putf(o, FSMC_STREAM_REPLY, "size: %llu\n", m->size);
	if (m->known & FSMC_META_FLAGS)
		putf(o, FSMC_STREAM_REPLY, "flags: %" PRIx32 "\n", m->flags);
	if (m->known & FSMC_META_CAS)
		putf(o, FSMC_STREAM_REPLY, "cas: %" PRIu64 "\n", m->cas);
	if (m->known & FSMC_META_FETCHED)
		putf(o, FSMC_STREAM_REPLY, "fetched: %s\n",
		    m->fetched ? "yes" : "no");
	if (m->known & FSMC_META_ACCESS)
		putf(o, FSMC_STREAM_REPLY, "last_access: %llu\n",
		    m->last_access);
	if (m->known & FSMC_META_CLASS)
		putf(o, FSMC_STREAM_REPLY, "slab_class: %u\n", m->slab_class);
	if (m->known & FSMC_META_ITEM_SIZE)
		putf(o, FSMC_STREAM_REPLY, "item_size: %llu\n", m->item_size);
}

/*
 * Write the reply to a result through write(ctx, stream, bytes, len):
 * FSMC_STREAM_REPLY for the reply proper, FSMC_STREAM_ERROR for "-ERR"
 * lines and usage.  FreeSWITCH writes both to the API stream; the
 * command line may send the second to standard error.  Returns 0, or -1
 * if a write failed.
 */
int
fsmc_render(const struct fsmc_result *res, fsmc_write_fn write, void *ctx)
{
	struct out o = { write, ctx, 0 };

	if (res->status == FSMC_EUSAGE) {
		render_usage(&o);
		return (o.failed ? -1 : 0);
	}
	if ((res->reply == FSMC_REPLY_STATUS ||
		res->reply == FSMC_REPLY_HEALTH) &&
	    res->libversion != NULL) {
		render_status(&o, res);
		return (o.failed ? -1 : 0);
	}
	if (res->reply == FSMC_REPLY_KEYS) {
		render_keys(&o, res);
		return (o.failed ? -1 : 0);
	}
	if (res->status != FSMC_OK) {
		putf(&o, FSMC_STREAM_ERROR, "-ERR %s\n",
		    res->errtext != NULL ? res->errtext : "");
		return (o.failed ? -1 : 0);
	}
	switch (res->reply) {
	case FSMC_REPLY_OK:
		put(&o, FSMC_STREAM_REPLY, "+OK\n", 4);
		break;
	case FSMC_REPLY_VALUE:
		put(&o, FSMC_STREAM_REPLY, res->value, res->valuelen);
		break;
	case FSMC_REPLY_FLAGS:
		putf(&o, FSMC_STREAM_REPLY, "%" PRIx32, res->flags);
		break;
	case FSMC_REPLY_NUMBER:
		putf(&o, FSMC_STREAM_REPLY, "%" PRIu64, res->number);
		break;
	case FSMC_REPLY_TEXT:
		put(&o, FSMC_STREAM_REPLY, res->value, res->valuelen);
		put(&o, FSMC_STREAM_REPLY, "\n", 1);
		break;
	case FSMC_REPLY_INSPECT:
		render_inspect(&o, res);
		break;
	case FSMC_REPLY_TTL:
		putf(&o, FSMC_STREAM_REPLY, "%lld\n",
		    res->meta.ttl < 0 ? -1LL : res->meta.ttl);
		break;
	default:
		break;
	}
	return (o.failed ? -1 : 0);
}

/*
 * One item as dump writes it and restore and -f read it:
 *
 *	{LENGTH} set KEY EXPIRES FLAGS
 *	VALUE
 *
 * LENGTH is the value's bytes, which follow the first line's newline
 * and are followed by one more; EXPIRES is a Unix time or 0, FLAGS
 * hexadecimal.  The first line is a line of the memcache grammar, so a
 * quote or a backslash in the key is escaped as the splitter reads it.
 * Returns 0, or -1 if a write failed.
 */
int
fsmc_render_item(const struct fsmc_item *item, fsmc_write_fn write, void *ctx)
{
	struct out o = { write, ctx, 0 };
	size_t i, run;

	putf(&o, FSMC_STREAM_REPLY, "{%zu} set ", item->valuelen);
	for (i = 0; i < item->keylen; i = run) {
		for (run = i; run < item->keylen && item->key[run] != '\'' &&
		     item->key[run] != '\\';
		     run++)
			;
		put(&o, FSMC_STREAM_REPLY, item->key + i, run - i);
		if (run < item->keylen) {
			put(&o, FSMC_STREAM_REPLY, "\\", 1);
			put(&o, FSMC_STREAM_REPLY, item->key + run++, 1);
		}
	}
	putf(&o, FSMC_STREAM_REPLY, " %lld %" PRIx32 "\n", item->exp,
	    item->flags);
	put(&o, FSMC_STREAM_REPLY, item->value, item->valuelen);
	put(&o, FSMC_STREAM_REPLY, "\n", 1);
	return (o.failed ? -1 : 0);
}

/*
 * Whether line starts a record, "{LENGTH} " and a command whose value
 * is the LENGTH bytes after the line: the length of that start (the
 * command follows it) with the length in *n; 0 when the line is no
 * record; -1 when it starts with "{" but not as a record does (LENGTH is
 * decimal, below 1 GiB, as -x reads).
 */
int
fsmc_record_header(const char *line, size_t *n)
{
	const char *p = line + 1;
	unsigned long long v = 0;

	if (line[0] != '{')
		return (0);
	for (; *p >= '0' && *p <= '9' && p - line <= 10; p++)
		v = v * 10 + (unsigned long long)(*p - '0');
	if (p == line + 1 || p[0] != '}' || p[1] != ' ' || p[2] == '\0' ||
	    v >= FSMC_VALUE_MAX)
		return (-1);
	*n = (size_t)v;
	return ((int)(p + 2 - line));
}
