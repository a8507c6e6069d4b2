/* The storage commands: set, replace, add, append and prepend. */

#include "fsmc-int.h"

enum fsmc_status
cmd_store(struct fsmc_call *call)
{
	const struct fsmc_args *a = &call->a;
	memcached_return_t rc;

	switch (call->cmd->op) {
	case FSMC_ADD:
		rc = memcached_add(call->mc, a->key, a->keylen, a->value,
		    a->valuelen, (time_t)a->expiration, a->flags);
		break;
	case FSMC_REPLACE:
		rc = memcached_replace(call->mc, a->key, a->keylen, a->value,
		    a->valuelen, (time_t)a->expiration, a->flags);
		break;
	case FSMC_APPEND:
		rc = memcached_append(
		    call->mc, a->key, a->keylen, a->value, a->valuelen, 0, 0);
		break;
	case FSMC_PREPEND:
		rc = memcached_prepend(
		    call->mc, a->key, a->keylen, a->value, a->valuelen, 0, 0);
		break;
	default:
		rc = memcached_set(call->mc, a->key, a->keylen, a->value,
		    a->valuelen, (time_t)a->expiration, a->flags);
		break;
	}
	/*
	 * The binary protocol says "exists" to an add and "not found" to a
	 * replace, append or prepend where the text protocol says "not
	 * stored": one reply for both.
	 */
	if ((call->cmd->op == FSMC_ADD && rc == MEMCACHED_DATA_EXISTS) ||
	    (call->cmd->op != FSMC_SET && call->cmd->op != FSMC_ADD &&
		rc == MEMCACHED_NOTFOUND))
		rc = MEMCACHED_NOTSTORED;
	/* Sent without waiting for the reply (a session's pipe mode). */
	if (rc == MEMCACHED_BUFFERED)
		rc = MEMCACHED_SUCCESS;
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
