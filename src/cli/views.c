/* stats, slabs, top and latency: tables, lines, JSON, and the sampling. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* Spaces between columns, and the narrowest a column is cut to. */
#define GAP 2
#define MIN_COLUMN 8
/* Seconds between latency's samples, as redis-cli takes them. */
#define LATENCY_GAP 0.01
/* Seconds between two drawings of latency's table on a terminal. */
#define LATENCY_REDRAW 0.25
/*
 * latency's histogram: round trips below HIST_EXACT microseconds are
 * counted one by one, longer ones in 64 buckets for each power of two,
 * so that the 99th percentile is at most 1/64 above the true one.
 */
#define HIST_EXACT 128
#define HIST_SUB 64
#define HIST_BUCKETS (HIST_EXACT + 57 * HIST_SUB)

/* ---- Tables ---- */

/* The most columns a table of rows has. */
#define MAX_COLUMNS 16

/* Rows of text cells, the first row the header; cells are owned. */
struct rows {
	size_t ncols; /* at most MAX_COLUMNS */
	size_t ncells, cap;
	char **cells;
};

/*
 * A copy of s to show on a terminal: bytes a terminal would act on, or
 * that would not take one column each, as \xNN.  NULL when out of
 * memory.
 */
static char *
shown(const char *s)
{
	const unsigned char *p;
	size_t n = 0;
	char *copy, *o;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		n += *p < 0x20 || *p >= 0x7f ? 4 : 1;
	if ((copy = malloc(n + 1)) == NULL)
		return (NULL);
	for (o = copy, p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f)
			o += sprintf(o, "\\x%02x", *p);
		else
			*o++ = (char)*p;
	}
	*o = '\0';
	return (copy);
}

/* Add a cell, the next of the current row.  Returns -1 when out of memory. */
static int
rows_put(struct rows *t, const char *text)
{
	char **cells;
	size_t cap;

	if (t->ncells == t->cap) {
		cap = t->cap == 0 ? 64 : t->cap * 2;
		if ((cells = realloc(t->cells, cap * sizeof *cells)) == NULL)
			return (-1);
		t->cells = cells;
		t->cap = cap;
	}
	if ((t->cells[t->ncells] = shown(text)) == NULL)
		return (-1);
	t->ncells++;
	return (0);
}

static void
rows_free(struct rows *t)
{
	size_t i;

	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}

/*
 * Print rows as a table, two spaces between columns: the first column
 * (the server) and the last (a note, with no header) to the left, the
 * figures between to the right.  On a terminal too narrow for it, the
 * note is cut first, then the first column.  With clear, each line
 * also clears the rest of the terminal's line, for a table drawn over
 * the last.  Returns the lines printed.
 */
static size_t
rows_print(const struct rows *t, int clear)
{
	size_t r, c, nrows = t->ncells / t->ncols, last = t->ncols - 1;
	int width[MAX_COLUMNS] = { 0 }, fixed = 0, cols = terminal_width();
	int n, end, w;
	const char *text;

	for (c = 0; c < t->ncols; c++) {
		for (r = 0; r < nrows; r++) {
			n = (int)strlen(t->cells[r * t->ncols + c]);
			if (n > width[c])
				width[c] = n;
		}
		if (c < last)
			fixed += width[c] + (c > 0 ? GAP : 0);
	}
	if (fixed > cols) {
		width[0] -= fixed - cols;
		if (width[0] < MIN_COLUMN)
			width[0] = MIN_COLUMN;
		fixed = cols;
	}
	if (width[last] > cols - fixed - GAP)
		width[last] = cols - fixed - GAP;
	for (r = 0; r < nrows; r++) {
		/* No spaces after the last cell that says something. */
		for (end = (int)t->ncols; end > 1; end--) {
			if (t->cells[r * t->ncols + (size_t)end - 1][0] != '\0')
				break;
		}
		for (c = 0; c < (size_t)end; c++) {
			text = t->cells[r * t->ncols + c];
			/* The note is cut at the edge, never padded. */
			w = width[c];
			if (c == last && (int)strlen(text) < w)
				w = (int)strlen(text);
			if (c == last && w <= 0)
				break;
			if (c > 0)
				printf("%*s", GAP, "");
			table_put(text, w, c == 0 || c == last);
		}
		printf("%s\n", clear ? "\033[K" : "");
	}
	return (nrows);
}

/* Move back to the top of a table drawn before, to draw over it. */
static void
redraw(size_t *drawn)
{
	if (*drawn > 0)
		printf("\033[%zuA\r", *drawn);
	*drawn = 0;
}

/* A figure, or "-" when it is not known. */
static const char *
figure(char *buf, size_t len, double v, int decimals)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", decimals, v);
	return (buf);
}

