/* Byte-for-byte tests of fsmc_render(), the reply shared by the CLI and the
 * module. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsmemcache.h"

/* What fsmc_render wrote to each stream. */
struct capture {
	char buf[2][4096];
	size_t len[2];
};

static int passed, failed;

static int
capture_write(void *ctx, int stream, const void *bytes, size_t len)
{
	struct capture *c = ctx;

	if (c->len[stream] + len > sizeof c->buf[stream])
		return (-1);
	memcpy(c->buf[stream] + c->len[stream], bytes, len);
	c->len[stream] += len;
	return (0);
}

/* Both streams into one, as the FreeSWITCH module writes them. */
static int
merged_write(void *ctx, int stream, const void *bytes, size_t len)
{
	(void)stream;
	return (capture_write(ctx, FSMC_STREAM_REPLY, bytes, len));
}

static void
print_bytes(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			putchar(s[i]);
		else
			printf("\\x%02x", (unsigned char)s[i]);
	}
}

/*
 * Render res and compare what went to the reply stream with reply and
 * what went to the error stream with error (each of the given length).
 */
static void
expect(const char *name, const struct fsmc_result *res, const char *reply,
    size_t replylen, const char *error, size_t errorlen)
{
	struct capture c;

	memset(&c, 0, sizeof c);
	if (fsmc_render(res, capture_write, &c) == 0 &&
	    c.len[FSMC_STREAM_REPLY] == replylen &&
	    memcmp(c.buf[FSMC_STREAM_REPLY], reply, replylen) == 0 &&
	    c.len[FSMC_STREAM_ERROR] == errorlen &&
	    memcmp(c.buf[FSMC_STREAM_ERROR], error, errorlen) == 0) {
		passed++;
		return;
	}
	failed++;
	printf("not ok: %s\n  reply: ", name);
	print_bytes(c.buf[FSMC_STREAM_REPLY], c.len[FSMC_STREAM_REPLY]);
	printf("\n  error: ");
	print_bytes(c.buf[FSMC_STREAM_ERROR], c.len[FSMC_STREAM_ERROR]);
	printf("\n");
}

#define EXPECT(name, res, reply, error) \
	expect(name, res, reply, sizeof reply - 1, error, sizeof error - 1)

/* Render res as the module does, both streams in one, and compare. */
static void
expect_merged(const char *name, const struct fsmc_result *res,
    const char *reply, size_t replylen)
{
	struct capture c;

	memset(&c, 0, sizeof c);
	if (fsmc_render(res, merged_write, &c) == 0 &&
	    c.len[FSMC_STREAM_REPLY] == replylen &&
	    memcmp(c.buf[FSMC_STREAM_REPLY], reply, replylen) == 0) {
		passed++;
		return;
	}
	failed++;
	printf("not ok: %s\n  reply: ", name);
	print_bytes(c.buf[FSMC_STREAM_REPLY], c.len[FSMC_STREAM_REPLY]);
	printf("\n");
}

static void
test_replies(void)
{
	struct fsmc_result res;
	char value[] = { 'a', '\0', 'b', '\r', '\n' };

	memset(&res, 0, sizeof res);
	res.reply = FSMC_REPLY_OK;
	EXPECT("+OK", &res, "+OK\n", "");

	res.reply = FSMC_REPLY_VALUE;
	res.value = value;
	res.valuelen = sizeof value;
	EXPECT("a value with NUL and CR LF", &res, "a\0b\r\n", "");
	res.value = NULL;
	res.valuelen = 0;
	EXPECT("an empty value", &res, "", "");

	res.reply = FSMC_REPLY_FLAGS;
	res.flags = 0;
	EXPECT("flags 0", &res, "0", "");
	res.flags = 0x1f;
	EXPECT("flags 1f", &res, "1f", "");
	res.flags = 0xffffffffU;
	EXPECT("flags ffffffff", &res, "ffffffff", "");

	res.reply = FSMC_REPLY_NUMBER;
	res.number = 0;
	EXPECT("counter 0", &res, "0", "");
	res.number = 9223372036854775808ULL;
	EXPECT("counter 2^63", &res, "9223372036854775808", "");
	res.number = 18446744073709551615ULL;
	EXPECT("counter 2^64-1", &res, "18446744073709551615", "");
}

