/* Showing results: the module's reply bytes, or JSON, and exit statuses. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

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

static int
write_to(struct output *out, FILE *fp, const void *buf, size_t len)
{
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
		fputs(i > 0 ? ",{\"host\":" : "{\"host\":", stdout);
		json_cstring(stdout, srv->host);
		printf(",\"port\":%u,\"up\":%s", srv->port,
		    !res->verbose	   ? "null" :
			srv->error != NULL ? "false" :
					     "true");
		if (srv->error != NULL) {
			fputs(",\"error\":", stdout);
			json_cstring(stdout, srv->error);
		}
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
 * Each key once, with the servers that hold it, and each server whose
 * listing failed as a record of its own: the keys are then not all.
 */
static void
json_keys(const struct fsmc_result *res)
{
	const struct fsmc_server *srv;
	const struct fsmc_key *k;
	char addr[300];
	size_t i, j, n = 0;

	fputs(",\"keys\":[", stdout);
	for (i = 0; i < res->nkeys; i++) {
		k = &res->keys[i];
		printf("%s{\"exp\":%lld,\"size\":%llu", i > 0 ? "," : "",
		    k->exp, k->size);
		json_value(stdout, "key", k->name, k->len);
		fputs(",\"servers\":[", stdout);
		for (j = 0; j < k->nservers; j++) {
			srv = &res->servers[k->servers[j]];
			if (j > 0)
				putchar(',');
			json_cstring(stdout,
			    fsmc_address(
				srv->host, srv->port, addr, sizeof addr));
		}
		fputs("]}", stdout);
	}
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
	printf(",\"status\":\"%s\",\"exit\":%d", status_name(res->status),
	    exit_status(res->status));
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
	if ((res->reply == FSMC_REPLY_STATUS ||
		res->reply == FSMC_REPLY_HEALTH) &&
	    res->libversion != NULL)
		json_status(res);
	if (res->reply == FSMC_REPLY_KEYS)
		json_keys(res);
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

/* The value of a server's statistic, or NULL. */
const char *
stat_value(const struct fsmc_server *srv, const char *name)
{
	size_t i;

	for (i = 0; i < srv->nstats; i++) {
		if (strcmp(srv->stats[i].name, name) == 0)
			return (srv->stats[i].value);
	}
	return (NULL);
}

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

static void
stat_row(const struct fsmc_result *res, const char *name, int width)
{
	const char *v;
	size_t i;

	printf("%-24s", name);
	for (i = 0; i < res->nservers; i++) {
		v = res->servers[i].error != NULL ?
		    "-" :
		    stat_value(&res->servers[i], name);
		printf(" %*s", width, v != NULL ? v : "");
	}
	putchar('\n');
}

/*
 * status verbose on a terminal: the servers side by side, one column
 * each, the statistics an operator reaches for first.  Piped output
 * keeps the module's format.
 */
static void
status_table(const struct fsmc_result *res)
{
	const struct fsmc_server *first = NULL;
	char label[300];
	const char **k;
	size_t i, j;
	int width = 12, n;

	for (i = 0; i < res->nservers; i++) {
		n = snprintf(label, sizeof label, "%s (%u)",
		    res->servers[i].host, res->servers[i].port);
		if (n > width)
			width = n;
		if (res->servers[i].error != NULL &&
		    (int)strlen(res->servers[i].error) > width)
			width = (int)strlen(res->servers[i].error);
		if (first == NULL && res->servers[i].error == NULL)
			first = &res->servers[i];
	}
	printf("Lib version: %s\n%-24s", res->libversion, "Servers:");
	for (i = 0; i < res->nservers; i++) {
		snprintf(label, sizeof label, "%s (%u)", res->servers[i].host,
		    res->servers[i].port);
		printf(" %*s", width, label);
	}
	putchar('\n');
	printf("%-24s", "state");
	for (i = 0; i < res->nservers; i++)
		printf(" %*s", width,
		    res->servers[i].error != NULL ? res->servers[i].error :
						    "up");
	putchar('\n');
	for (k = key_stats; *k != NULL; k++)
		stat_row(res, *k, width);
	for (j = 0; first != NULL && j < first->nstats; j++) {
		if (!is_key_stat(first->stats[j].name))
			stat_row(res, first->stats[j].name, width);
	}
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

	if (out->json) {
		output_json(out, res, line);
		return;
	}
	if (out->tty && !out->batch && res->reply == FSMC_REPLY_STATUS &&
	    res->verbose && res->libversion != NULL && res->nservers > 0) {
		status_table(res);
		return;
	}
	if (res->reply == FSMC_REPLY_KEYS)
		fsmc_render(res, write_listing, out);
	else if (!(out->quiet && res->status == FSMC_OK &&
		     res->reply == FSMC_REPLY_OK))
		fsmc_render(res, write_reply, out);
	data = res->reply == FSMC_REPLY_VALUE ||
	    res->reply == FSMC_REPLY_FLAGS || res->reply == FSMC_REPLY_NUMBER;
	if (res->status == FSMC_OK && data && (out->batch || out->tty))
		write_reply(out, FSMC_STREAM_REPLY, "\n", 1);
}
