/* health: sample every server twice, an interval apart, and judge the figures
 * against thresholds, as a monitoring plugin. */

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsmc-int.h"

/* The value of a server's statistic, or NULL. */
const char *
fsmc_stat(const struct fsmc_server *srv, const char *name)
{
	size_t i;

	for (i = 0; i < srv->nstats; i++) {
		if (strcmp(srv->stats[i].name, name) == 0)
			return (srv->stats[i].value);
	}
	return (NULL);
}

/*
 * A counter of a server's statistics, or -1 when it gives none: only
 * decimal digits, fewer than 19 of them, so that a server cannot hand
 * over an infinity, a fraction or a number past a long long.
 */
static double
stat_number(const struct fsmc_server *srv, const char *name)
{
	const char *v = fsmc_stat(srv, name);
	size_t n;

	if (v == NULL || (n = strspn(v, "0123456789")) == 0 || n > 18 ||
	    v[n] != '\0')
		return (-1);
	return ((double)strtoull(v, NULL, 10));
}

/*
 * Parse "hit=80,evictions=10,memory=90,latency=200" into l: a hit ratio
 * (%) below, or evictions per second, memory taken (%) or a response
 * (ms) above, is bad.  Those not named are not checked.  Returns 0, or
 * -1 with a message in why.
 */
int
fsmc_health_limits_parse(
    const char *spec, struct fsmc_health_limits *l, char *why, size_t len)
{
	char *copy, *item, *save = NULL, *eq, *end;
	double v;

	l->hit = l->evictions = l->memory = l->latency = -1;
	if ((copy = strdup(spec)) == NULL) {
		snprintf(why, len, "out of memory");
		return (-1);
	}
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(item, '=')) == NULL)
			goto bad;
		*eq++ = '\0';
		/* Digits first: no sign, "inf" or "nan". */
		if ((*eq < '0' || *eq > '9') && *eq != '.')
			goto bad;
		errno = 0;
		v = strtod(eq, &end);
		if (*end != '\0' || errno != 0)
			goto bad;
		if (strcmp(item, "hit") == 0 && v <= 100)
			l->hit = v;
		else if (strcmp(item, "evictions") == 0)
			l->evictions = v;
		else if (strcmp(item, "memory") == 0 && v <= 100)
			l->memory = v;
		else if (strcmp(item, "latency") == 0)
			l->latency = v;
		else
			goto bad;
	}
	free(copy);
	return (0);
bad:
	snprintf(why, len,
	    "bad threshold in '%s' (hit=PERCENT, evictions=PER_SECOND, "
	    "memory=PERCENT, latency=MS)",
	    spec);
	free(copy);
	return (-1);
}

/* Seconds on the monotonic clock, to the microsecond. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/*
 * Wait ms milliseconds, or until the handle's cancel descriptor becomes
 * readable: returns 0, or -1 if it did.
 */
static int
pause_ms(const struct fsmc *fc, int ms)
{
	struct pollfd pfd;
	int64_t deadline = fsmc_now_ms() + ms, left;

	pfd.fd = fc->cancel_fd;
	pfd.events = POLLIN;
	while ((left = deadline - fsmc_now_ms()) > 0) {
		pfd.revents = 0;
		if (poll(&pfd, fc->cancel_fd > 0 ? 1 : 0, (int)left) > 0)
			return (-1);
	}
	return (0);
}

/* The first sample of a server: a counter and when it was read. */
struct sample {
	double evictions;
	double at;
};

/*
 * A server's figures from its second sample, srv, and its first.  The
 * hit ratio is the server's since it started.  Evictions per second are
 * those between the samples (all of the second's if the counter went
 * back, as after a restart).  Memory is the slab pages memcached has
 * taken, total_malloced, against limit_maxbytes: once they meet, a new
 * item that finds no free chunk of its size evicts one.  Every class
 * gets its first page even past the limit, so it is capped at 100%.
 */
static void
measure(const struct fsmc_server *srv, long long malloced,
    const struct sample *first, double at, struct fsmc_health_figures *f)
{
	double hits = stat_number(srv, "get_hits");
	double misses = stat_number(srv, "get_misses");
	double limit = stat_number(srv, "limit_maxbytes");
	double evictions = stat_number(srv, "evictions");

	f->hit = hits >= 0 && misses >= 0 && hits + misses > 0 ?
	    100 * hits / (hits + misses) :
	    -1;
	f->interval = at - first->at;
	f->evictions = -1;
	if (evictions >= 0 && first->evictions >= 0 && f->interval > 0)
		f->evictions = (evictions >= first->evictions ?
				       evictions - first->evictions :
				       evictions) /
		    f->interval;
	f->memory = -1;
	if (malloced >= 0 && limit > 0)
		f->memory = (double)malloced >= limit ?
		    100 :
		    100 * (double)malloced / limit;
	f->connections = (long long)stat_number(srv, "curr_connections");
	f->max_connections = (long long)stat_number(srv, "max_connections");
}

