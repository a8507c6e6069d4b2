/* mod_memcache: FreeSWITCH's memcache API command and memcache:// files, run
 * by the fsmemcache core. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switch.h>

#include "fsmemcache.h"

SWITCH_MODULE_LOAD_FUNCTION(mod_memcache_load);
SWITCH_MODULE_SHUTDOWN_FUNCTION(mod_memcache_shutdown);
SWITCH_MODULE_DEFINITION(
    mod_memcache, mod_memcache_load, mod_memcache_shutdown, NULL);

/* The longest value a memcache:// file plays or records, by default. */
#define FILE_MAX_DEFAULT (16UL * 1024 * 1024)
/* The most file-max-bytes may be: the core's bound on any value. */
#define FILE_MAX_LIMIT (1024UL * 1024 * 1024)

/*
 * An open core handle and the number of its users: the module's current
 * configuration holds one reference, each running API call and each open
 * memcache:// file another.  A reload swaps in a new handle; the old one,
 * with the connections it keeps for calls, is closed by whoever drops its
 * last reference, so no call ever sees a handle freed under it.
 */
struct mc_handle {
	struct fsmc *fc;
	unsigned int refs;
	size_t file_max; /* file-max-bytes */
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
 * file-max-bytes: a decimal number of bytes from 1 to 1 GiB.  Anything
 * else is logged and leaves the default.
 */
static size_t
parse_file_max(const char *value)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(value, &end, 10);
	if (*value < '0' || *value > '9' || *end != '\0' || errno != 0 ||
	    n == 0 || n > FILE_MAX_LIMIT) {
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_WARNING,
		    "memcache.conf: file-max-bytes [%s] is not a number of "
		    "bytes from 1 to %lu; using %lu\n",
		    value, FILE_MAX_LIMIT, FILE_MAX_DEFAULT);
		return (FILE_MAX_DEFAULT);
	}
	return ((size_t)n);
}

/*
 * Parse a health parameter of memcache.conf into opts: thresholds as
 * fsmemcache's --warn and --crit take them, or the seconds between the
 * samples, as its -i.  Returns 0, or -1 after logging why not.
 */
static int
health_param(const char *name, const char *value, struct fsmc_options *opts,
    struct fsmc_health_limits *warn, struct fsmc_health_limits *crit)
{
	struct fsmc_health_limits *l;
	char why[256], *end = NULL;
	double seconds = 0;

	if (strcasecmp(name, "health-interval") == 0) {
		if ((*value >= '0' && *value <= '9') || *value == '.')
			seconds = strtod(value, &end);
		if (end == NULL || *end != '\0' || seconds <= 0 ||
		    seconds > 86400) {
			switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
			    "memcache.conf: %s: bad interval '%s' (seconds "
			    "above 0, at most 86400)\n",
			    name, value);
			return (-1);
		}
		opts->health_interval_ms = (int)(seconds * 1000 + 0.999);
		return (0);
	}
	l = strcasecmp(name, "health-warn") == 0 ? warn : crit;
	if (fsmc_health_limits_parse(value, l, why, sizeof why) != 0) {
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "memcache.conf: %s: %s\n", name, why);
		return (-1);
	}
	if (l == warn)
		opts->health_warn = warn;
	else
		opts->health_crit = crit;
	return (0);
}

/*
 * Read memcache.conf: "memcache-servers", the original module's list of
 * servers, "config-file", an fsmemcache configuration file shared with
 * the command line, "file-max-bytes", the bound on memcache:// files,
 * and the thresholds and interval of health.  When both servers and a
 * file are given the servers override the file's.  Returns a new
 * handle, or NULL after logging why there is none.
 */
static struct mc_handle *
load_config(void)
{
	switch_xml_t xml, cfg, settings, param;
	struct fsmc_options opts;
	struct fsmc_health_limits warn, crit;
	struct fsmc_result res;
	struct mc_handle *h;
	char *servers = NULL, *file = NULL, path[1024];
	const char *name, *value;
	size_t file_max = FILE_MAX_DEFAULT;
	int bad = 0;

	if ((xml = switch_xml_open_cfg("memcache.conf", &cfg, NULL)) == NULL) {
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "Open of memcache.conf failed\n");
		return (NULL);
	}
	memset(&opts, 0, sizeof opts);
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
			} else if (strcasecmp(name, "file-max-bytes") == 0)
				file_max = parse_file_max(value);
			else if (strcasecmp(name, "health-warn") == 0 ||
			    strcasecmp(name, "health-crit") == 0 ||
			    strcasecmp(name, "health-interval") == 0) {
				if (health_param(
					name, value, &opts, &warn, &crit) != 0)
					bad = 1;
			} else
				switch_log_printf(SWITCH_CHANNEL_LOG,
				    SWITCH_LOG_WARNING,
				    "memcache.conf: unknown parameter [%s]\n",
				    name);
		}
	}
	switch_xml_free(xml);
	if (bad) {
		free(servers);
		free(file);
		return (NULL);
	}

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
		h->file_max = file_max;
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

