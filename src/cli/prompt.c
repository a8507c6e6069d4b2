/* Interactive mode: a prompt on a terminal, with history and completion. */

#include <sys/ioctl.h>
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

/*
 * libedit is loaded when a prompt opens, not when fsmemcache starts: a
 * single command, the common case, maps no library for line editing
 * (libedit and three of its own), and starts as fast as memccat.
 */
static struct {
	EditLine *(*init)(const char *, FILE *, FILE *, FILE *);
	void (*end)(EditLine *);
	int (*set)(EditLine *, int, ...);
	int (*wset)(EditLine *, int, ...);
	int (*get)(EditLine *, int, ...);
	const char *(*gets)(EditLine *, int *);
	const LineInfo *(*line)(EditLine *);
	int (*insertstr)(EditLine *, const char *);
	void (*deletestr)(EditLine *, int);
	int (*source)(EditLine *, const char *);
	History *(*hinit)(void);
	void (*hend)(History *);
	int (*hcall)(History *, HistEvent *, int, ...);
} editline;

#define el_init (*editline.init)
#define el_end (*editline.end)
#define el_set (*editline.set)
#define el_wset (*editline.wset)
#define el_get (*editline.get)
#define el_gets (*editline.gets)
#define el_line (*editline.line)
#define el_insertstr (*editline.insertstr)
#define el_deletestr (*editline.deletestr)
#define el_source (*editline.source)
#define history_init (*editline.hinit)
#define history_end (*editline.hend)
#define history (*editline.hcall)

/* One symbol of libedit into *fn, a function pointer; -1 if missing. */
static int
editline_symbol(void *lib, const char *name, void *fn, size_t size)
{
	void *sym;

	if ((sym = dlsym(lib, name)) == NULL || size != sizeof sym)
		return (-1);
	memcpy(fn, &sym, size);
	return (0);
}

#define EDITLINE_SYMBOL(lib, field, name) \
	editline_symbol(lib, name, &editline.field, sizeof editline.field)

/* Load libedit, once; -1 with a message when it cannot be. */
static int
editline_load(void)
{
	void *lib;

	if (editline.init != NULL)
		return (0);
	if ((lib = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "fsmemcache: %s\n", dlerror());
		return (-1);
	}
	if (EDITLINE_SYMBOL(lib, end, "el_end") ||
	    EDITLINE_SYMBOL(lib, set, "el_set") ||
	    EDITLINE_SYMBOL(lib, wset, "el_wset") ||
	    EDITLINE_SYMBOL(lib, get, "el_get") ||
	    EDITLINE_SYMBOL(lib, gets, "el_gets") ||
	    EDITLINE_SYMBOL(lib, line, "el_line") ||
	    EDITLINE_SYMBOL(lib, insertstr, "el_insertstr") ||
	    EDITLINE_SYMBOL(lib, deletestr, "el_deletestr") ||
	    EDITLINE_SYMBOL(lib, source, "el_source") ||
	    EDITLINE_SYMBOL(lib, hinit, "history_init") ||
	    EDITLINE_SYMBOL(lib, hend, "history_end") ||
	    EDITLINE_SYMBOL(lib, hcall, "history") ||
	    EDITLINE_SYMBOL(lib, init, "el_init")) {
		editline.init = NULL;
		fprintf(stderr, "fsmemcache: libedit.so.2 lacks a function\n");
		return (-1);
	}
	return (0);
}

/* Lines the history keeps, in memory and, once it is read, in its file. */
#define HISTORY_MAX 1000
/*
 * Completing a key lists the keys under what is typed so far: at most
 * this long on each server, and offered only when it finds this many or
 * fewer.  A key listing walks every item of a server, so Tab must not
 * wait on a large cache, nor flood the screen.
 */
#define COMPLETE_MS 300
#define COMPLETE_KEYS 100

/* The commands of the prompt itself, besides those of the grammar. */
static const char *const own_commands[] = { "exit", "help", "quit", NULL };

