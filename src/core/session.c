/* Sessions: many commands over the same connections, for batches. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fsmc-int.h"

/*
 * Move the lines lost with the connections of the session's link, which
 * are about to go, to the session's count for their servers.
 */
static void
collect_lost(struct fsmc_session *s)
{
	struct fsmc_pipe_lines *to;
	struct fsmc_conn *c;
	uint32_t i;

	for (i = 0; s->lost != NULL && i < s->link.nconns; i++) {
		c = &s->link.conns[i];
		if (c->pl.lost == 0)
			continue;
		to = &s->lost[c->sc - s->fc->settings.servers];
		if (to->lost == 0) {
			to->lost_rc = c->pl.lost_rc;
			memcpy(
			    to->lost_why, c->pl.lost_why, sizeof to->lost_why);
		}
		to->lost += c->pl.lost;
		c->pl.lost = 0;
	}
}

/* Connections, all closed, to the servers of the session's handle. */
static enum fsmc_status
new_link(struct fsmc_session *s, struct fsmc_result *res)
{
	uint32_t i;

	/* What the old connections hold is sent first. */
	for (i = 0; s->pipe && i < s->link.nconns; i++)
		fsmc_pipe_settle(&s->link.conns[i]);
	for (i = 0; i < s->link.nconns; i++)
		fsmc_conn_close(&s->link.conns[i]);
	collect_lost(s);
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
	s->lost = calloc(fc->settings.nservers + 1, sizeof *s->lost);
	if (s->failures == NULL || s->removed == NULL || s->lost == NULL) {
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
	fsmc_link_free(&s->link);
	if (s->proto != NULL && s->proto != s->fc->proto)
		memcached_free(s->proto);
	free(s->failures);
	free(s->removed);
	free(s->lost);
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
	if (++s->failures[i] >= (unsigned)st->failure_limit && live > 1)
		remove_server(s, (size_t)i, call->res);
}

static enum fsmc_status
exec_call(struct fsmc_session *s, struct fsmc_call *call)
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
 * The end of a word pipe_words() takes: bytes that neither splitting
 * (quotes, escapes) nor a key (spaces, control characters) treats
 * specially.
 */
static const char *
plain_end(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	while (*u > ' ' && *u != 0x7f && *u != '\\' && *u != '\'')
		u++;
	return ((const char *)u);
}

/*
 * Split a line of plain words separated by spaces, at most max of them,
 * without changing it: the words and lengths fsmc_split_line() would
 * give.  Returns the number of words, or -1 for a line it would treat
 * otherwise (quotes, escapes, "^^", white space first, too many words,
 * other bytes), which pipe_line() leaves to the full parser.
 */
static int
pipe_words(const char *line, const char **w, size_t *wl, int max)
{
	const char *p = line, *end;
	int n = 0;

	if (line[0] == '^' && line[1] == '^')
		return (-1);
	for (;;) {
		if ((end = plain_end(p)) == p || n == max)
			return (-1);
		w[n] = p;
		wl[n++] = (size_t)(end - p);
		for (p = end; *p == ' '; p++)
			;
		if (p == end && *p != '\0')
			break;
		if (*p == '\0' || p == end)
			return (n);
	}
	/* White space that ends the line, as from CR LF, is stripped. */
	for (; *p != '\0'; p++) {
		if (strchr(" \t\r\n\v", *p) == NULL)
			return (-1);
	}
	return (n);
}

/* A whole decimal number of at most max, digits only; -1 if not. */
static int64_t
pipe_number(const char *s, size_t len, int64_t max)
{
	int64_t v = 0;
	size_t i;

	if (len == 0 || len > 10)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v <= max ? v : -1);
}

/* Hexadecimal flags, with an optional 0x, of at most 8 digits; -1 if not. */
static int64_t
pipe_flags(const char *s, size_t len)
{
	int64_t v = 0;
	size_t i;
	int d;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 8)
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')
			d = (s[i] | 0x20) - 'a' + 10;
		else
			return (-1);
		v = v * 16 + d;
	}
	return (v);
}

/*
 * A --pipe line of the common shapes, written straight to its server's
 * connection: a set, add, replace or delete whose words are plain, with
 * an expiration of digits within 30 days (never a warning) and flags of
 * at most 8 hexadecimal digits, on a session without replicas or
 * failover.  Returns -1, having done nothing, for any other line: the
 * full parser then runs it, with the same result, or refuses it with
 * its message.
 */
