/*
 * libFuzzer target: command lookup and argument validation (keys,
 * values, expirations, flags, offsets, delays, "verbose"), through the
 * public fsmc_run() and fsmc_run_line(), with an oracle.
 *
 * No server is ever reached: every handle's only server is a UNIX socket
 * in a directory that does not exist, so a command that passes
 * validation fails at connect() with ENOENT, at once and without any
 * network.  That failure (FSMC_EUNAVAIL) is itself the evidence that
 * the command would have been sent, which is what the oracle checks:
 * an independent, deliberately naive reading of the grammar in
 * fsmemcache(1) says, for every input, whether it is a usage error
 * (EUSAGE), invalid data (EDATA) or fit to send; fsmc_run() must agree.
 * A disagreement is a crash, with the input and both verdicts on
 * standard error.  So a key with a space, a control byte, or too long
 * for the namespace, or a number out of range, can never get as far as
 * the connection, and the key that fsmc_run() reports is checked again.  Every
 * message must also be printable ASCII (user bytes are escaped), and the result
 * must render and clear.
 *
 * Input: byte 0 picks the handle (bits 0-1: no namespace, "ns:", a
 * 127-byte namespace, binary protocol with "b:") and the mode (bit 2:
 * one line for fsmc_run_line(), else words separated by NUL bytes for
 * fsmc_run(); bit 3: the last word is the value, as with -x).
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fsmemcache.h"

#define MAX_WORDS 8
#define NHANDLES 4
#define DEAD_SOCKET "/nonexistent-fsmemcache-fuzz/memcached.sock"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* V_OTHER: a command added to the core since this oracle was written. */
enum verdict { V_USAGE, V_DATA, V_SEND, V_OTHER };

struct cmd {
	const char *name;
	const char *args;
	int minargs;
};

/* fsmemcache(1), COMMANDS: the argument kinds as in cmd.c's comment. */
static const struct cmd cmds[] = {
	{ "set", "kvef", 2 },
	{ "replace", "kvef", 2 },
	{ "add", "kvef", 2 },
	{ "get", "k", 1 },
	{ "getflags", "k", 1 },
	{ "delete", "ke", 1 },
	{ "increment", "koef", 1 },
	{ "decrement", "koef", 1 },
	{ "flush", "d", 0 },
	{ "status", "w", 0 },
	{ "append", "kv", 2 },
	{ "prepend", "kv", 2 },
	{ "touch", "ke", 2 },
	{ "where", "k", 1 },
	{ NULL, NULL, 0 },
};

static struct fsmc *handles[NHANDLES];
static size_t nslens[NHANDLES];

static void
open_handles(void)
{
	static char longns[128];
	struct fsmc_options o;
	struct fsmc_result res;
	const char *ns[NHANDLES] = { NULL, "ns:", longns, "b:" };
	int i;

	memset(longns, 'N', 126);
	longns[126] = ':';
	for (i = 0; i < NHANDLES; i++) {
		memset(&o, 0, sizeof o);
		o.servers = DEAD_SOCKET;
		o.key_namespace = ns[i];
		o.timeout_ms = 100;
		o.binary = i == 3;
		if (fsmc_open(&handles[i], &o, &res) != FSMC_OK) {
			fprintf(stderr, "fuzz-run: fsmc_open: %s\n", res.msg);
			abort();
		}
		nslens[i] = ns[i] != NULL ? strlen(ns[i]) : 0;
	}
}

/* A decimal number: [+-]digits, nothing else, within [min, max]. */
static int
decimal_ok(const char *s, long long min, long long max)
{
	unsigned long long mag = 0;
	int neg = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (0);
		if (mag > 10000000000ULL)
			return (0); /* far beyond any range here */
		mag = mag * 10 + (unsigned long long)(*s - '0');
	}
	if (neg)
		return (
		    mag <= (unsigned long long)-min && (mag == 0 || min < 0));
	return (mag <= (unsigned long long)max);
}

static int
hexdigit(char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F'));
}

/* Flags: an optional 0x, then hexadecimal digits, at most ffffffff. */
static int
flags_ok(const char *s)
{
	unsigned long long v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++) {
		if (!hexdigit(*s))
			return (0);
		v = v * 16 +
		    (unsigned long long)(*s <= '9' ? *s - '0' :
						     (*s | 0x20) - 'a' + 10);
		if (v > 0xffffffffULL)
			return (0);
	}
	return (1);
}

/* A key: 1 to 250 bytes with the namespace, no space or control byte. */
static int
key_ok(const char *k, size_t nslen)
{
	size_t i, n = strlen(k);

	if (n == 0 || n + nslen > 250)
		return (0);
	for (i = 0; i < n; i++) {
		if ((unsigned char)k[i] <= 0x20 || k[i] == 0x7f)
			return (0);
	}
	return (1);
}

/*
 * What fsmc_run() must make of the words: a usage error, invalid data,
 * or a command fit to send.  *keyed tells whether it names a key;
 * *local, whether it is answered without a server.
 */
