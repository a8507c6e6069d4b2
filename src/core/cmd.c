/* The command table, argument validation and dispatch. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fsmc-int.h"

/*
 * The grammar.  Each entry gives the name (matched ignoring case, never
 * abbreviated), the operation, the kinds of its arguments in order, how
 * many of them are required, the shape of its reply and the function
 * that runs it.  Argument kinds:
 *
 *	k  key: 1 to 250 bytes, no space or control character
 *	v  value: any bytes
 *	e  expiration: decimal seconds, may be negative (already expired)
 *	f  flags: hexadecimal, optional 0x, 32 bits
 *	o  offset: decimal 0 to 4294967295, default 1
 *	d  delay: decimal seconds, not negative
 *	p  a pattern: a key prefix, or a glob of the whole key; like a
 *	   key, but may be empty
 *	w  the word "verbose"
 *	g  a group of statistics, one of stat_groups[]
 *
 * and options, in capitals, which come first in the kinds and before
 * the arguments on the line, in any order, "--" ending them:
 *
 *	L  -l: a column of servers
 *	B  --big count: the count largest keys, from 1 to FSMC_BIG_MAX
 *
 * Optional arguments nest: "kvef" with two required reads
 * "key value [expiration [flags]]"; options are never required.
 * Consecutive entries with the same arguments and function share a
 * usage line.  Entries that share a function switch on op.  Extensions,
 * marked 1, are commands mod_memcache does not have; they come after its
 * grammar.  Keep in step with man/fsmemcache.1.
 */
/* clang-format off */
const struct fsmc_cmd fsmc_cmds[] = {
	{ "set",	FSMC_SET,	"kvef",	2, FSMC_REPLY_OK,	0, cmd_store },
	{ "replace",	FSMC_REPLACE,	"kvef",	2, FSMC_REPLY_OK,	0, cmd_store },
	{ "add",	FSMC_ADD,	"kvef",	2, FSMC_REPLY_OK,	0, cmd_store },
	{ "get",	FSMC_GET,	"k",	1, FSMC_REPLY_VALUE,	0, cmd_get },
	{ "getflags",	FSMC_GETFLAGS,	"k",	1, FSMC_REPLY_FLAGS,	0, cmd_get },
	{ "delete",	FSMC_DELETE,	"ke",	1, FSMC_REPLY_OK,	0, cmd_delete },
	{ "increment",	FSMC_INCREMENT,	"koef",	1, FSMC_REPLY_NUMBER,	0, cmd_arith },
	{ "decrement",	FSMC_DECREMENT,	"koef",	1, FSMC_REPLY_NUMBER,	0, cmd_arith },
	{ "flush",	FSMC_FLUSH,	"d",	0, FSMC_REPLY_OK,	0, cmd_flush },
	{ "status",	FSMC_STATUS,	"w",	0, FSMC_REPLY_STATUS,	0, cmd_status },
	{ "append",	FSMC_APPEND,	"kv",	2, FSMC_REPLY_OK,	1, cmd_store },
	{ "prepend",	FSMC_PREPEND,	"kv",	2, FSMC_REPLY_OK,	1, cmd_store },
	{ "touch",	FSMC_TOUCH,	"ke",	2, FSMC_REPLY_OK,	1, cmd_touch },
	{ "where",	FSMC_WHERE,	"k",	1, FSMC_REPLY_TEXT,	1, cmd_where },
	{ "keys",	FSMC_KEYS,	"LBp",	0, FSMC_REPLY_KEYS,	1, cmd_keys },
	{ "inspect",	FSMC_INSPECT,	"k",	1, FSMC_REPLY_INSPECT,	1, cmd_inspect },
	{ "ttl",	FSMC_TTL,	"k",	1, FSMC_REPLY_TTL,	1, cmd_inspect },
	{ "dump",	FSMC_DUMP,	"p",	0, FSMC_REPLY_STREAM,	1, cmd_dump },
	{ "restore",	FSMC_RESTORE,	"",	0, FSMC_REPLY_STREAM,	1, cmd_restore },
	{ "health",	FSMC_HEALTH,	"",	0, FSMC_REPLY_HEALTH,	1, cmd_health },
	{ "stats",	FSMC_STATS,	"g",	0, FSMC_REPLY_STATS,	1, cmd_stats },
	{ "slabs",	FSMC_SLABS,	"",	0, FSMC_REPLY_SLABS,	1, cmd_slabs },
	{ "top",	FSMC_TOP,	"",	0, FSMC_REPLY_TOP,	1, cmd_top },
	{ "latency",	FSMC_LATENCY,	"",	0, FSMC_REPLY_LATENCY,	1, cmd_latency },
	{ .name = NULL }
};
/* clang-format on */

