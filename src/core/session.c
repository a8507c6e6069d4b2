/* Sessions: many commands over the same connections, for batches. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsmc-int.h"

/* Connections, all closed, to the servers of the session's handle. */
static enum fsmc_status
new_link(struct fsmc_session *s, struct fsmc_result *res)
{
	uint32_t i;

	fsmc_link_free(&s->link);
	s->used = 0;
	if (fsmc_link_init(&s->link, s->fc, s->proto, res) != FSMC_OK)
		return (res->status);
	for (i = 0; i < s->link.nconns; i++)
		s->link.conns[i].value_max = s->value_max;
	return (FSMC_OK);
}

/*
 * Open a session on fc.  With pipe, storage commands and deletes are
 * sent without waiting for replies (noreply), in large writes, and
 * other commands are refused; fsmc_session_sync() then waits until the
 * servers have read everything.
 */
enum fsmc_status
fsmc_session_open(struct fsmc *fc, int pipe, struct fsmc_session **sp,
    struct fsmc_result *res)
{
	struct fsmc_session *s;

	memset(res, 0, sizeof *res);
	*sp = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	s->fc = fc;
	s->pipe = pipe;
	s->value_max = FSMC_VALUE_MAX;
	s->proto = fc->proto;
	s->failures = calloc(fc->settings.nservers + 1, sizeof *s->failures);
	s->removed = calloc(fc->settings.nservers + 1, sizeof *s->removed);
	if (s->failures == NULL || s->removed == NULL) {
		fsmc_session_close(s);
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	}
	if (new_link(s, res) != FSMC_OK) {
		fsmc_session_close(s);
		return (res->status);
	}
	*sp = s;
	return (FSMC_OK);
}

/*
 * Refuse, in the session's replies, a value longer than max bytes (at
 * most and by default 1 GiB), unread: the command fails with "ITEM TOO
 * BIG" and a message giving both lengths, and the connection is closed.
 * For a front end that keeps a value whole in memory.
 */
void
fsmc_session_set_value_max(struct fsmc_session *s, size_t max)
{
	uint32_t i;

	s->value_max = max > 0 && max < FSMC_VALUE_MAX ? max : FSMC_VALUE_MAX;
	for (i = 0; i < s->link.nconns; i++)
		s->link.conns[i].value_max = s->value_max;
}

void
fsmc_session_close(struct fsmc_session *s)
{
	if (s == NULL)
		return;
	fsmc_pipeline_free(s);
	fsmc_link_free(&s->link);
	if (s->proto != NULL && s->proto != s->fc->proto)
		memcached_free(s->proto);
	free(s->failures);
	free(s->removed);
	free(s);
}

/* The index in the configuration of the server a call went to, or -1. */
static int
server_of(struct fsmc_session *s, const struct fsmc_call *call)
{
	if (call->conn == NULL)
		return (-1);
	return ((int)(call->conn->sc - s->fc->settings.servers));
}

/*
 * Take server i out of the session: a handle of the configuration
 * without it (and without those taken out before), on which keys are
 * spread over the others.
 */
static void
remove_server(struct fsmc_session *s, size_t i, struct fsmc_result *res)
{
	const struct fsmc_settings *st = &s->fc->settings;
	struct fsmc_settings rest = *st;
	struct fsmc_server_conf *live;
	struct fsmc_result err;
	memcached_st *proto = NULL;
	size_t j, n = 0;

	if ((live = calloc(st->nservers, sizeof *live)) == NULL)
		return;
	s->removed[i] = 1;
	for (j = 0; j < st->nservers; j++) {
		if (!s->removed[j])
			live[n++] = st->servers[j];
	}
	rest.servers = live;
	rest.nservers = n;
	memset(&err, 0, sizeof err);
	if (n > 0 && (proto = memcached_create(NULL)) != NULL) {
		if (fsmc_settings_apply(&rest, proto, &err) == FSMC_OK) {
			if (s->proto != s->fc->proto)
				memcached_free(s->proto);
			s->proto = proto;
			new_link(s, res);
		} else
			memcached_free(proto);
	}
	if (s->proto != proto)
		s->removed[i] = 0;
	free(live);
}

/*
 * remove_failed_servers: count the failures of each server in a row,
 * and take it out of the session after failure_limit of them.
 * libmemcached 1.1 does this only for ketama, and a handle cloned for
 * each command would forget the count.
 */
static void
count_failure(struct fsmc_session *s, const struct fsmc_call *call)
{
	const struct fsmc_settings *st = &s->fc->settings;
	enum fsmc_status status = call->res->status;
	size_t j, live = 0;
	int i;

	if (!st->remove_failed || (i = server_of(s, call)) < 0)
		return;
	if (status != FSMC_EUNAVAIL) {
		s->failures[i] = 0;
		return;
	}
	for (j = 0; j < st->nservers; j++)
		live += !s->removed[j];
	if (++s->failures[i] < (unsigned)st->failure_limit || live <= 1)
		return;
	/*
	 * A pipeline's connections may have requests in flight: it takes
	 * the server out once they are read, before its next command.
	 */
	if (s->pl != NULL)
		s->remove_pending = (size_t)i + 1;
	else
		remove_server(s, (size_t)i, call->res);
}