static enum verdict
oracle(
    int argc, char **argv, int withvalue, size_t nslen, int *keyed, int *local)
{
	const struct cmd *c;
	const char *k;
	int nargs, zeroexp = 1;
	size_t i;

	*keyed = *local = 0;
	if (argc < 1)
		return (V_USAGE);
	for (c = cmds; c->name != NULL; c++) {
		if (strcasecmp(c->name, argv[0]) == 0)
			break;
	}
	if (c->name == NULL) {
		for (i = 0; fsmc_command_name(i) != NULL; i++) {
			if (strcasecmp(fsmc_command_name(i), argv[0]) == 0)
				return (V_OTHER);
		}
		return (V_USAGE);
	}
	if (withvalue && strchr(c->args, 'v') == NULL)
		return (V_USAGE);
	nargs = argc - 1 + withvalue;
	if (nargs < c->minargs || nargs > (int)strlen(c->args))
		return (V_USAGE);
	argv++;
	for (k = c->args; *k != '\0' && nargs > 0; k++, nargs--) {
		if (*k == 'v' && withvalue)
			continue;
		switch (*k) {
		case 'k':
			*keyed = 1;
			if (!key_ok(*argv, nslen))
				return (V_DATA);
			break;
		case 'e':
			if (!decimal_ok(*argv, -2147483648LL, 2147483647LL))
				return (V_DATA);
			zeroexp = decimal_ok(*argv, 0, 0);
			break;
		case 'd':
			if (!decimal_ok(*argv, 0, 2147483647LL))
				return (V_DATA);
			break;
		case 'o':
			if (!decimal_ok(*argv, 0, 4294967295LL))
				return (V_DATA);
			break;
		case 'f':
			if (!flags_ok(*argv))
				return (V_DATA);
			break;
		case 'w':
			if (strcasecmp(*argv, "verbose") != 0)
				return (V_USAGE);
			*local = -1;
			break;
		}
		argv++;
	}
	/* memcached has no delayed delete: refused before sending. */
	if (strcasecmp(c->name, "delete") == 0 && !zeroexp)
		return (V_DATA);
	if (strcasecmp(c->name, "where") == 0)
		*local = 1;
	else if (strcasecmp(c->name, "status") == 0)
		*local = *local == 0;
	else
		*local = 0;
	return (V_SEND);
}

static int
sink(void *ctx, int stream, const void *buf, size_t len)
{
	(void)stream;
	(void)buf;
	*(size_t *)ctx += len;
	return (0);
}

static void
dump(const char *why, int argc, char **argv, const struct fsmc_result *res)
{
	int i;

	fprintf(stderr, "fuzz-run: %s: status %d, msg \"%s\", words:", why,
	    (int)res->status, res->msg);
	for (i = 0; i < argc; i++)
		fprintf(stderr, " [%s]", argv[i]);
	fprintf(stderr, "\n");
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fsmc_result res;
	char *buf, *copy = NULL, *argv[MAX_WORDS + 1], *p, *end;
	const char *value = NULL;
	size_t valuelen = 0, rendered = 0, i;
	int h, line, withvalue, argc = 0, keyed, local;
	enum verdict want;

	if (handles[0] == NULL)
		open_handles();
	if (size < 1)
		return (0);
	h = data[0] & 3;
	line = (data[0] & 4) != 0;
	withvalue = (data[0] & 8) != 0;
	data++;
	size--;
	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (withvalue) {
		/* The value is what follows the last NUL; words precede it. */
		for (p = buf + size; p > buf && p[-1] != '\0'; p--)
			;
		p = p > buf ? p - 1 : NULL;
		value = p != NULL ? p + 1 : buf;
		valuelen = (size_t)(buf + size - value);
		size = p != NULL ? (size_t)(p - buf) : 0;
		buf[size] = '\0';
	}
	if (line) {
		fsmc_run_line(handles[h], buf, value, valuelen, &res);
		/* The oracle reads the words the tokenizer makes. */
		if ((copy = strdup(buf)) == NULL)
			abort();
		argc = fsmc_split_line(copy, argv, FSMC_MAX_TOKENS);
	} else {
		end = buf + size;
		for (p = buf; argc < MAX_WORDS && p <= end; p += strlen(p) + 1)
			argv[argc++] = p;
		if (size == 0)
			argc = 0;
		fsmc_run(handles[h], argc, argv, value, valuelen, &res);
	}
	want = oracle(argc, argv, withvalue, nslens[h], &keyed, &local);

	if (memchr(res.msg, '\0', sizeof res.msg) == NULL)
		dump("message not terminated", argc, argv, &res);
	for (i = 0; res.msg[i] != '\0'; i++) {
		if ((unsigned char)res.msg[i] < 0x20 ||
		    (unsigned char)res.msg[i] > 0x7e)
			dump("unprintable byte in the message", argc, argv,
			    &res);
	}
	switch (want) {
	case V_USAGE:
		if (res.status != FSMC_EUSAGE)
			dump("want a usage error", argc, argv, &res);
		break;
	case V_DATA:
		if (res.status != FSMC_EDATA)
			dump("want invalid data", argc, argv, &res);
		break;
	case V_SEND:
		if (res.status != (local ? FSMC_OK : FSMC_EUNAVAIL))
			dump(local ? "want an answer without a server" :
				     "want an attempt to reach the server",
			    argc, argv, &res);
		/*
		 * After fsmc_run_line() res.key points into a copy that is
		 * already freed (see the report): only fsmc_run()'s is read.
		 */
		if (!line && keyed &&
		    (res.key == NULL || !key_ok(res.key, nslens[h])))
			dump("a bad key got through", argc, argv, &res);
		break;
	case V_OTHER:
		break;
	}
	if (res.status != FSMC_OK && res.msg[0] == '\0')
		dump("a failure without a message", argc, argv, &res);
	fsmc_render(&res, sink, &rendered);
	fsmc_result_clear(&res);
	free(copy);
	free(buf);
	return (0);
}
