/* Handle life cycle, results and the mapping of library errors. */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsmc-int.h"

/*
 * Open a handle on the configuration named by opts, touching no server.
 * On failure res holds the reason and *fcp is NULL; on success res->msg
 * may hold a warning.  The handle may then be shared by threads; it
 * keeps connections open for their calls until fsmc_close().
 */
enum fsmc_status
fsmc_open(
    struct fsmc **fcp, const struct fsmc_options *opts, struct fsmc_result *res)
{
	return (fsmc_open_with(fcp, opts, 0, res));
}

/*
 * fsmc_open() with overrides that struct fsmc_options, whose size is
 * part of the ABI, has no room for: FSMC_OPEN_ flags.
 */
enum fsmc_status
fsmc_open_with(struct fsmc **fcp, const struct fsmc_options *opts,
    unsigned int flags, struct fsmc_result *res)
{
	struct fsmc *fc;

	*fcp = NULL;
	memset(res, 0, sizeof *res);
	if ((fc = calloc(1, sizeof *fc)) == NULL ||
	    (fc->proto = memcached_create(NULL)) == NULL) {
		free(fc);
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	}
	fc->cancel_fd = -1;
	if (pthread_mutex_init(&fc->lock, NULL) != 0) {
		memcached_free(fc->proto);
		free(fc);
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	}
	fc->locked = 1;
	fc->health_warn.hit = fc->health_warn.evictions =
	    fc->health_warn.memory = fc->health_warn.latency = -1;
	fc->health_crit = fc->health_warn;
	if (opts->health_warn != NULL)
		fc->health_warn = *opts->health_warn;
	if (opts->health_crit != NULL)
		fc->health_crit = *opts->health_crit;
	fc->health_ms = opts->health_interval_ms > 0 ?
	    opts->health_interval_ms :
	    FSMC_HEALTH_INTERVAL_MS;
	if (fsmc_settings_load(&fc->settings, opts, res) != FSMC_OK ||
	    fsmc_settings_tls(&fc->settings, flags & FSMC_OPEN_TLS, res) !=
		FSMC_OK ||
	    fsmc_settings_apply(&fc->settings, fc->proto, res) != FSMC_OK ||
	    fsmc_tls_setup(&fc->settings, res) != FSMC_OK) {
		fsmc_close(fc);
		return (res->status);
	}
	if (fc->settings.ns != NULL)
		fc->nslen = strlen(fc->settings.ns);
	if (fsmc_pool_init(fc) != 0 || fsmc_marks_init(fc, res) != 0) {
		fsmc_close(fc);
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	}
	*fcp = fc;
	return (FSMC_OK);
}

/* Close the handle and its kept connections; no call may be running. */
void
fsmc_close(struct fsmc *fc)
{
	if (fc == NULL)
		return;
	fsmc_pool_free(fc);
	fsmc_marks_free(fc);
	if (fc->locked)
		pthread_mutex_destroy(&fc->lock);
	memcached_free(fc->proto);
	fsmc_settings_free(&fc->settings);
	free(fc);
}

/*
 * Make every wait of the handle's commands end at once when fd becomes
 * readable: a front end writes to a pipe from its signal handler.  Set
 * before the handle is shared; -1 for none.
 */
void
fsmc_set_cancel_fd(struct fsmc *fc, int fd)
{
	fc->cancel_fd = fd;
}

/* The version of the libmemcached in use, as status prints it. */
const char *
fsmc_libmemcached_version(void)
{
	return (memcached_lib_version());
}

/* Free what a result owns and make it ready for reuse. */
void
fsmc_result_clear(struct fsmc_result *res)
{
	size_t i, j;

	free(res->value);
	for (i = 0; i < res->nservers; i++) {
		for (j = 0; j < res->servers[i].nstats; j++) {
			free(res->servers[i].stats[j].name);
			free(res->servers[i].stats[j].value);
		}
		free(res->servers[i].stats);
		free(res->servers[i].slabs);
		free(res->servers[i].host);
	}
	free(res->servers);
	for (i = 0; i < res->nkeys; i++)
		free(res->keys[i].name);
	free(res->keys);
	free(res->top);
	free(res->words);
	fsmc_health_clear(res);
	fsmc_result_reset(res);
}

/* Where the text buffers of a result end. */
#define MSG_END                              \
	(offsetof(struct fsmc_result, msg) + \
	    sizeof(((struct fsmc_result *)0)->msg))
#define WARNING_END                              \
	(offsetof(struct fsmc_result, warning) + \
	    sizeof(((struct fsmc_result *)0)->warning))

/*
 * Empty res as a memset would, but write only the first byte of its two
 * text buffers, most of its size: a batch empties a result per line.
 */
void
fsmc_result_reset(struct fsmc_result *res)
{
	memset(res, 0, offsetof(struct fsmc_result, msg));
	res->msg[0] = '\0';
	memset((char *)res + MSG_END, 0,
	    offsetof(struct fsmc_result, warning) - MSG_END);
	res->warning[0] = '\0';
	memset((char *)res + WARNING_END, 0, sizeof *res - WARNING_END);
}

