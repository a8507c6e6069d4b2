# Test helpers: private memcached servers on free loopback ports, and fsmc.
# shellcheck shell=bash

bats_require_minimum_version 1.5.0

FSMC_BIN=${FSMC_BIN:-$BATS_TEST_DIRNAME/../fsmemcache}
# shellcheck disable=SC2034 # used by the test files
SPLIT_WORDS=$BATS_TEST_DIRNAME/split-words

# Wait until a TCP port on 127.0.0.1 accepts connections, or until the
# process $2 has died; give up after 5 seconds.
wait_port() {
	local port=$1 pid=$2 deadline=$((SECONDS + 5))
	while [ "$SECONDS" -le "$deadline" ]; do
		kill -0 "$pid" 2>/dev/null || return 1
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# Start a memcached on a free loopback port; extra arguments go to
# memcached.  Sets MC_PORT and MC_PID and appends the PID to the file's
# list so that teardown stops every server a file started.
mc_spawn() {
	local try port pid args
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
		args=(-l 127.0.0.1 -p "$port" -U 0 "$@")
		# memcached refuses to run as root without -u
		if [ "$(id -u)" -eq 0 ]; then args+=(-u root); fi
		memcached "${args[@]}" >>"$BATS_FILE_TMPDIR/memcached.log" \
		    2>&1 3>&- &
		pid=$!
		if wait_port "$port" "$pid"; then
			MC_PORT=$port
			MC_PID=$pid
			echo "$pid" >>"$BATS_FILE_TMPDIR/memcached.pids"
			return 0
		fi
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		: "port $port busy after try $try"
	done
	echo "could not start memcached" >&2
	return 1
}

# Stop one server, wait until it is gone, and drop it from the list.
mc_kill() {
	local pid=$1 deadline=$((SECONDS + 5))
	sed -i "/^$pid\$/d" "$BATS_FILE_TMPDIR/memcached.pids"
	kill "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -le "$deadline" ]; do
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
}

# A free port: one that a server listened on and no longer does.
dead_port() {
	mc_spawn
	mc_kill "$MC_PID"
	echo "$MC_PORT"
}

# setup_file: one server for the whole file, and a configuration naming it.
mc_start() {
	mc_spawn "$@"
	FSMC_CFG=$BATS_FILE_TMPDIR/fsmemcache.cfg
	printf 'servers = ( { host = "127.0.0.1"; port = %d; } );\n' \
	    "$MC_PORT" >"$FSMC_CFG"
	export MC_PORT MC_PID FSMC_CFG
}

# teardown_file: stop every server the file started.
mc_stop() {
	local pid pids
	[ -f "$BATS_FILE_TMPDIR/memcached.pids" ] || return 0
	mapfile -t pids <"$BATS_FILE_TMPDIR/memcached.pids"
	for pid in "${pids[@]}"; do
		mc_kill "$pid"
	done
}

# Run fsmemcache against the file's server, without any other
# configuration from the environment leaking in.
fsmc() {
	# FSMC_WRAPPER is a command line, such as "valgrind -q": split it.
	# shellcheck disable=SC2086
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    ${FSMC_WRAPPER-} "$FSMC_BIN" -c "$FSMC_CFG" "$@"
}

# Talk the memcached text protocol to the file's server directly, to
# check what fsmemcache stored without going through it.  Prints the
# server's answer to one command line: up to "END" for get and stats,
# else its one reply line.  Line ends are shown as LF.
mc_raw() {
	local line first=1
	exec 4<>"/dev/tcp/127.0.0.1/$MC_PORT"
	printf '%s\r\n' "$1" >&4
	while IFS= read -r -t 5 line <&4; do
		line=${line%$'\r'}
		printf '%s\n' "$line"
		[ "$line" = END ] && break
		if [ "$first" = 1 ]; then
			case $line in
			VALUE* | STAT*) ;;
			*) break ;;
			esac
		fi
		first=0
	done
	exec 4>&-
}

# One statistic of the file's server, e.g. mc_stat cmd_set.
mc_stat() {
	mc_raw stats | sed -n "s/^STAT $1 //p"
}

# ASAN_OPTIONS for a run whose peak memory a test bounds: under
# AddressSanitizer (make check) freed memory waits in a quarantine of
# 256 MiB, which would count as the program's own.
measured_asan() {
	printf '%s' "${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
}

# Run a command with its standard output in $BATS_TEST_TMPDIR/stdout, so
# that trailing newlines can be compared; $output is then standard error.
to_file() {
	"$@" >"$BATS_TEST_TMPDIR/stdout"
}

# fsmc with its standard output kept by to_file.
fsmc_out() {
	to_file fsmc "$@"
}

# Whether the standard output that to_file kept is exactly $1.
stdout_is() {
	printf '%s' "$1" | cmp - "$BATS_TEST_TMPDIR/stdout"
}

# Whether the standard output that to_file kept is exactly the bytes
# printf %b makes of $1 (so '+OK\n' is +OK and a newline).
out_is() {
	printf '%b' "$1" | cmp - "$BATS_TEST_TMPDIR/stdout"
}

# The libmemcached version, from "fsmemcache 0.1.0 (libmemcached X)".
lib_version() {
	"$FSMC_BIN" -V |
	    sed -n 's/^fsmemcache [0-9.]* (libmemcached \([0-9][0-9.]*\))$/\1/p'
}

# The reply to a usage error, ending in a blank line.
# shellcheck disable=SC2034 # used by the test files
USAGE=$'-ERR
memcache <set|replace|add> <key> <value> [expiration [flags]]
memcache <get|getflags> <key>
memcache <delete> <key> [expiration]
memcache <increment|decrement> <key> [offset [expiration [flags]]]
memcache <flush> [delay]
memcache <status> [verbose]
memcache <append|prepend> <key> <value>
memcache <touch> <key> <expiration>
memcache <where> <key>
memcache <keys> [-l] [--big count] [pattern]
memcache <inspect|ttl> <key>
memcache <dump> [pattern]
memcache <restore>
memcache <health>
memcache <stats> [group]
memcache <slabs>
memcache <top>
memcache <latency>\n\n'

# A server of the test's own, with nothing in it, and a configuration
# naming it; extra arguments go to memcached.  Sets MC_PORT, MC_PID and
# FSMC_CFG.
own_server() {
	mc_spawn "$@"
	FSMC_CFG=$BATS_TEST_TMPDIR/own-$MC_PORT.cfg
	printf 'servers = "127.0.0.1:%d";\n' "$MC_PORT" >"$FSMC_CFG"
}

# A free port, as dead_port finds one, but without waiting the second
# memcached takes to shut down on SIGTERM.
free_port() {
	mc_spawn
	kill -KILL "$MC_PID"
	mc_kill "$MC_PID"
	echo "$MC_PORT"
}

# A configuration with a dead server first and the current server second.
# Sets DEAD_PORT and FSMC_CFG.
dead_first() {
	local live=$MC_PORT
	DEAD_PORT=$(free_port)
	MC_PORT=$live
	FSMC_CFG=$BATS_TEST_TMPDIR/dead-first.cfg
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d";\n' \
	    "$DEAD_PORT" "$MC_PORT" >"$FSMC_CFG"
}
