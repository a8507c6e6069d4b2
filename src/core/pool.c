/* The links a handle keeps open between calls, so that calls do not connect. */

#include <stdlib.h>
#include <string.h>

#include "fsmc-int.h"

/*
 * Idle links kept, each with a connection per server: as many as calls
 * usually run at once.  A call finding none makes one; a link given back
 * beyond this many is closed.
 */
#define POOL_IDLE 16

/* A link for one call: an idle one with its connections open, or a new one. */
struct fsmc_link *
fsmc_pool_take(struct fsmc *fc, struct fsmc_result *res)
{
	struct fsmc_link *l = NULL;

	pthread_mutex_lock(&fc->lock);
	if (fc->nidle > 0)
		l = fc->idle[--fc->nidle];
	pthread_mutex_unlock(&fc->lock);
	if (l != NULL)
		return (l);
	if ((l = calloc(1, sizeof *l)) == NULL) {
		fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory");
		return (NULL);
	}
	if (fsmc_link_init(l, fc, fc->proto, res) != FSMC_OK) {
		free(l);
		return (NULL);
	}
	return (l);
}

/*
 * Take back a call's link.  A connection still holding a reply nobody
 * read, requests not sent, or requests whose replies are still to come
 * is out of step with its server: it is closed, and the next call opens
 * it anew.  What a command set on a connection for itself is undone.
 */
void
fsmc_pool_give(struct fsmc *fc, struct fsmc_link *l)
{
	struct fsmc_conn *c;
	uint32_t i;

	for (i = 0; i < l->nconns; i++) {
		c = &l->conns[i];
		if (c->outlen > 0 || c->quiet || fsmc_conn_pending(c))
			fsmc_conn_close(c);
		fsmc_mark_release(c);
		c->quiet = 0;
		c->refused = 0;
		c->bare_lf = 0;
		c->binary = c->st->binary;
		c->value_max = FSMC_VALUE_MAX;
	}
	pthread_mutex_lock(&fc->lock);
	if (fc->nidle < POOL_IDLE) {
		fc->idle[fc->nidle++] = l;
		l = NULL;
	}
	pthread_mutex_unlock(&fc->lock);
	if (l != NULL) {
		fsmc_link_free(l);
		free(l);
	}
}

/* Close the idle links; no call may be running. */
void
fsmc_pool_free(struct fsmc *fc)
{
	size_t i;

	for (i = 0; i < fc->nidle; i++) {
		fsmc_link_free(fc->idle[i]);
		free(fc->idle[i]);
	}
	free(fc->idle);
	fc->idle = NULL;
	fc->nidle = 0;
}

/* Room for the idle links, made when the handle opens. */
int
fsmc_pool_init(struct fsmc *fc)
{
	fc->idle = calloc(POOL_IDLE, sizeof *fc->idle);
	return (fc->idle == NULL ? -1 : 0);
}
