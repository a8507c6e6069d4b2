/* Read the configuration (file, profile, overrides) and apply it to a handle.
 */

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <libhashkit-1.0/hashkit.h>
#include <openssl/ssl.h>

#include "fsmc-int.h"

/*
 * fsmemcache fails fast where libmemcached would wait 4 to 5 seconds on
 * a dead server; timeouts do not change where keys are placed.
 */
#define DEFAULT_CONNECT_MS 1000
#define DEFAULT_IO_MS 1000
#define TIMEOUT_MS_MAX 3600000
/*
 * A server that failed twice in a row is skipped for 5 seconds: a PBX's
 * calls then fail at once instead of each waiting a timeout, and one
 * call in 5 seconds tries the server again.
 */
#define DEFAULT_FAILURE_LIMIT 2
#define DEFAULT_RETRY_S 5
#define PASSWORD_MAX 1023
/* Copies beyond the first; each needs a server of its own. */
#define REPLICAS_MAX 15

struct named {
	const char *name;
	int value;
};

static const struct named distributions[] = {
	{ "modula", FSMC_DIST_MODULA },
	{ "ketama", FSMC_DIST_KETAMA },
	{ "ketama-weighted", FSMC_DIST_KETAMA_WEIGHTED },
	{ NULL, 0 },
};

static const struct named hashes[] = {
	{ "default", MEMCACHED_HASH_DEFAULT },
	{ "md5", MEMCACHED_HASH_MD5 },
	{ "crc", MEMCACHED_HASH_CRC },
	{ "fnv1_64", MEMCACHED_HASH_FNV1_64 },
	{ "fnv1a_64", MEMCACHED_HASH_FNV1A_64 },
	{ "fnv1_32", MEMCACHED_HASH_FNV1_32 },
	{ "fnv1a_32", MEMCACHED_HASH_FNV1A_32 },
	{ "hsieh", MEMCACHED_HASH_HSIEH },
	{ "murmur", MEMCACHED_HASH_MURMUR },
	{ "murmur3", MEMCACHED_HASH_MURMUR3 },
	{ "jenkins", MEMCACHED_HASH_JENKINS },
	{ NULL, 0 },
};

static const char *top_settings[] = { "servers", "namespace", "protocol",
	"distribution", "hash", "replicas", "timeouts", "failover",
	"tcp_nodelay", "sasl", "profiles", "tls", "tls_ca_file",
	"tls_cert_file", "tls_key_file", "tls_server_name", "tls_verify",
	NULL };
static const char *timeout_settings[] = { "connect_ms", "io_ms", "retry_s",
	NULL };
static const char *failover_settings[] = { "remove_failed_servers",
	"failure_limit", "state_file", NULL };
static const char *sasl_settings[] = { "username", "password", "password_file",
	NULL };
static const char *server_settings[] = { "host", "port", "weight", "socket",
	NULL };

/* Where a setting comes from, for messages: "FILE:LINE: NAME". */
struct where {
	const char *file;
	const char *prefix; /* "" or "profiles.NAME." */
	enum fsmc_status status;
	struct fsmc_result *res;
	struct fsmc_files *conf; /* NULL for the command line */
};