/*
 * Copy the result src into dst, its text buffers up to their NUL: dst
 * owns what src owned.
 */
void
fsmc_result_move(struct fsmc_result *dst, const struct fsmc_result *src)
{
	memcpy(dst, src, offsetof(struct fsmc_result, msg));
	memcpy(dst->msg, src->msg, strlen(src->msg) + 1);
	memcpy((char *)dst + MSG_END, (const char *)src + MSG_END,
	    offsetof(struct fsmc_result, warning) - MSG_END);
	memcpy(dst->warning, src->warning, strlen(src->warning) + 1);
	memcpy((char *)dst + WARNING_END, (const char *)src + WARNING_END,
	    sizeof *dst - WARNING_END);
}

/*
 * Record a failure: status and one human line "command: message".  The
 * "-ERR" text, if any, is set by the caller.  Returns status.
 */
enum fsmc_status
fsmc_fail(struct fsmc_result *res, enum fsmc_status status, const char *command,
    const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	res->status = status;
	if (status == FSMC_EINTERNAL && res->errtext == NULL)
		res->errtext = memcached_strerror(
		    NULL, MEMCACHED_MEMORY_ALLOCATION_FAILURE);
	if (command != NULL)
		n = snprintf(res->msg, sizeof res->msg, "%s: ", command);
	if (n < 0 || (size_t)n >= sizeof res->msg)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(res->msg + n, sizeof res->msg - n, fmt, ap);
	va_end(ap);
	return (status);
}

/*
 * Add a warning to the result of a command that succeeds: res->msg holds
 * them, "; " between them.
 */
void
fsmc_warn(struct fsmc_result *res, const char *fmt, ...)
{
	size_t n = strlen(res->msg);
	va_list ap;

	if (n + 3 >= sizeof res->msg)
		return;
	if (n == 0)
		n = (size_t)snprintf(res->msg, sizeof res->msg, "warning: ");
	else
		n += (size_t)snprintf(res->msg + n, sizeof res->msg - n, "; ");
	va_start(ap, fmt);
	vsnprintf(res->msg + n, sizeof res->msg - n, fmt, ap);
	va_end(ap);
}

/* What a libmemcached return code means to a caller. */
enum fsmc_status
fsmc_status_of(memcached_return_t rc)
{
	switch (rc) {
	case MEMCACHED_SUCCESS:
	case MEMCACHED_STORED:
	case MEMCACHED_DELETED:
	case MEMCACHED_END:
		return (FSMC_OK);
	case MEMCACHED_NOTFOUND:
		return (FSMC_NOTFOUND);
	case MEMCACHED_NOTSTORED:
	case MEMCACHED_DATA_EXISTS:
		return (FSMC_NOTSTORED);
	case MEMCACHED_BAD_KEY_PROVIDED:
	case MEMCACHED_NO_KEY_PROVIDED:
	case MEMCACHED_KEY_TOO_BIG:
	case MEMCACHED_E2BIG:
	case MEMCACHED_INVALID_ARGUMENTS:
	case MEMCACHED_CLIENT_ERROR:
		return (FSMC_EDATA);
	case MEMCACHED_HOST_LOOKUP_FAILURE:
	case MEMCACHED_CONNECTION_FAILURE:
	case MEMCACHED_CONNECTION_BIND_FAILURE:
	case MEMCACHED_WRITE_FAILURE:
	case MEMCACHED_READ_FAILURE:
	case MEMCACHED_UNKNOWN_READ_FAILURE:
	case MEMCACHED_SOME_ERRORS:
	case MEMCACHED_NO_SERVERS:
	case MEMCACHED_ERRNO:
	case MEMCACHED_FAIL_UNIX_SOCKET:
	case MEMCACHED_TIMEOUT:
	case MEMCACHED_SERVER_MARKED_DEAD:
	case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
		return (FSMC_EUNAVAIL);
	case MEMCACHED_AUTH_PROBLEM:
	case MEMCACHED_AUTH_FAILURE:
		return (FSMC_EAUTH);
	case MEMCACHED_MEMORY_ALLOCATION_FAILURE:
	case MEMCACHED_INVALID_HOST_PROTOCOL:
	case MEMCACHED_NOT_SUPPORTED:
	case MEMCACHED_DEPRECATED:
		return (FSMC_EINTERNAL);
	/*
	 * MEMCACHED_ERROR, a server's "ERROR" (it does not know the
	 * command), shares its value with the unused SOCKET_CREATE_FAILURE.
	 */
	default:
		return (FSMC_ESERVER);
	}
}

/*
 * A short lowercase reason for rc: the system's words when the library
 * saw an errno (as "connection refused"), else the library's own.
 */