/* Whether an API line is the health command. */
static int
is_health(const char *cmd)
{
	char *copy, *words[FSMC_MAX_TOKENS];
	int yes;

	if (zstr(cmd) || (copy = strdup(cmd)) == NULL)
		return (0);
	yes = fsmc_split_line(copy, words, FSMC_MAX_TOKENS) > 0 &&
	    strcasecmp(words[0], "health") == 0;
	free(copy);
	return (yes);
}

SWITCH_STANDARD_API(memcache_function)
{
	struct mc_handle *h;
	struct fsmc_result res;

	(void)session;
	if ((h = handle_acquire()) == NULL) {
		/* health is a monitoring verdict even then: UNKNOWN. */
		if (is_health(cmd)) {
			memset(&res, 0, sizeof res);
			res.command = "health";
			res.reply = FSMC_REPLY_HEALTH;
			res.status = FSMC_ECONFIG;
			snprintf(res.msg, sizeof res.msg,
			    "no configuration loaded (see the log)");
			fsmc_render(&res, stream_write, stream);
		} else
			stream->write_function(
			    stream, "-ERR NO SERVERS DEFINED\n");
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

/*
 * memcache://KEY files: the key's value is raw 16-bit linear samples, at
 * the rate and in the channels the caller opens the file with.  Playing
 * reads the whole value when the file opens, refusing one longer than
 * file-max-bytes unread; recording stores an empty value (unless the
 * file is opened to append) and appends what each write brings, up to
 * file-max-bytes.  Each open file has a session of its own, on the
 * handle current when it opened, so files never share connections.
 */
struct mc_file {
	struct mc_handle *h;
	struct fsmc_session *s;
	char *key;
	char *data; /* playing: the value */
	size_t len; /* its length, or what a recording appended */
	size_t pos; /* playing: bytes played */
	size_t max;
	int failed; /* recording: a write failed, the rest is dropped */
};

/* Run "VERB KEY [value]" on the file's session. */
static enum fsmc_status
file_run(struct mc_file *f, const char *verb, const void *value, size_t len,
    struct fsmc_result *res)
{
	char word[16], *argv[2];

	snprintf(word, sizeof word, "%s", verb);
	argv[0] = word;
	argv[1] = f->key;
	return (fsmc_session_run(f->s, 2, argv, value, len, res));
}

/* Log why a command on the file failed, and forget it. */
static void
file_failed(const struct mc_file *f, struct fsmc_result *res)
{
	switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
	    "memcache://%s: %s\n", f->key, res->msg);
	fsmc_result_clear(res);
}

static void
file_free(struct mc_file *f)
{
	free(f->data);
	f->data = NULL;
	fsmc_session_close(f->s);
	f->s = NULL;
	handle_release(f->h);
	f->h = NULL;
}

/* The bytes of len samples in each of the handle's channels. */
static size_t
file_bytes(const switch_file_handle_t *handle, switch_size_t len)
{
	if (switch_test_flag(handle, SWITCH_FILE_NATIVE))
		return (len);
	return (len * 2 * (handle->channels > 0 ? handle->channels : 1));
}

static switch_status_t
memcache_file_open(switch_file_handle_t *handle, const char *path)
{
	struct fsmc_result res;
	struct mc_file *f;

	if (handle->offset_pos != 0) {
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "memcache://%s: an offset is not supported\n", path);
		return (SWITCH_STATUS_GENERR);
	}
	if (!switch_test_flag(handle, SWITCH_FILE_FLAG_READ) &&
	    (!switch_test_flag(handle, SWITCH_FILE_FLAG_WRITE) ||
		switch_test_flag(handle, SWITCH_FILE_WRITE_OVER))) {
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "memcache://%s: unsupported file mode\n", path);
		return (SWITCH_STATUS_GENERR);
	}
	if ((f = switch_core_alloc(handle->memory_pool, sizeof *f)) == NULL ||
	    (f->key = switch_core_strdup(handle->memory_pool, path)) == NULL)
		return (SWITCH_STATUS_MEMERR);
	if ((f->h = handle_acquire()) == NULL) {
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "memcache://%s: no servers defined\n", path);
		return (SWITCH_STATUS_GENERR);
	}
	f->max = f->h->file_max;
	if (fsmc_session_open(f->h->fc, 0, &f->s, &res) != FSMC_OK) {
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "memcache://%s: %s\n", path, res.msg);
		file_free(f);
		return (SWITCH_STATUS_GENERR);
	}
	if (switch_test_flag(handle, SWITCH_FILE_FLAG_READ)) {
		fsmc_session_set_value_max(f->s, f->max);
		if (file_run(f, "get", NULL, 0, &res) != FSMC_OK) {
			file_failed(f, &res);
			file_free(f);
			return (SWITCH_STATUS_FALSE);
		}
		f->data = res.value;
		f->len = res.valuelen;
		res.value = NULL;
		fsmc_result_clear(&res);
		/* The value is in memory: its connection is not needed. */
		fsmc_session_close(f->s);
		f->s = NULL;
		handle->samples =
		    (unsigned int)(f->len / file_bytes(handle, 1));
	} else if (!switch_test_flag(handle, SWITCH_FILE_WRITE_APPEND)) {
		if (file_run(f, "set", "", 0, &res) != FSMC_OK) {
			file_failed(f, &res);
			file_free(f);
			return (SWITCH_STATUS_GENERR);
		}
		fsmc_result_clear(&res);
	}
	handle->seekable = 0;
	handle->private_info = f;
	return (SWITCH_STATUS_SUCCESS);
}

