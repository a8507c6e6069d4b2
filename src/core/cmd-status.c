/* The status command: library version, servers and their statistics. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsmc-int.h"

static char *
copy_bytes(const char *s, size_t len)
{
	char *p;

	if ((p = malloc(len + 1)) != NULL) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return (p);
}

static memcached_return_t
add_stat(const memcached_instance_st *server, const char *name, size_t namelen,
    const char *value, size_t valuelen, void *ctx)
{
	struct fsmc_server *srv = ctx;
	struct fsmc_stat *stats, *st;

	(void)server;
	stats = realloc(srv->stats, (srv->nstats + 1) * sizeof *stats);
	if (stats == NULL)
		return (MEMCACHED_MEMORY_ALLOCATION_FAILURE);
	srv->stats = stats;
	st = &stats[srv->nstats];
	st->name = copy_bytes(name, namelen);
	st->value = copy_bytes(value, valuelen);
	if (st->name == NULL || st->value == NULL) {
		free(st->name);
		free(st->value);
		return (MEMCACHED_MEMORY_ALLOCATION_FAILURE);
	}
	srv->nstats++;
	return (MEMCACHED_SUCCESS);
}

/*
 * Ask one server for its statistics through a handle that holds only
 * that server, so that a dead server costs its own lines and not the
 * others' (libmemcached's stat call gives up on the first failure).
 */
static memcached_return_t
server_stats(struct fsmc_call *call, const memcached_instance_st *server,
    struct fsmc_server *srv, int *errnum)
{
	const char *name = memcached_server_name(server);
	memcached_return_t rc;
	memcached_st *one;

	*errnum = 0;
	if ((one = memcached_clone(NULL, call->mc)) == NULL)
		return (MEMCACHED_MEMORY_ALLOCATION_FAILURE);
	memcached_servers_reset(one);
	if (strcmp(memcached_server_type(server), "SOCKET") == 0)
		rc = memcached_server_add_unix_socket(one, name);
	else
		rc = memcached_server_add(
		    one, name, memcached_server_port(server));
	if (rc == MEMCACHED_SUCCESS)
		rc = memcached_stat_execute(one, NULL, add_stat, srv);
	if (rc != MEMCACHED_SUCCESS)
		*errnum = memcached_last_error_errno(one);
	memcached_quit(one);
	memcached_free(one);
	return (rc);
}

/*
 * List the servers, without network traffic unless verbose.  With
 * verbose, a server that does not answer gets an error instead of its
 * statistics, the others are still listed in full, and the command
 * fails with the first server's error.
 */
enum fsmc_status
cmd_status(struct fsmc_call *call)
{
	struct fsmc_result *res = call->res;
	const memcached_instance_st *server;
	memcached_return_t rc, first = MEMCACHED_SUCCESS;
	struct fsmc_server *srv;
	char reason[128], label[300], firstlabel[300] = "";
	uint32_t i, n;
	int errnum, firsterr = 0, failed = 0;

	res->libversion = memcached_lib_version();
	res->verbose = call->a.verbose;
	n = memcached_server_count(call->mc);
	if (n == 0) {
		res->errtext = memcached_strerror(NULL, MEMCACHED_NO_SERVERS);
		return (fsmc_fail(
		    res, FSMC_EUNAVAIL, call->cmd->name, "no servers defined"));
	}
	if ((res->servers = calloc(n, sizeof *res->servers)) == NULL)
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	for (i = 0; i < n; i++) {
		server = memcached_server_instance_by_position(call->mc, i);
		srv = &res->servers[i];
		if ((srv->host = strdup(memcached_server_name(server))) == NULL)
			return (fsmc_fail(res, FSMC_EINTERNAL, call->cmd->name,
			    "out of memory"));
		srv->port = memcached_server_port(server);
		res->nservers++;
		if (!res->verbose)
			continue;
		rc = server_stats(call, server, srv, &errnum);
		if (rc == MEMCACHED_SUCCESS)
			continue;
		srv->error = memcached_strerror(NULL, rc);
		if (failed++ == 0) {
			first = rc;
			firsterr = errnum;
			fsmc_server_label(
			    server, firstlabel, sizeof firstlabel);
		}
	}
	if (failed == 0)
		return (FSMC_OK);
	fsmc_reason(first, firsterr, reason, sizeof reason);
	if (failed > 1)
		snprintf(label, sizeof label, " and %d more server%s",
		    failed - 1, failed > 2 ? "s" : "");
	else
		label[0] = '\0';
	return (fsmc_fail(res, fsmc_status_of(first), call->cmd->name,
	    "%s (%s)%s", reason, firstlabel, label));
}

/* health, an extension: status verbose, for front ends to judge. */
enum fsmc_status
cmd_health(struct fsmc_call *call)
{
	call->a.verbose = 1;
	return (cmd_status(call));
}