/*
 * The groups of memcached's statistics that stats asks for: those that
 * only read ("stats reset" and "stats detail on" change the server).
 */
static const char *const stat_groups[] = { "settings", "slabs", "items",
	"sizes", "conns", "extstore", NULL };

static const char *
arg_name(char kind)
{
	switch (kind) {
	case 'k':
		return ("key");
	case 'v':
		return ("value");
	case 'e':
		return ("expiration");
	case 'f':
		return ("flags");
	case 'o':
		return ("offset");
	case 'd':
		return ("delay");
	case 'p':
		return ("pattern");
	case 'w':
		return ("verbose");
	case 'g':
		return ("group");
	}
	return ("?");
}

/* Largest keys --big lists, per server and of all. */
#define FSMC_BIG_MAX 10000
#define FSMC_BIG_MAX_TEXT "10000"

/* An option as it is written, with the name of its value if it takes one. */
static const char *
opt_word(char kind, const char **value)
{
	*value = NULL;
	switch (kind) {
	case 'L':
		return ("-l");
	case 'B':
		*value = "count";
		return ("--big");
	}
	return ("?");
}

static void
append(char *buf, size_t len, const char *s)
{
	size_t used = strlen(buf);

	if (used < len)
		snprintf(buf + used, len - used, "%s", s);
}

/*
 * Write the i-th usage line into buf: in grammar style, as mod_memcache
 * prints it ("memcache <get|getflags> <key>"), or in command-line style
 * ("get|getflags key").  *ext, if not NULL, tells whether the line is an
 * extension to mod_memcache's grammar.  Returns buf, or NULL past the
 * last line.
 */
const char *
fsmc_usage_line(size_t i, int cli, char *buf, size_t len, int *ext)
{
	const struct fsmc_cmd *cmd = fsmc_cmds, *first;
	size_t line = 0;
	const char *k, *v;
	int n;

	for (;;) {
		if (cmd->name == NULL)
			return (NULL);
		first = cmd;
		while (cmd[1].name != NULL &&
		    strcmp(cmd[1].args, first->args) == 0 &&
		    cmd[1].minargs == first->minargs &&
		    cmd[1].ext == first->ext && cmd[1].exec == first->exec)
			cmd++;
		cmd++;
		if (line++ == i)
			break;
	}
	if (ext != NULL)
		*ext = first->ext;
	buf[0] = '\0';
	append(buf, len, cli ? "" : "memcache <");
	for (; first < cmd; first++) {
		append(buf, len, first->name);
		append(buf, len, first + 1 < cmd ? "|" : "");
	}
	append(buf, len, cli ? "" : ">");
	for (k = cmd[-1].args; isupper((unsigned char)*k); k++) {
		append(buf, len, " [");
		append(buf, len, opt_word(*k, &v));
		append(buf, len, v != NULL ? " " : "");
		append(buf, len, v != NULL ? v : "");
		append(buf, len, "]");
	}
	n = 0;
	for (; *k != '\0'; k++, n++) {
		append(buf, len, n < cmd[-1].minargs ? " " : " [");
		append(buf, len, cli ? "" : (n < cmd[-1].minargs ? "<" : ""));
		append(buf, len, arg_name(*k));
		append(buf, len, cli ? "" : (n < cmd[-1].minargs ? ">" : ""));
	}
	for (; n > cmd[-1].minargs; n--)
		append(buf, len, "]");
	return (buf);
}

/* The name of the i-th command, or NULL past the last. */
const char *
fsmc_command_name(size_t i)
{
	size_t n;

	for (n = 0; n < i && fsmc_cmds[n].name != NULL; n++)
		;
	return (fsmc_cmds[n].name);
}

const struct fsmc_cmd *
fsmc_find_command(const char *name)
{
	const struct fsmc_cmd *cmd;
	char first;

	/*
	 * The names are in lower case and most differ in their first byte,
	 * which spares a comparison of each, and most lines give them so,
	 * which a comparison that folds nothing finds sooner.  A byte past
	 * ASCII is left to strcasecmp(), which folds it as the locale says.
	 */
	first = name[0] >= 'A' && name[0] <= 'Z' ? (char)(name[0] - 'A' + 'a') :
						   name[0];
	for (cmd = fsmc_cmds; cmd->name != NULL; cmd++) {
		if ((cmd->name[0] == first || (unsigned char)first >= 0x80) &&
		    (strcmp(cmd->name, name) == 0 ||
			strcasecmp(cmd->name, name) == 0))
			return (cmd);
	}
	return (NULL);
}