/* A number of bytes as a terminal shows it: 512, 1.5K, 26.4M, 2.0G. */
static const char *
human(char *buf, size_t len, double v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else if (v < 1024)
		snprintf(buf, len, "%.0f", v);
	else if (v < 1024 * 1024)
		snprintf(buf, len, "%.1fK", v / 1024);
	else if (v < 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.1fM", v / (1024 * 1024));
	else
		snprintf(buf, len, "%.1fG", v / (1024.0 * 1024 * 1024));
	return (buf);
}

/* ---- stats ---- */

/*
 * The row of name among names[0..n), looked for first at hint, where
 * servers that list their statistics in the same order have it.
 */
static size_t
find_name(const char **names, size_t n, const char *name, size_t hint)
{
	size_t i;

	if (hint < n && strcmp(names[hint], name) == 0)
		return (hint);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return (i);
	}
	return (n);
}

/*
 * stats on a terminal: one row per statistic, in the order the servers
 * give them, and one column per server, as status verbose shows them:
 * as many servers side by side as fit the width, the others in further
 * tables below.  A "state" row says which servers failed, if any did.
 * Returns -1 when out of memory.
 */
static int
stats_table(const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	const char **names = NULL, **cell = NULL;
	char(*label)[300] = NULL, title[64], *text;
	size_t i, j, r, k, n = 0, total = 0, nrows, first, end, hint;
	int *width = NULL, cols = terminal_width(), lw, widest = 1, used;
	int state = 0, rc = -1;

	for (i = 0; i < res->nservers; i++) {
		total += res->servers[i].nstats;
		state |= res->servers[i].error != NULL;
	}
	names = calloc(total + 2, sizeof *names);
	cell = calloc((total + 2) * res->nservers, sizeof *cell);
	label = calloc(res->nservers, sizeof *label);
	width = calloc(res->nservers, sizeof *width);
	if (names == NULL || cell == NULL || label == NULL || width == NULL)
		goto out;
	snprintf(title, sizeof title, "stats%s%s",
	    res->group != NULL ? " " : "",
	    res->group != NULL ? res->group : "");
	names[n++] = title;
	if (state)
		names[n++] = "state";
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		fsmc_address(srv->host, srv->port, label[i], sizeof label[i]);
		cell[i] = label[i];
		if (state)
			cell[res->nservers + i] =
			    srv->error != NULL ? srv->error : "up";
		for (j = 0, hint = 0; j < srv->nstats; j++) {
			r = find_name(names, n, srv->stats[j].name, hint);
			if (r == n)
				names[n++] = srv->stats[j].name;
			cell[r * res->nservers + i] = srv->stats[j].value;
			hint = r + 1;
		}
	}
	nrows = n;
	/* Widths as shown, escapes included. */
	for (lw = 0, r = 0; r < nrows; r++) {
		for (k = 0; k <= res->nservers; k++) {
			text = shown(k == 0 ? names[r] :
				cell[r * res->nservers + k - 1] != NULL ?
					      cell[r * res->nservers + k - 1] :
					      "-");
			if (text == NULL)
				goto out;
			if (k == 0 && (int)strlen(text) > lw)
				lw = (int)strlen(text);
			if (k > 0 && (int)strlen(text) > width[k - 1])
				width[k - 1] = (int)strlen(text);
			free(text);
		}
	}
	for (i = 0; i < res->nservers; i++) {
		if (width[i] > widest)
			widest = width[i];
	}
	/* On a narrow terminal, cut the names before the servers. */
	if (lw > cols - GAP - widest)
		lw = cols - GAP - widest;
	if (lw < MIN_COLUMN)
		lw = MIN_COLUMN;
	for (i = 0; i < res->nservers; i++) {
		if (width[i] > cols - lw - GAP)
			width[i] = cols - lw - GAP;
		if (width[i] < MIN_COLUMN)
			width[i] = MIN_COLUMN;
	}
	for (first = 0; first < res->nservers; first = end) {
		used = lw;
		for (end = first; end < res->nservers; end++) {
			if (end > first && used + GAP + width[end] > cols)
				break;
			used += GAP + width[end];
		}
		if (first > 0)
			putchar('\n');
		for (r = 0; r < nrows; r++) {
			if ((text = shown(names[r])) == NULL)
				goto out;
			table_put(text, lw, 1);
			free(text);
			for (i = first; i < end; i++) {
				text = shown(
				    cell[r * res->nservers + i] != NULL ?
					cell[r * res->nservers + i] :
					res->servers[i].error != NULL ? "-" :
									"");
				if (text == NULL)
					goto out;
				printf("%*s", GAP, "");
				table_put(text, width[i], 0);
				free(text);
			}
			putchar('\n');
		}
	}
	rc = 0;
out:
	free(names);
	free(cell);
	free(label);
	free(width);
	return (rc);
}

/* ---- slabs ---- */

