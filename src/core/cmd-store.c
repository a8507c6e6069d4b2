/* The storage commands: set, replace, add, append and prepend. */

#include "fsmc-int.h"

/* What a single-key command asks of its server, in either protocol. */
enum fsmc_verb
fsmc_op_verb(enum fsmc_op op)
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
	case FSMC_DELETE:
		return (FSMC_V_DELETE);
	case FSMC_TOUCH:
		return (FSMC_V_TOUCH);
	case FSMC_GET:
	case FSMC_GETFLAGS:
		return (FSMC_V_GET);
	default:
		return (FSMC_V_SET);
	}
}

/*
 * What a store's reply means.  The binary protocol says "exists" to an
 * add and "not found" to a replace, append or prepend where the text
 * protocol says "not stored": one reply for both.
 */
memcached_return_t
fsmc_store_rc(enum fsmc_op op, memcached_return_t rc)
{
	if ((op == FSMC_ADD && rc == MEMCACHED_DATA_EXISTS) ||
	    (op != FSMC_SET && op != FSMC_ADD && rc == MEMCACHED_NOTFOUND))
		return (MEMCACHED_NOTSTORED);
	return (rc);
}

/*
 * The request of a call on one key: its command's verb, the key, and
 * the value, flags and expiration the command has (append and prepend
 * keep the item's).
 */
void
fsmc_call_request(const struct fsmc_call *call, struct fsmc_request *rq)
{
	fsmc_key_request(call, fsmc_op_verb(call->cmd->op), rq);
	rq->value = call->a.value;
	rq->valuelen = call->a.valuelen;
	if (rq->verb != FSMC_V_APPEND && rq->verb != FSMC_V_PREPEND) {
		rq->flags = call->a.flags;
		rq->exptime = call->a.expiration;
	}
}

enum fsmc_status
cmd_store(struct fsmc_call *call)
{
	struct fsmc_request rq;
	memcached_return_t rc;

	fsmc_call_request(call, &rq);
	rc = fsmc_store_rc(call->cmd->op, fsmc_call_run(call, &rq, NULL));
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