static switch_status_t
memcache_file_close(switch_file_handle_t *handle)
{
	struct mc_file *f = handle->private_info;

	if (f != NULL)
		file_free(f);
	handle->private_info = NULL;
	return (SWITCH_STATUS_SUCCESS);
}

/* Up to *len samples from where playing stands; none left ends it. */
static switch_status_t
memcache_file_read(switch_file_handle_t *handle, void *data, switch_size_t *len)
{
	struct mc_file *f = handle->private_info;
	size_t each = file_bytes(handle, 1), n;

	n = (f->len - f->pos) / each;
	if (n == 0) {
		*len = 0;
		return (SWITCH_STATUS_FALSE);
	}
	if (n > *len)
		n = *len;
	memcpy(data, f->data + f->pos, n * each);
	f->pos += n * each;
	*len = n;
	return (SWITCH_STATUS_SUCCESS);
}

/*
 * Append the samples of one write, every byte of them.  A key that is
 * gone (or, when appending, not there yet) is started anew with add.
 */
static switch_status_t
memcache_file_write(
    switch_file_handle_t *handle, void *data, switch_size_t *len)
{
	struct mc_file *f = handle->private_info;
	size_t bytes = file_bytes(handle, *len);
	struct fsmc_result res;
	enum fsmc_status status;

	if (f->failed)
		return (SWITCH_STATUS_FALSE);
	if (bytes > f->max - f->len) {
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR,
		    "memcache://%s: the recording reached file-max-bytes "
		    "(%zu); the rest is not stored\n",
		    f->key, f->max);
		f->failed = 1;
		return (SWITCH_STATUS_FALSE);
	}
	status = file_run(f, "append", data, bytes, &res);
	if (status == FSMC_NOTSTORED) {
		fsmc_result_clear(&res);
		if ((status = file_run(f, "add", data, bytes, &res)) ==
		    FSMC_NOTSTORED) {
			fsmc_result_clear(&res);
			status = file_run(f, "append", data, bytes, &res);
		}
	}
	if (status != FSMC_OK) {
		file_failed(f, &res);
		f->failed = 1;
		return (SWITCH_STATUS_FALSE);
	}
	fsmc_result_clear(&res);
	f->len += bytes;
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

static char file_extension[] = "memcache";
static char *file_extensions[] = { file_extension, NULL };

SWITCH_MODULE_LOAD_FUNCTION(mod_memcache_load)
{
	switch_file_interface_t *file_interface;
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
	file_interface = switch_loadable_module_create_interface(
	    *module_interface, SWITCH_FILE_INTERFACE);
	file_interface->interface_name = modname;
	file_interface->extens = file_extensions;
	file_interface->file_open = memcache_file_open;
	file_interface->file_close = memcache_file_close;
	file_interface->file_read = memcache_file_read;
	file_interface->file_write = memcache_file_write;
	return (SWITCH_STATUS_SUCCESS);
}

SWITCH_MODULE_SHUTDOWN_FUNCTION(mod_memcache_shutdown)
{
	switch_event_unbind(&globals.reload_node);
	switch_console_set_complete("del memcache");
	handle_install(NULL);
	return (SWITCH_STATUS_SUCCESS);
}
