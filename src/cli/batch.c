/* Batch mode (-f): one command per line, pipelined over one connection per
 * server, with a summary. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* A line holds at most this much; memcached's items are 1 MiB by default. */
#define LINE_MAX_BYTES (8UL * 1024 * 1024)
/* Keys read back at a time by --verify, and the values of records held. */
#define VERIFY_WINDOW 1024
#define VERIFY_BYTES (64UL * 1024 * 1024)
/* Keys that could not be read back named one by one; the rest counted. */
#define VERIFY_NAMED 10

/* The input, read in chunks so that memory does not grow with it. */
struct reader {
	FILE *fp;
	int fd;
	/* Called before waiting for more input: send what is held back. */
	void (*idle)(void *);
	void *idle_ctx;
	char chunk[65536];
	size_t pos, end;
	int eof;
	char *line;	  /* LINE_MAX_BYTES + 1 */
	FILE *spool;	  /* a copy of the input, for --verify on a pipe */
	long long size;	  /* of a regular file, else -1 */
	long long offset; /* bytes consumed */
};

enum line_status { LINE_OK, LINE_EOF, LINE_TOO_LONG, LINE_NUL, LINE_ERROR };

/* Counts for the summary. */
struct tally {
	unsigned long lines, ok, notfound, notstored, errors;
	/* --verify: keys, and how their reading back went */
	unsigned long keys, verified, missing, differ, unverified;
	unsigned long unnamed; /* unverified past VERIFY_NAMED */
	int status;	       /* the highest exit status of any line */
	struct timespec start, progress;
	int progress_shown;
	int tty; /* standard error is a terminal: show progress */
};

/*
 * The lines sent and not yet shown, in order: the line numbers of the
 * session's results to come.
 */
struct inflight {
	unsigned long *lineno;
	size_t cap, head, n;
	int stop;	       /* --stop-on-error: a line failed */
	unsigned long stopped; /* that line */
	unsigned long after;   /* lines sent after it, shown all the same */
	int refused;	       /* the session takes no more lines */
};

/* The signal that asked a batch, top or latency to stop, or 0. */
volatile sig_atomic_t stop_signal;
/* Written to by the handler: the core's waits poll its other end. */
static int stop_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int saved = errno;

	stop_signal = sig;
	if (stop_pipe[1] >= 0)
		if (write(stop_pipe[1], "", 1) < 0) {
			/* Full: the reader is woken already. */
		}
	errno = saved;
}

/*
 * SIGINT and SIGTERM end a batch between lines, with the summary so far
 * (and top or latency between samples).
 * Without SA_RESTART a read waiting for input returns at once, and a
 * wait for a server ends as soon as the handler writes to the pipe.
 */