static enum fsmc_status bad(const struct where *w, const config_setting_t *s,
    const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum fsmc_status
bad(const struct where *w, const config_setting_t *s, const char *name,
    const char *fmt, ...)
{
	char msg[400], at[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (s != NULL && w->conf != NULL) {
		fsmc_files_at(w->conf,
		    (unsigned int)config_setting_source_line(s), at, sizeof at);
		return (fsmc_fail(w->res, w->status, NULL, "%s: %s%s: %s", at,
		    w->prefix, name, msg));
	}
	return (fsmc_fail(w->res, w->status, NULL, "%s: %s%s: %s", w->file,
	    w->prefix, name, msg));
}

static int
lookup_name(const struct named *table, const char *name)
{
	int i;

	for (i = 0; table[i].name != NULL; i++) {
		if (strcmp(table[i].name, name) == 0)
			return (i);
	}
	return (-1);
}

static void
list_names(const struct named *table, char *buf, size_t len)
{
	int i;

	int n = 0;

	buf[0] = '\0';
	for (i = 0; table[i].name != NULL; i++) {
		/* Offer only the hashes this libmemcached was built with. */
		if (table == hashes &&
		    !libhashkit_has_algorithm(
			(hashkit_hash_algorithm_t)table[i].value))
			continue;
		if (n++ > 0)
			strncat(buf, ", ", len - strlen(buf) - 1);
		strncat(buf, table[i].name, len - strlen(buf) - 1);
	}
}

/* Refuse members of group g that are not in names. */
static enum fsmc_status
only_members(const struct where *w, const config_setting_t *g,
    const char *group, const char **names)
{
	const config_setting_t *m;
	const char **n;
	char path[128];
	int i;

	for (i = 0; i < config_setting_length(g); i++) {
		m = config_setting_get_elem(g, (unsigned)i);
		for (n = names; *n != NULL; n++) {
			if (strcmp(*n, config_setting_name(m)) == 0)
				break;
		}
		if (*n == NULL) {
			snprintf(path, sizeof path, "%s%s%s", group,
			    group[0] != '\0' ? "." : "",
			    config_setting_name(m));
			return (bad(w, m, path, "unknown setting"));
		}
	}
	return (FSMC_OK);
}

static enum fsmc_status
want_int(const struct where *w, const config_setting_t *s, const char *name,
    int min, int max, int *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return (bad(w, s, name, "must be a whole number from %d to %d",
		    min, max));
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return (bad(w, s, name, "%lld is out of range (%d to %d)", v,
		    min, max));
	*out = (int)v;
	return (FSMC_OK);
}

static enum fsmc_status
want_bool(const struct where *w, const config_setting_t *s, const char *name,
    int *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return (bad(w, s, name, "must be true or false"));
	*out = config_setting_get_bool(s);
	return (FSMC_OK);
}

static enum fsmc_status
want_string(const struct where *w, const config_setting_t *s, const char *name,
    const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return (bad(w, s, name, "must be a string"));
	*out = config_setting_get_string(s);
	return (FSMC_OK);
}

static enum fsmc_status
want_name(const struct where *w, const config_setting_t *s, const char *name,
    const struct named *table, int *out)
{
	const char *v = NULL;
	char names[256], text[128];

	if (want_string(w, s, name, &v) != FSMC_OK)
		return (w->res->status);
	if ((*out = lookup_name(table, v)) < 0) {
		list_names(table, names, sizeof names);
		fsmc_escape(v, strlen(v), text, sizeof text);
		return (
		    bad(w, s, name, "unknown value \"%s\" (%s)", text, names));
	}
	return (FSMC_OK);
}

static char *
copy_string(const struct where *w, const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		fsmc_fail(w->res, FSMC_EINTERNAL, NULL, "out of memory");
	return (p);
}

void
fsmc_settings_free(struct fsmc_settings *st)
{
	size_t i;

	for (i = 0; i < st->nservers; i++)
		free(st->servers[i].host);
	free(st->servers);
	free(st->ns);
	free(st->sasl_user);
	free(st->profiles);
	free(st->state_file);
	free(st->tls_ca_file);
	free(st->tls_cert_file);
	free(st->tls_key_file);
	free(st->tls_server_name);
	if (st->tls_ctx != NULL)
		SSL_CTX_free(st->tls_ctx);
	if (st->tls_bio != NULL)
		BIO_meth_free(st->tls_bio);
	if (st->sasl_password != NULL) {
		memset(st->sasl_password, 0, strlen(st->sasl_password));
		free(st->sasl_password);
	}
	memset(st, 0, sizeof *st);
}

static enum fsmc_status
push_server(const struct where *w, struct fsmc_settings *st, const char *host,
    size_t hostlen, unsigned int port, unsigned int weight, int sock)
{
	struct fsmc_server_conf *list, *sc;

	list = realloc(st->servers, (st->nservers + 1) * sizeof *list);
	if (list == NULL)
		return (
		    fsmc_fail(w->res, FSMC_EINTERNAL, NULL, "out of memory"));
	st->servers = list;
	sc = &list[st->nservers];
	if ((sc->host = malloc(hostlen + 1)) == NULL)
		return (
		    fsmc_fail(w->res, FSMC_EINTERNAL, NULL, "out of memory"));
	memcpy(sc->host, host, hostlen);
	sc->host[hostlen] = '\0';
	sc->port = port;
	sc->weight = weight;
	sc->socket = sock;
	st->nservers++;
	return (FSMC_OK);
}

static int
parse_uint(const char *s, size_t len, unsigned int min, unsigned int max,
    unsigned int *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 10)
		return (-1);
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (-1);
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < min || v > max)
		return (-1);
	*out = (unsigned int)v;
	return (0);
}

/* Why a host name cannot be one, or NULL if it can. */
static const char *
bad_host(const char *host, size_t len)
{
	size_t i;

	if (len == 0)
		return ("empty");
	if (len > 255)
		return ("longer than 255 bytes");
	for (i = 0; i < len; i++) {
		if (host[i] == ' ' || host[i] == ',' ||
		    (unsigned char)host[i] < 0x20 || host[i] == 0x7f)
			return (
			    "holds a space, a comma or a control character");
	}
	return (NULL);
}

/*
 * One entry of a server string: "/socket/path", "host", "host:port",
 * "host:port:weight" (or "host:port weight"), "[v6addr]:port...".
 */
static enum fsmc_status
parse_server_entry(const struct where *w, const config_setting_t *s,
    struct fsmc_settings *st, const char *e, size_t len)
{
	const char *host = e, *p, *end = e + len, *sep, *why;
	unsigned int port = 11211, weight = 1;
	char entry[128], part[64];
	size_t hostlen;

	fsmc_escape(e, len, entry, sizeof entry);
	if (e[0] == '/')
		return (push_server(w, st, e, len, 0, 1, 1));
	if (e[0] == '[') {
		if ((p = memchr(e, ']', len)) == NULL || p == e + 1)
			return (
			    bad(w, s, "servers", "bad address '%s'", entry));
		host = e + 1;
		hostlen = (size_t)(p - host);
		p++;
		if (p < end && *p != ':')
			return (
			    bad(w, s, "servers", "bad address '%s'", entry));
	} else {
		for (p = e; p < end && *p != ':'; p++)
			;
		hostlen = (size_t)(p - e);
	}
	if ((why = bad_host(host, hostlen)) != NULL)
		return (
		    bad(w, s, "servers", "bad host in '%s': %s", entry, why));
	if (p < end) {
		p++;
		for (sep = p; sep < end && *sep != ':' && *sep != ' '; sep++)
			;
		fsmc_escape(p, (size_t)(sep - p), part, sizeof part);
		if (parse_uint(p, (size_t)(sep - p), 1, 65535, &port) != 0)
			return (bad(w, s, "servers",
			    "bad port '%s' in '%s' (1 to 65535)", part, entry));
		fsmc_escape(sep + 1, sep < end ? (size_t)(end - sep - 1) : 0,
		    part, sizeof part);
		if (sep < end &&
		    parse_uint(sep + 1, (size_t)(end - sep - 1), 1, 65535,
			&weight) != 0)
			return (bad(w, s, "servers",
			    "bad weight '%s' in '%s' (1 to 65535)", part,
			    entry));
	}
	return (push_server(w, st, host, hostlen, port, weight, 0));
}

/*
 * A server string in mod_memcache's "memcache-servers" form: entries
 * separated by commas, white space around them ignored.  Unlike
 * libmemcached's parser, anything it cannot read is an error.
 */
