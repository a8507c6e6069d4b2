/* The connections of a call or a session, and one request with its reply. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsmc-int.h"

/* The configured server at a position of a placement handle. */
static const struct fsmc_server_conf *
conf_of(const struct fsmc_settings *st, const memcached_instance_st *server)
{
	size_t i;

	for (i = 0; i < st->nservers; i++) {
		if (strcmp(st->servers[i].host,
			memcached_server_name(server)) == 0 &&
		    (st->servers[i].socket ||
			st->servers[i].port == memcached_server_port(server)))
			return (&st->servers[i]);
	}
	return (NULL);
}

/*
 * Connections, all closed, to every server of place, by position.  The
 * handle only places keys: libmemcached never connects it.
 */
enum fsmc_status
fsmc_link_init(struct fsmc_link *l, struct fsmc *fc, memcached_st *place,
    struct fsmc_result *res)
{
	const struct fsmc_server_conf *sc;
	uint32_t i, n = memcached_server_count(place);

	memset(l, 0, sizeof *l);
	l->fc = fc;
	l->place = place;
	if (n == 0)
		return (FSMC_OK);
	if ((l->conns = calloc(n, sizeof *l->conns)) == NULL)
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	for (i = 0; i < n; i++) {
		sc = conf_of(&fc->settings,
		    memcached_server_instance_by_position(place, i));
		if (sc == NULL) {
			fsmc_link_free(l);
			return (fsmc_fail(res, FSMC_EINTERNAL, NULL,
			    "a server the configuration does not have"));
		}
		fsmc_conn_init(&l->conns[i], &fc->settings, sc, fc->cancel_fd);
		/* Failures here count towards skipping the server. */
		l->conns[i].owner = fc;
		l->nconns++;
	}
	return (FSMC_OK);
}

void
fsmc_link_free(struct fsmc_link *l)
{
	uint32_t i;

	for (i = 0; i < l->nconns; i++)
		fsmc_conn_free(&l->conns[i]);
	free(l->conns);
	l->conns = NULL;
	l->nconns = 0;
}

/* The position of the server a key goes to, as libmemcached places it. */
uint32_t
fsmc_link_place(const struct fsmc_link *l, const char *key, size_t keylen)
{
	if (l->nconns <= 1)
		return (0);
	return (memcached_generate_hash(l->place, key, keylen) % l->nconns);
}

/*
 * Requests without replies go out in writes of about this size, each
 * followed by a barrier.
 */
#define HOLD_BYTES 65536

/*
 * Add a barrier after the lines held on c, unless as many as c keeps are
 * in flight: the lines then wait for the next one.
 */
static int
pipe_mark(struct fsmc_conn *c)
{
	struct fsmc_pipe_lines *pl = &c->pl;
	struct fsmc_request rq;

	if (pl->nmarks == FSMC_PIPE_MARKS)
		return (0);
	memset(&rq, 0, sizeof rq);
	rq.verb = c->binary ? FSMC_V_NOOP : FSMC_V_VERSION;
	if (fsmc_wire_request(c, &rq) != 0)
		return (-1);
	pl->marks[(pl->first + pl->nmarks++) % FSMC_PIPE_MARKS] = pl->unmarked;
	pl->unmarked = 0;
	return (0);
}

/*
 * A request without a reply has joined those held back on c: count its
 * line, and once they fill a large write, send them with a barrier.  A
 * failure to send loses the lines not yet confirmed, this one too, and
 * the connection (see fsmc_conn_fail()) records how many and why: the
 * request itself was taken.
 */
static memcached_return_t
held(struct fsmc_conn *c, int line)
{
	c->quiet = 1;
	if (line) {
		c->pl.unconfirmed++;
		c->pl.unmarked++;
	}
	if (c->outlen < HOLD_BYTES)
		return (MEMCACHED_SUCCESS);
	if (pipe_mark(c) != 0)
		fsmc_conn_fail(c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, ENOMEM);
	else if (fsmc_conn_send(c, fsmc_now_ms() + c->st->io_ms) ==
	    MEMCACHED_SUCCESS)
		fsmc_conn_quiet_take(c);
	return (MEMCACHED_SUCCESS);
}

