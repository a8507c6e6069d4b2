#!/usr/bin/env bats
# The configuration's settings against real servers: timeouts, namespace, binary protocol, SASL, unix sockets, profiles, MEMCACHED_SERVERS, -s and -t.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

BADKEY='-ERR A BAD KEY WAS PROVIDED/CHARACTERS OUT OF RANGE\n'
SECRET=s3cr3t-Pw-42

# Servers: the file's own (MC_PORT, the text and binary protocols), a
# second one for profiles (OTHER_PORT), one that speaks only the binary
# protocol (BINONLY_PORT), one that wants SASL (SASL_PORT), one on a
# unix socket (SOCK) and one stopped with SIGSTOP (FROZEN_PORT), which
# accepts connections but never answers.
setup_file() {
	local sasldir=$BATS_FILE_TMPDIR/sasl

	FSMC_VERSION=$("$FSMC_BIN" -V | sed -n 's/^fsmemcache \([0-9][0-9.]*\) .*/\1/p')
	[ -n "$FSMC_VERSION" ]
	mkdir "$sasldir"
	printf '%s' "$SECRET" |
	    saslpasswd2 -a memcached -c -p -f "$sasldir/sasldb" fs
	printf 'mech_list: plain\nsasldb_path: %s\n' "$sasldir/sasldb" \
	    >"$sasldir/memcached.conf"
	export SASL_CONF_PATH=$sasldir
	mc_spawn -S
	unset SASL_CONF_PATH
	SASL_PORT=$MC_PORT

	mc_spawn -B binary
	BINONLY_PORT=$MC_PORT

	mc_spawn
	OTHER_PORT=$MC_PORT

	mc_spawn
	FROZEN_PORT=$MC_PORT
	FROZEN_PID=$MC_PID
	kill -STOP "$FROZEN_PID"

	SOCK=$BATS_FILE_TMPDIR/mc.sock
	sock_spawn "$SOCK"

	DEAD_PORT=$(dead_port)

	mc_start
	export FSMC_VERSION SASL_PORT BINONLY_PORT OTHER_PORT FROZEN_PORT \
	    FROZEN_PID SOCK DEAD_PORT
}

# A stopped process acts on SIGTERM only once it is continued: continue
# the stopped server (and, harmlessly, every other server of the file)
# before stopping them all.
teardown_file() {
	local pid
	if [ -f "$BATS_FILE_TMPDIR/memcached.pids" ]; then
		while read -r pid; do
			kill -CONT "$pid" 2>/dev/null || true
		done <"$BATS_FILE_TMPDIR/memcached.pids"
	fi
	mc_stop
}

# Start a memcached on the unix socket $1 and wait until it answers.
sock_spawn() {
	local sock=$1 pid args deadline=$((SECONDS + 5))
	args=(-s "$sock" -a 600)
	if [ "$(id -u)" -eq 0 ]; then args+=(-u root); fi
	memcached "${args[@]}" >>"$BATS_FILE_TMPDIR/memcached.log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >>"$BATS_FILE_TMPDIR/memcached.pids"
	while [ "$SECONDS" -le "$deadline" ]; do
		kill -0 "$pid" 2>/dev/null || break
		if [ -S "$sock" ] &&
		    bare "$FSMC_BIN" -s "$sock" status verbose >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	echo "could not start memcached on $sock" >&2
	return 1
}

# Run a command with no configuration from the environment but what the
# test gives as NAME=VALUE arguments.
bare() {
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS -u FSMEMCACHE_PASSWORD \
	    -u XDG_CONFIG_HOME HOME="${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}/home" "$@"
}

# fsmemcache with the configuration file $1.
fsmc_cfg() {
	local cfg=$1
	shift
	bare "$FSMC_BIN" -c "$cfg" "$@"
}

# Write the lines given after the file name to the file, mode 600.
write_cfg() {
	local file=$1
	shift
	printf '%s\n' "$@" >"$file"
	chmod 600 "$file"
}