/* count_failure() for a command of the pipeline. */
void
fsmc_session_count(struct fsmc_session *s, const struct fsmc_call *call)
{
	count_failure(s, call);
}

/* Take out the server count_failure() left for when nothing is in flight. */
void
fsmc_session_remove_pending(struct fsmc_session *s, struct fsmc_result *res)
{
	size_t i = s->remove_pending;

	s->remove_pending = 0;
	if (i > 0 && s->inflight == 0 && !s->removed[i - 1])
		remove_server(s, i - 1, res);
}

enum fsmc_status
fsmc_session_exec(struct fsmc_session *s, struct fsmc_call *call)
{
	call->mc = s->proto;
	call->link = &s->link;
	call->pipe = s->pipe;
	call->cmd->exec(call);
	s->used = 1;
	count_failure(s, call);
	return (call->res->status);
}

/* Like fsmc_run(), on the session's connections. */
enum fsmc_status
fsmc_session_run(struct fsmc_session *s, int argc, char **argv,
    const void *valuebuf, size_t valuelen, struct fsmc_result *res)
{
	struct fsmc_call call;

	fsmc_pipeline_wait(s);
	if (fsmc_prepare(&call, s->fc, argc, argv, valuebuf, valuelen, res) !=
	    FSMC_OK)
		return (res->status);
	if (s->pipe && call.cmd->op != FSMC_SET && call.cmd->op != FSMC_ADD &&
	    call.cmd->op != FSMC_REPLACE && call.cmd->op != FSMC_DELETE)
		return (fsmc_fail(res, FSMC_EUSAGE, call.cmd->name,
		    "needs its reply, so it cannot be pipelined (only set, add, "
		    "replace and delete can)"));
	return (fsmc_session_exec(s, &call));
}

/*
 * Run n commands, each given as words, that are all get or getflags,
 * with one multi-get.  Each result is what fsmc_session_run() would give.
 */
enum fsmc_status
fsmc_session_run_gets(struct fsmc_session *s, size_t n, int *argcs,
    char ***argvs, struct fsmc_result *results)
{
	struct fsmc_call *calls, *ready;
	size_t i, nready = 0;

	if ((calls = calloc(n, sizeof *calls)) == NULL) {
		for (i = 0; i < n; i++) {
			memset(&results[i], 0, sizeof results[i]);
			fsmc_fail(
			    &results[i], FSMC_EINTERNAL, NULL, "out of memory");
		}
		return (FSMC_EINTERNAL);
	}
	ready = calls;
	for (i = 0; i < n; i++) {
		if (fsmc_prepare(&ready[nready], s->fc, argcs[i], argvs[i],
			NULL, 0, &results[i]) != FSMC_OK)
			continue;
		if (ready[nready].cmd->op != FSMC_GET &&
		    ready[nready].cmd->op != FSMC_GETFLAGS) {
			fsmc_session_exec(s, &ready[nready]);
			continue;
		}
		ready[nready].mc = s->proto;
		nready++;
	}
	cmd_get_many(&s->link, ready, nready);
	s->used = 1;
	free(calls);
	return (FSMC_OK);
}

/* A failure of c while it sends what a pipe session held back. */
static enum fsmc_status
pipe_failed(
    struct fsmc_result *res, const struct fsmc_conn *c, memcached_return_t rc)
{
	char reason[256], where[300];

	fsmc_conn_reason(c, rc, reason, sizeof reason);
	res->errtext = memcached_strerror(NULL, rc);
	return (fsmc_fail(res, fsmc_status_of(rc), NULL,
	    "sending buffered commands: %s (%s)", reason,
	    fsmc_address(c->sc->host, c->sc->port, where, sizeof where)));
}

/* Send what a pipe session holds back, waiting only to write it. */
enum fsmc_status
fsmc_session_flush(struct fsmc_session *s, struct fsmc_result *res)
{
	struct fsmc_conn *c;
	memcached_return_t rc;
	uint32_t i;

	memset(res, 0, sizeof *res);
	for (i = 0; i < s->link.nconns; i++) {
		c = &s->link.conns[i];
		if (c->fd < 0 || c->outlen == 0)
			continue;
		if ((rc = fsmc_conn_send(c, fsmc_now_ms() + c->st->io_ms)) !=
		    MEMCACHED_SUCCESS)
			return (pipe_failed(res, c, rc));
	}
	return (FSMC_OK);
}

/*
 * Send what a pipe session holds back and wait until every server has
 * read it, so that what follows, on any connection, sees its effects:
 * a request with a reply after all the others on each connection.
 */
