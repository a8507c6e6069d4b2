/* The read commands: get and getflags, alone or many at once. */

#include <stdlib.h>
#include <string.h>

#include "fsmc-int.h"

/* The calls of one server's share of a multi-get, in the order asked. */
struct share {
	struct fsmc_conn *conn;
	size_t n;
	size_t *call;	   /* indices in the calls */
	const char **keys; /* their keys */
	size_t *lens;
	memcached_return_t rc; /* how the share went */
	int reused;	       /* its connection served earlier requests */
};

static void
deliver(struct fsmc_call *call, struct fsmc_response *rp)
{
	struct fsmc_result *res = call->res;

	res->value = rp->value;
	res->valuelen = rp->valuelen;
	res->flags = rp->flags;
	call->rc = MEMCACHED_END;
	rp->value = NULL;
}

/* Send one server's share of a multi-get. */
static memcached_return_t
send_share(struct share *sh, int64_t *deadline)
{
	memcached_return_t rc;

	if (fsmc_conn_pending(sh->conn))
		fsmc_conn_close(sh->conn);
	sh->reused = sh->conn->fd >= 0;
	if ((rc = fsmc_conn_open(sh->conn)) != MEMCACHED_SUCCESS)
		return (rc);
	if (fsmc_wire_mget(sh->conn, sh->keys, sh->lens, sh->n) != 0)
		return (fsmc_conn_fail(
		    sh->conn, MEMCACHED_MEMORY_ALLOCATION_FAILURE, 0));
	*deadline = fsmc_now_ms() + sh->conn->st->io_ms;
	return (fsmc_conn_send(sh->conn, *deadline));
}

/*
 * Read one server's share of the replies, in one forward pass: each item
 * goes to the call it answers.  Returns MEMCACHED_END when the reply
 * ended cleanly.
 */
static memcached_return_t
read_share(struct share *sh, struct fsmc_call *calls, int64_t deadline,
    size_t *delivered)
{
	struct fsmc_response rp;
	memcached_return_t rc;
	size_t cursor = 0, which;

	while ((rc = fsmc_wire_value(sh->conn, deadline, sh->keys, sh->lens,
		    sh->n, &cursor, &which, &rp)) == MEMCACHED_SUCCESS) {
		deliver(&calls[sh->call[which]], &rp);
		++*delivered;
	}
	if (rc == MEMCACHED_END && fsmc_conn_pending(sh->conn))
		rc = fsmc_conn_broken(sh->conn,
		    "more than one reply to one request",
		    sh->conn->in + sh->conn->inpos,
		    sh->conn->inend - sh->conn->inpos);
	return (rc);
}

/*
 * Ask one server for its share, and when a kept connection turns out
 * closed (a restarted server) before any item came, once more on a new
 * one.
 */
static void
run_share(struct share *sh, struct fsmc_call *calls)
{
	int64_t deadline = 0;
	size_t delivered = 0;
	int tries = 0;

	do {
		sh->rc = send_share(sh, &deadline);
		if (sh->rc == MEMCACHED_SUCCESS)
			sh->rc = read_share(sh, calls, deadline, &delivered);
	} while (sh->rc == MEMCACHED_CONNECTION_FAILURE && sh->reused &&
	    delivered == 0 && tries++ == 0);
}

/*
 * With replicas, a key whose server cannot be reached is read from the
 * next servers, in turn, as libmemcached does.
 */
static void
from_replicas(struct fsmc_link *l, struct fsmc_call *call, uint32_t first)
{
	uint32_t r, replicas = (uint32_t)call->fc->settings.replicas;
	struct fsmc_conn *saved = call->conn;
	struct share sh;
	size_t index = 0;

	memset(&sh, 0, sizeof sh);
	sh.n = 1;
	sh.call = &index;
	sh.keys = &call->a.key;
	sh.lens = &call->a.keylen;
	for (r = 1; r <= replicas && r < l->nconns; r++) {
		sh.conn = &l->conns[(first + r) % l->nconns];
		run_share(&sh, call);
		if (fsmc_status_of(sh.rc) != FSMC_EUNAVAIL) {
			call->conn = sh.conn;
			if (call->rc != MEMCACHED_END)
				call->rc = sh.rc == MEMCACHED_END ?
				    MEMCACHED_NOTFOUND :
				    sh.rc;
			return;
		}
	}
	call->conn = saved;
}

