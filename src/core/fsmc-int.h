/* Private declarations shared by the core's source files. */

#ifndef FSMC_INT_H
#define FSMC_INT_H

#include <sys/types.h>

#include <pthread.h>
#include <time.h>

#include <libmemcached/memcached.h>

#include "fsmemcache.h"

/* memcached's limit on a key, in bytes (protocol.txt). */
#define FSMC_KEY_MAX 250
/* Expirations up to 30 days count from now; memcached reads longer ones
 * as Unix times (protocol.txt). */
#define FSMC_RELATIVE_MAX 2592000

/*
 * Bounds on what a server may send, documented in fsmemcache(1): a
 * reply line, a value, the lines of one stats reply, and the keys one
 * listing keeps.  Past them a reply is a protocol error, never growth.
 */
#define FSMC_LINE_MAX 8192
#define FSMC_LINE_MAX_TEXT "8192"
#define FSMC_VALUE_MAX (1024UL * 1024 * 1024)
#define FSMC_STATS_MAX 10000
#define FSMC_STATS_MAX_TEXT "10000"
#define FSMC_KEYS_MAX 250000
#define FSMC_KEYS_MAX_TEXT "250000"
#define FSMC_KEYS_BYTES (16UL * 1024 * 1024)

/* health's default time between its two samples. */
#define FSMC_HEALTH_INTERVAL_MS 1000

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
	int replicas;	  /* copies of each set on the next servers */
	char *state_file; /* failover.state_file: where marks are shared */
	char *sasl_user;
	char *sasl_password;
	char *profiles; /* the file's profile names, space-separated */
	int tls;	/* every connection in TLS */
	int tls_verify; /* check the server's chain and name */
	char *tls_ca_file, *tls_cert_file, *tls_key_file; /* paths to open */
	char *tls_server_name; /* NULL: each server's host */
	/* Built from the above by fsmc_open(), then only read. */
	struct ssl_ctx_st *tls_ctx;
	struct bio_method_st *tls_bio; /* wire.c's, for the sockets */
};

/*
 * What a handle knows of one configured server's failures: how many in
 * a row meant it could not be reached, and once they reach
 * failure_limit, until when it is skipped and why.
 */
struct fsmc_mark {
	unsigned int failures;
	int64_t until;	       /* fsmc_now_ms() to skip it until; 0 for not */
	time_t until_wall;     /* the same, for messages */
	int64_t since;	       /* the last failure, in ms since the epoch */
	memcached_return_t rc; /* of the failure that marked it */
	int errnum;
	int probing; /* a command is trying it again */
};

/*
 * An open handle: the settings and a memcached_st built from them, which
 * places keys on servers and is never connected: the protocol engine
 * (wire.c, proto.c) does the talking.  The settings and proto do not
 * change after fsmc_open(); what does (the kept links and the marks of
 * failed servers) is under lock, so threads may share the handle.
 */
struct fsmc {
	struct fsmc_settings settings;
	size_t nslen; /* the namespace's share of the key limit */
	memcached_st *proto;
	int cancel_fd; /* readable when every wait must end; -1 for none */
	struct fsmc_health_limits health_warn, health_crit;
	int health_ms;		 /* between health's two samples */
	pthread_mutex_t lock;	 /* of what follows */
	int locked;		 /* lock was initialised */
	struct fsmc_link **idle; /* links kept for the next calls */
	size_t nidle;
	struct fsmc_mark *marks; /* by the settings' servers */
	unsigned int nmarked;	 /* servers with a failure counted; read
				    without the lock to pass by at once */
};

/* Barriers a pipe connection keeps in flight, at most. */
#define FSMC_PIPE_MARKS 64

/*
 * The lines of a pipe session on one connection, by how far they got.
 * A line counts as sent once the reply to a barrier after it (version,
 * or a binary noop) shows that the server has read it; until then it
 * is unconfirmed, and lost if the connection fails.
 */
