/* Pipelines: a session's commands sent without waiting, their results taken
 * back in the order sent. */

#include <stdlib.h>
#include <string.h>

#include "fsmc-int.h"

/* Requests not yet sent go out once they fill a write this large. */
#define SEND_BYTES 65536
/* What ready() says when a stopping pipeline sends nothing more. */
#define STOPPED MEMCACHED_MAXIMUM_RETURN

/* A command sent, or its result waiting to be taken. */
struct pl_entry {
	struct fsmc_result res;
	struct fsmc_call call;
	uint32_t server; /* where its request went */
	int done;
};

/*
 * A request in flight on a connection, answered in the order sent.
 * Consecutive gets on a server share a multi-get: its first slot counts
 * them, and the reply is read for all of them in one forward pass.
 */
struct pl_slot {
	uint64_t seq;	     /* of its entry */
	enum fsmc_verb verb; /* what its reply answers */
	int copy;     /* a replica's copy: its reply is read and dropped, and
			 its entry may be taken before */
	int get;      /* one key of a multi-get */
	size_t group; /* on a multi-get's first slot: its keys */
	int64_t deadline; /* for its reply; 0 while it waits to be sent */
};

/* The requests in flight on one server's connection, a ring. */
struct pl_server {
	struct pl_slot *slots;
	size_t head, n;
	size_t sent;  /* of the n, those handed to the kernel */
	size_t nopen; /* the last gets, not yet written: a multi-get to be */
};

struct fsmc_pipeline {
	unsigned int window;	  /* requests in flight per server, at most */
	struct pl_entry *entries; /* a ring, in the order sent */
	size_t cap;		  /* results held, at most */
	/*
	 * The sizes of the rings of entries and of each server's slots:
	 * cap and window rounded up to a power of two, so that a mask finds
	 * a place in them, not a division, several times a line.
	 */
	size_t nentries, nslots;
	uint64_t first, next; /* the oldest entry held, and the next */
	struct pl_server *servers;
	uint32_t nservers;
	const char **keys; /* of one multi-get, window of them at most */
	size_t *lens, *which;
	int stop;   /* send nothing once a command has failed */
	int failed; /* one has: status FSMC_EUSAGE or worse */
};

static void drain(struct fsmc_session *);

static struct pl_entry *
entry_at(struct fsmc_pipeline *p, uint64_t seq)
{
	return (&p->entries[seq & (p->nentries - 1)]);
}

static void
free_servers(struct fsmc_pipeline *p)
{
	uint32_t i;

	for (i = 0; i < p->nservers; i++)
		free(p->servers[i].slots);
	free(p->servers);
	p->servers = NULL;
	p->nservers = 0;
}

/* The smallest power of two not below n. */
static size_t
power_of_two(size_t n)
{
	size_t p = 1;

	while (p < n)
		p <<= 1;
	return (p);
}

/*
 * The pipeline of s with a window of w, made when there is none.  A
 * result is held for each request the windows of every configured
 * server have room for: memory is bounded by the window, not the input.
 */
static struct fsmc_pipeline *
pipeline(struct fsmc_session *s, unsigned int w)
{
	struct fsmc_pipeline *p = s->pl;
	size_t servers = s->fc->settings.nservers;

	if (p != NULL)
		return (p);
	if ((p = calloc(1, sizeof *p)) == NULL)
		return (NULL);
	p->window = w;
	p->cap = (size_t)w * (servers > 0 ? servers : 1);
	p->nentries = power_of_two(p->cap);
	p->nslots = power_of_two(w);
	p->entries = calloc(p->nentries, sizeof *p->entries);
	p->keys = calloc(w, sizeof *p->keys);
	p->lens = calloc(w, sizeof *p->lens);
	p->which = calloc(w, sizeof *p->which);
	if (p->entries == NULL || p->keys == NULL || p->lens == NULL ||
	    p->which == NULL) {
		free(p->entries);
		free(p->keys);
		free(p->lens);
		free(p->which);
		free(p);
		return (NULL);
	}
	s->pl = p;
	return (p);
}

