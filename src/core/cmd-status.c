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

/* Add a statistic to a server's; -1 when out of memory. */
static int
add_stat(struct fsmc_server *srv, const struct fsmc_stat_line *sl)
{
	struct fsmc_stat *stats, *st;

	/* Room for 64, then doubled when full: a long reply costs no more. */
	if (srv->nstats == 0 ||
	    (srv->nstats >= 64 && (srv->nstats & (srv->nstats - 1)) == 0)) {
		stats = realloc(srv->stats,
		    (srv->nstats == 0 ? 64 : srv->nstats * 2) * sizeof *stats);
		if (stats == NULL)
			return (-1);
		srv->stats = stats;
	}
	st = &srv->stats[srv->nstats];
	st->name = copy_bytes(sl->name, sl->namelen);
	st->value = copy_bytes(sl->value, sl->valuelen);
	if (st->name == NULL || st->value == NULL) {
		free(st->name);
		free(st->value);
		return (-1);
	}
	srv->nstats++;
	return (0);
}

/*
 * Read the lines of one stats reply on c into srv, *count of them so
 * far: MEMCACHED_END once the reply ended cleanly.
 */
memcached_return_t
fsmc_server_read_stats(struct fsmc_conn *c, int64_t deadline,
    struct fsmc_server *srv, size_t *count)
{
	struct fsmc_stat_line sl = { 0 };
	memcached_return_t rc;

	while ((rc = fsmc_wire_stat(c, deadline, count, &sl)) ==
	    MEMCACHED_SUCCESS) {
		if (add_stat(srv, &sl) != 0)
			rc = fsmc_conn_fail(
			    c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, 0);
	}
	free(sl.body);
	return (rc);
}

/*
 * Whether a server, on which command failed with rc, is up but would
 * not do it: it answered with an error, or it closed the connection
 * without a word yet answers "version" in the text protocol on a new
 * one.  twemproxy does that with flush_all and stats, which it does not
 * forward, and with anything in the binary protocol, which it does not
 * speak.  If so, sets the -ERR text and a reason and returns 1.
 */