void
catch_signals(struct fsmc *fc)
{
	struct sigaction sa;

	if (stop_pipe[0] < 0 && pipe(stop_pipe) == 0) {
		fcntl(stop_pipe[0], F_SETFD, FD_CLOEXEC);
		fcntl(stop_pipe[1], F_SETFD, FD_CLOEXEC);
		fcntl(stop_pipe[1], F_SETFL, O_NONBLOCK);
		fsmc_set_cancel_fd(fc, stop_pipe[0]);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static double
seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((double)(now.tv_sec - t->tv_sec) +
	    (double)(now.tv_nsec - t->tv_nsec) / 1e9);
}

/*
 * Read what is there, waiting only when nothing is: input typed or
 * piped slowly is run line by line, not once a chunk is full.  Before
 * waiting, the idle hook sends what is held back (a run of gets,
 * buffered sets) so that replies keep up with the input.
 */
static int
fill(struct reader *r)
{
	struct pollfd pfd;
	ssize_t n;

	if (r->eof)
		return (0);
	pfd.fd = r->fd;
	pfd.events = POLLIN;
	if (r->idle != NULL && poll(&pfd, 1, 0) == 0)
		r->idle(r->idle_ctx);
	do
		n = read(r->fd, r->chunk, sizeof r->chunk);
	while (n < 0 && errno == EINTR && stop_signal == 0);
	r->pos = 0;
	r->end = n > 0 ? (size_t)n : 0;
	if (n > 0)
		return (1);
	/* A signal cut the read short: the input has not ended. */
	if (n < 0 && errno == EINTR)
		return (0);
	r->eof = 1;
	return (n < 0 ? -1 : 0);
}

/*
 * Read the next line into r->line without its newline.  A line too long
 * or holding a NUL byte is consumed whole and reported as such.
 */
static enum line_status
read_line(struct reader *r, size_t *lenp)
{
	size_t len = 0, n;
	char *nl;
	int f, toolong = 0, any = 0;

	for (;;) {
		if (r->pos == r->end) {
			if ((f = fill(r)) < 0)
				return (LINE_ERROR);
			if (f == 0)
				break;
		}
		any = 1;
		nl = memchr(r->chunk + r->pos, '\n', r->end - r->pos);
		n = (nl != NULL ? (size_t)(nl - r->chunk) : r->end) - r->pos;
		if (len + n > LINE_MAX_BYTES)
			toolong = 1;
		else
			memcpy(r->line + len, r->chunk + r->pos, n);
		if (!toolong)
			len += n;
		if (r->spool != NULL)
			fwrite(
			    r->chunk + r->pos, 1, n + (nl != NULL), r->spool);
		r->offset += (long long)(n + (nl != NULL));
		r->pos += n + (nl != NULL);
		if (nl != NULL)
			break;
	}
	if (!any)
		return (LINE_EOF);
	if (r->spool != NULL && r->eof)
		fputc('\n', r->spool);
	r->line[len] = '\0';
	*lenp = len;
	if (toolong)
		return (LINE_TOO_LONG);
	if (memchr(r->line, '\0', len) != NULL)
		return (LINE_NUL);
	return (LINE_OK);
}

/*
 * Exactly n bytes of input into out: 1, 0 when the input ends first,
 * -1 when reading failed.
 */
static int
read_bytes(struct reader *r, char *out, size_t n)
{
	size_t got = 0, k;
	int f;

	while (got < n) {
		if (r->pos == r->end && (f = fill(r)) <= 0)
			return (f);
		k = r->end - r->pos < n - got ? r->end - r->pos : n - got;
		memcpy(out + got, r->chunk + r->pos, k);
		if (r->spool != NULL)
			fwrite(r->chunk + r->pos, 1, k, r->spool);
		r->pos += k;
		r->offset += (long long)k;
		got += k;
	}
	return (1);
}

/*
 * A record's value: the n bytes after its first line, then a newline
 * (see fsmc_render_item()).  Returns the value, malloc'ed, and in *lines
 * the lines it ends, its newline included; NULL with *why when the input
 * ends first (nothing of it is run), holds no newline after it, or
 * cannot be read (errno set).
 */
static char *
read_value(struct reader *r, size_t n, unsigned long *lines, const char **why)
{
	char *value, *p;
	int got;

	*lines = 0;
	if ((value = malloc(n + 1)) == NULL) {
		*why = strerror(ENOMEM);
		return (NULL);
	}
	if ((got = read_bytes(r, value, n + 1)) <= 0 || value[n] != '\n') {
		*why = got < 0 ? strerror(errno) :
		    got == 0 ? "the input ends inside the value of the record" :
			       "the value is not followed by a newline: its "
			       "length is wrong";
		free(value);
		return (NULL);
	}
	for (p = value; (p = memchr(p, '\n', (size_t)(value + n - p))) != NULL;
	     p++)
		++*lines;
	++*lines;
	return (value);
}

/* Whether a line holds no command: blank, or a comment. */
static int
skip_line(const char *line)
{
	while (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\v')
		line++;
	return (*line == '\0' || *line == '#');
}

static void
count(struct tally *t, const struct fsmc_result *res)
{
	int e = exit_status(res->status);

	t->lines++;
	if (res->status == FSMC_OK)
		t->ok++;
	else if (res->status == FSMC_NOTFOUND)
		t->notfound++;
	else if (res->status == FSMC_NOTSTORED)
		t->notstored++;
	else
		t->errors++;
	if (e > t->status)
		t->status = e;
}

/* A failure of the input itself: one line, counted as an error. */
static void
line_error(struct tally *t, unsigned long lineno, int status, const char *what)
{
	fprintf(stderr, "fsmemcache: line %lu: %s\n", lineno, what);
	t->lines++;
	t->errors++;
	if (status > t->status)
		t->status = status;
}

/*
 * A line's reply.  A usage error gets "-ERR" alone: the line on standard
 * error says what is wrong, and the usage of every command, again for
 * each bad line, would bury it.  With -qq nothing but that line is
 * printed (output_result() says nothing).
 */
static void
show(struct output *out, struct tally *t, const struct fsmc_result *res,
    unsigned long lineno)
{
	count(t, res);
	if (out->json)
		output_result(out, res, lineno);
	else if (res->status == FSMC_EUSAGE && out->quiet < 2)
		write_reply(out, FSMC_STREAM_ERROR, "-ERR\n", 5);
	else if (res->status != FSMC_EUSAGE)
		output_result(out, res, lineno);
	if (exit_status(res->status) >= EXIT_USAGE)
		fprintf(stderr, "fsmemcache: line %lu: %s\n", lineno, res->msg);
}

static void
progress(struct tally *t, const struct reader *r, int done)
{
	double elapsed;

	if (!t->tty)
		return;
	if (done) {
		if (t->progress_shown)
			fputs("\r\033[K", stderr);
		return;
	}
	if ((t->lines & 1023) != 0 || seconds_since(&t->start) < 1.0 ||
	    seconds_since(&t->progress) < 0.25)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t->progress);
	elapsed = seconds_since(&t->start);
	fprintf(stderr, "\r\033[Kfsmemcache: %lu lines, %.0f lines/s", t->lines,
	    (double)t->lines / elapsed);
	if (r->size > 0)
		fprintf(stderr, ", %.0f%%",
		    100.0 * (double)r->offset / (double)r->size);
	t->progress_shown = 1;
}

/* Room for one more line number; -1 when out of memory. */
static int
room(struct inflight *q)
{
	unsigned long *p;
	size_t i;

	if (q->n < q->cap)
		return (0);
	if ((p = malloc((q->cap * 2 + 64) * sizeof *p)) == NULL)
		return (-1);
	for (i = 0; i < q->n; i++)
		p[i] = q->lineno[(q->head + i) % q->cap];
	free(q->lineno);
	q->lineno = p;
	q->cap = q->cap * 2 + 64;
	q->head = 0;
	return (0);
}

/*
 * Show the results of the lines sent, in order: those already there, or
 * with wait the next max of them (0: every one), reading the replies in
 * flight.  With --stop-on-error the first line that fails stops the run;
 * the lines sent after it have run, and are shown and counted all the
 * same.
 */
static void
take_some(struct fsmc_session *s, struct inflight *q, struct output *out,
    struct tally *t, int stop_on_error, int wait, size_t max)
{
	struct fsmc_result res;
	unsigned long lineno;
	size_t n = 0;

	while (q->n > 0 && (max == 0 || n++ < max) &&
	    fsmc_session_receive(s, wait, &res) == 1) {
		lineno = q->lineno[q->head];
		/* Not a division a line: the ring's size is no power of two. */
		if (++q->head == q->cap)
			q->head = 0;
		q->n--;
		output_warning(&res, lineno);
		show(out, t, &res, lineno);
		if (q->stop)
			q->after++;
		else if (stop_on_error &&
		    exit_status(res.status) >= EXIT_USAGE) {
			q->stop = 1;
			q->stopped = lineno;
		}
		fsmc_result_clear(&res);
	}
}

static void
take(struct fsmc_session *s, struct inflight *q, struct output *out,
    struct tally *t, int stop_on_error, int wait)
{
	take_some(s, q, out, t, stop_on_error, wait, 0);
}

/*
 * Send a line's command down the pipeline, making room first when the
 * session holds as many results as it may.  With --stop-on-error, once
 * a line has failed the session takes no more: the run stops.
 */
static void
send_line(struct fsmc_session *s, struct inflight *q, struct output *out,
    struct tally *t, const struct batch_options *bo, int argc, char **words,
    const char *value, size_t vlen, unsigned long lineno)
{
	size_t i;
	int r;

	if (room(q) != 0) {
		take(s, q, out, t, bo->stop_on_error, 1);
		if (q->cap == 0) {
			line_error(t, lineno, EXIT_INTERNAL, strerror(ENOMEM));
			return;
		}
	}
	while ((r = fsmc_session_send(s, argc, words, value, vlen)) == -1) {
		if (q->n == 0) {
			line_error(t, lineno, EXIT_INTERNAL, strerror(ENOMEM));
			return;
		}
		take_some(s, q, out, t, bo->stop_on_error, 1, 1);
	}
	if (r == -2) {
		q->refused = 1;
		return;
	}
	i = q->head + q->n++;
	q->lineno[i < q->cap ? i : i - q->cap] = lineno;
	take(s, q, out, t, bo->stop_on_error, 0);
}

/* Count one key's reading back, and report it unless it is as loaded. */
static void
verified(struct output *out, struct tally *t, const struct fsmc_result *res,
    unsigned long lineno)
{
	int e = exit_status(res->status);

	if (res->status == FSMC_OK) {
		t->verified++;
		return;
	}
	if (res->status == FSMC_NOTFOUND)
		t->missing++;
	else if (res->status == FSMC_NOTSTORED)
		t->differ++;
	else
		t->unverified++;
	if (e > t->status)
		t->status = e;
	if (out->json)
		output_result(out, res, lineno);
	if (e >= EXIT_USAGE && t->unverified > VERIFY_NAMED)
		t->unnamed++;
	else
		fprintf(stderr, "fsmemcache: line %lu: %s\n", lineno, res->msg);
}

/* Keys that were not read back at all: counted, with why. */
static void
not_read_back(struct tally *t, unsigned long n, int status, const char *why)
{
	if (n == 0)
		return;
	t->unverified += n;
	if (status > t->status)
		t->status = status;
	fprintf(stderr, "fsmemcache: %lu key%s not read back: %s\n", n,
	    n > 1 ? "s" : "", why);
}

/*
 * --verify: read the input again and check each key the load touched
 * once, at the line whose word is final for it, a window at a time.
 */
static void
verify(struct fsmc *fc, struct reader *r, const struct expect *e,
    struct output *out, struct tally *t)
{
	static char *copy[VERIFY_WINDOW],
	    *words[VERIFY_WINDOW][FSMC_MAX_TOKENS];
	static char **argv[VERIFY_WINDOW], *values[VERIFY_WINDOW];
	static size_t valuelens[VERIFY_WINDOW];
	static int argc[VERIFY_WINDOW];
	static unsigned long lineno[VERIFY_WINDOW];
	static struct fsmc_result res[VERIFY_WINDOW];
	struct fsmc_session *s;
	struct fsmc_result err;
	enum line_status ls = LINE_OK;
	unsigned long n = 0, seen = 0, last = expect_last_line(e);
	char *w[FSMC_MAX_TOKENS], *line, *value;
	const char *why;
	size_t len, i, k = 0, vlen, held = 0;
	unsigned long vlines;
	int eof = 0, nw, j, readerr = 0, nomem = 0, off;

	if (fsmc_session_open(fc, 0, &s, &err) != FSMC_OK) {
		not_read_back(t, t->keys, exit_status(err.status), err.msg);
		return;
	}
	while (!eof) {
		/* Lines after the last one loaded hold no key to check. */
		if (n < last && stop_signal == 0)
			ls = read_line(r, &len);
		else
			ls = LINE_EOF;
		if (ls == LINE_ERROR)
			readerr = errno;
		if (ls == LINE_EOF || ls == LINE_ERROR)
			eof = 1;
		else
			n++;
		value = NULL;
		line = r->line;
		vlen = vlines = 0;
		off = ls == LINE_OK ? fsmc_record_header(r->line, &vlen) : 0;
		if (off > 0) {
			line += off;
			/* The load read it: it can be read again. */
			if ((value = read_value(r, vlen, &vlines, &why)) ==
			    NULL)
				eof = 1;
		}
		/* The load refused a malformed record: nothing to check. */
		if (ls == LINE_OK && off >= 0 && !skip_line(line) &&
		    (nw = fsmc_split_line(line, w, FSMC_MAX_TOKENS)) >= 2 &&
		    expect_is_final(e, w[1], strlen(w[1]), n)) {
			if ((copy[k] = malloc(len + 1)) == NULL) {
				free(value);
				nomem = 1;
				break;
			}
			memcpy(copy[k], r->line, len + 1);
			for (j = 0; j < nw; j++)
				words[k][j] = copy[k] + (w[j] - r->line);
			argv[k] = words[k];
			argc[k] = nw;
			values[k] = value;
			valuelens[k] = vlen;
			held += vlen;
			value = NULL;
			lineno[k++] = n;
		}
		free(value);
		n += vlines;
		if (k < VERIFY_WINDOW && held < VERIFY_BYTES && !eof)
			continue;
		fsmc_session_check_values(s, k, argc, argv,
		    (const char *const *)values, valuelens, res);
		for (i = 0; i < k; i++) {
			verified(out, t, &res[i], lineno[i]);
			fsmc_result_clear(&res[i]);
			free(copy[i]);
			free(values[i]);
		}
		seen += k;
		k = held = 0;
	}
	fsmc_session_close(s);
	for (i = 0; i < k; i++) {
		free(copy[i]);
		free(values[i]);
	}
	if (t->unnamed > 0)
		fprintf(stderr,
		    "fsmemcache: %lu more keys could not be read back\n",
		    t->unnamed);
	if (seen == t->keys)
		return;
	if (stop_signal != 0)
		not_read_back(t, t->keys - seen, 0, "stopped");
	else if (ls == LINE_ERROR)
		not_read_back(
		    t, t->keys - seen, EXIT_NOINPUT, strerror(readerr));
	else if (nomem)
		not_read_back(
		    t, t->keys - seen, EXIT_INTERNAL, strerror(ENOMEM));
	else
		not_read_back(t, t->keys - seen, EXIT_NOINPUT,
		    "the input changed after it was loaded");
}

static void
summary(const struct batch_options *bo, const struct tally *t)
{
	double elapsed = seconds_since(&t->start);

	fprintf(stderr, "fsmemcache: %lu %s: ", t->lines,
	    t->lines == 1 ? "line" : "lines");
	if (bo->pipe)
		fprintf(stderr, "%lu sent, %lu %s", t->ok, t->errors,
		    t->errors == 1 ? "error" : "errors");
	else
		fprintf(stderr, "%lu ok, %lu not found, %lu not stored, %lu %s",
		    t->ok, t->notfound, t->notstored, t->errors,
		    t->errors == 1 ? "error" : "errors");
	if (bo->verify)
		fprintf(stderr,
		    "; %lu key%s: %lu verified, %lu missing, %lu %s, %lu "
		    "unverified",
		    t->keys, t->keys == 1 ? "" : "s", t->verified, t->missing,
		    t->differ, t->differ == 1 ? "differs" : "differ",
		    t->unverified);
	fprintf(stderr, "; %.3f s, %.0f lines/s\n", elapsed,
	    elapsed > 0 ? (double)t->lines / elapsed : 0.0);
}

static int
open_input(const struct batch_options *bo, struct reader *r)
{
	struct stat st;

	memset(r, 0, sizeof *r);
	r->size = -1;
	if (strcmp(bo->file, "-") == 0)
		r->fp = stdin;
	else if ((r->fp = fopen(bo->file, "r")) == NULL) {
		fprintf(
		    stderr, "fsmemcache: %s: %s\n", bo->file, strerror(errno));
		return (-1);
	}
	r->fd = fileno(r->fp);
	if (fstat(r->fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			fprintf(stderr, "fsmemcache: %s: %s\n", bo->file,
			    strerror(EISDIR));
			return (-1);
		}
		if (S_ISREG(st.st_mode))
			r->size = (long long)st.st_size;
	}
	/* --verify reads the input twice: keep a copy of what cannot seek. */
	if (bo->verify && (r->size < 0 || r->fp == stdin) &&
	    (r->spool = tmpfile()) == NULL) {
		fprintf(stderr, "fsmemcache: temporary file: %s\n",
		    strerror(errno));
		return (-1);
	}
	if ((r->line = malloc(LINE_MAX_BYTES + 1)) == NULL) {
		fprintf(stderr, "fsmemcache: %s\n", strerror(ENOMEM));
		return (-1);
	}
	return (0);
}

/* Start reading the input, or its copy, from the beginning again. */
static int
rewind_input(struct reader *r)
{
	if (r->spool != NULL) {
		if (fflush(r->spool) != 0)
			return (-1);
		if (r->fp != stdin)
			fclose(r->fp);
		r->fp = r->spool;
		r->fd = fileno(r->spool);
		r->spool = NULL;
	}
	r->idle = NULL;
	if (lseek(r->fd, 0, SEEK_SET) != 0)
		return (-1);
	r->pos = r->end = 0;
	r->eof = 0;
	r->offset = 0;
	return (0);
}

/* What the idle hook needs to send what is held back. */
struct idle_ctx {
	struct fsmc_session *s;
	struct inflight *q;
	struct output *out;
	struct tally *t;
	const struct batch_options *bo;
};

/*
 * Before waiting for input: show the replies of every line sent, so that
 * input typed or piped slowly gets each reply as soon as it comes.
 */
static void
on_idle(void *arg)
{
	struct idle_ctx *c = arg;
	struct fsmc_result res;

	if (!c->bo->pipe)
		take(c->s, c->q, c->out, c->t, c->bo->stop_on_error, 1);
	if (c->bo->pipe && fsmc_session_flush(c->s, &res) != FSMC_OK)
		fprintf(stderr, "fsmemcache: %s\n", res.msg);
	fflush(stdout);
}

/*
 * One --pipe line: counted, and shown only when it fails.  Returns
 * whether --stop-on-error stops the batch.
 */
static int
pipe_one(struct fsmc_session *s, struct expect *e, struct output *out,
    struct tally *t, const struct batch_options *bo, char *line,
    const char *value, size_t vlen, unsigned long lineno, int *nomem)
{
	/* Cleared after each failure: a line sent leaves nothing in it. */
	static struct fsmc_result res;
	int stop;

	fsmc_session_pipe_line(s, line, value, vlen, &res);
	if (res.warning[0] != '\0')
		output_warning(&res, lineno);
	if (res.status == FSMC_OK)
		count(t, &res);
	else
		show(out, t, &res, lineno);
	/* Only what was sent is read back. */
	if (e != NULL && !*nomem && res.status == FSMC_OK &&
	    expect_note(e, res.key, res.keylen, res.command, lineno) != 0) {
		fprintf(stderr,
		    "fsmemcache: line %lu: --verify: %s: the keys of this line "
		    "and those after it are not counted\n",
		    lineno, strerror(ENOMEM));
		*nomem = 1;
		if (t->status < EXIT_INTERNAL)
			t->status = EXIT_INTERNAL;
	}
	stop = bo->stop_on_error && exit_status(res.status) >= EXIT_USAGE;
	if (res.status != FSMC_OK)
		fsmc_result_clear(&res);
	return (stop);
}

/*
 * The end of a --pipe load: lines lost with a connection, one line per
 * server, are errors and not sent; then the servers' refusals.
 */
static void
pipe_end(struct fsmc_session *s, struct tally *t)
{
	struct fsmc_result res, sync;
	long n;
	size_t i;

	fsmc_session_sync(s, &sync);
	for (i = 0; (n = fsmc_session_lost(s, i, &res)) >= 0; i++) {
		if (n == 0)
			continue;
		fprintf(stderr, "fsmemcache: %s\n", res.msg);
		t->ok -= (unsigned long)n < t->ok ? (unsigned long)n : t->ok;
		t->errors += (unsigned long)n;
		if (exit_status(res.status) > t->status)
			t->status = exit_status(res.status);
	}
	if (sync.status != FSMC_OK) {
		fprintf(stderr, "fsmemcache: %s\n", sync.msg);
		if (exit_status(sync.status) > t->status)
			t->status = exit_status(sync.status);
	}
}

/*
 * Run every line of the input.  Returns the highest exit status of any
 * line, or of the input or connection failing.
 */
int
batch_run(struct fsmc *fc, const struct batch_options *bo, struct output *out)
{
	struct inflight q;
	struct expect *e = NULL;
	struct fsmc_session *s;
	struct fsmc_result res;
	struct idle_ctx idle;
	struct reader r;
	struct tally t;
	enum line_status ls;
	unsigned long lineno = 0;
	char *words[FSMC_MAX_TOKENS], why[512], *line, *value;
	const char *bad;
	size_t len, vlen;
	unsigned long vlines;
	int argc, stop = 0, nomem = 0, readerr, off;

	memset(&t, 0, sizeof t);
	memset(&q, 0, sizeof q);
	clock_gettime(CLOCK_MONOTONIC, &t.start);
	t.tty = isatty(STDERR_FILENO) && !out->quiet;
	catch_signals(fc);
	if (open_input(bo, &r) != 0) {
		free(r.line);
		return (EXIT_NOINPUT);
	}
	if (bo->verify && (e = expect_new()) == NULL) {
		fprintf(stderr, "fsmemcache: %s\n", strerror(ENOMEM));
		free(r.line);
		return (EXIT_INTERNAL);
	}
	if (fsmc_session_open(fc, bo->pipe, &s, &res) != FSMC_OK) {
		fprintf(stderr, "fsmemcache: %s\n", res.msg);
		free(r.line);
		return (exit_status(res.status));
	}
	if (!bo->pipe && fsmc_session_set_window(s, bo->window) != 0) {
		fprintf(stderr, "fsmemcache: %s\n", strerror(ENOMEM));
		fsmc_session_close(s);
		free(r.line);
		return (EXIT_INTERNAL);
	}
	if (!bo->pipe)
		fsmc_session_stop_on_error(s, bo->stop_on_error);
	idle.s = s;
	idle.q = &q;
	idle.out = out;
	idle.t = &t;
	idle.bo = bo;
	r.idle = on_idle;
	r.idle_ctx = &idle;
	while (!stop && stop_signal == 0 &&
	    (ls = read_line(&r, &len)) != LINE_EOF) {
		if (stop_signal != 0 || (stop = q.stop))
			break;
		lineno++;
		if (ls == LINE_ERROR) {
			readerr = errno;
			take(s, &q, out, &t, bo->stop_on_error, 1);
			fprintf(stderr, "fsmemcache: %s: %s\n", bo->file,
			    strerror(readerr));
			t.status = EXIT_NOINPUT;
			break;
		}
		if (ls == LINE_TOO_LONG || ls == LINE_NUL) {
			take(s, &q, out, &t, bo->stop_on_error, 1);
			if ((stop = q.stop))
				break;
			line_error(&t, lineno, EXIT_DATAERR,
			    ls == LINE_NUL ? "holds a NUL byte" :
					     "longer than 8 MiB");
			stop |= bo->stop_on_error;
			continue;
		}
		if (skip_line(r.line))
			continue;
		line = r.line;
		value = NULL;
		vlen = vlines = 0;
		if ((off = fsmc_record_header(line, &vlen)) != 0) {
			value = off > 0 ? read_value(&r, vlen, &vlines, &bad) :
					  NULL;
			if (value == NULL) {
				take(s, &q, out, &t, bo->stop_on_error, 1);
				if ((stop = q.stop))
					break;
				line_error(&t, lineno, EXIT_DATAERR,
				    off < 0 ? "not a record: one starts "
					      "\"{LENGTH} \" and a command, "
					      "LENGTH below 1 GiB" :
					      bad);
				stop |= bo->stop_on_error;
				if (off > 0)
					break;
				continue;
			}
			line += off;
		}
		if (bo->pipe) {
			stop = pipe_one(s, e, out, &t, bo, line, value, vlen,
			    lineno, &nomem);
			free(value);
			progress(&t, &r, 0);
			lineno += vlines;
			continue;
		}
		argc = fsmc_split_line(line, words, FSMC_MAX_TOKENS);
		/* The session copies what it keeps of the line. */
		send_line(s, &q, out, &t, bo, argc, words, value, vlen, lineno);
		free(value);
		stop = q.stop || q.refused;
		progress(&t, &r, 0);
		/* A record's value ends lines too. */
		lineno += vlines;
	}
	r.idle = NULL;
	/* Lines in flight have run, or may have: each gets its result. */
	take(s, &q, out, &t, bo->stop_on_error, 1);
	free(q.lineno);
	if (bo->pipe)
		pipe_end(s, &t);
	fsmc_session_close(s);
	progress(&t, &r, 1);
	/* Nothing to read back, nothing sent: not even a connection. */
	if (e != NULL && (t.keys = expect_keys(e)) > 0) {
		if (stop_signal != 0)
			not_read_back(&t, t.keys, 0, "stopped");
		else if (nomem)
			not_read_back(
			    &t, t.keys, EXIT_INTERNAL, strerror(ENOMEM));
		else if (rewind_input(&r) != 0) {
			snprintf(why, sizeof why, "cannot read %s again: %s",
			    bo->file, strerror(errno));
			not_read_back(&t, t.keys, EXIT_NOINPUT, why);
		} else
			verify(fc, &r, e, out, &t);
	}
	expect_free(e);
	if (stop_signal != 0)
		fprintf(stderr, "fsmemcache: stopped by signal %d\n",
		    (int)stop_signal);
	/* -qq: a run that went as it may go says nothing, for cron. */
	if (out->quiet < 2 || t.status >= EXIT_USAGE || t.missing > 0 ||
	    t.differ > 0 || t.unverified > 0 || stop_signal != 0) {
		if (q.after > 0)
			fprintf(stderr,
			    "fsmemcache: stopped at line %lu; the %lu line%s "
			    "after it, sent before it failed, ran all the "
			    "same\n",
			    q.stopped, q.after, q.after == 1 ? "" : "s");
		summary(bo, &t);
	}
	if (r.fp != stdin)
		fclose(r.fp);
	if (r.spool != NULL)
		fclose(r.spool);
	free(r.line);
	if (output_flush(out) != 0)
		return (EXIT_IOERR);
	/* As a shell reports a command that a signal ended. */
	if (stop_signal != 0)
		return (128 + stop_signal);
	return (t.status);
}