struct prompt {
	const struct fsmc_options *fo;
	struct fsmc *keys_fc; /* completion's: a short deadline; at first use */
	int keys_failed;      /* it could not be opened: no key completion */
	struct output *out;
	EditLine *el;
	History *hist;
	FILE *term;	/* where the prompt and the line being edited go */
	char *name;	/* the prompt */
	char *histfile; /* NULL when no history is kept in a file */
	char *statedir; /* $XDG_STATE_HOME and the directory under it, made */
	char *histdir;	/* before the file is written; else NULL */
	int histfd;	/* open for appending once a line is kept, else -1 */
	char *last;	/* the last line kept, not kept twice in a row */
};

/* Completion's candidates. */
struct matches {
	char **v;
	size_t n, cap;
};

static volatile sig_atomic_t interrupted, end_signal;
/* Written to by the handler: the core's waits poll its other end. */
static int cancel_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGINT)
		interrupted = 1;
	else if (sig != SIGCONT)
		end_signal = sig;
	if (sig != SIGCONT && cancel_pipe[1] >= 0)
		if (write(cancel_pipe[1], "", 1) < 0) {
			/* Full: the reader is woken already. */
		}
	errno = saved;
}

/*
 * While a line is edited, a signal cuts the terminal read short, so that
 * Ctrl-C clears the line and a job brought back to the foreground gets a
 * new prompt.  While a command runs, reads and writes carry on
 * (SA_RESTART) and the cancel pipe ends its waits for servers: Ctrl-C
 * stops the command, not the session.  SIGTERM and SIGHUP end the
 * session, the terminal restored.
 */
static void
prompt_signals(int restart)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCONT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = restart ? SA_RESTART : 0;
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

/* Forget the signals that came before: a new command starts afresh. */
static void
drain(void)
{
	char buf[64];

	interrupted = 0;
	while (cancel_pipe[0] >= 0 && read(cancel_pipe[0], buf, sizeof buf) > 0)
		;
}

static char *
join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s;

	if ((s = malloc(la + lb + 1)) == NULL)
		return (NULL);
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return (s);
}

/*
 * The prompt: the profile's name, else the first server's address, with
 * "+N" for the N others of the pool.  Bytes that would drive the
 * terminal are shown as "?".
 */
static char *
pool_name(struct fsmc *fc, const struct fsmc_options *fo)
{
	struct fsmc_result res;
	char word[] = "status", *argv[] = { word };
	char addr[300], name[400];
	size_t len;
	char *p;

	memset(&res, 0, sizeof res);
	snprintf(name, sizeof name, "fsmemcache");
	if (fo->profile != NULL)
		snprintf(name, sizeof name, "%s", fo->profile);
	else if (fsmc_run(fc, 1, argv, NULL, 0, &res) == FSMC_OK &&
	    res.nservers > 0) {
		fsmc_address(res.servers[0].host, res.servers[0].port, addr,
		    sizeof addr);
		if (res.nservers > 1)
			snprintf(name, sizeof name, "%s+%zu", addr,
			    res.nservers - 1);
		else
			snprintf(name, sizeof name, "%s", addr);
	}
	fsmc_result_clear(&res);
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	len = strlen(name);
	snprintf(name + len, sizeof name - len, "> ");
	return (strdup(name));
}

static char *
prompt_text(EditLine *el)
{
	struct prompt *p;

	el_get(el, EL_CLIENTDATA, &p);
	return (p->name);
}

/*
 * The history file: $FSMEMCACHE_HISTFILE (empty: none), else
 * $XDG_STATE_HOME/fsmemcache/history, else ~/.fsmemcache_history.
 */
static void
history_path(struct prompt *p)
{
	const char *env, *home;

	if ((env = getenv("FSMEMCACHE_HISTFILE")) != NULL) {
		if (*env != '\0')
			p->histfile = strdup(env);
		return;
	}
	if ((env = getenv("XDG_STATE_HOME")) != NULL && env[0] == '/') {
		p->statedir = strdup(env);
		p->histdir = join(env, "/fsmemcache");
		if (p->histdir != NULL)
			p->histfile = join(p->histdir, "/history");
		return;
	}
	if ((home = getenv("HOME")) != NULL && *home != '\0')
		p->histfile = join(home, "/.fsmemcache_history");
}

/* Keep no history in a file, saying why unless why is NULL. */
static void
history_off(struct prompt *p, const char *why)
{
	if (why != NULL)
		fprintf(stderr, "fsmemcache: history %s: %s; not kept\n",
		    p->histfile, why);
	free(p->histfile);
	p->histfile = NULL;
}