static int
refused(struct fsmc *fc, struct fsmc_conn *c, memcached_return_t rc,
    const char *command, const char **errtext, char *reason, size_t len)
{
	char what[128];

	switch (fsmc_status_of(rc)) {
	case FSMC_EDATA:
	case FSMC_ESERVER:
		if (rc == MEMCACHED_PROTOCOL_ERROR)
			return (0);
		fsmc_reason(rc, c->errnum, what, sizeof what);
		*errtext = memcached_strerror(NULL, MEMCACHED_NOT_SUPPORTED);
		snprintf(
		    reason, len, "the server refused %s: %s", command, what);
		return (1);
	case FSMC_EUNAVAIL:
		break;
	default:
		return (0);
	}
	if (rc != MEMCACHED_CONNECTION_FAILURE ||
	    (c->errnum != 0 && c->errnum != ECONNRESET && c->errnum != EPIPE))
		return (0);
	if (fsmc_probe_text(fc, c->sc) != MEMCACHED_SUCCESS)
		return (0);
	if (c->binary) {
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
 * How a command that asked one server went: FSMC_OK, or the status of
 * its failure, with the -ERR text and a reason set.  A server that
 * refuses the command (see refused()) is a server error; one that does
 * not answer is unavailable.
 */
enum fsmc_status
fsmc_one_server_failed(struct fsmc *fc, struct fsmc_conn *c,
    memcached_return_t rc, const char *command, const char **errtext,
    char *reason, size_t len)
{
	enum fsmc_status status;

	if (rc == MEMCACHED_SUCCESS)
		return (FSMC_OK);
	if (refused(fc, c, rc, command, errtext, reason, len))
		return (FSMC_ESERVER);
	*errtext = memcached_strerror(NULL, rc);
	fsmc_conn_reason(c, rc, reason, len);
	status = fsmc_status_of(rc);
	return (status == FSMC_OK ? FSMC_ESERVER : status);
}

/* Free the statistics of a server, keeping the server. */
void
fsmc_server_drop_stats(struct fsmc_server *srv)
{
	while (srv->nstats > 0) {
		srv->nstats--;
		free(srv->stats[srv->nstats].name);
		free(srv->stats[srv->nstats].value);
	}
	free(srv->stats);
	srv->stats = NULL;
}

/* total_malloced of a "stats slabs" reply, or -1 if it has none. */
static memcached_return_t
slab_total(struct fsmc_conn *c, int64_t deadline, long long *malloced)
{
	struct fsmc_stat_line sl = { 0 };
	memcached_return_t rc;
	size_t count = 0;
	char digits[24];
	char *end;

	*malloced = -1;
	while ((rc = fsmc_wire_stat(c, deadline, &count, &sl)) ==
	    MEMCACHED_SUCCESS) {
		if (sl.namelen != strlen("total_malloced") ||
		    memcmp(sl.name, "total_malloced", sl.namelen) != 0 ||
		    sl.valuelen == 0 || sl.valuelen >= sizeof digits)
			continue;
		memcpy(digits, sl.value, sl.valuelen);
		digits[sl.valuelen] = '\0';
		errno = 0;
		*malloced = strtoll(digits, &end, 10);
		if (*end != '\0' || errno != 0 || *malloced < 0 ||
		    digits[0] < '0' || digits[0] > '9')
			*malloced = -1;
	}
	free(sl.body);
	return (rc);
}

/*
 * Ask the part's server for its statistics into srv, on a connection of
 * its own, so that a dead server costs its own lines and not the
 * others'.  With malloced, "stats slabs" follows in the same write, for
 * its total_malloced.  The whole reply has one deadline and at most
 * FSMC_STATS_MAX lines.  On failure, sets the server's error and the
 * part's.
 */
void
fsmc_server_stats(struct fsmc_call *call, struct fsmc_part *p,
    struct fsmc_server *srv, long long *malloced)
{
	struct fsmc_conn *c = &call->link->conns[p->i];
	struct fsmc_request rq = { 0 }, slabs = { 0 };
	enum fsmc_status s;
	memcached_return_t rc;
	int64_t deadline;
	size_t count = 0;
	char reason[256];

	rq.verb = slabs.verb = FSMC_V_STATS;
	slabs.arg = "slabs";
	if ((rc = fsmc_conn_open(c)) == MEMCACHED_SUCCESS) {
		if (fsmc_wire_request(c, &rq) != 0 ||
		    (malloced != NULL && fsmc_wire_request(c, &slabs) != 0))
			rc = fsmc_conn_fail(
			    c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, 0);
		deadline = fsmc_now_ms() + c->st->io_ms;
		if (rc == MEMCACHED_SUCCESS)
			rc = fsmc_conn_send(c, deadline);
		if (rc == MEMCACHED_SUCCESS)
			rc = fsmc_server_read_stats(c, deadline, srv, &count);
		if (rc == MEMCACHED_END && malloced != NULL)
			rc = slab_total(c, deadline, malloced);
		if (rc == MEMCACHED_END)
			rc = MEMCACHED_SUCCESS;
	}
	fsmc_conn_close(c);
	/* Statistics cut short would pass for the whole: only the error. */
	if (rc != MEMCACHED_SUCCESS)
		fsmc_server_drop_stats(srv);
	s = fsmc_one_server_failed(
	    call->fc, c, rc, "stats", &srv->error, reason, sizeof reason);
	if (s != FSMC_OK)
		fsmc_part_failed(p, s, srv->error, c->sc, "%s", reason);
}

/*
 * The library version and the servers, by position, without their
 * statistics.
 */
enum fsmc_status
fsmc_list_servers(struct fsmc_call *call)
{
	struct fsmc_result *res = call->res;
	const memcached_instance_st *server;
	struct fsmc_server *srv;
	uint32_t i, n;

	res->libversion = memcached_lib_version();
	n = call->link->nconns;
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
	}
	return (FSMC_OK);
}

static void
status_part(struct fsmc_part *p)
{
	struct fsmc_call *call = p->arg;

	fsmc_server_stats(call, p, &call->res->servers[p->i], NULL);
}

/*
 * List the servers, without network traffic unless verbose.  With
 * verbose, every server is asked at once; one that does not answer gets
 * an error instead of its statistics, the others are still listed in
 * full, and the command fails with the first server's error.
 */
enum fsmc_status
cmd_status(struct fsmc_call *call)
{
	struct fsmc_failures failed = { 0 };

	call->res->verbose = call->a.verbose;
	if (fsmc_list_servers(call) != FSMC_OK || !call->res->verbose)
		return (call->res->status);
	if (fsmc_fanout(call, (uint32_t)call->res->nservers, status_part, call,
		&failed) != FSMC_OK)
		return (call->res->status);
	return (fsmc_failures_result(call, &failed));
}