# mc_raw against the server on port $1.
raw_at() {
	local MC_PORT=$1
	mc_raw "$2"
}

# Milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# What -n prints after its comment line for the settings that are not
# given as arguments: servers (a string of the lines inside "servers =
# ( ... );"), namespace, protocol, and the rest at their defaults.
settings() {
	local servers=$1 ns=$2 proto=$3
	printf 'servers = (\n%s );\nnamespace = "%s";\nprotocol = "%s";\n' \
	    "$servers" "$ns" "$proto"
	printf 'distribution = "modula";\nhash = "default";\n'
	printf 'timeouts = { connect_ms = 1000; io_ms = 1000; retry_s = 5; };\n'
	printf 'failover = { remove_failed_servers = false; failure_limit = 2; };\n'
	printf 'tcp_nodelay = false;\n'
}

# Timeouts.

@test "timeouts of 300 ms: get from a stopped server times out after about 300 ms, exit 69" {
	local cfg=$BATS_TEST_TMPDIR/t300.cfg k=k$BATS_TEST_NUMBER t0 ms
	write_cfg "$cfg" "servers = \"127.0.0.1:$FROZEN_PORT\";" \
	    'timeouts = { connect_ms = 300; io_ms = 300; };'
	t0=$(now_ms)
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	ms=$(($(now_ms) - t0))
	out_is '-ERR A TIMEOUT OCCURRED\n'
	[ "$stderr" = "fsmemcache: get $k: timed out (127.0.0.1:$FROZEN_PORT)" ]
	[ "$ms" -ge 250 ]
	[ "$ms" -lt 1500 ]
}

@test "timeouts of 300 ms: set to a stopped server times out too, exit 69" {
	local cfg=$BATS_TEST_TMPDIR/t300.cfg k=k$BATS_TEST_NUMBER t0 ms
	write_cfg "$cfg" "servers = \"127.0.0.1:$FROZEN_PORT\";" \
	    'timeouts = { connect_ms = 300; io_ms = 300; };'
	t0=$(now_ms)
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" v
	ms=$(($(now_ms) - t0))
	out_is '-ERR A TIMEOUT OCCURRED\n'
	[ "$stderr" = "fsmemcache: set $k: timed out (127.0.0.1:$FROZEN_PORT)" ]
	[ "$ms" -ge 250 ]
	[ "$ms" -lt 1500 ]
}

@test "the default timeouts: get from a stopped server takes about one second, exit 69" {
	local cfg=$BATS_TEST_TMPDIR/default.cfg k=k$BATS_TEST_NUMBER t0 ms
	write_cfg "$cfg" "servers = \"127.0.0.1:$FROZEN_PORT\";"
	t0=$(now_ms)
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	ms=$(($(now_ms) - t0))
	out_is '-ERR A TIMEOUT OCCURRED\n'
	[ "$stderr" = "fsmemcache: get $k: timed out (127.0.0.1:$FROZEN_PORT)" ]
	[ "$ms" -ge 900 ]
	[ "$ms" -lt 2500 ]
}

@test "-t 200 overrides the file's timeouts of 5000 ms" {
	local cfg=$BATS_TEST_TMPDIR/t5000.cfg k=k$BATS_TEST_NUMBER t0 ms
	write_cfg "$cfg" "servers = \"127.0.0.1:$FROZEN_PORT\";" \
	    'timeouts = { connect_ms = 5000; io_ms = 5000; };'
	t0=$(now_ms)
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" -t 200 get "$k"
	ms=$(($(now_ms) - t0))
	out_is '-ERR A TIMEOUT OCCURRED\n'
	[ "$stderr" = "fsmemcache: get $k: timed out (127.0.0.1:$FROZEN_PORT)" ]
	[ "$ms" -ge 150 ]
	[ "$ms" -lt 1500 ]
	run -0 --separate-stderr fsmc_cfg "$cfg" -t 200 -n
	[ "$stderr" = "" ]
	[ "${lines[7]}" = "timeouts = { connect_ms = 200; io_ms = 200; retry_s = 5; };" ]
}

