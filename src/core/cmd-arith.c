/* The counter commands: increment and decrement. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "fsmc-int.h"

static memcached_return_t
arith(struct fsmc_call *call, uint64_t *value)
{
	struct fsmc_request rq = { 0 };
	struct fsmc_response rp;
	memcached_return_t rc;

	rq.verb = call->cmd->op == FSMC_INCREMENT ? FSMC_V_INCR : FSMC_V_DECR;
	rq.key = call->a.key;
	rq.keylen = call->a.keylen;
	rq.delta = call->a.offset;
	rc = fsmc_call_exchange(call, &rq, &rp);
	free(rp.value);
	*value = rp.number;
	return (rc);
}

/*
 * memcached only counts on existing items, so a missing counter is
 * created with add: at the offset for increment, at 0 for decrement
 * (which cannot go below 0).  Expiration and flags apply only then;
 * later counts keep them.  If another client creates the key between
 * the miss and the add, the add fails and the count is tried once more.
 */
enum fsmc_status
cmd_arith(struct fsmc_call *call)
{
	const struct fsmc_args *a = &call->a;
	struct fsmc_request rq = { 0 };
	struct fsmc_response rp;
	memcached_return_t rc;
	uint64_t initial;
	char text[24];
	int len;

	rc = arith(call, &call->res->number);
	if (rc == MEMCACHED_NOTFOUND) {
		initial = call->cmd->op == FSMC_INCREMENT ? a->offset : 0;
		len = snprintf(text, sizeof text, "%" PRIu64, initial);
		rq.verb = FSMC_V_ADD;
		rq.key = a->key;
		rq.keylen = a->keylen;
		rq.value = text;
		rq.valuelen = (size_t)len;
		rq.exptime = a->expiration;
		rq.flags = a->flags;
		rc = fsmc_call_exchange(call, &rq, &rp);
		free(rp.value);
		if (rc == MEMCACHED_SUCCESS)
			call->res->number = initial;
		else if (rc == MEMCACHED_NOTSTORED ||
		    rc == MEMCACHED_DATA_EXISTS)
			rc = arith(call, &call->res->number);
	}
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