enum fsmc_status
fsmc_session_sync(struct fsmc_session *s, struct fsmc_result *res)
{
	memcached_return_t rc;
	unsigned long refused = 0;
	uint32_t i;

	memset(res, 0, sizeof *res);
	for (i = 0; i < s->link.nconns; i++) {
		if (s->link.conns[i].fd < 0)
			continue;
		if ((rc = fsmc_conn_barrier(&s->link.conns[i])) !=
		    MEMCACHED_SUCCESS)
			return (pipe_failed(res, &s->link.conns[i], rc));
	}
	for (i = 0; i < s->link.nconns; i++)
		refused += s->link.conns[i].refused;
	if (refused > 0) {
		res->errtext = memcached_strerror(NULL, MEMCACHED_SERVER_ERROR);
		return (fsmc_fail(res, FSMC_ESERVER, NULL,
		    "%lu pipelined command%s failed on the server", refused,
		    refused > 1 ? "s" : ""));
	}
	return (FSMC_OK);
}

/*
 * After a pipelined load: read back the keys of n storage and delete
 * commands, given as words, with one multi-get.  Each result is FSMC_OK
 * when the server holds what the command left (the value and flags it
 * stored, or nothing after a delete), FSMC_NOTFOUND when a stored key is
 * missing, FSMC_NOTSTORED when the server holds something else, and the
 * failure of the read-back when the key could not be read: then the
 * message names the command and key, and why.  Commands that do not
 * parse are left as their usage error.  The caller passes each key once,
 * with the command that has the final word on it.
 */
enum fsmc_status
fsmc_session_check(struct fsmc_session *s, size_t n, int *argcs, char ***argvs,
    struct fsmc_result *results)
{
	return (
	    fsmc_session_check_values(s, n, argcs, argvs, NULL, NULL, results));
}

/*
 * The same, where a command whose values[i] is not NULL has that value
 * (of valuelens[i] bytes), not among its words, as with -x.
 */
enum fsmc_status
fsmc_session_check_values(struct fsmc_session *s, size_t n, int *argcs,
    char ***argvs, const char *const *values, const size_t *valuelens,
    struct fsmc_result *results)
{
	struct fsmc_call *stores, *gets;
	struct fsmc_result *got;
	const struct fsmc_cmd *get = fsmc_find_command("get");
	struct fsmc_result *r;
	const char *why;
	size_t i, ngets = 0;
	int present;

	stores = calloc(n, sizeof *stores);
	gets = calloc(n, sizeof *gets);
	got = calloc(n, sizeof *got);
	if (stores == NULL || gets == NULL || got == NULL) {
		free(stores);
		free(gets);
		free(got);
		for (i = 0; i < n; i++) {
			memset(&results[i], 0, sizeof results[i]);
			fsmc_fail(&results[i], FSMC_EINTERNAL, NULL,
			    "could not be read back: out of memory");
		}
		return (FSMC_EINTERNAL);
	}
	for (i = 0; i < n; i++) {
		if (fsmc_prepare(&stores[i], s->fc, argcs[i], argvs[i],
			values != NULL ? values[i] : NULL,
			values != NULL ? valuelens[i] : 0,
			&results[i]) != FSMC_OK)
			continue;
		gets[ngets] = stores[i];
		gets[ngets].cmd = get;
		gets[ngets].res = &got[i];
		ngets++;
	}
	for (i = 0; i < ngets; i++)
		gets[i].mc = s->proto;
	cmd_get_many(&s->link, gets, ngets);
	for (i = 0; i < n; i++) {
		r = &results[i];
		if (r->status != FSMC_OK)
			continue;
		present = got[i].status == FSMC_OK;
		if (got[i].status != FSMC_OK &&
		    got[i].status != FSMC_NOTFOUND) {
			/* "get KEY: why": keys hold no space. */
			why = strstr(got[i].msg, ": ");
			r->errtext = got[i].errtext;
			fsmc_fail(r, got[i].status, NULL,
			    "%s %s: could not be read back: %s", r->command,
			    stores[i].a.key,
			    why != NULL ? why + 2 : got[i].msg);
		} else if (stores[i].cmd->op == FSMC_DELETE) {
			if (present)
				fsmc_fail(r, FSMC_NOTSTORED, NULL,
				    "%s %s: still there after the load",
				    r->command, stores[i].a.key);
		} else if (!present)
			fsmc_fail(r, FSMC_NOTFOUND, NULL,
			    "%s %s: missing after the load", r->command,
			    stores[i].a.key);
		else if (got[i].valuelen != stores[i].a.valuelen ||
		    got[i].flags != stores[i].a.flags ||
		    (got[i].valuelen > 0 &&
			memcmp(got[i].value, stores[i].a.value,
			    got[i].valuelen) != 0))
			fsmc_fail(r, FSMC_NOTSTORED, NULL,
			    "%s %s: the server holds another value", r->command,
			    stores[i].a.key);
		fsmc_result_clear(&got[i]);
	}
	for (i = 0; i < n; i++)
		fsmc_result_clear(&got[i]);
	free(stores);
	free(gets);
	free(got);
	return (FSMC_OK);
}
