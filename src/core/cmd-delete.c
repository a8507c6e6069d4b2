/* The delete command. */

#include <stdlib.h>

#include "fsmc-int.h"

/*
 * memcached 1.4 dropped delayed deletes, so an expiration other than 0
 * is refused here before anything is sent.
 */
enum fsmc_status
cmd_delete(struct fsmc_call *call)
{
	struct fsmc_request rq = { 0 };
	struct fsmc_response rp;
	memcached_return_t rc;

	if (call->a.expiration != 0) {
		call->res->errtext =
		    memcached_strerror(NULL, MEMCACHED_INVALID_ARGUMENTS);
		return (fsmc_fail(call->res, FSMC_EDATA, call->cmd->name,
		    "memcached cannot delay a delete: the expiration must "
		    "be 0"));
	}
	rq.verb = FSMC_V_DELETE;
	rq.key = call->a.key;
	rq.keylen = call->a.keylen;
	rq.noreply = rq.hold = call->pipe;
	rc = fsmc_call_exchange(call, &rq, &rp);
	free(rp.value);
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
