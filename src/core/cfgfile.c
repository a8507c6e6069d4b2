/*
 * The configuration's files as libconfig reads them: includes expanded
 * beside the including file, and every file read guarded alike.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsmc-int.h"

/* For the configuration and its includes together. */
#define CONFIG_MAX_BYTES (1024 * 1024)
/* libconfig's own limit on nested includes. */
#define INCLUDE_DEPTH_MAX 10

static enum fsmc_status files_read(struct fsmc_files *, char *, size_t,
    unsigned int, int, struct fsmc_result *);

/*
 * Read the whole of a file of at most max bytes, NUL-terminated.  Only
 * a regular file is opened: a FIFO would wait for a writer and a device
 * might never end (opening either may act on it).  O_NONBLOCK keeps one
 * put in its place after stat() from holding the open.
 */
enum fsmc_read
fsmc_read_whole(
    const char *path, size_t max, char **bufp, size_t *lenp, mode_t *modep)
{
	struct stat sb;
	char *buf, *p;
	size_t len = 0, cap;
	ssize_t n;
	int fd, e;

	*bufp = NULL;
	if (stat(path, &sb) != 0)
		return (FSMC_READ_ERRNO);
	if (S_ISDIR(sb.st_mode)) {
		errno = EISDIR;
		return (FSMC_READ_ERRNO);
	}
	/* "-c /dev/null" is the usual way to say "no configuration". */
	if (S_ISCHR(sb.st_mode) && strcmp(path, "/dev/null") == 0) {
		if ((*bufp = calloc(1, 1)) == NULL)
			return (FSMC_READ_NOMEM);
		*lenp = 0;
		*modep = S_IFREG | 0644;
		return (FSMC_READ_OK);
	}
	if (!S_ISREG(sb.st_mode))
		return (FSMC_READ_NOTREG);
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
		return (FSMC_READ_ERRNO);
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return (FSMC_READ_NOTREG);
	}
	if ((uintmax_t)sb.st_size > max) {
		close(fd);
		return (FSMC_READ_BIG);
	}
	*modep = sb.st_mode;
	/* Room for one byte more than stat() said, to see a file grow. */
	cap = (size_t)sb.st_size + 2;
	if ((buf = malloc(cap)) == NULL) {
		close(fd);
		return (FSMC_READ_NOMEM);
	}
	for (;;) {
		if (len + 1 == cap) {
			cap = cap > max / 2 ? max + 2 : cap * 2;
			if ((p = realloc(buf, cap)) == NULL) {
				free(buf);
				close(fd);
				return (FSMC_READ_NOMEM);
			}
			buf = p;
		}
		if ((n = read(fd, buf + len, cap - 1 - len)) < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			free(buf);
			close(fd);
			errno = e;
			return (FSMC_READ_ERRNO);
		}
		if (n == 0)
			break;
		if ((len += (size_t)n) > max) {
			memset(buf, 0, len);
			free(buf);
			close(fd);
			return (FSMC_READ_BIG);
		}
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return (FSMC_READ_OK);
}

/* The path of name seen from the directory of the file at path. */
char *
fsmc_path_beside(const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen, len = strlen(name);
	char *p;

	dirlen =
	    name[0] == '/' || slash == NULL ? 0 : (size_t)(slash - path) + 1;
	if ((p = malloc(dirlen + len + 1)) == NULL)
		return (NULL);
	memcpy(p, path, dirlen);
	memcpy(p + dirlen, name, len + 1);
	return (p);
}

/*
 * Add a file to those read, and return its index, or FSMC_NO_SOURCE
 * without memory.  It takes path.
 */
