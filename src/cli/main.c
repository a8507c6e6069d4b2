/* fsmemcache: run one memcache API command from the command line. */

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#ifndef FSMC_CONF
#define FSMC_CONF "/usr/local/etc/fsmemcache.cfg"
#endif

#define DEFAULT_SERVERS "localhost:11211"

/* What the command line adds to the options: --tls. */
unsigned int open_flags;
/*
 * memcached's largest possible item (-I 1024m) is 1 GiB, its header
 * and key included: every value a server can store is smaller.
 */
#define STDIN_VALUE_MAX (1024UL * 1024 * 1024)

/* Options with no letter of their own. */
#define OPT_NAMESPACE 256
#define OPT_BINARY 257
#define OPT_JSON 258
#define OPT_STOP_ON_ERROR 259
#define OPT_PIPE 260
#define OPT_VERIFY 261
#define OPT_WARN 262
#define OPT_CRIT 263
#define OPT_HISTORY 264
#define OPT_WINDOW 265
#define OPT_TLS 280

/* The options: getopt's tables and the help text are made from this. */
/* clang-format off */
static const struct option_help {
	int letter;
	const char *name;
	const char *arg;
	const char *help;
} options[] = {
	{ OPT_BINARY, "binary", NULL,
	    "use memcached's binary protocol, not the text protocol" },
	{ 'c', "config", "FILE", "read the configuration from FILE" },
	{ OPT_CRIT, "crit", "LIMITS",
	    "health: CRITICAL beyond LIMITS, as hit=50,evictions=100,memory=98\n"
	    "(hit ratio %, evictions per second over -i, memory taken %)\n"
	    "or latency=500 (a server's response, ms)" },
	{ 'f', "file", "FILE",
	    "run the commands of FILE, one a line (- for standard input),\n"
	    "over one connection, with a summary on standard error" },
	{ 'e', "execute", "LINE",
	    "run LINE, split into words as FreeSWITCH splits API commands" },
	{ 'h', "help", NULL, "show this help and exit" },
	{ OPT_HISTORY, "history", NULL,
	    "latency: a row per interval (-i, 1 s by default), not one\n"
	    "summary" },
	{ 'i', "interval", "SECONDS",
	    "with -r: wait SECONDS (may be fractional) between runs; alone:\n"
	    "repeat until interrupted; with health: take its two samples\n"
	    "SECONDS apart (default 1), once; top, latency --history:\n"
	    "between rows (default 1); latency: between samples (default\n"
	    "0.01)" },
	{ OPT_JSON, "json", NULL, "show each result as one line of JSON" },
	{ 'n', "check-config", NULL,
	    "check the configuration, print the settings in effect and\n"
	    "exit, contacting no server" },
	{ OPT_NAMESPACE, "namespace", "PREFIX",
	    "put PREFIX before every key, as in \"freeswitch:\"" },
	{ 'p', "profile", "NAME", "use the profile NAME of the configuration" },
	{ OPT_PIPE, "pipe", NULL,
	    "with -f: send set, add, replace and delete lines without\n"
	    "waiting for replies (bulk loading); a line counts as sent\n"
	    "once its server confirms it read it" },
	{ 'q', "quiet", NULL,
	    "print nothing when set, replace, add, delete or flush succeed,\n"
	    "and send -ERR lines to standard error; twice (-qq), print\n"
	    "nothing at all for a command but a line for each failure (exit\n"
	    "status 64 or more) or warning, and with -f no summary unless\n"
	    "something failed, as cron wants" },
	{ OPT_STOP_ON_ERROR, "stop-on-error", NULL,
	    "with -f: stop at the first line that fails (exit status 64 or\n"
	    "more)" },
	{ 'r', "repeat", "COUNT",
	    "run the command COUNT times (0: until interrupted); top,\n"
	    "latency --history: COUNT rows; latency: COUNT samples; not\n"
	    "with -f or -n" },
	{ 's', "servers", "LIST",
	    "use the servers in LIST (\"host[:port], ...\") instead of the\n"
	    "configuration's" },
	{ 't', "timeout", "MS",
	    "give up connecting after MS milliseconds, and on a\n"
	    "command whose whole reply has not come MS milliseconds\n"
	    "after it was sent; a command that asks every server asks\n"
	    "them all at once, so hung servers cost MS together; a\n"
	    "server that fails twice in a row is then skipped for 5 s\n"
	    "(fsmemcache.cfg(5))" },
	{ OPT_TLS, "tls", NULL,
	    "speak TLS to the servers, checking their certificates against\n"
	    "the system's CA store (or the configuration's tls_ca_file)" },
	{ OPT_VERIFY, "verify", NULL,
	    "with --pipe: afterwards, read back each key loaded, once, and\n"
	    "report those missing, differing from the input's final word\n"
	    "on them, or that could not be read back (unverified)" },
	{ 'V', "version", NULL, "print the version and exit" },
	{ OPT_WINDOW, "window", "COUNT",
	    "with -f: send up to COUNT lines to each server before waiting\n"
	    "for their replies (1 to 1024, default 256; 1: one at a time)" },
	{ OPT_WARN, "warn", "LIMITS",
	    "health: WARNING beyond LIMITS (same form as --crit, and not\n"
	    "beyond it)" },
	{ 'x', "stdin", NULL,
	    "read the value of set, replace, add, append or prepend from\n"
	    "standard input, byte for byte (less than 1 GiB)" },
	{ 0, NULL, NULL, NULL },
};