static void
test_errors(void)
{
	struct fsmc_result res;

	memset(&res, 0, sizeof res);
	res.reply = FSMC_REPLY_VALUE;
	res.status = FSMC_NOTFOUND;
	res.errtext = "NOT FOUND";
	EXPECT("not found", &res, "", "-ERR NOT FOUND\n");
	res.reply = FSMC_REPLY_OK;
	res.status = FSMC_NOTSTORED;
	res.errtext = "NOT STORED";
	EXPECT("not stored", &res, "", "-ERR NOT STORED\n");
	res.status = FSMC_EUNAVAIL;
	res.errtext = "CONNECTION FAILURE";
	EXPECT("unavailable", &res, "", "-ERR CONNECTION FAILURE\n");
	res.status = FSMC_EDATA;
	res.errtext = "INVALID ARGUMENTS";
	EXPECT("invalid data", &res, "", "-ERR INVALID ARGUMENTS\n");

	memset(&res, 0, sizeof res);
	res.status = FSMC_EUSAGE;
	EXPECT("usage", &res, "",
	    "-ERR\n"
	    "memcache <set|replace|add> <key> <value> [expiration [flags]]\n"
	    "memcache <get|getflags> <key>\n"
	    "memcache <delete> <key> [expiration]\n"
	    "memcache <increment|decrement> <key> [offset [expiration "
	    "[flags]]]\n"
	    "memcache <flush> [delay]\n"
	    "memcache <status> [verbose]\n"
	    "memcache <append|prepend> <key> <value>\n"
	    "memcache <touch> <key> <expiration>\n"
	    "memcache <where> <key>\n"
	    "memcache <keys> [-l] [--big count] [pattern]\n"
	    "memcache <inspect|ttl> <key>\n"
	    "memcache <dump> [pattern]\n"
	    "memcache <restore>\n"
	    "memcache <health>\n"
	    "memcache <stats> [group]\n"
	    "memcache <slabs>\n"
	    "memcache <top>\n"
	    "memcache <latency>\n"
	    "\n");
}

static void
test_status(void)
{
	char pid[] = "pid", pidval[] = "8199", version[] = "version";
	char versionval[] = "1.6.18", host[] = "127.0.0.1";
	char sock[] = "/run/mc.sock";
	struct fsmc_stat stats[] = { { pid, pidval }, { version, versionval } };
	struct fsmc_server servers[2];
	struct fsmc_result res;

	memset(servers, 0, sizeof servers);
	servers[0].host = host;
	servers[0].port = 42311;
	servers[1].host = sock;
	servers[1].port = 0;
	memset(&res, 0, sizeof res);
	res.reply = FSMC_REPLY_STATUS;
	res.libversion = "1.1.4";
	res.servers = servers;
	res.nservers = 2;
	EXPECT("status", &res,
	    "Lib version: 1.1.4\nServers: 2\n  127.0.0.1 (42311)\n"
	    "  /run/mc.sock (0)\n",
	    "");

	res.verbose = 1;
	servers[0].stats = stats;
	servers[0].nstats = 2;
	servers[1].error = "CONNECTION FAILURE";
	res.status = FSMC_EUNAVAIL;
	res.errtext = "CONNECTION FAILURE";
	EXPECT("status verbose, one server down", &res,
	    "Lib version: 1.1.4\nServers: 2\n  127.0.0.1 (42311)\n"
	    "    pid: 8199\n    version: 1.6.18\n  /run/mc.sock (0)\n"
	    "    error: CONNECTION FAILURE\n",
	    "");

	memset(&res, 0, sizeof res);
	res.reply = FSMC_REPLY_STATUS;
	res.libversion = "1.1.4";
	res.status = FSMC_EUNAVAIL;
	res.errtext = "NO SERVERS DEFINED";
	EXPECT("status without servers", &res,
	    "Lib version: 1.1.4\nServers: 0\n", "-ERR NO SERVERS DEFINED\n");
}

