/* Sessions: many commands over the same connections, for batches. */

#include <stdlib.h>
#include <string.h>

#include "fsmc-int.h"

static enum fsmc_status
new_connection(struct fsmc_session *s, struct fsmc_result *res)
{
	if (s->mc != NULL) {
		memcached_quit(s->mc);
		memcached_free(s->mc);
	}
	s->used = 0;
	if ((s->mc = memcached_clone(NULL, s->proto)) == NULL)
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	if (s->pipe &&
	    (memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_NOREPLY, 1) !=
		    MEMCACHED_SUCCESS ||
		memcached_behavior_set(s->mc,
		    MEMCACHED_BEHAVIOR_BUFFER_REQUESTS,
		    1) != MEMCACHED_SUCCESS))
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, NULL, "cannot buffer requests"));
	return (FSMC_OK);
}

/*
 * Open a session on fc.  With pipe, storage commands and deletes are
 * buffered and sent without waiting for replies (noreply), and other
 * commands are refused; fsmc_session_sync() then waits until the servers
 * have read everything.  libmemcached must have noreply whenever it
 * buffers: buffering alone trips an assertion after a few thousand
 * requests.
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
	s->proto = fc->proto;
	s->failures = calloc(fc->settings.nservers + 1, sizeof *s->failures);
	s->removed = calloc(fc->settings.nservers + 1, sizeof *s->removed);
	if (s->failures == NULL || s->removed == NULL) {
		fsmc_session_close(s);
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	}
	if (new_connection(s, res) != FSMC_OK) {
		fsmc_session_close(s);
		return (res->status);
	}
	*sp = s;
	return (FSMC_OK);
}

void
fsmc_session_close(struct fsmc_session *s)
{
	if (s == NULL)
		return;
	if (s->mc != NULL) {
		memcached_quit(s->mc);
		memcached_free(s->mc);
	}
	if (s->proto != NULL && s->proto != s->fc->proto)
		memcached_free(s->proto);
	free(s->failures);
	free(s->removed);
	free(s);
}

/*
 * Whether a failure says the connection broke, as when a server
 * restarted since the session last used it.  A timeout is not: trying
 * again would only double the wait.
 */
static int
broken_connection(memcached_return_t rc)
{
	switch (rc) {
	case MEMCACHED_CONNECTION_FAILURE:
	case MEMCACHED_WRITE_FAILURE:
	case MEMCACHED_READ_FAILURE:
	case MEMCACHED_UNKNOWN_READ_FAILURE:
	case MEMCACHED_ERRNO:
	case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
	case MEMCACHED_SERVER_MARKED_DEAD:
	case MEMCACHED_SOME_ERRORS:
		return (1);
	default:
		return (0);
	}
}

/* The index in the configuration of the server a key goes to, or -1. */
static int
server_of(struct fsmc_session *s, const struct fsmc_call *call)
{
	const struct fsmc_settings *st = &s->fc->settings;
	const memcached_instance_st *server;
	memcached_return_t rc;
	size_t i;

	if (call->a.key == NULL ||
	    (server = memcached_server_by_key(
		 s->mc, call->a.key, call->a.keylen, &rc)) == NULL)
		return (-1);
	for (i = 0; i < st->nservers; i++) {
		if (!s->removed[i] &&
		    strcmp(st->servers[i].host,
			memcached_server_name(server)) == 0 &&
		    st->servers[i].port == memcached_server_port(server))
			return ((int)i);
	}
	return (-1);
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
			new_connection(s, res);
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
	if (++s->failures[i] >= (unsigned)st->failure_limit && live > 1)
		remove_server(s, (size_t)i, call->res);
}

static enum fsmc_status
exec_call(struct fsmc_session *s, struct fsmc_call *call)
{
	const char *command = call->res->command;
	enum fsmc_reply reply = call->res->reply;

	call->mc = s->mc;
	call->cmd->exec(call);
	/*
	 * A connection that served earlier commands may have died since
	 * (a restarted memcached): reconnect and try once more.  A
	 * restarted server has lost what the first try might have done,
	 * so trying again cannot apply a command twice.
	 */
	if (call->res->status == FSMC_EUNAVAIL && s->used && !s->pipe &&
	    broken_connection(call->rc)) {
		fsmc_result_clear(call->res);
		call->res->command = command;
		call->res->reply = reply;
		call->rc = MEMCACHED_SUCCESS;
		if (new_connection(s, call->res) != FSMC_OK)
			return (call->res->status);
		call->mc = s->mc;
		call->cmd->exec(call);
	}
	s->used = 1;
	count_failure(s, call);
	if (call->res->status == FSMC_EUNAVAIL && broken_connection(call->rc))
		new_connection(s, call->res);
	return (call->res->status);
}

