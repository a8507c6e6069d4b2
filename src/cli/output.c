/* Showing results: reply bytes, JSON or terminal views, and exit statuses. */

#include <sys/ioctl.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The status table: spaces between columns, and the narrowest a column
 * is cut to on a narrow terminal. */
#define TABLE_GAP 2
#define TABLE_MIN_COLUMN 8

/*
 * Exit status and JSON name of each result.  Keep in step with EXIT
 * STATUS in man/fsmemcache.1 and the table in README.md.
 */
static const struct {
	int exit;
	const char *name;
} statuses[] = {
	[FSMC_OK] = { 0, "ok" },
	[FSMC_NOTFOUND] = { 1, "not_found" },
	[FSMC_NOTSTORED] = { 2, "not_stored" },
	[FSMC_EUSAGE] = { 64, "usage" },
	[FSMC_EDATA] = { 65, "invalid" },
	[FSMC_EUNAVAIL] = { 69, "unavailable" },
	[FSMC_EINTERNAL] = { 70, "internal" },
	[FSMC_ESERVER] = { 76, "server_error" },
	[FSMC_EAUTH] = { 77, "auth_failed" },
	[FSMC_ECONFIG] = { 78, "config" },
};

int
exit_status(enum fsmc_status s)
{
	return (statuses[s].exit);
}

const char *
status_name(enum fsmc_status s)
{
	return (statuses[s].name);
}

/* health's verdicts in JSON, by the exit status each has. */
static const char *verdict_names[] = { "ok", "warning", "critical", "unknown" };

/*
 * The exit status of health, as a monitoring plugin's: its verdict, or
 * UNKNOWN when nothing was judged.
 */
int
health_exit(const struct fsmc_result *res)
{
	return (res->health != NULL ? (int)res->health->verdict :
				      FSMC_VERDICT_UNKNOWN);
}

static int
write_to(struct output *out, FILE *fp, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	/*
	 * The few bytes of most replies of a batch, and the newline after a
	 * value, cost less put one by one into standard output's buffer than
	 * through fwrite()'s calls.  Only this thread writes to it; standard
	 * error, unbuffered, gets each line in one write.
	 */
	if (len <= 16 && fp == stdout) {
		for (i = 0; i < len; i++) {
			if (putc_unlocked(p[i], fp) == EOF) {
				out->failed = 1;
				return (-1);
			}
		}
		return (0);
	}
	if (fwrite(buf, 1, len, fp) != len) {
		out->failed = 1;
		return (-1);
	}
	return (0);
}

/* fsmc_render's writer: replies to stdout, -ERR lines too unless -q. */
int
write_reply(void *ctx, int stream, const void *buf, size_t len)
{
	struct output *out = ctx;

	return (write_to(out,
	    stream == FSMC_STREAM_ERROR && out->quiet ? stderr : stdout, buf,
	    len));
}

/*
 * The writer of key listings: standard output holds keys only, to be
 * piped into another command, so -ERR lines always go to standard error.
 */
static int
write_listing(void *ctx, int stream, const void *buf, size_t len)
{
	return (write_to(
	    ctx, stream == FSMC_STREAM_ERROR ? stderr : stdout, buf, len));
}

/*
 * A server's object up to its figures: host, port, whether it is up
 * (null when not asked) and any error.
 */
void
json_server(const struct fsmc_server *srv, size_t i, int asked)
{
	fputs(i > 0 ? ",{\"host\":" : "{\"host\":", stdout);
	json_cstring(stdout, srv->host);
	printf(",\"port\":%u,\"up\":%s", srv->port,
	    !asked		   ? "null" :
		srv->error != NULL ? "false" :
				     "true");
	if (srv->error != NULL) {
		fputs(",\"error\":", stdout);
		json_cstring(stdout, srv->error);
	}
}

static void
json_status(const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	size_t i, j;

	fputs(",\"lib_version\":", stdout);
	json_cstring(stdout, res->libversion);
	fputs(",\"servers\":[", stdout);
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		json_server(srv, i, res->verbose);
		if (res->verbose && srv->error == NULL) {
			fputs(",\"stats\":{", stdout);
			for (j = 0; j < srv->nstats; j++) {
				if (j > 0)
					putchar(',');
				json_cstring(stdout, srv->stats[j].name);
				putchar(':');
				json_cstring(stdout, srv->stats[j].value);
			}
			putchar('}');
		}
		putchar('}');
	}
	putchar(']');
}

