/* The read commands: get and getflags. */

#include <stdlib.h>
#include <string.h>

#include "fsmc-int.h"

/*
 * getflags fetches the whole value too: the text protocol has no way to
 * ask for the flags alone.
 */
enum fsmc_status
cmd_get(struct fsmc_call *call)
{
	struct fsmc_result *res = call->res;
	memcached_return_t rc;

	res->value = memcached_get(call->mc, call->a.key, call->a.keylen,
	    &res->valuelen, &res->flags, &rc);
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}

/* Order of calls by key, for matching replies to the calls that asked. */
static int
by_key(const void *a, const void *b)
{
	const struct fsmc_call *x = *(const struct fsmc_call *const *)a;
	const struct fsmc_call *y = *(const struct fsmc_call *const *)b;
	size_t n = x->a.keylen < y->a.keylen ? x->a.keylen : y->a.keylen;
	int c = memcmp(x->a.key, y->a.key, n);

	if (c != 0)
		return (c);
	return ((x->a.keylen > y->a.keylen) - (x->a.keylen < y->a.keylen));
}

/* Give one fetched item to every call of its key that has none yet. */
static void
deliver(struct fsmc_call **sorted, size_t n, const memcached_result_st *item)
{
	struct fsmc_call probe, *pp = &probe, **hit;
	struct fsmc_result *res;
	size_t i, len = memcached_result_length(item);

	memset(&probe, 0, sizeof probe);
	probe.a.key = memcached_result_key_value(item);
	probe.a.keylen = memcached_result_key_length(item);
	if ((hit = bsearch(&pp, sorted, n, sizeof *sorted, by_key)) == NULL)
		return;
	while (hit > sorted && by_key(&hit[-1], &pp) == 0)
		hit--;
	for (i = (size_t)(hit - sorted); i < n && by_key(&sorted[i], &pp) == 0;
	     i++) {
		res = sorted[i]->res;
		if (sorted[i]->rc == MEMCACHED_END)
			continue;
		sorted[i]->rc = MEMCACHED_END;
		res->flags = memcached_result_flags(item);
		res->valuelen = len;
		if (len > 0 && (res->value = malloc(len)) == NULL) {
			fsmc_fail(res, FSMC_EINTERNAL, sorted[i]->cmd->name,
			    "out of memory");
			continue;
		}
		if (len > 0)
			memcpy(res->value, memcached_result_value(item), len);
	}
}

/*
 * Run n prepared get and getflags calls with one multi-get on mc.  The
 * replies come back in any order and are matched by key.  A key the
 * servers did not return is a miss only when the multi-get went through
 * cleanly; otherwise it is fetched alone, to tell a miss from an outage.
 */
enum fsmc_status
cmd_get_many(memcached_st *mc, struct fsmc_call *calls, size_t n)
{
	const char **keys = NULL;
	struct fsmc_call **sorted = NULL;
	memcached_result_st *item;
	memcached_return_t rc;
	size_t *lens = NULL, i;
	int clean;

	if (n == 0)
		return (FSMC_OK);
	keys = calloc(n, sizeof *keys);
	lens = calloc(n, sizeof *lens);
	sorted = calloc(n, sizeof *sorted);
	if (keys == NULL || lens == NULL || sorted == NULL) {
		for (i = 0; i < n; i++)
			fsmc_fail(calls[i].res, FSMC_EINTERNAL,
			    calls[i].cmd->name, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		calls[i].mc = mc;
		calls[i].rc = MEMCACHED_SUCCESS;
		keys[i] = calls[i].a.key;
		lens[i] = calls[i].a.keylen;
		sorted[i] = &calls[i];
	}
	qsort(sorted, n, sizeof *sorted, by_key);
	rc = memcached_mget(mc, keys, lens, n);
	clean = rc == MEMCACHED_SUCCESS;
	if (clean) {
		while ((item = memcached_fetch_result(mc, NULL, &rc)) != NULL) {
			deliver(sorted, n, item);
			memcached_result_free(item);
		}
		clean = rc == MEMCACHED_END || rc == MEMCACHED_NOTFOUND ||
		    rc == MEMCACHED_SUCCESS;
	}
	for (i = 0; i < n; i++) {
		if (calls[i].rc == MEMCACHED_END)
			calls[i].rc = MEMCACHED_SUCCESS;
		else if (calls[i].res->status != FSMC_OK)
			continue;
		else if (clean)
			fsmc_fail_rc(&calls[i], MEMCACHED_NOTFOUND);
		else
			cmd_get(&calls[i]);
	}
done:
	free(keys);
	free(lens);
	free(sorted);
	return (FSMC_OK);
}
