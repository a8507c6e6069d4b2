/* Servers that keep failing are skipped for a while, in a process and across
 * processes. */

#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsmc-int.h"

/*
 * The state file: a header line, then a line for each server with a
 * failure counted, "FAILURES SINCE RC ERRNO ADDRESS": SINCE is the time
 * of the last failure in milliseconds since the epoch, from which each
 * reader counts its own retry_s, and ADDRESS is as fsmc_address() writes
 * it, escaped, last because a socket's path may hold spaces.  Records
 * older than the longest retry_s are dropped.
 */
#define STATE_HEADER "fsmemcache server marks 2\n"
#define STATE_KEEP_MS (86400LL * 1000)
#define STATE_BYTES 65536
#define STATE_RECORDS 512
#define STATE_ADDRESS 1024
/* How long a writer tries to take the lock before giving up. */
#define STATE_LOCK_MS 50

struct record {
	unsigned int failures;
	long long since;
	int rc, errnum;
	char address[STATE_ADDRESS];
};

struct records {
	struct record *r;
	size_t n;
};

/* Milliseconds since the epoch: what processes share. */
static long long
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static struct fsmc_mark *
mark_of(const struct fsmc_conn *c)
{
	return (&c->owner->marks[c->sc - c->owner->settings.servers]);
}

/* With the lock held: how many servers have a failure counted. */
static void
recount(struct fsmc *fc)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < fc->settings.nservers; i++)
		n += fc->marks[i].failures > 0 || fc->marks[i].until != 0 ||
		    fc->marks[i].probing;
	__atomic_store_n(&fc->nmarked, n, __ATOMIC_RELEASE);
}

static void
address_of(const struct fsmc_server_conf *sc, char *buf, size_t len)
{
	char where[STATE_ADDRESS];

	fsmc_address(sc->host, sc->port, where, sizeof where);
	fsmc_escape(where, strlen(where), buf, len);
}

/*
 * A whole decimal number in [0, max] at *p, followed by a space; moves
 * *p past the space.
 */
static int
field(const char **p, long long max, long long *out)
{
	long long v = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return (-1);
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > max)
			return (-1);
	}
	if (*s != ' ')
		return (-1);
	*p = s + 1;
	*out = v;
	return (0);
}

/* Parse the state file's text; -1 if it is not one. */
static int
parse(const char *text, size_t len, struct records *rs)
{
	const char *p, *end = text + len, *nl;
	struct record *r;
	long long v;
	size_t alen;

	rs->n = 0;
	if (len < sizeof STATE_HEADER - 1 ||
	    memcmp(text, STATE_HEADER, sizeof STATE_HEADER - 1) != 0)
		return (-1);
	for (p = text + sizeof STATE_HEADER - 1; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
		    rs->n == STATE_RECORDS)
			return (-1);
		r = &rs->r[rs->n];
		if (field(&p, 1000000, &v) != 0)
			return (-1);
		r->failures = (unsigned int)v;
		if (field(&p, 1LL << 50, &r->since) != 0)
			return (-1);
		if (field(&p, MEMCACHED_MAXIMUM_RETURN, &v) != 0)
			return (-1);
		r->rc = (int)v;
		if (field(&p, 4095, &v) != 0)
			return (-1);
		r->errnum = (int)v;
		alen = (size_t)(nl - p);
		if (alen == 0 || alen >= STATE_ADDRESS)
			return (-1);
		memcpy(r->address, p, alen);
		r->address[alen] = '\0';
		if (strlen(r->address) != alen)
			return (-1);
		rs->n++;
	}
	return (0);
}

/*
 * Read the state file into rs.  Returns 0, also when there is none yet,
 * or -1 with why filled when the file is there but not to be trusted:
 * not a regular file, another user's, open to group or others, too
 * large, or not a state file.
 */
