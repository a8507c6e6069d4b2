/*
 * Many threads, one handle: a stress test for ThreadSanitizer (make tsan).
 *
 *	stress servers threads commands
 *
 * Opens one handle, from a configuration file naming servers
 * ("127.0.0.1:PORT"), and runs in each thread commands mixed from the
 * grammar (all but flush, which would wipe the other threads' keys)
 * until it has run that many: fsmc_run() and fsmc_run_line() on the
 * shared handle, a session of the thread's own opened on it (single
 * commands and multi-gets), values with NUL, CR, LF and "END\r\n" given
 * as a buffer, commands refused before sending, and now and then a
 * handle of the thread's own opened from a configuration file and
 * closed again; every eighth round, on a handle that names the server
 * twice (as 127.0.0.1 and as localhost), the commands that ask every
 * server at once, a thread each: status verbose, keys (in one thread),
 * stats, slabs, latency, health, and flush with a delay that outlasts
 * the test.  Every result is checked: status, value, flags, counter,
 * rendered bytes.  STRESS_CONFIG, if set, holds more lines of the
 * configuration, as tls = true; and its files.  A counter shared by all
 * threads must end at the number of increments.  Prints one summary
 * line; exit status 0 when every result was right.
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsmemcache.h"

#define SHARED_COUNTER "stress-shared-counter"

struct worker {
	pthread_t thread;
	struct fsmc *fc;
	struct fsmc *twice; /* the server under two names */
	const char *servers;
	const char *config; /* a file naming the same servers */
	int id;
	long want;	 /* commands to run */
	long done;	 /* commands run */
	long increments; /* of the shared counter */
	long failures;
	char why[1024];
	struct fsmc_session *session;
};

/* The bytes fsmc_render() writes to its reply stream. */
struct rendered {
	char buf[512];
	size_t len;
	int errors;
};

static int
collect(void *ctx, int stream, const void *buf, size_t len)
{
	struct rendered *r = ctx;

	if (stream != FSMC_STREAM_REPLY) {
		r->errors++;
		return (0);
	}
	if (r->len + len > sizeof r->buf)
		return (-1);
	memcpy(r->buf + r->len, buf, len);
	r->len += len;
	return (0);
}