/* The verdict under construction: the worst level and the problems. */
struct judge {
	enum fsmc_verdict level;
	char *text;
	size_t len, cap;
	int nomem;
};

/* How bad a verdict is, as monitoring-plugins' max_state_alt ranks it. */
static int
rank(enum fsmc_verdict v)
{
	switch (v) {
	case FSMC_VERDICT_OK:
		return (0);
	case FSMC_VERDICT_UNKNOWN:
		return (1);
	case FSMC_VERDICT_WARNING:
		return (2);
	case FSMC_VERDICT_CRITICAL:
		return (3);
	}
	return (1);
}

static void problem(struct judge *, enum fsmc_verdict, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Add a problem of the level given, "; " after the one before. */
static void
problem(struct judge *j, enum fsmc_verdict level, const char *fmt, ...)
{
	char line[512];
	size_t n, need;
	va_list ap;
	char *p;

	if (rank(level) > rank(j->level))
		j->level = level;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	n = strlen(line);
	need = j->len + 2 + n + 1;
	if (need > j->cap) {
		if ((p = realloc(j->text, need * 2)) == NULL) {
			j->nomem = 1;
			return;
		}
		j->text = p;
		j->cap = need * 2;
	}
	if (j->len > 0) {
		memcpy(j->text + j->len, "; ", 2);
		j->len += 2;
	}
	memcpy(j->text + j->len, line, n + 1);
	j->len += n;
}

/*
 * The level a figure reaches: CRITICAL past crit, else WARNING past
 * warn, else OK, with the limit crossed in *limit.  Past is below for a
 * hit ratio, above for the others.
 */
static enum fsmc_verdict
crossed(double value, double warn, double crit, int below, double *limit)
{
	if (crit >= 0 && (below ? value < crit : value > crit)) {
		*limit = crit;
		return (FSMC_VERDICT_CRITICAL);
	}
	if (warn >= 0 && (below ? value < warn : value > warn)) {
		*limit = warn;
		return (FSMC_VERDICT_WARNING);
	}
	return (FSMC_VERDICT_OK);
}

/*
 * Judge one server's figures.  No gets yet is no hit ratio to judge; a
 * limit on a figure the server does not report cannot be judged:
 * UNKNOWN.
 */
static void
judge_server(struct judge *j, const char *label,
    const struct fsmc_health_figures *f, const struct fsmc_health_limits *w,
    const struct fsmc_health_limits *c)
{
	enum fsmc_verdict v;
	double limit;

	if (f->hit >= 0 &&
	    (v = crossed(f->hit, w->hit, c->hit, 1, &limit)) != FSMC_VERDICT_OK)
		problem(j, v, "%s hit ratio %.1f%% below %g%%", label, f->hit,
		    limit);
	if (f->evictions < 0 && (w->evictions >= 0 || c->evictions >= 0))
		problem(j, FSMC_VERDICT_UNKNOWN, "%s evictions not reported",
		    label);
	else if ((v = crossed(f->evictions, w->evictions, c->evictions, 0,
		      &limit)) != FSMC_VERDICT_OK)
		problem(j, v, "%s %.2f evictions/s above %g", label,
		    f->evictions, limit);
	if (f->memory < 0 && (w->memory >= 0 || c->memory >= 0))
		problem(
		    j, FSMC_VERDICT_UNKNOWN, "%s memory not reported", label);
	else if ((v = crossed(f->memory, w->memory, c->memory, 0, &limit)) !=
	    FSMC_VERDICT_OK)
		problem(j, v, "%s memory %.1f%% above %g%%", label, f->memory,
		    limit);
	if ((v = crossed(f->response * 1000, w->latency, c->latency, 0,
		 &limit)) != FSMC_VERDICT_OK)
		problem(j, v, "%s response %.2f ms above %g ms", label,
		    f->response * 1000, limit);
}

/* The verdict on every server, into h. */
static int
judge(const struct fsmc_result *res, struct fsmc_health *h)
{
	struct judge j = { FSMC_VERDICT_OK, NULL, 0, 0, 0 };
	const struct fsmc_server *srv;
	char label[300];
	size_t i, up = 0;

	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		fsmc_address(srv->host, srv->port, label, sizeof label);
		if (srv->error != NULL) {
			problem(&j, FSMC_VERDICT_CRITICAL, "%s down", label);
			continue;
		}
		up++;
		judge_server(&j, label, &h->figures[i], &h->warn, &h->crit);
	}
	if (j.len == 0 && !j.nomem)
		problem(&j, FSMC_VERDICT_OK, "%zu of %zu %s up", up,
		    res->nservers, res->nservers == 1 ? "server" : "servers");
	h->verdict = j.level;
	h->summary = j.text;
	return (j.nomem ? -1 : 0);
}

