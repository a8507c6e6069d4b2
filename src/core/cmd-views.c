/* The views of a pool: statistics, slab classes, samples, round trips. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsmc-int.h"

/* Slab class ids a reply may name; memcached has at most 63. */
#define SLAB_IDS 256

/* Asks one server for its part of a view. */
typedef memcached_return_t (*ask_fn)(
    struct fsmc_call *, struct fsmc_conn *, struct fsmc_server *);

/* A monotonic clock in microseconds: round trips are often below 1 ms. */
static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/*
 * Ask c for the statistics of group (NULL for the general ones) and add
 * them to srv, the whole reply within one deadline.  The connection
 * stays open for a session's next command; one the server has closed
 * since (a restart) is opened again, once.
 */
static memcached_return_t
ask_stats(struct fsmc_conn *c, const char *group, struct fsmc_server *srv)
{
	struct fsmc_request rq = { 0 };
	memcached_return_t rc;
	int64_t deadline;
	size_t count;
	int kept, tries = 0;

	rq.verb = FSMC_V_STATS;
	rq.arg = group;
again:
	count = 0;
	if (fsmc_conn_pending(c))
		fsmc_conn_close(c);
	kept = c->fd >= 0;
	if ((rc = fsmc_conn_open(c)) != MEMCACHED_SUCCESS)
		return (rc);
	if (fsmc_wire_request(c, &rq) != 0)
		return (
		    fsmc_conn_fail(c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, 0));
	deadline = fsmc_now_ms() + c->st->io_ms;
	rc = fsmc_conn_send(c, deadline);
	if (rc == MEMCACHED_SUCCESS)
		rc = fsmc_server_read_stats(c, deadline, srv, &count);
	if (rc == MEMCACHED_CONNECTION_FAILURE && kept && count <= 1 &&
	    tries++ == 0)
		goto again;
	return (rc == MEMCACHED_END ? MEMCACHED_SUCCESS : rc);
}

/* What a view's parts share. */
struct view {
	struct fsmc_call *call;
	const char *what;
	ask_fn ask;
};

/* Ask the part's server for its part of the view. */
static void
view_part(struct fsmc_part *p)
{
	struct view *v = p->arg;
	struct fsmc_call *call = v->call;
	struct fsmc_conn *c = &call->link->conns[p->i];
	struct fsmc_server *srv = &call->res->servers[p->i];
	memcached_return_t rc;
	char reason[256];

	if ((rc = v->ask(call, c, srv)) == MEMCACHED_SUCCESS)
		return;
	/* A reply cut short would pass for the whole: drop it. */
	fsmc_server_drop_stats(srv);
	free(srv->slabs);
	srv->slabs = NULL;
	srv->nslabs = 0;
	srv->status = fsmc_one_server_failed(
	    call->fc, c, rc, v->what, &srv->error, reason, sizeof reason);
	fsmc_part_failed(p, srv->status, srv->error, c->sc, "%s", reason);
}

/*
 * Ask every server for its part of a view, all at once, each within its
 * own deadline.  A server that fails gets its error and status and the
 * others are still asked; the result then has the status of the first
 * to fail in the order of the configuration, and its -ERR text when it
 * is the only one.  what names the request in messages.
 */
static enum fsmc_status
each_server(struct fsmc_call *call, const char *what, ask_fn ask)
{
	struct fsmc_result *res = call->res;
	struct fsmc_failures f = { 0 };
	struct fsmc_server *srv;
	struct fsmc_conn *c;
	struct view v;
	uint32_t i, n = call->link->nconns;

	if (n == 0) {
		res->errtext = memcached_strerror(NULL, MEMCACHED_NO_SERVERS);
		return (fsmc_fail(
		    res, FSMC_EUNAVAIL, call->cmd->name, "no servers defined"));
	}
	if ((res->servers = calloc(n, sizeof *res->servers)) == NULL)
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	for (i = 0; i < n; i++) {
		c = &call->link->conns[i];
		srv = &res->servers[i];
		if ((srv->host = strdup(c->sc->host)) == NULL)
			return (fsmc_fail(res, FSMC_EINTERNAL, call->cmd->name,
			    "out of memory"));
		srv->port = c->sc->port;
		res->nservers++;
	}
	v.call = call;
	v.what = what;
	v.ask = ask;
	if (fsmc_fanout(call, n, view_part, &v, &f) != FSMC_OK)
		return (res->status);
	if (f.count > 0)
		res->errtext = f.count == 1 ?
		    f.errtext :
		    memcached_strerror(NULL, MEMCACHED_SOME_ERRORS);
	return (fsmc_failures_result(call, &f));
}

static memcached_return_t
ask_group(struct fsmc_call *call, struct fsmc_conn *c, struct fsmc_server *srv)
{
	return (ask_stats(c, call->a.group, srv));
}

/*
 * stats [group], an extension: memcached's statistics, or those of a
 * group, from every server.
 */