@test "status verbose against a stopped server: its error, exit 69, within the timeout" {
	local cfg=$BATS_TEST_TMPDIR/t300.cfg t0 ms v
	v=$(lib_version)
	[ -n "$v" ]
	write_cfg "$cfg" "servers = \"127.0.0.1:$FROZEN_PORT\";" \
	    'timeouts = { connect_ms = 300; io_ms = 300; };'
	t0=$(now_ms)
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" status verbose
	ms=$(($(now_ms) - t0))
	out_is "Lib version: $v\nServers: 1\n  127.0.0.1 ($FROZEN_PORT)\n    error: A TIMEOUT OCCURRED\n"
	[ "$stderr" = "fsmemcache: status: timed out (127.0.0.1:$FROZEN_PORT)" ]
	[ "$ms" -ge 250 ]
	[ "$ms" -lt 1500 ]
}

# The namespace.

@test "namespace: set test stores the key freeswitch:test" {
	local cfg=$BATS_TEST_TMPDIR/ns.cfg
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'namespace = "freeswitch:";'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set test 'This is a test'
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get freeswitch:test"
	[ "$output" = $'VALUE freeswitch:test 0 14\nThis is a test\nEND' ]
	run -0 mc_raw "get test"
	[ "$output" = "END" ]
}

@test "namespace: get and getflags read the prefixed key" {
	local cfg=$BATS_TEST_TMPDIR/ns.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'namespace = "freeswitch:";'
	run -0 mc_raw "$(printf 'set freeswitch:%s 31 0 5\r\nhello' "$k")"
	[ "$output" = "STORED" ]
	run -0 mc_raw "$(printf 'set %s 0 0 5\r\nplain' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'hello'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" getflags "$k"
	out_is '1f'
	[ "$stderr" = "" ]
}