static enum fsmc_status
parse_server_string(const struct where *w, const config_setting_t *s,
    struct fsmc_settings *st, const char *list)
{
	const char *e, *end;
	size_t i, len;

	/* -s replaces the file's servers. */
	for (i = 0; i < st->nservers; i++)
		free(st->servers[i].host);
	st->nservers = 0;
	for (e = list; *e != '\0'; e = *end != '\0' ? end + 1 : end) {
		if ((end = strchr(e, ',')) == NULL)
			end = e + strlen(e);
		while (e < end && isspace((unsigned char)*e))
			e++;
		len = (size_t)(end - e);
		while (len > 0 && isspace((unsigned char)e[len - 1]))
			len--;
		if (len == 0)
			continue;
		if (parse_server_entry(w, s, st, e, len) != FSMC_OK)
			return (w->res->status);
	}
	if (st->nservers == 0)
		return (bad(w, s, "servers", "no servers in \"%s\"", list));
	return (FSMC_OK);
}

/* { host = "..."; port = N; weight = N; } or { socket = "..."; } */
static enum fsmc_status
parse_server_group(
    const struct where *w, struct fsmc_settings *st, const config_setting_t *g)
{
	const config_setting_t *m;
	const char *host = NULL, *sock = NULL, *why;
	int port = 11211, weight = 1;
	char text[128];

	if (!config_setting_is_group(g))
		return (bad(w, g, "servers",
		    "each server must be a group { host = \"...\"; port = N; } "
		    "or { socket = \"...\"; }"));
	if (only_members(w, g, "servers", server_settings) != FSMC_OK)
		return (w->res->status);
	if (((m = config_setting_get_member(g, "host")) != NULL &&
		want_string(w, m, "servers.host", &host) != FSMC_OK) ||
	    ((m = config_setting_get_member(g, "socket")) != NULL &&
		want_string(w, m, "servers.socket", &sock) != FSMC_OK) ||
	    ((m = config_setting_get_member(g, "port")) != NULL &&
		want_int(w, m, "servers.port", 1, 65535, &port) != FSMC_OK) ||
	    ((m = config_setting_get_member(g, "weight")) != NULL &&
		want_int(w, m, "servers.weight", 1, 65535, &weight) != FSMC_OK))
		return (w->res->status);
	if ((host == NULL) == (sock == NULL))
		return (bad(
		    w, g, "servers", "a server needs either host or socket"));
	if (sock != NULL && sock[0] != '/')
		return (
		    bad(w, g, "servers.socket", "must be an absolute path"));
	if (host != NULL && (why = bad_host(host, strlen(host))) != NULL) {
		fsmc_escape(host, strlen(host), text, sizeof text);
		return (bad(w, g, "servers.host", "bad host name \"%s\": %s",
		    text, why));
	}
	if (sock != NULL)
		return (push_server(
		    w, st, sock, strlen(sock), 0, (unsigned)weight, 1));
	return (push_server(
	    w, st, host, strlen(host), (unsigned)port, (unsigned)weight, 0));
}

static enum fsmc_status
parse_servers(
    const struct where *w, struct fsmc_settings *st, const config_setting_t *s)
{
	int i;

	for (i = 0; (size_t)i < st->nservers; i++)
		free(st->servers[i].host);
	st->nservers = 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return (parse_server_string(
		    w, s, st, config_setting_get_string(s)));
	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return (bad(w, s, "servers",
		    "must be a string \"host:port, ...\" or a list "
		    "( { host = \"...\"; port = N; }, ... )"));
	if (config_setting_length(s) == 0)
		return (bad(w, s, "servers", "empty list"));
	for (i = 0; i < config_setting_length(s); i++) {
		if (parse_server_group(w, st,
			config_setting_get_elem(s, (unsigned)i)) != FSMC_OK)
			return (w->res->status);
	}
	return (FSMC_OK);
}

/* Why a namespace cannot prefix keys, or NULL if it can. */
static const char *
bad_namespace(const char *ns)
{
	const char *p;

	/* libmemcached keeps room for a NUL in its 128 bytes. */
	if (strlen(ns) > MEMCACHED_MAX_NAMESPACE - 1)
		return ("longer than 127 bytes");
	for (p = ns; *p != '\0'; p++) {
		if (*p == ' ' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return ("contains a space or a control character");
	}
	/*
	 * libmemcached takes a namespace only of bytes for which isgraph()
	 * holds in the C locale, and fails to apply it otherwise.
	 */
	for (p = ns; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			return ("contains a byte of 0x80 or more (libmemcached "
				"takes printable ASCII only)");
	}
	return (NULL);
}

static enum fsmc_status
set_namespace(const struct where *w, const config_setting_t *s,
    struct fsmc_settings *st, const char *ns)
{
	const char *why;
	char *copy, text[600];

	if ((why = bad_namespace(ns)) != NULL) {
		fsmc_escape(ns, strlen(ns), text, sizeof text);
		return (bad(w, s, "namespace", "\"%s\" %s", text, why));
	}
	if ((copy = copy_string(w, ns)) == NULL)
		return (w->res->status);
	free(st->ns);
	st->ns = copy;
	return (FSMC_OK);
}

/*
 * Read a password file, less one trailing newline.  A relative path is
 * taken from the directory of the file that names it.
 */
/*
 * failover.state_file: true for the default path, false for none, or an
 * absolute path.
 */
static enum fsmc_status
set_state_file(
    const struct where *w, const config_setting_t *s, struct fsmc_settings *st)
{
	const char *v;
	char *path = NULL;

	if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
		if (config_setting_get_bool(s) &&
		    (path = fsmc_state_default()) == NULL)
			return (fsmc_fail(
			    w->res, FSMC_EINTERNAL, NULL, "out of memory"));
	} else if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return (bad(w, s, "failover.state_file",
		    "must be true, false or an absolute path"));
	else if ((v = config_setting_get_string(s))[0] != '/')
		return (bad(
		    w, s, "failover.state_file", "must be an absolute path"));
	else if ((path = strdup(v)) == NULL)
		return (
		    fsmc_fail(w->res, FSMC_EINTERNAL, NULL, "out of memory"));
	free(st->state_file);
	st->state_file = path;
	return (FSMC_OK);
}

