/* The flush command. */

#include "fsmc-int.h"

/*
 * flush_all goes to every server; the ones that answer are flushed even
 * when another fails.  memcached only drops items older than the current
 * second, so an item stored in the same second survives.
 */
enum fsmc_status
cmd_flush(struct fsmc_call *call)
{
	memcached_return_t rc;

	rc = memcached_flush(call->mc, (time_t)call->a.expiration);
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
