/* The flush command. */

#include <stdio.h>
#include <stdlib.h>

#include "fsmc-int.h"

/*
 * Flush one server, so that its failure is its own.  Sets the -ERR text
 * and the reason.
 */
static enum fsmc_status
flush_server(struct fsmc_call *call, struct fsmc_conn *c, const char **errtext,
    char *reason, size_t len)
{
	struct fsmc_request rq = { 0 };
	struct fsmc_response rp;
	enum fsmc_status status;

	rq.verb = FSMC_V_FLUSH;
	rq.exptime = call->a.expiration;
	fsmc_exchange(c, &rq, &rp);
	free(rp.value);
	status = fsmc_one_server_failed(
	    call->fc, c, rp.rc, "flush_all", errtext, reason, len);
	/* What libmemcached's flush says of a server that does not answer. */
	if (status == FSMC_EUNAVAIL)
		*errtext = memcached_strerror(NULL, MEMCACHED_SOME_ERRORS);
	return (status);
}

/*
 * flush_all goes to every server in turn; the ones that answer are
 * flushed even when another fails.  memcached only drops items older
 * than the current second, so an item stored in the same second
 * survives.  The first server that fails decides the reply: a server
 * down is unavailable (69); one that is up but will not flush, such as
 * twemproxy, which does not forward flush_all, or memcached -F, is a
 * server error (76).
 */
enum fsmc_status
cmd_flush(struct fsmc_call *call)
{
	struct fsmc_conn *c;
	enum fsmc_status s, first = FSMC_OK;
	const char *errtext = NULL, *firsttext = NULL;
	char reason[256], why[256] = "", label[300] = "", more[64] = "";
	uint32_t i, n;
	int failed = 0;

	n = call->link->nconns;
	if (n == 0)
		return (fsmc_fail_rc(call, MEMCACHED_NO_SERVERS));
	for (i = 0; i < n; i++) {
		c = &call->link->conns[i];
		s = flush_server(call, c, &errtext, reason, sizeof reason);
		if (s == FSMC_OK)
			continue;
		if (failed++ == 0) {
			first = s;
			firsttext = errtext;
			snprintf(why, sizeof why, "%s", reason);
			fsmc_address(
			    c->sc->host, c->sc->port, label, sizeof label);
		}
	}
	if (failed == 0)
		return (FSMC_OK);
	if (failed > 1)
		snprintf(more, sizeof more, " and %d more server%s", failed - 1,
		    failed > 2 ? "s" : "");
	call->res->errtext = firsttext;
	return (fsmc_fail(
	    call->res, first, call->cmd->name, "%s (%s)%s", why, label, more));
}
