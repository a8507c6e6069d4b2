/* The read commands: get and getflags. */

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
