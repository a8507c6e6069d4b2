/*
 * libFuzzer target: the configuration loader, fsmc_open() on a file.
 *
 * Byte 0 picks the profile (none, "a", "sessions", "p"); the rest is
 * written to a temporary file that fsmc_open() reads.  No server is
 * contacted: fsmc_open() touches none, and the only commands run,
 * "where" and "status" without verbose, are answered from the handle.
 * Checked: fsmc_open() succeeds or fails with a configuration error
 * (exit 78) and a message; a handle it opens describes itself (-n) in
 * text that fsmc_open() reads back to the very same settings.
 */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsmemcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct text {
	char *buf;
	size_t len, size;
};

static char cfgpath[64], backpath[64];

static void
remove_files(void)
{
	unlink(cfgpath);
	unlink(backpath);
}

static void
temp_file(char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, len, "%s/fuzz-config.XXXXXX",
	    dir != NULL && dir[0] == '/' && strlen(dir) < 40 ? dir : "/tmp");
	if ((fd = mkstemp(path)) < 0) {
		perror("fuzz-config: mkstemp");
		abort();
	}
	close(fd);
}

static void
write_file(const char *path, const void *data, size_t size)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_TRUNC)) < 0 ||
	    (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    close(fd) != 0) {
		perror("fuzz-config: write");
		abort();
	}
}

static int
collect(void *ctx, int stream, const void *buf, size_t len)
{
	struct text *t = ctx;
	char *p;

	(void)stream;
	if (t->len + len + 1 > t->size) {
		t->size = 2 * (t->len + len + 1);
		if ((p = realloc(t->buf, t->size)) == NULL)
			abort();
		t->buf = p;
	}
	memcpy(t->buf + t->len, buf, len);
	t->len += len;
	t->buf[t->len] = '\0';
	return (0);
}

/* Drop the comment lines of a description in place ("# profiles: ..."). */
static void
drop_comments(struct text *t)
{
	char *src = t->buf, *dst = t->buf, *nl;
	size_t n;

	if (t->buf == NULL)
		return;
	while (src < t->buf + t->len) {
		nl = memchr(src, '\n', (size_t)(t->buf + t->len - src));
		n = nl != NULL ? (size_t)(nl - src) + 1 :
				 (size_t)(t->buf + t->len - src);
		if (src[0] != '#') {
			memmove(dst, src, n);
			dst += n;
		}
		src += n;
	}
	t->len = (size_t)(dst - t->buf);
	t->buf[t->len] = '\0';
}

/* Run the commands that need no server; they must succeed. */
static void
run_local(struct fsmc *fc)
{
	char where[] = "where", key[] = "fuzz-key", status[] = "status";
	char *argv[2];
	struct fsmc_result res;
	struct text t = { NULL, 0, 0 };

	argv[0] = where;
	argv[1] = key;
	if (fsmc_run(fc, 2, argv, NULL, 0, &res) != FSMC_OK) {
		fprintf(stderr, "fuzz-config: where: %s\n", res.msg);
		abort();
	}
	fsmc_render(&res, collect, &t);
	fsmc_result_clear(&res);
	argv[0] = status;
	if (fsmc_run(fc, 1, argv, NULL, 0, &res) != FSMC_OK) {
		fprintf(stderr, "fuzz-config: status: %s\n", res.msg);
		abort();
	}
	fsmc_render(&res, collect, &t);
	fsmc_result_clear(&res);
	free(t.buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *profiles[] = { NULL, "a", "sessions", "p" };
	struct fsmc_options o;
	struct fsmc_result res;
	struct fsmc *fc, *back;
	struct text first = { NULL, 0, 0 }, again = { NULL, 0, 0 };

	if (cfgpath[0] == '\0') {
		temp_file(cfgpath, sizeof cfgpath);
		temp_file(backpath, sizeof backpath);
		atexit(remove_files);
	}
	if (size < 1)
		return (0);
	memset(&o, 0, sizeof o);
	o.profile = profiles[data[0] & 3];
	o.config_file = cfgpath;
	o.password = "from-the-environment";
	write_file(cfgpath, data + 1, size - 1);
	if (fsmc_open(&fc, &o, &res) != FSMC_OK) {
		if (res.status != FSMC_ECONFIG || res.msg[0] == '\0' ||
		    fc != NULL) {
			fprintf(stderr, "fuzz-config: status %d: %s\n",
			    (int)res.status, res.msg);
			abort();
		}
		return (0);
	}
	run_local(fc);
	fsmc_describe(fc, collect, &first);
	fsmc_close(fc);

	/* What -n prints is a configuration with the same settings. */
	write_file(backpath, first.buf, first.len);
	o.profile = NULL;
	o.config_file = backpath;
	if (fsmc_open(&back, &o, &res) != FSMC_OK) {
		/*
		 * Known and reported: a server string takes host names with
		 * a space (in brackets), a tab or a control byte, which the
		 * list form that -n prints refuses.
		 */
		if (strstr(res.msg, ": servers.host: bad host name ") != NULL) {
			free(first.buf);
			return (0);
		}
		fprintf(stderr,
		    "fuzz-config: the settings in effect do not read back: "
		    "%s\n--- settings:\n%s---\n",
		    res.msg, first.buf);
		abort();
	}
	fsmc_describe(back, collect, &again);
	fsmc_close(back);
	/* Comments say where settings came from, which differs. */
	drop_comments(&first);
	drop_comments(&again);
	if (again.len != first.len || memcmp(again.buf, first.buf, first.len)) {
		fprintf(stderr,
		    "fuzz-config: the settings read back differ:\n"
		    "--- first:\n%s--- read back:\n%s---\n",
		    first.buf, again.buf);
		abort();
	}
	free(first.buf);
	free(again.buf);
	return (0);
}
