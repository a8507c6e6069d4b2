/* where, an extension: which server a key is placed on, without asking it. */

#include <string.h>

#include "fsmc-int.h"

/*
 * The server is chosen as for every other command: from the key with the
 * namespace, by the configured distribution and hash.
 */
enum fsmc_status
cmd_where(struct fsmc_call *call)
{
	const memcached_instance_st *server;
	memcached_return_t rc;
	char label[300];

	server =
	    memcached_server_by_key(call->mc, call->a.key, call->a.keylen, &rc);
	if (server == NULL)
		return (fsmc_fail_rc(
		    call, rc != MEMCACHED_SUCCESS ? rc : MEMCACHED_NO_SERVERS));
	fsmc_server_label(server, label, sizeof label);
	if ((call->res->value = strdup(label)) == NULL)
		return (fsmc_fail(call->res, FSMC_EINTERNAL, call->cmd->name,
		    "out of memory"));
	call->res->valuelen = strlen(label);
	return (FSMC_OK);
}
