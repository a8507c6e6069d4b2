/* The storage commands: set, replace, add, append and prepend. */

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
	struct fsmc_request rq;
	memcached_return_t rc;

	fsmc_key_request(call, store_verb(call->cmd->op), &rq);
	rq.value = call->a.value;
	rq.valuelen = call->a.valuelen;
	if (rq.verb != FSMC_V_APPEND && rq.verb != FSMC_V_PREPEND) {
		rq.flags = call->a.flags;
		rq.exptime = call->a.expiration;
	}
	rc = fsmc_call_run(call, &rq, NULL);
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
