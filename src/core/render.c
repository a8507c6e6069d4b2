/* Render a result as the bytes FreeSWITCH's memcache API replies with. */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

static const char *verdicts[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

static void
put_text(struct out *o, const char *s)
{
	put(o, FSMC_STREAM_REPLY, s, strlen(s));
}

/*
 * One figure of performance data after a space, in monitoring-plugins'
 * form label=value[UOM];[warn];[crit];[min];[max].  The label is the
 * server's address and the figure's name, in single quotes (a quote in
 * it doubled) unless it is plain.
 */
static void perf(struct out *, const char *, const char *, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static void
perf(struct out *o, const char *address, const char *name, const char *fmt, ...)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789_.:/[]-";
	char label[400], rest[256];
	const char *p;
	va_list ap;

	snprintf(label, sizeof label, "%s_%s", address, name);
	put_text(o, " ");
	if (strspn(label, plain) == strlen(label))
		put_text(o, label);
	else {
		put_text(o, "'");
		for (p = label; *p != '\0'; p++) {
			put(o, FSMC_STREAM_REPLY, p, 1);
			if (*p == '\'')
				put_text(o, "'");
		}
		put_text(o, "'");
	}
	va_start(ap, fmt);
	vsnprintf(rest, sizeof rest, fmt, ap);
	va_end(ap);
	put_text(o, "=");
	put_text(o, rest);
}

/* A figure with its decimals and unit, or "U" (not known) when negative. */
static const char *
figure(char *buf, size_t len, double v, int decimals, const char *unit)
{
	if (v < 0)
		snprintf(buf, len, "U");
	else
		snprintf(buf, len, "%.*f%s", decimals, v, unit);
	return (buf);
}

/* A threshold as a range: "LIMIT:" alerts below, "LIMIT" above. */
static const char *
perf_range(char *buf, size_t len, double limit, int below)
{
	if (limit < 0)
		buf[0] = '\0';
	else
		snprintf(buf, len, below ? "%g:" : "%g", limit);
	return (buf);
}

static void
perf_server(struct out *o, const struct fsmc_server *srv,
    const struct fsmc_health_figures *f, const struct fsmc_health *h)
{
	char address[300], v[64], w[32], c[32], max[32];

	fsmc_address(srv->host, srv->port, address, sizeof address);
	perf(o, address, "hit", "%s;%s;%s;0;100",
	    figure(v, sizeof v, f->hit, 1, "%"),
	    perf_range(w, sizeof w, h->warn.hit, 1),
	    perf_range(c, sizeof c, h->crit.hit, 1));
	perf(o, address, "evictions", "%s;%s;%s;0",
	    figure(v, sizeof v, f->evictions, 2, ""),
	    perf_range(w, sizeof w, h->warn.evictions, 0),
	    perf_range(c, sizeof c, h->crit.evictions, 0));
	perf(o, address, "memory", "%s;%s;%s;0;100",
	    figure(v, sizeof v, f->memory, 1, "%"),
	    perf_range(w, sizeof w, h->warn.memory, 0),
	    perf_range(c, sizeof c, h->crit.memory, 0));
	if (f->max_connections >= 0)
		snprintf(max, sizeof max, ";%lld", f->max_connections);
	else
		max[0] = '\0';
	perf(o, address, "connections", "%s;;;0%s",
	    figure(v, sizeof v, (double)f->connections, 0, ""), max);
	/* Limits in milliseconds, the figure in seconds. */
	perf(o, address, "time", "%s;%s;%s;0",
	    figure(v, sizeof v, f->response, 6, "s"),
	    perf_range(w, sizeof w,
		h->warn.latency < 0 ? -1 : h->warn.latency / 1000, 0),
	    perf_range(c, sizeof c,
		h->crit.latency < 0 ? -1 : h->crit.latency / 1000, 0));
}

/* A statistic as the server gave it, or "?". */
static const char *
stat_text(const struct fsmc_server *srv, const char *name)
{
	const char *v = fsmc_stat(srv, name);

	return (v != NULL ? v : "?");
}

/* The line of one server: why it is down, or its figures. */
static void
render_server(struct out *o, const struct fsmc_server *srv,
    const struct fsmc_health_figures *f)
{
	const char *connections = stat_text(srv, "curr_connections");
	const char *limit = fsmc_stat(srv, "limit_maxbytes");
	char address[300], v[64];

	fsmc_address(srv->host, srv->port, address, sizeof address);
	if (srv->error != NULL) {
		putf(o, FSMC_STREAM_REPLY, "  %s down: %s\n", address,
		    srv->error);
		return;
	}
	/* Statistics come from the server: put whole, not cut by putf. */
	putf(o, FSMC_STREAM_REPLY, "  %s up: version ", address);
	put_text(o, stat_text(srv, "version"));
	put_text(o, ", uptime ");
	put_text(o, stat_text(srv, "uptime"));
	put_text(o, " s, ");
	put_text(o, connections);
	put_text(
	    o, strcmp(connections, "1") == 0 ? " connection" : " connections");
	put_text(o, ", hit ratio ");
	put_text(o, f->hit < 0 ? "n/a" : figure(v, sizeof v, f->hit, 1, "%"));
	put_text(o, ", evictions ");
	if (f->evictions < 0)
		put_text(o, "n/a");
	else {
		putf(o, FSMC_STREAM_REPLY, "%.2f/s (", f->evictions);
		put_text(o, stat_text(srv, "evictions"));
		put_text(o, " since start)");
	}
	put_text(o, ", memory ");
	if (f->memory < 0 || limit == NULL)
		put_text(o, "n/a");
	else
		putf(o, FSMC_STREAM_REPLY, "%.1f%% of %.0f MiB", f->memory,
		    strtod(limit, NULL) / (1024 * 1024));
	putf(o, FSMC_STREAM_REPLY, ", response %.2f ms\n", f->response * 1000);
}

/*
 * health: "MEMCACHE VERDICT: summary | performance data", then a line
 * per server; only "MEMCACHE UNKNOWN: why" when nothing was judged.
 * Everything goes to the reply stream, where monitoring reads it.
 */
static void
render_health(struct out *o, const struct fsmc_result *res)
{
	const struct fsmc_health *h = res->health;
	size_t i;
	int bar = 0;

	if (h == NULL) {
		put_text(o, "MEMCACHE UNKNOWN: ");
		put_text(
		    o, res->msg[0] != '\0' ? res->msg : "health did not run");
		put_text(o, "\n");
		return;
	}
	putf(o, FSMC_STREAM_REPLY, "MEMCACHE %s: ", verdicts[h->verdict]);
	put_text(o, h->summary);
	for (i = 0; i < res->nservers; i++) {
		if (res->servers[i].error != NULL)
			continue;
		if (bar++ == 0)
			put_text(o, " |");
		perf_server(o, &res->servers[i], &h->figures[i], h);
	}
	put_text(o, "\n");
	for (i = 0; i < res->nservers; i++)
		render_server(o, &res->servers[i], &h->figures[i]);
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
 * A view that some server could not give says so first, as a key
 * listing does.
 */
static void
render_view_error(struct out *o, const struct fsmc_result *res)
{
	if (res->status != FSMC_OK)
		putf(o, FSMC_STREAM_ERROR, "-ERR %s\n",
		    res->errtext != NULL ? res->errtext : "");
}

/* stats: "SERVER NAME VALUE" lines, server after server. */
static void
render_stats(struct out *o, const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	char addr[300];
	size_t i, j;

	render_view_error(o, res);
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		fsmc_address(srv->host, srv->port, addr, sizeof addr);
		/* Pieces, not putf(): a value may be longer than its buffer. */
		for (j = 0; j < srv->nstats; j++) {
			put(o, FSMC_STREAM_REPLY, addr, strlen(addr));
			put(o, FSMC_STREAM_REPLY, " ", 1);
			put(o, FSMC_STREAM_REPLY, srv->stats[j].name,
			    strlen(srv->stats[j].name));
			put(o, FSMC_STREAM_REPLY, " ", 1);
			put(o, FSMC_STREAM_REPLY, srv->stats[j].value,
			    strlen(srv->stats[j].value));
			put(o, FSMC_STREAM_REPLY, "\n", 1);
		}
	}
}

/*
 * A line of slabs: server, class (or "total"), item size, pages, items,
 * age, evicted, evicted time, out of memory, full, and "evicting" for a
 * class that has evicted.
 */
static void
render_slab(struct out *o, const char *addr, const struct fsmc_slab *s)
{
	char id[24] = "total", size[24] = "-", etime[24] = "-";

	if (s->id != 0) {
		snprintf(id, sizeof id, "%u", s->id);
		snprintf(size, sizeof size, "%llu", s->chunk_size);
		snprintf(etime, sizeof etime, "%llu", s->evicted_time);
	}
	putf(o, FSMC_STREAM_REPLY,
	    "%s %s %s %llu %llu %llu %llu %s %llu %s %s\n", addr, id, size,
	    s->pages, s->items, s->age, s->evicted, etime, s->oom,
	    s->id == 0	? "-" :
		s->full ? "yes" :
			  "no",
	    s->evicted > 0 ? "evicting" : "-");
}

/*
 * slabs: each server's classes and their total, then with more than one
 * server the pool's total, as server "all".
 */
static void
render_slabs(struct out *o, const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	struct fsmc_slab t, all;
	char addr[300];
	size_t i, j;

	render_view_error(o, res);
	memset(&all, 0, sizeof all);
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		if (srv->error != NULL)
			continue;
		fsmc_address(srv->host, srv->port, addr, sizeof addr);
		for (j = 0; j < srv->nslabs; j++)
			render_slab(o, addr, &srv->slabs[j]);
		fsmc_slabs_total(srv, &t);
		render_slab(o, addr, &t);
		all.pages += t.pages;
		all.items += t.items;
		all.evicted += t.evicted;
		all.oom += t.oom;
		if (t.age > all.age)
			all.age = t.age;
	}
	if (res->nservers > 1)
		render_slab(o, "all", &all);
}

