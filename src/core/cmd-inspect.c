/* inspect and ttl, extensions: what the server knows of a key, short of its
 * value. */

#include <stdlib.h>
#include <string.h>

#include "fsmc-int.h"

/*
 * Meta commands are text commands, so the key's server is asked on a
 * text connection of its own, whatever the protocol of the others.  A
 * server that has none (memcached before 1.6) is asked with gets, which
 * tells the flags, the size and the CAS, and fetches the value, which
 * is dropped.
 */
static memcached_return_t
ask(struct fsmc_call *call, struct fsmc_conn *c)
{
	struct fsmc_result *res = call->res;
	struct fsmc_response rp;
	memcached_return_t rc;
	int64_t deadline;
	size_t cursor = 0, which;

	if ((rc = fsmc_conn_open(c)) != MEMCACHED_SUCCESS)
		return (rc);
	if (fsmc_wire_inspect(c, call->a.key, call->a.keylen) != 0)
		return (
		    fsmc_conn_fail(c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, 0));
	deadline = fsmc_now_ms() + c->st->io_ms;
	if ((rc = fsmc_conn_send(c, deadline)) != MEMCACHED_SUCCESS)
		return (rc);
	rc = fsmc_wire_inspected(
	    c, deadline, call->a.key, call->a.keylen, &res->meta);
	if (rc != MEMCACHED_NOT_SUPPORTED)
		return (rc);
	if (fsmc_wire_gets(c, call->a.key, call->a.keylen) != 0)
		return (
		    fsmc_conn_fail(c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, 0));
	deadline = fsmc_now_ms() + c->st->io_ms;
	if ((rc = fsmc_conn_send(c, deadline)) != MEMCACHED_SUCCESS)
		return (rc);
	rc = fsmc_wire_value(c, deadline, &call->a.key, &call->a.keylen, 1,
	    &cursor, &which, &rp);
	if (rc == MEMCACHED_END)
		return (MEMCACHED_NOTFOUND);
	if (rc != MEMCACHED_SUCCESS)
		return (rc);
	free(rp.value);
	res->meta.size = rp.valuelen;
	res->meta.flags = rp.flags;
	res->meta.cas = rp.cas;
	res->meta.known = FSMC_META_SIZE | FSMC_META_FLAGS | FSMC_META_CAS;
	rc = fsmc_wire_value(c, deadline, &call->a.key, &call->a.keylen, 1,
	    &cursor, &which, &rp);
	if (rc == MEMCACHED_SUCCESS) {
		free(rp.value);
		return (fsmc_conn_broken(
		    c, "more than one value for one key", NULL, 0));
	}
	return (rc == MEMCACHED_END ? MEMCACHED_SUCCESS : rc);
}

/* The server of the result: the one asked, as keys and status list them. */
static int
name_server(struct fsmc_result *res, const struct fsmc_server_conf *sc)
{
	if ((res->servers = calloc(1, sizeof *res->servers)) == NULL ||
	    (res->servers[0].host = strdup(sc->host)) == NULL)
		return (-1);
	res->servers[0].port = sc->port;
	res->nservers = 1;
	return (0);
}

enum fsmc_status
cmd_inspect(struct fsmc_call *call)
{
	const struct fsmc_settings *st = &call->fc->settings;
	struct fsmc_result *res = call->res;
	struct fsmc_conn c;
	memcached_return_t rc;
	char key[96], reason[256], where[300];

	if (st->sasl_user != NULL)
		return (fsmc_fail(res, FSMC_EUSAGE, call->cmd->name,
		    "needs the text protocol, which cannot authenticate"));
	if (call->link->nconns == 0)
		return (fsmc_fail_rc(call, MEMCACHED_NO_SERVERS));
	call->conn = &call->link->conns[fsmc_link_place(
	    call->link, call->a.key, call->a.keylen)];
	if (name_server(res, call->conn->sc) != 0)
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	fsmc_conn_init(&c, st, call->conn->sc, call->fc->cancel_fd);
	c.binary = 0;
	rc = ask(call, &c);
	fsmc_escape(call->a.key, call->a.keylen, key, sizeof key);
	if (rc != MEMCACHED_SUCCESS) {
		/* As fsmc_fail_rc() says it, of the text connection. */
		fsmc_conn_reason(&c, rc, reason, sizeof reason);
		where[0] = '\0';
		if (fsmc_status_of(rc) >= FSMC_EUSAGE) {
			strcpy(where, " (");
			fsmc_address(c.sc->host, c.sc->port, where + 2,
			    sizeof where - 3);
			strcat(where, ")");
		}
		res->errtext = memcached_strerror(NULL, rc);
		fsmc_fail(res, fsmc_status_of(rc), NULL, "%s %s: %s%s",
		    call->cmd->name, key, reason, where);
	} else if (call->cmd->op == FSMC_TTL &&
	    (res->meta.known & FSMC_META_TTL) == 0) {
		res->errtext =
		    memcached_strerror(NULL, MEMCACHED_NOT_SUPPORTED);
		fsmc_fail(res, FSMC_ESERVER, NULL,
		    "%s %s: the server has no meta commands to tell a TTL "
		    "(memcached 1.6 or later)",
		    call->cmd->name, key);
	}
	fsmc_conn_free(&c);
	return (res->status);
}