/*
 * health: the summary of the verdict, then each server's figures (those
 * that answered) and statistics, or its error.
 */
static void
json_health(const struct fsmc_result *res)
{
	const struct fsmc_health *h = res->health;
	const struct fsmc_health_figures *f;
	const struct fsmc_server *srv;
	size_t i, j;

	if (h == NULL)
		return;
	fputs(",\"summary\":", stdout);
	json_cstring(stdout, h->summary);
	fputs(",\"lib_version\":", stdout);
	json_cstring(stdout, res->libversion);
	fputs(",\"servers\":[", stdout);
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		f = &h->figures[i];
		json_server(srv, i, 1);
		if (srv->error != NULL) {
			putchar('}');
			continue;
		}
		json_number(stdout, "hit_ratio", f->hit, 1);
		json_number(stdout, "evictions_per_s", f->evictions, 2);
		json_number(stdout, "memory", f->memory, 1);
		json_number(stdout, "connections", (double)f->connections, 0);
		json_number(stdout, "response_s", f->response, 6);
		json_number(stdout, "interval_s", f->interval, 3);
		fputs(",\"stats\":{", stdout);
		for (j = 0; j < srv->nstats; j++) {
			if (j > 0)
				putchar(',');
			json_cstring(stdout, srv->stats[j].name);
			putchar(':');
			json_cstring(stdout, srv->stats[j].value);
		}
		fputs("}}", stdout);
	}
	putchar(']');
}

/*
 * Each key once, with the servers that hold it, and each server whose
 * listing failed as a record of its own: the keys are then not all.
 */
/* A key of a listing, with the servers that hold it. */
static void
json_key(const struct fsmc_result *res, const struct fsmc_key *k)
{
	const struct fsmc_server *srv;
	char addr[300];
	size_t j;

	printf("{\"exp\":%lld,\"size\":%llu", k->exp, k->size);
	json_value(stdout, "key", k->name, k->len);
	fputs(",\"servers\":[", stdout);
	for (j = 0; j < k->nservers; j++) {
		srv = &res->servers[k->servers[j]];
		if (j > 0)
			putchar(',');
		json_cstring(stdout,
		    fsmc_address(srv->host, srv->port, addr, sizeof addr));
	}
	fputs("]}", stdout);
}

/*
 * Each server whose listing failed, as a record of its own: the keys
 * are then not all.  Closes the list before it.
 */
static void
json_failures(const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	char addr[300];
	size_t i, n = 0;

	fputs("],\"failures\":[", stdout);
	for (i = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		if (srv->status == FSMC_OK)
			continue;
		fputs(n++ > 0 ? ",{\"server\":" : "{\"server\":", stdout);
		json_cstring(stdout,
		    fsmc_address(srv->host, srv->port, addr, sizeof addr));
		printf(",\"status\":\"%s\",\"exit\":%d,\"error\":",
		    status_name(srv->status), exit_status(srv->status));
		json_cstring(stdout, srv->error);
		putchar('}');
	}
	putchar(']');
}

/* Whether a result is one of the views: stats, slabs, top, latency. */
static int
is_view(const struct fsmc_result *res)
{
	return (res->reply == FSMC_REPLY_STATS ||
	    res->reply == FSMC_REPLY_SLABS || res->reply == FSMC_REPLY_TOP ||
	    res->reply == FSMC_REPLY_LATENCY);
}

/*
 * keys --big: the largest of all as "keys", and each server's largest
 * under "by_server".
 */
static void
json_big(const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	char addr[300];
	size_t i, j;

	for (i = 0; i < res->ntop; i++) {
		if (i > 0)
			putchar(',');
		json_key(res, &res->keys[res->top[i]]);
	}
	fputs("],\"by_server\":[", stdout);
	for (i = j = 0; i < res->nservers; i++) {
		srv = &res->servers[i];
		fputs(i > 0 ? ",{\"server\":" : "{\"server\":", stdout);
		json_cstring(stdout,
		    fsmc_address(srv->host, srv->port, addr, sizeof addr));
		fputs(",\"keys\":[", stdout);
		for (; j < res->nkeys && res->keys[j].servers[0] == i; j++) {
			if (j > 0 && res->keys[j - 1].servers[0] == i)
				putchar(',');
			json_key(res, &res->keys[j]);
		}
		fputs("]}", stdout);
	}
}

/*
 * Each key once, with the servers that hold it, or with --big the
 * largest; then the servers that failed.
 */
