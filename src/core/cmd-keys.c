/* keys, an extension: list keys with memcached's lru_crawler metadump, and
 * the listing that dump reads. */

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsmc-int.h"

/*
 * libmemcached has no call for metadump (its dump uses "stats
 * cachedump", which misses keys on memcached 1.5 and later); the engine
 * speaks it in the text protocol, on a connection of its own.  For keys
 * the whole dump has the I/O timeout as its deadline, even while lines
 * keep coming, and at most FSMC_KEYS_MAX distinct keys are kept; dump,
 * which bounds what it keeps itself, only needs lines to keep coming.
 */

/* How long to wait for a crawler another client has running. */
#define BUSY_TRIES 40
#define BUSY_WAIT_MS 50

/* How many lines of a dump between looks at the clock. */
#define CLOCK_LINES 1024

/* Why a dump failed, in the words of other messages. */
static const char *
reason(memcached_return_t rc, int err)
{
	if (rc == MEMCACHED_TIMEOUT)
		return (err == EINTR ? "interrupted" : "timed out");
	if (rc == MEMCACHED_HOST_LOOKUP_FAILURE)
		return ("host not found");
	if (rc == MEMCACHED_PROTOCOL_ERROR)
		return ("protocol error");
	switch (err) {
	case ECONNREFUSED:
		return ("connection refused");
	case ECONNRESET:
		return ("connection reset");
	case ENOENT:
		return ("no such socket");
	case EHOSTUNREACH:
		return ("host unreachable");
	case ENETUNREACH:
		return ("network unreachable");
	default:
		return (rc == MEMCACHED_CONNECTION_FAILURE && err == 0 ?
			"connection reset" :
			"connection failure");
	}
}

/* Decode %XX escapes in place (metadump URL-encodes keys). */
static size_t
url_decode(char *s)
{
	char *in = s, *out = s, hex[3] = { 0, 0, 0 };

	while (*in != '\0') {
		if (in[0] == '%' && in[1] != '\0' && in[2] != '\0') {
			hex[0] = in[1];
			hex[1] = in[2];
			*out++ = (char)strtol(hex, NULL, 16);
			in += 3;
		} else
			*out++ = *in++;
	}
	*out = '\0';
	return ((size_t)(out - s));
}

static const char *
field(const char *line, const char *name)
{
	const char *p = line;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[n] == '=')
			return (p + n + 1);
		p += n;
	}
	return (NULL);
}

/*
 * The keys listed so far, by name, so that a key that several servers
 * hold (replicas) is listed once, found in constant time however long
 * the listing: open addressing over res->keys, each slot 1 + an index
 * in it, 0 for none.  FNV-1a is no defence against names chosen to
 * collide, but each dump's deadline bounds what they can cost.
 */
struct keyset {
	uint32_t *slots;
	size_t mask; /* the number of slots less one, a power of two */
	size_t room; /* holders a key has room for at first: 1 + replicas */
};

static size_t
hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return ((size_t)h);
}

/* The slot of a key: where it is, or the free one where it would go. */
static uint32_t *
slot(const struct keyset *ks, const struct fsmc_result *res, const char *key,
    size_t len)
{
	const struct fsmc_key *k;
	size_t i;

	for (i = hash(key, len) & ks->mask;; i = (i + 1) & ks->mask) {
		if (ks->slots[i] == 0)
			return (&ks->slots[i]);
		k = &res->keys[ks->slots[i] - 1];
		if (k->len == len && memcmp(k->name, key, len) == 0)
			return (&ks->slots[i]);
	}
}

/* Make room for one more key: at most half the slots are taken. */
static int
grow(struct keyset *ks, const struct fsmc_result *res)
{
	struct keyset bigger = *ks;
	size_t i;

	if (ks->slots != NULL && (res->nkeys + 1) * 2 <= ks->mask + 1)
		return (0);
	bigger.mask = ks->slots == NULL ? 1023 : ks->mask * 2 + 1;
	if ((bigger.slots = calloc(bigger.mask + 1, sizeof *bigger.slots)) ==
	    NULL)
		return (-1);
	for (i = 0; i < res->nkeys; i++)
		*slot(&bigger, res, res->keys[i].name, res->keys[i].len) =
		    (uint32_t)(i + 1);
	free(ks->slots);
	*ks = bigger;
	return (0);
}

