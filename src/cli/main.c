/* fsmemcache: run one memcache API command from the command line. */

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
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
	    "(hit ratio %, evictions per second, memory used %)" },
	{ 'f', "file", "FILE",
	    "run the commands of FILE, one a line (- for standard input),\n"
	    "over one connection, with a summary on standard error" },
	{ 'e', "execute", "LINE",
	    "run LINE, split into words as FreeSWITCH splits API commands" },
	{ 'h', "help", NULL, "show this help and exit" },
	{ 'i', "interval", "SECONDS",
	    "with -r: wait SECONDS (may be fractional) between runs; alone:\n"
	    "repeat until interrupted" },
	{ OPT_JSON, "json", NULL, "show each result as one line of JSON" },
	{ 'n', "check-config", NULL,
	    "check the configuration, print the settings in effect and\n"
	    "exit, contacting no server" },
	{ OPT_NAMESPACE, "namespace", "PREFIX",
	    "put PREFIX before every key, as in \"freeswitch:\"" },
	{ 'p', "profile", "NAME", "use the profile NAME of the configuration" },
	{ OPT_PIPE, "pipe", NULL,
	    "with -f: send set, add, replace and delete lines without\n"
	    "waiting for replies (bulk loading)" },
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
	    "run the command COUNT times (0: until interrupted); not with\n"
	    "-f or -n" },
	{ 's', "servers", "LIST",
	    "use the servers in LIST (\"host[:port], ...\") instead of the\n"
	    "configuration's" },
	{ 't', "timeout", "MS",
	    "give up connecting after MS milliseconds, and on a\n"
	    "command whose whole reply has not come MS milliseconds\n"
	    "after it was sent" },
	{ OPT_VERIFY, "verify", NULL,
	    "with --pipe: afterwards, read back each key loaded, once, and\n"
	    "report those missing, differing from the input's final word\n"
	    "on them, or that could not be read back (unverified)" },
	{ 'V', "version", NULL, "print the version and exit" },
	{ OPT_WARN, "warn", "LIMITS",
	    "health: WARNING beyond LIMITS (same form as --crit, and not\n"
	    "beyond it)" },
	{ 'x', "stdin", NULL,
	    "read the value of set, replace, add, append or prepend from\n"
	    "standard input, byte for byte (less than 1 GiB)" },
	{ 0, NULL, NULL, NULL },
};