static enum fsmc_status
read_password_file(const struct where *w, const config_setting_t *s,
    struct fsmc_settings *st, const char *path)
{
	struct fsmc_files *c = w->conf;
	const char *name;
	char *buf, *full;
	size_t n, src;
	unsigned int in;
	mode_t mode = 0;
	enum fsmc_read r;

	src = fsmc_files_origin(
	    c, (unsigned int)config_setting_source_line(s), &in);
	if ((full = fsmc_path_beside(c->sources[src].path, path)) == NULL ||
	    (src = fsmc_files_add(c, full)) == FSMC_NO_SOURCE)
		return (
		    fsmc_fail(w->res, FSMC_EINTERNAL, NULL, "out of memory"));
	name = c->sources[src].name;
	r = fsmc_read_whole(
	    c->sources[src].path, PASSWORD_MAX, &buf, &n, &mode);
	if (r == FSMC_READ_ERRNO)
		return (bad(w, s, "sasl.password_file", "%s: %s", name,
		    strerror(errno)));
	if (r == FSMC_READ_NOTREG)
		return (bad(w, s, "sasl.password_file",
		    "%s: not a regular file", name));
	if (r == FSMC_READ_BIG)
		return (bad(w, s, "sasl.password_file",
		    "%s: longer than %d bytes", name, PASSWORD_MAX));
	if (r == FSMC_READ_NOMEM)
		return (
		    fsmc_fail(w->res, FSMC_EINTERNAL, NULL, "out of memory"));
	/* Warned about like a password in the configuration itself. */
	c->sources[src].readable = (mode & (S_IRGRP | S_IROTH)) != 0;
	c->sources[src].password = 1;
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (n == 0 || memchr(buf, '\0', n) != NULL) {
		memset(buf, 0, n);
		free(buf);
		return (bad(
		    w, s, "sasl.password_file", "%s: empty or not text", name));
	}
	free(st->sasl_password);
	st->sasl_password = copy_string(w, buf);
	memset(buf, 0, n);
	free(buf);
	return (st->sasl_password != NULL ? FSMC_OK : w->res->status);
}

/* Remember that the file holding setting s holds a password. */
static void
mark_password(const struct where *w, const config_setting_t *s)
{
	unsigned int in;

	if (w->conf != NULL)
		w->conf
		    ->sources[fsmc_files_origin(w->conf,
			(unsigned int)config_setting_source_line(s), &in)]
		    .password = 1;
}

static enum fsmc_status
parse_sasl(
    const struct where *w, struct fsmc_settings *st, const config_setting_t *g)
{
	const config_setting_t *m, *pw, *pwfile;
	const char *v = NULL;

	if (!config_setting_is_group(g))
		return (bad(w, g, "sasl",
		    "must be a group { username = \"...\"; password_file = "
		    "\"...\"; }"));
	if (only_members(w, g, "sasl", sasl_settings) != FSMC_OK)
		return (w->res->status);
	if ((m = config_setting_get_member(g, "username")) == NULL)
		return (bad(w, g, "sasl.username", "missing"));
	if (want_string(w, m, "sasl.username", &v) != FSMC_OK)
		return (w->res->status);
	if (v[0] == '\0')
		return (bad(w, m, "sasl.username", "empty"));
	free(st->sasl_user);
	if ((st->sasl_user = copy_string(w, v)) == NULL)
		return (w->res->status);
	pw = config_setting_get_member(g, "password");
	pwfile = config_setting_get_member(g, "password_file");
	if (pw != NULL && pwfile != NULL)
		return (bad(w, pwfile, "sasl",
		    "give password or password_file, not both"));
	if (pw != NULL) {
		if (want_string(w, pw, "sasl.password", &v) != FSMC_OK)
			return (w->res->status);
		free(st->sasl_password);
		if ((st->sasl_password = copy_string(w, v)) == NULL)
			return (w->res->status);
		mark_password(w, pw);
	}
	if (pwfile != NULL) {
		if (want_string(w, pwfile, "sasl.password_file", &v) !=
			FSMC_OK ||
		    read_password_file(w, pwfile, st, v) != FSMC_OK)
			return (w->res->status);
	}
	return (FSMC_OK);
}

/*
 * A file named by a setting, taken from the directory of the file that
 * names it when relative, as password_file is.
 */
static enum fsmc_status
file_setting(const struct where *w, const config_setting_t *s, const char *name,
    char **out)
{
	const char *v = NULL;
	unsigned int in;
	size_t src;
	char *full;

	if (want_string(w, s, name, &v) != FSMC_OK)
		return (w->res->status);
	if (v[0] == '\0')
		return (bad(w, s, name, "empty"));
	src = fsmc_files_origin(
	    w->conf, (unsigned int)config_setting_source_line(s), &in);
	if ((full = fsmc_path_beside(w->conf->sources[src].path, v)) == NULL)
		return (
		    fsmc_fail(w->res, FSMC_EINTERNAL, NULL, "out of memory"));
	free(*out);
	*out = full;
	return (FSMC_OK);
}