@test "namespace: delete removes the prefixed key only" {
	local cfg=$BATS_TEST_TMPDIR/ns.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'namespace = "freeswitch:";'
	run -0 mc_raw "$(printf 'set freeswitch:%s 0 0 1\r\nx' "$k")"
	[ "$output" = "STORED" ]
	run -0 mc_raw "$(printf 'set %s 0 0 5\r\nplain' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" delete "$k"
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get freeswitch:$k"
	[ "$output" = "END" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 5\nplain\nEND' "$k")" ]
}

@test "namespace: increment and decrement change the prefixed counter" {
	local cfg=$BATS_TEST_TMPDIR/ns.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'namespace = "freeswitch:";'
	run -0 mc_raw "$(printf 'set freeswitch:%s 0 0 2\r\n10' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" increment "$k" 5
	out_is '15'
	[ "$stderr" = "" ]
	run -0 mc_raw "get freeswitch:$k"
	[ "$output" = "$(printf 'VALUE freeswitch:%s 0 2\n15\nEND' "$k")" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" decrement "$k" 3
	out_is '12'
	[ "$stderr" = "" ]
	run -0 mc_raw "get freeswitch:$k"
	[ "$output" = "$(printf 'VALUE freeswitch:%s 0 2\n12\nEND' "$k")" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "namespace: add and replace act on the prefixed key" {
	local cfg=$BATS_TEST_TMPDIR/ns.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'namespace = "freeswitch:";'
	run -0 mc_raw "$(printf 'set %s 0 0 5\r\nplain' "$k")"
	[ "$output" = "STORED" ]
	run -2 --separate-stderr to_file fsmc_cfg "$cfg" replace "$k" new
	out_is '-ERR NOT STORED\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" add "$k" first
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get freeswitch:$k"
	[ "$output" = "$(printf 'VALUE freeswitch:%s 0 5\nfirst\nEND' "$k")" ]
	run -2 --separate-stderr to_file fsmc_cfg "$cfg" add "$k" again
	out_is '-ERR NOT STORED\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" replace "$k" second
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get freeswitch:$k"
	[ "$output" = "$(printf 'VALUE freeswitch:%s 0 6\nsecond\nEND' "$k")" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 5\nplain\nEND' "$k")" ]
}

@test "--namespace overrides the file's namespace" {
	local cfg=$BATS_TEST_TMPDIR/ns.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'namespace = "freeswitch:";'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" --namespace other: set "$k" v
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get other:$k"
	[ "$output" = "$(printf 'VALUE other:%s 0 1\nv\nEND' "$k")" ]
	run -0 mc_raw "get freeswitch:$k"
	[ "$output" = "END" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" --namespace other: get "$k"
	out_is 'v'
	[ "$stderr" = "" ]
	run -1 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "" ]
}

@test "namespace of 10 bytes: a key of 241 bytes is refused, 240 bytes is stored" {
	local cfg=$BATS_TEST_TMPDIR/ns10.cfg key241 key240 sets
	key241=$(printf 'a%.0s' {1..241})
	key240=${key241:1}
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'namespace = "0123456789";'
	sets=$(mc_stat cmd_set)
	run -65 --separate-stderr to_file fsmc_cfg "$cfg" set "$key241" v
	out_is "$BADKEY"
	[ "$stderr" = "fsmemcache: set: bad key '${key241:0:87}...': longer than 250 bytes with the namespace" ]
	[ "$(mc_stat cmd_set)" = "$sets" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$key240" v240
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get 0123456789$key240"
	[ "$output" = "$(printf 'VALUE 0123456789%s 0 4\nv240\nEND' "$key240")" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$key240"
	out_is 'v240'
	[ "$stderr" = "" ]
}

# The binary protocol.  Replies are those of the text protocol.

@test "protocol = \"binary\" and --binary really speak the binary protocol" {
	local cfg=$BATS_TEST_TMPDIR/binonly.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$BINONLY_PORT\";" 'protocol = "binary";'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" v
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file bare "$FSMC_BIN" -s "127.0.0.1:$BINONLY_PORT" --binary get "$k"
	out_is 'v'
	[ "$stderr" = "" ]
	# The server does not understand the text protocol: it waits for
	# the rest of a binary header.
	run -69 --separate-stderr to_file bare "$FSMC_BIN" -s "127.0.0.1:$BINONLY_PORT" -t 300 get "$k"
	out_is '-ERR A TIMEOUT OCCURRED\n'
	[ "$stderr" = "fsmemcache: get $k: timed out (127.0.0.1:$BINONLY_PORT)" ]
}

@test "binary protocol: set, get and getflags" {
	local cfg=$BATS_TEST_TMPDIR/bin.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'protocol = "binary";'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" hello 0 1f
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 31 5\nhello\nEND' "$k")" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'hello'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" getflags "$k"
	out_is '1f'
	[ "$stderr" = "" ]
	run -1 --separate-stderr to_file fsmc_cfg "$cfg" get "$k-missing"
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "" ]
}

@test "binary protocol: add on a missing key stores it, on an existing key -ERR NOT STORED, exit 2" {
	local cfg=$BATS_TEST_TMPDIR/bin.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'protocol = "binary";'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" add "$k" first
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -2 --separate-stderr to_file fsmc_cfg "$cfg" add "$k" second
	out_is '-ERR NOT STORED\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 5\nfirst\nEND' "$k")" ]
}

@test "binary protocol: replace on a missing key -ERR NOT STORED, exit 2, as with text" {
	local cfg=$BATS_TEST_TMPDIR/bin.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'protocol = "binary";'
	run -2 --separate-stderr to_file fsmc_cfg "$cfg" replace "$k" new
	out_is '-ERR NOT STORED\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "binary protocol: increment, decrement and delete" {
	local cfg=$BATS_TEST_TMPDIR/bin.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'protocol = "binary";'
	run -0 mc_raw "$(printf 'set %s 0 0 2\r\n10' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" increment "$k" 5
	out_is '15'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" decrement "$k" 20
	out_is '0'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" increment "$k-new" 7
	out_is '7'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" delete "$k"
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
	run -1 --separate-stderr to_file fsmc_cfg "$cfg" delete "$k"
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "" ]
}

@test "binary protocol: increment of a value that is not a number: -ERR CLIENT ERROR, exit 65, as with text" {
	local k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 3\r\nabc' "$k")"
	[ "$output" = "STORED" ]
	run -65 --separate-stderr to_file fsmc --binary increment "$k"
	out_is '-ERR CLIENT ERROR\n'
	[ "$stderr" = "fsmemcache: increment $k: value is not a number (127.0.0.1:$MC_PORT)" ]
	run -65 --separate-stderr to_file fsmc increment "$k"
	out_is '-ERR CLIENT ERROR\n'
	[ "$stderr" = "fsmemcache: increment $k: value is not a number (127.0.0.1:$MC_PORT)" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 3\nabc\nEND' "$k")" ]
}

# SASL against memcached -S.

@test "sasl: the right password in password_file: set and get work" {
	local cfg=$BATS_TEST_TMPDIR/sasl.cfg pw=$BATS_TEST_TMPDIR/password k=k$BATS_TEST_NUMBER
	printf '%s\n' "$SECRET" >"$pw"
	chmod 600 "$pw"
	write_cfg "$cfg" "servers = \"127.0.0.1:$SASL_PORT\";" \
	    "sasl = { username = \"fs\"; password_file = \"$pw\"; };"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" hello
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'hello'
	[ "$stderr" = "" ]
}

@test "sasl: a password_file that others can read works, with a warning" {
	local cfg=$BATS_TEST_TMPDIR/sasl.cfg pw=$BATS_TEST_TMPDIR/password k=k$BATS_TEST_NUMBER
	printf '%s\n' "$SECRET" >"$pw"
	chmod 644 "$pw"
	write_cfg "$cfg" "servers = \"127.0.0.1:$SASL_PORT\";" \
	    "sasl = { username = \"fs\"; password_file = \"$pw\"; };"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" hello
	out_is '+OK\n'
	[ "$stderr" = "fsmemcache: warning: $pw holds a password and can be read by group or others (chmod 600)" ]
}

@test "sasl: a wrong password: -ERR AUTHENTICATION FAILURE, exit 77, one line naming the server" {
	local cfg=$BATS_TEST_TMPDIR/sasl.cfg pw=$BATS_TEST_TMPDIR/password k=k$BATS_TEST_NUMBER
	printf 'wrong\n' >"$pw"
	chmod 600 "$pw"
	write_cfg "$cfg" "servers = \"127.0.0.1:$SASL_PORT\";" \
	    "sasl = { username = \"fs\"; password_file = \"$pw\"; };"
	run -77 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is '-ERR AUTHENTICATION FAILURE\n'
	[ "$stderr" = "fsmemcache: get $k: authentication failure (127.0.0.1:$SASL_PORT)" ]
	run -77 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" v
	out_is '-ERR AUTHENTICATION FAILURE\n'
	[ "$stderr" = "fsmemcache: set $k: authentication failure (127.0.0.1:$SASL_PORT)" ]
}

@test "sasl: the password from FSMEMCACHE_PASSWORD when the file gives only the username" {
	local cfg=$BATS_TEST_TMPDIR/sasl.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$SASL_PORT\";" 'sasl = { username = "fs"; };'
	run -0 --separate-stderr to_file bare FSMEMCACHE_PASSWORD="$SECRET" \
	    "$FSMC_BIN" -c "$cfg" set "$k" fromenv
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file bare FSMEMCACHE_PASSWORD="$SECRET" \
	    "$FSMC_BIN" -c "$cfg" get "$k"
	out_is 'fromenv'
	[ "$stderr" = "" ]
	run -77 --separate-stderr to_file bare FSMEMCACHE_PASSWORD=wrong \
	    "$FSMC_BIN" -c "$cfg" get "$k"
	out_is '-ERR AUTHENTICATION FAILURE\n'
	[ "$stderr" = "fsmemcache: get $k: authentication failure (127.0.0.1:$SASL_PORT)" ]
	run -78 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is ''
	[ "$stderr" = "fsmemcache: $cfg: sasl: no password for 'fs' (password, password_file or FSMEMCACHE_PASSWORD)" ]
}

@test "sasl: a password in a file that others can read works, with a warning" {
	local cfg=$BATS_TEST_TMPDIR/sasl.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$SASL_PORT\";" \
	    "sasl = { username = \"fs\"; password = \"$SECRET\"; };"
	chmod 644 "$cfg"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" v644
	out_is '+OK\n'
	[ "$stderr" = "fsmemcache: warning: $cfg holds a password and can be read by group or others (chmod 600)" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'v644'
	[ "$stderr" = "fsmemcache: warning: $cfg holds a password and can be read by group or others (chmod 600)" ]
}

@test "sasl: a password in a file of mode 600 works without a warning" {
	local cfg=$BATS_TEST_TMPDIR/sasl.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$SASL_PORT\";" \
	    "sasl = { username = \"fs\"; password = \"$SECRET\"; };"
	[ "$(stat -c %a "$cfg")" = 600 ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" v600
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'v600'
	[ "$stderr" = "" ]
}

@test "sasl: a password in an @included file is read next to the configuration, not in the current directory" {
	local dir=$BATS_TEST_TMPDIR k=k$BATS_TEST_NUMBER
	mkdir "$dir/etc" "$dir/cwd"
	write_cfg "$dir/etc/fsmemcache.cfg" "servers = \"127.0.0.1:$SASL_PORT\";" \
	    '@include "secret.inc"'
	write_cfg "$dir/etc/secret.inc" "sasl = { username = \"fs\"; password = \"$SECRET\"; };"
	write_cfg "$dir/cwd/secret.inc" 'sasl = { username = "fs"; password = "wrong"; };'
	cd "$dir/cwd"
	run -0 --separate-stderr to_file fsmc_cfg "$dir/etc/fsmemcache.cfg" set "$k" included
	out_is '+OK\n'
	[ "$stderr" = "" ]
	# Group or others can read the included file: it is named.
	chmod 644 "$dir/etc/secret.inc"
	run -0 --separate-stderr to_file fsmc_cfg "$dir/etc/fsmemcache.cfg" get "$k"
	out_is 'included'
	[ "$stderr" = "fsmemcache: warning: $dir/etc/secret.inc holds a password and can be read by group or others (chmod 600)" ]
}

@test "sasl: a relative password_file is read next to the configuration: set and get work" {
	local dir=$BATS_TEST_TMPDIR k=k$BATS_TEST_NUMBER
	mkdir "$dir/etc" "$dir/cwd"
	write_cfg "$dir/etc/fsmemcache.cfg" "servers = \"127.0.0.1:$SASL_PORT\";" \
	    'sasl = { username = "fs"; password_file = "secret"; };'
	printf '%s\n' "$SECRET" >"$dir/etc/secret"
	chmod 600 "$dir/etc/secret"
	printf 'wrong\n' >"$dir/cwd/secret"
	cd "$dir/cwd"
	run -0 --separate-stderr to_file fsmc_cfg "$dir/etc/fsmemcache.cfg" set "$k" beside
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$dir/etc/fsmemcache.cfg" get "$k"
	out_is 'beside'
	[ "$stderr" = "" ]
}

@test "sasl: a password only in a profile warns on every run, whichever profile is used" {
	local cfg=$BATS_TEST_TMPDIR/sasl.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'profiles = {' \
	    "  secure = { servers = \"127.0.0.1:$SASL_PORT\";" \
	    "    sasl = { username = \"fs\"; password = \"$SECRET\"; }; };" '};'
	chmod 644 "$cfg"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" plain
	out_is '+OK\n'
	[ "$stderr" = "fsmemcache: warning: $cfg holds a password and can be read by group or others (chmod 600)" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" -p secure set "$k" secure
	out_is '+OK\n'
	[ "$stderr" = "fsmemcache: warning: $cfg holds a password and can be read by group or others (chmod 600)" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 5\nplain\nEND' "$k")" ]
}

@test "sasl: -n masks the password and never prints it" {
	local cfg=$BATS_TEST_TMPDIR/sasl.cfg pw=$BATS_TEST_TMPDIR/password
	write_cfg "$cfg" "servers = \"127.0.0.1:$SASL_PORT\";" \
	    "sasl = { username = \"fs\"; password = \"$SECRET\"; };"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" -n
	stdout_is "# fsmemcache $FSMC_VERSION: settings in effect: from $cfg
$(settings "    { host = \"127.0.0.1\"; port = $SASL_PORT; weight = 1; }" "" binary)
sasl = { username = \"fs\"; password = \"********\"; };
"
	[ "$stderr" = "" ]
	run -1 grep -F "$SECRET" "$BATS_TEST_TMPDIR/stdout"
	# The same from a password file, and from a file others can read.
	printf '%s\n' "$SECRET" >"$pw"
	chmod 600 "$pw"
	write_cfg "$cfg" "servers = \"127.0.0.1:$SASL_PORT\";" \
	    "sasl = { username = \"fs\"; password_file = \"$pw\"; };"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" -n
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/stdout")" = 'sasl = { username = "fs"; password = "********"; };' ]
	[ "$stderr" = "" ]
	run -1 grep -F "$SECRET" "$BATS_TEST_TMPDIR/stdout"
	write_cfg "$cfg" "servers = \"127.0.0.1:$SASL_PORT\";" \
	    "sasl = { username = \"fs\"; password = \"$SECRET\"; };"
	chmod 644 "$cfg"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" -n
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/stdout")" = 'sasl = { username = "fs"; password = "********"; };' ]
	[ "$stderr" = "fsmemcache: warning: $cfg holds a password and can be read by group or others (chmod 600)" ]
	run -1 grep -F "$SECRET" "$BATS_TEST_TMPDIR/stdout"
}

@test "sasl without a protocol setting switches to the binary protocol" {
	local cfg=$BATS_TEST_TMPDIR/sasl.cfg
	write_cfg "$cfg" "servers = \"127.0.0.1:$SASL_PORT\";" 'sasl = { username = "fs"; };'
	run -0 --separate-stderr bare FSMEMCACHE_PASSWORD="$SECRET" "$FSMC_BIN" -c "$cfg" -n
	[ "$stderr" = "" ]
	[ "${lines[4]}" = 'protocol = "binary";' ]
	[ "${lines[10]}" = 'sasl = { username = "fs"; password = "********"; };' ]
	[ "${#lines[@]}" -eq 11 ]
}

# A unix socket.

@test "unix socket as a list entry: set and get work, status shows the path" {
	local cfg=$BATS_TEST_TMPDIR/sock.cfg k=k$BATS_TEST_NUMBER v
	v=$(lib_version)
	[ -n "$v" ]
	write_cfg "$cfg" "servers = ( { socket = \"$SOCK\"; } );"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" oversocket
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'oversocket'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" status
	out_is "Lib version: $v\nServers: 1\n  $SOCK (0)\n"
	[ "$stderr" = "" ]
	# Not stored on the TCP server.
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "unix socket as a servers string: set and get work, status shows the path" {
	local cfg=$BATS_TEST_TMPDIR/sock.cfg k=k$BATS_TEST_NUMBER v
	v=$(lib_version)
	[ -n "$v" ]
	write_cfg "$cfg" "servers = \"$SOCK\";"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" viastring
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'viastring'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" status
	out_is "Lib version: $v\nServers: 1\n  $SOCK (0)\n"
	[ "$stderr" = "" ]
	# The list form reaches the same server.
	write_cfg "$cfg" "servers = ( { socket = \"$SOCK\"; } );"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'viastring'
	[ "$stderr" = "" ]
}

# Profiles.

@test "-p other uses the profile's servers and inherits the namespace" {
	local cfg=$BATS_TEST_TMPDIR/profiles.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" 'namespace = "a:";' \
	    "profiles = { other = { servers = \"127.0.0.1:$OTHER_PORT\"; }; };"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" -p other set "$k" onB
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 raw_at "$OTHER_PORT" "get a:$k"
	[ "$output" = "$(printf 'VALUE a:%s 0 3\nonB\nEND' "$k")" ]
	run -0 mc_raw "get a:$k"
	[ "$output" = "END" ]
	# Without -p, the top level's server.
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" onA
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get a:$k"
	[ "$output" = "$(printf 'VALUE a:%s 0 3\nonA\nEND' "$k")" ]
	run -0 raw_at "$OTHER_PORT" "get a:$k"
	[ "$output" = "$(printf 'VALUE a:%s 0 3\nonB\nEND' "$k")" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" -p other get "$k"
	out_is 'onB'
	[ "$stderr" = "" ]
}

@test "-p with a profile the file does not have: exit 78" {
	local cfg=$BATS_TEST_TMPDIR/profiles.cfg
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";" \
	    "profiles = { other = { servers = \"127.0.0.1:$OTHER_PORT\"; }; };"
	run -78 --separate-stderr to_file fsmc_cfg "$cfg" -p nosuch get k
	out_is ''
	[ "$stderr" = "fsmemcache: $cfg: no profile 'nosuch'" ]
}

# MEMCACHED_SERVERS, -s and -t.

@test "MEMCACHED_SERVERS is honoured when no file is found" {
	local k=k$BATS_TEST_NUMBER
	[ ! -e /usr/local/etc/fsmemcache.cfg ]
	mkdir "$BATS_TEST_TMPDIR/home" "$BATS_TEST_TMPDIR/xdg"
	run -0 --separate-stderr to_file bare XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/xdg" \
	    MEMCACHED_SERVERS="127.0.0.1:$MC_PORT, 127.0.0.1:$OTHER_PORT" "$FSMC_BIN" -n
	stdout_is "# fsmemcache $FSMC_VERSION: settings in effect: no configuration file, servers from MEMCACHED_SERVERS
$(settings "    { host = \"127.0.0.1\"; port = $MC_PORT; weight = 1; },
    { host = \"127.0.0.1\"; port = $OTHER_PORT; weight = 1; }" "" ascii)
"
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file bare XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/xdg" \
	    MEMCACHED_SERVERS="127.0.0.1:$MC_PORT" "$FSMC_BIN" set "$k" fromenv
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 7\nfromenv\nEND' "$k")" ]
}

@test "-s overrides the file's servers" {
	local cfg=$BATS_TEST_TMPDIR/dead.cfg k=k$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$DEAD_PORT\";" 'namespace = "s:";'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" -s "127.0.0.1:$MC_PORT" set "$k" v
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get s:$k"
	[ "$output" = "$(printf 'VALUE s:%s 0 1\nv\nEND' "$k")" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" -s "127.0.0.1:$MC_PORT" -n
	stdout_is "# fsmemcache $FSMC_VERSION: settings in effect: from $cfg, servers from -s
$(settings "    { host = \"127.0.0.1\"; port = $MC_PORT; weight = 1; }" "s:" ascii)
"
	[ "$stderr" = "" ]
	# Without -s, the file's dead server.
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" w
	out_is '-ERR CONNECTION FAILURE\n'
	[ "$stderr" = "fsmemcache: set $k: connection refused (127.0.0.1:$DEAD_PORT)" ]
}

@test "a bad -s value exits 64" {
	run -64 --separate-stderr to_file fsmc -s host:abc get k
	out_is ''
	[ "$stderr" = "fsmemcache: -s: servers: bad port 'abc' in 'host:abc' (1 to 65535)" ]
}

@test "-t 0 and -t abc exit 64" {
	local t
	for t in 0 abc 3600001; do
		run -64 --separate-stderr to_file fsmc -t "$t" get k
		out_is ''
		[ "$stderr" = "fsmemcache: -t: bad timeout '$t' (milliseconds from 1 to 3600000)" ]
	done
}
