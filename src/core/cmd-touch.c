/* touch, an extension: give an item a new expiration without fetching it. */

#include "fsmc-int.h"

enum fsmc_status
cmd_touch(struct fsmc_call *call)
{
	memcached_return_t rc;

	rc = memcached_touch(
	    call->mc, call->a.key, call->a.keylen, (time_t)call->a.expiration);
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
