/* mod_memcache: FreeSWITCH's memcache API command, run by the fsmemcache core.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switch.h>

#include "fsmemcache.h"

SWITCH_MODULE_LOAD_FUNCTION(mod_memcache_load);
SWITCH_MODULE_SHUTDOWN_FUNCTION(mod_memcache_shutdown);
SWITCH_MODULE_DEFINITION(
    mod_memcache, mod_memcache_load, mod_memcache_shutdown, NULL);

/*
 * An open core handle and the number of its users: the module's current
 * configuration holds one reference, each running API call another.  A
 * reload swaps in a new handle; the old one is closed by whoever drops
 * its last reference, so no call ever sees a handle freed under it.
 */
struct mc_handle {
	struct fsmc *fc;
	unsigned int refs;
};

static struct {
	switch_mutex_t *mutex;
	struct mc_handle *current; /* NULL when the configuration failed */
	switch_event_node_t *reload_node;
} globals;

static struct mc_handle *
handle_acquire(void)
{
	struct mc_handle *h;

	switch_mutex_lock(globals.mutex);
	if ((h = globals.current) != NULL)
		h->refs++;
	switch_mutex_unlock(globals.mutex);
	return (h);
}

static void
handle_release(struct mc_handle *h)
{
	unsigned int refs;

	if (h == NULL)
		return;
	switch_mutex_lock(globals.mutex);
	refs = --h->refs;
	switch_mutex_unlock(globals.mutex);
	if (refs == 0) {
		fsmc_close(h->fc);
		free(h);
	}
}

/* Make h (which may be NULL) the current handle. */
static void
handle_install(struct mc_handle *h)
{
	struct mc_handle *old;

	switch_mutex_lock(globals.mutex);
	old = globals.current;
	globals.current = h;
	switch_mutex_unlock(globals.mutex);
	handle_release(old);
}

/*
 * Read memcache.conf: "memcache-servers", the original module's list of
 * servers, and "config-file", an fsmemcache configuration file shared
 * with the command line.  When both are given the servers override the
 * file's.  Returns a new handle, or NULL after logging why there is none.
 */
static struct mc_handle *
load_config(void)
{
	switch_xml_t xml, cfg, settings, param;
	struct fsmc_options opts;
	struct fsmc_result res;
	struct mc_handle *h;
	char *servers = NULL, *file = NULL, path[1024];
	const char *name, *value;

	if ((xml = switch_xml_open_cfg("memcache.conf", &cfg, NULL)) == NULL) {
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "Open of memcache.conf failed\n");
		return (NULL);
	}
	if ((settings = switch_xml_child(cfg, "settings")) != NULL) {
		for (param = switch_xml_child(settings, "param"); param != NULL;
		     param = param->next) {
			name = switch_xml_attr_soft(param, "name");
			value = switch_xml_attr_soft(param, "value");
			if (strcasecmp(name, "memcache-servers") == 0) {
				free(servers);
				servers = strdup(value);
			} else if (strcasecmp(name, "config-file") == 0) {
				free(file);
				file = strdup(value);
			} else
				switch_log_printf(SWITCH_CHANNEL_LOG,
				    SWITCH_LOG_WARNING,
				    "memcache.conf: unknown parameter [%s]\n",
				    name);
		}
	}
	switch_xml_free(xml);

	memset(&opts, 0, sizeof opts);
	if (servers != NULL && *servers != '\0')
		opts.servers = servers;
	if (file != NULL && *file != '\0') {
		/* A relative path is taken from FreeSWITCH's conf dir. */
		if (file[0] != '/')
			snprintf(path, sizeof path, "%s%s%s",
			    SWITCH_GLOBAL_dirs.conf_dir, SWITCH_PATH_SEPARATOR,
			    file);
		else
			snprintf(path, sizeof path, "%s", file);
		opts.config_file = path;
	}
	h = NULL;
	if (opts.servers == NULL && opts.config_file == NULL)
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "Required parameter [memcache-servers] is missing\n");
	else if ((h = calloc(1, sizeof *h)) == NULL)
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_CRIT,
		    "memcache: out of memory\n");
	else if (fsmc_open(&h->fc, &opts, &res) != FSMC_OK) {
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "memcache configuration: %s\n", res.msg);
		free(h);
		h = NULL;
	} else {
		if (res.msg[0] != '\0')
			switch_log_printf(SWITCH_CHANNEL_LOG,
			    SWITCH_LOG_WARNING, "memcache configuration: %s\n",
			    res.msg);
		h->refs = 1;
	}
	free(servers);
	free(file);
	return (h);
}