static const char *synopsis[] = {
	"[-qx] [--binary] [--json] [--tls] [-c file] [-i seconds] [--namespace prefix] [-p profile] [-r count] [-s servers] [-t ms] command [argument ...]",
	"[-qx] [--binary] [--json] [--tls] [-c file] [-i seconds] [--namespace prefix] [-p profile] [-r count] [-s servers] [-t ms] -e line",
	"[-q] [--binary] [--json] [--stop-on-error] [--tls] [-c file] [--namespace prefix] [-p profile] [-s servers] [-t ms] [--pipe [--verify] | --window count] -f file",
	"[-q] [--binary] [--json] [--tls] [-c file] [-i seconds] [-p profile] [-r count] [-s servers] [-t ms] [--warn limits] [--crit limits] health",
	"[-q] [--binary] [--history] [--json] [--tls] [-c file] [-i seconds] [-p profile] [-r count] [-s servers] [-t ms] latency",
	"[-q] [--binary] [--json] [--tls] [-c file] [--namespace prefix] [-p profile] [-s servers] [-t ms]",
	"-n [--binary] [--tls] [-c file] [--namespace prefix] [-p profile] [-s servers] [-t ms]",
	"-h | -V",
	NULL,
};
/* clang-format on */

static void
usage(FILE *fp)
{
	size_t i;

	for (i = 0; synopsis[i] != NULL; i++)
		fprintf(fp, "%s fsmemcache %s\n", i == 0 ? "usage:" : "      ",
		    synopsis[i]);
}

/* The usage of every command, as -h and the prompt's help list them. */
void
print_commands(FILE *fp)
{
	char line[256];
	size_t i;
	int ext, ext_shown = 0;

	fprintf(fp, "Commands (names ignore case):\n");
	for (i = 0; fsmc_usage_line(i, 1, line, sizeof line, &ext) != NULL;
	     i++) {
		if (ext && !ext_shown++)
			fprintf(fp, "\nExtensions, not in mod_memcache:\n");
		fprintf(fp, "  %s\n", line);
	}
}

