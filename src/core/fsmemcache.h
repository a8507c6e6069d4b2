/* The fsmemcache core: run FreeSWITCH memcache API commands, return typed
 * results. */

#ifndef FSMEMCACHE_H
#define FSMEMCACHE_H

#include <stddef.h>
#include <stdint.h>

#define FSMC_VERSION "0.1.0"

/*
 * The ABI of libfsmemcache.so.FSMC_SOVERSION.  The library exports the
 * functions declared here with FSMC_API and nothing else: the rest of
 * the core is compiled with hidden visibility.  struct fsmc_result and
 * struct fsmc_options live on callers' stacks, and callers index the
 * arrays of the other structs, so every struct's size and layout is ABI,
 * as are the enums' values and the functions' parameters.  A release
 * that changes any of these, or removes a function, raises
 * FSMC_SOVERSION, and with it the soname and the Debian package's name
 * (libfsmemcacheN); one that only adds functions, or values at the end
 * of an enum, keeps it.
 */
#define FSMC_SOVERSION 0

#if defined(__GNUC__) && __GNUC__ >= 4
#define FSMC_API __attribute__((visibility("default")))
#else
#define FSMC_API
#endif

/*
 * What a command came to.  The CLI maps each to an exit status; the
 * FreeSWITCH module only renders the reply.
 */
enum fsmc_status {
	FSMC_OK = 0,
	FSMC_NOTFOUND,	/* key absent */
	FSMC_NOTSTORED, /* add: key exists; replace: key absent */
	FSMC_EUSAGE,	/* unknown command, wrong number of arguments */
	FSMC_EDATA,	/* bad key, bad number, value too large, not a number */
	FSMC_EUNAVAIL,	/* connection refused, timeout, no servers */
	FSMC_EINTERNAL, /* out of memory, unexpected library state */
	FSMC_ESERVER,	/* server or protocol error */
	FSMC_EAUTH,	/* authentication failed */
	FSMC_ECONFIG	/* configuration missing, unreadable or invalid */
};

/* The shape of a successful reply, which decides how it is rendered. */
enum fsmc_reply {
	FSMC_REPLY_NONE = 0, /* nothing ran: usage error before dispatch */
	FSMC_REPLY_OK,	     /* "+OK\n" */
	FSMC_REPLY_VALUE,    /* raw value bytes */
	FSMC_REPLY_FLAGS,    /* flags in lowercase hex */
	FSMC_REPLY_NUMBER,   /* counter in unsigned decimal */
	FSMC_REPLY_STATUS,   /* library version and server list */
	FSMC_REPLY_TEXT,     /* a line of text (value), then "\n" */
	FSMC_REPLY_KEYS,     /* one key a line */
	FSMC_REPLY_HEALTH,   /* a monitoring verdict and figures */
	FSMC_REPLY_STATS,    /* each server's statistics of a group */
	FSMC_REPLY_SLABS,    /* each server's slab classes */
	FSMC_REPLY_TOP,	     /* each server's statistics, timed, for rates */
	FSMC_REPLY_LATENCY,  /* each server's round trip */
	FSMC_REPLY_INSPECT,  /* what the server knows of a key */
	FSMC_REPLY_TTL,	     /* a key's seconds left, -1 for never */
	FSMC_REPLY_STREAM    /* dump, restore: items went through a stream */
};

/* The verdicts of health, numbered as monitoring plugins exit. */
enum fsmc_verdict {
	FSMC_VERDICT_OK = 0,
	FSMC_VERDICT_WARNING,
	FSMC_VERDICT_CRITICAL,
	FSMC_VERDICT_UNKNOWN
};

/* Thresholds of health; a negative one is not checked. */
struct fsmc_health_limits {
	double hit;	  /* hit ratio, percent: below is bad */
	double evictions; /* per second over the interval: above is bad */
	double memory;	  /* percent of the memory limit taken: above is bad */
	double latency;	  /* response, milliseconds: above is bad */
};