struct fsmc_pipe_lines {
	unsigned long unconfirmed; /* held, or sent and not yet confirmed */
	unsigned long unmarked;	   /* of those, the ones after the last
				      barrier sent */
	unsigned long marks[FSMC_PIPE_MARKS]; /* lines each barrier in
						 flight confirms, oldest
						 first from first */
	unsigned int first, nmarks;
	unsigned long confirmed, lost;
	memcached_return_t lost_rc; /* of the first loss */
	char lost_why[256];
};

/* One connection to one server, owned by one thread at a time. */
struct fsmc_conn {
	int fd; /* -1 while closed */
	const struct fsmc_settings *st;
	const struct fsmc_server_conf *sc;
	int binary;
	int bare_lf; /* lines may end in LF alone, as metadump's do */
	int quiet;   /* requests without replies are out: any reply is a
			failure, passed over and counted */
	unsigned long refused; /* such replies */
	int cancel_fd;
	size_t value_max; /* a longer value is refused unread */
	char *in;	  /* what the server sent, not yet parsed */
	size_t incap, inpos, inend;
	char *out; /* requests not yet sent */
	size_t outcap, outlen;
	memcached_return_t rc; /* of the last read failure */
	int errnum;	       /* errno of the last failure, or 0 */
	char detail[192];      /* what was wrong with a broken reply */
	struct fsmc_pipe_lines pl;
	struct ssl_st *ssl; /* TLS over fd, or NULL */
	short want;	    /* POLLIN or POLLOUT: what blocked I/O waits for */
	int heard;	    /* bytes came in since it was opened */
	int tls_error;	    /* detail says why TLS failed */
	int cert_asked; /* the server asked for a certificate it did not get */
	memcached_return_t tls_rc; /* that failure's, behind errno EPROTO */
	struct fsmc *owner; /* whose marks its failures count in, or NULL */
	int reused;	    /* open before the request now on it */
	int alive;	    /* the server has sent something on it */
	int probe;	    /* it tries a marked server again */
	time_t skipped;	    /* refused for a mark until then; -1 while
			       another command tries the server */
};

/* What a request asks, in either protocol. */
enum fsmc_verb {
	FSMC_V_GET,
	FSMC_V_SET,
	FSMC_V_ADD,
	FSMC_V_REPLACE,
	FSMC_V_APPEND,
	FSMC_V_PREPEND,
	FSMC_V_DELETE,
	FSMC_V_INCR,
	FSMC_V_DECR,
	FSMC_V_TOUCH,
	FSMC_V_FLUSH,
	FSMC_V_VERSION,
	FSMC_V_STATS,
	FSMC_V_NOOP
};

struct fsmc_request {
	enum fsmc_verb verb;
	const char *key; /* without the namespace */
	size_t keylen;
	const void *value;
	size_t valuelen;
	uint32_t flags;
	int64_t exptime; /* also flush_all's delay */
	uint64_t delta;
	int noreply;
	int hold;	 /* noreply: may wait in the buffer for more */
	int copy;	 /* a replica's copy, not a line of its own */
	const char *arg; /* the group of stats */
};

struct fsmc_response {
	memcached_return_t rc;
	char *value; /* owned; NUL-terminated */
	size_t valuelen;
	uint32_t flags;
	uint64_t number;
	uint64_t cas; /* gets */
};

/* One statistic of a stats reply; body is the engine's. */
struct fsmc_stat_line {
	char *body;
	const char *name, *value;
	size_t namelen, valuelen;
};

/* A binary response, read whole; body is the caller's to free. */
struct bin_frame {
	int opcode;
	int status;
	size_t extlen, keylen, bodylen;
	char *body;
};

/*
 * Connections to the servers of a placement handle, one per server, by
 * the handle's positions.  A call has one for itself; a session keeps
 * one for all its commands.
 */