/* Where a key's servers start in its allocation: after the name. */
static size_t
holders_at(size_t len)
{
	return ((len + sizeof(uint32_t)) / sizeof(uint32_t) * sizeof(uint32_t));
}

/*
 * Add server which to those that hold k.  A key has room for as many as
 * replicas make; one on more servers (copies another configuration
 * left) grows by one each time.
 */
static int
add_holder(struct fsmc_key *k, uint32_t which, size_t room)
{
	size_t at = holders_at(k->len);
	char *block;

	/* A server that lists a key twice holds it once. */
	if (k->servers[k->nservers - 1] == which)
		return (0);
	if (k->nservers >= room) {
		if ((block = realloc(k->name,
			 at + (k->nservers + 1) * sizeof *k->servers)) == NULL)
			return (-1);
		k->name = block;
		k->servers = (uint32_t *)(void *)(block + at);
	}
	k->servers[k->nservers++] = which;
	return (0);
}

/*
 * Keep a key that server which listed: a new key within the limits, or
 * one more server for a key listed before.  Returns 0, -2 past the
 * limits, -3 out of memory.
 */
static int
keep(struct fsmc_call *call, struct keyset *ks, uint32_t which, const char *key,
    size_t len, long long exp, unsigned long long size)
{
	struct fsmc_result *res = call->res;
	struct fsmc_key *keys, *k;
	uint32_t *s;
	size_t cap, at = holders_at(len);

	if (grow(ks, res) != 0)
		return (-3);
	s = slot(ks, res, key, len);
	if (*s != 0)
		return (add_holder(&res->keys[*s - 1], which, ks->room) != 0 ?
			-3 :
			0);
	if (res->nkeys >= FSMC_KEYS_MAX ||
	    call->keybytes + len + 1 > FSMC_KEYS_BYTES)
		return (-2);
	if (res->nkeys == res->keycap) {
		cap = res->keycap == 0 ? 256 : res->keycap * 2;
		if ((keys = realloc(res->keys, cap * sizeof *keys)) == NULL)
			return (-3);
		res->keys = keys;
		res->keycap = cap;
	}
	k = &res->keys[res->nkeys];
	if ((k->name = malloc(at + ks->room * sizeof *k->servers)) == NULL)
		return (-3);
	memcpy(k->name, key, len);
	k->name[len] = '\0';
	k->len = len;
	k->servers = (uint32_t *)(void *)(k->name + at);
	k->servers[0] = which;
	k->nservers = 1;
	k->exp = exp;
	k->size = size;
	call->keybytes += len + 1;
	*s = (uint32_t)++res->nkeys;
	return (0);
}

/*
 * keys --big: a server's largest keys so far, at most the count asked,
 * as a heap whose root is the one to go first: the smallest, and of
 * equal sizes the last by name.
 */
struct heap {
	struct fsmc_key *k;
	size_t n, cap;
};

/* Whether a comes before b in a list of the largest: larger, or first by
 * name. */
static int
before(const struct fsmc_key *a, const struct fsmc_key *b)
{
	int c;

	if (a->size != b->size)
		return (a->size > b->size);
	c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);
	return (c != 0 ? c < 0 : a->len < b->len);
}

static void
sift_down(struct heap *h, size_t i)
{
	struct fsmc_key t;
	size_t c;

	for (; (c = 2 * i + 1) < h->n; i = c) {
		if (c + 1 < h->n && before(&h->k[c], &h->k[c + 1]))
			c++;
		if (!before(&h->k[i], &h->k[c]))
			break;
		t = h->k[i];
		h->k[i] = h->k[c];
		h->k[c] = t;
	}
}

static void
sift_up(struct heap *h, size_t i)
{
	struct fsmc_key t;

	for (; i > 0 && before(&h->k[(i - 1) / 2], &h->k[i]); i = (i - 1) / 2) {
		t = h->k[i];
		h->k[i] = h->k[(i - 1) / 2];
		h->k[(i - 1) / 2] = t;
	}
}

