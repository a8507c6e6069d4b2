/* The counter commands: increment and decrement. */

#include <inttypes.h>
#include <stdio.h>

#include "fsmc-int.h"

static memcached_return_t
arith(struct fsmc_call *call, uint64_t *value)
{
	const struct fsmc_args *a = &call->a;

	if (call->cmd->op == FSMC_INCREMENT)
		return (memcached_increment(
		    call->mc, a->key, a->keylen, a->offset, value));
	return (
	    memcached_decrement(call->mc, a->key, a->keylen, a->offset, value));
}

/*
 * memcached only counts on existing items, so a missing counter is
 * created with add: at the offset for increment, at 0 for decrement
 * (which cannot go below 0).  Expiration and flags apply only then;
 * later counts keep them.  If another client creates the key between
 * the miss and the add, the add fails and the count is tried once more.
 */
enum fsmc_status
cmd_arith(struct fsmc_call *call)
{
	const struct fsmc_args *a = &call->a;
	memcached_return_t rc;
	uint64_t initial;
	char text[24];
	int len;

	rc = arith(call, &call->res->number);
	if (rc == MEMCACHED_NOTFOUND) {
		initial = call->cmd->op == FSMC_INCREMENT ? a->offset : 0;
		len = snprintf(text, sizeof text, "%" PRIu64, initial);
		rc = memcached_add(call->mc, a->key, a->keylen, text,
		    (size_t)len, (time_t)a->expiration, a->flags);
		if (rc == MEMCACHED_SUCCESS)
			call->res->number = initial;
		else
			rc = arith(call, &call->res->number);
	}
	/*
	 * libmemcached 1.1 reports the binary protocol's "non-numeric value"
	 * status as an unknown read failure on a healthy connection; answer
	 * as the text protocol does.
	 */
	if (rc == MEMCACHED_UNKNOWN_READ_FAILURE && call->fc->settings.binary)
		rc = MEMCACHED_CLIENT_ERROR;
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail_rc(call, rc));
	return (FSMC_OK);
}