/*
 * Parse a whole decimal number, with an optional sign, in [min, max].
 * Unlike strtol, leading white space, trailing garbage and an empty
 * string are errors.
 */
static int
parse_decimal(const char *s, long long min, long long max, long long *out)
{
	const char *digits = s;
	char *end;
	long long v;

	if (*s == '-' || *s == '+')
		digits++;
	if (!isdigit((unsigned char)*digits))
		return (-1);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < min || v > max)
		return (-1);
	*out = v;
	return (0);
}

/* Parse hexadecimal flags with an optional 0x: no sign, 32 bits. */
static int
parse_flags(const char *s, uint32_t *out)
{
	const char *p;
	unsigned long long v;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (*s == '\0')
		return (-1);
	for (p = s; *p != '\0'; p++) {
		if (!isxdigit((unsigned char)*p))
			return (-1);
	}
	errno = 0;
	v = strtoull(s, NULL, 16);
	if (errno == ERANGE || v > UINT32_MAX)
		return (-1);
	*out = (uint32_t)v;
	return (0);
}

/* Why key cannot be sent after a namespace of nslen, or NULL if it can. */
const char *
fsmc_bad_key(const char *key, size_t len, size_t nslen)
{
	size_t i;

	if (len == 0)
		return ("empty");
	if (len + nslen > FSMC_KEY_MAX)
		return (nslen > 0 ? "longer than 250 bytes with the namespace" :
				    "longer than 250 bytes");
	for (i = 0; i < len; i++) {
		if (key[i] == ' ')
			return ("contains a space");
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
			return ("contains a control character");
	}
	return (NULL);
}

static enum fsmc_status
bad_number(struct fsmc_call *call, char kind, const char *word, const char *why)
{
	char q[96];

	fsmc_quote(word, strlen(word), q, sizeof q);
	call->res->errtext =
	    memcached_strerror(NULL, MEMCACHED_INVALID_ARGUMENTS);
	return (fsmc_fail(call->res, FSMC_EDATA, call->cmd->name,
	    "bad %s %s: %s", arg_name(kind), q, why));
}

/* A group of statistics, by its name in any case. */
static enum fsmc_status
parse_group(struct fsmc_call *call, const char *word)
{
	const char *const *g;
	char q[96];

	for (g = stat_groups; *g != NULL; g++) {
		if (strcasecmp(*g, word) == 0) {
			call->a.group = *g;
			return (FSMC_OK);
		}
	}
	fsmc_quote(word, strlen(word), q, sizeof q);
	return (fsmc_fail(call->res, FSMC_EUSAGE, call->cmd->name,
	    "unknown group %s (settings, slabs, items, sizes, conns or "
	    "extstore)",
	    q));
}

/*
 * memcached reads an expiration, or a flush delay, of more than 30 days
 * as a Unix time.  Warn when that time is already past, as 2592001 is
 * (1970): the item expires at once, the flush drops nothing, and both
 * still answer OK.
 */
static void
check_past(struct fsmc_call *call, char kind, long long n)
{
	char key[96], when[64];
	struct tm tm;
	time_t t = (time_t)n;

	if (n <= FSMC_RELATIVE_MAX || n > (long long)time(NULL) ||
	    call->cmd->op == FSMC_DELETE || gmtime_r(&t, &tm) == NULL)
		return;
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
	key[0] = '\0';
	if (call->a.key != NULL) {
		key[0] = ' ';
		fsmc_escape(
		    call->a.key, call->a.keylen, key + 1, sizeof key - 1);
	}
	snprintf(call->res->warning, sizeof call->res->warning,
	    "%s%s: %s %lld is over 30 days, so memcached reads it as a Unix "
	    "time: %s, already past",
	    call->cmd->name, key, arg_name(kind), n, when);
}

/*
 * Check the arguments against the command's kinds and fill call->a.  The
 * value comes from valuebuf when it is not NULL (binary safe), else from
 * the word in its place.
 */