static void
json_keys(const struct fsmc_result *res)
{
	size_t i;

	fputs(",\"keys\":[", stdout);
	if (res->big > 0)
		json_big(res);
	for (i = 0; res->big == 0 && i < res->nkeys; i++) {
		if (i > 0)
			putchar(',');
		json_key(res, &res->keys[i]);
	}
	json_failures(res);
}

/* inspect and ttl: what the server told, and only that. */
static void
json_meta(const struct fsmc_result *res)
{
	const struct fsmc_meta *m = &res->meta;
	char addr[300];

	if (res->nservers > 0) {
		fputs(",\"server\":", stdout);
		json_cstring(stdout,
		    fsmc_address(res->servers[0].host, res->servers[0].port,
			addr, sizeof addr));
	}
	if (res->status != FSMC_OK)
		return;
	if (m->known & FSMC_META_TTL)
		printf(",\"ttl\":%lld", m->ttl < 0 ? -1LL : m->ttl);
	if (res->reply == FSMC_REPLY_TTL)
		return;
	if (m->known & FSMC_META_SIZE)
		printf(",\"size\":%llu", m->size);
	if (m->known & FSMC_META_FLAGS)
		printf(",\"flags\":\"%" PRIx32 "\"", m->flags);
	if (m->known & FSMC_META_CAS)
		printf(",\"cas\":\"%" PRIu64 "\"", m->cas);
	if (m->known & FSMC_META_FETCHED)
		printf(",\"fetched\":%s", m->fetched ? "true" : "false");
	if (m->known & FSMC_META_ACCESS)
		printf(",\"last_access\":%llu", m->last_access);
	if (m->known & FSMC_META_CLASS)
		printf(",\"slab_class\":%u", m->slab_class);
	if (m->known & FSMC_META_ITEM_SIZE)
		printf(",\"item_size\":%llu", m->item_size);
}

/* dump and restore: the counts, and the servers dump could not read. */
static void
json_stream(const struct fsmc_result *res)
{
	char addr[300];
	size_t i;

	if (strcmp(res->command, "dump") == 0) {
		printf(",\"items\":%llu,\"skipped\":%llu,\"servers\":[",
		    res->items, res->skipped);
		for (i = 0; i < res->nservers; i++) {
			if (i > 0)
				putchar(',');
			json_cstring(stdout,
			    fsmc_address(res->servers[i].host,
				res->servers[i].port, addr, sizeof addr));
		}
		json_failures(res);
		return;
	}
	printf(",\"items\":%llu,\"stored\":%llu,\"expired\":%llu,"
	       "\"refused\":%llu",
	    res->items, res->items - res->skipped - res->refused, res->skipped,
	    res->refused);
}

/*
 * One JSON object on one line: what ran, how it went and what it gave.
 * Counters are strings, as they may pass 2^53.
 */
static void
output_json(
    struct output *out, const struct fsmc_result *res, unsigned long line)
{
	putchar('{');
	if (line > 0)
		printf("\"line\":%lu,", line);
	fputs("\"command\":", stdout);
	json_cstring(stdout, res->command);
	if (res->key != NULL)
		json_value(stdout, "key", res->key, res->keylen);
	if (res->reply == FSMC_REPLY_HEALTH)
		printf(",\"status\":\"%s\",\"exit\":%d",
		    verdict_names[health_exit(res)], health_exit(res));
	else
		printf(",\"status\":\"%s\",\"exit\":%d",
		    status_name(res->status), exit_status(res->status));
	if (res->status == FSMC_OK) {
		switch (res->reply) {
		case FSMC_REPLY_VALUE:
			json_value(stdout, "value", res->value, res->valuelen);
			printf(",\"flags\":\"%" PRIx32 "\"", res->flags);
			break;
		case FSMC_REPLY_FLAGS:
			printf(",\"flags\":\"%" PRIx32 "\"", res->flags);
			break;
		case FSMC_REPLY_NUMBER:
			printf(",\"value\":\"%" PRIu64 "\"", res->number);
			break;
		case FSMC_REPLY_TEXT:
			fputs(",\"server\":", stdout);
			json_string(stdout, res->value, res->valuelen);
			break;
		default:
			break;
		}
	}
	if (res->reply == FSMC_REPLY_STATUS && res->libversion != NULL)
		json_status(res);
	if (res->reply == FSMC_REPLY_HEALTH)
		json_health(res);
	if (res->reply == FSMC_REPLY_KEYS)
		json_keys(res);
	if (is_view(res))
		views_json(res);
	if (res->reply == FSMC_REPLY_INSPECT || res->reply == FSMC_REPLY_TTL)
		json_meta(res);
	if (res->reply == FSMC_REPLY_STREAM && res->command != NULL)
		json_stream(res);
	if (res->errtext != NULL && res->status != FSMC_OK) {
		fputs(",\"error\":", stdout);
		json_cstring(stdout, res->errtext);
	}
	if (exit_status(res->status) >= EXIT_USAGE) {
		fputs(",\"message\":", stdout);
		json_cstring(stdout, res->msg);
	}
	fputs("}\n", stdout);
	if (ferror(stdout))
		out->failed = 1;
}