static void
reload_event(switch_event_t *event)
{
	(void)event;
	handle_install(load_config());
}

/* fsmc_render's writer: both of its streams go to the API stream. */
static int
stream_write(void *ctx, int which, const void *buf, size_t len)
{
	switch_stream_handle_t *stream = ctx;
	uint8_t *bytes;

	(void)which;
	/* The raw writer keeps NUL bytes; its prototype lacks a const. */
	memcpy(&bytes, &buf, sizeof bytes);
	if (stream->raw_write_function != NULL)
		return (stream->raw_write_function(stream, bytes, len) ==
			    SWITCH_STATUS_SUCCESS ?
			0 :
			-1);
	return (stream->write_function(stream, "%.*s", (int)len, buf) ==
		    SWITCH_STATUS_SUCCESS ?
		0 :
		-1);
}

SWITCH_STANDARD_API(memcache_function)
{
	struct mc_handle *h;
	struct fsmc_result res;

	(void)session;
	if ((h = handle_acquire()) == NULL) {
		stream->write_function(stream, "-ERR NO SERVERS DEFINED\n");
		return (SWITCH_STATUS_SUCCESS);
	}
	fsmc_run_line(h->fc, zstr(cmd) ? "" : cmd, NULL, 0, &res);
	fsmc_render(&res, stream_write, stream);
	if (res.status != FSMC_OK && res.status != FSMC_NOTFOUND &&
	    res.status != FSMC_EUSAGE)
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "Error while running command %s: %s (%s)\n",
		    res.command != NULL ? res.command : "?",
		    res.errtext != NULL ? res.errtext : "", res.msg);
	fsmc_result_clear(&res);
	handle_release(h);
	/* As the original: the reply says how it went, the API succeeded. */
	return (SWITCH_STATUS_SUCCESS);
}

/* The API's syntax: the usage lines of the core's command table. */
static const char *
api_syntax(switch_memory_pool_t *pool)
{
	char text[1024], line[256];
	size_t i;

	text[0] = '\0';
	for (i = 0; fsmc_usage_line(i, 0, line, sizeof line, NULL) != NULL;
	     i++) {
		if (i > 0)
			strncat(text, "\n", sizeof text - strlen(text) - 1);
		strncat(text, line, sizeof text - strlen(text) - 1);
	}
	return (switch_core_strdup(pool, text));
}

SWITCH_MODULE_LOAD_FUNCTION(mod_memcache_load)
{
	switch_api_interface_t *api_interface;
	const char *name;
	char complete[64];
	size_t i;

	memset(&globals, 0, sizeof globals);
	switch_mutex_init(&globals.mutex, SWITCH_MUTEX_NESTED, pool);
	*module_interface =
	    switch_loadable_module_create_module_interface(pool, modname);
	handle_install(load_config());
	if (switch_event_bind_removable(modname, SWITCH_EVENT_RELOADXML, NULL,
		reload_event, NULL,
		&globals.reload_node) != SWITCH_STATUS_SUCCESS)
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "Couldn't bind to the reloadxml event\n");
	SWITCH_ADD_API(api_interface, "memcache", "Memcache API",
	    memcache_function, api_syntax(pool));
	for (i = 0; (name = fsmc_command_name(i)) != NULL; i++) {
		snprintf(complete, sizeof complete, "add memcache %s", name);
		switch_console_set_complete(complete);
	}
	return (SWITCH_STATUS_SUCCESS);
}

SWITCH_MODULE_SHUTDOWN_FUNCTION(mod_memcache_shutdown)
{
	switch_event_unbind(&globals.reload_node);
	switch_console_set_complete("del memcache");
	handle_install(NULL);
	return (SWITCH_STATUS_SUCCESS);
}
