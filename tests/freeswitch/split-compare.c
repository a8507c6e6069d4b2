/* fsmemcache's line splitter against libfreeswitch's own, on generated lines.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsmemcache.h"

/*
 * libfreeswitch's, as switch_utils.h declares them: what a module's API
 * function sees is switch_strip_whitespace() of the argument, split by
 * switch_separate_string() into at most five words.
 */
unsigned int switch_separate_string(char *, char, char **, unsigned int);
char *switch_strip_whitespace(const char *);

/* Bytes the lines are made of, the special ones more often than not. */
static const char alphabet[] = "    ''\\\\\"\t\r\n\v^|,:abknrstvx0f";
/* Delimiters after "^^": printable ones, the specials, and a space. */
static const char delims[] = "|,: '\\^\"ax";

/* Room past the end: FreeSWITCH reads beyond a trailing backslash. */
#define PAD 16
#define LINE_MAX_LEN 40

static uint64_t state = 88172645463325252ULL;

/* xorshift64: the same lines on every run. */
static unsigned int
next(unsigned int n)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return ((unsigned int)(state % n));
}

static void
make_line(char *line)
{
	size_t len, i = 0;

	if (next(4) == 0) {
		line[i++] = '^';
		line[i++] = '^';
		line[i++] = delims[next(sizeof delims - 1)];
	}
	len = i + next(LINE_MAX_LEN - 3);
	while (i < len)
		line[i++] = alphabet[next(sizeof alphabet - 1)];
	line[i] = '\0';
}

static void
show(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 0x20 && *s < 0x7f && *s != '\\')
			putchar(*s);
		else
			printf("\\x%02x", (unsigned char)*s);
	}
}

static void
show_words(const char *who, char **words, int n)
{
	int i;

	printf("  %s:", who);
	for (i = 0; i < n; i++) {
		printf(" [");
		show(words[i]);
		printf("]");
	}
	printf("\n");
}

/*
 * usage: split-compare [LINES]
 * Splits LINES generated lines (default 1,000,000) both ways and prints
 * "N lines, M differ", with the first few that differ.
 */
int
main(int argc, char **argv)
{
	char line[LINE_MAX_LEN + 1], ours[LINE_MAX_LEN + PAD];
	char theirs[LINE_MAX_LEN + PAD], *stripped;
	char *ourwords[FSMC_MAX_TOKENS], *theirwords[FSMC_MAX_TOKENS];
	unsigned long n, lines = 1000000, differ = 0;
	int nours, ntheirs, i, same;

	if (argc > 1)
		lines = strtoul(argv[1], NULL, 10);
	for (n = 0; n < lines; n++) {
		make_line(line);
		memset(ours, 0, sizeof ours);
		memcpy(ours, line, strlen(line));
		nours = fsmc_split_line(ours, ourwords, FSMC_MAX_TOKENS);

		if ((stripped = switch_strip_whitespace(line)) == NULL)
			return (70);
		memset(theirs, 0, sizeof theirs);
		memcpy(theirs, stripped, strlen(stripped));
		free(stripped);
		/* mod_memcache takes an empty argument for no words. */
		ntheirs = theirs[0] == '\0' ?
		    0 :
		    (int)switch_separate_string(
			theirs, ' ', theirwords, FSMC_MAX_TOKENS);

		same = nours == ntheirs;
		for (i = 0; same && i < nours; i++)
			same = strcmp(ourwords[i], theirwords[i]) == 0;
		if (same)
			continue;
		if (differ++ < 5) {
			printf("line ");
			show(line);
			printf("\n");
			show_words("fsmemcache", ourwords, nours);
			show_words("FreeSWITCH", theirwords, ntheirs);
		}
	}
	printf("%lu lines, %lu differ\n", lines, differ);
	return (differ == 0 ? 0 : 1);
}
