/* Private declarations shared by the core's source files. */

#ifndef FSMC_INT_H
#define FSMC_INT_H

#include <libmemcached/memcached.h>

#include "fsmemcache.h"

/* memcached's limit on a key, in bytes (protocol.txt). */
#define FSMC_KEY_MAX 250

enum fsmc_distribution {
	FSMC_DIST_MODULA,
	FSMC_DIST_KETAMA,
	FSMC_DIST_KETAMA_WEIGHTED
};

struct fsmc_server_conf {
	char *host; /* or the socket's path */
	unsigned int port;
	unsigned int weight;
	int socket;
};

/* The effective configuration, as fsmc_describe() shows it. */
struct fsmc_settings {
	struct fsmc_server_conf *servers;
	size_t nservers;
	char *ns;
	int binary;
	int protocol_line; /* where the file set protocol, or 0 */
	int distribution;  /* enum fsmc_distribution */
	int hash;	   /* index in config.c's hashes[] */
	int connect_ms;
	int io_ms;
	int retry_s;
	int remove_failed;
	int failure_limit;
	int tcp_nodelay;
	int replicas; /* copies of each set on the next servers */
	char *sasl_user;
	char *sasl_password;
	int password_in_file;
	char *profiles; /* the file's profile names, space-separated */
};

/*
 * An open handle: the settings and a prototype memcached_st built from
 * them.  It is never connected and never changed after fsmc_open(), so
 * threads may clone it concurrently.
 */
struct fsmc {
	struct fsmc_settings settings;
	size_t nslen; /* the namespace's share of the key limit */
	memcached_st *proto;
};

/* Arguments of one command after validation. */
struct fsmc_args {
	const char *key;
	size_t keylen;
	const char *value;
	size_t valuelen;
	int64_t expiration; /* also flush's delay */
	uint32_t flags;
	uint32_t offset;
	int verbose;
};

enum fsmc_op {
	FSMC_SET,
	FSMC_REPLACE,
	FSMC_ADD,
	FSMC_GET,
	FSMC_GETFLAGS,
	FSMC_DELETE,
	FSMC_INCREMENT,
	FSMC_DECREMENT,
	FSMC_FLUSH,
	FSMC_STATUS,
	FSMC_APPEND,
	FSMC_PREPEND,
	FSMC_TOUCH,
	FSMC_WHERE,
	FSMC_KEYS,
	FSMC_HEALTH
};

struct fsmc_call;

struct fsmc_cmd {
	const char *name;
	enum fsmc_op op;
	const char *args; /* argument kinds, see cmd.c */
	int minargs;	  /* how many of args are required */
	enum fsmc_reply reply;
	int ext; /* not in mod_memcache's grammar */
	enum fsmc_status (*exec)(struct fsmc_call *);
};

/* Per-call state. */
struct fsmc_call {
	struct fsmc *fc;
	memcached_st *mc; /* a clone of fc->proto, or a session's */
	const struct fsmc_cmd *cmd;
	struct fsmc_args a;
	struct fsmc_result *res;
	memcached_return_t rc; /* the library's code for a failure */
	int pipe;	       /* session: send without waiting for replies */
};

/*
 * A session: one clone of the handle kept for many commands, so that
 * its connections are reused.  Not for sharing between threads.
 */
struct fsmc_session {
	struct fsmc *fc;
	memcached_st *proto; /* fc->proto, or one without removed servers */
	memcached_st *mc;
	int used; /* mc has talked to servers: its connections may be stale */
	int pipe;
	unsigned int *failures; /* in a row, per configured server */
	unsigned char *removed; /* taken out by remove_failed_servers */
};

/* cmd.c */
extern const struct fsmc_cmd fsmc_cmds[];
const struct fsmc_cmd *fsmc_find_command(const char *);
enum fsmc_status fsmc_prepare(struct fsmc_call *, struct fsmc *, int, char **,
    const void *, size_t, struct fsmc_result *);

/* fsmc.c */
enum fsmc_status fsmc_fail(struct fsmc_result *, enum fsmc_status, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));
enum fsmc_status fsmc_fail_rc(struct fsmc_call *, memcached_return_t);
enum fsmc_status fsmc_status_of(memcached_return_t);
void fsmc_reason(memcached_return_t, int, char *, size_t);
void fsmc_server_label(const memcached_instance_st *, char *, size_t);
void fsmc_escape(const char *, size_t, char *, size_t);
void fsmc_quote(const char *, size_t, char *, size_t);

/* config.c */
enum fsmc_status fsmc_settings_load(
    struct fsmc_settings *, const struct fsmc_options *, struct fsmc_result *);
enum fsmc_status fsmc_settings_apply(
    const struct fsmc_settings *, memcached_st *, struct fsmc_result *);
void fsmc_settings_free(struct fsmc_settings *);

/* cmd-*.c */
enum fsmc_status cmd_store(struct fsmc_call *);
enum fsmc_status cmd_get(struct fsmc_call *);
enum fsmc_status cmd_get_many(memcached_st *, struct fsmc_call *, size_t);
enum fsmc_status cmd_delete(struct fsmc_call *);
enum fsmc_status cmd_arith(struct fsmc_call *);
enum fsmc_status cmd_flush(struct fsmc_call *);
enum fsmc_status cmd_status(struct fsmc_call *);

/* cmd-status.c, shared with cmd-flush.c */
memcached_st *fsmc_one_server(memcached_st *, const memcached_instance_st *);
memcached_return_t fsmc_server_failure(memcached_st *, memcached_return_t);
int fsmc_refused(memcached_st *, memcached_return_t, const char *,
    const char **, char *, size_t);
enum fsmc_status fsmc_one_server_failed(memcached_st *, memcached_return_t,
    const char *, const char **, char *, size_t);
enum fsmc_status cmd_touch(struct fsmc_call *);
enum fsmc_status cmd_where(struct fsmc_call *);
enum fsmc_status cmd_keys(struct fsmc_call *);
enum fsmc_status cmd_health(struct fsmc_call *);

#endif