static void
test_keys(void)
{
	char one[] = "user:1", two[] = "user:2";
	struct fsmc_key keys[2];
	struct fsmc_result res;

	memset(keys, 0, sizeof keys);
	keys[0].name = one;
	keys[0].len = strlen(one);
	keys[1].name = two;
	keys[1].len = strlen(two);
	memset(&res, 0, sizeof res);
	res.reply = FSMC_REPLY_KEYS;
	EXPECT("no keys", &res, "", "");
	res.keys = keys;
	res.nkeys = 2;
	EXPECT("keys", &res, "user:1\nuser:2\n", "");
	res.status = FSMC_EUNAVAIL;
	res.errtext = "SOME ERRORS WERE REPORTED";
	EXPECT("keys, a server down", &res, "user:1\nuser:2\n",
	    "-ERR SOME ERRORS WERE REPORTED\n");
	expect_merged("keys, a server down, as the module replies", &res,
	    "-ERR SOME ERRORS WERE REPORTED\nuser:1\nuser:2\n",
	    sizeof "-ERR SOME ERRORS WERE REPORTED\nuser:1\nuser:2\n" - 1);
	res.status = FSMC_ESERVER;
	res.nkeys = 0;
	expect_merged("keys, none, a dump refused, as the module replies", &res,
	    "-ERR SOME ERRORS WERE REPORTED\n",
	    sizeof "-ERR SOME ERRORS WERE REPORTED\n" - 1);
}

/*
 * Render a health result as fsmemcache prints it (everything on
 * standard output, nothing on standard error) and as the module replies,
 * and compare both with reply.
 */
static void
expect_health(const char *name, const struct fsmc_result *res,
    const char *reply, size_t len)
{
	char merged[256];

	expect(name, res, reply, len, "", 0);
	snprintf(merged, sizeof merged, "%s, as the module replies", name);
	expect_merged(merged, res, reply, len);
}

#define EXPECT_HEALTH(name, res, reply) \
	expect_health(name, res, reply, sizeof reply - 1)