/* Offer a key to the heap of server which.  Returns 0, or -3 out of
 * memory. */
static int
heap_offer(struct heap *h, uint32_t which, const char *key, size_t len,
    long long exp, unsigned long long size)
{
	struct fsmc_key cand, *k;
	size_t at = holders_at(len);

	memset(&cand, 0, sizeof cand);
	cand.name = (char *)(uintptr_t)key;
	cand.len = len;
	cand.size = size;
	if (h->n == h->cap && !before(&cand, &h->k[0]))
		return (0);
	if (h->n == h->cap) {
		free(h->k[0].name);
		k = &h->k[0];
	} else
		k = &h->k[h->n++];
	if ((k->name = malloc(at + sizeof *k->servers)) == NULL) {
		*k = h->k[--h->n];
		if (k != &h->k[h->n])
			sift_down(h, 0);
		return (-3);
	}
	memcpy(k->name, key, len);
	k->name[len] = '\0';
	k->len = len;
	k->exp = exp;
	k->size = size;
	k->servers = (uint32_t *)(void *)(k->name + at);
	k->servers[0] = which;
	k->nservers = 1;
	if (k == &h->k[0])
		sift_down(h, 0);
	else
		sift_up(h, h->n - 1);
	return (0);
}

static int
by_size(const void *a, const void *b)
{
	const struct fsmc_key *x = a, *y = b;

	return (before(x, y) ? -1 : before(y, x) ? 1 : 0);
}

static int
by_size_ref(const void *a, const void *b)
{
	return (by_size(*(const struct fsmc_key *const *)a,
	    *(const struct fsmc_key *const *)b));
}

/* Of the same name together, the largest first. */
static int
by_name_ref(const void *a, const void *b)
{
	const struct fsmc_key *x = *(const struct fsmc_key *const *)a;
	const struct fsmc_key *y = *(const struct fsmc_key *const *)b;
	int c;

	c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
	if (c != 0 || x->len != y->len)
		return (c != 0 ? c : x->len < y->len ? -1 : 1);
	return (by_size(x, y));
}

/* Move a server's heap into res->keys, largest first.  -3 out of memory. */
static int
heap_take(struct heap *h, struct fsmc_result *res)
{
	struct fsmc_key *keys;

	if (h->n == 0)
		return (0);
	if ((keys = realloc(res->keys, (res->nkeys + h->n) * sizeof *keys)) ==
	    NULL)
		return (-3);
	res->keys = keys;
	qsort(h->k, h->n, sizeof *h->k, by_size);
	memcpy(res->keys + res->nkeys, h->k, h->n * sizeof *h->k);
	res->nkeys += h->n;
	res->keycap = res->nkeys;
	h->n = 0;
	return (0);
}

/*
 * The largest keys of all, from each server's largest: a key listed by
 * several servers counts once, where it is largest.  Returns 0, or -1
 * out of memory.
 */
static int
overall(struct fsmc_result *res)
{
	struct fsmc_key **ref;
	size_t i, n = 0;

	if (res->nkeys == 0)
		return (0);
	if ((ref = calloc(res->nkeys, sizeof *ref)) == NULL ||
	    (res->top = calloc(res->nkeys, sizeof *res->top)) == NULL) {
		free(ref);
		return (-1);
	}
	for (i = 0; i < res->nkeys; i++)
		ref[i] = &res->keys[i];
	qsort(ref, res->nkeys, sizeof *ref, by_name_ref);
	for (i = 0; i < res->nkeys; i++) {
		if (n == 0 || ref[i]->len != ref[n - 1]->len ||
		    memcmp(ref[i]->name, ref[n - 1]->name, ref[i]->len) != 0)
			ref[n++] = ref[i];
	}
	qsort(ref, n, sizeof *ref, by_size_ref);
	for (i = 0; i < n && i < res->big; i++)
		res->top[i] = (size_t)(ref[i] - res->keys);
	res->ntop = i;
	free(ref);
	return (0);
}