/*
 * Set the number of requests in flight per server of the session's
 * pipeline, from 1 to FSMC_WINDOW_MAX (FSMC_WINDOW by default), before
 * the first fsmc_session_send().  Returns -1 when it cannot be set (out
 * of memory, or commands already sent).
 */
int
fsmc_session_set_window(struct fsmc_session *s, unsigned int w)
{
	if (w < 1)
		w = 1;
	if (w > FSMC_WINDOW_MAX)
		w = FSMC_WINDOW_MAX;
	if (s->pl != NULL && s->pl->window == w)
		return (0);
	if (s->pl != NULL && s->pl->first != s->pl->next)
		return (-1);
	fsmc_pipeline_free(s);
	return (pipeline(s, w) == NULL ? -1 : 0);
}

void
fsmc_pipeline_free(struct fsmc_session *s)
{
	struct fsmc_pipeline *p = s->pl;

	if (p == NULL)
		return;
	/* Replicas' copies may still be in flight: they go out first. */
	drain(s);
	for (; p->first != p->next; p->first++)
		fsmc_result_clear(&entry_at(p, p->first)->res);
	free_servers(p);
	free(p->entries);
	free(p->keys);
	free(p->lens);
	free(p->which);
	free(p);
	s->pl = NULL;
	s->inflight = 0;
}

/* Rings for the servers of the session's link, which may have changed. */
static int
fit_servers(struct fsmc_session *s, struct fsmc_pipeline *p)
{
	uint32_t i, n = s->link.nconns;

	if (p->servers != NULL && p->nservers == n)
		return (0);
	free_servers(p);
	if (n == 0)
		return (0);
	if ((p->servers = calloc(n, sizeof *p->servers)) == NULL)
		return (-1);
	p->nservers = n;
	for (i = 0; i < n; i++) {
		p->servers[i].slots =
		    calloc(p->nslots, sizeof *p->servers[i].slots);
		if (p->servers[i].slots == NULL) {
			free_servers(p);
			return (-1);
		}
	}
	return (0);
}

static struct pl_slot *
slot_at(struct fsmc_pipeline *p, struct pl_server *sv, size_t k)
{
	return (&sv->slots[(sv->head + k) & (p->nslots - 1)]);
}

/* An entry's command is over: count a server's failure with it. */
static void
finish(struct fsmc_session *s, struct pl_entry *e)
{
	e->done = 1;
	if (e->res.status >= FSMC_EUSAGE)
		s->pl->failed = 1;
	fsmc_session_count(s, &e->call);
}

/*
 * The connection of server i failed with rc: every request in flight on
 * it failed too, as its reply can no longer be told from the others.
 */
static void
fail_all(struct fsmc_session *s, uint32_t i, memcached_return_t rc)
{
	struct fsmc_pipeline *p = s->pl;
	struct pl_server *sv = &p->servers[i];
	struct pl_slot *sl;
	struct pl_entry *e;

	for (; sv->n > 0; sv->n--, s->inflight--) {
		sl = slot_at(p, sv, 0);
		sv->head = (sv->head + 1) & (p->nslots - 1);
		if (sl->copy)
			continue;
		e = entry_at(p, sl->seq);
		e->call.conn = &s->link.conns[i];
		fsmc_fail_rc(&e->call, rc);
		finish(s, e);
	}
	sv->sent = sv->nopen = 0;
	fsmc_conn_close(&s->link.conns[i]);
}

/*
 * The keys of the n gets from the k-th slot of server i on, in
 * p->keys and p->lens.
 */
static void
group_keys(struct fsmc_pipeline *p, struct pl_server *sv, size_t k, size_t n)
{
	struct pl_entry *e;
	size_t j;

	for (j = 0; j < n; j++) {
		e = entry_at(p, slot_at(p, sv, k + j)->seq);
		p->keys[j] = e->call.a.key;
		p->lens[j] = e->call.a.keylen;
	}
}