static void
test_health(void)
{
	char version[] = "version", versionval[] = "1.6.18";
	char uptime[] = "uptime", uptimeval[] = "75";
	char conns[] = "curr_connections", connsval[] = "1";
	char ev[] = "evictions", evval[] = "133125";
	char limit[] = "limit_maxbytes", limitval[] = "67108864";
	char host[] = "127.0.0.1", host2[] = "10.0.0.2";
	char sock[] = "/run/mc 'a'.sock";
	char summary[] = "127.0.0.1:11211 1840.00 evictions/s above 100; "
			 "10.0.0.2:11211 down";
	char ok[] = "2 of 2 servers up";
	struct fsmc_stat stats[] = { { version, versionval },
		{ uptime, uptimeval }, { conns, connsval }, { ev, evval },
		{ limit, limitval } };
	struct fsmc_health_figures figures[2];
	struct fsmc_server servers[2];
	struct fsmc_health h;
	struct fsmc_result res;

	memset(servers, 0, sizeof servers);
	servers[0].host = host;
	servers[0].port = 11211;
	servers[0].stats = stats;
	servers[0].nstats = 5;
	servers[1].host = host2;
	servers[1].port = 11211;
	servers[1].error = "CONNECTION FAILURE";
	memset(figures, 0, sizeof figures);
	figures[0].hit = 93.14;
	figures[0].evictions = 1840;
	figures[0].memory = 100;
	figures[0].response = 0.000412;
	figures[0].interval = 1.0004;
	figures[0].connections = 1;
	figures[0].max_connections = 1024;
	memset(&h, 0, sizeof h);
	h.verdict = FSMC_VERDICT_CRITICAL;
	h.summary = summary;
	h.warn.hit = 80;
	h.warn.evictions = 10;
	h.warn.memory = 90;
	h.warn.latency = 200;
	h.crit.hit = 50;
	h.crit.evictions = 100;
	h.crit.memory = 98;
	h.crit.latency = 1000;
	h.figures = figures;
	memset(&res, 0, sizeof res);
	res.reply = FSMC_REPLY_HEALTH;
	res.status = FSMC_EUNAVAIL;
	res.libversion = "1.1.4";
	res.servers = servers;
	res.nservers = 2;
	res.health = &h;
	EXPECT_HEALTH("health, one server evicting and one down", &res,
	    "MEMCACHE CRITICAL: 127.0.0.1:11211 1840.00 evictions/s above "
	    "100; 10.0.0.2:11211 down | 127.0.0.1:11211_hit=93.1%;80:;50:;0;"
	    "100 127.0.0.1:11211_evictions=1840.00;10;100;0 "
	    "127.0.0.1:11211_memory=100.0%;90;98;0;100 "
	    "127.0.0.1:11211_connections=1;;;0;1024 "
	    "127.0.0.1:11211_time=0.000412s;0.2;1;0\n"
	    "  127.0.0.1:11211 up: version 1.6.18, uptime 75 s, 1 connection, "
	    "hit ratio 93.1%, evictions 1840.00/s (133125 since start), "
	    "memory 100.0% of 64 MiB, response 0.41 ms\n"
	    "  10.0.0.2:11211 down: CONNECTION FAILURE\n");

	/* Nothing known, no thresholds, a socket path in quotes. */
	servers[0].host = sock;
	servers[0].port = 0;
	servers[0].nstats = 0;
	servers[1].error = NULL;
	servers[1].stats = stats;
	servers[1].nstats = 5;
	figures[0].hit = figures[0].evictions = figures[0].memory = -1;
	figures[0].connections = figures[0].max_connections = -1;
	figures[1] = figures[0];
	figures[1].evictions = 0;
	figures[1].memory = 12.5;
	figures[1].connections = 2;
	h.verdict = FSMC_VERDICT_OK;
	h.summary = ok;
	h.warn.hit = h.warn.evictions = h.warn.memory = h.warn.latency = -1;
	h.crit = h.warn;
	res.status = FSMC_OK;
	EXPECT_HEALTH("health, figures not known, a socket path", &res,
	    "MEMCACHE OK: 2 of 2 servers up | '/run/mc ''a''.sock_hit'=U;;;0;"
	    "100 '/run/mc ''a''.sock_evictions'=U;;;0 '/run/mc ''a''.sock_"
	    "memory'=U;;;0;100 '/run/mc ''a''.sock_connections'=U;;;0 "
	    "'/run/mc ''a''.sock_time'=0.000412s;;;0 10.0.0.2:11211_hit=U;;;"
	    "0;100 10.0.0.2:11211_evictions=0.00;;;0 10.0.0.2:11211_memory="
	    "12.5%;;;0;100 10.0.0.2:11211_connections=2;;;0 10.0.0.2:11211_"
	    "time=0.000412s;;;0\n"
	    "  /run/mc 'a'.sock up: version ?, uptime ? s, ? connections, "
	    "hit ratio n/a, evictions n/a, memory n/a, response 0.41 ms\n"
	    "  10.0.0.2:11211 up: version 1.6.18, uptime 75 s, 1 connection, "
	    "hit ratio n/a, evictions 0.00/s (133125 since start), memory "
	    "12.5% of 64 MiB, response 0.41 ms\n");

	/* Nothing judged: a usage error, or no configuration. */
	memset(&res, 0, sizeof res);
	res.reply = FSMC_REPLY_HEALTH;
	res.status = FSMC_EUSAGE;
	snprintf(res.msg, sizeof res.msg, "health: too many arguments");
	EXPECT_HEALTH("health, a usage error", &res,
	    "MEMCACHE UNKNOWN: health: too many arguments\n");
	res.status = FSMC_ECONFIG;
	snprintf(
	    res.msg, sizeof res.msg, "no configuration loaded (see the log)");
	EXPECT_HEALTH("health in the module without a configuration", &res,
	    "MEMCACHE UNKNOWN: no configuration loaded (see the log)\n");
}

/*
 * A server's statistics from "name", "value", ... pairs ending in NULL,
 * each a copy; free_stats() frees them.
 */
static struct fsmc_stat *
make_stats(const char *const *pairs, size_t *n)
{
	struct fsmc_stat *st;
	size_t i;

	for (*n = 0; pairs[2 * *n] != NULL; (*n)++)
		;
	if ((st = calloc(*n, sizeof *st)) == NULL)
		abort();
	for (i = 0; i < *n; i++) {
		st[i].name = strdup(pairs[2 * i]);
		st[i].value = strdup(pairs[2 * i + 1]);
		if (st[i].name == NULL || st[i].value == NULL)
			abort();
	}
	return (st);
}

static void
free_stats(struct fsmc_stat *st, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(st[i].name);
		free(st[i].value);
	}
	free(st);
}