static int
load(const char *path, struct records *rs, char *why, size_t len)
{
	struct stat sb;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, r;

	rs->n = 0;
	if ((fd = open(path,
		 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) <
	    0) {
		if (errno == ENOENT)
			return (0);
		snprintf(why, len, "%s", strerror(errno));
		return (-1);
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		snprintf(why, len, "not a regular file");
		return (-1);
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
		close(fd);
		snprintf(why, len, "%s",
		    sb.st_uid != geteuid() ? "owned by another user" :
					     "open to group or others");
		return (-1);
	}
	if ((buf = malloc(STATE_BYTES + 1)) == NULL) {
		close(fd);
		snprintf(why, len, "out of memory");
		return (-1);
	}
	while (got <= STATE_BYTES &&
	    (n = read(fd, buf + got, STATE_BYTES + 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	r = got > STATE_BYTES ? -1 : parse(buf, got, rs);
	free(buf);
	if (r != 0)
		snprintf(why, len, "not a state file of fsmemcache");
	return (r);
}

/* Write rs to path whole: a file beside it, renamed over it. */
static void
save(const char *path, const struct records *rs)
{
	char *tmp, line[STATE_ADDRESS + 80];
	size_t i, plen = strlen(path);
	FILE *f;
	int fd, ok;

	if ((tmp = malloc(plen + 8)) == NULL)
		return;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	if ((fd = mkstemp(tmp)) < 0) {
		free(tmp);
		return;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		free(tmp);
		return;
	}
	ok = fputs(STATE_HEADER, f) >= 0;
	for (i = 0; i < rs->n && ok; i++) {
		snprintf(line, sizeof line, "%u %lld %d %d %s\n",
		    rs->r[i].failures, rs->r[i].since, rs->r[i].rc,
		    rs->r[i].errnum, rs->r[i].address);
		ok = fputs(line, f) >= 0;
	}
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
		unlink(tmp);
	free(tmp);
}

/*
 * Take the lock beside the state file, without waiting past a few
 * milliseconds: a writer that holds it only reads and writes a small
 * file.  Returns its descriptor, or -1.
 */
static int
lock_state(const char *path)
{
	char *lock;
	size_t plen = strlen(path);
	int64_t deadline = fsmc_now_ms() + STATE_LOCK_MS;
	struct timespec ms = { 0, 1000000 };
	int fd;

	if ((lock = malloc(plen + 6)) == NULL)
		return (-1);
	memcpy(lock, path, plen);
	memcpy(lock + plen, ".lock", 6);
	fd = open(
	    lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	free(lock);
	if (fd < 0)
		return (-1);
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    fsmc_now_ms() >= deadline) {
			close(fd);
			return (-1);
		}
		nanosleep(&ms, NULL);
	}
	return (fd);
}

/*
 * Record what the process knows of server sc in the state file, or
 * forget the server when m has no failure: under the lock, read the
 * file, change that one line and drop those past their time with no
 * failure counted, and write it whole.  A file not to be trusted is
 * left as it is.
 */
static void
share(struct fsmc *fc, const struct fsmc_server_conf *sc,
    const struct fsmc_mark *m)
{
	const char *path = fc->settings.state_file;
	struct records rs;
	char address[STATE_ADDRESS], why[128];
	long long now;
	size_t i, o;
	int fd;

	if (path == NULL || (fd = lock_state(path)) < 0)
		return;
	if ((rs.r = calloc(STATE_RECORDS + 1, sizeof *rs.r)) == NULL ||
	    load(path, &rs, why, sizeof why) != 0) {
		free(rs.r);
		close(fd);
		return;
	}
	address_of(sc, address, sizeof address);
	now = wall_ms();
	for (i = o = 0; i < rs.n; i++) {
		if (strcmp(rs.r[i].address, address) != 0 &&
		    rs.r[i].failures > 0 && rs.r[i].since > now - STATE_KEEP_MS)
			rs.r[o++] = rs.r[i];
	}
	rs.n = o;
	if (m->failures > 0 && rs.n < STATE_RECORDS) {
		rs.r[rs.n].failures = m->failures;
		rs.r[rs.n].since = (long long)m->since;
		rs.r[rs.n].rc = (int)m->rc;
		rs.r[rs.n].errnum = m->errnum;
		snprintf(rs.r[rs.n].address, sizeof rs.r[rs.n].address, "%s",
		    address);
		rs.n++;
	}
	save(path, &rs);
	free(rs.r);
	close(fd);
}

/*
 * The marks of a new handle: none, or with a state file what other
 * processes recorded of its servers, skipped for retry_s from their last
 * failure.  A record from the future is not trusted.  A file not to be
 * trusted is passed over with a warning in res->msg.  Returns -1 when
 * out of memory.
 */
int
fsmc_marks_init(struct fsmc *fc, struct fsmc_result *res)
{
	const struct fsmc_settings *st = &fc->settings;
	char address[STATE_ADDRESS], why[128];
	struct records rs;
	struct fsmc_mark *m;
	long long now = wall_ms(), end;
	size_t i, j;

	if ((fc->marks = calloc(st->nservers + 1, sizeof *fc->marks)) == NULL)
		return (-1);
	if (st->state_file == NULL)
		return (0);
	if ((rs.r = calloc(STATE_RECORDS + 1, sizeof *rs.r)) == NULL)
		return (-1);
	if (load(st->state_file, &rs, why, sizeof why) != 0) {
		if (res->msg[0] == '\0')
			snprintf(res->msg, sizeof res->msg, "%s: %s; ignored",
			    st->state_file, why);
		rs.n = 0;
	}
	for (i = 0; i < st->nservers; i++) {
		address_of(&st->servers[i], address, sizeof address);
		for (j = 0; j < rs.n; j++) {
			/* A record of another kind of failure is not ours. */
			if (strcmp(rs.r[j].address, address) != 0 ||
			    fsmc_status_of((memcached_return_t)rs.r[j].rc) !=
				FSMC_EUNAVAIL)
				continue;
			if (rs.r[j].since > now + 1000)
				continue;
			m = &fc->marks[i];
			m->failures = rs.r[j].failures;
			m->rc = (memcached_return_t)rs.r[j].rc;
			m->errnum = rs.r[j].errnum;
			m->since = rs.r[j].since;
			if (m->failures < (unsigned int)st->failure_limit ||
			    st->retry_s == 0)
				continue;
			end = m->since + (long long)st->retry_s * 1000;
			m->until_wall = (time_t)(end / 1000);
			/* Past its time, the next command tries it again. */
			m->until = end > now ? fsmc_now_ms() + (end - now) : 1;
		}
	}
	free(rs.r);
	recount(fc);
	return (0);
}

void
fsmc_marks_free(struct fsmc *fc)
{
	free(fc->marks);
	fc->marks = NULL;
}

/*
 * Before c is used: fail at once, with the failure that marked it, when
 * its server is skipped, or when its time is over but another command
 * is trying it again; else make c the one that tries it.  A connection
 * kept open to a server skipped since is closed.
 */
memcached_return_t
fsmc_mark_check(struct fsmc_conn *c)
{
	struct fsmc *fc = c->owner;
	struct fsmc_mark *m;
	memcached_return_t rc = MEMCACHED_SUCCESS;
	int64_t now;

	c->skipped = 0;
	if (c->probe || __atomic_load_n(&fc->nmarked, __ATOMIC_ACQUIRE) == 0)
		return (MEMCACHED_SUCCESS);
	now = fsmc_now_ms();
	pthread_mutex_lock(&fc->lock);
	m = mark_of(c);
	if (m->until == 0)
		;
	else if (now < m->until || m->probing) {
		rc = m->rc;
		c->errnum = m->errnum;
		c->skipped = now < m->until ? m->until_wall : -1;
	} else {
		m->probing = 1;
		c->probe = 1;
	}
	pthread_mutex_unlock(&fc->lock);
	if (rc != MEMCACHED_SUCCESS) {
		c->detail[0] = '\0';
		fsmc_conn_close(c);
	}
	return (rc);
}

/*
 * A failure of c that says its server cannot be reached is counted;
 * failure_limit of them in a row skip the server for retry_s seconds.
 * Not counted: a wait the front end cancelled, and a connection kept
 * from an earlier request that the server closed in between (it may
 * have restarted; the request is tried once more on a new one).
 */
void
fsmc_mark_failure(struct fsmc_conn *c, memcached_return_t rc, int errnum)
{
	struct fsmc *fc = c->owner;
	const struct fsmc_settings *st = c->st;
	struct fsmc_mark *m, copy;

	if (fc == NULL || fsmc_status_of(rc) != FSMC_EUNAVAIL ||
	    errnum == EINTR ||
	    (rc == MEMCACHED_CONNECTION_FAILURE && c->reused && !c->probe))
		return;
	pthread_mutex_lock(&fc->lock);
	m = mark_of(c);
	if (m->failures < 1000000)
		m->failures++;
	m->rc = rc;
	m->errnum = errnum;
	m->since = wall_ms();
	if (c->probe)
		m->probing = c->probe = 0;
	if (m->failures >= (unsigned int)st->failure_limit && st->retry_s > 0) {
		m->until = fsmc_now_ms() + (int64_t)st->retry_s * 1000;
		m->until_wall = time(NULL) + st->retry_s;
	}
	copy = *m;
	recount(fc);
	pthread_mutex_unlock(&fc->lock);
	if (st->state_file != NULL)
		share(fc, c->sc, &copy);
}

/* c's server has answered: its failures are forgotten. */
void
fsmc_mark_success(struct fsmc_conn *c)
{
	struct fsmc *fc = c->owner;
	struct fsmc_mark *m, copy;
	int had;

	if (!c->probe && __atomic_load_n(&fc->nmarked, __ATOMIC_ACQUIRE) == 0)
		return;
	pthread_mutex_lock(&fc->lock);
	m = mark_of(c);
	had = m->failures > 0 || m->until != 0;
	m->failures = 0;
	m->until = 0;
	m->until_wall = 0;
	if (c->probe)
		m->probing = c->probe = 0;
	copy = *m;
	recount(fc);
	pthread_mutex_unlock(&fc->lock);
	if (had && c->st->state_file != NULL)
		share(fc, c->sc, &copy);
}

/*
 * c stops trying its server again without a verdict (it is closed, or
 * its call ended before any reply): another command may try it.
 */
void
fsmc_mark_release(struct fsmc_conn *c)
{
	if (c->owner == NULL || !c->probe)
		return;
	pthread_mutex_lock(&c->owner->lock);
	mark_of(c)->probing = 0;
	recount(c->owner);
	pthread_mutex_unlock(&c->owner->lock);
	c->probe = 0;
}

/*
 * The state file's default path: in $XDG_RUNTIME_DIR when it is set and
 * absolute, else in /tmp with the user's number in its name.  NULL when
 * out of memory.
 */
char *
fsmc_state_default(void)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	char buf[4200];

	if (dir != NULL && dir[0] == '/' && strlen(dir) < 4096)
		snprintf(buf, sizeof buf, "%s/fsmemcache-servers", dir);
	else
		snprintf(buf, sizeof buf, "/tmp/fsmemcache-servers-%lu",
		    (unsigned long)geteuid());
	return (strdup(buf));
}