/*
 * Open the history file for appending, 0600 however it was made: the
 * lines hold values.  Only a regular file will do; a FIFO is refused,
 * never waited for.
 */
static int
history_open(struct prompt *p)
{
	struct stat st;
	const char *why;

	if (p->statedir != NULL)
		(void)mkdir(p->statedir, 0700);
	if (p->histdir != NULL)
		(void)mkdir(p->histdir, 0700);
	p->histfd = open(p->histfile,
	    O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600);
	if (p->histfd < 0) {
		history_off(p, strerror(errno));
		return (-1);
	}
	if (fstat(p->histfd, &st) != 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if ((st.st_mode & 077) != 0 && fchmod(p->histfd, 0600) != 0)
		why = strerror(errno);
	else
		return (0);
	history_off(p, why);
	close(p->histfd);
	p->histfd = -1;
	return (-1);
}

/* Write the history in memory over the file: it had grown too long. */
static void
history_rewrite(struct prompt *p)
{
	HistEvent ev;
	FILE *fp;
	int rc, fd;

	if ((fd = open(p->histfile, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return;
	if ((fp = fdopen(fd, "w")) == NULL) {
		close(fd);
		return;
	}
	if (ftruncate(fd, 0) == 0) {
		for (rc = history(p->hist, &ev, H_LAST); rc != -1;
		     rc = history(p->hist, &ev, H_PREV))
			fprintf(fp, "%s\n", ev.str);
	}
	fclose(fp);
}

/*
 * Read the history file, one line a command, as plain text that grep
 * reads too.  A file of more than HISTORY_MAX lines, which sessions
 * appending side by side make, is cut to the last of them.
 */
static void
history_load(struct prompt *p)
{
	struct stat st;
	HistEvent ev;
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	FILE *fp;
	int fd;

	if (p->histfile == NULL)
		return;
	if ((fd = open(p->histfile, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			history_off(p, strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0)
		st.st_mode = 0;
	/* /dev/null, as for other shells, says to keep none. */
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		history_off(
		    p, S_ISCHR(st.st_mode) ? NULL : "not a regular file");
		return;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return;
	}
	while ((len = getline(&line, &cap, fp)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		history(p->hist, &ev, H_ENTER, line);
		n++;
	}
	fclose(fp);
	if (n > 0 && history(p->hist, &ev, H_FIRST) == 0)
		p->last = strdup(ev.str);
	free(line);
	if (n > HISTORY_MAX)
		history_rewrite(p);
}

/*
 * Keep a line in the history, and at once in its file, so that a session
 * killed keeps what was typed and sessions side by side lose nothing.
 * A line that starts with a space is not kept (bash's ignorespace: a
 * value not to be written down), nor one repeating the last.
 */
static void
history_add(struct prompt *p, const char *line)
{
	HistEvent ev;
	const char *c;
	size_t len = strlen(line);
	char *copy;

	if (line[0] == ' ' || (p->last != NULL && strcmp(p->last, line) == 0))
		return;
	/* A line must stay a line of the file. */
	for (c = line; *c != '\0'; c++) {
		if (*c == '\n' || *c == '\r')
			return;
	}
	history(p->hist, &ev, H_ENTER, line);
	free(p->last);
	p->last = strdup(line);
	if (p->histfile == NULL || (p->histfd < 0 && history_open(p) != 0))
		return;
	if ((copy = malloc(len + 1)) == NULL)
		return;
	memcpy(copy, line, len);
	copy[len] = '\n';
	if (write(p->histfd, copy, len + 1) != (ssize_t)(len + 1))
		history_off(p, strerror(errno));
	free(copy);
}

/*
 * The usage line of a command, in command-line style, into buf; NULL if
 * no command has that name.
 */
static const char *
usage_of(const char *name, char *buf, size_t len)
{
	const char *p;
	size_t i, k, names, n = strlen(name);

	/* "set|replace|add key value ...": the names, then the arguments. */
	for (i = 0; fsmc_usage_line(i, 1, buf, len, NULL) != NULL; i++) {
		names = strcspn(buf, " ");
		for (p = buf; p < buf + names; p += k + 1) {
			k = strcspn(p, "| ");
			if (k == n && strncasecmp(p, name, n) == 0)
				return (buf);
		}
	}
	return (NULL);
}

/* Whether a command's first argument is a key or a key prefix. */
static int
takes_key(const char *name)
{
	char line[256];
	const char *arg;
	size_t n;

	if (usage_of(name, line, sizeof line) == NULL)
		return (0);
	arg = line + strcspn(line, " ");
	arg += strspn(arg, " [");
	n = strcspn(arg, " ]");
	return ((n == 3 && strncmp(arg, "key", 3) == 0) ||
	    (n == 6 && strncmp(arg, "prefix", 6) == 0));
}

static int
is_own(const char *word, const char *name)
{
	return (strcasecmp(word, name) == 0);
}

/* help, or help COMMAND: the usage of the commands, or of one. */
static void
show_help(int argc, char **argv)
{
	char line[256];

	if (argc < 2) {
		print_commands(stdout);
		printf("\nAt this prompt:\n"
		       "  help [command]   the usage of every command, or of "
		       "one\n"
		       "  quit|exit        leave, as Ctrl-D on an empty line "
		       "does\n"
		       "Lines are split as -e splits them.  Tab completes "
		       "command names, and\n"
		       "keys after a command that takes one, when no more "
		       "than %d start\n"
		       "with what is typed.  Ctrl-C clears the line, or stops "
		       "a command.\n",
		    COMPLETE_KEYS);
	} else if (usage_of(argv[1], line, sizeof line) != NULL)
		printf("  %s\n", line);
	else if (is_own(argv[1], "help"))
		printf("  help [command]\n");
	else if (is_own(argv[1], "quit") || is_own(argv[1], "exit"))
		printf("  quit|exit\n");
	else
		fprintf(stderr,
		    "fsmemcache: help: unknown command '%s'; help lists the "
		    "commands\n",
		    argv[1]);
}

/*
 * A line's reply, as a single command's on the terminal.  A usage error
 * gets "-ERR" alone, as in a batch, and its line on standard error says
 * what is wrong and how the command goes, rather than the usage of every
 * command.
 */
static void
show(struct output *out, const struct fsmc_result *res)
{
	char line[256];

	out->warned = 0;
	if (res->status != FSMC_EUSAGE || out->json) {
		show_single(out, res);
		return;
	}
	if (out->quiet < 2)
		write_reply(out, FSMC_STREAM_ERROR, "-ERR\n", 5);
	output_flush(out);
	if (res->command == NULL)
		fprintf(stderr, "fsmemcache: %s; help lists the commands\n",
		    res->msg);
	else if (usage_of(res->command, line, sizeof line) != NULL)
		fprintf(stderr, "fsmemcache: %s; usage: %s\n", res->msg, line);
	else
		fprintf(stderr, "fsmemcache: %s\n", res->msg);
}

/* Run one line; 1 when it asks to leave. */
static int
run_line(struct prompt *p, struct fsmc_session *s, char *line)
{
	struct fsmc_result res;
	char *copy, *words[FSMC_MAX_TOKENS];
	const char *c = line + strspn(line, " \t\r\v");
	int argc;

	if (*c == '\0' || *c == '#')
		return (0);
	if ((copy = strdup(line)) == NULL) {
		fprintf(stderr, "fsmemcache: %s\n", strerror(ENOMEM));
		return (0);
	}
	argc = fsmc_split_line(copy, words, FSMC_MAX_TOKENS);
	if (argc > 0 &&
	    (is_own(words[0], "quit") || is_own(words[0], "exit"))) {
		free(copy);
		return (1);
	}
	history_add(p, line);
	if (argc > 0 && is_own(words[0], "help")) {
		show_help(argc, words);
		output_flush(p->out);
	} else {
		fsmc_session_run(s, argc, words, NULL, 0, &res);
		/* The terminal echoed ^C: the reply goes below it. */
		if (interrupted) {
			fputc('\n', p->term);
			fflush(p->term);
		}
		show(p->out, &res);
		fsmc_result_clear(&res);
	}
	free(copy);
	return (0);
}

static int
add_match(struct matches *m, const char *s)
{
	char **v;
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (strcmp(m->v[i], s) == 0)
			return (0);
	}
	if (m->n == m->cap) {
		if ((v = realloc(m->v, (m->cap + 16) * sizeof *v)) == NULL)
			return (-1);
		m->v = v;
		m->cap += 16;
	}
	if ((m->v[m->n] = strdup(s)) == NULL)
		return (-1);
	m->n++;
	return (0);
}

static void
free_matches(struct matches *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i]);
	free(m->v);
}

/*
 * Command names that start with word, ignoring case, read from the
 * command table as it is, and with own, the prompt's own.
 */
static void
match_commands(struct matches *m, const char *word, int own)
{
	const char *name;
	size_t i, n = strlen(word);

	for (i = 0; (name = fsmc_command_name(i)) != NULL; i++) {
		if (strncasecmp(name, word, n) == 0)
			add_match(m, name);
	}
	for (i = 0; own && own_commands[i] != NULL; i++) {
		if (strncasecmp(own_commands[i], word, n) == 0)
			add_match(m, own_commands[i]);
	}
}

/*
 * Whether a key can be typed at the prompt and shown as it is: no space
 * or control character, and well-formed UTF-8.
 */
static int
typable(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++) {
		if (u[i] <= 0x20 || u[i] == 0x7f)
			return (0);
		/* U+0080 to U+009F, the C1 controls. */
		if (u[i] == 0xc2 && i + 1 < len && u[i + 1] < 0xa0)
			return (0);
	}
	return (json_utf8_valid(u, len));
}

/*
 * Keys that start with word, from a key listing with a short deadline:
 * none when the listing fails, is not whole (a server down) or finds
 * more than COMPLETE_KEYS.
 */
static void
match_keys(struct prompt *p, struct matches *m, char *word)
{
	struct fsmc_options o = *p->fo;
	struct fsmc_result res;
	char cmd[] = "keys", *argv[] = { cmd, word };
	size_t i;

	if (*word == '\0' || p->keys_failed)
		return;
	if (p->keys_fc == NULL) {
		if (o.timeout_ms == 0 || o.timeout_ms > COMPLETE_MS)
			o.timeout_ms = COMPLETE_MS;
		if (fsmc_open_with(&p->keys_fc, &o, open_flags, &res) !=
		    FSMC_OK) {
			p->keys_failed = 1;
			return;
		}
		fsmc_set_cancel_fd(p->keys_fc, cancel_pipe[0]);
	}
	if (fsmc_run(p->keys_fc, 2, argv, NULL, 0, &res) == FSMC_OK &&
	    res.nkeys <= COMPLETE_KEYS) {
		for (i = 0; i < res.nkeys; i++) {
			if (typable(res.keys[i].name, res.keys[i].len))
				add_match(m, res.keys[i].name);
		}
	}
	fsmc_result_clear(&res);
}

static int
compare(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* The candidates below the line, in columns, as a shell lists them. */
static void
list_matches(struct prompt *p, struct matches *m)
{
	struct winsize ws;
	size_t i, width = 0, cols, rows, r, c;
	int screen = 80;

	if (ioctl(fileno(p->term), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		screen = ws.ws_col;
	qsort(m->v, m->n, sizeof *m->v, compare);
	for (i = 0; i < m->n; i++) {
		if (strlen(m->v[i]) > width)
			width = strlen(m->v[i]);
	}
	if ((cols = (size_t)screen / (width + 2)) == 0)
		cols = 1;
	rows = (m->n + cols - 1) / cols;
	fputc('\n', p->term);
	for (r = 0; r < rows; r++) {
		for (c = 0; c < cols && r + c * rows < m->n; c++) {
			i = r + c * rows;
			fprintf(p->term, "%-*s", (int)width + 2, m->v[i]);
		}
		fputc('\n', p->term);
	}
	fflush(p->term);
}

/* A key as typed: quotes and backslashes escaped, as the splitter reads. */
static char *
escape_key(const char *s, size_t len)
{
	char *e, *d;
	size_t i;

	if ((e = d = malloc(2 * len + 1)) == NULL)
		return (NULL);
	for (i = 0; i < len; i++) {
		if (s[i] == '\'' || s[i] == '\\')
			*d++ = '\\';
		*d++ = s[i];
	}
	*d = '\0';
	return (e);
}

/* Put text in place of word, what is typed of a word before the cursor. */
static int
replace_word(EditLine *el, const char *word, const char *text)
{
	size_t chars = mbstowcs(NULL, word, 0);

	if (chars == (size_t)-1)
		chars = strlen(word);
	if (chars > 0)
		el_deletestr(el, (int)chars);
	return (el_insertstr(el, text));
}

/*
 * Complete what the candidates have in common; one alone gets a space
 * after it.  With nothing to add, list them.
 */
static unsigned char
apply(struct prompt *p, struct matches *m, const char *word, int keys)
{
	size_t common, i, wlen = strlen(word);
	char *text, *t;
	int rc;

	common = strlen(m->v[0]);
	for (i = 1; i < m->n; i++) {
		while (common > 0 &&
		    (keys ? strncmp(m->v[0], m->v[i], common) :
			    strncasecmp(m->v[0], m->v[i], common)) != 0)
			common--;
	}
	/* Not in the middle of a UTF-8 character. */
	while (keys && common > 0 && common < strlen(m->v[0]) &&
	    ((unsigned char)m->v[0][common] & 0xc0) == 0x80)
		common--;
	if (m->n > 1 && common <= wlen &&
	    (keys || strncmp(m->v[0], word, wlen) == 0)) {
		list_matches(p, m);
		return (CC_REDISPLAY);
	}
	text = keys ? escape_key(m->v[0], common) : strdup(m->v[0]);
	if (text == NULL)
		return (CC_ERROR);
	if (!keys)
		text[common] = '\0';
	if (m->n == 1 && (t = join(text, " ")) != NULL) {
		free(text);
		text = t;
	}
	rc = replace_word(p->el, word, text);
	free(text);
	return (rc == 0 ? CC_REFRESH : CC_ERROR);
}

/*
 * Tab: complete the word before the cursor.  The first word is a
 * command; after help, one too; after a command whose first argument is
 * a key or a prefix, a key.  A line with quotes or backslashes before the
 * cursor, or split on another delimiter (^^), is left alone: its words
 * are not where spaces put them.
 */
static unsigned char
complete(EditLine *el, int ch)
{
	struct prompt *p;
	struct matches m = { NULL, 0, 0 };
	const LineInfo *li = el_line(el);
	size_t len = (size_t)(li->cursor - li->buffer), start, n;
	char *before, *word, *first = NULL, *c;
	int nwords = 0, keys = 0;
	unsigned char rc = CC_ERROR;

	(void)ch;
	el_get(el, EL_CLIENTDATA, &p);
	if ((before = malloc(len + 1)) == NULL)
		return (CC_ERROR);
	memcpy(before, li->buffer, len);
	before[len] = '\0';
	for (start = len; start > 0 && before[start - 1] != ' '; start--)
		;
	word = before + start;
	/* The words before it, each ended by the space after it. */
	for (c = before; (c += strspn(c, " ")) < word; c += n + 1) {
		n = strcspn(c, " ");
		if (nwords++ == 0)
			first = c;
		c[n] = '\0';
	}
	c = before + strspn(before, " ");
	if (strpbrk(word, "'\\\t") != NULL ||
	    (first != NULL && strpbrk(first, "'\\\t") != NULL) ||
	    strncmp(c, "^^", 2) == 0)
		nwords = -1;
	if (nwords == 0)
		match_commands(&m, word, 1);
	else if (nwords == 1 && is_own(first, "help"))
		match_commands(&m, word, 0);
	else if (nwords == 1 && takes_key(first)) {
		match_keys(p, &m, word);
		keys = 1;
	}
	if (end_signal != 0)
		rc = CC_EOF;
	else if (interrupted)
		rc = CC_NEWLINE;
	else if (m.n > 0)
		rc = apply(p, &m, word, keys);
	free_matches(&m);
	free(before);
	return (rc);
}

static int
editor_open(struct prompt *p)
{
	HistEvent ev;

	if (editline_load() != 0 || (p->hist = history_init()) == NULL)
		return (-1);
	history(p->hist, &ev, H_SETSIZE, HISTORY_MAX);
	history(p->hist, &ev, H_SETUNIQUE, 1);
	if ((p->el = el_init("fsmemcache", stdin, p->term, stderr)) == NULL)
		return (-1);
	el_set(p->el, EL_CLIENTDATA, p);
	el_set(p->el, EL_PROMPT, prompt_text);
	el_set(p->el, EL_EDITOR, "emacs");
	el_set(p->el, EL_SIGNAL, 0);
	el_set(p->el, EL_HIST, history, p->hist);
	/* Wide: the narrow call keeps copies of the names that el_end leaks. */
	el_wset(p->el, EL_ADDFN, L"fsmc-complete",
	    L"complete a command name or a key", complete);
	el_set(p->el, EL_BIND, "^I", "fsmc-complete", NULL);
	el_set(p->el, EL_BIND, "^R", "em-inc-search-prev", NULL);
	/* ~/.editrc may bind keys otherwise, or choose vi. */
	el_source(p->el, NULL);
	return (0);
}

static void
editor_close(struct prompt *p)
{
	if (p->el != NULL)
		el_end(p->el);
	if (p->hist != NULL)
		history_end(p->hist);
	if (p->histfd >= 0)
		close(p->histfd);
	fsmc_close(p->keys_fc);
	free(p->name);
	free(p->histfile);
	free(p->histdir);
	free(p->statedir);
	free(p->last);
}

/*
 * Read commands from the terminal until quit, end of file or a signal
 * that ends the session, and run each on connections kept from one to
 * the next.  Returns 0, 74 when standard output fails, or 128 plus the
 * signal.
 */
int
prompt_run(struct fsmc *fc, const struct fsmc_options *fo, struct output *out)
{
	struct prompt p;
	struct fsmc_session *s;
	struct fsmc_result res;
	const char *line;
	char *copy;
	size_t len;
	int n, err, status = 0;

	memset(&p, 0, sizeof p);
	p.fo = fo;
	p.out = out;
	p.histfd = -1;
	/* Multibyte characters are read and shown as the locale says. */
	setlocale(LC_CTYPE, "");
	if (pipe(cancel_pipe) == 0) {
		for (n = 0; n < 2; n++) {
			fcntl(cancel_pipe[n], F_SETFD, FD_CLOEXEC);
			fcntl(cancel_pipe[n], F_SETFL, O_NONBLOCK);
		}
		fsmc_set_cancel_fd(fc, cancel_pipe[0]);
	}
	if (fsmc_session_open(fc, 0, &s, &res) != FSMC_OK) {
		fprintf(stderr, "fsmemcache: %s\n", res.msg);
		return (exit_status(res.status));
	}
	/* Replies as on a terminal; in a pipe, each on its own line. */
	out->tty = isatty(STDOUT_FILENO);
	out->batch = !out->tty;
	p.term = out->tty ? stdout : stderr;
	p.name = pool_name(fc, fo);
	history_path(&p);
	if (p.name == NULL || editor_open(&p) != 0) {
		fprintf(stderr, "fsmemcache: cannot start line editing\n");
		editor_close(&p);
		fsmc_session_close(s);
		return (EXIT_INTERNAL);
	}
	history_load(&p);
	for (;;) {
		drain();
		prompt_signals(0);
		line = el_gets(p.el, &n);
		err = errno;
		prompt_signals(1);
		if (end_signal != 0) {
			fputc('\n', p.term);
			break;
		}
		if (interrupted) {
			fputs("^C\n", p.term);
			fflush(p.term);
			continue;
		}
		if (line == NULL && n < 0 && err == EINTR)
			continue;
		if (line == NULL) {
			fputc('\n', p.term);
			break;
		}
		if ((copy = strdup(line)) == NULL) {
			fprintf(stderr, "fsmemcache: %s\n", strerror(ENOMEM));
			continue;
		}
		len = strlen(copy);
		if (len > 0 && copy[len - 1] == '\n')
			copy[--len] = '\0';
		n = run_line(&p, s, copy);
		free(copy);
		if (n || out->failed || end_signal != 0)
			break;
	}
	editor_close(&p);
	fsmc_session_close(s);
	if (output_flush(out) != 0)
		status = EXIT_IOERR;
	if (end_signal != 0) {
		fprintf(stderr, "fsmemcache: stopped by signal %d\n",
		    (int)end_signal);
		status = 128 + end_signal;
	}
	return (status);
}
