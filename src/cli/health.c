/* health: judge each server's statistics against thresholds, as a monitoring
 * plugin. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The monitoring-plugin exit statuses (Nagios, Icinga). */
#define HEALTH_OK 0
#define HEALTH_WARNING 1
#define HEALTH_CRITICAL 2

static const char *verdicts[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

/*
 * Parse "hit=80,evictions=10,memory=90": WARNING or CRITICAL when the
 * hit ratio (%) falls below, or evictions per second or memory used (%)
 * rise above.  Returns 0, or -1 with a message in why.
 */
int
health_parse_limits(
    const char *spec, struct health_limits *l, char *why, size_t len)
{
	char *copy, *item, *save = NULL, *eq, *end;
	double v;

	if ((copy = strdup(spec)) == NULL) {
		snprintf(why, len, "out of memory");
		return (-1);
	}
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(item, '=')) == NULL)
			goto bad;
		*eq++ = '\0';
		v = strtod(eq, &end);
		if (*eq == '\0' || *end != '\0' || v < 0)
			goto bad;
		if (strcmp(item, "hit") == 0 && v <= 100)
			l->hit = v;
		else if (strcmp(item, "evictions") == 0)
			l->evictions = v;
		else if (strcmp(item, "memory") == 0 && v <= 100)
			l->memory = v;
		else
			goto bad;
	}
	free(copy);
	return (0);
bad:
	snprintf(why, len,
	    "bad threshold in '%s' (hit=PERCENT, evictions=PER_SECOND, "
	    "memory=PERCENT)",
	    spec);
	free(copy);
	return (-1);
}

/*
 * Whether a WARNING can show at all: a --warn limit beyond the --crit
 * limit of the same figure never would, CRITICAL coming first.  Equal
 * limits are allowed: no WARNING band.  Returns 0, or -1 with a message
 * in why.
 */
int
health_check_limits(const struct health_limits *warn,
    const struct health_limits *crit, char *why, size_t len)
{
	if (warn->hit >= 0 && crit->hit >= 0 && warn->hit < crit->hit)
		snprintf(why, len, "--warn hit=%g is below --crit hit=%g",
		    warn->hit, crit->hit);
	else if (warn->evictions >= 0 && crit->evictions >= 0 &&
	    warn->evictions > crit->evictions)
		snprintf(why, len,
		    "--warn evictions=%g is above --crit evictions=%g",
		    warn->evictions, crit->evictions);
	else if (warn->memory >= 0 && crit->memory >= 0 &&
	    warn->memory > crit->memory)
		snprintf(why, len, "--warn memory=%g is above --crit memory=%g",
		    warn->memory, crit->memory);
	else
		return (0);
	return (-1);
}

/* "1 server", "2 servers": the noun that goes with a count. */
static const char *
noun(const char *count, const char *one, const char *many)
{
	return (strcmp(count, "1") == 0 ? one : many);
}

static const char *
stat_text(const struct fsmc_server *srv, const char *name)
{
	const char *v = stat_value(srv, name);

	return (v != NULL ? v : "?");
}

static double
stat_number(const struct fsmc_server *srv, const char *name)
{
	const char *v = stat_value(srv, name);

	return (v != NULL ? strtod(v, NULL) : 0);
}

struct metrics {
	double hit; /* percent, or -1 when there were no gets */
	double evictions_per_s;
	double memory; /* percent of limit_maxbytes */
};

static void
measure(const struct fsmc_server *srv, struct metrics *m)
{
	double hits = stat_number(srv, "get_hits");
	double misses = stat_number(srv, "get_misses");
	double uptime = stat_number(srv, "uptime");
	double limit = stat_number(srv, "limit_maxbytes");

	m->hit = hits + misses > 0 ? 100 * hits / (hits + misses) : -1;
	m->evictions_per_s =
	    uptime > 0 ? stat_number(srv, "evictions") / uptime : 0;
	m->memory = limit > 0 ? 100 * stat_number(srv, "bytes") / limit : 0;
}