/* Like fsmc_run(), on the session's connections. */
enum fsmc_status
fsmc_session_run(struct fsmc_session *s, int argc, char **argv,
    const void *valuebuf, size_t valuelen, struct fsmc_result *res)
{
	struct fsmc_call call;

	if (fsmc_prepare(&call, s->fc, argc, argv, valuebuf, valuelen, res) !=
	    FSMC_OK)
		return (res->status);
	if (s->pipe && call.cmd->op != FSMC_SET && call.cmd->op != FSMC_ADD &&
	    call.cmd->op != FSMC_REPLACE && call.cmd->op != FSMC_DELETE)
		return (fsmc_fail(res, FSMC_EUSAGE, call.cmd->name,
		    "needs its reply, so it cannot be pipelined (only set, add, "
		    "replace and delete can)"));
	return (exec_call(s, &call));
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
			exec_call(s, &ready[nready]);
			continue;
		}
		nready++;
	}
	/* As for single commands: a stale connection gets one more try. */
	if (nready > 0 && s->used) {
		s->used = 0;
		if (memcached_version(s->mc) != MEMCACHED_SUCCESS)
			new_connection(s, &results[0]);
	}
	cmd_get_many(s->mc, ready, nready);
	s->used = 1;
	free(calls);
	return (FSMC_OK);
}

/* Send what a pipe session has buffered, without waiting for anything. */
enum fsmc_status
fsmc_session_flush(struct fsmc_session *s, struct fsmc_result *res)
{
	memcached_return_t rc;

	memset(res, 0, sizeof *res);
	if ((rc = memcached_flush_buffers(s->mc)) == MEMCACHED_SUCCESS)
		return (FSMC_OK);
	return (fsmc_fail(res, fsmc_status_of(rc), NULL,
	    "sending buffered commands: %s", memcached_strerror(NULL, rc)));
}

/*
 * Send what a pipe session has buffered and wait until every server has
 * read it, so that what follows, on any connection, sees its effects.
 * The barrier is a request with a reply after all the others on each
 * connection.  Only noreply is switched off for it: switching buffering
 * too would make libmemcached close the connections first, and the
 * barrier would go out on new ones.
 */
enum fsmc_status
fsmc_session_sync(struct fsmc_session *s, struct fsmc_result *res)
{
	memcached_return_t rc;

	memset(res, 0, sizeof *res);
	rc = memcached_flush_buffers(s->mc);
	if (rc == MEMCACHED_SUCCESS && s->pipe) {
		memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_NOREPLY, 0);
		rc = memcached_version(s->mc);
		memcached_behavior_set(s->mc, MEMCACHED_BEHAVIOR_NOREPLY, 1);
	}
	if (rc == MEMCACHED_SUCCESS)
		return (FSMC_OK);
	return (fsmc_fail(res, fsmc_status_of(rc), NULL,
	    "sending buffered commands: %s", memcached_strerror(NULL, rc)));
}

/*
 * After a pipelined load: read back the keys of n storage and delete
 * commands, given as words, with one multi-get.  Each result is FSMC_OK
 * when the server holds what the command left (the value and flags it
 * stored, or nothing after a delete), FSMC_NOTFOUND when a stored key is
 * missing, and FSMC_NOTSTORED when the server holds something else.
 * Commands that do not parse are left as their usage error.
 */
enum fsmc_status
fsmc_session_check(struct fsmc_session *s, size_t n, int *argcs, char ***argvs,
    struct fsmc_result *results)
{
	struct fsmc_call *stores, *gets;
	struct fsmc_result *got;
	const struct fsmc_cmd *get = fsmc_find_command("get");
	struct fsmc_result *r;
	size_t i, ngets = 0;
	int present;

	stores = calloc(n, sizeof *stores);
	gets = calloc(n, sizeof *gets);
	got = calloc(n, sizeof *got);
	if (stores == NULL || gets == NULL || got == NULL) {
		free(stores);
		free(gets);
		free(got);
		return (FSMC_EINTERNAL);
	}
	for (i = 0; i < n; i++) {
		if (fsmc_prepare(&stores[i], s->fc, argcs[i], argvs[i], NULL, 0,
			&results[i]) != FSMC_OK)
			continue;
		gets[ngets] = stores[i];
		gets[ngets].cmd = get;
		gets[ngets].res = &got[i];
		ngets++;
	}
	cmd_get_many(s->mc, gets, ngets);
	for (i = 0; i < n; i++) {
		r = &results[i];
		if (r->status != FSMC_OK)
			continue;
		present = got[i].status == FSMC_OK;
		if (got[i].status != FSMC_OK &&
		    got[i].status != FSMC_NOTFOUND) {
			r->status = got[i].status;
			r->errtext = got[i].errtext;
			memcpy(r->msg, got[i].msg, sizeof r->msg);
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