/* Statistics an operator looks at first, shown first on a terminal. */
static const char *key_stats[] = { "version", "uptime", "curr_connections",
	"curr_items", "bytes", "limit_maxbytes", "get_hits", "get_misses",
	"evictions", "cmd_get", "cmd_set", NULL };

static int
is_key_stat(const char *name)
{
	const char **k;

	for (k = key_stats; *k != NULL; k++) {
		if (strcmp(*k, name) == 0)
			return (1);
	}
	return (0);
}

/* The terminal's width: the window's, else $COLUMNS, else 80. */
int
terminal_width(void)
{
	struct winsize ws;
	const char *env;
	long n;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return (ws.ws_col);
	if ((env = getenv("COLUMNS")) != NULL &&
	    (n = strtol(env, NULL, 10)) > 0 && n < 10000)
		return ((int)n);
	return (80);
}

/* The status table: its rows' names and its servers' columns. */
struct table {
	const struct fsmc_result *res;
	const char **rows; /* "Servers:", "state", then statistics */
	size_t nrows;
	char (*labels)[300]; /* each server's address */
	int *width;	     /* each server's column */
	int label_width;
};

/* The text of row r in server i's column. */
static const char *
table_cell(const struct table *t, size_t r, size_t i)
{
	const struct fsmc_server *srv = &t->res->servers[i];
	const char *v;

	if (r == 0)
		return (t->labels[i]);
	if (r == 1)
		return (srv->error != NULL ? srv->error : "up");
	if (srv->error != NULL)
		return ("-");
	v = fsmc_stat(srv, t->rows[r]);
	return (v != NULL ? v : "");
}

/* Print text in width columns, cut short with "..." if it is wider. */
void
table_put(const char *text, int width, int left)
{
	int len = (int)strlen(text);

	if (len <= width)
		printf(left ? "%-*s" : "%*s", width, text);
	else if (width > 3)
		printf("%.*s...", width - 3, text);
	else
		printf("%.*s", width, text);
}

/* Print the servers from first to end as one table. */
static void
table_print(const struct table *t, size_t first, size_t end)
{
	size_t r, i;

	for (r = 0; r < t->nrows; r++) {
		table_put(t->rows[r], t->label_width, 1);
		for (i = first; i < end; i++) {
			printf("%*s", TABLE_GAP, "");
			table_put(table_cell(t, r, i), t->width[i], 0);
		}
		putchar('\n');
	}
}

/*
 * Lay the table out for the terminal: the name column as wide as the
 * longest name, each server's column as wide as its widest cell, as
 * many servers side by side as fit, and the others in further tables
 * below.  Only on a terminal too narrow for the names and one column
 * are cells cut: the names first, then the columns.
 */
static void
table_layout(struct table *t)
{
	const struct fsmc_result *res = t->res;
	size_t r, i, first, end;
	int cols = terminal_width(), used, n, widest = 1;

	for (i = 0; i < res->nservers; i++) {
		t->width[i] = 1;
		for (r = 0; r < t->nrows; r++) {
			n = (int)strlen(table_cell(t, r, i));
			if (n > t->width[i])
				t->width[i] = n;
		}
		if (t->width[i] > widest)
			widest = t->width[i];
	}
	t->label_width = 0;
	for (r = 0; r < t->nrows; r++) {
		n = (int)strlen(t->rows[r]);
		if (n > t->label_width)
			t->label_width = n;
	}
	/* On a narrow terminal, cut the names before the servers. */
	if (t->label_width > cols - TABLE_GAP - widest)
		t->label_width = cols - TABLE_GAP - widest;
	if (t->label_width < TABLE_MIN_COLUMN)
		t->label_width = TABLE_MIN_COLUMN;
	for (i = 0; i < res->nservers; i++) {
		if (t->width[i] > cols - t->label_width - TABLE_GAP)
			t->width[i] = cols - t->label_width - TABLE_GAP;
		if (t->width[i] < TABLE_MIN_COLUMN)
			t->width[i] = TABLE_MIN_COLUMN;
	}
	for (first = 0; first < res->nservers; first = end) {
		used = t->label_width;
		for (end = first; end < res->nservers; end++) {
			if (end > first &&
			    used + TABLE_GAP + t->width[end] > cols)
				break;
			used += TABLE_GAP + t->width[end];
		}
		if (first > 0)
			putchar('\n');
		table_print(t, first, end);
	}
}