/* Whether two figures agree to a thousandth. */
static void
expect_figure(const char *name, double got, double want)
{
	if (got - want < 0.001 && want - got < 0.001) {
		passed++;
		return;
	}
	failed++;
	printf("not ok: %s: %f, not %f\n", name, got, want);
}

static void
test_views(void)
{
	static const char *const before_pairs[] = { "pid", "7", "uptime", "100",
		"cmd_get", "1000", "cmd_set", "200", "get_hits", "900",
		"get_misses", "100", "evictions", "0", "bytes_read", "5000",
		"bytes_written", "90000", "curr_connections", "3", "bytes",
		"1024", "limit_maxbytes", "4096", NULL };
	static const char *const after_pairs[] = { "pid", "7", "uptime", "102",
		"cmd_get", "1100", "cmd_set", "210", "get_hits", "975",
		"get_misses", "125", "evictions", "4", "bytes_read", "6000",
		"bytes_written", "100000", "curr_connections", "5", "bytes",
		"2048", "limit_maxbytes", "4096", NULL };
	static const char *const restarted_pairs[] = { "pid", "8", "uptime",
		"1", "cmd_get", "10", "curr_connections", "1", NULL };
	static const char *const settings_pairs[] = { "maxbytes", "4096",
		"evictions", "on", NULL };
	struct fsmc_stat *before, *after, *restarted, *settings;
	size_t nbefore, nafter, nrestarted, nsettings;
	struct fsmc_slab slabs[] = {
		{ 1, 96, 1, 10922, 30, 30, 812, 0, 0, 0, 0 },
		{ 29, 52984, 2, 38, 38, 38, 5, 162, 3, 1, 1 },
	};
	struct fsmc_server servers[2];
	struct fsmc_result res;
	struct fsmc_rates r;
	struct fsmc_slab total;
	char host[] = "127.0.0.1", sock[] = "/run/mc.sock";

	before = make_stats(before_pairs, &nbefore);
	after = make_stats(after_pairs, &nafter);
	restarted = make_stats(restarted_pairs, &nrestarted);
	settings = make_stats(settings_pairs, &nsettings);
	memset(servers, 0, sizeof servers);
	servers[0].host = host;
	servers[0].port = 42311;
	servers[0].stats = before;
	servers[0].nstats = nbefore;
	servers[0].when_us = 5000000;
	servers[1].host = host;
	servers[1].port = 42311;
	servers[1].stats = after;
	servers[1].nstats = nafter;
	servers[1].when_us = 7000000;

	/* Rates over two seconds between two samples. */
	fsmc_rates(&servers[0], &servers[1], &r);
	expect_figure("top: seconds", r.seconds, 2);
	expect_figure("top: gets/s", r.gets, 50);
	expect_figure("top: sets/s", r.sets, 5);
	expect_figure("top: hit ratio of the interval", r.hit, 75);
	expect_figure("top: evictions/s", r.evictions, 2);
	expect_figure("top: bytes in/s", r.bytes_in, 500);
	expect_figure("top: bytes out/s", r.bytes_out, 5000);
	expect_figure("top: connections", r.connections, 5);
	expect_figure("top: memory", r.memory, 50);
	/* One sample: since the server started. */
	fsmc_rates(NULL, &servers[1], &r);
	expect_figure("top alone: seconds", r.seconds, 102);
	expect_figure("top alone: gets/s", r.gets, 1100.0 / 102);
	expect_figure("top alone: hit ratio", r.hit, 975.0 / 11);
	/* A restart in between: gauges, but no rates. */
	servers[0].stats = restarted;
	servers[0].nstats = nrestarted;
	fsmc_rates(&servers[1], &servers[0], &r);
	expect_figure("top after a restart: no gets/s", r.gets, -1);
	expect_figure("top after a restart: connections", r.connections, 1);
	expect_figure("top after a restart: no memory", r.memory, -1);

	/* stats: SERVER NAME VALUE, a failed server named on -ERR alone. */
	servers[0].stats = settings;
	servers[0].nstats = nsettings;
	servers[1].host = sock;
	servers[1].port = 0;
	servers[1].stats = NULL;
	servers[1].nstats = 0;
	servers[1].error = "CONNECTION FAILURE";
	memset(&res, 0, sizeof res);
	res.reply = FSMC_REPLY_STATS;
	res.servers = servers;
	res.nservers = 1;
	EXPECT("stats", &res,
	    "127.0.0.1:42311 maxbytes 4096\n127.0.0.1:42311 evictions on\n",
	    "");
	res.nservers = 2;
	res.status = FSMC_EUNAVAIL;
	res.errtext = "CONNECTION FAILURE";
	EXPECT("stats, a server down", &res,
	    "127.0.0.1:42311 maxbytes 4096\n127.0.0.1:42311 evictions on\n",
	    "-ERR CONNECTION FAILURE\n");

	/* slabs: each class, the server's total, the pool's. */
	servers[0].slabs = slabs;
	servers[0].nslabs = 2;
	res.reply = FSMC_REPLY_SLABS;
	EXPECT("slabs, a server down", &res,
	    "127.0.0.1:42311 1 96 1 30 812 0 0 0 no -\n"
	    "127.0.0.1:42311 29 52984 2 38 5 162 3 1 yes evicting\n"
	    "127.0.0.1:42311 total - 3 68 812 162 - 1 - evicting\n"
	    "all total - 3 68 812 162 - 1 - evicting\n",
	    "-ERR CONNECTION FAILURE\n");
	fsmc_slabs_total(&servers[0], &total);
	expect_figure("slabs: total pages", (double)total.pages, 3);
	expect_figure("slabs: total chunks", (double)total.chunks, 10960);

	/* top alone and latency: one sample. */
	servers[0].stats = after;
	servers[0].nstats = nafter;
	servers[0].rtt_us = 1234;
	res.reply = FSMC_REPLY_TOP;
	EXPECT("top, one sample", &res,
	    "127.0.0.1:42311 10.8 2.1 88.6 0.0 59 980 5 2048 50.0\n",
	    "-ERR CONNECTION FAILURE\n");
	res.reply = FSMC_REPLY_LATENCY;
	EXPECT("latency, one sample", &res, "127.0.0.1:42311 1.234\n",
	    "-ERR CONNECTION FAILURE\n");
	free_stats(before, nbefore);
	free_stats(after, nafter);
	free_stats(restarted, nrestarted);
	free_stats(settings, nsettings);
}