static enum fsmc_status
parse_args(struct fsmc_call *call, int argc, char **argv, const void *valuebuf,
    size_t valuelen)
{
	const struct fsmc_cmd *cmd = call->cmd;
	struct fsmc_args *a = &call->a;
	const char *k, *why;
	long long n;
	char q[96];

	a->offset = 1;
	for (k = cmd->args; isupper((unsigned char)*k); k++)
		;
	for (; *k != '\0'; k++) {
		if (*k == 'v' && valuebuf != NULL) {
			a->value = valuebuf;
			a->valuelen = valuelen;
			continue;
		}
		if (argc == 0)
			break;
		argc--;
		switch (*k) {
		case 'k':
			a->key = *argv;
			a->keylen = strlen(*argv);
			if ((why = fsmc_bad_key(
				 a->key, a->keylen, call->fc->nslen)) != NULL) {
				fsmc_quote(a->key, a->keylen, q, sizeof q);
				call->res->errtext = memcached_strerror(
				    NULL, MEMCACHED_BAD_KEY_PROVIDED);
				return (fsmc_fail(call->res, FSMC_EDATA,
				    cmd->name, "bad key %s: %s", q, why));
			}
			break;
		case 'p':
			a->key = *argv;
			a->keylen = strlen(*argv);
			if (a->keylen > 0 &&
			    (why = fsmc_bad_key(
				 a->key, a->keylen, call->fc->nslen)) != NULL) {
				fsmc_quote(a->key, a->keylen, q, sizeof q);
				call->res->errtext = memcached_strerror(
				    NULL, MEMCACHED_BAD_KEY_PROVIDED);
				return (fsmc_fail(call->res, FSMC_EDATA,
				    cmd->name, "bad pattern %s: %s", q, why));
			}
			break;
		case 'v':
			a->value = *argv;
			a->valuelen = strlen(*argv);
			break;
		case 'e':
			if (parse_decimal(*argv, INT32_MIN, INT32_MAX, &n))
				return (bad_number(call, *k, *argv,
				    "not a decimal number of seconds from "
				    "-2147483648 to 2147483647"));
			a->expiration = n;
			check_past(call, *k, n);
			break;
		case 'd':
			if (parse_decimal(*argv, 0, INT32_MAX, &n))
				return (bad_number(call, *k, *argv,
				    "not a decimal number of seconds from 0 "
				    "to 2147483647"));
			a->expiration = n;
			check_past(call, *k, n);
			break;
		case 'o':
			if (parse_decimal(*argv, 0, UINT32_MAX, &n))
				return (bad_number(call, *k, *argv,
				    "not a decimal number from 0 to "
				    "4294967295"));
			a->offset = (uint32_t)n;
			break;
		case 'f':
			if (parse_flags(*argv, &a->flags))
				return (bad_number(call, *k, *argv,
				    "not a hexadecimal number from 0 to "
				    "ffffffff"));
			break;
		case 'w':
			if (strcasecmp(*argv, "verbose") != 0) {
				fsmc_quote(*argv, strlen(*argv), q, sizeof q);
				return (fsmc_fail(call->res, FSMC_EUSAGE,
				    cmd->name, "unknown argument %s", q));
			}
			a->verbose = 1;
			break;
		case 'g':
			if (parse_group(call, *argv) != FSMC_OK)
				return (call->res->status);
			break;
		}
		argv++;
	}
	return (FSMC_OK);
}

/*
 * Take the options the command has from the front of its words, up to
 * the first word that is not one of them, or "--".  A word that starts
 * with "-" but is no option of the command is an argument (a key may
 * start with "-").  Returns the number of words taken.
 */
static int
parse_opts(struct fsmc_call *call, int argc, char **argv)
{
	const char *opts = call->cmd->args, *word, *value;
	long long n;
	char q[96];
	int used = 0;

	while (isupper((unsigned char)*opts) && used < argc &&
	    argv[used][0] == '-') {
		if (strcmp(argv[used], "--") == 0)
			return (used + 1);
		for (word = NULL; isupper((unsigned char)*opts); opts++) {
			if (strcmp(argv[used], opt_word(*opts, &value)) == 0) {
				word = argv[used];
				break;
			}
		}
		if (word == NULL)
			break;
		used++;
		if (*opts == 'L')
			call->a.servers_column = 1;
		else if (used == argc) {
			fsmc_fail(call->res, FSMC_EUSAGE, call->cmd->name,
			    "%s needs a %s", word, value);
			return (-1);
		} else if (parse_decimal(argv[used], 1, FSMC_BIG_MAX, &n)) {
			fsmc_quote(argv[used], strlen(argv[used]), q, sizeof q);
			call->res->errtext = memcached_strerror(
			    NULL, MEMCACHED_INVALID_ARGUMENTS);
			fsmc_fail(call->res, FSMC_EDATA, call->cmd->name,
			    "bad %s %s: not a decimal number from 1 to "
			    "%s",
			    value, q, FSMC_BIG_MAX_TEXT);
			return (-1);
		} else {
			call->a.big = (size_t)n;
			used++;
		}
		opts = call->cmd->args;
	}
	return (used);
}