/* Add a class, or a total (id 0), to a server's table of slabs. */
static int
slab_row(struct rows *t, const struct fsmc_slab *s)
{
	char f[9][32];

	if (s->id != 0)
		snprintf(f[0], sizeof f[0], "%u", s->id);
	else
		snprintf(f[0], sizeof f[0], "total");
	if (s->id == 0)
		f[1][0] = '\0';
	else if (s->chunk_size < 1024)
		snprintf(f[1], sizeof f[1], "%lluB", s->chunk_size);
	else
		human(f[1], sizeof f[1], (double)s->chunk_size);
	snprintf(f[2], sizeof f[2], "%llu", s->pages);
	snprintf(f[3], sizeof f[3], "%llu", s->items);
	snprintf(f[4], sizeof f[4], "%llus", s->age);
	snprintf(f[5], sizeof f[5], "%s",
	    s->id == 0	? "" :
		s->full ? "yes" :
			  "no");
	snprintf(f[6], sizeof f[6], "%llu", s->evicted);
	if (s->id != 0)
		snprintf(f[7], sizeof f[7], "%llus", s->evicted_time);
	else
		f[7][0] = '\0';
	snprintf(f[8], sizeof f[8], "%llu", s->oom);
	if (rows_put(t, f[0]) || rows_put(t, f[1]) || rows_put(t, f[2]) ||
	    rows_put(t, f[3]) || rows_put(t, f[4]) || rows_put(t, f[5]) ||
	    rows_put(t, f[6]) || rows_put(t, f[7]) || rows_put(t, f[8]) ||
	    rows_put(t, s->evicted > 0 ? "evicting" : ""))
		return (-1);
	return (0);
}

/* Add a server's total to the pool's. */
static void
slab_add(struct fsmc_slab *all, const struct fsmc_slab *t)
{
	all->pages += t->pages;
	all->items += t->items;
	all->evicted += t->evicted;
	all->oom += t->oom;
	if (t->age > all->age)
		all->age = t->age;
}

/*
 * A table of slabs under its heading: a server's classes and total, or
 * the pool's total.
 */
static int
slab_table(const char *heading, const struct fsmc_slab *slabs, size_t n,
    const struct fsmc_slab *total)
{
	static const char *head[] = { "CLASS", "SIZE", "PAGES", "ITEMS", "AGE",
		"FULL", "EVICTED", "EVICT_TIME", "OOM", "", NULL };
	struct rows t = { 10, 0, 0, NULL };
	size_t i;
	int rc = -1;

	for (i = 0; head[i] != NULL; i++) {
		if (rows_put(&t, head[i]) != 0)
			goto out;
	}
	for (i = 0; i < n; i++) {
		if (slab_row(&t, &slabs[i]) != 0)
			goto out;
	}
	if (slab_row(&t, total) != 0)
		goto out;
	printf("%s\n", heading);
	rows_print(&t, 0);
	rc = 0;
out:
	rows_free(&t);
	return (rc);
}

/*
 * slabs on a terminal, as memcached-tool's display: for each server
 * under its address, a row per class and its total, and with more than
 * one server the pool's total.  Classes that have evicted are marked.
 * Returns -1 when out of memory.
 */
static int
slabs_table(const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	struct fsmc_slab total, all;
	char addr[300], *text;
	size_t i;

	memset(&all, 0, sizeof all);
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		fsmc_address(srv->host, srv->port, addr, sizeof addr);
		if (i > 0)
			putchar('\n');
		if (srv->error != NULL) {
			if ((text = shown(srv->error)) == NULL)
				return (-1);
			printf("%s\n  %s\n", addr, text);
			free(text);
			continue;
		}
		fsmc_slabs_total(srv, &total);
		slab_add(&all, &total);
		if (slab_table(addr, srv->slabs, srv->nslabs, &total) != 0)
			return (-1);
	}
	if (res->nservers > 1) {
		putchar('\n');
		if (slab_table("all servers", NULL, 0, &all) != 0)
			return (-1);
	}
	return (0);
}

/* ---- JSON ---- */

static void
json_slab(const struct fsmc_slab *s)
{
	if (s->id != 0)
		printf(
		    "{\"class\":%u,\"chunk_size\":%llu,", s->id, s->chunk_size);
	else
		putchar('{');
	printf("\"pages\":%llu,\"items\":%llu,\"age\":%llu,\"evicted\":%llu",
	    s->pages, s->items, s->age, s->evicted);
	if (s->id != 0)
		printf(",\"evicted_time\":%llu", s->evicted_time);
	printf(",\"oom\":%llu", s->oom);
	if (s->id != 0)
		printf(",\"full\":%s", s->full ? "true" : "false");
	printf(",\"evicting\":%s}", s->evicted > 0 ? "true" : "false");
}

/* top's figures of a server, between two samples or since it started. */
static void
json_rates(const struct fsmc_rates *r)
{
	json_number(stdout, "interval_s", r->seconds, 3);
	json_number(stdout, "gets_per_s", r->gets, 1);
	json_number(stdout, "sets_per_s", r->sets, 1);
	json_number(stdout, "hit_ratio", r->hit, 1);
	json_number(stdout, "evictions_per_s", r->evictions, 1);
	json_number(stdout, "bytes_read_per_s", r->bytes_in, 0);
	json_number(stdout, "bytes_written_per_s", r->bytes_out, 0);
	json_number(stdout, "connections", r->connections, 0);
	json_number(stdout, "bytes", r->bytes, 0);
	json_number(stdout, "limit_maxbytes", r->limit, 0);
	json_number(stdout, "memory", r->memory, 1);
}