/* keys -l and --big: the servers' column. */
static void
test_key_servers(void)
{
	char one[] = "user:1", two[] = "user:2", h1[] = "10.0.0.1",
	     h2[] = "/run/mc.sock";
	uint32_t both[] = { 0, 1 }, second[] = { 1 }, first[] = { 0 };
	struct fsmc_server servers[2];
	struct fsmc_key keys[3];
	struct fsmc_result res;
	size_t top[] = { 2, 0 };

	memset(servers, 0, sizeof servers);
	servers[0].host = h1;
	servers[0].port = 11211;
	servers[1].host = h2;
	memset(keys, 0, sizeof keys);
	keys[0].name = one;
	keys[0].len = strlen(one);
	keys[0].servers = both;
	keys[0].nservers = 2;
	keys[0].size = 70;
	keys[1].name = two;
	keys[1].len = strlen(two);
	keys[1].servers = second;
	keys[1].nservers = 1;
	keys[1].size = 90;
	memset(&res, 0, sizeof res);
	res.reply = FSMC_REPLY_KEYS;
	res.servers = servers;
	res.nservers = 2;
	res.keys = keys;
	res.nkeys = 2;
	res.servers_column = 1;
	EXPECT("keys -l, one key on two servers", &res,
	    "10.0.0.1:11211,/run/mc.sock user:1\n/run/mc.sock user:2\n", "");
	keys[0].servers = first;
	keys[0].nservers = 1;
	keys[2] = keys[1];
	keys[2].size = 100;
	keys[1].servers = second;
	res.nkeys = 3;
	res.servers_column = 0;
	res.big = 2;
	res.top = top;
	res.ntop = 2;
	EXPECT("keys --big 2", &res,
	    "10.0.0.1:11211 70 user:1\n/run/mc.sock 90 user:2\n"
	    "/run/mc.sock 100 user:2\nall 100 user:2\nall 70 user:1\n",
	    "");
}

