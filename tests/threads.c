/*
 * Many threads sharing one fsmemcache handle, checked against servers:
 *
 *	threads servers threads iterations [fanout]
 *
 * Each thread sets, gets and counts keys of its own; with fanout, it
 * also runs the commands that ask every server (status verbose, keys,
 * stats, flush with a delay), all threads at once.  Prints the shared
 * counter, which must end at threads x iterations.
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsmemcache.h"

struct worker {
	struct fsmc *fc;
	int id;
	int iterations;
	int fanout;
	size_t nservers;
	int failures;
	char why[1024];
};

static int
check(struct worker *w, struct fsmc_result *res, const char *what)
{
	if (res->status == FSMC_OK)
		return (0);
	snprintf(
	    w->why, sizeof w->why, "thread %d: %s: %s", w->id, what, res->msg);
	w->failures++;
	return (-1);
}

/* The commands that ask every server, on the thread's own keys. */
static void
fan_out(struct worker *w, int i, struct fsmc_result *res)
{
	char line[64];

	fsmc_run_line(w->fc, "status verbose", NULL, 0, res);
	if (check(w, res, "status verbose") == 0 &&
	    res->nservers != w->nservers) {
		snprintf(w->why, sizeof w->why,
		    "thread %d: status: %zu servers", w->id, res->nservers);
		w->failures++;
	}
	fsmc_result_clear(res);
	snprintf(line, sizeof line, "keys t%d-", w->id);
	fsmc_run_line(w->fc, line, NULL, 0, res);
	if (check(w, res, line) == 0 && res->nkeys != (size_t)i + 1) {
		snprintf(w->why, sizeof w->why,
		    "thread %d: %s: %zu keys, want %d", w->id, line, res->nkeys,
		    i + 1);
		w->failures++;
	}
	fsmc_result_clear(res);
	fsmc_run_line(w->fc, "stats", NULL, 0, res);
	if (check(w, res, "stats") == 0 && res->nservers != w->nservers) {
		snprintf(w->why, sizeof w->why, "thread %d: stats: %zu servers",
		    w->id, res->nservers);
		w->failures++;
	}
	fsmc_result_clear(res);
	/* An hour from now: the other threads' keys stay. */
	fsmc_run_line(w->fc, "flush 3600", NULL, 0, res);
	check(w, res, "flush 3600");
	fsmc_result_clear(res);
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct fsmc_result res;
	char key[64], value[128], line[256];
	char getword[] = "get", incrword[] = "increment";
	char counter[] = "shared-counter";
	char *argv[2];
	int i;

	memset(&res, 0, sizeof res);
	for (i = 0; i < w->iterations && w->failures == 0; i++) {
		snprintf(key, sizeof key, "t%d-%d", w->id, i);
		snprintf(value, sizeof value, "value of %s", key);
		snprintf(line, sizeof line, "set %s '%s'", key, value);
		fsmc_run_line(w->fc, line, NULL, 0, &res);
		check(w, &res, line);
		fsmc_result_clear(&res);

		argv[0] = getword;
		argv[1] = key;
		fsmc_run(w->fc, 2, argv, NULL, 0, &res);
		if (check(w, &res, "get") == 0 &&
		    (res.valuelen != strlen(value) ||
			memcmp(res.value, value, res.valuelen) != 0)) {
			snprintf(w->why, sizeof w->why,
			    "thread %d: get %s: wrong value", w->id, key);
			w->failures++;
		}
		fsmc_result_clear(&res);

		argv[0] = incrword;
		argv[1] = counter;
		fsmc_run(w->fc, 2, argv, NULL, 0, &res);
		check(w, &res, "increment");
		fsmc_result_clear(&res);

		if (w->fanout)
			fan_out(w, i, &res);
	}
	return (NULL);
}

int
main(int argc, char **argv)
{
	struct fsmc_options opts;
	struct fsmc_result res;
	struct worker *workers;
	pthread_t *threads;
	struct fsmc *fc;
	char getword[] = "get", counter[] = "shared-counter";
	char *get[2] = { getword, counter };
	const char *p;
	size_t nservers = 1;
	int i, n, iterations, failed = 0;

	if (argc != 4 && (argc != 5 || strcmp(argv[4], "fanout") != 0)) {
		fprintf(stderr,
		    "usage: threads servers threads iterations [fanout]\n");
		return (2);
	}
	memset(&opts, 0, sizeof opts);
	opts.servers = argv[1];
	for (p = argv[1]; *p != '\0'; p++)
		nservers += *p == ',';
	n = atoi(argv[2]);
	iterations = atoi(argv[3]);
	if (fsmc_open(&fc, &opts, &res) != FSMC_OK) {
		fprintf(stderr, "threads: %s\n", res.msg);
		return (1);
	}
	workers = calloc((size_t)n, sizeof *workers);
	threads = calloc((size_t)n, sizeof *threads);
	if (workers == NULL || threads == NULL)
		return (1);
	for (i = 0; i < n; i++) {
		workers[i].fc = fc;
		workers[i].id = i;
		workers[i].iterations = iterations;
		workers[i].fanout = argc == 5;
		workers[i].nservers = nservers;
		if (pthread_create(&threads[i], NULL, work, &workers[i]) != 0)
			return (1);
	}
	for (i = 0; i < n; i++) {
		pthread_join(threads[i], NULL);
		if (workers[i].failures != 0) {
			fprintf(stderr, "%s\n", workers[i].why);
			failed = 1;
		}
	}
	fsmc_run(fc, 2, get, NULL, 0, &res);
	printf("%.*s\n", (int)res.valuelen, res.value);
	fsmc_result_clear(&res);
	fsmc_close(fc);
	free(workers);
	free(threads);
	return (failed);
}
