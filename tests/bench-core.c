/* The module's path: gets through fsmc_run_line() against memcached_get(). */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmemcached/memcached.h>

#include "fsmemcache.h"

#define ROUNDS 11

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x < y ? -1 : x > y);
}

/* n gets of key on fc, as the module runs them; -1 on a wrong reply. */
static int64_t
ours(struct fsmc *fc, long n)
{
	struct fsmc_result res;
	int64_t t0 = now_ns();
	long i;

	for (i = 0; i < n; i++) {
		fsmc_run_line(fc, "get bench:core", NULL, 0, &res);
		if (res.status != FSMC_OK || res.valuelen != 5) {
			fprintf(stderr, "bench-core: get: %s\n", res.msg);
			fsmc_result_clear(&res);
			return (-1);
		}
		fsmc_result_clear(&res);
	}
	return (now_ns() - t0);
}

/* n gets of key on a kept libmemcached handle. */
static int64_t
theirs(memcached_st *mc, long n)
{
	memcached_return_t rc;
	uint32_t flags;
	size_t len;
	int64_t t0 = now_ns();
	char *v;
	long i;

	for (i = 0; i < n; i++) {
		v = memcached_get(mc, "bench:core", 10, &len, &flags, &rc);
		if (v == NULL || len != 5) {
			fprintf(stderr, "bench-core: memcached_get: %s\n",
			    memcached_strerror(mc, rc));
			free(v);
			return (-1);
		}
		free(v);
	}
	return (now_ns() - t0);
}

int
main(int argc, char **argv)
{
	struct fsmc_options opts;
	struct fsmc_result res;
	struct fsmc *fc;
	memcached_st *mc;
	int64_t a[ROUNDS], b[ROUNDS];
	char servers[300];
	const char *host;
	long n, per;
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: bench-core host port calls\n");
		return (2);
	}
	host = argv[1];
	n = atol(argv[3]);
	per = n / ROUNDS > 0 ? n / ROUNDS : 1;
	memset(&opts, 0, sizeof opts);
	snprintf(servers, sizeof servers, "%s:%s", host, argv[2]);
	opts.servers = servers;
	if (fsmc_open(&fc, &opts, &res) != FSMC_OK) {
		fprintf(stderr, "bench-core: %s\n", res.msg);
		return (1);
	}
	fsmc_run_line(fc, "set bench:core hello", NULL, 0, &res);
	fsmc_result_clear(&res);
	if ((mc = memcached_create(NULL)) == NULL ||
	    memcached_server_add(mc, host, (in_port_t)atoi(argv[2])) !=
		MEMCACHED_SUCCESS)
		return (1);
	/* Both connected and warm before the clock starts. */
	if (ours(fc, per) < 0 || theirs(mc, per) < 0)
		return (1);
	/* Rounds taken in turn, so that the machine's load falls on both. */
	for (r = 0; r < ROUNDS; r++) {
		if ((a[r] = ours(fc, per)) < 0 || (b[r] = theirs(mc, per)) < 0)
			return (1);
	}
	qsort(a, ROUNDS, sizeof a[0], cmp64);
	qsort(b, ROUNDS, sizeof b[0], cmp64);
	/* The median round, in nanoseconds a call. */
	printf("%" PRId64 " %" PRId64 "\n", a[ROUNDS / 2] / per,
	    b[ROUNDS / 2] / per);
	memcached_free(mc);
	fsmc_close(fc);
	return (0);
}
