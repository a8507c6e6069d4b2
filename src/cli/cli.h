/* Declarations shared by the command-line tool's source files. */

#ifndef CLI_H
#define CLI_H

#include <signal.h>
#include <stdio.h>

#include "fsmemcache.h"

#define EXIT_USAGE 64
#define EXIT_DATAERR 65
#define EXIT_NOINPUT 66
#define EXIT_INTERNAL 70
#define EXIT_IOERR 74 /* standard input or output failing */

/* How results are shown. */
struct output {
	int quiet; /* 1: no +OK, -ERR lines to standard error; 2: nothing */
	int json;  /* one JSON object per result */
	int batch; /* a newline after data; line numbers */
	int tty;   /* standard output is a terminal */
	int failed;
	int warned;	/* a warning was shown: not again for each repetition */
	int header;	/* dump: the header line was written */
	int read_errno; /* restore: why reading standard input failed */
};

/* What a batch run does. */
struct batch_options {
	const char *file; /* "-" for standard input */
	int stop_on_error;
	int pipe;
	int verify;
	unsigned int window; /* lines in flight per server */
};

/* How top and latency run: the command, and how often and how long. */
struct view_options {
	const char *line; /* -e, or NULL for argc and argv */
	int argc;
	char **argv;
	const void *value; /* -x, which the command refuses */
	size_t valuelen;
	unsigned long repeat; /* rows, or latency's samples; 0: no end */
	double interval;      /* seconds, or negative for the default */
	int history;	      /* latency: a row per interval */
};

/* batch.c */
extern volatile sig_atomic_t stop_signal;
int batch_run(struct fsmc *, const struct batch_options *, struct output *);
void catch_signals(struct fsmc *);

/* expect.c */
struct expect;
struct expect *expect_new(void);
void expect_free(struct expect *);
int expect_note(
    struct expect *, const char *, size_t, const char *, unsigned long);
int expect_is_final(const struct expect *, const char *, size_t, unsigned long);
unsigned long expect_keys(const struct expect *);
unsigned long expect_last_line(const struct expect *);

/* json.c */
int json_utf8_valid(const unsigned char *, size_t);
void json_string(FILE *, const char *, size_t);
void json_cstring(FILE *, const char *);
void json_base64(FILE *, const unsigned char *, size_t);
void json_value(FILE *, const char *, const char *, size_t);
void json_number(FILE *, const char *, double, int);

/* main.c */
extern unsigned int open_flags;
void print_commands(FILE *);
int show_single(struct output *, const struct fsmc_result *);

/* output.c */
int exit_status(enum fsmc_status);
void json_server(const struct fsmc_server *, size_t, int);
int health_exit(const struct fsmc_result *);
const char *status_name(enum fsmc_status);
int write_reply(void *, int, const void *, size_t);
void output_result(struct output *, const struct fsmc_result *, unsigned long);
void output_warning(const struct fsmc_result *, unsigned long);
int output_flush(struct output *);
int terminal_width(void);

/* views.c */
int views_output(struct output *, const struct fsmc_result *);
void views_json(const struct fsmc_result *);
int views_top(struct fsmc *, struct output *, const struct view_options *);
int views_latency(struct fsmc *, struct output *, const struct view_options *);

/* prompt.c */
int prompt_run(struct fsmc *, const struct fsmc_options *, struct output *);
void table_put(const char *, int, int);
const char *stat_value(const struct fsmc_server *, const char *);
int output_item(struct output *, const struct fsmc_item *);
void output_summary(struct output *, const struct fsmc_result *, double);

#endif