/* Write the gets waiting on server i as one multi-get. */
static int
write_gets(struct fsmc_session *s, uint32_t i)
{
	struct fsmc_pipeline *p = s->pl;
	struct pl_server *sv = &p->servers[i];
	size_t k = sv->n - sv->nopen;

	if (sv->nopen == 0)
		return (0);
	group_keys(p, sv, k, sv->nopen);
	slot_at(p, sv, k)->group = sv->nopen;
	if (fsmc_wire_mget(&s->link.conns[i], p->keys, p->lens, sv->nopen) !=
	    0) {
		fail_all(s, i, MEMCACHED_MEMORY_ALLOCATION_FAILURE);
		return (-1);
	}
	sv->nopen = 0;
	return (0);
}

/* Send what waits on server i's connection; each reply is due io_ms on. */
static int
flush(struct fsmc_session *s, uint32_t i)
{
	struct pl_server *sv = &s->pl->servers[i];
	struct fsmc_conn *c = &s->link.conns[i];
	memcached_return_t rc = MEMCACHED_SUCCESS;
	int64_t deadline;

	if (sv->sent == sv->n)
		return (0);
	if (write_gets(s, i) != 0)
		return (-1);
	deadline = fsmc_now_ms() + c->st->io_ms;
	if (c->fd < 0)
		rc = MEMCACHED_CONNECTION_FAILURE;
	else if (c->outlen > 0)
		rc = fsmc_conn_send(c, deadline);
	if (rc != MEMCACHED_SUCCESS) {
		fail_all(s, i, rc);
		return (-1);
	}
	for (; sv->sent < sv->n; sv->sent++)
		slot_at(s->pl, sv, sv->sent)->deadline = deadline;
	return (0);
}

/*
 * Read the reply of the multi-get whose first slot is server i's oldest,
 * in one forward pass, and give each of its entries its result.  A key
 * the reply did not hold is a miss only when the reply ended cleanly;
 * an error reply of the binary protocol still ends with the noop's.
 */
static void
read_gets(struct fsmc_session *s, uint32_t i, int64_t deadline)
{
	struct fsmc_pipeline *p = s->pl;
	struct pl_server *sv = &p->servers[i];
	struct fsmc_conn *c = &s->link.conns[i];
	struct fsmc_response rp;
	memcached_return_t rc, first = MEMCACHED_END;
	struct pl_slot *sl = slot_at(p, sv, 0);
	struct pl_entry *e;
	size_t n = sl->group, cursor = 0, which, j;

	group_keys(p, sv, 0, n);
	for (j = 0; j < n; j++)
		p->which[j] = 0;
	for (;;) {
		rc = fsmc_wire_value(
		    c, deadline, p->keys, p->lens, n, &cursor, &which, &rp);
		if (rc == MEMCACHED_SUCCESS) {
			e = entry_at(p, slot_at(p, sv, which)->seq);
			e->res.value = rp.value;
			e->res.valuelen = rp.valuelen;
			e->res.flags = rp.flags;
			p->which[which] = 1;
			continue;
		}
		if (rc == MEMCACHED_END || c->fd < 0 || !c->binary)
			break;
		if (first == MEMCACHED_END)
			first = rc;
	}
	if (c->fd < 0) {
		for (j = 0; j < n; j++) {
			e = entry_at(p, slot_at(p, sv, j)->seq);
			free(e->res.value);
			e->res.value = NULL;
		}
		fail_all(s, i, rc);
		return;
	}
	if (rc == MEMCACHED_END)
		rc = first;
	for (j = 0; j < n; j++) {
		e = entry_at(p, slot_at(p, sv, 0)->seq);
		sv->head = (sv->head + 1) & (p->nslots - 1);
		sv->n--;
		sv->sent--;
		s->inflight--;
		e->call.conn = c;
		if (!p->which[j])
			fsmc_fail_rc(&e->call,
			    rc == MEMCACHED_END ? MEMCACHED_NOTFOUND : rc);
		finish(s, e);
	}
}

/*
 * Read the reply to the oldest request in flight on server i and give
 * its entry the result.  A reply that breaks the connection fails every
 * request in flight on it.
 */