/*
 * status verbose on a terminal: the servers side by side, one column
 * each, the statistics an operator reaches for first, then the first
 * answering server's others.  Piped output keeps the module's format.
 * Returns -1 when out of memory.
 */
static int
status_table(const struct fsmc_result *res)
{
	const struct fsmc_server *first = NULL;
	struct table t;
	const char **k;
	size_t i, j, nkey = sizeof key_stats / sizeof key_stats[0];
	int rc = -1;

	memset(&t, 0, sizeof t);
	t.res = res;
	for (i = 0; i < res->nservers && first == NULL; i++) {
		if (res->servers[i].error == NULL)
			first = &res->servers[i];
	}
	t.rows = calloc(
	    2 + nkey + (first != NULL ? first->nstats : 0), sizeof *t.rows);
	t.labels = calloc(res->nservers, sizeof *t.labels);
	t.width = calloc(res->nservers, sizeof *t.width);
	if (t.rows == NULL || t.labels == NULL || t.width == NULL)
		goto out;
	t.rows[t.nrows++] = "Servers:";
	t.rows[t.nrows++] = "state";
	for (k = key_stats; *k != NULL; k++)
		t.rows[t.nrows++] = *k;
	for (j = 0; first != NULL && j < first->nstats; j++) {
		if (!is_key_stat(first->stats[j].name))
			t.rows[t.nrows++] = first->stats[j].name;
	}
	for (i = 0; i < res->nservers; i++)
		fsmc_address(res->servers[i].host, res->servers[i].port,
		    t.labels[i], sizeof t.labels[i]);
	printf("Lib version: %s\n", res->libversion);
	table_layout(&t);
	rc = 0;
out:
	free(t.rows);
	free(t.labels);
	free(t.width);
	return (rc);
}

/*
 * The length of the character at p if a terminal may be sent it as it
 * is: printable ASCII, a tab, a line feed, or a well-formed UTF-8
 * character that is not a C1 control.  0 for a byte to show as \xNN.
 */
static size_t
shown_as_is(const unsigned char *p, size_t n)
{
	size_t need, k;
	unsigned long cp;

	if (*p < 0x80)
		return ((*p >= 0x20 && *p < 0x7f) || *p == '\t' || *p == '\n');
	if ((*p & 0xe0) == 0xc0) {
		need = 1;
		cp = *p & 0x1f;
	} else if ((*p & 0xf0) == 0xe0) {
		need = 2;
		cp = *p & 0x0f;
	} else if ((*p & 0xf8) == 0xf0) {
		need = 3;
		cp = *p & 0x07;
	} else
		return (0);
	if (n <= need)
		return (0);
	for (k = 1; k <= need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
	    cp < 0xa0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (need + 1);
}

/*
 * A value on a terminal: the bytes that would drive it (escape
 * sequences, carriage returns, backspaces) are shown as \xNN, as in the
 * messages about keys, so that a value cannot repaint the screen or
 * hide part of itself.
 */
static void
write_escaped(struct output *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run, k;
	char hex[8];

	while (i < n) {
		for (run = i;
		     run < n && (k = shown_as_is(p + run, n - run)) > 0;
		     run += k)
			;
		if (run > i)
			write_reply(out, FSMC_STREAM_REPLY, p + i, run - i);
		if (run < n) {
			snprintf(hex, sizeof hex, "\\x%02x", p[run]);
			write_reply(out, FSMC_STREAM_REPLY, hex, 4);
			run++;
		}
		i = run;
	}
}

/*
 * Say on standard error, even with -q, that a command ran but may not
 * do what was meant; line is its line in a batch, or 0.
 */
void
output_warning(const struct fsmc_result *res, unsigned long line)
{
	if (res->warning[0] == '\0')
		return;
	if (line > 0)
		fprintf(stderr, "fsmemcache: line %lu: warning: %s\n", line,
		    res->warning);
	else
		fprintf(stderr, "fsmemcache: warning: %s\n", res->warning);
}

/*
 * Flush standard output and say if a write to it failed, now or before.
 * Returns 0, or EXIT_IOERR.
 */
int
output_flush(struct output *out)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		out->failed = 1;
	if (!out->failed)
		return (0);
	fprintf(stderr, "fsmemcache: standard output: %s\n", strerror(errno));
	return (EXIT_IOERR);
}

