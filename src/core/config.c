/* Read the libconfig file and set up the prototype handle's servers. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "fsmc-int.h"

/*
 * fsmemcache fails fast where libmemcached would wait 4 to 5 seconds on
 * a dead server; these do not change where keys are placed.
 */
#define CONNECT_TIMEOUT_MS 1000
#define IO_TIMEOUT_MS 1000

static enum fsmc_status
setting_error(struct fsmc_result *res, const char *file,
    const config_setting_t *s, const char *what)
{
	return (fsmc_fail(res, FSMC_ECONFIG, NULL, "%s:%u: %s", file,
	    (unsigned)config_setting_source_line(s), what));
}

/*
 * Add the servers of a mod_memcache "memcache-servers" string:
 * "host[:port[:weight]], /socket/path, ...".  libmemcached parses it, as
 * it does for FreeSWITCH, so both read a string the same way.
 */
static enum fsmc_status
add_server_string(memcached_st *mc, const char *list, const char *origin,
    struct fsmc_result *res)
{
	memcached_server_list_st servers;
	memcached_return_t rc;

	if ((servers = memcached_servers_parse(list)) == NULL)
		return (fsmc_fail(
		    res, FSMC_ECONFIG, NULL, "%s: no servers", origin));
	rc = memcached_server_push(mc, servers);
	memcached_server_list_free(servers);
	if (rc != MEMCACHED_SUCCESS)
		return (fsmc_fail(res, FSMC_ECONFIG, NULL, "%s: %s", origin,
		    memcached_strerror(NULL, rc)));
	return (FSMC_OK);
}

/* Add one "{ host = ...; port = ...; weight = ...; }" or "{ socket }". */
static enum fsmc_status
add_server_group(memcached_st *mc, const char *file, config_setting_t *g,
    struct fsmc_result *res)
{
	const char *host = NULL, *sock = NULL, *name;
	int port = 11211, weight = 1, i;
	config_setting_t *m;
	memcached_return_t rc;
	char msg[300];

	if (!config_setting_is_group(g))
		return (setting_error(res, file, g,
		    "servers: each server must be a group "
		    "{ host = \"...\"; port = N; } or { socket = \"...\"; }"));
	for (i = 0; i < config_setting_length(g); i++) {
		m = config_setting_get_elem(g, (unsigned)i);
		name = config_setting_name(m);
		if (strcmp(name, "host") == 0 || strcmp(name, "socket") == 0) {
			if (config_setting_type(m) != CONFIG_TYPE_STRING ||
			    *config_setting_get_string(m) == '\0') {
				snprintf(msg, sizeof msg,
				    "servers: %s must be a non-empty string",
				    name);
				return (setting_error(res, file, m, msg));
			}
			*(name[0] == 'h' ? &host : &sock) =
			    config_setting_get_string(m);
		} else if (strcmp(name, "port") == 0 ||
		    strcmp(name, "weight") == 0) {
			if (config_setting_type(m) != CONFIG_TYPE_INT ||
			    config_setting_get_int(m) < 1 ||
			    config_setting_get_int(m) > 65535) {
				snprintf(msg, sizeof msg,
				    "servers: %s must be a whole number from "
				    "1 to 65535",
				    name);
				return (setting_error(res, file, m, msg));
			}
			*(name[0] == 'p' ? &port : &weight) =
			    config_setting_get_int(m);
		} else {
			snprintf(msg, sizeof msg,
			    "servers: unknown setting '%s' (host, port, "
			    "weight or socket)",
			    name);
			return (setting_error(res, file, m, msg));
		}
	}
	if ((host == NULL) == (sock == NULL))
		return (setting_error(res, file, g,
		    "servers: a server needs either host or socket"));
	if (sock != NULL)
		rc = memcached_server_add_unix_socket_with_weight(
		    mc, sock, (uint32_t)weight);
	else
		rc = memcached_server_add_with_weight(
		    mc, host, (in_port_t)port, (uint32_t)weight);
	if (rc != MEMCACHED_SUCCESS)
		return (
		    setting_error(res, file, g, memcached_strerror(NULL, rc)));
	return (FSMC_OK);
}

static enum fsmc_status
add_servers_setting(memcached_st *mc, const char *file, config_setting_t *s,
    struct fsmc_result *res)
{
	char origin[300];
	int i;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		snprintf(origin, sizeof origin, "%s:%u: servers", file,
		    (unsigned)config_setting_source_line(s));
		return (add_server_string(
		    mc, config_setting_get_string(s), origin, res));
	}
	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return (setting_error(res, file, s,
		    "servers: must be a string \"host:port, ...\" or a list "
		    "( { host = \"...\"; port = N; }, ... )"));
	if (config_setting_length(s) == 0)
		return (setting_error(res, file, s, "servers: empty list"));
	for (i = 0; i < config_setting_length(s); i++) {
		if (add_server_group(mc, file,
			config_setting_get_elem(s, (unsigned)i),
			res) != FSMC_OK)
			return (res->status);
	}
	return (FSMC_OK);
}

/* Parse file into cfg; a file that cannot be read or parsed is an error. */
static enum fsmc_status
read_file(config_t *cfg, const char *file, struct fsmc_result *res)
{
	struct stat st;
	FILE *fp;
	int ok;

	if ((fp = fopen(file, "r")) == NULL)
		return (fsmc_fail(
		    res, FSMC_ECONFIG, NULL, "%s: %s", file, strerror(errno)));
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(fp);
		return (fsmc_fail(
		    res, FSMC_ECONFIG, NULL, "%s: %s", file, strerror(EISDIR)));
	}
	ok = config_read(cfg, fp);
	fclose(fp);
	if (!ok)
		return (fsmc_fail(res, FSMC_ECONFIG, NULL, "%s:%d: %s", file,
		    config_error_line(cfg), config_error_text(cfg)));
	return (FSMC_OK);
}

/*
 * Load the configuration named by opts into mc: the file's settings,
 * then the command line's overrides.  Nothing is sent to any server.
 */
enum fsmc_status
fsmc_config_load(
    memcached_st *mc, const struct fsmc_options *opts, struct fsmc_result *res)
{
	config_setting_t *root, *s, *servers = NULL;
	enum fsmc_status status = FSMC_OK;
	const char *file = opts->config_file;
	char msg[300];
	config_t cfg;
	int i;

	config_init(&cfg);
	if (file != NULL) {
		if ((status = read_file(&cfg, file, res)) != FSMC_OK)
			goto done;
		root = config_root_setting(&cfg);
		for (i = 0; i < config_setting_length(root); i++) {
			s = config_setting_get_elem(root, (unsigned)i);
			if (strcmp(config_setting_name(s), "servers") == 0) {
				servers = s;
				continue;
			}
			snprintf(msg, sizeof msg, "unknown setting '%s'",
			    config_setting_name(s));
			status = setting_error(res, file, s, msg);
			goto done;
		}
	}

	if (opts->servers != NULL)
		status = add_server_string(mc, opts->servers, "servers", res);
	else if (servers != NULL)
		status = add_servers_setting(mc, file, servers, res);
	else
		status = fsmc_fail(res, FSMC_ECONFIG, NULL,
		    "%s: no servers configured",
		    file != NULL ? file : "servers");
	if (status != FSMC_OK)
		goto done;

	memcached_behavior_set(
	    mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, CONNECT_TIMEOUT_MS);
	memcached_behavior_set(
	    mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, IO_TIMEOUT_MS);
done:
	config_destroy(&cfg);
	return (status);
}