static int
pipe_line(struct fsmc_session *s, const char *line, const void *value,
    size_t valuelen, struct fsmc_result *res)
{
	static const struct {
		const char *name;
		size_t len;
		enum fsmc_verb verb;
	} verbs[] = { { "set", 3, FSMC_V_SET }, { "add", 3, FSMC_V_ADD },
		{ "replace", 7, FSMC_V_REPLACE },
		{ "delete", 6, FSMC_V_DELETE } };
	const struct fsmc_settings *st = &s->fc->settings;
	const char *w[FSMC_MAX_TOKENS];
	size_t wl[FSMC_MAX_TOKENS], v;
	int64_t exptime = 0, flags = 0;
	struct fsmc_conn *c;
	struct fsmc_call call;
	memcached_return_t rc;
	int n, k;

	if (!s->pipe || st->replicas > 0 || st->remove_failed ||
	    s->link.nconns == 0 ||
	    (n = pipe_words(line, w, wl, FSMC_MAX_TOKENS)) < 2)
		return (-1);
	for (v = 0; v < sizeof verbs / sizeof verbs[0]; v++) {
		if (wl[0] == verbs[v].len &&
		    strncasecmp(w[0], verbs[v].name, wl[0]) == 0)
			break;
	}
	if (v == sizeof verbs / sizeof verbs[0] ||
	    wl[1] + s->fc->nslen > FSMC_KEY_MAX)
		return (-1);
	if (verbs[v].verb == FSMC_V_DELETE) {
		if (value != NULL || n != 2)
			return (-1);
		valuelen = 0;
	} else {
		k = 2;
		if (value == NULL) {
			if (n < 3)
				return (-1);
			value = w[2];
			valuelen = wl[2];
			k = 3;
		}
		if (n > k + 2 ||
		    (n > k &&
			(exptime = pipe_number(
			     w[k], wl[k], FSMC_RELATIVE_MAX)) < 0) ||
		    (n > k + 1 &&
			(flags = pipe_flags(w[k + 1], wl[k + 1])) < 0))
			return (-1);
	}
	c = &s->link.conns[fsmc_link_place(&s->link, w[1], wl[1])];
	rc = fsmc_pipe_store(c, verbs[v].verb, w[1], wl[1], value, valuelen,
	    (uint32_t)flags, exptime);
	s->used = 1;
	res->status = FSMC_OK;
	res->reply = FSMC_REPLY_OK;
	res->key = w[1];
	res->keylen = wl[1];
	res->msg[0] = res->warning[0] = '\0';
	res->errtext = NULL;
	res->command = verbs[v].name;
	if (rc != MEMCACHED_SUCCESS) {
		memset(&call, 0, sizeof call);
		call.cmd = fsmc_find_command(verbs[v].name);
		call.fc = s->fc;
		call.res = res;
		call.conn = c;
		call.a.key = w[1];
		call.a.keylen = wl[1];
		fsmc_fail_rc(&call, rc);
	}
	return (0);
}

/*
 * Run one line of a pipe session, as fsmc_split_line() and
 * fsmc_session_run() would, the common lines at a fraction of the cost.
 * The line may be split in place.  When the result is FSMC_OK it holds
 * nothing to free, and only status, reply, command, key (in the line),
 * keylen, errtext, msg and warning are set: res must have been cleared
 * before.
 */
enum fsmc_status
fsmc_session_pipe_line(struct fsmc_session *s, char *line, const void *value,
    size_t valuelen, struct fsmc_result *res)
{
	char *words[FSMC_MAX_TOKENS];
	int argc;

	if (pipe_line(s, line, value, valuelen, res) == 0)
		return (res->status);
	argc = fsmc_split_line(line, words, FSMC_MAX_TOKENS);
	return (fsmc_session_run(s, argc, words, value, valuelen, res));
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
		ready[nready].mc = s->proto;
		nready++;
	}
	cmd_get_many(&s->link, ready, nready);
	s->used = 1;
	free(calls);
	return (FSMC_OK);
}

/*
 * Send what a pipe session holds back, with barriers after it, waiting
 * only to write it.  A connection that fails loses the lines it had not
 * confirmed, which fsmc_session_lost() then tells.
 */
enum fsmc_status
fsmc_session_flush(struct fsmc_session *s, struct fsmc_result *res)
{
	uint32_t i;

	memset(res, 0, sizeof *res);
	for (i = 0; i < s->link.nconns; i++)
		fsmc_pipe_flush(&s->link.conns[i]);
	return (FSMC_OK);
}

/*
 * Send what a pipe session holds back and wait until every server has
 * read it, so that what follows, on any connection, sees its effects:
 * a barrier after all the others on each connection.  Fails when
 * servers refused some of the requests; the lines lost with a
 * connection are told by fsmc_session_lost().
 */
enum fsmc_status
fsmc_session_sync(struct fsmc_session *s, struct fsmc_result *res)
{
	unsigned long refused = 0;
	uint32_t i;

	memset(res, 0, sizeof *res);
	for (i = 0; i < s->link.nconns; i++)
		fsmc_pipe_settle(&s->link.conns[i]);
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
 * The lines of a pipe session lost with the connections to its i-th
 * configured server: held, or sent, but never confirmed by the server,
 * so that it may not have read them.  Returns how many, and then res
 * says so, why, and names the server, with the status of the failure;
 * -1 past the last server.
 */
long
fsmc_session_lost(struct fsmc_session *s, size_t i, struct fsmc_result *res)
{
	const struct fsmc_pipe_lines *pl;
	const struct fsmc_server_conf *sc;
	char where[300];
	uint32_t j;

	memset(res, 0, sizeof *res);
	if (i >= s->fc->settings.nservers)
		return (-1);
	for (j = 0; j < s->link.nconns; j++) {
		if (s->link.conns[j].pl.lost > 0)
			break;
	}
	if (j < s->link.nconns)
		collect_lost(s);
	pl = &s->lost[i];
	if (pl->lost == 0)
		return (0);
	sc = &s->fc->settings.servers[i];
	res->errtext = memcached_strerror(NULL, pl->lost_rc);
	fsmc_fail(res, fsmc_status_of(pl->lost_rc), NULL,
	    "%lu line%s lost with the connection: %s (%s)", pl->lost,
	    pl->lost > 1 ? "s" : "", pl->lost_why,
	    fsmc_address(sc->host, sc->port, where, sizeof where));
	return ((long)pl->lost);
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