/*
 * A request without a reply joins those held back on the connection,
 * which go out together once they fill a large write.
 */
static memcached_return_t
hold(struct fsmc_conn *c, const struct fsmc_request *rq)
{
	memcached_return_t rc;

	if ((rc = fsmc_conn_open(c)) != MEMCACHED_SUCCESS)
		return (rc);
	if (fsmc_wire_request(c, rq) != 0)
		return (
		    fsmc_conn_fail(c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, 0));
	return (held(c, !rq->copy));
}

/* hold() for a store or delete of --pipe, written straight to c. */
memcached_return_t
fsmc_pipe_store(struct fsmc_conn *c, enum fsmc_verb verb, const char *key,
    size_t keylen, const void *value, size_t valuelen, uint32_t flags,
    int64_t exptime)
{
	memcached_return_t rc;

	if (c->fd < 0 && (rc = fsmc_conn_open(c)) != MEMCACHED_SUCCESS)
		return (rc);
	if (fsmc_wire_quiet_store(
		c, verb, key, keylen, value, valuelen, flags, exptime) != 0)
		return (
		    fsmc_conn_fail(c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, 0));
	return (held(c, 1));
}

/*
 * Send what is held back on c, with a barrier after the lines no
 * barrier follows yet, waiting only to write it: for input that pauses.
 */
void
fsmc_pipe_flush(struct fsmc_conn *c)
{
	if (c->fd < 0 || c->outlen == 0)
		return;
	if (c->pl.unmarked > 0 && pipe_mark(c) != 0) {
		fsmc_conn_fail(c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, ENOMEM);
		return;
	}
	if (fsmc_conn_send(c, fsmc_now_ms() + c->st->io_ms) ==
	    MEMCACHED_SUCCESS)
		fsmc_conn_quiet_take(c);
}

/*
 * Send what is held back on c with a barrier after it, and wait for the
 * replies of every barrier in flight: the lines held are then confirmed,
 * or, when the connection fails, lost (see fsmc_conn_fail()).
 */
memcached_return_t
fsmc_pipe_settle(struct fsmc_conn *c)
{
	memcached_return_t rc;

	if (c->fd < 0)
		return (MEMCACHED_SUCCESS);
	c->quiet = 1;
	if (c->pl.nmarks == FSMC_PIPE_MARKS) {
		if ((rc = fsmc_conn_send(c, fsmc_now_ms() + c->st->io_ms)) !=
			MEMCACHED_SUCCESS ||
		    (rc = fsmc_conn_quiet_wait(c, FSMC_PIPE_MARKS - 1)) !=
			MEMCACHED_SUCCESS)
			return (rc);
	}
	if (pipe_mark(c) != 0)
		return (fsmc_conn_fail(
		    c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, ENOMEM));
	if ((rc = fsmc_conn_send(c, fsmc_now_ms() + c->st->io_ms)) !=
	    MEMCACHED_SUCCESS)
		return (rc);
	return (fsmc_conn_quiet_wait(c, 0));
}

/*
 * Send one request on c and read its reply, within the I/O timeout
 * counted from the moment it is sent.  A kept connection holding bytes
 * nobody asked for is out of step with its server: it is opened anew.
 * One the server has closed since (a restart) gets one more try on a
 * new connection: a restarted server has lost what the first try might
 * have done, so no command is applied twice.
 */