size_t
fsmc_files_add(struct fsmc_files *c, char *path)
{
	struct fsmc_source *list, *src;
	size_t len = strlen(path);

	if ((list = realloc(c->sources, (c->nsources + 1) * sizeof *list)) ==
	    NULL) {
		free(path);
		return (FSMC_NO_SOURCE);
	}
	c->sources = list;
	src = &list[c->nsources];
	memset(src, 0, sizeof *src);
	src->path = path;
	if ((src->name = malloc(4 * len + 8)) == NULL) {
		free(path);
		return (FSMC_NO_SOURCE);
	}
	fsmc_escape(path, len, src->name, 4 * len + 8);
	return (c->nsources++);
}

void
fsmc_files_free(struct fsmc_files *c)
{
	size_t i;

	for (i = 0; i < c->nsources; i++) {
		free(c->sources[i].path);
		free(c->sources[i].name);
	}
	free(c->sources);
	free(c->text);
	free(c->lines);
	memset(c, 0, sizeof *c);
}

/* The source and the line in it of a line of the text. */
size_t
fsmc_files_origin(
    const struct fsmc_files *c, unsigned int line, unsigned int *in)
{
	unsigned int past = 0;

	if (c->nlines == 0) {
		*in = line;
		return (0);
	}
	if (line == 0)
		line = 1;
	/* libconfig's end of the text is the line after the last. */
	if (line > c->nlines) {
		past = line - (unsigned int)c->nlines;
		line = (unsigned int)c->nlines;
	}
	*in = c->lines[line - 1].line + past;
	return (c->lines[line - 1].source);
}

/* "FILE:LINE" for a line of the text. */
void
fsmc_files_at(
    const struct fsmc_files *c, unsigned int line, char *buf, size_t len)
{
	unsigned int in;
	size_t src = fsmc_files_origin(c, line, &in);

	snprintf(buf, len, "%s:%u", c->sources[src].name, in);
}

/* Append n bytes of a source, from its line, to the text. */
static int
files_append(struct fsmc_files *c, const char *p, size_t n, size_t src,
    unsigned int line)
{
	struct fsmc_origin *o;
	size_t i, cap;
	char *t;

	if (c->len + n + 1 > c->cap) {
		for (cap = c->cap > 0 ? c->cap : 4096; cap < c->len + n + 1;)
			cap *= 2;
		if ((t = realloc(c->text, cap)) == NULL)
			return (-1);
		c->text = t;
		c->cap = cap;
	}
	for (i = 0; i < n; i++) {
		if (c->len == 0 || c->text[c->len - 1] == '\n') {
			if (c->nlines == c->linecap) {
				cap = c->linecap > 0 ? 2 * c->linecap : 256;
				if ((o = realloc(c->lines, cap * sizeof *o)) ==
				    NULL)
					return (-1);
				c->lines = o;
				c->linecap = cap;
			}
			c->lines[c->nlines].source = src;
			c->lines[c->nlines++].line = line;
		}
		if ((c->text[c->len++] = p[i]) == '\n')
			line++;
	}
	c->text[c->len] = '\0';
	return (0);
}

/*
 * The length of an @include directive's opening at p, up to its quote,
 * or 0: libconfig's '^[ \t]*@include[ \t]+\"'.
 */
static size_t
directive(const char *p, size_t n)
{
	size_t i = 0, blanks;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (n - i < 8 || memcmp(p + i, "@include", 8) != 0)
		return (0);
	for (i += 8, blanks = i; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	if (i == blanks || i == n || p[i] != '"')
		return (0);
	return (i + 1);
}

/*
 * Read the file an @include names, from p (past the opening quote) to
 * the closing quote, *used bytes; libconfig's escapes are \\ and \".
 */
static enum fsmc_status
files_include(struct fsmc_files *c, size_t src, unsigned int line,
    const char *p, size_t n, size_t *used, int depth, struct fsmc_result *res)
{
	const char *why = NULL;
	char *name, *path;
	size_t i = 0, o = 0;

	if ((name = malloc(n + 1)) == NULL)
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	while (why == NULL && i < n && p[i] != '"' && p[i] != '\n') {
		if (p[i] != '\\')
			name[o++] = p[i++];
		else if (i + 1 < n && (p[i + 1] == '\\' || p[i + 1] == '"')) {
			name[o++] = p[i + 1];
			i += 2;
		} else
			why =
			    "a backslash in a file name escapes only \\ or \"";
	}
	name[o] = '\0';
	if (why == NULL && (i == n || p[i] != '"'))
		why = "no closing quote on the line";
	else if (why == NULL && o == 0)
		why = "empty file name";
	if (why != NULL) {
		free(name);
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "%s:%u: @include: %s", c->sources[src].name, line, why));
	}
	*used = i + 1;
	path = fsmc_path_beside(c->sources[src].path, name);
	free(name);
	if (path == NULL)
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	return (files_read(c, path, src, line, depth + 1, res));
}

