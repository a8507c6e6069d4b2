/* Split an API command line into words the way FreeSWITCH does. */

#include <string.h>

#include "fsmc-int.h"

/*
 * FreeSWITCH strips these from both ends of an API argument before the
 * module sees it (switch_strip_whitespace).
 */
static int
is_strip_space(char c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v');
}

/*
 * The byte an escape "\c" stands for, or NUL when "\c" is not an escape
 * and both bytes are kept.  The delimiter can be escaped too, and takes
 * precedence over the letters, so "^^n" lines keep "\n" as "n".
 */
static char
unescape(char c, char delim)
{
	if (c == '\0')
		return ('\0');
	if (c == '\'' || c == '"' || c == '\\' || c == delim)
		return (c);
	switch (c) {
	case 'n':
		return ('\n');
	case 'r':
		return ('\r');
	case 't':
		return ('\t');
	case 's':
		return (' ');
	}
	return ('\0');
}

/*
 * Clean one word in place: drop leading spaces, turn escapes into their
 * bytes, remove single quotes that have a partner (a lone quote is kept),
 * and drop trailing spaces that are not quoted.  An opened quote counts
 * as content, so '' is an empty word and '  x  ' keeps its spaces.
 */
static char *
clean_word(char *word, char delim)
{
	char *src, *dst, *start, *end = NULL;
	size_t n;
	int quoted = 0;
	char c;

	while (*word == ' ')
		word++;
	/*
	 * Most words hold neither escape nor quote: only trailing spaces go.
	 * A loop, as strcspn() costs more to set up than a short word.
	 */
	for (n = 0; word[n] != '\0' && word[n] != '\\' && word[n] != '\''; n++)
		;
	if (word[n] == '\0') {
		while (n > 0 && word[n - 1] == ' ')
			n--;
		word[n] = '\0';
		return (word);
	}
	start = dst = word;
	for (src = word; *src != '\0'; src++) {
		if (*src == '\\' && (c = unescape(src[1], delim)) != '\0') {
			*dst++ = c;
			end = dst;
			src++;
			continue;
		}
		if (*src == '\'' && (quoted || strchr(src + 1, '\'') != NULL)) {
			quoted = !quoted;
			if (quoted)
				end = dst;
			continue;
		}
		*dst++ = *src;
		if (*src != ' ' || quoted)
			end = dst;
	}
	*(end != NULL ? end : start) = '\0';
	return (start);
}

/*
 * Cut p at unquoted delimiters into at most max words; the last word
 * runs to the end of the line.  A backslash protects the next byte, the
 * delimiter included, so a "^^\" line is never cut, and a backslash that
 * ends the line ends the last word and is kept.  Splitting on spaces, as
 * FreeSWITCH does by default and for "^^ ", skips the spaces before each
 * word and treats a run of spaces as one separator, and any quote toggles
 * quoting whether or not it has a partner, so a stray quote glues the
 * rest of the line into one word.  Splitting on another "^^" delimiter
 * keeps empty fields (but not after a trailing delimiter), and a quote
 * toggles only when a partner follows somewhere in the line.
 */
static int
split_words(char *p, char delim, char **argv, int max)
{
	int n = 0, quoted = 0, blank = delim == ' ';

	for (;;) {
		while (blank && *p == ' ')
			p++;
		if (*p == '\0')
			break;
		argv[n++] = p;
		if (n == max)
			break;
		for (; *p != '\0'; p++) {
			if (*p == '\\') {
				if (p[1] == '\0')
					return (n);
				p++;
			} else if (*p == '\'' &&
			    (blank || quoted || strchr(p + 1, '\'') != NULL))
				quoted = !quoted;
			else if (*p == delim && !quoted) {
				*p++ = '\0';
				break;
			}
		}
	}
	return (n);
}

/*
 * Split line in place into at most max words, as FreeSWITCH's
 * switch_separate_string(line, ' ', argv, max) does after the API layer
 * has stripped white space.  A line starting "^^X" (with at least one
 * byte after X) is split on X instead of spaces.  Returns the number of
 * words; they point into line.
 */
int
fsmc_split_line(char *line, char **argv, int max)
{
	char delim = ' ';
	size_t len;
	int i, n;

	while (is_strip_space(*line))
		line++;
	len = strlen(line);
	while (len > 0 && is_strip_space(line[len - 1]))
		line[--len] = '\0';

	if (line[0] == '^' && line[1] == '^' && len >= 4) {
		delim = line[2];
		line += 3;
	}
	n = split_words(line, delim, argv, max);
	for (i = 0; i < n; i++)
		argv[i] = clean_word(argv[i], delim == ' ' ? '\0' : delim);
	return (n);
}