/* A figure of a view, or "-" when it is not known. */
static const char *
view_figure(char *buf, size_t len, double v, int decimals)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", decimals, v);
	return (buf);
}

/*
 * top from one sample, which is all a single command has: each server's
 * rates since it started, "SERVER GETS/S SETS/S HIT% EVICTIONS/S IN/S
 * OUT/S CONNECTIONS BYTES MEMORY%".
 */
static void
render_top(struct out *o, const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	struct fsmc_rates r;
	char addr[300], f[10][32];
	size_t i;

	render_view_error(o, res);
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		if (fsmc_rates(NULL, srv, &r) != 0)
			continue;
		putf(o, FSMC_STREAM_REPLY, "%s %s %s %s %s %s %s %s %s %s\n",
		    fsmc_address(srv->host, srv->port, addr, sizeof addr),
		    view_figure(f[0], sizeof f[0], r.gets, 1),
		    view_figure(f[1], sizeof f[1], r.sets, 1),
		    view_figure(f[2], sizeof f[2], r.hit, 1),
		    view_figure(f[3], sizeof f[3], r.evictions, 1),
		    view_figure(f[4], sizeof f[4], r.bytes_in, 0),
		    view_figure(f[5], sizeof f[5], r.bytes_out, 0),
		    view_figure(f[6], sizeof f[6], r.connections, 0),
		    view_figure(f[7], sizeof f[7], r.bytes, 0),
		    view_figure(f[8], sizeof f[8], r.memory, 1));
	}
}

