/*
 * libFuzzer target: the FreeSWITCH line tokenizer, fsmc_split_line().
 *
 * The first byte picks max (1 to FSMC_MAX_TOKENS + 3), the rest is the
 * line.  argv is exactly max pointers on the heap, so that AddressSanitizer
 * catches a word written past it.  Checked: the count is within 0..max,
 * every word lies inside the line's buffer and ends before the buffer's
 * end, words do not overlap, and splitting is deterministic.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fsmemcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
split(const uint8_t *data, size_t size, int max, char **buf, char ***argvp)
{
	char *line, **argv;
	int n, i;

	if ((line = malloc(size + 1)) == NULL ||
	    (argv = calloc((size_t)max, sizeof *argv)) == NULL)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	n = fsmc_split_line(line, argv, max);
	if (n < 0 || n > max)
		abort();
	for (i = 0; i < n; i++) {
		if (argv[i] < line || argv[i] > line + size)
			abort();
		/* The word and its NUL lie inside the buffer. */
		if (memchr(argv[i], '\0',
			(size_t)(line + size - argv[i]) + 1) == NULL)
			abort();
		/* Words come in order and do not overlap. */
		if (i > 0 && argv[i] <= argv[i - 1] + strlen(argv[i - 1]))
			abort();
	}
	*buf = line;
	*argvp = argv;
	return (n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line1, *line2, **argv1, **argv2;
	int max, n1, n2, i;

	if (size < 1)
		return (0);
	max = 1 + data[0] % (FSMC_MAX_TOKENS + 3);
	data++;
	size--;
	n1 = split(data, size, max, &line1, &argv1);
	n2 = split(data, size, max, &line2, &argv2);
	if (n1 != n2)
		abort();
	for (i = 0; i < n1; i++) {
		if (argv1[i] - line1 != argv2[i] - line2 ||
		    strcmp(argv1[i], argv2[i]) != 0)
			abort();
	}
	free(argv1);
	free(argv2);
	free(line1);
	free(line2);
	return (0);
}