static void
help(void)
{
	const struct option_help *o;
	const char *p;
	char left[64];

	usage(stdout);
	putchar('\n');
	print_commands(stdout);
	printf("\nOptions:\n");
	for (o = options; o->name != NULL; o++) {
		if (o->letter < 256)
			snprintf(left, sizeof left, "-%c, --%s%s%s", o->letter,
			    o->name, o->arg != NULL ? " " : "",
			    o->arg != NULL ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", o->name,
			    o->arg != NULL ? " " : "",
			    o->arg != NULL ? o->arg : "");
		printf("  %-22s ", left);
		for (p = o->help; *p != '\0'; p++) {
			putchar(*p);
			if (*p == '\n')
				printf("  %-22s ", "");
		}
		putchar('\n');
	}
	printf(
	    "\nWith no command and a terminal on standard input, fsmemcache\n"
	    "opens a prompt: commands are read a line at a time, split as\n"
	    "-e splits them, over connections kept between them, with Tab\n"
	    "completion and history ($XDG_STATE_HOME/fsmemcache/history,\n"
	    "else ~/.fsmemcache_history); help lists them, quit leaves.\n");
	printf(
	    "\nExit status: 0 done, 1 not found, 2 not stored, 64 usage,\n"
	    "65 invalid data, 66 no input file, 69 unavailable, 70 internal\n"
	    "error, 74 standard input or output failing, 76 server error,\n"
	    "77 authentication failed, 78 configuration error; with -f, the\n"
	    "highest of any line; health: 0 OK, 1 WARNING, 2 CRITICAL,\n"
	    "3 UNKNOWN.  See fsmemcache(1).\n");
}

/*
 * The configuration file: -c, else $FSMEMCACHE_CONFIG, else the first
 * that exists of the user's and the system's.  NULL when there is none.
 */
static const char *
find_config(const char *given, char *buf, size_t len)
{
	const char *env, *home;

	if (given != NULL)
		return (given);
	if ((env = getenv("FSMEMCACHE_CONFIG")) != NULL && *env != '\0')
		return (env);
	if ((env = getenv("XDG_CONFIG_HOME")) != NULL && env[0] == '/')
		snprintf(buf, len, "%s/fsmemcache/fsmemcache.cfg", env);
	else if ((home = getenv("HOME")) != NULL && *home != '\0')
		snprintf(
		    buf, len, "%s/.config/fsmemcache/fsmemcache.cfg", home);
	else
		buf[0] = '\0';
	if (buf[0] != '\0' && access(buf, F_OK) == 0)
		return (buf);
	if (access(FSMC_CONF, F_OK) == 0)
		return (FSMC_CONF);
	return (NULL);
}

/*
 * Read all of standard input; NULL on failure, with *why set and *status
 * the exit status.  A file is refused by its size before it is read.
 */
static char *
read_stdin(size_t *lenp, const char **why, int *status)
{
	size_t len = 0, size = 65536, n;
	struct stat st;
	char *buf, *p;

	*status = EXIT_DATAERR;
	*why = "value of 1 GiB or more, larger than any memcached item";
	if (fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
	    (unsigned long long)st.st_size >= STDIN_VALUE_MAX)
		return (NULL);
	*status = EXIT_INTERNAL;
	if ((buf = malloc(size)) == NULL) {
		*why = strerror(ENOMEM);
		return (NULL);
	}
	while ((n = fread(buf + len, 1, size - len, stdin)) > 0) {
		len += n;
		if (len < size)
			continue;
		if (size >= STDIN_VALUE_MAX) {
			*status = EXIT_DATAERR;
			free(buf);
			return (NULL);
		}
		if ((p = realloc(buf, size * 2)) == NULL) {
			*why = strerror(ENOMEM);
			free(buf);
			return (NULL);
		}
		buf = p;
		size *= 2;
	}
	if (ferror(stdin)) {
		*status = EXIT_IOERR;
		*why = strerror(errno);
		free(buf);
		return (NULL);
	}
	*lenp = len;
	return (buf);
}