enum fsmc_status
cmd_stats(struct fsmc_call *call)
{
	char what[64];

	call->res->group = call->a.group;
	snprintf(what, sizeof what, "stats%s%s",
	    call->a.group != NULL ? " " : "",
	    call->a.group != NULL ? call->a.group : "");
	return (each_server(call, what, ask_group));
}

/* A whole decimal number, or -1 if value is not one. */
static int
counter(const char *value, unsigned long long *out)
{
	char *end;

	if (*value < '0' || *value > '9')
		return (-1);
	*out = strtoull(value, &end, 10);
	return (*end == '\0' ? 0 : -1);
}

/*
 * The field of a slab class that a statistic names, "N:name" of stats
 * slabs or "items:N:name" of stats items, or NULL.
 */
static unsigned long long *
slab_field(struct fsmc_slab *by_id, const char *name)
{
	struct fsmc_slab *s;
	const char *p = name;
	unsigned long id = 0;
	int items = 0;

	if (strncmp(p, "items:", 6) == 0) {
		p += 6;
		items = 1;
	}
	if (*p < '0' || *p > '9')
		return (NULL);
	while (*p >= '0' && *p <= '9' && id < SLAB_IDS)
		id = id * 10 + (unsigned long)(*p++ - '0');
	if (*p++ != ':' || id == 0 || id >= SLAB_IDS)
		return (NULL);
	s = &by_id[id];
	if (!items && strcmp(p, "chunk_size") == 0)
		return (&s->chunk_size);
	if (!items && strcmp(p, "total_pages") == 0)
		return (&s->pages);
	if (!items && strcmp(p, "total_chunks") == 0)
		return (&s->chunks);
	if (!items && strcmp(p, "used_chunks") == 0)
		return (&s->used_chunks);
	if (items && strcmp(p, "number") == 0)
		return (&s->items);
	if (items && strcmp(p, "age") == 0)
		return (&s->age);
	if (items && strcmp(p, "evicted") == 0)
		return (&s->evicted);
	if (items && strcmp(p, "evicted_time") == 0)
		return (&s->evicted_time);
	if (items && strcmp(p, "outofmemory") == 0)
		return (&s->oom);
	return (NULL);
}

/*
 * Make the slab classes of a server from the lines of its stats slabs
 * and stats items, as memcached-tool does: the classes that have pages,
 * by id.  Lines it does not know are passed over.
 */
static int
make_slabs(struct fsmc_server *srv)
{
	struct fsmc_slab *by_id;
	unsigned long long *field, v;
	size_t i, n = 0;

	if ((by_id = calloc(SLAB_IDS, sizeof *by_id)) == NULL)
		return (-1);
	for (i = 0; i < srv->nstats; i++) {
		if ((field = slab_field(by_id, srv->stats[i].name)) != NULL &&
		    counter(srv->stats[i].value, &v) == 0)
			*field = v;
	}
	for (i = 1; i < SLAB_IDS; i++)
		n += by_id[i].pages > 0;
	if (n > 0 && (srv->slabs = calloc(n, sizeof *srv->slabs)) == NULL) {
		free(by_id);
		return (-1);
	}
	for (i = 1; i < SLAB_IDS; i++) {
		if (by_id[i].pages == 0)
			continue;
		by_id[i].id = (unsigned int)i;
		by_id[i].full = by_id[i].chunks > 0 &&
		    by_id[i].used_chunks >= by_id[i].chunks;
		srv->slabs[srv->nslabs++] = by_id[i];
	}
	free(by_id);
	fsmc_server_drop_stats(srv);
	return (0);
}

static memcached_return_t
ask_slabs(struct fsmc_call *call, struct fsmc_conn *c, struct fsmc_server *srv)
{
	memcached_return_t rc;

	(void)call;
	if ((rc = ask_stats(c, "slabs", srv)) != MEMCACHED_SUCCESS ||
	    (rc = ask_stats(c, "items", srv)) != MEMCACHED_SUCCESS)
		return (rc);
	if (make_slabs(srv) != 0)
		return (MEMCACHED_MEMORY_ALLOCATION_FAILURE);
	return (MEMCACHED_SUCCESS);
}

/* slabs, an extension: the slab classes of every server. */
enum fsmc_status
cmd_slabs(struct fsmc_call *call)
{
	return (each_server(call, "stats slabs", ask_slabs));
}

/* The total of a server's slab classes: id 0, the oldest item's age. */
void
fsmc_slabs_total(const struct fsmc_server *srv, struct fsmc_slab *t)
{
	const struct fsmc_slab *s;
	size_t i;

	memset(t, 0, sizeof *t);
	for (i = 0; i < srv->nslabs; i++) {
		s = &srv->slabs[i];
		t->pages += s->pages;
		t->chunks += s->chunks;
		t->used_chunks += s->used_chunks;
		t->items += s->items;
		t->evicted += s->evicted;
		t->oom += s->oom;
		if (s->age > t->age)
			t->age = s->age;
	}
}