static void
health_free(struct fsmc_health *h)
{
	if (h == NULL)
		return;
	free(h->summary);
	free(h->figures);
	free(h);
}

/* Free what health left in a result. */
void
fsmc_health_clear(struct fsmc_result *res)
{
	health_free(res->health);
	res->health = NULL;
}

/* What health's parts share: the two samples of every server. */
struct samples {
	struct fsmc_call *call;
	struct sample *first;
	struct fsmc_health *h;
};

/* The first sample of the part's server. */
static void
first_part(struct fsmc_part *p)
{
	struct samples *sm = p->arg;
	struct fsmc_server scratch;

	memset(&scratch, 0, sizeof scratch);
	fsmc_server_stats(sm->call, p, &scratch, NULL);
	if (p->status == FSMC_OK) {
		sm->first[p->i].evictions = stat_number(&scratch, "evictions");
		sm->first[p->i].at = now_s();
	} else
		sm->call->res->servers[p->i].error = scratch.error;
	fsmc_server_drop_stats(&scratch);
}

/* The second sample of the part's server, if it answered the first. */
static void
second_part(struct fsmc_part *p)
{
	struct samples *sm = p->arg;
	struct fsmc_server *srv = &sm->call->res->servers[p->i];
	struct fsmc_health_figures *f = &sm->h->figures[p->i];
	long long malloced;
	double start;

	if (srv->error != NULL)
		return;
	start = now_s();
	fsmc_server_stats(sm->call, p, srv, &malloced);
	if (p->status != FSMC_OK)
		return;
	f->response = now_s() - start;
	measure(srv, malloced, &sm->first[p->i], now_s(), f);
}

/*
 * health, an extension: ask every server for its statistics twice, the
 * handle's interval apart, and judge the second against the handle's
 * thresholds, with rates taken between the two.  Each time every server
 * is asked at once.  A server that does not answer the first is not
 * asked again.  The verdict and figures go to res->health, for
 * fsmc_render(); res->status says, as for status verbose, whether every
 * server answered.
 */
enum fsmc_status
cmd_health(struct fsmc_call *call)
{
	struct fsmc_result *res = call->res;
	struct fsmc_failures failed = { 0 };
	struct samples sm;
	struct fsmc_health *h;
	struct sample *first;
	size_t n, up;

	res->verbose = 1;
	if (fsmc_list_servers(call) != FSMC_OK)
		return (res->status);
	n = res->nservers;
	h = calloc(1, sizeof *h);
	first = calloc(n, sizeof *first);
	if (h == NULL || first == NULL ||
	    (h->figures = calloc(n, sizeof *h->figures)) == NULL) {
		health_free(h);
		free(first);
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	}
	h->warn = call->fc->health_warn;
	h->crit = call->fc->health_crit;
	sm.call = call;
	sm.first = first;
	sm.h = h;
	if (fsmc_fanout(call, (uint32_t)n, first_part, &sm, &failed) !=
	    FSMC_OK) {
		health_free(h);
		free(first);
		return (res->status);
	}
	up = n - failed.count;
	if (up > 0 && pause_ms(call->fc, call->fc->health_ms) != 0) {
		health_free(h);
		free(first);
		return (fsmc_fail(res, FSMC_EUNAVAIL, call->cmd->name,
		    "interrupted between the two samples"));
	}
	if (up > 0 &&
	    fsmc_fanout(call, (uint32_t)n, second_part, &sm, &failed) !=
		FSMC_OK) {
		health_free(h);
		free(first);
		return (res->status);
	}
	free(first);
	if (judge(res, h) != 0) {
		health_free(h);
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	}
	res->health = h;
	return (fsmc_failures_result(call, &failed));
}
