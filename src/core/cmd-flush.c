/* The flush command. */

#include <stdio.h>
#include <stdlib.h>

#include "fsmc-int.h"

/* Flush the part's server, so that its failure is its own. */
static void
flush_server(struct fsmc_part *p)
{
	struct fsmc_call *call = p->arg;
	struct fsmc_conn *c = &call->link->conns[p->i];
	struct fsmc_request rq = { 0 };
	struct fsmc_response rp;
	enum fsmc_status status;
	const char *errtext;
	char reason[256];

	rq.verb = FSMC_V_FLUSH;
	rq.exptime = call->a.expiration;
	fsmc_exchange(c, &rq, &rp);
	free(rp.value);
	status = fsmc_one_server_failed(
	    call->fc, c, rp.rc, "flush_all", &errtext, reason, sizeof reason);
	/* What libmemcached's flush says of a server that does not answer. */
	if (status == FSMC_EUNAVAIL)
		errtext = memcached_strerror(NULL, MEMCACHED_SOME_ERRORS);
	if (status != FSMC_OK)
		fsmc_part_failed(p, status, errtext, c->sc, "%s", reason);
}

/*
 * flush_all goes to every server at once; the ones that answer are
 * flushed even when another fails.  memcached only drops items older
 * than the current second, so an item stored in the same second
 * survives.  The first server that fails, in the order of the
 * configuration, decides the reply: a server down is unavailable (69);
 * one that is up but will not flush, such as twemproxy, which does not
 * forward flush_all, or memcached -F, is a server error (76).
 */
enum fsmc_status
cmd_flush(struct fsmc_call *call)
{
	struct fsmc_failures failed = { 0 };

	if (call->link->nconns == 0)
		return (fsmc_fail_rc(call, MEMCACHED_NO_SERVERS));
	if (fsmc_fanout(call, call->link->nconns, flush_server, call,
		&failed) != FSMC_OK)
		return (call->res->status);
	if (failed.count > 0)
		call->res->errtext = failed.errtext;
	return (fsmc_failures_result(call, &failed));
}
