/* The storage commands: set, replace and add. */

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
	default:
		rc = memcached_set(call->mc, a->key, a->keylen, a->value,
		    a->valuelen, (time_t)a->expiration, a->flags);
		break;
	}
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