static void fail(struct worker *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->failures++ > 0)
		return;
	n = snprintf(
	    w->why, sizeof w->why, "thread %d, command %ld: ", w->id, w->done);
	va_start(ap, fmt);
	vsnprintf(w->why + n, sizeof w->why - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Check a result's status; 0 when it is want. */
static int
expect(struct worker *w, const struct fsmc_result *res, enum fsmc_status want,
    const char *what)
{
	w->done++;
	if (res->status == want)
		return (0);
	fail(w, "%s: status %d, want %d (%s)", what, (int)res->status,
	    (int)want, res->msg);
	return (-1);
}

/* Check that a result holds exactly the value and flags given. */
static void
expect_value(struct worker *w, const struct fsmc_result *res, const void *value,
    size_t len, uint32_t flags, const char *what)
{
	struct rendered r;

	if (expect(w, res, FSMC_OK, what) != 0)
		return;
	if (res->valuelen != len || memcmp(res->value, value, len) != 0) {
		fail(w, "%s: wrong value (%zu bytes, want %zu)", what,
		    res->valuelen, len);
		return;
	}
	if (res->flags != flags) {
		fail(w, "%s: flags %" PRIx32 ", want %" PRIx32, what,
		    res->flags, flags);
		return;
	}
	memset(&r, 0, sizeof r);
	if (fsmc_render(res, collect, &r) != 0 || r.errors != 0 ||
	    r.len != len || memcmp(r.buf, value, len) != 0)
		fail(w, "%s: rendered bytes differ from the value", what);
}

static void
expect_number(struct worker *w, const struct fsmc_result *res, uint64_t want,
    const char *what)
{
	if (expect(w, res, FSMC_OK, what) == 0 && res->number != want)
		fail(w, "%s: %" PRIu64 ", want %" PRIu64, what, res->number,
		    want);
}

/* Run words on the shared handle. */
static void
run(struct worker *w, struct fsmc_result *res, const void *value,
    size_t valuelen, int argc, ...)
{
	char *argv[8];
	va_list ap;
	int i;

	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	fsmc_result_clear(res);
	fsmc_run(w->fc, argc, argv, value, valuelen, res);
}

/* Run words on the thread's session. */
static void
srun(struct worker *w, struct fsmc_result *res, int argc, ...)
{
	char *argv[8];
	va_list ap;
	int i;

	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	fsmc_result_clear(res);
	fsmc_session_run(w->session, argc, argv, NULL, 0, res);
}

/* A handle of the thread's own, from the configuration file, for a moment. */
static void
own_handle(struct worker *w, char *key, const char *where)
{
	struct fsmc_options o;
	struct fsmc_result res;
	struct fsmc *fc;
	char cmd[] = "where", *argv[2];

	memset(&o, 0, sizeof o);
	o.config_file = w->config;
	w->done++;
	if (fsmc_open(&fc, &o, &res) != FSMC_OK) {
		fail(w, "fsmc_open %s: %s", w->config, res.msg);
		return;
	}
	argv[0] = cmd;
	argv[1] = key;
	fsmc_run(fc, 2, argv, NULL, 0, &res);
	if (expect(w, &res, FSMC_OK, "where (own handle)") == 0 &&
	    (res.valuelen != strlen(where) ||
		memcmp(res.value, where, res.valuelen) != 0))
		fail(w, "where (own handle): %.*s", (int)res.valuelen,
		    res.value);
	fsmc_result_clear(&res);
	fsmc_close(fc);
}

/* A command on the handle with the server twice: both answer. */
static void
both(struct worker *w, const char *line)
{
	struct fsmc_result res;

	memset(&res, 0, sizeof res);
	fsmc_run_line(w->twice, line, NULL, 0, &res);
	if (expect(w, &res, FSMC_OK, line) == 0 && res.nservers != 2)
		fail(w, "%s: %zu servers", line, res.nservers);
	fsmc_result_clear(&res);
}

/* The commands that ask every server, all at once. */
static void
fan_out(struct worker *w)
{
	struct fsmc_result res;
	char line[96];

	both(w, "status verbose");
	both(w, "stats");
	both(w, "slabs");
	both(w, "latency");
	both(w, "health");
	/*
	 * The thread's counter, on both: listed once, with two holders.
	 * memcached walks for one listing at a time and tells the others
	 * it is busy, which keys waits out for two seconds: one thread
	 * lists, or eight threads' listings, two each, slowed by the
	 * sanitizers, would outlast that wait.
	 */
	if (w->id == 0) {
		snprintf(line, sizeof line, "keys stress:%d:counter", w->id);
		memset(&res, 0, sizeof res);
		fsmc_run_line(w->twice, line, NULL, 0, &res);
		if (expect(w, &res, FSMC_OK, line) == 0 &&
		    (res.nkeys != 1 || res.keys[0].nservers != 2))
			fail(w, "%s: %zu keys (want 1, on 2 servers)", line,
			    res.nkeys);
		fsmc_result_clear(&res);
	}
	/* An hour from now: no key of this test is dropped. */
	fsmc_run_line(w->twice, "flush 3600", NULL, 0, &res);
	expect(w, &res, FSMC_OK, "flush 3600");
	fsmc_result_clear(&res);
}

/* One round of the mix, on keys of its own. */
static void
round_of(struct worker *w, long n, uint64_t *mine)
{
	static const char binary[] = "a\0b\r\nEND\r\nVALUE x 0 1\r\n\0";
	struct fsmc_result res, many[3];
	char key[64], missing[80], counter[64], value[128], flags[16];
	char line[256], joined[192];
	char get[] = "get", getflags[] = "getflags", add[] = "add";
	char append[] = "append", prepend[] = "prepend", replace[] = "replace";
	char increment[] = "increment", decrement[] = "decrement";
	char touch[] = "touch", where[] = "where", del[] = "delete";
	char set[] = "set", status[] = "status", two[] = "2", one[] = "1";
	char hour[] = "3600", x[] = "x", head[] = "head-", tail[] = "-tail";
	char shared[] = SHARED_COUNTER, badkey[] = "bad key";
	char *words[3][2], **argvs[3];
	int argcs[3], i;
	uint32_t f = (uint32_t)(n * 2654435761U);
	struct rendered r;

	memset(&res, 0, sizeof res);
	memset(many, 0, sizeof many);
	snprintf(key, sizeof key, "stress:%d:%ld", w->id, n);
	snprintf(missing, sizeof missing, "%s:missing", key);
	snprintf(counter, sizeof counter, "stress:%d:counter", w->id);
	snprintf(value, sizeof value, "value of %s", key);
	snprintf(flags, sizeof flags, "%" PRIx32, f);

	/* set, by line, with an expiration and flags. */
	snprintf(
	    line, sizeof line, "set %s 'value of %s' 0 %s", key, key, flags);
	fsmc_run_line(w->fc, line, NULL, 0, &res);
	memset(&r, 0, sizeof r);
	if (expect(w, &res, FSMC_OK, "set") == 0 &&
	    (fsmc_render(&res, collect, &r) != 0 || r.len != 4 ||
		memcmp(r.buf, "+OK\n", 4) != 0))
		fail(w, "set: not rendered as +OK");

	run(w, &res, NULL, 0, 2, get, key);
	expect_value(w, &res, value, strlen(value), f, "get");
	srun(w, &res, 2, get, key);
	expect_value(w, &res, value, strlen(value), f, "get (session)");
	run(w, &res, NULL, 0, 2, getflags, key);
	if (expect(w, &res, FSMC_OK, "getflags") == 0 && res.flags != f)
		fail(w, "getflags: %" PRIx32 ", want %" PRIx32, res.flags, f);
	run(w, &res, NULL, 0, 3, add, key, x);
	expect(w, &res, FSMC_NOTSTORED, "add of an existing key");

	run(w, &res, NULL, 0, 3, append, key, tail);
	expect(w, &res, FSMC_OK, "append");
	srun(w, &res, 3, prepend, key, head);
	expect(w, &res, FSMC_OK, "prepend (session)");
	snprintf(joined, sizeof joined, "head-%s-tail", value);
	run(w, &res, NULL, 0, 2, get, key);
	expect_value(
	    w, &res, joined, strlen(joined), f, "get after append, prepend");

	/* A value of any bytes, given as a buffer (-x). */
	run(w, &res, binary, sizeof binary, 2, replace, key);
	expect(w, &res, FSMC_OK, "replace with a binary value");
	for (i = 0; i < 3; i++) {
		words[i][0] = i == 1 ? getflags : get;
		words[i][1] = i == 2 ? missing : key;
		argvs[i] = words[i];
		argcs[i] = 2;
	}
	fsmc_session_run_gets(w->session, 3, argcs, argvs, many);
	/* replace without flags stores flags 0. */
	expect_value(w, &many[0], binary, sizeof binary, 0, "multi-get");
	if (expect(w, &many[1], FSMC_OK, "multi-get getflags") == 0 &&
	    many[1].flags != 0)
		fail(w, "multi-get getflags: %" PRIx32, many[1].flags);
	expect(w, &many[2], FSMC_NOTFOUND, "multi-get of a missing key");
	for (i = 0; i < 3; i++)
		fsmc_result_clear(&many[i]);

	/* Counters: the thread's own, and the one all threads share. */
	run(w, &res, NULL, 0, 3, increment, counter, two);
	expect_number(w, &res, *mine + 2, "increment");
	srun(w, &res, 3, decrement, counter, one);
	expect_number(w, &res, *mine + 1, "decrement (session)");
	*mine += 1;
	run(w, &res, NULL, 0, 2, increment, shared);
	if (expect(w, &res, FSMC_OK, "increment of the shared counter") == 0)
		w->increments++;

	run(w, &res, NULL, 0, 3, touch, key, hour);
	expect(w, &res, FSMC_OK, "touch");
	run(w, &res, NULL, 0, 2, where, key);
	if (expect(w, &res, FSMC_OK, "where") == 0 &&
	    (res.valuelen != strlen(w->servers) ||
		memcmp(res.value, w->servers, res.valuelen) != 0))
		fail(w, "where: %.*s", (int)res.valuelen, res.value);
	run(w, &res, NULL, 0, 2, del, key);
	expect(w, &res, FSMC_OK, "delete");
	srun(w, &res, 2, get, key);
	expect(w, &res, FSMC_NOTFOUND, "get after delete (session)");
	run(w, &res, NULL, 0, 2, del, key);
	expect(w, &res, FSMC_NOTFOUND, "delete of a deleted key");

	/* Refused before anything is sent. */
	run(w, &res, NULL, 0, 3, set, badkey, x);
	expect(w, &res, FSMC_EDATA, "set of a key with a space");
	fsmc_result_clear(&res);
	fsmc_run_line(w->fc, "set 'a\\r\\nflush_all' v", NULL, 0, &res);
	expect(w, &res, FSMC_EDATA, "set of a key with CR LF");
	fsmc_result_clear(&res);
	fsmc_run_line(w->fc, "set onlyakey", NULL, 0, &res);
	expect(w, &res, FSMC_EUSAGE, "set without a value");
	run(w, &res, NULL, 0, 1, status);
	if (expect(w, &res, FSMC_OK, "status") == 0 && res.nservers != 1)
		fail(w, "status: %zu servers", res.nservers);
	fsmc_result_clear(&res);

	if (n % 64 == 0)
		own_handle(w, key, w->servers);
	if (n % 8 == 0)
		fan_out(w);
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct fsmc_result res;
	uint64_t mine = 0;
	long n;

	if (fsmc_session_open(w->fc, 0, &w->session, &res) != FSMC_OK) {
		fail(w, "fsmc_session_open: %s", res.msg);
		return (NULL);
	}
	for (n = 0; w->done < w->want && w->failures == 0; n++)
		round_of(w, n, &mine);
	fsmc_session_close(w->session);
	return (NULL);
}

/* A configuration file naming servers; 0 on success. */
static int
write_config(char *path, size_t len, const char *servers)
{
	const char *dir = getenv("TMPDIR"), *extra;
	FILE *fp;
	int fd;

	snprintf(path, len, "%s/stress-cfg.XXXXXX",
	    dir != NULL && dir[0] == '/' ? dir : "/tmp");
	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL)
		return (-1);
	fprintf(fp,
	    "servers = \"%s\";\ntimeouts = { connect_ms = 5000; "
	    "io_ms = 5000; };\n",
	    servers);
	/* More settings, as TLS's for a run against memcached -Z. */
	if ((extra = getenv("STRESS_CONFIG")) != NULL)
		fprintf(fp, "%s\n", extra);
	return (fclose(fp) == 0 ? 0 : -1);
}