/* Append a problem to the verdict and raise the level. */
static void problem(char *buf, size_t len, int *level, int at, const char *fmt,
    ...) __attribute__((format(printf, 5, 6)));

static void
problem(char *buf, size_t len, int *level, int at, const char *fmt, ...)
{
	va_list ap;
	size_t used = strlen(buf);

	if (at > *level)
		*level = at;
	if (used > 0 && used + 2 < len) {
		strcat(buf, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static void
check(const struct metrics *m, const struct health_limits *l, int at,
    const char *label, char *buf, size_t len, int *level)
{
	if (l->hit >= 0 && m->hit >= 0 && m->hit < l->hit)
		problem(buf, len, level, at, "%s hit ratio %.1f%% below %g%%",
		    label, m->hit, l->hit);
	if (l->evictions >= 0 && m->evictions_per_s > l->evictions)
		problem(buf, len, level, at, "%s %.2f evictions/s above %g",
		    label, m->evictions_per_s, l->evictions);
	if (l->memory >= 0 && m->memory > l->memory)
		problem(buf, len, level, at, "%s memory %.1f%% above %g%%",
		    label, m->memory, l->memory);
}

/*
 * Print the verdict line, then one line per server, and return the
 * monitoring exit status: CRITICAL when a server is down or a critical
 * threshold is crossed, WARNING for a warning threshold, UNKNOWN when the
 * check itself could not run.
 */
int
health_output(FILE *fp, const struct fsmc_result *res,
    const struct health_limits *warn, const struct health_limits *crit)
{
	const struct fsmc_server *srv;
	struct metrics m;
	char why[2048] = "", label[300], hit[32];
	int level = HEALTH_OK;
	size_t i, up = 0;

	if (res->libversion == NULL || (res->nservers == 0)) {
		if (fp != NULL)
			fprintf(fp, "MEMCACHE UNKNOWN: %s\n",
			    res->msg[0] != '\0' ? res->msg : "no servers");
		return (HEALTH_UNKNOWN);
	}
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		fsmc_address(srv->host, srv->port, label, sizeof label);
		if (srv->error != NULL) {
			problem(why, sizeof why, &level, HEALTH_CRITICAL,
			    "%s down", label);
			continue;
		}
		up++;
		measure(srv, &m);
		check(
		    &m, crit, HEALTH_CRITICAL, label, why, sizeof why, &level);
		if (level < HEALTH_CRITICAL)
			check(&m, warn, HEALTH_WARNING, label, why, sizeof why,
			    &level);
	}
	if (why[0] == '\0')
		snprintf(why, sizeof why, "%zu of %zu %s up", up, res->nservers,
		    res->nservers == 1 ? "server" : "servers");
	if (fp == NULL)
		return (level);
	fprintf(fp, "MEMCACHE %s: %s\n", verdicts[level], why);
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		fsmc_address(srv->host, srv->port, label, sizeof label);
		if (srv->error != NULL) {
			fprintf(fp, "  %s down: %s\n", label, srv->error);
			continue;
		}
		measure(srv, &m);
		if (m.hit >= 0)
			snprintf(hit, sizeof hit, "%.1f%%", m.hit);
		else
			snprintf(hit, sizeof hit, "n/a");
		fprintf(fp,
		    "  %s up: version %s, uptime %s s, %s %s, hit ratio %s, "
		    "%s %s (%.2f/s), memory %.1f%% of %.0f MiB\n",
		    label, stat_text(srv, "version"), stat_text(srv, "uptime"),
		    stat_text(srv, "curr_connections"),
		    noun(stat_text(srv, "curr_connections"), "connection",
			"connections"),
		    hit, stat_text(srv, "evictions"),
		    noun(stat_text(srv, "evictions"), "eviction", "evictions"),
		    m.evictions_per_s, m.memory,
		    stat_number(srv, "limit_maxbytes") / (1024 * 1024));
	}
	return (level);
}