static void
complete_one(struct fsmc_session *s, uint32_t i)
{
	struct fsmc_pipeline *p = s->pl;
	struct pl_server *sv = &p->servers[i];
	struct fsmc_conn *c = &s->link.conns[i];
	struct fsmc_request rq;
	struct fsmc_response rp;
	memcached_return_t rc;
	struct pl_slot *sl;
	struct pl_entry *e;
	int64_t deadline;

	if (sv->n == 0)
		return;
	/* Before a wait for the server, send it what waits. */
	if ((sv->sent == 0 || c->inpos == c->inend) && flush(s, i) != 0)
		return;
	sl = slot_at(p, sv, 0);
	/*
	 * A deadline that passed while the batch waited on another server:
	 * a reply already there came in time, and is read.
	 */
	deadline = sl->deadline;
	if (deadline <= fsmc_now_ms() && fsmc_conn_readable(c))
		deadline = fsmc_now_ms() + c->st->io_ms;
	if (sl->get) {
		read_gets(s, i, deadline);
		return;
	}
	memset(&rq, 0, sizeof rq);
	rq.verb = sl->verb;
	rc = fsmc_wire_reply(c, &rq, deadline, &rp);
	if (c->fd < 0) {
		free(rp.value);
		fail_all(s, i, rc);
		return;
	}
	sv->head = (sv->head + 1) & (p->nslots - 1);
	sv->n--;
	sv->sent--;
	s->inflight--;
	if (sl->copy) {
		free(rp.value);
		return;
	}
	e = entry_at(p, sl->seq);
	e->call.conn = c;
	free(rp.value);
	if (rq.verb != FSMC_V_DELETE && rq.verb != FSMC_V_TOUCH)
		rc = fsmc_store_rc(e->call.cmd->op, rc);
	if (rc != MEMCACHED_SUCCESS)
		fsmc_fail_rc(&e->call, rc);
	finish(s, e);
}

/* Read every reply in flight, on every server. */
static void
drain(struct fsmc_session *s)
{
	struct fsmc_pipeline *p = s->pl;
	uint32_t i;

	for (i = 0; i < p->nservers; i++) {
		while (p->servers[i].n > 0)
			complete_one(s, i);
	}
}

/*
 * Whether a command goes into the pipeline: one request on one key with
 * one reply.  Counters are not (a missing one is made in two steps that
 * later lines must not overtake), nor gets with replicas (a server that
 * fails is read from the next ones, in turn), nor a delete with a delay
 * (refused before anything is sent).
 */
static int
pipelined(const struct fsmc_session *s, const struct fsmc_call *call)
{
	if (s->link.nconns == 0)
		return (0);
	switch (call->cmd->op) {
	case FSMC_SET:
	case FSMC_ADD:
	case FSMC_REPLACE:
	case FSMC_APPEND:
	case FSMC_PREPEND:
	case FSMC_TOUCH:
		return (1);
	case FSMC_DELETE:
		return (call->a.expiration == 0);
	case FSMC_GET:
	case FSMC_GETFLAGS:
		return (s->fc->settings.replicas == 0);
	default:
		return (0);
	}
}

/*
 * Make sure server i's connection is open and has room for one more
 * request.  A kept connection with nothing in flight that the server
 * closed meanwhile (a restart, an idle timeout) is opened anew before
 * anything is sent on it, so no line is ever sent twice.
 */
static memcached_return_t
ready(struct fsmc_session *s, uint32_t i)
{
	struct pl_server *sv = &s->pl->servers[i];
	struct fsmc_conn *c = &s->link.conns[i];
	memcached_return_t rc;

	while (sv->n >= s->pl->window)
		complete_one(s, i);
	if (s->pl->stop && s->pl->failed)
		return (STOPPED);
	if (sv->n == 0 && c->fd >= 0 && fsmc_conn_readable(c))
		fsmc_conn_close(c);
	if (c->fd >= 0)
		return (MEMCACHED_SUCCESS);
	if ((rc = fsmc_conn_open(c)) == MEMCACHED_SUCCESS)
		fsmc_conn_nodelay(c);
	return (rc);
}

/* Count a request, written on server i's connection, for entry seq. */
static void
add_slot(struct fsmc_session *s, uint32_t i, uint64_t seq, int copy,
    enum fsmc_verb verb)
{
	struct pl_server *sv = &s->pl->servers[i];
	struct pl_slot *sl;
	int get = verb == FSMC_V_GET;