/* tls, and the files and names it uses, of one level. */
static enum fsmc_status
parse_tls(
    const struct where *w, struct fsmc_settings *st, const config_setting_t *g)
{
	const config_setting_t *s;
	const char *v = NULL, *why;
	char text[128];

	if (((s = config_setting_get_member(g, "tls")) != NULL &&
		want_bool(w, s, "tls", &st->tls) != FSMC_OK) ||
	    ((s = config_setting_get_member(g, "tls_verify")) != NULL &&
		want_bool(w, s, "tls_verify", &st->tls_verify) != FSMC_OK) ||
	    ((s = config_setting_get_member(g, "tls_ca_file")) != NULL &&
		file_setting(w, s, "tls_ca_file", &st->tls_ca_file) !=
		    FSMC_OK) ||
	    ((s = config_setting_get_member(g, "tls_cert_file")) != NULL &&
		file_setting(w, s, "tls_cert_file", &st->tls_cert_file) !=
		    FSMC_OK) ||
	    ((s = config_setting_get_member(g, "tls_key_file")) != NULL &&
		file_setting(w, s, "tls_key_file", &st->tls_key_file) !=
		    FSMC_OK))
		return (w->res->status);
	if ((s = config_setting_get_member(g, "tls_server_name")) != NULL) {
		if (want_string(w, s, "tls_server_name", &v) != FSMC_OK)
			return (w->res->status);
		if ((why = bad_host(v, strlen(v))) != NULL) {
			fsmc_escape(v, strlen(v), text, sizeof text);
			return (bad(
			    w, s, "tls_server_name", "\"%s\" %s", text, why));
		}
		free(st->tls_server_name);
		if ((st->tls_server_name = copy_string(w, v)) == NULL)
			return (w->res->status);
	}
	return (FSMC_OK);
}

/*
 * The settings of one level: the top of the file, or one profile (which
 * may not hold profiles of its own).
 */
static enum fsmc_status
parse_level(const struct where *w, struct fsmc_settings *st,
    const config_setting_t *g, int top)
{
	const config_setting_t *s, *m;
	const char *v = NULL;
	char text[128];

	if (only_members(w, g, "", top_settings) != FSMC_OK)
		return (w->res->status);
	if (!top && (s = config_setting_get_member(g, "profiles")) != NULL)
		return (
		    bad(w, s, "profiles", "a profile cannot hold profiles"));
	if ((s = config_setting_get_member(g, "servers")) != NULL &&
	    parse_servers(w, st, s) != FSMC_OK)
		return (w->res->status);
	if ((s = config_setting_get_member(g, "namespace")) != NULL &&
	    (want_string(w, s, "namespace", &v) != FSMC_OK ||
		set_namespace(w, s, st, v) != FSMC_OK))
		return (w->res->status);
	if ((s = config_setting_get_member(g, "protocol")) != NULL) {
		if (want_string(w, s, "protocol", &v) != FSMC_OK)
			return (w->res->status);
		if (strcmp(v, "ascii") != 0 && strcmp(v, "binary") != 0) {
			fsmc_escape(v, strlen(v), text, sizeof text);
			return (bad(w, s, "protocol",
			    "unknown value \"%s\" (ascii or binary)", text));
		}
		st->binary = strcmp(v, "binary") == 0;
		st->protocol_line = config_setting_source_line(s);
	}
	if ((s = config_setting_get_member(g, "distribution")) != NULL &&
	    want_name(w, s, "distribution", distributions, &st->distribution) !=
		FSMC_OK)
		return (w->res->status);
	if ((s = config_setting_get_member(g, "hash")) != NULL) {
		if (want_name(w, s, "hash", hashes, &st->hash) != FSMC_OK)
			return (w->res->status);
		if (!libhashkit_has_algorithm(
			(hashkit_hash_algorithm_t)hashes[st->hash].value))
			return (bad(w, s, "hash",
			    "\"%s\" is not built into this libmemcached",
			    hashes[st->hash].name));
	}
	if ((s = config_setting_get_member(g, "replicas")) != NULL &&
	    want_int(w, s, "replicas", 0, REPLICAS_MAX, &st->replicas) !=
		FSMC_OK)
		return (w->res->status);
	if ((s = config_setting_get_member(g, "timeouts")) != NULL) {
		if (!config_setting_is_group(s))
			return (bad(w, s, "timeouts",
			    "must be a group { connect_ms = N; io_ms = N; "
			    "retry_s = N; }"));
		if (only_members(w, s, "timeouts", timeout_settings) !=
			FSMC_OK ||
		    ((m = config_setting_get_member(s, "connect_ms")) != NULL &&
			want_int(w, m, "timeouts.connect_ms", 1, TIMEOUT_MS_MAX,
			    &st->connect_ms) != FSMC_OK) ||
		    ((m = config_setting_get_member(s, "io_ms")) != NULL &&
			want_int(w, m, "timeouts.io_ms", 1, TIMEOUT_MS_MAX,
			    &st->io_ms) != FSMC_OK) ||
		    ((m = config_setting_get_member(s, "retry_s")) != NULL &&
			want_int(w, m, "timeouts.retry_s", 0, 86400,
			    &st->retry_s) != FSMC_OK))
			return (w->res->status);
	}
	if ((s = config_setting_get_member(g, "failover")) != NULL) {
		if (!config_setting_is_group(s))
			return (bad(w, s, "failover",
			    "must be a group { remove_failed_servers = BOOL; "
			    "failure_limit = N; }"));
		if (only_members(w, s, "failover", failover_settings) !=
			FSMC_OK ||
		    ((m = config_setting_get_member(
			  s, "remove_failed_servers")) != NULL &&
			want_bool(w, m, "failover.remove_failed_servers",
			    &st->remove_failed) != FSMC_OK) ||
		    ((m = config_setting_get_member(s, "failure_limit")) !=
			    NULL &&
			want_int(w, m, "failover.failure_limit", 1, 1000,
			    &st->failure_limit) != FSMC_OK) ||
		    ((m = config_setting_get_member(s, "state_file")) != NULL &&
			set_state_file(w, m, st) != FSMC_OK))
			return (w->res->status);
	}
	if ((s = config_setting_get_member(g, "tcp_nodelay")) != NULL &&
	    want_bool(w, s, "tcp_nodelay", &st->tcp_nodelay) != FSMC_OK)
		return (w->res->status);
	if ((s = config_setting_get_member(g, "sasl")) != NULL &&
	    parse_sasl(w, st, s) != FSMC_OK)
		return (w->res->status);
	return (parse_tls(w, st, g));
}

