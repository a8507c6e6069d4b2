/* Print the words fsmc_split_line() makes of each argument, for tests. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsmemcache.h"

int
main(int argc, char **argv)
{
	char *words[FSMC_MAX_TOKENS], *copy;
	int i, j, n;

	for (i = 1; i < argc; i++) {
		if ((copy = strdup(argv[i])) == NULL)
			return (1);
		n = fsmc_split_line(copy, words, FSMC_MAX_TOKENS);
		for (j = 0; j < n; j++)
			printf("[%s]", words[j]);
		printf("\n");
		free(copy);
	}
	return (0);
}