/*
 * The members of a view's JSON object after its status: each server's
 * part.  A single top or latency, as in a batch, is one sample: rates
 * since each server started, one round trip.
 */
void
views_json(const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	struct fsmc_slab total, all;
	struct fsmc_rates r;
	size_t i, j;

	if (res->reply == FSMC_REPLY_STATS) {
		fputs(",\"group\":", stdout);
		json_cstring(stdout, res->group);
	}
	if (res->servers == NULL)
		return;
	memset(&all, 0, sizeof all);
	fputs(",\"servers\":[", stdout);
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		json_server(srv, i, 1);
		if (srv->error != NULL) {
			putchar('}');
			continue;
		}
		switch (res->reply) {
		case FSMC_REPLY_STATS:
			fputs(",\"stats\":{", stdout);
			for (j = 0; j < srv->nstats; j++) {
				if (j > 0)
					putchar(',');
				json_cstring(stdout, srv->stats[j].name);
				putchar(':');
				json_cstring(stdout, srv->stats[j].value);
			}
			putchar('}');
			break;
		case FSMC_REPLY_SLABS:
			fputs(",\"classes\":[", stdout);
			for (j = 0; j < srv->nslabs; j++) {
				if (j > 0)
					putchar(',');
				json_slab(&srv->slabs[j]);
			}
			fputs("],\"total\":", stdout);
			fsmc_slabs_total(srv, &total);
			slab_add(&all, &total);
			json_slab(&total);
			break;
		case FSMC_REPLY_TOP:
			fsmc_rates(NULL, srv, &r);
			json_rates(&r);
			break;
		case FSMC_REPLY_LATENCY:
			json_number(
			    stdout, "rtt_ms", (double)srv->rtt_us / 1000, 3);
			break;
		default:
			break;
		}
		putchar('}');
	}
	putchar(']');
	if (res->reply == FSMC_REPLY_SLABS) {
		fputs(",\"total\":", stdout);
		json_slab(&all);
	}
}

/* The end of an object of top or latency: how the sample went. */
static void
json_end(const struct fsmc_result *res)
{
	if (res->errtext != NULL && res->status != FSMC_OK) {
		fputs(",\"error\":", stdout);
		json_cstring(stdout, res->errtext);
	}
	if (exit_status(res->status) >= EXIT_USAGE) {
		fputs(",\"message\":", stdout);
		json_cstring(stdout, res->msg);
	}
	fputs("}\n", stdout);
}

/*
 * Show stats or slabs on a terminal, as a table.  Returns 0 when shown,
 * -1 when the caller is to render the result.
 */
int
views_output(struct output *out, const struct fsmc_result *res)
{
	if (!out->tty || out->batch || res->servers == NULL)
		return (-1);
	if (res->reply == FSMC_REPLY_STATS)
		return (stats_table(res));
	if (res->reply == FSMC_REPLY_SLABS)
		return (slabs_table(res));
	return (-1);
}