/* Remember a profile's name, for -n (and so for shell completion). */
static enum fsmc_status
add_profile_name(
    struct fsmc_settings *st, const char *name, struct fsmc_result *res)
{
	size_t used = st->profiles != NULL ? strlen(st->profiles) : 0;
	char *p;

	if ((p = realloc(st->profiles, used + strlen(name) + 2)) == NULL)
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	snprintf(p + used, strlen(name) + 2, "%s%s", used > 0 ? " " : "", name);
	st->profiles = p;
	return (FSMC_OK);
}

static enum fsmc_status
parse_file(struct fsmc_settings *st, const struct fsmc_options *opts,
    struct fsmc_files *c, struct fsmc_result *res)
{
	struct where w = { opts->config_file, "", FSMC_ECONFIG, res, c };
	const config_setting_t *profiles, *p;
	struct fsmc_settings scratch;
	char prefix[160], at[400];
	int i;
	config_t cfg;

	config_init(&cfg);
	if (fsmc_files_read(c, opts->config_file, res) != FSMC_OK)
		goto done;
	if (!config_read_string(&cfg, c->text)) {
		fsmc_files_at(
		    c, (unsigned int)config_error_line(&cfg), at, sizeof at);
		fsmc_fail(res, FSMC_ECONFIG, NULL, "%s: %s", at,
		    config_error_text(&cfg));
		goto done;
	}
	if (parse_level(&w, st, config_root_setting(&cfg), 1) != FSMC_OK)
		goto done;
	profiles = config_lookup(&cfg, "profiles");
	if (profiles != NULL && !config_setting_is_group(profiles)) {
		bad(&w, profiles, "profiles",
		    "must be a group { NAME = { ... }; ... }");
		goto done;
	}
	/* Check every profile, so that -n finds errors in unused ones. */
	for (i = 0; profiles != NULL && i < config_setting_length(profiles);
	     i++) {
		p = config_setting_get_elem(profiles, (unsigned)i);
		snprintf(prefix, sizeof prefix, "profiles.%s",
		    config_setting_name(p));
		if (!config_setting_is_group(p)) {
			w.prefix = "";
			bad(&w, p, prefix, "must be a group");
			goto done;
		}
		strncat(prefix, ".", sizeof prefix - strlen(prefix) - 1);
		w.prefix = prefix;
		memset(&scratch, 0, sizeof scratch);
		parse_level(&w, &scratch, p, 0);
		fsmc_settings_free(&scratch);
		if (res->status != FSMC_OK ||
		    add_profile_name(st, config_setting_name(p), res) !=
			FSMC_OK)
			goto done;
	}
	if (opts->profile != NULL) {
		p = profiles != NULL ?
		    config_setting_get_member(profiles, opts->profile) :
		    NULL;
		if (p == NULL) {
			fsmc_fail(res, FSMC_ECONFIG, NULL,
			    "%s: no profile '%s'", opts->config_file,
			    opts->profile);
			goto done;
		}
		snprintf(prefix, sizeof prefix, "profiles.%s.", opts->profile);
		w.prefix = prefix;
		if (parse_level(&w, st, p, 0) != FSMC_OK)
			goto done;
	}
	fsmc_files_warning(c, res);
done:
	config_destroy(&cfg);
	return (res->status);
}

/* "FILE:LINE" of the protocol setting, which another setting needs. */
static void
protocol_at(const struct fsmc_files *c, const struct fsmc_settings *st,
    char *buf, size_t len)
{
	fsmc_files_at(c, (unsigned int)st->protocol_line, buf, len);
}

/*
 * libmemcached copies a set to the servers after the key's own, in list
 * order, and reads those copies only in the binary protocol.
 */
static enum fsmc_status
check_replicas(struct fsmc_settings *st, const struct fsmc_options *opts,
    const struct fsmc_files *c, struct fsmc_result *res)
{
	const char *file =
	    opts->config_file != NULL ? opts->config_file : "replicas";
	char at[400];

	if (st->replicas == 0)
		return (FSMC_OK);
	if ((size_t)st->replicas >= st->nservers)
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "%s: replicas: %d %s need at least %d servers, not %zu",
		    file, st->replicas, st->replicas > 1 ? "copies" : "copy",
		    st->replicas + 1, st->nservers));
	if (!st->binary && st->protocol_line != 0) {
		protocol_at(c, st, at, sizeof at);
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "%s: protocol: replicas need the binary protocol", at));
	}
	st->binary = 1;
	return (FSMC_OK);
}

static enum fsmc_status
load(struct fsmc_settings *st, const struct fsmc_options *opts,
    struct fsmc_files *c, struct fsmc_result *res)
{
	struct where w = { "command line", "", FSMC_EUSAGE, res, NULL };
	char at[400], user[128];