void
fsmc_reason(memcached_return_t rc, int errnum, char *buf, size_t len)
{
	char *p;

	buf[0] = '\0';
	if (errnum != 0 && fsmc_status_of(rc) == FSMC_EUNAVAIL &&
	    strerror_r(errnum, buf, len) != 0)
		buf[0] = '\0';
	if (buf[0] == '\0') {
		switch (rc) {
		case MEMCACHED_E2BIG:
			snprintf(buf, len, "value too large for the server");
			break;
		case MEMCACHED_TIMEOUT:
			snprintf(buf, len, "timed out");
			break;
		default:
			snprintf(buf, len, "%s", memcached_strerror(NULL, rc));
		}
	}
	for (p = buf; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
}

/*
 * The reason for a failure of rc on connection c (which may be NULL):
 * fsmc_reason()'s words, and for a broken reply or a value refused for
 * its length what was wrong with it.
 */
void
fsmc_conn_reason(
    const struct fsmc_conn *c, memcached_return_t rc, char *buf, size_t len)
{
	char when[32];
	struct tm tm;
	size_t n;

	/* A server skipped after failing: until when, and the failure. */
	if (c != NULL && c->skipped != 0) {
		if (c->skipped > 0 && gmtime_r(&c->skipped, &tm) != NULL)
			strftime(when, sizeof when, "until %H:%M:%S UTC", &tm);
		else
			snprintf(when, sizeof when, "while it is tried again");
		n = (size_t)snprintf(buf, len, "server skipped %s: ", when);
		if (n < len)
			fsmc_reason(rc, c->errnum, buf + n, len - n);
		return;
	}
	/* TLS failed: the detail says how, in words of its own. */
	if (c != NULL && c->tls_error && c->detail[0] != '\0') {
		snprintf(buf, len, "%s", c->detail);
		return;
	}
	/* A value refused for its length: the detail says how long. */
	if (rc == MEMCACHED_E2BIG && c != NULL && c->detail[0] != '\0') {
		snprintf(buf, len, "%s", c->detail);
		return;
	}
	fsmc_reason(rc, c != NULL ? c->errnum : 0, buf, len);
	n = strlen(buf);
	if (rc == MEMCACHED_PROTOCOL_ERROR && c != NULL && c->detail[0] != '\0')
		snprintf(buf + n, len - n, ": %s", c->detail);
	/*
	 * A server that hangs up on a new connection before a byte of reply
	 * is, more often than not, a TLS port spoken to in plaintext.
	 */
	if (rc == MEMCACHED_CONNECTION_FAILURE && c != NULL &&
	    c->errnum == ECONNRESET && !c->heard && !c->st->tls &&
	    c->sc != NULL && !c->sc->socket)
		snprintf(buf + n, len - n,
		    " before any reply (does the server want TLS?)");
}

/*
 * A server's address for messages: "host:port", "[v6addr]:port", or a
 * socket's path (a name starting with "/").
 */
const char *
fsmc_address(const char *host, unsigned int port, char *buf, size_t len)
{
	if (host[0] == '/')
		snprintf(buf, len, "%s", host);
	else if (strchr(host, ':') != NULL)
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
	return (buf);
}

/*
 * Escape bytes for a message: printable ASCII as is, others as \xNN, cut
 * with "..." when it does not fit.  Keys and words come from users and
 * must not smuggle control sequences onto a terminal.
 */
void
fsmc_escape(const char *s, size_t n, char *buf, size_t len)
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < n; i++) {
		if (o + 8 > len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
	}
	buf[o] = '\0';
}

/* The same, in single quotes. */
void
fsmc_quote(const char *s, size_t n, char *buf, size_t len)
{
	size_t o;

	buf[0] = '\'';
	fsmc_escape(s, n, buf + 1, len - 2);
	o = strlen(buf);
	buf[o++] = '\'';
	buf[o] = '\0';
}

/*
 * Record a failure of the running command: its status, its "-ERR" text
 * (libmemcached's words for rc), and a line naming the key and the
 * server that failed.
 */
enum fsmc_status
fsmc_fail_rc(struct fsmc_call *call, memcached_return_t rc)
{
	struct fsmc_result *res = call->res;
	const struct fsmc_conn *c = call->conn;
	char reason[256], where[300], key[96];
	enum fsmc_status status = fsmc_status_of(rc);

	call->rc = rc;
	res->errtext = memcached_strerror(NULL, rc);
	fsmc_conn_reason(c, rc, reason, sizeof reason);
	if (rc == MEMCACHED_CLIENT_ERROR &&
	    (call->cmd->op == FSMC_INCREMENT ||
		call->cmd->op == FSMC_DECREMENT))
		snprintf(reason, sizeof reason, "value is not a number");
	where[0] = '\0';
	if (status >= FSMC_EUSAGE && c != NULL) {
		where[0] = ' ';
		where[1] = '(';
		fsmc_address(
		    c->sc->host, c->sc->port, where + 2, sizeof where - 3);
		strcat(where, ")");
	}
	if (call->a.key == NULL)
		return (fsmc_fail(
		    res, status, call->cmd->name, "%s%s", reason, where));
	fsmc_escape(call->a.key, call->a.keylen, key, sizeof key);
	return (fsmc_fail(res, status, NULL, "%s %s: %s%s", call->cmd->name,
	    key, reason, where));
}