/* What health measured of one server; -1 where it could not. */
struct fsmc_health_figures {
	double hit;	       /* percent of gets that hit, since it started */
	double evictions;      /* per second between the two samples */
	double memory;	       /* total_malloced, percent of limit_maxbytes */
	double response;       /* seconds to connect and read the statistics */
	double interval;       /* seconds between the two samples */
	long long connections; /* curr_connections */
	long long max_connections; /* max_connections */
};

/* The judgement of health, owned by its result. */
struct fsmc_health {
	enum fsmc_verdict verdict;
	char *summary; /* the problems, "; " between them, or "N of M..." */
	struct fsmc_health_limits warn, crit;
	struct fsmc_health_figures *figures; /* one per server, in order */
};

struct fsmc_stat {
	char *name;
	char *value;
};

/*
 * A key of a listing, once however many servers hold it.  Its expiry
 * and size are those on the first of them; servers points into the
 * allocation of name, which frees both.
 */
struct fsmc_key {
	char *name; /* without the namespace */
	size_t len;
	long long exp; /* Unix time, -1 for never */
	unsigned long long size;
	uint32_t *servers; /* indexes in the result's servers, in order */
	size_t nservers;
};

/*
 * A slab class of a server, from "stats slabs" and "stats items", as
 * memcached-tool's display shows it; id 0 for a server's total.
 */
struct fsmc_slab {
	unsigned int id;
	unsigned long long chunk_size; /* bytes: the largest item it holds */
	unsigned long long pages;      /* of a megabyte, by default */
	unsigned long long chunks, used_chunks;
	unsigned long long items;
	unsigned long long age;		 /* seconds: its oldest item's */
	unsigned long long evicted;	 /* since the server started */
	unsigned long long evicted_time; /* seconds the last evicted item had
					    not been used */
	unsigned long long oom;		 /* stores refused for want of memory */
	int full;			 /* every chunk used */
};

/*
 * What inspect and ttl learn of a key without fetching its value; known
 * holds the FSMC_META_ bits of the fields the server told.
 */
#define FSMC_META_TTL 0x01
#define FSMC_META_ACCESS 0x02
#define FSMC_META_FETCHED 0x04
#define FSMC_META_SIZE 0x08
#define FSMC_META_FLAGS 0x10
#define FSMC_META_CAS 0x20
#define FSMC_META_CLASS 0x40
#define FSMC_META_ITEM_SIZE 0x80

struct fsmc_meta {
	unsigned int known;
	long long ttl;			/* seconds left, -1 for never */
	unsigned long long last_access; /* seconds since */
	int fetched;			/* read since it was stored */
	unsigned long long size;	/* of the value */
	uint32_t flags;
	uint64_t cas;
	unsigned int slab_class;
	unsigned long long item_size; /* value, key and memcached's header */
};

struct fsmc_server {
	char *host; /* as configured; a socket path for UNIX sockets */
	unsigned int port;
	const char *error;	 /* why it gave no reply */
	enum fsmc_status status; /* keys, views: how it failed, or OK */
	struct fsmc_stat *stats;
	size_t nstats;
	struct fsmc_slab *slabs; /* slabs: the classes that have pages */
	size_t nslabs;
	int64_t when_us; /* top: when its statistics came, monotonic */
	int64_t rtt_us;	 /* latency: the round trip of "version" */
};

/*
 * What top shows of a server: rates over the time between two samples,
 * or since the server started, and its gauges; -1 where not known.
 */
struct fsmc_rates {
	double seconds;		    /* the time the rates are over */
	double gets, sets;	    /* per second */
	double hit;		    /* percent of the gets that hit */
	double evictions;	    /* per second */
	double bytes_in, bytes_out; /* per second, read and written */
	double connections;	    /* open now */
	double bytes, limit;	    /* the items' memory, and the limit */
	double memory;		    /* bytes, percent of limit */
};