struct fsmc_link {
	struct fsmc *fc;
	memcached_st *place; /* fc->proto, or a session's */
	struct fsmc_conn *conns;
	uint32_t nconns;
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
	const char *group;  /* of stats */
	int servers_column; /* keys -l */
	size_t big;	    /* keys --big */
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
	FSMC_HEALTH,
	FSMC_STATS,
	FSMC_SLABS,
	FSMC_TOP,
	FSMC_LATENCY,
	FSMC_INSPECT,
	FSMC_TTL,
	FSMC_DUMP,
	FSMC_RESTORE
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
	memcached_st *mc; /* places keys: fc->proto, or a session's */
	struct fsmc_link *link;
	const struct fsmc_cmd *cmd;
	struct fsmc_args a;
	struct fsmc_result *res;
	memcached_return_t rc;	/* the library's code for a failure */
	struct fsmc_conn *conn; /* where it failed, for the message */
	size_t keybytes;	/* keys: the bytes of the names kept */
	int pipe;		/* session: send without waiting for replies */
	int pinned; /* multi-get: conn is the server to ask, whatever the
		       key's placement */
	const struct fsmc_stream *stream; /* dump, restore */
};

/*
 * A session: connections kept for many commands.  Not for sharing
 * between threads.
 */
struct fsmc_session {
	struct fsmc *fc;
	memcached_st *proto; /* fc->proto, or one without removed servers */
	struct fsmc_link link;
	int used; /* the link has talked to servers: it may be stale */
	int pipe;
	size_t value_max;	      /* of its connections */
	unsigned int *failures;	      /* in a row, per configured server */
	unsigned char *removed;	      /* taken out by remove_failed_servers */
	struct fsmc_pipe_lines *lost; /* per configured server, of the
					 connections closed */
	struct fsmc_pipeline *pl;     /* commands sent, results not yet
					 taken */
	size_t inflight;	      /* requests of pl awaiting replies */
	size_t remove_pending;	      /* 1 + a server to take out once pl
					 is drained, or 0 */
};

/* wire.c */
int64_t fsmc_now_ms(void);
void fsmc_conn_init(struct fsmc_conn *, const struct fsmc_settings *,
    const struct fsmc_server_conf *, int);
void fsmc_conn_close(struct fsmc_conn *);
void fsmc_conn_free(struct fsmc_conn *);
memcached_return_t fsmc_conn_fail(struct fsmc_conn *, memcached_return_t, int);
memcached_return_t fsmc_conn_broken(
    struct fsmc_conn *, const char *, const char *, size_t);
memcached_return_t fsmc_conn_too_big(struct fsmc_conn *, uint64_t);
memcached_return_t fsmc_conn_open(struct fsmc_conn *);
memcached_return_t fsmc_conn_adopt(struct fsmc_conn *, int);
char *fsmc_conn_reserve(struct fsmc_conn *, size_t);
int fsmc_conn_put(struct fsmc_conn *, const void *, size_t);
memcached_return_t fsmc_conn_send(struct fsmc_conn *, int64_t);
memcached_return_t fsmc_conn_line(
    struct fsmc_conn *, int64_t, char **, size_t *);
memcached_return_t fsmc_conn_block(
    struct fsmc_conn *, int64_t, size_t, char **);
memcached_return_t fsmc_conn_read(struct fsmc_conn *, int64_t, void *, size_t);
int fsmc_conn_pending(const struct fsmc_conn *);
int fsmc_conn_readable(struct fsmc_conn *);
void fsmc_conn_nodelay(struct fsmc_conn *);
memcached_return_t fsmc_conn_quiet_replies(struct fsmc_conn *);
memcached_return_t fsmc_conn_quiet_take(struct fsmc_conn *);
memcached_return_t fsmc_conn_quiet_wait(struct fsmc_conn *, unsigned int);
struct bio_method_st *fsmc_wire_bio_method(void);

/* tls.c */
enum fsmc_status fsmc_tls_setup(struct fsmc_settings *, struct fsmc_result *);
memcached_return_t fsmc_tls_failure(struct fsmc_conn *, int, int);
int fsmc_tls_refused(struct fsmc_conn *);
int fsmc_tls_is_address(const char *);

/* proto.c */
int fsmc_bin_put(struct fsmc_conn *, int, const void *, size_t, const char *,
    size_t, const void *, size_t, uint32_t);
memcached_return_t fsmc_bin_response(
    struct fsmc_conn *, int64_t, int, uint32_t, size_t, struct bin_frame *);
int fsmc_wire_request(struct fsmc_conn *, const struct fsmc_request *);
int fsmc_wire_quiet_store(struct fsmc_conn *, enum fsmc_verb, const char *,
    size_t, const void *, size_t, uint32_t, int64_t);