/*
 * Show one result.  In a batch, data replies get a newline, as fs_cli
 * shows them, so that each line's reply stands on its own line; a
 * single command adds one only for a terminal.
 */
void
output_result(
    struct output *out, const struct fsmc_result *res, unsigned long line)
{
	int data;

	if (out->quiet > 1)
		return;
	if (out->json) {
		output_json(out, res, line);
		return;
	}
	if (out->tty && !out->batch && res->reply == FSMC_REPLY_STATUS &&
	    res->verbose && res->libversion != NULL && res->nservers > 0 &&
	    status_table(res) == 0)
		return;
	if (is_view(res) && views_output(out, res) == 0)
		return;
	/* Even an empty dump says what it is. */
	if (res->reply == FSMC_REPLY_STREAM && res->nservers > 0 &&
	    strcmp(res->command, "dump") == 0 && !out->header++)
		write_reply(out, FSMC_STREAM_REPLY, FSMC_DUMP_HEADER,
		    strlen(FSMC_DUMP_HEADER));
	/* Listings and views keep their standard output for data. */
	if (res->reply == FSMC_REPLY_KEYS || res->reply == FSMC_REPLY_STREAM ||
	    (is_view(res) && res->status != FSMC_EUSAGE))
		fsmc_render(res, write_listing, out);
	else if (out->tty && res->status == FSMC_OK &&
	    res->reply == FSMC_REPLY_VALUE)
		write_escaped(out, res->value, res->valuelen);
	else if (!(out->quiet && res->status == FSMC_OK &&
		     res->reply == FSMC_REPLY_OK))
		fsmc_render(res, write_reply, out);
	data = res->reply == FSMC_REPLY_VALUE ||
	    res->reply == FSMC_REPLY_FLAGS || res->reply == FSMC_REPLY_NUMBER;
	if (res->status == FSMC_OK && data && (out->batch || out->tty))
		write_reply(out, FSMC_STREAM_REPLY, "\n", 1);
}

/*
 * An item of dump: a record (see fsmc_render_item()), the first one
 * after the header line, or a JSON object.  Returns -1 when writing
 * failed.
 */
int
output_item(struct output *out, const struct fsmc_item *item)
{
	if (out->quiet > 1)
		return (0);
	if (out->json) {
		fputs("{\"server\":", stdout);
		json_cstring(stdout, item->server);
		json_value(stdout, "key", item->key, item->keylen);
		json_value(stdout, "value", item->value, item->valuelen);
		printf(",\"flags\":\"%" PRIx32 "\",\"exp\":%lld}\n",
		    item->flags, item->exp);
		if (ferror(stdout))
			out->failed = 1;
	} else {
		if (!out->header++)
			write_reply(out, FSMC_STREAM_REPLY, FSMC_DUMP_HEADER,
			    strlen(FSMC_DUMP_HEADER));
		fsmc_render_item(item, write_reply, out);
	}
	return (out->failed ? -1 : 0);
}

/*
 * What dump and restore did, on standard error: not with -q or --json
 * unless they failed.
 */
void
output_summary(
    struct output *out, const struct fsmc_result *res, double seconds)
{
	if (res->command == NULL || res->reply != FSMC_REPLY_STREAM ||
	    ((out->quiet || out->json) &&
		exit_status(res->status) < EXIT_USAGE))
		return;
	if (strcmp(res->command, "dump") == 0) {
		fprintf(stderr,
		    "fsmemcache: dump: %llu %s, %llu skipped; %.3f s\n",
		    res->items, res->items == 1 ? "item" : "items",
		    res->skipped, seconds);
		return;
	}
	fprintf(stderr,
	    "fsmemcache: restore: %llu %s: %llu stored, %llu expired, %llu "
	    "refused; %.3f s\n",
	    res->items, res->items == 1 ? "item" : "items",
	    res->items - res->skipped - res->refused, res->skipped,
	    res->refused, seconds);
}
