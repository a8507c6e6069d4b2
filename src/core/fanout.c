/* Commands that ask every server ask them all at once, and report their
 * failures in the order of the servers. */

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsmc-int.h"

static void *
part_main(void *arg)
{
	struct fsmc_part *p = arg;

	p->fn(p);
	return (NULL);
}

/*
 * Run fn on every part, parts[i] for the i-th server, each in a thread
 * of its own, and return once all have finished: a server that does
 * not answer costs its own deadline, not the others', so N hung
 * servers cost one.  Each part has a connection of its own and writes
 * only to what belongs to its server; the caller merges the parts
 * afterwards, in order, so that the result is the same whatever order
 * they finished in.  The first part runs in the calling thread; a part
 * that cannot have a thread (out of threads or memory) runs there too,
 * after it, which only costs time.  The threads block every signal, so
 * that a handler runs in a thread of the program's own (FreeSWITCH's,
 * or the command line's) and no thread outlives the call.
 */
void
fsmc_fanout_run(struct fsmc_part *parts, uint32_t n,
    void (*fn)(struct fsmc_part *), void *arg)
{
	pthread_t *threads = NULL;
	unsigned char *started = NULL;
	sigset_t all, old;
	uint32_t i;

	for (i = 0; i < n; i++) {
		memset(&parts[i], 0, sizeof parts[i]);
		parts[i].i = i;
		parts[i].arg = arg;
		parts[i].fn = fn;
	}
	if (n > 1 && (threads = calloc(n, sizeof *threads)) != NULL &&
	    (started = calloc(n, 1)) != NULL) {
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (i = 1; i < n; i++)
			started[i] = pthread_create(&threads[i], NULL,
					 part_main, &parts[i]) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	for (i = 0; i < n; i++) {
		if (started == NULL || !started[i])
			fn(&parts[i]);
	}
	for (i = 1; started != NULL && i < n; i++) {
		if (started[i])
			pthread_join(threads[i], NULL);
	}
	free(threads);
	free(started);
}

/*
 * A part's server failed: its status, -ERR text and reason, and the
 * server, whose address the message gives.
 */
void
fsmc_part_failed(struct fsmc_part *p, enum fsmc_status status,
    const char *errtext, const struct fsmc_server_conf *sc, const char *fmt,
    ...)
{
	va_list ap;

	p->status = status;
	p->errtext = errtext;
	p->sc = sc;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof p->why, fmt, ap);
	va_end(ap);
}

/*
 * Count a part in the failures, in the order of the servers: the first
 * to fail gives the status, the reason and the -ERR text.
 */
void
fsmc_failures_add(struct fsmc_failures *f, const struct fsmc_part *p)
{
	if (p->status == FSMC_OK || f->count++ > 0)
		return;
	f->first = p->status;
	f->errtext = p->errtext;
	snprintf(f->why, sizeof f->why, "%s", p->why);
	fsmc_address(p->sc->host, p->sc->port, f->label, sizeof f->label);
}

/*
 * Run fn on every server at once, as fsmc_fanout_run(), and count the
 * failures in the order of the servers.  FSMC_OK, or FSMC_EINTERNAL
 * when memory ran out before any server was asked.
 */
enum fsmc_status
fsmc_fanout(struct fsmc_call *call, uint32_t n, void (*fn)(struct fsmc_part *),
    void *arg, struct fsmc_failures *f)
{
	struct fsmc_part *parts;
	uint32_t i;

	if (n == 0)
		return (FSMC_OK);
	if ((parts = calloc(n, sizeof *parts)) == NULL)
		return (fsmc_fail(call->res, FSMC_EINTERNAL, call->cmd->name,
		    "out of memory"));
	fsmc_fanout_run(parts, n, fn, arg);
	for (i = 0; i < n; i++)
		fsmc_failures_add(f, &parts[i]);
	free(parts);
	return (FSMC_OK);
}

/*
 * The result of a command that asked every server: the first failure's
 * status, with its reason and how many more servers failed.  The -ERR
 * text is the command's to choose.
 */
enum fsmc_status
fsmc_failures_result(struct fsmc_call *call, const struct fsmc_failures *f)
{
	char more[64];

	if (f->count == 0)
		return (FSMC_OK);
	if (f->count > 1)
		snprintf(more, sizeof more, " and %zu more server%s",
		    f->count - 1, f->count > 2 ? "s" : "");
	else
		more[0] = '\0';
	return (fsmc_fail(call->res, f->first, call->cmd->name, "%s (%s)%s",
	    f->why, f->label, more));
}