int fsmc_wire_mget(
    struct fsmc_conn *, const char *const *, const size_t *, size_t);
memcached_return_t fsmc_wire_reply(struct fsmc_conn *,
    const struct fsmc_request *, int64_t, struct fsmc_response *);
memcached_return_t fsmc_wire_value(struct fsmc_conn *, int64_t,
    const char *const *, const size_t *, size_t, size_t *, size_t *,
    struct fsmc_response *);
memcached_return_t fsmc_wire_stat(
    struct fsmc_conn *, int64_t, size_t *, struct fsmc_stat_line *);
int fsmc_wire_inspect(struct fsmc_conn *, const char *, size_t);
memcached_return_t fsmc_wire_inspected(
    struct fsmc_conn *, int64_t, const char *, size_t, struct fsmc_meta *);
int fsmc_wire_gets(struct fsmc_conn *, const char *, size_t);

/* sasl.c */
memcached_return_t fsmc_sasl_auth(struct fsmc_conn *, int64_t);

/* link.c */
enum fsmc_status fsmc_link_init(
    struct fsmc_link *, struct fsmc *, memcached_st *, struct fsmc_result *);
void fsmc_link_free(struct fsmc_link *);
uint32_t fsmc_link_place(const struct fsmc_link *, const char *, size_t);
memcached_return_t fsmc_exchange(
    struct fsmc_conn *, const struct fsmc_request *, struct fsmc_response *);
void fsmc_key_request(
    const struct fsmc_call *, enum fsmc_verb, struct fsmc_request *);
memcached_return_t fsmc_call_run(
    struct fsmc_call *, const struct fsmc_request *, uint64_t *);
memcached_return_t fsmc_call_exchange(
    struct fsmc_call *, const struct fsmc_request *, struct fsmc_response *);
memcached_return_t fsmc_probe_text(
    struct fsmc *, const struct fsmc_server_conf *);
memcached_return_t fsmc_pipe_store(struct fsmc_conn *, enum fsmc_verb,
    const char *, size_t, const void *, size_t, uint32_t, int64_t);
void fsmc_pipe_flush(struct fsmc_conn *);
memcached_return_t fsmc_pipe_settle(struct fsmc_conn *);

/* session.c */
enum fsmc_status fsmc_session_exec(struct fsmc_session *, struct fsmc_call *);
void fsmc_session_count(struct fsmc_session *, const struct fsmc_call *);
void fsmc_session_remove_pending(struct fsmc_session *, struct fsmc_result *);

/* pipeline.c */
void fsmc_pipeline_free(struct fsmc_session *);
void fsmc_pipeline_wait(struct fsmc_session *);

/* pool.c */
struct fsmc_link *fsmc_pool_take(struct fsmc *, struct fsmc_result *);
void fsmc_pool_give(struct fsmc *, struct fsmc_link *);
void fsmc_pool_free(struct fsmc *);
int fsmc_pool_init(struct fsmc *);

/* marks.c */
int fsmc_marks_init(struct fsmc *, struct fsmc_result *);
void fsmc_marks_free(struct fsmc *);
memcached_return_t fsmc_mark_check(struct fsmc_conn *);
void fsmc_mark_failure(struct fsmc_conn *, memcached_return_t, int);
void fsmc_mark_success(struct fsmc_conn *);
void fsmc_mark_release(struct fsmc_conn *);
char *fsmc_state_default(void);

/* cmd.c */
extern const struct fsmc_cmd fsmc_cmds[];
const struct fsmc_cmd *fsmc_find_command(const char *);
enum fsmc_status fsmc_prepare(struct fsmc_call *, struct fsmc *, int, char **,
    const void *, size_t, struct fsmc_result *);
const char *fsmc_bad_key(const char *, size_t, size_t);