static const char *synopsis[] = {
	"[-qx] [--binary] [--json] [-c file] [-i seconds] [--namespace prefix] [-p profile] [-r count] [-s servers] [-t ms] command [argument ...]",
	"[-qx] [--binary] [--json] [-c file] [-i seconds] [--namespace prefix] [-p profile] [-r count] [-s servers] [-t ms] -e line",
	"[-q] [--binary] [--json] [--stop-on-error] [-c file] [--namespace prefix] [-p profile] [-s servers] [-t ms] [--pipe [--verify]] -f file",
	"[-q] [--binary] [--json] [-c file] [-i seconds] [-p profile] [-r count] [-s servers] [-t ms] [--warn limits] [--crit limits] health",
	"-n [--binary] [-c file] [--namespace prefix] [-p profile] [-s servers] [-t ms]",
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

static void
help(void)
{
	const struct option_help *o;
	const char *p;
	char line[256], left[64];
	size_t i;
	int ext, ext_shown = 0;

	usage(stdout);
	printf("\nCommands (names ignore case):\n");
	for (i = 0; fsmc_usage_line(i, 1, line, sizeof line, &ext) != NULL;
	     i++) {
		if (ext && !ext_shown++)
			printf("\nExtensions, not in mod_memcache:\n");
		printf("  %s\n", line);
	}
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

/*
 * Show the result of a single command and return its exit status;
 * health is judged against the thresholds, and exits as a monitoring
 * plugin does.
 */
static int
show_single(struct output *out, const struct fsmc_result *res,
    const struct health_limits *warn, const struct health_limits *crit,
    double seconds)
{
	int status = exit_status(res->status);

	if (res->reply == FSMC_REPLY_HEALTH) {
		if (out->json)
			output_result(out, res, 0);
		status =
		    health_output(out->json || out->quiet > 1 ? NULL : stdout,
			res, warn, crit);
	} else
		output_result(out, res, 0);
	if (output_flush(out) != 0)
		return (EXIT_IOERR);
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
	int ch, from_stdin = 0, check = 0, status;
	struct health_limits warn = { -1, -1, -1 }, crit = { -1, -1, -1 };
	unsigned long repeat = 1, run;
	int repeat_set = 0, interval_set = 0, health;
	double interval = 0, seconds;
	char why_buf[256];
	const char *warn_spec = NULL, *crit_spec = NULL;

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
			if ((fo.timeout_ms = parse_timeout(optarg)) < 0) {
				fprintf(stderr,
				    "fsmemcache: -t: bad timeout '%s' "
				    "(milliseconds from 1 to 3600000)\n",
				    optarg);
				return (EXIT_USAGE);
			}
			break;
		case 'V':
			printf("fsmemcache %s (libmemcached %s)\n",
			    FSMC_VERSION, fsmc_libmemcached_version());
			return (output_flush(&out));
		case 'x':
			from_stdin = 1;
			break;
		case 'r':
			if (parse_count(optarg, &repeat) != 0) {
				fprintf(stderr,
				    "fsmemcache: -r: bad count '%s' (see "
				    "fsmemcache -h)\n",
				    optarg);
				return (EXIT_USAGE);
			}
			repeat_set = 1;
			break;
		case 'i':
			if (parse_seconds(optarg, &interval) != 0) {
				fprintf(stderr,
				    "fsmemcache: -i: bad interval '%s' (see "
				    "fsmemcache -h)\n",
				    optarg);
				return (EXIT_USAGE);
			}
			interval_set = 1;
			break;
		case OPT_WARN:
			warn_spec = optarg;
			break;
		case OPT_CRIT:
			crit_spec = optarg;
			break;
		case ':':
			fprintf(stderr,
			    "fsmemcache: option %s needs an argument "
			    "(see fsmemcache -h)\n",
			    argv[optind - 1]);
			return (EXIT_USAGE);
		default:
			if (optopt != 0)
				fprintf(stderr,
				    "fsmemcache: unknown option -%c "
				    "(see fsmemcache -h)\n",
				    optopt);
			else
				fprintf(stderr,
				    "fsmemcache: unknown option %s "
				    "(see fsmemcache -h)\n",
				    argv[optind - 1]);
			return (EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if ((why = check_usage(line, bo.file, &bo, check, from_stdin,
		 repeat_set || interval_set, argc, argv)) != NULL) {
		if (*why == '\0')
			usage(stderr);
		else
			fprintf(stderr, "fsmemcache: %s (see fsmemcache -h)\n",
			    why);
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
	health = is_health(line, argc, argv);
	if ((warn_spec != NULL || crit_spec != NULL) && !health) {
		fprintf(stderr,
		    "fsmemcache: --warn and --crit go with health (see "
		    "fsmemcache -h)\n");
		return (EXIT_USAGE);
	}
	/* Monitoring systems read the verdict on standard output. */
	if (warn_spec != NULL &&
	    health_parse_limits(warn_spec, &warn, why_buf, sizeof why_buf)) {
		printf("MEMCACHE UNKNOWN: --warn: %s\n", why_buf);
		return (HEALTH_UNKNOWN);
	}
	if (crit_spec != NULL &&
	    health_parse_limits(crit_spec, &crit, why_buf, sizeof why_buf)) {
		printf("MEMCACHE UNKNOWN: --crit: %s\n", why_buf);
		return (HEALTH_UNKNOWN);
	}
	if (health_check_limits(&warn, &crit, why_buf, sizeof why_buf)) {
		printf("MEMCACHE UNKNOWN: %s\n", why_buf);
		return (HEALTH_UNKNOWN);
	}
	if (fsmc_open(&fc, &fo, &res) != FSMC_OK) {
		if (health) {
			printf("MEMCACHE UNKNOWN: %s\n", res.msg);
			return (HEALTH_UNKNOWN);
		}
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
	if (bo.file != NULL) {
		out.batch = 1;
		status = batch_run(fc, &bo, &out);
		fsmc_close(fc);
		return (status);
	}
	if (from_stdin &&
	    (value = read_stdin(&valuelen, &why, &status)) == NULL) {
		fprintf(stderr, "fsmemcache: standard input: %s\n", why);
		fsmc_close(fc);
		return (status);
	}

	if (interval_set && !repeat_set)
		repeat = 0;
	/* Repeated data replies each get their line, as in a batch. */
	out.batch = repeat != 1;
	status = 0;
	for (run = 1; repeat == 0 || run <= repeat; run++) {
		if (run > 1)
			pause_for(interval);
		seconds =
		    run_one(fc, line, argc, argv, value, valuelen, &out, &res);
		status = show_single(&out, &res, &warn, &crit, seconds);
		fsmc_result_clear(&res);
		if (status == EXIT_IOERR && out.failed)
			break;
	}
	fsmc_close(fc);
	free(value);
	return (status);
}