static memcached_return_t
ask_top(struct fsmc_call *call, struct fsmc_conn *c, struct fsmc_server *srv)
{
	memcached_return_t rc;

	(void)call;
	if ((rc = ask_stats(c, NULL, srv)) == MEMCACHED_SUCCESS)
		srv->when_us = now_us();
	return (rc);
}

/*
 * top, an extension: a sample of every server's statistics, each with
 * the time it came, from which fsmc_rates() makes rates.  Taking the
 * samples an interval apart is the caller's business.
 */
enum fsmc_status
cmd_top(struct fsmc_call *call)
{
	return (each_server(call, "stats", ask_top));
}

/* A counter of a server's statistics, or -1 when it has none. */
static int
stat_counter(
    const struct fsmc_server *srv, const char *name, unsigned long long *out)
{
	const char *v = fsmc_stat(srv, name);

	return (v != NULL ? counter(v, out) : -1);
}

/*
 * The rate of a counter per second between two samples (before NULL:
 * since the server started, when it was 0), or -1 when either lacks
 * it or it went back.
 */
static double
rate(const struct fsmc_server *before, const struct fsmc_server *now,
    const char *name, double seconds)
{
	unsigned long long a = 0, b;

	if (stat_counter(now, name, &b) != 0 ||
	    (before != NULL && stat_counter(before, name, &a) != 0) || b < a)
		return (-1);
	return ((double)(b - a) / seconds);
}

/* A gauge of a server's statistics, or -1. */
static double
gauge(const struct fsmc_server *srv, const char *name)
{
	unsigned long long v;

	return (stat_counter(srv, name, &v) == 0 ? (double)v : -1);
}

/*
 * What top shows of a server from two of its samples, before and now,
 * or from now alone (before NULL): rates since the server started.  A
 * server that restarted in between (another pid, less uptime) has no
 * rates.  Returns -1, and every figure -1, when now holds none.
 */
int
fsmc_rates(const struct fsmc_server *before, const struct fsmc_server *now,
    struct fsmc_rates *r)
{
	unsigned long long pid0, pid1, up0, up1;
	double hits, misses;

	r->seconds = r->gets = r->sets = r->hit = r->evictions = -1;
	r->bytes_in = r->bytes_out = r->memory = -1;
	r->connections = r->bytes = r->limit = -1;
	if (now->error != NULL || now->nstats == 0)
		return (-1);
	r->connections = gauge(now, "curr_connections");
	r->bytes = gauge(now, "bytes");
	r->limit = gauge(now, "limit_maxbytes");
	if (r->bytes >= 0 && r->limit > 0)
		r->memory = 100 * r->bytes / r->limit;
	if (before == NULL)
		r->seconds = gauge(now, "uptime");
	else if (before->error == NULL && before->nstats > 0 &&
	    stat_counter(before, "pid", &pid0) == 0 &&
	    stat_counter(now, "pid", &pid1) == 0 && pid0 == pid1 &&
	    stat_counter(before, "uptime", &up0) == 0 &&
	    stat_counter(now, "uptime", &up1) == 0 && up1 >= up0)
		r->seconds = (double)(now->when_us - before->when_us) / 1e6;
	if (r->seconds <= 0) {
		r->seconds = -1;
		return (0);
	}
	r->gets = rate(before, now, "cmd_get", r->seconds);
	r->sets = rate(before, now, "cmd_set", r->seconds);
	r->evictions = rate(before, now, "evictions", r->seconds);
	r->bytes_in = rate(before, now, "bytes_read", r->seconds);
	r->bytes_out = rate(before, now, "bytes_written", r->seconds);
	hits = rate(before, now, "get_hits", 1);
	misses = rate(before, now, "get_misses", 1);
	if (hits >= 0 && misses >= 0 && hits + misses > 0)
		r->hit = 100 * hits / (hits + misses);
	return (0);
}

/*
 * The round trip of "version" on c, once connected: connecting, and a
 * SASL exchange, are not part of it.
 */
static memcached_return_t
ask_version(
    struct fsmc_call *call, struct fsmc_conn *c, struct fsmc_server *srv)
{
	struct fsmc_request rq = { 0 };
	struct fsmc_response rp;
	memcached_return_t rc;
	int64_t start;

	(void)call;
	rq.verb = FSMC_V_VERSION;
	if (fsmc_conn_pending(c))
		fsmc_conn_close(c);
	if ((rc = fsmc_conn_open(c)) != MEMCACHED_SUCCESS)
		return (rc);
	start = now_us();
	rc = fsmc_exchange(c, &rq, &rp);
	srv->rtt_us = now_us() - start;
	free(rp.value);
	return (rc);
}

/*
 * latency, an extension: one round trip to every server, all at once,
 * each timed on its own.  Windows of samples, and their figures, are the
 * caller's.
 */
enum fsmc_status
cmd_latency(struct fsmc_call *call)
{
	return (each_server(call, "version", ask_version));
}