/*
 * The result of one command.  It lives on the caller's stack; zero it
 * before the first use and fsmc_result_clear() it after each.
 */
struct fsmc_result {
	enum fsmc_status status;
	enum fsmc_reply reply;
	const char *command; /* canonical command name, NULL if unknown */
	const char *key;     /* the key as given, in the caller's words */
	size_t keylen;
	const char *errtext; /* "-ERR" text; NULL with FSMC_EUSAGE */
	char *value;	     /* get: owned, may hold NUL bytes */
	size_t valuelen;
	uint32_t flags;	 /* get, getflags */
	uint64_t number; /* increment, decrement */
	int verbose;	 /* status verbose */
	const char *libversion;
	const char *group;	     /* stats: NULL for the general ones */
	struct fsmc_server *servers; /* status, health, keys, views */
	size_t nservers;
	struct fsmc_key *keys; /* keys */
	size_t nkeys;
	size_t keycap;
	char msg[512]; /* one human line, no newline; empty on success */
	char *words;   /* fsmc_run_line's copy of the line, which key is in */
	/* One human line when the command is valid but may not do what was
	 * meant (an expiration already past), else empty. */
	char warning[256];
	struct fsmc_health *health; /* health: NULL when nothing was judged */
	int servers_column;	    /* keys -l */
	size_t big;		    /* keys --big N: keys holds each server's N
				       largest, server by server, largest first */
	size_t *top; /* keys --big: the N largest of all, as indexes
			in keys, largest first */
	size_t ntop;
	struct fsmc_meta meta; /* inspect, ttl */
	/* dump: items written, and keys listed that could not be read;
	 * restore: items read, those skipped as expired, and those the
	 * servers refused */
	unsigned long long items, skipped, refused;
};

/*
 * An item of dump, and of restore's input.  The pointers are valid
 * during the call that hands it over.
 */
struct fsmc_item {
	const char *key; /* without the namespace */
	size_t keylen;
	const char *value;
	size_t valuelen;
	uint32_t flags;
	long long exp;	    /* Unix time, 0 for never */
	const char *server; /* where it was read, as fsmc_address() has it */
};

typedef int (*fsmc_item_fn)(void *, const struct fsmc_item *);
typedef long (*fsmc_read_fn)(void *, void *, size_t);

/*
 * What dump and restore stream through, as they hold neither all the
 * items nor all the input at once: item is called for each item dumped
 * and stops the dump when it returns non-zero; read fills a buffer with
 * restore's input and returns how much, 0 at its end, -1 on failure.
 */
struct fsmc_stream {
	fsmc_item_fn item;
	fsmc_read_fn read;
	void *ctx;
};

/* The first line of a dump: restore and -f skip it as a comment. */
#define FSMC_DUMP_HEADER                                              \
	"# fsmemcache dump: each item is \"{LENGTH} set KEY EXPIRES " \
	"FLAGS\", a newline, LENGTH bytes of value and a newline\n"

/*
 * Where the configuration comes from, and what overrides it.  Zero
 * fields take the file's settings or the defaults.
 */
struct fsmc_options {
	const char *config_file;    /* libconfig file, NULL for none */
	const char *profile;	    /* a group under profiles in the file */
	const char *servers;	    /* "host[:port[:weight]], ..." */
	const char *servers_origin; /* where servers came from, for messages */
	const char *key_namespace;  /* prefix for every key */
	int timeout_ms;		    /* connect and I/O timeouts */
	int binary;		    /* 1: the binary protocol */
	const char *password;	    /* SASL password when the file has none */
	const struct fsmc_health_limits *health_warn; /* NULL for none */
	const struct fsmc_health_limits *health_crit; /* NULL for none */
	int health_interval_ms; /* between health's samples; 0 for 1000 */
};

struct fsmc;

/* Output streams of fsmc_render(): the reply, and "-ERR" lines. */
#define FSMC_STREAM_REPLY 0
#define FSMC_STREAM_ERROR 1

