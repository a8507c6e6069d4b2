/* Private declarations shared by the core's source files. */

#ifndef FSMC_INT_H
#define FSMC_INT_H

#include <libmemcached/memcached.h>

#include "fsmemcache.h"

/* memcached's limit on a key, in bytes (protocol.txt). */
#define FSMC_KEY_MAX 250

/*
 * An open handle: a prototype memcached_st holding the servers and
 * behaviours.  It is never connected and never changed after
 * fsmc_open(), so threads may clone it concurrently.
 */
struct fsmc {
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
	FSMC_STATUS
};

struct fsmc_call;

struct fsmc_cmd {
	const char *name;
	enum fsmc_op op;
	const char *args; /* argument kinds, see cmd.c */
	int minargs;	  /* how many of args are required */
	enum fsmc_reply reply;
	enum fsmc_status (*exec)(struct fsmc_call *);
};

/* Per-call state. */
struct fsmc_call {
	struct fsmc *fc;
	memcached_st *mc; /* a clone of fc->proto, freed after the call */
	const struct fsmc_cmd *cmd;
	struct fsmc_args a;
	struct fsmc_result *res;
};

/* cmd.c */
extern const struct fsmc_cmd fsmc_cmds[];

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
enum fsmc_status fsmc_config_load(
    memcached_st *, const struct fsmc_options *, struct fsmc_result *);

/* cmd-*.c */
enum fsmc_status cmd_store(struct fsmc_call *);
enum fsmc_status cmd_get(struct fsmc_call *);
enum fsmc_status cmd_delete(struct fsmc_call *);
enum fsmc_status cmd_arith(struct fsmc_call *);
enum fsmc_status cmd_flush(struct fsmc_call *);
enum fsmc_status cmd_status(struct fsmc_call *);

#endif
