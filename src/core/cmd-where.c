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
	const struct fsmc_server_conf *sc;
	char label[300];

	if (call->link->nconns == 0)
		return (fsmc_fail_rc(call, MEMCACHED_NO_SERVERS));
	sc = call->link
		 ->conns[fsmc_link_place(
		     call->link, call->a.key, call->a.keylen)]
		 .sc;
	fsmc_address(sc->host, sc->port, label, sizeof label);
	if ((call->res->value = strdup(label)) == NULL)
		return (fsmc_fail(call->res, FSMC_EINTERNAL, call->cmd->name,
		    "out of memory"));
	call->res->valuelen = strlen(label);
	return (FSMC_OK);
}
