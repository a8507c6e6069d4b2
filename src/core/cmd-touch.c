/* touch, an extension: give an item a new expiration without fetching it. */

#include "fsmc-int.h"

enum fsmc_status
cmd_touch(struct fsmc_call *call)
{
	struct fsmc_request rq;
	memcached_return_t rc;

	fsmc_key_request(call, FSMC_V_TOUCH, &rq);
	rq.exptime = call->a.expiration;
	if ((rc = fsmc_call_run(call, &rq, NULL)) != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