	sl = slot_at(s->pl, sv, sv->n);
	sl->seq = seq;
	sl->verb = verb;
	sl->copy = copy;
	sl->get = get;
	sl->group = 0;
	sl->deadline = 0;
	sv->n++;
	s->inflight++;
	s->used = 1;
	/*
	 * Half a window goes out at once (of gets, as one multi-get), so
	 * that the server works on one half while the replies of the other
	 * are read.
	 */
	if (get)
		sv->nopen++;
	if (sv->n - sv->sent >= (s->pl->window + 1) / 2 ||
	    s->link.conns[i].outlen >= SEND_BYTES)
		flush(s, i);
}

/*
 * Write a request other than a get on server i's connection, after the
 * gets before it.  A failure fails what is in flight.
 */
static int
put_request(struct fsmc_session *s, uint32_t i, const struct fsmc_request *rq)
{
	if (write_gets(s, i) != 0)
		return (-1);
	if (fsmc_wire_request(&s->link.conns[i], rq) == 0)
		return (0);
	fail_all(s, i, MEMCACHED_MEMORY_ALLOCATION_FAILURE);
	return (-1);
}

/*
 * Send e's request, and with replicas its copies on the next servers.
 * Returns -1 when a command before it failed while making room, and a
 * stopping pipeline sends nothing more.
 */
static int
send_entry(struct fsmc_session *s, struct pl_entry *e, uint64_t seq)
{
	struct fsmc_link *l = &s->link;
	struct fsmc_request rq;
	memcached_return_t rc;
	uint32_t i, r, replicas = (uint32_t)s->fc->settings.replicas;

	i = fsmc_link_place(l, e->call.a.key, e->call.a.keylen);
	e->server = i;
	e->call.conn = &l->conns[i];
	e->call.link = l;
	if ((rc = ready(s, i)) == STOPPED)
		return (-1);
	if (rc != MEMCACHED_SUCCESS) {
		fsmc_fail_rc(&e->call, rc);
		finish(s, e);
		return (0);
	}
	/* A get waits to be written with those after it, as one multi-get. */
	if (fsmc_op_verb(e->call.cmd->op) == FSMC_V_GET) {
		add_slot(s, i, seq, 0, FSMC_V_GET);
		return (0);
	}
	fsmc_call_request(&e->call, &rq);
	rq.noreply = rq.hold = 0;
	if (put_request(s, i, &rq) != 0) {
		e->call.conn = NULL;
		fsmc_fail_rc(&e->call, MEMCACHED_MEMORY_ALLOCATION_FAILURE);
		finish(s, e);
		return (0);
	}
	add_slot(s, i, seq, 0, rq.verb);
	if (rq.verb != FSMC_V_SET && rq.verb != FSMC_V_DELETE)
		return (0);
	for (r = 1; r <= replicas && r < l->nconns; r++) {
		i = (e->server + r) % l->nconns;
		if (ready(s, i) == MEMCACHED_SUCCESS &&
		    put_request(s, i, &rq) == 0)
			add_slot(s, i, seq, 1, rq.verb);
	}
	return (0);
}

/*
 * The words of a command, copied into one allocation that its result
 * keeps (res->words): the result outlives the caller's line.
 */
static char **
copy_words(int argc, char **argv, char **blockp, char **words)
{
	size_t len = 0, lens[FSMC_MAX_TOKENS];
	char *block;
	int k;

	for (k = 0; k < argc; k++)
		len += lens[k] = strlen(argv[k]) + 1;
	if ((block = malloc(len > 0 ? len : 1)) == NULL)
		return (NULL);
	for (k = 0, len = 0; k < argc; k++) {
		memcpy(block + len, argv[k], lens[k]);
		words[k] = block + len;
		len += lens[k];
	}
	*blockp = block;
	return (words);
}