/* latency from one sample: "SERVER MILLISECONDS" lines. */
static void
render_latency(struct out *o, const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	char addr[300];
	size_t i;

	render_view_error(o, res);
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		if (srv->error == NULL)
			putf(o, FSMC_STREAM_REPLY, "%s %.3f\n",
			    fsmc_address(
				srv->host, srv->port, addr, sizeof addr),
			    (double)srv->rtt_us / 1000);
	}
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

	if (res->reply == FSMC_REPLY_HEALTH) {
		render_health(&o, res);
		return (o.failed ? -1 : 0);
	}
	if (res->status == FSMC_EUSAGE) {
		render_usage(&o);
		return (o.failed ? -1 : 0);
	}
	if (res->reply == FSMC_REPLY_STATUS && res->libversion != NULL) {
		render_status(&o, res);
		return (o.failed ? -1 : 0);
	}
	if (res->reply == FSMC_REPLY_KEYS) {
		render_keys(&o, res);
		return (o.failed ? -1 : 0);
	}
	if (res->servers != NULL) {
		switch (res->reply) {
		case FSMC_REPLY_STATS:
			render_stats(&o, res);
			return (o.failed ? -1 : 0);
		case FSMC_REPLY_SLABS:
			render_slabs(&o, res);
			return (o.failed ? -1 : 0);
		case FSMC_REPLY_TOP:
			render_top(&o, res);
			return (o.failed ? -1 : 0);
		case FSMC_REPLY_LATENCY:
			render_latency(&o, res);
			return (o.failed ? -1 : 0);
		default:
			break;
		}
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
