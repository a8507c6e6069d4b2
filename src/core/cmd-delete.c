/* The delete command. */

#include "fsmc-int.h"

/*
 * memcached 1.4 dropped delayed deletes, so an expiration other than 0
 * is refused here before anything is sent.
 */
enum fsmc_status
cmd_delete(struct fsmc_call *call)
{
	struct fsmc_request rq;
	memcached_return_t rc;

	if (call->a.expiration != 0) {
		call->res->errtext =
		    memcached_strerror(NULL, MEMCACHED_INVALID_ARGUMENTS);
		return (fsmc_fail(call->res, FSMC_EDATA, call->cmd->name,
		    "memcached cannot delay a delete: the expiration must "
		    "be 0"));
	}
	fsmc_key_request(call, FSMC_V_DELETE, &rq);
	rc = fsmc_call_run(call, &rq, NULL);
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