/*
 * Append a file's text, each @include replaced by the file it names.
 * Directives are found where libconfig's scanner finds them: at the
 * start of a line outside comments and strings.  A directive must be
 * alone on its line, as libconfig's manual says, so that nothing after
 * it starts a line of the text; a comment or string must end in the
 * file that opens it.
 */
static enum fsmc_status
files_expand(struct fsmc_files *c, size_t src, const char *p, size_t n,
    int depth, struct fsmc_result *res)
{
	enum { CODE, STRING, COMMENT } state = CODE;
	size_t i = 0, from = 0, len, used = 0;
	unsigned int line = 1, from_line = 1, opened = 1;
	int alone = 0;

	while (i < n) {
		if (state == CODE && (i == 0 || p[i - 1] == '\n') &&
		    (len = directive(p + i, n - i)) > 0) {
			if (files_append(
				c, p + from, i - from, src, from_line) != 0)
				return (fsmc_fail(res, FSMC_EINTERNAL, NULL,
				    "out of memory"));
			if (files_include(c, src, line, p + i + len,
				n - i - len, &used, depth, res) != FSMC_OK)
				return (res->status);
			i += len + used;
			from = i;
			from_line = line;
			alone = 1;
			continue;
		}
		if (p[i] == '\n') {
			alone = 0;
			line++;
			i++;
		} else if (state == STRING) {
			if (p[i] == '\\' && i + 1 < n &&
			    (p[i + 1] == '\\' || p[i + 1] == '"'))
				i++;
			else if (p[i] == '"')
				state = CODE;
			i++;
		} else if (state == COMMENT) {
			if (p[i] == '*' && i + 1 < n && p[i + 1] == '/') {
				state = CODE;
				i++;
			}
			i++;
		} else if (p[i] == '#' ||
		    (p[i] == '/' && i + 1 < n && p[i + 1] == '/')) {
			while (i < n && p[i] != '\n')
				i++;
		} else if (p[i] == '/' && i + 1 < n && p[i + 1] == '*') {
			state = COMMENT;
			opened = line;
			i += 2;
		} else if (alone && strchr(" \t\r\f", p[i]) == NULL) {
			return (fsmc_fail(res, FSMC_ECONFIG, NULL,
			    "%s:%u: @include: must be alone on its line",
			    c->sources[src].name, line));
		} else {
			if (p[i] == '"') {
				state = STRING;
				opened = line;
			}
			i++;
		}
	}
	if (state != CODE)
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "%s:%u: %s not closed at the end of the file",
		    c->sources[src].name, opened,
		    state == STRING ? "string" : "comment"));
	/* A line comment may end the file, as it may end a line. */
	if (files_append(c, p + from, n - from, src, from_line) != 0 ||
	    (c->len > 0 && c->text[c->len - 1] != '\n' &&
		files_append(c, "\n", 1, src, line) != 0))
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	return (FSMC_OK);
}

/*
 * Read a file into the text: the configuration itself (from is
 * FSMC_NO_SOURCE), or one that source from includes at its line at.
 * It takes path.
 */
