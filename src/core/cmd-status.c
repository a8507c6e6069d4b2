/* The status command: library version, servers and their statistics. */

#include <errno.h>
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
 * A new handle with the settings of mc and only one of its servers, to
 * ask that server alone, with errors of its own; NULL when out of
 * memory.
 */
memcached_st *
fsmc_one_server(memcached_st *mc, const memcached_instance_st *server)
{
	const char *name = memcached_server_name(server);
	memcached_return_t rc;
	memcached_st *one;

	if ((one = memcached_clone(NULL, mc)) == NULL)
		return (NULL);
	memcached_servers_reset(one);
	if (strcmp(memcached_server_type(server), "SOCKET") == 0)
		rc = memcached_server_add_unix_socket(one, name);
	else
		rc = memcached_server_add(
		    one, name, memcached_server_port(server));
	if (rc != MEMCACHED_SUCCESS) {
		memcached_free(one);
		return (NULL);
	}
	return (one);
}

/*
 * What went wrong on the one server of a handle made by fsmc_one_server()
 * after a call that returned rc, or MEMCACHED_SUCCESS: libmemcached
 * reports the failed reply of a binary flush, or the end of a stats
 * reply cut short, only on the server.
 */
memcached_return_t
fsmc_server_failure(memcached_st *one, memcached_return_t rc)
{
	memcached_return_t why;

	why = memcached_server_error_return(
	    memcached_server_instance_by_position(one, 0));
	if (why != MEMCACHED_SUCCESS)
		return (why);
	if (rc == MEMCACHED_SOME_ERRORS &&
	    memcached_last_error(one) != MEMCACHED_SUCCESS)
		return (memcached_last_error(one));
	return (rc);
}

/*
 * Whether the one server of a handle made by fsmc_one_server(), on which
 * command failed with why, is up but would not do it: it answered with
 * an error, or it closed the connection without a word yet answers
 * "version" in the text protocol on a new one.  twemproxy does that
 * with flush_all and stats, which it does not forward, and with
 * anything in the binary protocol, which it does not speak.  If so,
 * sets the -ERR text and a reason and returns 1; else returns 0.
 */
int
fsmc_refused(memcached_st *one, memcached_return_t why, const char *command,
    const char **errtext, char *reason, size_t len)
{
	int errnum = memcached_last_error_errno(one);
	memcached_return_t rc;
	memcached_st *probe;
	char what[128];
	int binary;

	switch (fsmc_status_of(why)) {
	case FSMC_EDATA:
	case FSMC_ESERVER:
		fsmc_reason(why, errnum, what, sizeof what);
		*errtext = memcached_strerror(NULL, MEMCACHED_NOT_SUPPORTED);
		snprintf(
		    reason, len, "the server refused %s: %s", command, what);
		return (1);
	case FSMC_EUNAVAIL:
		break;
	default:
		return (0);
	}
	if ((why != MEMCACHED_CONNECTION_FAILURE &&
		why != MEMCACHED_READ_FAILURE &&
		why != MEMCACHED_UNKNOWN_READ_FAILURE &&
		why != MEMCACHED_WRITE_FAILURE) ||
	    (errnum != 0 && errnum != ECONNRESET && errnum != EPIPE))
		return (0);
	binary = memcached_behavior_get(
		     one, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL) != 0;
	if ((probe = memcached_clone(NULL, one)) == NULL)
		return (0);
	rc = memcached_behavior_set(
	    probe, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 0);
	if (rc == MEMCACHED_SUCCESS)
		rc = memcached_version(probe);
	memcached_quit(probe);
	memcached_free(probe);
	if (rc != MEMCACHED_SUCCESS)
		return (0);
	if (binary) {
		*errtext = memcached_strerror(NULL, MEMCACHED_PROTOCOL_ERROR);
		snprintf(reason, len,
		    "the binary protocol is not supported: the server closed "
		    "the connection, yet answers the text protocol, as a "
		    "proxy such as twemproxy does");
	} else {
		*errtext = memcached_strerror(NULL, MEMCACHED_NOT_SUPPORTED);
		snprintf(reason, len,
		    "%s is not supported: the server closed the connection "
		    "without a reply, as a proxy such as twemproxy does",
		    command);
	}
	return (1);
}

/*
 * How a command on a handle made by fsmc_one_server() went: FSMC_OK, or
 * the status of its failure, with the -ERR text and a reason set.  A
 * server that refuses the command (see fsmc_refused()) is a server
 * error; one that does not answer is unavailable.
 */
enum fsmc_status
fsmc_one_server_failed(memcached_st *one, memcached_return_t rc,
    const char *command, const char **errtext, char *reason, size_t len)
{
	memcached_return_t why = fsmc_server_failure(one, rc);
	enum fsmc_status status;

	if (why == MEMCACHED_SUCCESS)
		return (FSMC_OK);
	if (fsmc_refused(one, why, command, errtext, reason, len))
		return (FSMC_ESERVER);
	*errtext = memcached_strerror(NULL, why);
	fsmc_reason(why, memcached_last_error_errno(one), reason, len);
	status = fsmc_status_of(why);
	return (status == FSMC_OK ? FSMC_ESERVER : status);
}

/*
 * Ask one server for its statistics through a handle that holds only
 * that server, so that a dead server costs its own lines and not the
 * others' (libmemcached's stat call gives up on the first failure).
 * On failure, sets the server's error and the reason.
 */
static enum fsmc_status
server_stats(struct fsmc_call *call, const memcached_instance_st *server,
    struct fsmc_server *srv, char *reason, size_t len)
{
	enum fsmc_status status = FSMC_OK;
	memcached_return_t rc;
	memcached_st *one;

	if ((one = fsmc_one_server(call->mc, server)) == NULL) {
		srv->error = memcached_strerror(
		    NULL, MEMCACHED_MEMORY_ALLOCATION_FAILURE);
		snprintf(reason, len, "out of memory");
		return (FSMC_EINTERNAL);
	}
	rc = memcached_stat_execute(one, NULL, add_stat, srv);
	/* The library's stat call reports no failure past "version". */
	status =
	    fsmc_one_server_failed(one, rc, "stats", &srv->error, reason, len);
	memcached_quit(one);
	memcached_free(one);
	return (status);
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
	enum fsmc_status s, first = FSMC_OK;
	struct fsmc_server *srv;
	char reason[256], why[256] = "", label[300], firstlabel[300] = "";
	uint32_t i, n;
	int failed = 0;

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
		s = server_stats(call, server, srv, reason, sizeof reason);
		if (s == FSMC_OK)
			continue;
		if (failed++ == 0) {
			first = s;
			snprintf(why, sizeof why, "%s", reason);
			fsmc_server_label(
			    server, firstlabel, sizeof firstlabel);
		}
	}
	if (failed == 0)
		return (FSMC_OK);
	if (failed > 1)
		snprintf(label, sizeof label, " and %d more server%s",
		    failed - 1, failed > 2 ? "s" : "");
	else
		label[0] = '\0';
	return (fsmc_fail(
	    res, first, call->cmd->name, "%s (%s)%s", why, firstlabel, label));
}

/* health, an extension: status verbose, for front ends to judge. */
enum fsmc_status
cmd_health(struct fsmc_call *call)
{
	call->a.verbose = 1;
	return (cmd_status(call));
}