/* Why a metadump failed; -1 when the server cannot be reached. */
static int
md_failed(struct fsmc_metadump *md, memcached_return_t rc)
{
	md->why = reason(rc, md->c.errnum);
	if (rc != MEMCACHED_PROTOCOL_ERROR)
		return (-1);
	snprintf(
	    md->detail, sizeof md->detail, "protocol error: %s", md->c.detail);
	md->why = md->detail;
	return (-2);
}

/*
 * Send the request, on a new connection unless one is open; the
 * deadline starts then.  memcached 1.6 walks its hash table for
 * "metadump hash", and sees every key; "metadump all" walks the LRUs,
 * and misses keys that move from one to another meanwhile, as many do
 * after they are read.  Older servers have only the second.
 */
static int
md_start(struct fsmc_metadump *md)
{
	static const char by_hash[] = "lru_crawler metadump hash\r\n",
			  by_lru[] = "lru_crawler metadump all\r\n";
	memcached_return_t rc;

	if ((rc = fsmc_conn_open(&md->c)) != MEMCACHED_SUCCESS)
		return (md_failed(md, rc));
	if (fsmc_conn_put(&md->c, md->lru ? by_lru : by_hash,
		(md->lru ? sizeof by_lru : sizeof by_hash) - 1) != 0) {
		md->why = "out of memory";
		return (-3);
	}
	md->deadline = fsmc_now_ms() + md->st->io_ms;
	if ((rc = fsmc_conn_send(&md->c, md->deadline)) != MEMCACHED_SUCCESS)
		return (md_failed(md, rc));
	return (0);
}

/*
 * Start listing the keys of configured server which that match a
 * pattern: a prefix, or with *, ? or [ a glob of the whole key
 * (fnmatch(3), a backslash quoting the next character).  Returns 0, or
 * as fsmc_metadump_next() fails.
 */
int
fsmc_metadump_open(struct fsmc_metadump *md, struct fsmc *fc, size_t which,
    const char *pattern, size_t patlen)
{
	const struct fsmc_settings *st = &fc->settings;

	memset(md, 0, sizeof *md);
	md->st = st;
	md->pattern = pattern;
	md->patlen = strcspn(pattern, "*?[\\");
	md->glob = md->patlen < patlen && strpbrk(pattern, "*?[") != NULL;
	if (!md->glob)
		md->patlen = patlen;
	fsmc_conn_init(&md->c, st, &st->servers[which], fc->cancel_fd);
	md->c.binary = 0;
	md->c.bare_lf = 1;
	return (md_start(md));
}

/*
 * The next key that matches, without the namespace, with its expiry (a
 * Unix time, -1 for never) and size: 1, or 0 after the last.  Failures
 * are -1 when the server cannot be reached or does not answer by the
 * deadline, -2 when it refuses the dump or breaks the protocol, -3 out
 * of memory, each with md->why set.  The key is valid until the next
 * call.
 */