static void
build_getopt(char *optstring, struct option *longopts)
{
	const struct option_help *o;

	*optstring++ = '+';
	*optstring++ = ':';
	for (o = options; o->name != NULL; o++, longopts++) {
		if (o->letter < 256) {
			*optstring++ = (char)o->letter;
			if (o->arg != NULL)
				*optstring++ = ':';
		}
		longopts->name = o->name;
		longopts->has_arg =
		    o->arg != NULL ? required_argument : no_argument;
		longopts->flag = NULL;
		longopts->val = o->letter;
	}
	*optstring = '\0';
	memset(longopts, 0, sizeof *longopts);
}

/* Parse a timeout in milliseconds, 1 to 3600000; -1 if it is not one. */
static int
parse_timeout(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < 1 || v > 3600000)
		return (-1);
	return ((int)v);
}

/* For -n: where the settings came from, as a comment line. */
static void
print_origin(const struct fsmc_options *fo, const char *servers_from)
{
	printf("# fsmemcache %s: settings in effect: ", FSMC_VERSION);
	if (fo->config_file != NULL)
		printf("from %s", fo->config_file);
	else
		printf("no configuration file");
	if (fo->profile != NULL)
		printf(", profile %s", fo->profile);
	if (servers_from != NULL)
		printf(", servers from %s", servers_from);
	printf("\n");
}

/*
 * Why the options and arguments do not go together, "" for a bare
 * synopsis, or NULL when they do.
 */
static const char *
check_usage(const char *line, const char *file, const struct batch_options *bo,
    int check, int from_stdin, int repeat, int argc, char **argv)
{
	static char why[256];

	if ((line != NULL || file != NULL || check) && argc > 0) {
		snprintf(why, sizeof why,
		    "%s takes no command words; "
		    "unexpected argument '%.64s'",
		    line != NULL     ? "-e" :
			file != NULL ? "-f" :
				       "-n",
		    argv[0]);
		return (why);
	}
	if ((line != NULL) + (file != NULL) + check > 1)
		return ("-e, -f and -n do not go together");
	if (file != NULL && from_stdin)
		return ("-x does not go with -f: values are on the lines");
	if ((file != NULL || check) && repeat)
		return ("-r and -i do not go with -f or -n");
	if (file == NULL && (bo->pipe || bo->verify || bo->stop_on_error))
		return ("--pipe, --verify and --stop-on-error need -f");
	if (bo->verify && !bo->pipe)
		return ("--verify needs --pipe");
	if (bo->window != 0 && file == NULL)
		return ("--window needs -f");
	if (bo->window != 0 && bo->pipe)
		return ("--window does not go with --pipe, which waits for no "
			"reply");
	if (line == NULL && file == NULL && !check && argc == 0)
		return ("");
	return (NULL);
}

/* Parse a whole number of runs for -r. */
static int
parse_count(const char *s, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	*out = strtoul(s, &end, 10);
	return (*end != '\0' || errno == ERANGE ? -1 : 0);
}

/* Parse seconds for -i: a decimal number, fractions allowed. */
static int
parse_seconds(const char *s, double *out)
{
	char *end;

	if ((*s < '0' || *s > '9') && *s != '.')
		return (-1);
	*out = strtod(s, &end);
	return (*end != '\0' || *out > 86400 ? -1 : 0);
}