typedef int (*fsmc_write_fn)(void *, int, const void *, size_t);

FSMC_API enum fsmc_status fsmc_open(
    struct fsmc **, const struct fsmc_options *, struct fsmc_result *);
/* fsmc_open_with()'s overrides: TLS on, whatever the file says. */
#define FSMC_OPEN_TLS 0x01
FSMC_API enum fsmc_status fsmc_open_with(struct fsmc **,
    const struct fsmc_options *, unsigned int, struct fsmc_result *);
FSMC_API void fsmc_close(struct fsmc *);
FSMC_API void fsmc_set_cancel_fd(struct fsmc *, int);
FSMC_API void fsmc_describe(const struct fsmc *, fsmc_write_fn, void *);
FSMC_API enum fsmc_status fsmc_run(
    struct fsmc *, int, char **, const void *, size_t, struct fsmc_result *);
FSMC_API enum fsmc_status fsmc_run_stream(struct fsmc *, int, char **,
    const void *, size_t, const struct fsmc_stream *, struct fsmc_result *);
FSMC_API enum fsmc_status fsmc_run_line(
    struct fsmc *, const char *, const void *, size_t, struct fsmc_result *);

/* Sessions: many commands over the same connections (batches). */
struct fsmc_session;
FSMC_API enum fsmc_status fsmc_session_open(
    struct fsmc *, int, struct fsmc_session **, struct fsmc_result *);
FSMC_API enum fsmc_status fsmc_session_run(struct fsmc_session *, int, char **,
    const void *, size_t, struct fsmc_result *);
FSMC_API enum fsmc_status fsmc_session_run_gets(
    struct fsmc_session *, size_t, int *, char ***, struct fsmc_result *);
FSMC_API enum fsmc_status fsmc_session_check(
    struct fsmc_session *, size_t, int *, char ***, struct fsmc_result *);
FSMC_API enum fsmc_status fsmc_session_check_values(struct fsmc_session *,
    size_t, int *, char ***, const char *const *, const size_t *,
    struct fsmc_result *);
FSMC_API enum fsmc_status fsmc_session_flush(
    struct fsmc_session *, struct fsmc_result *);
FSMC_API enum fsmc_status fsmc_session_sync(
    struct fsmc_session *, struct fsmc_result *);
FSMC_API enum fsmc_status fsmc_session_pipe_line(
    struct fsmc_session *, char *, const void *, size_t, struct fsmc_result *);
FSMC_API long fsmc_session_lost(
    struct fsmc_session *, size_t, struct fsmc_result *);
FSMC_API void fsmc_session_set_value_max(struct fsmc_session *, size_t);
FSMC_API void fsmc_session_close(struct fsmc_session *);
FSMC_API void fsmc_result_clear(struct fsmc_result *);
FSMC_API int fsmc_render(const struct fsmc_result *, fsmc_write_fn, void *);
FSMC_API int fsmc_render_item(const struct fsmc_item *, fsmc_write_fn, void *);
FSMC_API int fsmc_record_header(const char *, size_t *);
FSMC_API const char *fsmc_usage_line(size_t, int, char *, size_t, int *);
FSMC_API const char *fsmc_command_name(size_t);
FSMC_API const char *fsmc_libmemcached_version(void);
FSMC_API const char *fsmc_address(const char *, unsigned int, char *, size_t);
FSMC_API const char *fsmc_stat(const struct fsmc_server *, const char *);
FSMC_API int fsmc_health_limits_parse(
    const char *, struct fsmc_health_limits *, char *, size_t);
FSMC_API void fsmc_slabs_total(const struct fsmc_server *, struct fsmc_slab *);
FSMC_API int fsmc_rates(const struct fsmc_server *, const struct fsmc_server *,
    struct fsmc_rates *);

/* The tokenizer of FreeSWITCH API lines, exposed for tests and front ends. */
#define FSMC_MAX_TOKENS 5
FSMC_API int fsmc_split_line(char *, char **, int);

#endif