/*
 * Find the command named by argv[0] and check its arguments, filling
 * call and res but sending nothing.  With valuebuf, the command's value
 * is valuebuf and is not among the words.
 */
enum fsmc_status
fsmc_prepare(struct fsmc_call *call, struct fsmc *fc, int argc, char **argv,
    const void *valuebuf, size_t valuelen, struct fsmc_result *res)
{
	const char *kinds;
	int nargs, maxargs, nopts;
	char q[96];

	fsmc_result_reset(res);
	memset(call, 0, sizeof *call);
	call->fc = fc;
	call->res = res;

	if (argc < 1)
		return (fsmc_fail(res, FSMC_EUSAGE, NULL, "no command given"));
	if ((call->cmd = fsmc_find_command(argv[0])) == NULL) {
		fsmc_quote(argv[0], strlen(argv[0]), q, sizeof q);
		return (
		    fsmc_fail(res, FSMC_EUSAGE, NULL, "unknown command %s", q));
	}
	res->command = call->cmd->name;
	res->reply = call->cmd->reply;

	if ((nopts = parse_opts(call, argc - 1, argv + 1)) < 0)
		return (res->status);
	argc -= nopts;
	argv += nopts;
	nargs = argc - 1;
	for (kinds = call->cmd->args; isupper((unsigned char)*kinds); kinds++)
		;
	maxargs = (int)strlen(kinds);
	if (valuebuf != NULL) {
		if (strchr(call->cmd->args, 'v') == NULL)
			return (fsmc_fail(res, FSMC_EUSAGE, call->cmd->name,
			    "takes no value, so none can be read from "
			    "standard input"));
		nargs++;
	}
	if (nargs < call->cmd->minargs)
		return (fsmc_fail(
		    res, FSMC_EUSAGE, call->cmd->name, "too few arguments"));
	if (nargs > maxargs)
		return (fsmc_fail(
		    res, FSMC_EUSAGE, call->cmd->name, "too many arguments"));
	if (parse_args(call, argc - 1, argv + 1, valuebuf, valuelen) != FSMC_OK)
		res->warning[0] = '\0';
	res->key = call->a.key;
	res->keylen = call->a.keylen;
	res->servers_column = call->a.servers_column;
	res->big = call->a.big;
	return (res->status);
}

/*
 * Run one command given as words: argv[0] is the command name.  With
 * valuebuf, the command's value is valuebuf and is not among the words.
 * Fills res, which the caller clears; returns res->status.  The command
 * takes a link of the handle's pool for itself and gives it back with
 * its connections open, so threads may share fc and calls do not
 * connect each time.
 */
enum fsmc_status
fsmc_run(struct fsmc *fc, int argc, char **argv, const void *valuebuf,
    size_t valuelen, struct fsmc_result *res)
{
	return (fsmc_run_stream(fc, argc, argv, valuebuf, valuelen, NULL, res));
}

/*
 * fsmc_run(), with what dump writes its items to and restore reads its
 * input from; other commands do not use stream, which may be NULL.
 */
enum fsmc_status
fsmc_run_stream(struct fsmc *fc, int argc, char **argv, const void *valuebuf,
    size_t valuelen, const struct fsmc_stream *stream, struct fsmc_result *res)
{
	struct fsmc_call call;
	struct fsmc_link *link;

	if (fsmc_prepare(&call, fc, argc, argv, valuebuf, valuelen, res) !=
	    FSMC_OK)
		return (res->status);
	if ((link = fsmc_pool_take(fc, res)) == NULL)
		return (res->status);
	call.mc = fc->proto;
	call.link = link;
	call.stream = stream;
	call.cmd->exec(&call);
	fsmc_pool_give(fc, link);
	return (res->status);
}

/*
 * Run one command given as one line, split as FreeSWITCH splits the
 * arguments of its API commands.
 */
enum fsmc_status
fsmc_run_line(struct fsmc *fc, const char *line, const void *valuebuf,
    size_t valuelen, struct fsmc_result *res)
{
	char *copy, *argv[FSMC_MAX_TOKENS];
	enum fsmc_status s;
	int argc;

	if ((copy = strdup(line)) == NULL) {
		memset(res, 0, sizeof *res);
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	}
	argc = fsmc_split_line(copy, argv, FSMC_MAX_TOKENS);
	s = fsmc_run(fc, argc, argv, valuebuf, valuelen, res);
	/* res->key points into the copy: the result keeps it. */
	res->words = copy;
	return (s);
}