static void
pause_for(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Keep the first usage error, to report once the command is known. */
static void usage_error(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
usage_error(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/*
 * health could not run: "MEMCACHE UNKNOWN: why" on standard output, or
 * its JSON, where monitoring reads it.  Returns UNKNOWN's exit status:
 * a monitoring plugin exits 0 to 3 only.
 */
static int
health_unknown(struct output *out, struct fsmc_result *res)
{
	int quiet = out->quiet;

	res->command = "health";
	res->reply = FSMC_REPLY_HEALTH;
	/* A failure has its line even with -qq. */
	out->quiet = 0;
	output_result(out, res, 0);
	out->quiet = quiet;
	output_flush(out);
	return (FSMC_VERDICT_UNKNOWN);
}

/*
 * Whether a WARNING can show at all: a --warn limit beyond the --crit
 * limit of the same figure never would, CRITICAL coming first.  Equal
 * limits are allowed: no WARNING band.  Returns 0, or -1 with a message
 * in why.
 */
static int
health_check_limits(const struct fsmc_health_limits *warn,
    const struct fsmc_health_limits *crit, char *why, size_t len)
{
	if (warn->hit >= 0 && crit->hit >= 0 && warn->hit < crit->hit)
		snprintf(why, len, "--warn hit=%g is below --crit hit=%g",
		    warn->hit, crit->hit);
	else if (warn->evictions >= 0 && crit->evictions >= 0 &&
	    warn->evictions > crit->evictions)
		snprintf(why, len,
		    "--warn evictions=%g is above --crit evictions=%g",
		    warn->evictions, crit->evictions);
	else if (warn->memory >= 0 && crit->memory >= 0 &&
	    warn->memory > crit->memory)
		snprintf(why, len, "--warn memory=%g is above --crit memory=%g",
		    warn->memory, crit->memory);
	else if (warn->latency >= 0 && crit->latency >= 0 &&
	    warn->latency > crit->latency)
		snprintf(why, len,
		    "--warn latency=%g is above --crit latency=%g",
		    warn->latency, crit->latency);
	else
		return (0);
	return (-1);
}

/* health_unknown() for a problem of the command line's. */
static int
health_bad_usage(struct output *out, const char *why)
{
	struct fsmc_result res;

	memset(&res, 0, sizeof res);
	res.status = FSMC_EUSAGE;
	snprintf(res.msg, sizeof res.msg, "%s", why);
	return (health_unknown(out, &res));
}

/* dump's items: to standard output. */
static int
stream_item(void *ctx, const struct fsmc_item *item)
{
	return (output_item(ctx, item));
}

/* restore's input: standard input, as it comes. */
static long
stream_read(void *ctx, void *buf, size_t len)
{
	struct output *out = ctx;
	ssize_t n;

	while ((n = read(STDIN_FILENO, buf, len)) < 0 && errno == EINTR)
		;
	if (n < 0)
		out->read_errno = errno;
	return ((long)n);
}

/*
 * Run one command, given as words or as a line split as -e splits it,
 * with standard input and output as dump's and restore's stream.
 * Returns the time it took, in seconds.
 */
static double
run_one(struct fsmc *fc, const char *line, int argc, char **argv,
    const char *value, size_t valuelen, struct output *out,
    struct fsmc_result *res)
{
	struct fsmc_stream stream = { stream_item, stream_read, out };
	struct timespec t0, t1;
	char *copy = NULL, *words[FSMC_MAX_TOKENS];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (line != NULL && (copy = strdup(line)) == NULL)
		fsmc_run_line(fc, line, value, valuelen, res);
	else {
		if (copy != NULL) {
			argc = fsmc_split_line(copy, words, FSMC_MAX_TOKENS);
			argv = words;
		}
		fsmc_run_stream(fc, argc, argv, value, valuelen, &stream, res);
		/* The result's key points into the copy: it keeps it. */
		res->words = copy;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* Whether the command is health, which has exit statuses of its own. */
static int
is_health(const char *line, int argc, char **argv)
{
	char *copy, *words[FSMC_MAX_TOKENS];
	int n, yes;

	if (line == NULL)
		return (argc > 0 && strcasecmp(argv[0], "health") == 0);
	if ((copy = strdup(line)) == NULL)
		return (0);
	n = fsmc_split_line(copy, words, FSMC_MAX_TOKENS);
	yes = n > 0 && strcasecmp(words[0], "health") == 0;
	free(copy);
	return (yes);
}

/* The views that sample over time, which the command line runs itself. */
enum sampled { SAMPLED_NONE, SAMPLED_TOP, SAMPLED_LATENCY };

/* Whether the command is top or latency. */
static enum sampled
sampled_view(const char *line, int argc, char **argv)
{
	char *copy = NULL, *words[FSMC_MAX_TOKENS];
	const char *name = NULL;
	enum sampled v = SAMPLED_NONE;

	if (line == NULL && argc > 0)
		name = argv[0];
	else if (line != NULL && (copy = strdup(line)) != NULL &&
	    fsmc_split_line(copy, words, FSMC_MAX_TOKENS) > 0)
		name = words[0];
	if (name != NULL && strcasecmp(name, "top") == 0)
		v = SAMPLED_TOP;
	else if (name != NULL && strcasecmp(name, "latency") == 0)
		v = SAMPLED_LATENCY;
	free(copy);
	return (v);
}

/*
 * Show the result of a single command and return its exit status;
 * health's is its verdict, as a monitoring plugin's, UNKNOWN when even
 * the verdict cannot be written.
 */
static int
show_timed(struct output *out, const struct fsmc_result *res, double seconds)
{
	int health = res->reply == FSMC_REPLY_HEALTH;
	int status = health ? health_exit(res) : exit_status(res->status);

	output_result(out, res, 0);
	if (output_flush(out) != 0)
		return (health ? FSMC_VERDICT_UNKNOWN : EXIT_IOERR);
	if (out->read_errno != 0) {
		fprintf(stderr, "fsmemcache: standard input: %s\n",
		    strerror(out->read_errno));
		return (EXIT_IOERR);
	}
	if (!out->warned) {
		output_warning(res, 0);
		out->warned = res->warning[0] != '\0';
	}
	output_summary(out, res, seconds);
	if (exit_status(res->status) >= EXIT_USAGE)
		fprintf(stderr, "fsmemcache: %s\n", res->msg);
	return (status);
}

/* The same, for a command whose time is not reported (the prompt's). */
int
show_single(struct output *out, const struct fsmc_result *res)
{
	return (show_timed(out, res, 0));
}

int
main(int argc, char **argv)
{
	struct option longopts[sizeof options / sizeof options[0]];
	char optstring[2 * (sizeof options / sizeof options[0]) + 3];
	struct fsmc_options fo;
	struct batch_options bo;
	struct output out;
	struct fsmc_result res;
	struct fsmc *fc;
	const char *line = NULL, *why = NULL, *given = NULL;
	const char *servers_from = NULL;
	char *value = NULL, cfgbuf[4096];
	size_t valuelen = 0;
	int ch, from_stdin = 0, check = 0, interactive = 0, status;
	struct fsmc_health_limits warn, crit;
	unsigned long repeat = 1, run, count;
	int repeat_set = 0, interval_set = 0, health, history = 0;
	enum sampled sampled;
	struct view_options vo;
	double interval = 0, seconds;
	char why_buf[256], bad[512] = "";
	const char *warn_spec = NULL, *crit_spec = NULL, *interval_arg = NULL;

	memset(&fo, 0, sizeof fo);
	memset(&bo, 0, sizeof bo);
	memset(&out, 0, sizeof out);
	build_getopt(optstring, longopts);
	opterr = 0;
	while (
	    (ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_BINARY:
			fo.binary = 1;
			break;
		case OPT_TLS:
			open_flags |= FSMC_OPEN_TLS;
			break;
		case 'c':
			given = optarg;
			break;
		case 'e':
			line = optarg;
			break;
		case 'f':
			bo.file = optarg;
			break;
		case OPT_JSON:
			out.json = 1;
			break;
		case OPT_STOP_ON_ERROR:
			bo.stop_on_error = 1;
			break;
		case OPT_PIPE:
			bo.pipe = 1;
			break;
		case OPT_VERIFY:
			bo.verify = 1;
			break;
		case 'h':
			if (bad[0] != '\0')
				break;
			help();
			return (output_flush(&out));
		case 'n':
			check = 1;
			break;
		case OPT_NAMESPACE:
			fo.key_namespace = optarg;
			break;
		case 'p':
			fo.profile = optarg;
			break;
		case 'q':
			out.quiet++;
			break;
		case 's':
			fo.servers = optarg;
			servers_from = "-s";
			break;
		case 't':
			if ((fo.timeout_ms = parse_timeout(optarg)) < 0)
				usage_error(bad, sizeof bad,
				    "-t: bad timeout '%s' "
				    "(milliseconds from 1 to 3600000)",
				    optarg);
			break;
		case 'V':
			if (bad[0] != '\0')
				break;
			printf("fsmemcache %s (libmemcached %s)\n",
			    FSMC_VERSION, fsmc_libmemcached_version());
			return (output_flush(&out));
		case 'x':
			from_stdin = 1;
			break;
		case 'r':
			if (parse_count(optarg, &repeat) != 0)
				usage_error(bad, sizeof bad,
				    "-r: bad count '%s' (see fsmemcache -h)",
				    optarg);
			repeat_set = 1;
			break;
		case 'i':
			if (parse_seconds(optarg, &interval) != 0)
				usage_error(bad, sizeof bad,
				    "-i: bad interval '%s' (see fsmemcache -h)",
				    optarg);
			interval_arg = optarg;
			interval_set = 1;
			break;
		case OPT_WARN:
			warn_spec = optarg;
			break;
		case OPT_CRIT:
			crit_spec = optarg;
			break;
		case OPT_HISTORY:
			history = 1;
			break;
		case OPT_WINDOW:
			if (parse_count(optarg, &count) != 0 || count < 1 ||
			    count > FSMC_WINDOW_MAX)
				usage_error(bad, sizeof bad,
				    "--window: bad count '%s' (lines in flight "
				    "per server, from 1 to %d)",
				    optarg, FSMC_WINDOW_MAX);
			else
				bo.window = (unsigned int)count;
			break;
		case ':':
			usage_error(bad, sizeof bad,
			    "option %s needs an argument (see fsmemcache -h)",
			    argv[optind - 1]);
			break;
		default:
			if (optopt != 0)
				usage_error(bad, sizeof bad,
				    "unknown option -%c (see fsmemcache -h)",
				    optopt);
			else
				usage_error(bad, sizeof bad,
				    "unknown option %s (see fsmemcache -h)",
				    argv[optind - 1]);
			break;
		}
	}
	argc -= optind;
	argv += optind;
	/* health, a monitoring plugin, says UNKNOWN where others say 64. */
	health = is_health(line, argc, argv);
	if (bad[0] == '\0' &&
	    (why = check_usage(line, bo.file, &bo, check, from_stdin,
		 repeat_set || interval_set, argc, argv)) != NULL) {
		/* No command: a prompt for a terminal, the synopsis else. */
		if (*why == '\0' && !from_stdin && !repeat_set &&
		    !interval_set && isatty(STDIN_FILENO))
			interactive = 1;
		else if (*why == '\0') {
			usage(stderr);
			return (EXIT_USAGE);
		} else
			snprintf(
			    bad, sizeof bad, "%s (see fsmemcache -h)", why);
	}
	if (bad[0] == '\0' && health && interval_set && interval <= 0)
		snprintf(bad, sizeof bad,
		    "-i: bad interval '%s' for health (seconds above 0)",
		    interval_arg);
	sampled = sampled_view(line, argc, argv);
	if (bad[0] == '\0' && history && sampled != SAMPLED_LATENCY)
		snprintf(bad, sizeof bad,
		    "--history goes with latency (see fsmemcache -h)");
	if (bad[0] != '\0') {
		if (health)
			return (health_bad_usage(&out, bad));
		fprintf(stderr, "fsmemcache: %s\n", bad);
		return (EXIT_USAGE);
	}

	fo.config_file = find_config(given, cfgbuf, sizeof cfgbuf);
	if (fo.config_file == NULL && fo.servers == NULL) {
		fo.servers = getenv("MEMCACHED_SERVERS");
		servers_from = "MEMCACHED_SERVERS";
		fo.servers_origin = servers_from;
		if (fo.servers == NULL || *fo.servers == '\0') {
			fo.servers = DEFAULT_SERVERS;
			servers_from = "the default";
		}
	}
	fo.password = getenv("FSMEMCACHE_PASSWORD");
	if ((warn_spec != NULL || crit_spec != NULL) && !health) {
		fprintf(stderr,
		    "fsmemcache: --warn and --crit go with health (see "
		    "fsmemcache -h)\n");
		return (EXIT_USAGE);
	}
	/* Monitoring systems read the verdict on standard output. */
	warn.hit = warn.evictions = warn.memory = warn.latency = -1;
	crit = warn;
	if (warn_spec != NULL) {
		if (fsmc_health_limits_parse(
			warn_spec, &warn, why_buf, sizeof why_buf) != 0) {
			snprintf(bad, sizeof bad, "--warn: %s", why_buf);
			return (health_bad_usage(&out, bad));
		}
		fo.health_warn = &warn;
	}
	if (crit_spec != NULL) {
		if (fsmc_health_limits_parse(
			crit_spec, &crit, why_buf, sizeof why_buf) != 0) {
			snprintf(bad, sizeof bad, "--crit: %s", why_buf);
			return (health_bad_usage(&out, bad));
		}
		fo.health_crit = &crit;
	}
	if (health_check_limits(&warn, &crit, why_buf, sizeof why_buf) != 0)
		return (health_bad_usage(&out, why_buf));
	/* For health, -i is the time between its samples, rounded up. */
	if (health && interval_set)
		fo.health_interval_ms = (int)(interval * 1000 + 0.999);
	if (fsmc_open_with(&fc, &fo, open_flags, &res) != FSMC_OK) {
		if (health)
			return (health_unknown(&out, &res));
		fprintf(stderr, "fsmemcache: %s\n", res.msg);
		return (exit_status(res.status));
	}
	if (res.msg[0] != '\0')
		fprintf(stderr, "fsmemcache: %s\n", res.msg);
	out.tty = isatty(STDOUT_FILENO);
	if (check) {
		print_origin(&fo, servers_from);
		fsmc_describe(fc, write_reply, &out);
		fsmc_close(fc);
		return (output_flush(&out));
	}
	if (interactive) {
		status = prompt_run(fc, &fo, &out);
		fsmc_close(fc);
		return (status);
	}
	if (bo.file != NULL) {
		out.batch = 1;
		if (bo.window == 0)
			bo.window = FSMC_WINDOW;
		status = batch_run(fc, &bo, &out);
		fsmc_close(fc);
		return (status);
	}
	if (from_stdin &&
	    (value = read_stdin(&valuelen, &why, &status)) == NULL) {
		fprintf(stderr, "fsmemcache: standard input: %s\n", why);
		fsmc_close(fc);
		return (health ? FSMC_VERDICT_UNKNOWN : status);
	}

	if (sampled != SAMPLED_NONE) {
		memset(&vo, 0, sizeof vo);
		vo.line = line;
		vo.argc = argc;
		vo.argv = argv;
		vo.value = value;
		vo.valuelen = valuelen;
		vo.repeat = repeat_set ? repeat : 0;
		vo.interval = interval_set ? interval : -1;
		vo.history = history;
		status = sampled == SAMPLED_TOP ? views_top(fc, &out, &vo) :
						  views_latency(fc, &out, &vo);
		fsmc_close(fc);
		free(value);
		return (status);
	}
	/* health's -i spaces its samples: a run takes that long already. */
	if (interval_set && !repeat_set && !health)
		repeat = 0;
	/* Repeated data replies each get their line, as in a batch. */
	out.batch = repeat != 1;
	status = 0;
	for (run = 1; repeat == 0 || run <= repeat; run++) {
		if (run > 1 && !health)
			pause_for(interval);
		seconds =
		    run_one(fc, line, argc, argv, value, valuelen, &out, &res);
		status = show_timed(&out, &res, seconds);
		fsmc_result_clear(&res);
		if (out.failed)
			break;
	}
	fsmc_close(fc);
	free(value);
	return (status);
}