int
fsmc_metadump_next(struct fsmc_metadump *md, char **keyp, size_t *lenp,
    long long *exp, unsigned long long *size)
{
	struct timespec pause = { 0, BUSY_WAIT_MS * 1000000L };
	const char *ns = md->st->ns != NULL ? md->st->ns : "", *v;
	size_t nslen = strlen(ns), len;
	memcached_return_t rc;
	char *line, *key, *rest;
	int r;

	for (;;) {
		if ((rc = fsmc_conn_line(&md->c, md->deadline, &line, &len)) !=
		    MEMCACHED_SUCCESS)
			return (md_failed(md, rc));
		if (strcmp(line, "END") == 0)
			return (0);
		/*
		 * Waits alone would miss a server that never stops; a dump,
		 * bounded by its memory, only has to keep going.
		 */
		if (++md->lines % CLOCK_LINES == 0 && md->renew)
			md->deadline = fsmc_now_ms() + md->st->io_ms;
		else if (md->lines % CLOCK_LINES == 0 &&
		    fsmc_now_ms() >= md->deadline)
			return (md_failed(md, MEMCACHED_TIMEOUT));
		if (strncmp(line, "BUSY", 4) == 0 && md->tries++ < BUSY_TRIES) {
			fsmc_conn_close(&md->c);
			md->lines = 0;
			nanosleep(&pause, NULL);
			if ((r = md_start(md)) != 0)
				return (r);
			continue;
		}
		if (md->lines == 1 && !md->lru &&
		    (strcmp(line, "ERROR") == 0 ||
			strncmp(line, "CLIENT_ERROR", 12) == 0)) {
			md->lru = 1;
			md->lines = 0;
			if ((r = md_start(md)) != 0)
				return (r);
			continue;
		}
		if (strncmp(line, "key=", 4) != 0) {
			if (strcmp(line, "ERROR") == 0) {
				md->why = "the server has no lru_crawler "
					  "metadump (memcached 1.4.31 or "
					  "later)";
				return (-2);
			}
			return (md_failed(md,
			    fsmc_conn_broken(&md->c,
				"unexpected reply to lru_crawler metadump",
				line, len)));
		}
		/* The fields follow the key, which decoding shortens. */
		key = line + 4;
		rest = key + strcspn(key, " ");
		if (*rest != '\0')
			*rest++ = '\0';
		len = url_decode(key);
		/* memcached holds none longer: a listing of one is broken. */
		if (len > FSMC_KEY_MAX)
			return (md_failed(md,
			    fsmc_conn_broken(&md->c,
				"a key longer than 250 bytes in lru_crawler "
				"metadump",
				line, 4 + len)));
		if (len < nslen || memcmp(key, ns, nslen) != 0)
			continue;
		key += nslen;
		len -= nslen;
		if (len < md->patlen ||
		    memcmp(key, md->pattern, md->patlen) != 0 ||
		    (md->glob && fnmatch(md->pattern, key, 0) != 0))
			continue;
		v = field(rest, "exp");
		*exp = v != NULL ? strtoll(v, NULL, 10) : -1;
		v = field(rest, "size");
		*size = v != NULL ? strtoull(v, NULL, 10) : 0;
		*keyp = key;
		*lenp = len;
		return (1);
	}
}

void
fsmc_metadump_close(struct fsmc_metadump *md)
{
	fsmc_conn_free(&md->c);
}

#define KEYBUF_HEAD (sizeof(long long) + sizeof(unsigned long long) + 1)
#define KEYBUF_FIRST 65536

/*
 * Add a key to kb, which never grows past max bytes: 0, -2 when the
 * record would pass max or the key is longer than memcached allows
 * (its length is one byte), -3 out of memory.
 */
int
fsmc_keybuf_add(struct fsmc_keybuf *kb, size_t max, const char *key, size_t len,
    long long exp, unsigned long long size)
{
	size_t need = KEYBUF_HEAD + len + 1, cap;
	char *buf;

	if (len > FSMC_KEY_MAX || need > max || kb->len > max - need)
		return (-2);
	if (kb->len + need > kb->cap) {
		cap = kb->cap == 0 ? KEYBUF_FIRST : kb->cap;
		while (cap < kb->len + need)
			cap = cap > max / 2 ? max : cap * 2;
		if (cap > max)
			cap = max;
		if ((buf = realloc(kb->buf, cap)) == NULL)
			return (-3);
		kb->buf = buf;
		kb->cap = cap;
	}
	memcpy(kb->buf + kb->len, &exp, sizeof exp);
	memcpy(kb->buf + kb->len + sizeof exp, &size, sizeof size);
	kb->buf[kb->len + KEYBUF_HEAD - 1] = (char)len;
	memcpy(kb->buf + kb->len + KEYBUF_HEAD, key, len);
	kb->buf[kb->len + KEYBUF_HEAD + len] = '\0';
	kb->len += need;
	kb->bytes += len + 1;
	return (0);
}

/*
 * The record at *at in kb, a NUL-terminated key, and *at moved past it:
 * 1, or 0 when there is none.
 */
