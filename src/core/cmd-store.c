/* The storage commands: set, replace, add, append and prepend. */

#include <stdlib.h>

#include "fsmc-int.h"

static enum fsmc_verb
store_verb(enum fsmc_op op)
{
	switch (op) {
	case FSMC_ADD:
		return (FSMC_V_ADD);
	case FSMC_REPLACE:
		return (FSMC_V_REPLACE);
	case FSMC_APPEND:
		return (FSMC_V_APPEND);
	case FSMC_PREPEND:
		return (FSMC_V_PREPEND);
	default:
		return (FSMC_V_SET);
	}
}

enum fsmc_status
cmd_store(struct fsmc_call *call)
{
	const struct fsmc_args *a = &call->a;
	struct fsmc_request rq = { 0 };
	struct fsmc_response rp;
	memcached_return_t rc;

	rq.verb = store_verb(call->cmd->op);
	rq.key = a->key;
	rq.keylen = a->keylen;
	rq.value = a->value;
	rq.valuelen = a->valuelen;
	if (rq.verb != FSMC_V_APPEND && rq.verb != FSMC_V_PREPEND) {
		rq.flags = a->flags;
		rq.exptime = a->expiration;
	}
	/* A session's pipe mode sends without waiting for the reply. */
	rq.noreply = rq.hold = call->pipe;
	rc = fsmc_call_exchange(call, &rq, &rp);
	free(rp.value);
	/*
	 * The binary protocol says "exists" to an add and "not found" to a
	 * replace, append or prepend where the text protocol says "not
	 * stored": one reply for both.
	 */
	if ((call->cmd->op == FSMC_ADD && rc == MEMCACHED_DATA_EXISTS) ||
	    (call->cmd->op != FSMC_SET && call->cmd->op != FSMC_ADD &&
		rc == MEMCACHED_NOTFOUND))
		rc = MEMCACHED_NOTSTORED;
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
