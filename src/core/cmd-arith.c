/* The counter commands: increment and decrement. */

#include <inttypes.h>
#include <stdio.h>

#include "fsmc-int.h"

static memcached_return_t
arith(struct fsmc_call *call, uint64_t *value)
{
	struct fsmc_request rq;

	fsmc_key_request(call,
	    call->cmd->op == FSMC_INCREMENT ? FSMC_V_INCR : FSMC_V_DECR, &rq);
	rq.delta = call->a.offset;
	return (fsmc_call_run(call, &rq, value));
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
	struct fsmc_request rq;
	memcached_return_t rc;
	uint64_t initial;
	char text[24];

	rc = arith(call, &call->res->number);
	if (rc == MEMCACHED_NOTFOUND) {
		initial = call->cmd->op == FSMC_INCREMENT ? a->offset : 0;
		fsmc_key_request(call, FSMC_V_ADD, &rq);
		rq.value = text;
		rq.valuelen =
		    (size_t)snprintf(text, sizeof text, "%" PRIu64, initial);
		rq.exptime = a->expiration;
		rq.flags = a->flags;
		rc = fsmc_call_run(call, &rq, NULL);
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
