/* The flush command. */

#include <stdio.h>

#include "fsmc-int.h"

/*
 * Flush one server through a handle of its own, so that its failure is
 * its own: libmemcached's flush says only that some server failed, and
 * in the binary protocol not even that when a server drops the
 * connection instead of replying.  Sets the -ERR text and the reason.
 */
static enum fsmc_status
flush_server(struct fsmc_call *call, const memcached_instance_st *server,
    const char **errtext, char *reason, size_t len)
{
	enum fsmc_status status = FSMC_OK;
	memcached_return_t rc;
	memcached_st *one;

	if ((one = fsmc_one_server(call->mc, server)) == NULL) {
		*errtext = memcached_strerror(
		    NULL, MEMCACHED_MEMORY_ALLOCATION_FAILURE);
		snprintf(reason, len, "out of memory");
		return (FSMC_EINTERNAL);
	}
	rc = memcached_flush(one, (time_t)call->a.expiration);
	status =
	    fsmc_one_server_failed(one, rc, "flush_all", errtext, reason, len);
	/* What memcached_flush() says of a server that does not answer. */
	if (status == FSMC_EUNAVAIL)
		*errtext = memcached_strerror(NULL, MEMCACHED_SOME_ERRORS);
	memcached_quit(one);
	memcached_free(one);
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
	const memcached_instance_st *server;
	enum fsmc_status s, first = FSMC_OK;
	const char *errtext = NULL, *firsttext = NULL;
	char reason[256], why[256] = "", label[300] = "", more[64] = "";
	uint32_t i, n;
	int failed = 0;

	n = memcached_server_count(call->mc);
	if (n == 0)
		return (fsmc_fail_rc(call, MEMCACHED_NO_SERVERS));
	for (i = 0; i < n; i++) {
		server = memcached_server_instance_by_position(call->mc, i);
		s = flush_server(call, server, &errtext, reason, sizeof reason);
		if (s == FSMC_OK)
			continue;
		if (failed++ == 0) {
			first = s;
			firsttext = errtext;
			snprintf(why, sizeof why, "%s", reason);
			fsmc_server_label(server, label, sizeof label);
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