static void
test_inspect(void)
{
	char key[] = "user:1", host[] = "127.0.0.1";
	struct fsmc_server server;
	struct fsmc_result res;

	memset(&server, 0, sizeof server);
	server.host = host;
	server.port = 11211;
	memset(&res, 0, sizeof res);
	res.reply = FSMC_REPLY_INSPECT;
	res.key = key;
	res.keylen = strlen(key);
	res.servers = &server;
	res.nservers = 1;
	res.meta.known = 0xff;
	res.meta.ttl = 3597;
	res.meta.last_access = 12;
	res.meta.size = 11;
	res.meta.flags = 0x1f;
	res.meta.cas = 18446744073709551615ULL;
	res.meta.slab_class = 1;
	res.meta.item_size = 72;
	EXPECT("inspect", &res,
	    "key: user:1\nserver: 127.0.0.1:11211\nttl: 3597\nsize: 11\n"
	    "flags: 1f\ncas: 18446744073709551615\nfetched: no\n"
	    "last_access: 12\nslab_class: 1\nitem_size: 72\n",
	    "");
	res.meta.known = FSMC_META_SIZE | FSMC_META_FLAGS | FSMC_META_CAS;
	EXPECT("inspect, a server without meta commands", &res,
	    "key: user:1\nserver: 127.0.0.1:11211\nsize: 11\nflags: 1f\n"
	    "cas: 18446744073709551615\n",
	    "");
	res.meta.known = 0xff;
	res.meta.ttl = -1;
	res.meta.fetched = 1;
	EXPECT("inspect, a key that never expires", &res,
	    "key: user:1\nserver: 127.0.0.1:11211\nttl: never\nsize: 11\n"
	    "flags: 1f\ncas: 18446744073709551615\nfetched: yes\n"
	    "last_access: 12\nslab_class: 1\nitem_size: 72\n",
	    "");
	res.reply = FSMC_REPLY_TTL;
	EXPECT("ttl of a key that never expires", &res, "-1\n", "");
	res.meta.ttl = 0;
	EXPECT("ttl 0", &res, "0\n", "");
	res.status = FSMC_NOTFOUND;
	res.errtext = "NOT FOUND";
	EXPECT("ttl of a missing key", &res, "", "-ERR NOT FOUND\n");
}

/* Dump's records: every byte of the value, the key escaped for -f. */
static void
test_records(void)
{
	struct fsmc_item item;
	struct capture c;
	size_t n = 0;
	static const char want[] = "{6} set it\\'s\\\\x 1796217949 ff\n"
				   "a\0b\r\n\xff\n";

	memset(&item, 0, sizeof item);
	item.key = "it's\\x";
	item.keylen = strlen(item.key);
	item.value = "a\0b\r\n\xff";
	item.valuelen = 6;
	item.flags = 0xff;
	item.exp = 1796217949;
	memset(&c, 0, sizeof c);
	if (fsmc_render_item(&item, capture_write, &c) == 0 &&
	    c.len[0] == sizeof want - 1 &&
	    memcmp(c.buf[0], want, sizeof want - 1) == 0)
		passed++;
	else {
		failed++;
		printf("not ok: a record\n  reply: ");
		print_bytes(c.buf[0], c.len[0]);
		printf("\n");
	}
	if (fsmc_record_header("{6} set k 0 0", &n) == 4 && n == 6 &&
	    fsmc_record_header("set k v", &n) == 0 &&
	    fsmc_record_header("{1073741823} set k", &n) == 13 &&
	    fsmc_record_header("{1073741824} set k", &n) == -1 &&
	    fsmc_record_header("{} set k", &n) == -1 &&
	    fsmc_record_header("{-1} set k", &n) == -1 &&
	    fsmc_record_header("{1}set k", &n) == -1 &&
	    fsmc_record_header("{1} ", &n) == -1 &&
	    fsmc_record_header("{99999999999999999999} set", &n) == -1)
		passed++;
	else {
		failed++;
		printf("not ok: record headers\n");
	}
}

int
main(void)
{
	test_replies();
	test_errors();
	test_status();
	test_keys();
	test_health();
	test_views();
	test_key_servers();
	test_inspect();
	test_records();
	printf("%d passed, %d failed\n", passed, failed);
	return (failed != 0);
}