int
main(int argc, char **argv)
{
	struct fsmc_options opts;
	struct fsmc_result res;
	struct worker *workers;
	struct fsmc *fc, *twice;
	char del[] = "delete", get[] = "get", shared[] = SHARED_COUNTER;
	char *words[2], config[256], count[24], servers[256];
	long increments = 0, done = 0;
	int i, n, failed = 0;

	if (argc != 4 || (n = atoi(argv[2])) < 1 || atol(argv[3]) < 1) {
		fprintf(stderr, "usage: stress host:port threads commands\n");
		return (2);
	}
	if (write_config(config, sizeof config, argv[1]) != 0) {
		perror("stress: configuration file");
		return (1);
	}
	memset(&opts, 0, sizeof opts);
	opts.config_file = config;
	if (fsmc_open(&fc, &opts, &res) != FSMC_OK) {
		fprintf(stderr, "stress: %s\n", res.msg);
		unlink(config);
		return (1);
	}
	snprintf(servers, sizeof servers, "%s,localhost%s", argv[1],
	    strchr(argv[1], ':') != NULL ? strchr(argv[1], ':') : "");
	memset(&opts, 0, sizeof opts);
	opts.servers = servers;
	opts.timeout_ms = 5000;
	opts.health_interval_ms = 1;
	if (fsmc_open(&twice, &opts, &res) != FSMC_OK) {
		fprintf(stderr, "stress: %s: %s\n", servers, res.msg);
		unlink(config);
		return (1);
	}
	/* A fresh shared counter, whatever ran before on this server. */
	words[0] = del;
	words[1] = shared;
	if (fsmc_run(fc, 2, words, NULL, 0, &res) != FSMC_OK &&
	    res.status != FSMC_NOTFOUND) {
		fprintf(stderr, "stress: delete: %s\n", res.msg);
		return (1);
	}
	fsmc_result_clear(&res);

	if ((workers = calloc((size_t)n, sizeof *workers)) == NULL)
		return (1);
	for (i = 0; i < n; i++) {
		workers[i].fc = fc;
		workers[i].twice = twice;
		workers[i].servers = argv[1];
		workers[i].config = config;
		workers[i].id = i;
		workers[i].want = atol(argv[3]);
		if (pthread_create(
			&workers[i].thread, NULL, work, &workers[i]) != 0) {
			fprintf(stderr, "stress: pthread_create failed\n");
			return (1);
		}
	}
	for (i = 0; i < n; i++) {
		pthread_join(workers[i].thread, NULL);
		done += workers[i].done;
		increments += workers[i].increments;
		if (workers[i].failures != 0) {
			fprintf(stderr, "stress: %s (%ld failures)\n",
			    workers[i].why, workers[i].failures);
			failed = 1;
		}
	}
	words[0] = get;
	words[1] = shared;
	fsmc_run(fc, 2, words, NULL, 0, &res);
	count[0] = '\0';
	if (res.status == FSMC_OK && res.valuelen < sizeof count) {
		memcpy(count, res.value, res.valuelen);
		count[res.valuelen] = '\0';
	}
	if (res.status != FSMC_OK || strtol(count, NULL, 10) != increments) {
		fprintf(stderr,
		    "stress: the shared counter is '%s', want %ld (%s)\n",
		    count, increments, res.msg);
		failed = 1;
	}
	fsmc_result_clear(&res);
	fsmc_close(fc);
	fsmc_close(twice);
	unlink(config);
	free(workers);
	printf("stress: %d threads, %ld commands, %ld increments of the "
	       "shared counter: %s\n",
	    n, done, increments, failed ? "FAILED" : "every result right");
	return (failed);
}