int
fsmc_keybuf_next(const struct fsmc_keybuf *kb, size_t *at, const char **keyp,
    size_t *lenp, long long *exp, unsigned long long *size)
{
	if (*at >= kb->len)
		return (0);
	memcpy(exp, kb->buf + *at, sizeof *exp);
	memcpy(size, kb->buf + *at + sizeof *exp, sizeof *size);
	*lenp = (unsigned char)kb->buf[*at + KEYBUF_HEAD - 1];
	*keyp = kb->buf + *at + KEYBUF_HEAD;
	*at += KEYBUF_HEAD + *lenp + 1;
	return (1);
}

/*
 * What one server listed, kept until the servers before it are merged;
 * with --big only its largest, in a heap.  A server lists a key once,
 * so one whose names pass the pool's limit makes the pool pass it too:
 * the listing stops one key past it, where merging it fails as surely
 * as when the keys went straight into the pool.
 */
struct listing {
	struct fsmc_keybuf kb;
	struct heap h;
	const char *error; /* for the server's entry in the result */
};

static const char too_many[] =
    "more than " FSMC_KEYS_MAX_TEXT " keys: a longer prefix lists fewer";

/* What the parts of keys share. */
struct keys_run {
	struct fsmc_call *call;
	struct listing *lists;
	size_t big;
};

/*
 * List the part's server's keys into its listing.  On failure the part
 * has the status (unavailable when the server cannot be reached,
 * server error when its reply is refused, internal when memory runs
 * out), the -ERR text and the reason.
 */
static void
list_part(struct fsmc_part *p)
{
	static const enum fsmc_status of[] = { FSMC_EUNAVAIL, FSMC_ESERVER,
		FSMC_EINTERNAL };
	struct keys_run *kr = p->arg;
	struct fsmc_call *call = kr->call;
	struct listing *ls = &kr->lists[p->i];
	struct fsmc_metadump md;
	unsigned long long size;
	long long exp;
	size_t len, listed = 0;
	char *key;
	int r;

	r = fsmc_metadump_open(
	    &md, call->fc, p->i, call->a.key, call->a.keylen);
	while (r == 0 &&
	    (r = fsmc_metadump_next(&md, &key, &len, &exp, &size)) == 1) {
		if (kr->big > 0)
			r = heap_offer(&ls->h, p->i, key, len, exp, size);
		/*
		 * A server holds a key once: one that lists more keys
		 * than the limit passes it, even if it repeats them.
		 */
		else if (++listed > FSMC_KEYS_MAX)
			r = -2;
		else if ((r = fsmc_keybuf_add(
			      &ls->kb, SIZE_MAX, key, len, exp, size)) == 0 &&
		    ls->kb.bytes > FSMC_KEYS_BYTES)
			r = -2;
		if (r == -2)
			md.why = too_many;
		else if (r == -3)
			md.why = "out of memory";
	}
	if (r != 0) {
		fsmc_part_failed(p, of[-r - 1],
		    memcached_strerror(NULL, MEMCACHED_SOME_ERRORS),
		    &call->fc->settings.servers[p->i], "%s", md.why);
		/* The message says what was wrong; the server's entry, less. */
		ls->error = md.why == md.detail ? "protocol error" : md.why;
	}
	fsmc_metadump_close(&md);
}

/*
 * Put a server's listing into res, as if it had listed straight into
 * it: each key kept once (keyset), or with --big its largest.  A
 * failure here (the pool's limits, memory) is the server's.
 */
static void
merge(struct keys_run *kr, struct keyset *ks, struct fsmc_part *p)
{
	struct fsmc_call *call = kr->call;
	struct listing *ls = &kr->lists[p->i];
	unsigned long long size;
	long long exp;
	const char *key;
	size_t at = 0, len;
	int r = 0;

	if (kr->big > 0 && p->status == FSMC_OK)
		r = heap_take(&ls->h, call->res);
	while (kr->big == 0 && r == 0 &&
	    fsmc_keybuf_next(&ls->kb, &at, &key, &len, &exp, &size) == 1)
		r = keep(call, ks, p->i, key, len, exp, size);
	if (r != 0) {
		ls->error = r == -2 ? too_many : "out of memory";
		fsmc_part_failed(p, r == -2 ? FSMC_ESERVER : FSMC_EINTERNAL,
		    memcached_strerror(NULL, MEMCACHED_SOME_ERRORS),
		    &call->fc->settings.servers[p->i], "%s", ls->error);
	}
	if (p->status != FSMC_OK) {
		call->res->servers[p->i].error = ls->error;
		call->res->servers[p->i].status = p->status;
	}
	while (ls->h.n > 0)
		free(ls->h.k[--ls->h.n].name);
	free(ls->h.k);
	free(ls->kb.buf);
}