/*
 * Run n prepared get and getflags calls with one multi-get per server:
 * all servers are asked before any reply is read.  A pinned call asks
 * the server of its conn, and no replica.  A key a server did
 * not return is a miss only when its reply ended cleanly; otherwise the
 * call fails as its server did.
 */
enum fsmc_status
cmd_get_many(struct fsmc_link *l, struct fsmc_call *calls, size_t n)
{
	struct share *shares;
	size_t *index, i, k;
	const char **keys;
	size_t *lens;
	uint32_t s;

	if (n == 0)
		return (FSMC_OK);
	shares = calloc(l->nconns > 0 ? l->nconns : 1, sizeof *shares);
	index = calloc(n, sizeof *index);
	keys = calloc(n, sizeof *keys);
	lens = calloc(n, sizeof *lens);
	if (shares == NULL || index == NULL || keys == NULL || lens == NULL) {
		for (i = 0; i < n; i++)
			fsmc_fail(calls[i].res, FSMC_EINTERNAL,
			    calls[i].cmd->name, "out of memory");
		goto done;
	}
	if (l->nconns == 0) {
		for (i = 0; i < n; i++)
			fsmc_fail_rc(&calls[i], MEMCACHED_NO_SERVERS);
		goto done;
	}
	/* Each server's share is a run of the arrays, in input order. */
	for (i = 0; i < n; i++) {
		calls[i].link = l;
		calls[i].rc = MEMCACHED_SUCCESS;
		if (!calls[i].pinned)
			calls[i].conn = &l->conns[fsmc_link_place(
			    l, calls[i].a.key, calls[i].a.keylen)];
		shares[calls[i].conn - l->conns].n++;
	}
	for (s = 0, k = 0; s < l->nconns; s++) {
		shares[s].conn = &l->conns[s];
		shares[s].call = index + k;
		shares[s].keys = keys + k;
		shares[s].lens = lens + k;
		k += shares[s].n;
		shares[s].n = 0;
	}
	for (i = 0; i < n; i++) {
		s = (uint32_t)(calls[i].conn - l->conns);
		k = shares[s].n++;
		shares[s].call[k] = i;
		shares[s].keys[k] = calls[i].a.key;
		shares[s].lens[k] = calls[i].a.keylen;
	}
	for (s = 0; s < l->nconns; s++) {
		if (shares[s].n > 0)
			run_share(&shares[s], calls);
	}
	for (i = 0; i < n; i++) {
		s = (uint32_t)(calls[i].conn - l->conns);
		if (calls[i].rc != MEMCACHED_END && !calls[i].pinned &&
		    fsmc_status_of(shares[s].rc) == FSMC_EUNAVAIL &&
		    calls[i].fc->settings.replicas > 0)
			from_replicas(l, &calls[i], s);
		if (calls[i].rc == MEMCACHED_END) {
			calls[i].rc = MEMCACHED_SUCCESS;
			continue;
		}
		if (calls[i].res->status != FSMC_OK)
			continue;
		if (calls[i].rc != MEMCACHED_SUCCESS)
			fsmc_fail_rc(&calls[i], calls[i].rc);
		else if (shares[s].rc == MEMCACHED_END)
			fsmc_fail_rc(&calls[i], MEMCACHED_NOTFOUND);
		else
			fsmc_fail_rc(&calls[i], shares[s].rc);
	}
done:
	free(shares);
	free(index);
	free(keys);
	free(lens);
	return (FSMC_OK);
}

/*
 * getflags fetches the whole value too: the text protocol has no way to
 * ask for the flags alone.
 */
enum fsmc_status
cmd_get(struct fsmc_call *call)
{
	return (cmd_get_many(call->link, call, 1));
}