memcached_return_t
fsmc_exchange(struct fsmc_conn *c, const struct fsmc_request *rq,
    struct fsmc_response *rp)
{
	memcached_return_t rc;
	int64_t deadline;
	int kept, tries = 0;

again:
	memset(rp, 0, sizeof *rp);
	if (rq->hold)
		return (rp->rc = hold(c, rq));
	if (fsmc_conn_pending(c))
		fsmc_conn_close(c);
	kept = c->fd >= 0;
	if ((rc = fsmc_conn_open(c)) != MEMCACHED_SUCCESS)
		return (rp->rc = rc);
	if (fsmc_wire_request(c, rq) != 0)
		return (rp->rc = fsmc_conn_fail(
			    c, MEMCACHED_MEMORY_ALLOCATION_FAILURE, 0));
	deadline = fsmc_now_ms() + c->st->io_ms;
	rc = fsmc_conn_send(c, deadline);
	if (rc == MEMCACHED_SUCCESS && rq->noreply)
		return (rp->rc = MEMCACHED_SUCCESS);
	if (rc == MEMCACHED_SUCCESS)
		rc = fsmc_wire_reply(c, rq, deadline, rp);
	if (rc == MEMCACHED_CONNECTION_FAILURE && kept && tries++ == 0)
		goto again;
	if (fsmc_conn_pending(c) && rc != MEMCACHED_PROTOCOL_ERROR) {
		free(rp->value);
		rp->value = NULL;
		rc = fsmc_conn_broken(c, "more than one reply to one request",
		    c->in + c->inpos, c->inend - c->inpos);
	}
	return (rp->rc = rc);
}

/*
 * The call's request on the server its key goes to, and with replicas
 * on the next servers too: a set or delete is copied there without
 * waiting, as libmemcached does.
 */
memcached_return_t
fsmc_call_exchange(struct fsmc_call *call, const struct fsmc_request *rq,
    struct fsmc_response *rp)
{
	struct fsmc_link *l = call->link;
	struct fsmc_request copy;
	struct fsmc_response ignored;
	uint32_t i, r, replicas = (uint32_t)call->fc->settings.replicas;
	memcached_return_t rc;

	i = fsmc_link_place(l, rq->key, rq->keylen);
	call->conn = &l->conns[i];
	rc = fsmc_exchange(call->conn, rq, rp);
	if (rc != MEMCACHED_SUCCESS ||
	    (rq->verb != FSMC_V_SET && rq->verb != FSMC_V_DELETE))
		return (rc);
	copy = *rq;
	copy.noreply = 1;
	copy.copy = 1;
	for (r = 1; r <= replicas && r < l->nconns; r++)
		fsmc_exchange(&l->conns[(i + r) % l->nconns], &copy, &ignored);
	return (rc);
}

/*
 * A request of verb for the call's key: with a pipe session's calls, one
 * that wants no reply and may wait in the buffer.
 */
void
fsmc_key_request(
    const struct fsmc_call *call, enum fsmc_verb verb, struct fsmc_request *rq)
{
	memset(rq, 0, sizeof *rq);
	rq->verb = verb;
	rq->key = call->a.key;
	rq->keylen = call->a.keylen;
	rq->noreply = rq->hold = call->pipe;
}

/*
 * The call's request, for a reply without a value: its code, and the
 * number a counter's carries in *number when that is not NULL.
 */
memcached_return_t
fsmc_call_run(
    struct fsmc_call *call, const struct fsmc_request *rq, uint64_t *number)
{
	struct fsmc_response rp;
	memcached_return_t rc;

	rc = fsmc_call_exchange(call, rq, &rp);
	free(rp.value);
	if (number != NULL)
		*number = rp.number;
	return (rc);
}

/*
 * Whether a server answers "version" in the text protocol on a new
 * connection of its own: tells a proxy that closes the connection on
 * what it cannot forward from a server that is down.
 */
memcached_return_t
fsmc_probe_text(struct fsmc *fc, const struct fsmc_server_conf *sc)
{
	struct fsmc_request rq;
	struct fsmc_response rp;
	struct fsmc_conn c;
	memcached_return_t rc;

	fsmc_conn_init(&c, &fc->settings, sc, fc->cancel_fd);
	c.binary = 0;
	memset(&rq, 0, sizeof rq);
	rq.verb = FSMC_V_VERSION;
	/* SASL needs the binary protocol, which a proxy may not speak. */
	rc = fsmc_exchange(&c, &rq, &rp);
	free(rp.value);
	fsmc_conn_free(&c);
	return (rc);
}