static enum fsmc_status
files_read(struct fsmc_files *c, char *path, size_t from, unsigned int at,
    int depth, struct fsmc_result *res)
{
	const char *why = NULL, *nul, *p;
	size_t src, n = 0;
	char *buf = NULL, at_text[400];
	unsigned int line;
	mode_t mode = 0;

	if ((src = fsmc_files_add(c, path)) == FSMC_NO_SOURCE)
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	if (depth > INCLUDE_DEPTH_MAX)
		why = "nested more than 10 deep (does a file include itself?)";
	else {
		switch (fsmc_read_whole(
		    c->sources[src].path, CONFIG_MAX_BYTES, &buf, &n, &mode)) {
		case FSMC_READ_OK:
			break;
		case FSMC_READ_ERRNO:
			why = strerror(errno);
			break;
		case FSMC_READ_NOTREG:
			why = "not a regular file";
			break;
		case FSMC_READ_BIG:
			why = "larger than 1 MiB: not a configuration file";
			break;
		case FSMC_READ_NOMEM:
			return (fsmc_fail(
			    res, FSMC_EINTERNAL, NULL, "out of memory"));
		}
	}
	if (why == NULL && c->bytes + n > CONFIG_MAX_BYTES)
		why = "the configuration and its includes come to more than "
		      "1 MiB";
	if (why != NULL) {
		free(buf);
		if (from == FSMC_NO_SOURCE)
			return (fsmc_fail(res, FSMC_ECONFIG, NULL, "%s: %s",
			    c->sources[src].name, why));
		snprintf(at_text, sizeof at_text, "%s:%u",
		    c->sources[from].name, at);
		return (
		    fsmc_fail(res, FSMC_ECONFIG, NULL, "%s: @include: %s: %s",
			at_text, c->sources[src].name, why));
	}
	c->bytes += n;
	c->sources[src].readable = (mode & (S_IRGRP | S_IROTH)) != 0;
	/* libconfig would end the text at a NUL byte. */
	if ((nul = memchr(buf, '\0', n)) != NULL) {
		for (line = 1, p = buf;
		     (p = memchr(p, '\n', (size_t)(nul - p))) != NULL; p++)
			line++;
		free(buf);
		return (fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "%s:%u: a NUL byte: syntax error", c->sources[src].name,
		    line));
	}
	files_expand(c, src, buf, n, depth, res);
	free(buf);
	return (res->status);
}

/*
 * Read the configuration file at path, and the files it includes, into
 * the text that libconfig parses.
 */
enum fsmc_status
fsmc_files_read(struct fsmc_files *c, const char *path, struct fsmc_result *res)
{
	char *copy;

	if ((copy = strdup(path)) == NULL)
		return (fsmc_fail(res, FSMC_EINTERNAL, NULL, "out of memory"));
	return (files_read(c, copy, FSMC_NO_SOURCE, 0, 0, res));
}

/*
 * One warning, on every run, for the files read that hold a password
 * (anywhere: the top level or any profile) and that group or others can
 * read.
 */
void
fsmc_files_warning(const struct fsmc_files *c, struct fsmc_result *res)
{
	const struct fsmc_source *s, *t;
	/* Shorter than res->msg, which also holds the words around it. */
	char list[sizeof res->msg - 96];
	size_t i, j, n = 0;

	list[0] = '\0';
	for (i = 0; i < c->nsources; i++) {
		s = &c->sources[i];
		if (!s->password || !s->readable)
			continue;
		for (j = 0; j < i; j++) {
			t = &c->sources[j];
			if (t->password && t->readable &&
			    strcmp(t->path, s->path) == 0)
				break;
		}
		if (j < i)
			continue;
		if (n++ > 0)
			strncat(list, ", ", sizeof list - strlen(list) - 1);
		strncat(list, s->name, sizeof list - strlen(list) - 1);
	}
	if (n > 0)
		snprintf(res->msg, sizeof res->msg,
		    "warning: %s %s and can be read by group or others "
		    "(chmod 600)",
		    list, n == 1 ? "holds a password" : "hold passwords");
}
