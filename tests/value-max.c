/* Gets on one session whose values are bounded, as the FreeSWITCH module's
 * file interface reads them. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsmemcache.h"

/*
 * usage: value-max CONFIG MAX KEY...
 * Opens a session on the configuration file, refuses values over MAX
 * bytes (0: the default), and gets each KEY in turn, printing a line
 * each: "KEY: N bytes", or "KEY: -ERR TEXT: MESSAGE".
 */
int
main(int argc, char **argv)
{
	struct fsmc_options opts;
	struct fsmc_session *s;
	struct fsmc_result res;
	struct fsmc *fc;
	char getword[] = "get";
	char *words[2];
	int i;

	if (argc < 4) {
		fprintf(stderr, "usage: value-max CONFIG MAX KEY...\n");
		return (64);
	}
	memset(&opts, 0, sizeof opts);
	opts.config_file = argv[1];
	if (fsmc_open(&fc, &opts, &res) != FSMC_OK) {
		fprintf(stderr, "value-max: %s\n", res.msg);
		return (78);
	}
	if (fsmc_session_open(fc, 0, &s, &res) != FSMC_OK) {
		fprintf(stderr, "value-max: %s\n", res.msg);
		return (70);
	}
	fsmc_session_set_value_max(s, strtoul(argv[2], NULL, 10));
	words[0] = getword;
	for (i = 3; i < argc; i++) {
		words[1] = argv[i];
		if (fsmc_session_run(s, 2, words, NULL, 0, &res) == FSMC_OK)
			printf("%s: %zu bytes\n", argv[i], res.valuelen);
		else
			printf("%s: -ERR %s: %s\n", argv[i],
			    res.errtext != NULL ? res.errtext : "", res.msg);
		fsmc_result_clear(&res);
	}
	fsmc_session_close(s);
	fsmc_close(fc);
	return (0);
}