/* fsmc.c */
void fsmc_result_reset(struct fsmc_result *);
void fsmc_result_move(struct fsmc_result *, const struct fsmc_result *);
enum fsmc_status fsmc_fail(struct fsmc_result *, enum fsmc_status, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));
enum fsmc_status fsmc_fail_rc(struct fsmc_call *, memcached_return_t);
void fsmc_warn(struct fsmc_result *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
enum fsmc_status fsmc_status_of(memcached_return_t);
void fsmc_reason(memcached_return_t, int, char *, size_t);
void fsmc_conn_reason(
    const struct fsmc_conn *, memcached_return_t, char *, size_t);
void fsmc_escape(const char *, size_t, char *, size_t);
void fsmc_quote(const char *, size_t, char *, size_t);

/* cfgfile.c */
/*
 * A file read for the configuration: the file itself, one it includes,
 * or a password_file.
 */
struct fsmc_source {
	char *path;   /* to open: as given, or beside the file naming it */
	char *name;   /* the same, escaped, for messages */
	int readable; /* by group or others */
	int password; /* it holds a password */
};

/* Where a line of the text that libconfig reads comes from. */
struct fsmc_origin {
	size_t source;
	unsigned int line;
};

/*
 * The configuration as libconfig reads it: the file, with each @include
 * replaced by the file it names.  fsmemcache reads the includes itself:
 * libconfig 1.5 opens them relative to the current directory, and
 * without a chance to refuse a FIFO or an oversized file first.
 */
struct fsmc_files {
	char *text;
	size_t len, cap;
	struct fsmc_origin *lines; /* of each line of text, from line 1 */
	size_t nlines, linecap;
	struct fsmc_source *sources;
	size_t nsources;
	size_t bytes; /* read from configuration files, for the limit */
};

#define FSMC_NO_SOURCE SIZE_MAX

/* Why fsmc_read_whole() failed. */
enum fsmc_read {
	FSMC_READ_OK,
	FSMC_READ_ERRNO,  /* see errno */
	FSMC_READ_NOTREG, /* not a regular file */
	FSMC_READ_BIG,	  /* larger than asked */
	FSMC_READ_NOMEM
};

enum fsmc_status fsmc_files_read(
    struct fsmc_files *, const char *, struct fsmc_result *);
size_t fsmc_files_origin(
    const struct fsmc_files *, unsigned int, unsigned int *);
void fsmc_files_at(const struct fsmc_files *, unsigned int, char *, size_t);
size_t fsmc_files_add(struct fsmc_files *, char *);
void fsmc_files_warning(const struct fsmc_files *, struct fsmc_result *);
void fsmc_files_free(struct fsmc_files *);
enum fsmc_read fsmc_read_whole(
    const char *, size_t, char **, size_t *, mode_t *);
char *fsmc_path_beside(const char *, const char *);

/* config.c */
enum fsmc_status fsmc_settings_load(
    struct fsmc_settings *, const struct fsmc_options *, struct fsmc_result *);
enum fsmc_status fsmc_settings_tls(
    struct fsmc_settings *, int, struct fsmc_result *);
enum fsmc_status fsmc_settings_apply(
    const struct fsmc_settings *, memcached_st *, struct fsmc_result *);
void fsmc_settings_free(struct fsmc_settings *);

/* cmd-*.c */
enum fsmc_status cmd_store(struct fsmc_call *);
enum fsmc_verb fsmc_op_verb(enum fsmc_op);
void fsmc_call_request(const struct fsmc_call *, struct fsmc_request *);
memcached_return_t fsmc_store_rc(enum fsmc_op, memcached_return_t);
enum fsmc_status cmd_get(struct fsmc_call *);
enum fsmc_status cmd_get_many(struct fsmc_link *, struct fsmc_call *, size_t);
enum fsmc_status cmd_delete(struct fsmc_call *);
enum fsmc_status cmd_arith(struct fsmc_call *);
enum fsmc_status cmd_flush(struct fsmc_call *);
enum fsmc_status cmd_status(struct fsmc_call *);

/*
 * fanout.c: a command that asks every server asks them all at once, a
 * part for each server, and counts their failures in server order.
 */
struct fsmc_part {
	uint32_t i; /* the server, by position */
	void *arg;  /* the command's */
	void (*fn)(struct fsmc_part *);
	enum fsmc_status status; /* FSMC_OK, or how the server failed */
	const char *errtext;
	const struct fsmc_server_conf *sc; /* the server that failed */
	char why[256];
};

struct fsmc_failures {
	size_t count;
	enum fsmc_status first;
	const char *errtext; /* the first one's -ERR text */
	char why[256];	     /* the first one's reason */
	char label[300];     /* the first one's address */
};

void fsmc_fanout_run(
    struct fsmc_part *, uint32_t, void (*)(struct fsmc_part *), void *);
void fsmc_part_failed(struct fsmc_part *, enum fsmc_status, const char *,
    const struct fsmc_server_conf *, const char *, ...)
    __attribute__((format(printf, 5, 6)));
void fsmc_failures_add(struct fsmc_failures *, const struct fsmc_part *);
enum fsmc_status fsmc_fanout(struct fsmc_call *, uint32_t,
    void (*)(struct fsmc_part *), void *, struct fsmc_failures *);
enum fsmc_status fsmc_failures_result(
    struct fsmc_call *, const struct fsmc_failures *);

/*
 * cmd-status.c, shared with cmd-flush.c, health.c and cmd-views.c: how
 * a server failed, and the statistics of one.
 */
enum fsmc_status fsmc_one_server_failed(struct fsmc *, struct fsmc_conn *,
    memcached_return_t, const char *, const char **, char *, size_t);
enum fsmc_status fsmc_list_servers(struct fsmc_call *);
void fsmc_server_stats(
    struct fsmc_call *, struct fsmc_part *, struct fsmc_server *, long long *);
memcached_return_t fsmc_server_read_stats(
    struct fsmc_conn *, int64_t, struct fsmc_server *, size_t *);
void fsmc_server_drop_stats(struct fsmc_server *);
enum fsmc_status cmd_touch(struct fsmc_call *);
enum fsmc_status cmd_where(struct fsmc_call *);
enum fsmc_status cmd_keys(struct fsmc_call *);

/* health.c */
enum fsmc_status cmd_health(struct fsmc_call *);
void fsmc_health_clear(struct fsmc_result *);

/* cmd-views.c */
enum fsmc_status cmd_stats(struct fsmc_call *);
enum fsmc_status cmd_slabs(struct fsmc_call *);
enum fsmc_status cmd_top(struct fsmc_call *);
enum fsmc_status cmd_latency(struct fsmc_call *);
enum fsmc_status cmd_inspect(struct fsmc_call *);
enum fsmc_status cmd_dump(struct fsmc_call *);
enum fsmc_status cmd_restore(struct fsmc_call *);

/*
 * cmd-keys.c, shared with cmd-dump.c: a server's keys, one at a time,
 * from lru_crawler metadump on a text connection of its own.
 */
struct fsmc_metadump {
	struct fsmc_conn c;
	const struct fsmc_settings *st;
	const char *pattern; /* a prefix, or a glob of the whole key */
	size_t patlen;
	int glob;
	int64_t deadline; /* of the whole dump, or with renew of the next
			     lines */
	int renew;
	int lru; /* the server cannot walk its hash table */
	size_t lines, listed;
	int tries;
	const char *why; /* why it failed */
	char detail[256];
};

int fsmc_metadump_open(
    struct fsmc_metadump *, struct fsmc *, size_t, const char *, size_t);
int fsmc_metadump_next(struct fsmc_metadump *, char **, size_t *, long long *,
    unsigned long long *);
void fsmc_metadump_close(struct fsmc_metadump *);
enum fsmc_status fsmc_listing_begin(struct fsmc_call *);

/*
 * cmd-keys.c, shared with cmd-dump.c: the keys a server listed, kept
 * until they are used, as records back to back: the expiry (as
 * metadump has it), the size, the length, the key and a NUL.
 */
struct fsmc_keybuf {
	char *buf;
	size_t len, cap;
	size_t bytes; /* of the keys, each with its NUL */
};

int fsmc_keybuf_add(struct fsmc_keybuf *, size_t, const char *, size_t,
    long long, unsigned long long);
int fsmc_keybuf_next(const struct fsmc_keybuf *, size_t *, const char **,
    size_t *, long long *, unsigned long long *);

#endif