/*
 * What keys and dump do before listing: the pattern, empty for every
 * key; a refusal under SASL, since metadump speaks only the text
 * protocol; and the configured servers in res->servers.
 */
enum fsmc_status
fsmc_listing_begin(struct fsmc_call *call)
{
	const struct fsmc_settings *st = &call->fc->settings;
	struct fsmc_result *res = call->res;
	size_t i;

	if (call->a.key == NULL)
		call->a.key = "";
	if (st->sasl_user != NULL)
		return (fsmc_fail(res, FSMC_EUSAGE, call->cmd->name,
		    "needs the text protocol, which cannot authenticate"));
	if ((res->servers = calloc(st->nservers, sizeof *res->servers)) == NULL)
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	for (i = 0; i < st->nservers; i++) {
		res->servers[i].port = st->servers[i].port;
		if ((res->servers[i].host = strdup(st->servers[i].host)) ==
		    NULL)
			return (fsmc_fail(res, FSMC_EINTERNAL, call->cmd->name,
			    "out of memory"));
		res->nservers++;
	}
	return (FSMC_OK);
}

/*
 * List the keys on every server that match the pattern under the
 * namespace, each once with the servers that hold it, or with --big
 * each server's largest and the largest of all.  Every server is asked
 * at once; what each listed is merged in the order of the
 * configuration, so that the listing is the same whichever answered
 * first.  A server that fails gets its error and status in the server
 * list and the others are still listed; the result's status is that of
 * the first to fail, in the order of the configuration.
 */
enum fsmc_status
cmd_keys(struct fsmc_call *call)
{
	const struct fsmc_settings *st = &call->fc->settings;
	struct fsmc_result *res = call->res;
	struct keyset ks = { NULL, 0, 1 };
	struct fsmc_failures f = { 0 };
	struct fsmc_part *parts;
	struct keys_run kr;
	size_t i;

	if (fsmc_listing_begin(call) != FSMC_OK)
		return (res->status);
	kr.call = call;
	kr.big = call->a.big;
	kr.lists = calloc(st->nservers + 1, sizeof *kr.lists);
	parts = calloc(st->nservers + 1, sizeof *parts);
	for (i = 0; kr.lists != NULL && i < st->nservers && kr.big > 0; i++) {
		if ((kr.lists[i].h.k =
			    calloc(kr.big, sizeof(struct fsmc_key))) == NULL)
			break;
		kr.lists[i].h.cap = kr.big;
	}
	if (kr.lists == NULL || parts == NULL ||
	    (kr.big > 0 && i < st->nservers)) {
		for (i = 0; kr.lists != NULL && i < st->nservers; i++)
			free(kr.lists[i].h.k);
		free(kr.lists);
		free(parts);
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	}
	if ((size_t)st->replicas < st->nservers)
		ks.room += (size_t)st->replicas;
	fsmc_fanout_run(parts, (uint32_t)st->nservers, list_part, &kr);
	for (i = 0; i < st->nservers; i++) {
		merge(&kr, &ks, &parts[i]);
		fsmc_failures_add(&f, &parts[i]);
	}
	free(ks.slots);
	free(kr.lists);
	free(parts);
	if (call->a.big > 0 && overall(res) != 0)
		return (fsmc_fail(
		    res, FSMC_EINTERNAL, call->cmd->name, "out of memory"));
	if (f.count == 0)
		return (FSMC_OK);
	res->errtext = memcached_strerror(NULL, MEMCACHED_SOME_ERRORS);
	return (fsmc_failures_result(call, &f));
}