/*
 * Send a command, given as words, without waiting for its reply: its
 * result comes from fsmc_session_receive(), in the order sent.  A
 * command that is not one request on one key (status, flush, keys,
 * increment...) first waits for every reply in flight, then runs as
 * fsmc_session_run() runs it.  Returns 0 when the command was taken, 1
 * when its result is known already (it never reached a server, or ran
 * at once), -1 when the session holds as many results as it may (or is
 * out of memory): receive one first; and -2, taking nothing, once a
 * command has failed in a session that stops on errors.  value
 * (valuelen bytes) is copied before the call returns.
 */
int
fsmc_session_send(struct fsmc_session *s, int argc, char **argv,
    const void *value, size_t valuelen)
{
	struct fsmc_pipeline *p;
	struct fsmc_result dummy;
	char *words[FSMC_MAX_TOKENS + 1], *block = NULL, **wv;
	struct pl_entry *e;
	uint64_t seq;
	int r = 0;

	if ((p = pipeline(s, FSMC_WINDOW)) == NULL)
		return (-1);
	if (p->stop && p->failed)
		return (-2);
	if (p->next - p->first >= p->cap)
		return (-1);
	if (argc < 1 || argc > FSMC_MAX_TOKENS)
		wv = argv;
	else if ((wv = copy_words(argc, argv, &block, words)) == NULL)
		return (-1);
	if (s->remove_pending > 0) {
		drain(s);
		memset(&dummy, 0, sizeof dummy);
		fsmc_session_remove_pending(s, &dummy);
	}
	if (fit_servers(s, p) != 0) {
		free(block);
		return (-1);
	}
	seq = p->next++;
	e = entry_at(p, seq);
	/* fsmc_prepare() clears the result and the call. */
	e->done = 0;
	e->server = 0;
	if (fsmc_prepare(&e->call, s->fc, argc, wv, value, valuelen, &e->res) ==
		FSMC_OK &&
	    pipelined(s, &e->call))
		r = send_entry(s, e, seq);
	else if (e->res.status == FSMC_OK) {
		drain(s);
		if (p->stop && p->failed)
			r = -1;
		else {
			/* It counts its server's failures itself. */
			fsmc_session_exec(s, &e->call);
			e->done = 1;
			p->failed |= e->res.status >= FSMC_EUSAGE;
		}
	} else
		finish(s, e);
	if (r != 0) {
		/* A command before it failed: it was not sent. */
		fsmc_result_clear(&e->res);
		free(block);
		p->next--;
		return (-2);
	}
	e->res.words = block;
	return (e->done ? 1 : 0);
}

/*
 * Make fsmc_session_send() take no more commands once one has failed
 * (status FSMC_EUSAGE or worse), as a batch that stops on errors wants:
 * the commands sent after it, before its failure was known, still have
 * their results.
 */
void
fsmc_session_stop_on_error(struct fsmc_session *s, int stop)
{
	if (pipeline(s, FSMC_WINDOW) != NULL)
		s->pl->stop = stop;
}

/*
 * Take the result of the oldest command sent and not yet received into
 * res, which the caller then clears.  With wait, read replies until it
 * is there; without, only a result already known is taken.  Returns 1
 * when res holds a result, 0 when there is none (yet).
 */
int
fsmc_session_receive(struct fsmc_session *s, int wait, struct fsmc_result *res)
{
	struct fsmc_pipeline *p = s->pl;
	struct pl_entry *e;

	if (p == NULL || p->first == p->next)
		return (0);
	e = entry_at(p, p->first);
	if (!e->done && !wait)
		return (0);
	while (!e->done) {
		/* Never so, but a wait for nothing would be endless. */
		if (e->server >= p->nservers || p->servers[e->server].n == 0) {
			fsmc_fail(&e->res, FSMC_EINTERNAL, e->res.command,
			    "its request was lost");
			e->done = 1;
			break;
		}
		complete_one(s, e->server);
	}
	/* The entry's result is the caller's now; sending clears it. */
	fsmc_result_move(res, &e->res);
	p->first++;
	return (1);
}

/* Read every reply in flight: the session's connections are then idle. */
void
fsmc_pipeline_wait(struct fsmc_session *s)
{
	if (s->pl != NULL)
		drain(s);
}