/* ---- Sampling ---- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Wait until the monotonic time t, or less if a signal asks to stop. */
static void
wait_until(double t)
{
	struct timespec ts;
	double left = t - now_s();

	if (left <= 0)
		return;
	ts.tv_sec = (time_t)left;
	ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
	while (stop_signal == 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The local time for a row in a pipe: 2026-11-30T12:00:01. */
static const char *
timestamp(char *buf, size_t len)
{
	struct tm tm;
	time_t t = time(NULL);

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
	return (buf);
}

/* The Unix time, to the millisecond, for JSON. */
static double
unix_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Run the view's command once on the session's connections: a sample. */
static enum fsmc_status
take_sample(struct fsmc_session *s, const struct view_options *vo,
    struct fsmc_result *res)
{
	char *copy, *words[FSMC_MAX_TOKENS];
	int n;

	if (vo->line == NULL)
		return (fsmc_session_run(
		    s, vo->argc, vo->argv, vo->value, vo->valuelen, res));
	if ((copy = strdup(vo->line)) == NULL) {
		memset(res, 0, sizeof *res);
		res->status = FSMC_EINTERNAL;
		snprintf(res->msg, sizeof res->msg, "out of memory");
		return (res->status);
	}
	n = fsmc_split_line(copy, words, FSMC_MAX_TOKENS);
	fsmc_session_run(s, n, words, vo->value, vo->valuelen, res);
	res->words = copy;
	return (res->status);
}

/*
 * A message without what a skipped server adds to it ("server skipped
 * until 14:03:07 UTC: "), so that a server down is the same failure
 * whether a sample tried it or skipped it.
 */
static void
without_skip(const char *msg, char *buf, size_t len)
{
	const char *colon;
	size_t o = 0;

	while (*msg != '\0' && o + 1 < len) {
		if (strncmp(msg, "server skipped ", 15) == 0 &&
		    (colon = strstr(msg, ": ")) != NULL) {
			msg = colon + 2;
			continue;
		}
		buf[o++] = *msg++;
	}
	buf[o] = '\0';
}

/*
 * Say on standard error why a sample failed, unless the last one failed
 * the same way: a server down is said once, not once a sample.
 */
static void
report(const struct fsmc_result *res, char *last, size_t len)
{
	char same[sizeof res->msg];

	if (exit_status(res->status) < EXIT_USAGE) {
		last[0] = '\0';
		return;
	}
	without_skip(res->msg, same, sizeof same);
	if (strcmp(last, same) == 0)
		return;
	fprintf(stderr, "fsmemcache: %s\n", res->msg);
	snprintf(last, len, "%s", same);
}

/*
 * The first sample failed before any server was asked (a usage error,
 * out of memory): show it as a single command's, and return its exit
 * status.
 */
static int
failed_first(struct output *out, struct fsmc_result *res)
{
	int status = exit_status(res->status);

	output_result(out, res, 0);
	if (output_flush(out) != 0)
		status = EXIT_IOERR;
	fprintf(stderr, "fsmemcache: %s\n", res->msg);
	fsmc_result_clear(res);
	return (status);
}

/* ---- top ---- */

/*
 * The pool's figures: those of the servers that answered, added; "-"
 * where one of them lacks the figure.
 */
static void
top_all(const struct fsmc_result *res, const struct fsmc_rates *r, size_t n,
    struct fsmc_rates *all)
{
	double hits = 0, gets = 0;
	size_t i, up = 0;

	memset(all, 0, sizeof *all);
	for (i = 0; i < n; i++) {
		if (res->servers[i].error != NULL)
			continue;
		up++;
#define ADD(f) all->f = all->f < 0 || r[i].f < 0 ? -1 : all->f + r[i].f
		ADD(seconds);
		ADD(gets);
		ADD(sets);
		ADD(evictions);
		ADD(bytes_in);
		ADD(bytes_out);
		ADD(connections);
		ADD(bytes);
		ADD(limit);
#undef ADD
		if (r[i].hit >= 0 && r[i].gets >= 0) {
			hits += r[i].hit * r[i].gets;
			gets += r[i].gets;
		}
	}
	if (up == 0) {
		all->seconds = all->gets = all->sets = all->evictions = -1;
		all->bytes_in = all->bytes_out = all->connections = -1;
		all->bytes = all->limit = -1;
	}
	all->seconds =
	    up > 0 && all->seconds >= 0 ? all->seconds / (double)up : -1;
	all->hit = gets > 0 && all->gets >= 0 ? hits / gets : -1;
	all->memory = all->bytes >= 0 && all->limit > 0 ?
	    100 * all->bytes / all->limit :
	    -1;
}

/* A row of top on a terminal. */
static int
top_row(struct rows *t, const char *addr, const struct fsmc_rates *r,
    const char *error)
{
	char f[9][32];

	figure(f[0], sizeof f[0], r->gets, 1);
	figure(f[1], sizeof f[1], r->sets, 1);
	figure(f[2], sizeof f[2], r->hit, 1);
	figure(f[3], sizeof f[3], r->evictions, 1);
	human(f[4], sizeof f[4], r->bytes_in);
	human(f[5], sizeof f[5], r->bytes_out);
	figure(f[6], sizeof f[6], r->connections, 0);
	human(f[7], sizeof f[7], r->bytes);
	figure(f[8], sizeof f[8], r->memory, 1);
	if (r->memory >= 0)
		strcat(f[8], "%");
	if (rows_put(t, addr) || rows_put(t, f[0]) || rows_put(t, f[1]) ||
	    rows_put(t, f[2]) || rows_put(t, f[3]) || rows_put(t, f[4]) ||
	    rows_put(t, f[5]) || rows_put(t, f[6]) || rows_put(t, f[7]) ||
	    rows_put(t, f[8]) || rows_put(t, error != NULL ? error : ""))
		return (-1);
	return (0);
}

/* A line of top in a pipe. */
static void
top_line(const char *when, const char *addr, const struct fsmc_rates *r)
{
	char f[10][32];

	printf("%s %s %s %s %s %s %s %s %s %s %s\n", when, addr,
	    figure(f[0], sizeof f[0], r->gets, 1),
	    figure(f[1], sizeof f[1], r->sets, 1),
	    figure(f[2], sizeof f[2], r->hit, 1),
	    figure(f[3], sizeof f[3], r->evictions, 1),
	    figure(f[4], sizeof f[4], r->bytes_in, 0),
	    figure(f[5], sizeof f[5], r->bytes_out, 0),
	    figure(f[6], sizeof f[6], r->connections, 0),
	    figure(f[7], sizeof f[7], r->bytes, 0),
	    figure(f[8], sizeof f[8], r->memory, 1));
}

/*
 * Show a row of top: each server's rates between two samples, and the
 * pool's with more than one server.  On a terminal the table is drawn
 * over the last one; *drawn counts its lines.
 */
static void
show_top(struct output *out, const struct fsmc_result *before,
    const struct fsmc_result *now, double interval, size_t *drawn)
{
	static const char *head[] = { "SERVER", "GETS/S", "SETS/S", "HIT%",
		"EVICT/S", "IN/S", "OUT/S", "CONNS", "MEMORY", "MEM%", "",
		NULL };
	const struct fsmc_server *srv;
	struct fsmc_rates *r, all;
	struct rows t = { 11, 0, 0, NULL };
	char addr[300], when[32], title[96];
	size_t i, n = now->nservers;

	if (out->quiet > 1 || (r = calloc(n + 1, sizeof *r)) == NULL)
		return;
	for (i = 0; i < n; i++)
		fsmc_rates(before != NULL && i < before->nservers ?
			&before->servers[i] :
			NULL,
		    &now->servers[i], &r[i]);
	top_all(now, r, n, &all);
	timestamp(when, sizeof when);
	if (out->json) {
		printf("{\"command\":\"top\",\"status\":\"%s\",\"exit\":%d,"
		       "\"time\":%.3f,\"servers\":[",
		    status_name(now->status), exit_status(now->status),
		    unix_time());
		for (i = 0; i < n; i++) {
			json_server(&now->servers[i], i, 1);
			if (now->servers[i].error == NULL)
				json_rates(&r[i]);
			putchar('}');
		}
		putchar(']');
		json_end(now);
	} else if (out->tty) {
		for (i = 0; head[i] != NULL && rows_put(&t, head[i]) == 0; i++)
			;
		for (i = 0; i < n; i++) {
			srv = &now->servers[i];
			top_row(&t,
			    fsmc_address(
				srv->host, srv->port, addr, sizeof addr),
			    &r[i], srv->error);
		}
		if (n > 1)
			top_row(&t, "all", &all, NULL);
		redraw(drawn);
		snprintf(title, sizeof title, "fsmemcache top: every %g s, %s",
		    interval, when + 11);
		printf("%s\033[K\n", title);
		if (t.ncells == (n + 1 + (n > 1)) * t.ncols)
			*drawn = 1 + rows_print(&t, 1);
		else
			*drawn = 1;
		rows_free(&t);
	} else {
		for (i = 0; i < n; i++) {
			srv = &now->servers[i];
			top_line(when,
			    fsmc_address(
				srv->host, srv->port, addr, sizeof addr),
			    &r[i]);
		}
		if (n > 1)
			top_line(when, "all", &all);
	}
	free(r);
}

/*
 * top: a sample of every server now and then every interval (1 s by
 * default), each row the rates between the last two, for repeat rows
 * or until a signal.  Returns the exit status of the last sample, or
 * 128 and the signal's number.
 */
int
views_top(struct fsmc *fc, struct output *out, const struct view_options *vo)
{
	struct fsmc_session *s;
	struct fsmc_result before, now;
	double interval = vo->interval >= 0 ? vo->interval : 1, next;
	unsigned long rows = 0;
	char last[512] = "";
	size_t drawn = 0;
	int status;

	catch_signals(fc);
	if (fsmc_session_open(fc, 0, &s, &before) != FSMC_OK) {
		fprintf(stderr, "fsmemcache: %s\n", before.msg);
		return (exit_status(before.status));
	}
	next = now_s();
	take_sample(s, vo, &before);
	if (before.servers == NULL) {
		fsmc_session_close(s);
		return (failed_first(out, &before));
	}
	report(&before, last, sizeof last);
	status = exit_status(before.status);
	while (vo->repeat == 0 || rows < vo->repeat) {
		next += interval;
		wait_until(next);
		if (stop_signal != 0)
			break;
		if (next < now_s())
			next = now_s();
		take_sample(s, vo, &now);
		/* A sample a signal cut short is no sample. */
		if (stop_signal != 0) {
			fsmc_result_clear(&now);
			break;
		}
		report(&now, last, sizeof last);
		status = exit_status(now.status);
		show_top(out, &before, &now, interval, &drawn);
		fsmc_result_clear(&before);
		before = now;
		rows++;
		if (output_flush(out) != 0) {
			status = EXIT_IOERR;
			break;
		}
	}
	fsmc_result_clear(&before);
	fsmc_session_close(s);
	if (stop_signal != 0)
		return (128 + stop_signal);
	return (status);
}

/* ---- latency ---- */

/* The round trips to one server over a window. */
struct window {
	char *host;
	unsigned int port;
	unsigned long samples, failed;
	int64_t min, max;
	double sum;
	unsigned long *hist; /* HIST_BUCKETS */
	char error[128];     /* the last failure's -ERR text */
};

static size_t
bucket(int64_t us)
{
	uint64_t v = us > 0 ? (uint64_t)us : 0, x;
	int b = 0;

	if (v < HIST_EXACT)
		return ((size_t)v);
	for (x = v; x > 1; x >>= 1)
		b++;
	return (HIST_EXACT + (size_t)(b - 7) * HIST_SUB +
	    (size_t)((v >> (b - 6)) - 64));
}

/* The largest round trip that falls in bucket i. */
static int64_t
bucket_top(size_t i)
{
	size_t b, sub;

	if (i < HIST_EXACT)
		return ((int64_t)i);
	b = (i - HIST_EXACT) / HIST_SUB + 7;
	sub = (i - HIST_EXACT) % HIST_SUB + 64;
	return ((int64_t)(((uint64_t)sub + 1) << (b - 6)) - 1);
}

/*
 * The 99th percentile of a window: the smallest round trip that 99% of
 * the samples do not exceed, to the bucket, never above the maximum.
 */
static int64_t
p99(const struct window *w)
{
	unsigned long want = w->samples - w->samples / 100, seen = 0;
	size_t i;

	for (i = 0; i < HIST_BUCKETS; i++) {
		if ((seen += w->hist[i]) >= want)
			return (
			    bucket_top(i) < w->max ? bucket_top(i) : w->max);
	}
	return (w->max);
}

static void
window_reset(struct window *w)
{
	w->samples = w->failed = 0;
	w->min = w->max = 0;
	w->sum = 0;
	w->error[0] = '\0';
	memset(w->hist, 0, HIST_BUCKETS * sizeof *w->hist);
}

static void
windows_free(struct window *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(w[i].host);
		free(w[i].hist);
	}
	free(w);
}

/* A window for each server of the first sample; NULL when out of memory. */
static struct window *
windows_new(const struct fsmc_result *res)
{
	struct window *w;
	size_t i;

	if ((w = calloc(res->nservers, sizeof *w)) == NULL)
		return (NULL);
	for (i = 0; i < res->nservers; i++) {
		w[i].host = strdup(res->servers[i].host);
		w[i].port = res->servers[i].port;
		w[i].hist = calloc(HIST_BUCKETS, sizeof *w[i].hist);
		if (w[i].host == NULL || w[i].hist == NULL) {
			windows_free(w, res->nservers);
			return (NULL);
		}
	}
	return (w);
}

static void
window_add(struct window *w, const struct fsmc_server *srv)
{
	if (srv->error != NULL) {
		w->failed++;
		snprintf(w->error, sizeof w->error, "%s", srv->error);
		return;
	}
	if (w->samples == 0 || srv->rtt_us < w->min)
		w->min = srv->rtt_us;
	if (w->samples == 0 || srv->rtt_us > w->max)
		w->max = srv->rtt_us;
	w->sum += (double)srv->rtt_us;
	w->samples++;
	w->hist[bucket(srv->rtt_us)]++;
}

/* A window's figures in milliseconds: min, avg, max, p99; -1 for none. */
static void
window_ms(const struct window *w, double ms[4])
{
	if (w->samples == 0) {
		ms[0] = ms[1] = ms[2] = ms[3] = -1;
		return;
	}
	ms[0] = (double)w->min / 1000;
	ms[1] = w->sum / (double)w->samples / 1000;
	ms[2] = (double)w->max / 1000;
	ms[3] = (double)p99(w) / 1000;
}

/*
 * Show latency's windows: a summary, or with history a row of each.
 * last holds how the last sample went.  On a terminal a summary is
 * drawn over the last one, and history rows follow a header shown
 * once; *drawn counts the lines shown.
 */
static void
show_latency(struct output *out, const struct view_options *vo,
    const struct window *w, size_t n, const struct fsmc_result *last,
    size_t *drawn)
{
	char addr[300], when[32], f[4][32], *error;
	double ms[4];
	size_t i;
	int aw = 6, len;

	if (out->quiet > 1)
		return;
	timestamp(when, sizeof when);
	if (out->json) {
		printf("{\"command\":\"latency\",\"status\":\"%s\",\"exit\":%d",
		    status_name(last->status), exit_status(last->status));
		if (vo->history)
			printf(",\"time\":%.3f", unix_time());
		fputs(",\"servers\":[", stdout);
		for (i = 0; i < n; i++) {
			window_ms(&w[i], ms);
			fputs(i > 0 ? ",{\"host\":" : "{\"host\":", stdout);
			json_cstring(stdout, w[i].host);
			printf(",\"port\":%u,\"samples\":%lu,\"failed\":%lu",
			    w[i].port, w[i].samples, w[i].failed);
			json_number(stdout, "min_ms", ms[0], 3);
			json_number(stdout, "avg_ms", ms[1], 3);
			json_number(stdout, "max_ms", ms[2], 3);
			json_number(stdout, "p99_ms", ms[3], 3);
			if (w[i].failed > 0) {
				fputs(",\"error\":", stdout);
				json_cstring(stdout, w[i].error);
			}
			putchar('}');
		}
		putchar(']');
		json_end(last);
		return;
	}
	if (!out->tty) {
		for (i = 0; i < n; i++) {
			window_ms(&w[i], ms);
			printf("%s%s%s %s %s %s %s %lu %lu\n",
			    vo->history ? when : "", vo->history ? " " : "",
			    fsmc_address(
				w[i].host, w[i].port, addr, sizeof addr),
			    figure(f[0], sizeof f[0], ms[0], 3),
			    figure(f[1], sizeof f[1], ms[1], 3),
			    figure(f[2], sizeof f[2], ms[2], 3),
			    figure(f[3], sizeof f[3], ms[3], 3), w[i].samples,
			    w[i].failed);
		}
		return;
	}
	/* Columns of fixed widths, for rows shown apart to line up. */
	for (i = 0; i < n; i++) {
		len = (int)strlen(
		    fsmc_address(w[i].host, w[i].port, addr, sizeof addr));
		if (len > aw)
			aw = len;
	}
	if (!vo->history)
		redraw(drawn);
	if (!vo->history || *drawn == 0) {
		printf("%s%-*s  %8s  %8s  %8s  %8s  %8s  %6s\033[K\n",
		    vo->history ? "TIME      " : "", aw, "SERVER", "MIN ms",
		    "AVG ms", "MAX ms", "P99 ms", "SAMPLES", "FAILED");
		(*drawn)++;
	}
	for (i = 0; i < n; i++) {
		window_ms(&w[i], ms);
		error = w[i].failed > 0 ? shown(w[i].error) : NULL;
		printf("%s%s%-*s  %8s  %8s  %8s  %8s  %8lu  %6lu%s%s\033[K\n",
		    vo->history ? when + 11 : "", vo->history ? "  " : "", aw,
		    fsmc_address(w[i].host, w[i].port, addr, sizeof addr),
		    figure(f[0], sizeof f[0], ms[0], 3),
		    figure(f[1], sizeof f[1], ms[1], 3),
		    figure(f[2], sizeof f[2], ms[2], 3),
		    figure(f[3], sizeof f[3], ms[3], 3), w[i].samples,
		    w[i].failed, error != NULL ? "  " : "",
		    error != NULL ? error : "");
		free(error);
		(*drawn)++;
	}
}

/*
 * latency: a round trip to each server every 10 ms (or -i), for repeat
 * samples or until a signal, then the summary; with history, a row of
 * each server every interval (1 s by default), for repeat rows.
 * Returns the exit status of the last sample, or 128 and the signal's
 * number.
 */
int
views_latency(
    struct fsmc *fc, struct output *out, const struct view_options *vo)
{
	struct fsmc_session *s;
	struct fsmc_result res, last;
	struct window *w = NULL;
	double gap = LATENCY_GAP, every = 1, next_row = 0, redrawn = 0, t;
	unsigned long samples = 0, rows = 0;
	char said[512] = "";
	size_t i, n = 0, drawn = 0;
	int status = 0;

	if (vo->history && vo->interval >= 0)
		every = vo->interval;
	else if (!vo->history && vo->interval >= 0)
		gap = vo->interval;
	catch_signals(fc);
	if (fsmc_session_open(fc, 0, &s, &res) != FSMC_OK) {
		fprintf(stderr, "fsmemcache: %s\n", res.msg);
		return (exit_status(res.status));
	}
	memset(&last, 0, sizeof last);
	for (;;) {
		take_sample(s, vo, &res);
		/* A sample a signal cut short is no sample. */
		if (stop_signal != 0) {
			fsmc_result_clear(&res);
			break;
		}
		if (w == NULL) {
			if (res.servers == NULL) {
				fsmc_session_close(s);
				return (failed_first(out, &res));
			}
			n = res.nservers;
			if ((w = windows_new(&res)) == NULL) {
				fprintf(stderr,
				    "fsmemcache: latency: out of memory\n");
				fsmc_result_clear(&res);
				status = EXIT_INTERNAL;
				break;
			}
			next_row = now_s() + every;
		}
		for (i = 0; i < n && i < res.nservers; i++)
			window_add(&w[i], &res.servers[i]);
		report(&res, said, sizeof said);
		status = exit_status(res.status);
		/* How it went, without what the result owns. */
		last.status = res.status;
		last.errtext = res.errtext;
		memcpy(last.msg, res.msg, sizeof last.msg);
		fsmc_result_clear(&res);
		samples++;
		t = now_s();
		if (vo->history && t >= next_row) {
			show_latency(out, vo, w, n, &last, &drawn);
			for (i = 0; i < n; i++)
				window_reset(&w[i]);
			rows++;
			next_row += every;
			if (next_row < t)
				next_row = t + every;
			if (output_flush(out) != 0) {
				status = EXIT_IOERR;
				break;
			}
			if (vo->repeat > 0 && rows >= vo->repeat)
				break;
		}
		if (!vo->history && vo->repeat > 0 && samples >= vo->repeat)
			break;
		if (!vo->history && out->tty && !out->json && t >= redrawn) {
			show_latency(out, vo, w, n, &last, &drawn);
			fflush(stdout);
			redrawn = t + LATENCY_REDRAW;
		}
		wait_until(
		    vo->history && next_row < t + gap ? next_row : t + gap);
		if (stop_signal != 0)
			break;
	}
	if (w != NULL && !vo->history && status != EXIT_IOERR &&
	    status != EXIT_INTERNAL) {
		show_latency(out, vo, w, n, &last, &drawn);
		if (output_flush(out) != 0)
			status = EXIT_IOERR;
	}
	windows_free(w, n);
	fsmc_session_close(s);
	if (stop_signal != 0)
		return (128 + stop_signal);
	return (status);
}