	memset(st, 0, sizeof *st);
	st->connect_ms = DEFAULT_CONNECT_MS;
	st->io_ms = DEFAULT_IO_MS;
	st->retry_s = DEFAULT_RETRY_S;
	st->failure_limit = DEFAULT_FAILURE_LIMIT;
	st->tls_verify = 1;
	if (opts->profile != NULL && opts->config_file == NULL)
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "profile '%s': no configuration file", opts->profile));
	if (opts->config_file != NULL &&
	    parse_file(st, opts, c, res) != FSMC_OK)
		return (res->status);

	/* A bad -s is a usage error; a bad variable, configuration. */
	w.file = opts->servers_origin != NULL ? opts->servers_origin : "-s";
	w.status = opts->servers_origin != NULL ? FSMC_ECONFIG : FSMC_EUSAGE;
	if (opts->servers != NULL &&
	    parse_server_string(&w, NULL, st, opts->servers) != FSMC_OK)
		return (res->status);
	w.file = "--namespace";
	if (opts->key_namespace != NULL &&
	    set_namespace(&w, NULL, st, opts->key_namespace) != FSMC_OK)
		return (res->status);
	if (opts->timeout_ms > 0)
		st->connect_ms = st->io_ms = opts->timeout_ms;
	if (opts->binary)
		st->binary = 1;
	if (st->sasl_user != NULL && st->sasl_password == NULL &&
	    opts->password != NULL &&
	    (st->sasl_password = strdup(opts->password)) == NULL)
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));

	if (st->nservers == 0)
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "%s: no servers configured",
		    opts->config_file != NULL ? opts->config_file : "servers"));
	if (st->sasl_user != NULL) {
		if (st->sasl_password == NULL) {
			fsmc_escape(st->sasl_user, strlen(st->sasl_user), user,
			    sizeof user);
			return (fsmc_fail(res, FSMC_ECONFIG, NULL,
			    "%s: sasl: no password for '%s' (password, "
			    "password_file or FSMEMCACHE_PASSWORD)",
			    opts->config_file, user));
		}
		/* SASL exists only in memcached's binary protocol. */
		if (!st->binary && st->protocol_line != 0) {
			protocol_at(c, st, at, sizeof at);
			return (fsmc_fail(res, FSMC_ECONFIG, NULL,
			    "%s: protocol: sasl needs the binary protocol",
			    at));
		}
		st->binary = 1;
	}
	return (check_replicas(st, opts, c, res));
}

/*
 * TLS as the command line may turn it on, checked against the servers:
 * memcached speaks it over TCP only.
 */
enum fsmc_status
fsmc_settings_tls(struct fsmc_settings *st, int on, struct fsmc_result *res)
{
	size_t i;

	if (on)
		st->tls = 1;
	if (!st->tls)
		return (FSMC_OK);
	for (i = 0; i < st->nservers; i++) {
		if (st->servers[i].socket)
			return (fsmc_fail(res, FSMC_ECONFIG, NULL,
			    "tls: not over a UNIX socket (%s)",
			    st->servers[i].host));
	}
	if (st->tls_key_file != NULL && st->tls_cert_file == NULL)
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "tls_key_file: no tls_cert_file for it"));
	if (!st->tls_verify)
		fsmc_warn(res,
		    "tls_verify = false: servers' certificates are not checked, "
		    "and anyone on the path can pose as them");
	return (FSMC_OK);
}

/*
 * The effective settings: defaults, then the file and its profile, then
 * the command line's overrides.  On success res->msg may hold a warning.
 */
enum fsmc_status
fsmc_settings_load(struct fsmc_settings *st, const struct fsmc_options *opts,
    struct fsmc_result *res)
{
	struct fsmc_files c;

	memset(&c, 0, sizeof c);
	load(st, opts, &c, res);
	fsmc_files_free(&c);
	return (res->status);
}

static memcached_return_t
set_behavior(memcached_st *mc, memcached_behavior_t b, uint64_t value,
    memcached_return_t rc)
{
	if (rc != MEMCACHED_SUCCESS)
		return (rc);
	return (memcached_behavior_set(mc, b, value));
}

/*
 * The distribution, set before any server is added, as pylibmc and PHP
 * set theirs: libmemcached makes a consistent distribution weighted
 * when a server of weight 2 or more is added to it, so "ketama" with
 * weights places keys as pylibmc's {"ketama": True} with the same
 * weights.  "ketama-weighted" is PHP's Memcached::OPT_LIBKETAMA_COMPATIBLE
 * (libmemcached's KETAMA_WEIGHTED: MD5 for keys and points).  A hash
 * other than "default" replaces the one the distribution chose.
 */
static memcached_return_t
set_distribution(const struct fsmc_settings *st, memcached_st *mc)
{
	memcached_return_t rc = MEMCACHED_SUCCESS;

	if (st->distribution == FSMC_DIST_KETAMA)
		rc = set_behavior(mc, MEMCACHED_BEHAVIOR_KETAMA, 1, rc);
	else if (st->distribution == FSMC_DIST_KETAMA_WEIGHTED)
		rc =
		    set_behavior(mc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1, rc);
	if (st->hash != 0)
		rc = set_behavior(mc, MEMCACHED_BEHAVIOR_HASH,
		    (uint64_t)hashes[st->hash].value, rc);
	return (rc);
}

/*
 * The weight a server is added with.  libmemcached keeps the weighted
 * continuum of KETAMA_WEIGHTED only when some server weighs 2 or more
 * (1.1.4 recomputes the flag from the weights when a handle is cloned),
 * so with "ketama-weighted" each weight is doubled, and every handle
 * places keys alike.  Only the ratios of the weights place keys, and
 * those do not change.
 */
static uint32_t
library_weight(
    const struct fsmc_settings *st, const struct fsmc_server_conf *sc)
{
	if (st->distribution == FSMC_DIST_KETAMA_WEIGHTED)
		return ((uint32_t)sc->weight * 2);
	return ((uint32_t)sc->weight);
}

static memcached_return_t
set_behaviors(const struct fsmc_settings *st, memcached_st *mc)
{
	memcached_return_t rc = MEMCACHED_SUCCESS;

	rc = set_behavior(
	    mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, (uint64_t)st->binary, rc);
	/* libmemcached copies sets and deletes in the binary protocol only. */
	rc = set_behavior(mc, MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS,
	    (uint64_t)st->replicas, rc);
	rc = set_behavior(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT,
	    (uint64_t)st->connect_ms, rc);
	rc = set_behavior(
	    mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, (uint64_t)st->io_ms, rc);
	rc = set_behavior(
	    mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, (uint64_t)st->retry_s, rc);
	rc = set_behavior(mc, MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS,
	    (uint64_t)st->remove_failed, rc);
	rc = set_behavior(mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT,
	    (uint64_t)st->failure_limit, rc);
	rc = set_behavior(
	    mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, (uint64_t)st->tcp_nodelay, rc);
	/*
	 * The namespace is part of the key that other clients see, so it
	 * is hashed with the key to place it on the same server.
	 */
	if (st->ns != NULL && st->ns[0] != '\0') {
		rc = set_behavior(
		    mc, MEMCACHED_BEHAVIOR_HASH_WITH_PREFIX_KEY, 1, rc);
		if (rc == MEMCACHED_SUCCESS)
			rc = memcached_callback_set(
			    mc, MEMCACHED_CALLBACK_NAMESPACE, st->ns);
	}
	return (rc);
}

