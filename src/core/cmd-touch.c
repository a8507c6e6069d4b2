/* touch, an extension: give an item a new expiration without fetching it. */

#include <stdlib.h>

#include "fsmc-int.h"

enum fsmc_status
cmd_touch(struct fsmc_call *call)
{
	struct fsmc_request rq = { 0 };
	struct fsmc_response rp;
	memcached_return_t rc;

	rq.verb = FSMC_V_TOUCH;
	rq.key = call->a.key;
	rq.keylen = call->a.keylen;
	rq.exptime = call->a.expiration;
	rc = fsmc_call_exchange(call, &rq, &rp);
	free(rp.value);
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