/* Apply settings to a new handle; errors here are the library's. */
enum fsmc_status
fsmc_settings_apply(
    const struct fsmc_settings *st, memcached_st *mc, struct fsmc_result *res)
{
	const struct fsmc_server_conf *sc;
	memcached_return_t rc;
	size_t i;

	rc = set_distribution(st, mc);
	for (i = 0; i < st->nservers && rc == MEMCACHED_SUCCESS; i++) {
		sc = &st->servers[i];
		if (sc->socket)
			rc = memcached_server_add_unix_socket_with_weight(
			    mc, sc->host, library_weight(st, sc));
		else
			rc = memcached_server_add_with_weight(mc, sc->host,
			    (in_port_t)sc->port, library_weight(st, sc));
	}
	/* The handle only places keys: SASL is the engine's (sasl.c). */
	if (rc == MEMCACHED_SUCCESS)
		rc = set_behaviors(st, mc);
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail(res,
		    fsmc_status_of(rc) == FSMC_EINTERNAL ? FSMC_EINTERNAL :
							   FSMC_ECONFIG,
		    NULL, "cannot apply the configuration: %s",
		    memcached_strerror(NULL, rc)));
	return (FSMC_OK);
}

/*
 * A string in libconfig's syntax, read back as the same bytes: a byte
 * outside printable ASCII as \xNN, so that none reaches a terminal raw.
 */
static void
put_string(fsmc_write_fn write, void *ctx, const char *s)
{
	const unsigned char *p;
	char esc[5];

	write(ctx, FSMC_STREAM_REPLY, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			write(ctx, FSMC_STREAM_REPLY, esc, 2);
		} else if (*p < 0x20 || *p >= 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", *p);
			write(ctx, FSMC_STREAM_REPLY, esc, 4);
		} else
			write(ctx, FSMC_STREAM_REPLY, p, 1);
	}
	write(ctx, FSMC_STREAM_REPLY, "\"", 1);
}

static void put_text(fsmc_write_fn write, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
put_text(fsmc_write_fn write, void *ctx, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)
		write(ctx, FSMC_STREAM_REPLY, buf,
		    (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* A TLS setting, or a comment on what stands in for it. */
static void
put_tls(fsmc_write_fn write, void *ctx, const char *name, const char *v,
    const char *absent)
{
	if (v == NULL) {
		put_text(write, ctx, "# %s: %s\n", name, absent);
		return;
	}
	put_text(write, ctx, "%s = ", name);
	put_string(write, ctx, v);
	put_text(write, ctx, ";\n");
}

/*
 * Write the effective settings of a handle in the configuration file's
 * own syntax, with any password masked: of the TLS key, only where it is.
 */
void
fsmc_describe(const struct fsmc *fc, fsmc_write_fn write, void *ctx)
{
	const struct fsmc_settings *st = &fc->settings;
	size_t i;

	if (st->profiles != NULL)
		put_text(write, ctx, "# profiles: %s\n", st->profiles);
	put_text(write, ctx, "servers = (");
	for (i = 0; i < st->nservers; i++) {
		put_text(write, ctx, "%s\n    { %s = ", i > 0 ? "," : "",
		    st->servers[i].socket ? "socket" : "host");
		put_string(write, ctx, st->servers[i].host);
		if (!st->servers[i].socket)
			put_text(
			    write, ctx, "; port = %u", st->servers[i].port);
		put_text(write, ctx, "; weight = %u; }", st->servers[i].weight);
	}
	put_text(write, ctx, " );\nnamespace = ");
	put_string(write, ctx, st->ns != NULL ? st->ns : "");
	put_text(write, ctx,
	    ";\nprotocol = \"%s\";\ndistribution = \"%s\";\n"
	    "hash = \"%s\";\n"
	    "timeouts = { connect_ms = %d; io_ms = %d; retry_s = %d; };\n"
	    "failover = { remove_failed_servers = %s; failure_limit = %d;",
	    st->binary ? "binary" : "ascii",
	    distributions[st->distribution].name, hashes[st->hash].name,
	    st->connect_ms, st->io_ms, st->retry_s,
	    st->remove_failed ? "true" : "false", st->failure_limit);
	if (st->state_file != NULL) {
		put_text(write, ctx, " state_file = ");
		put_string(write, ctx, st->state_file);
		put_text(write, ctx, ";");
	}
	put_text(write, ctx, " };\ntcp_nodelay = %s;\n",
	    st->tcp_nodelay ? "true" : "false");
	if (st->replicas > 0)
		put_text(write, ctx, "replicas = %d;\n", st->replicas);
	if (st->sasl_user != NULL) {
		put_text(write, ctx, "sasl = { username = ");
		put_string(write, ctx, st->sasl_user);
		put_text(write, ctx, "; password = \"********\"; };\n");
	}
	if (st->tls) {
		put_text(write, ctx, "tls = true;\n");
		put_tls(write, ctx, "tls_ca_file", st->tls_ca_file,
		    "the system's CA store");
		put_tls(write, ctx, "tls_cert_file", st->tls_cert_file, "none");
		put_tls(write, ctx, "tls_key_file", st->tls_key_file,
		    st->tls_cert_file != NULL ? "in tls_cert_file" : "none");
		put_tls(write, ctx, "tls_server_name", st->tls_server_name,
		    "each server's host");
		put_text(write, ctx, "tls_verify = %s;\n",
		    st->tls_verify ? "true" : "false");
	}
}
