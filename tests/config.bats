#!/usr/bin/env bats
# Where the servers come from: the configuration file and its errors, the environment, -s and the default.
# shellcheck disable=SC2154 # run --separate-stderr sets $stderr

load helper

# Most tests use status, which lists the configured servers without
# connecting to them.  Tests that need a live server start their own.
setup_file() {
	LIBVERSION=$("$FSMC_BIN" -V | sed -n 's/.*(libmemcached \(.*\))$/\1/p')
	export LIBVERSION
}
teardown_file() { mc_stop; }

# Run a command with no configuration from the environment but what the
# test gives as NAME=VALUE arguments: no FSMEMCACHE_CONFIG,
# MEMCACHED_SERVERS or XDG_CONFIG_HOME, and HOME a directory with no
# configuration in it.
bare() {
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS -u XDG_CONFIG_HOME \
	    HOME="$BATS_TEST_TMPDIR/home" "$@"
}

# Write the lines given after the file name to the file.
write_cfg() {
	local file=$1
	shift
	mkdir -p "$(dirname "$file")"
	printf '%s\n' "$@" >"$file"
}

# What status prints for the servers given as "HOST (PORT)" arguments.
listing() {
	printf 'Lib version: %s\nServers: %d\n' "$LIBVERSION" "$#"
	printf '  %s\n' "$@"
}

# Configuration files that cannot be used.

@test "a configuration file that does not exist" {
	local cfg=$BATS_TEST_TMPDIR/missing.cfg
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg: No such file or directory" ]
}

@test "a directory as configuration file" {
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$BATS_TEST_TMPDIR" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $BATS_TEST_TMPDIR: Is a directory" ]
}

@test "a syntax error names the file and the line" {
	local cfg=$BATS_TEST_TMPDIR/syntax.cfg
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' '' 'foo bar'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:3: syntax error" ]
}

@test "an unknown setting" {
	local cfg=$BATS_TEST_TMPDIR/unknown.cfg
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' 'foo = 1;'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:2: foo: unknown setting" ]
}

@test "servers that is neither a string nor a list" {
	local cfg=$BATS_TEST_TMPDIR/number.cfg
	write_cfg "$cfg" '' 'servers = 5;'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:2: servers: must be a string \"host:port, ...\" or a list ( { host = \"...\"; port = N; }, ... )" ]
}

@test "an empty list of servers" {
	local cfg=$BATS_TEST_TMPDIR/empty-list.cfg
	write_cfg "$cfg" 'servers = ();'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:1: servers: empty list" ]
}

@test "a server with neither host nor socket" {
	local cfg=$BATS_TEST_TMPDIR/neither.cfg
	write_cfg "$cfg" 'servers = (' '  { host = "127.0.0.1"; },' '  { port = 5; }' ');'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:3: servers: a server needs either host or socket" ]
}

@test "a server with both host and socket" {
	local cfg=$BATS_TEST_TMPDIR/both.cfg
	write_cfg "$cfg" 'servers = (' '  { host = "127.0.0.1";' '    socket = "/tmp/m.sock"; }' ');'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:2: servers: a server needs either host or socket" ]
}

@test "a server with an unknown member" {
	local cfg=$BATS_TEST_TMPDIR/member.cfg
	write_cfg "$cfg" 'servers = (' '  { host = "127.0.0.1";' '    bar = 1; }' ');'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:3: servers.bar: unknown setting" ]
}

@test "a port of 0, 70000 or a string" {
	local cfg=$BATS_TEST_TMPDIR/port.cfg port
	for port in 0 70000; do
		write_cfg "$cfg" 'servers = (' '  { host = "127.0.0.1";' "    port = $port; }" ');'
		run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
		[ "$output" = "" ]
		[ "$stderr" = "fsmemcache: $cfg:3: servers.port: $port is out of range (1 to 65535)" ]
	done
	write_cfg "$cfg" 'servers = (' '  { host = "127.0.0.1";' '    port = "11211"; }' ');'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:3: servers.port: must be a whole number from 1 to 65535" ]
}

@test "a file without a servers setting" {
	local cfg=$BATS_TEST_TMPDIR/no-servers.cfg
	write_cfg "$cfg" '# no servers here'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg: no servers configured" ]
}

# Which file is read.

@test "\$FSMEMCACHE_CONFIG names the file when there is no -c" {
	local cfg=$BATS_TEST_TMPDIR/env.cfg
	write_cfg "$cfg" 'servers = "127.0.0.1:5";'
	run -0 --separate-stderr bare FSMEMCACHE_CONFIG="$cfg" "$FSMC_BIN" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 (5)")" ]
}

@test "-c wins over \$FSMEMCACHE_CONFIG, which is then not read" {
	local cfg=$BATS_TEST_TMPDIR/given.cfg
	write_cfg "$cfg" 'servers = "127.0.0.1:6";'
	run -0 --separate-stderr bare FSMEMCACHE_CONFIG="$BATS_TEST_TMPDIR/missing.cfg" \
	    "$FSMC_BIN" -c "$cfg" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 (6)")" ]
}

@test "a missing file named by \$FSMEMCACHE_CONFIG is an error" {
	local cfg=$BATS_TEST_TMPDIR/missing.cfg
	run -78 --separate-stderr bare FSMEMCACHE_CONFIG="$cfg" "$FSMC_BIN" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg: No such file or directory" ]
}

@test "\$FSMEMCACHE_CONFIG wins over the user's file" {
	local cfg=$BATS_TEST_TMPDIR/env.cfg
	write_cfg "$cfg" 'servers = "127.0.0.1:5";'
	write_cfg "$BATS_TEST_TMPDIR/home/.config/fsmemcache/fsmemcache.cfg" 'servers = "127.0.0.1:7";'
	run -0 --separate-stderr bare FSMEMCACHE_CONFIG="$cfg" "$FSMC_BIN" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 (5)")" ]
}

@test "\$XDG_CONFIG_HOME/fsmemcache/fsmemcache.cfg is read when present" {
	local xdg=$BATS_TEST_TMPDIR/xdg
	write_cfg "$xdg/fsmemcache/fsmemcache.cfg" 'servers = "127.0.0.1:8";'
	write_cfg "$BATS_TEST_TMPDIR/home/.config/fsmemcache/fsmemcache.cfg" 'servers = "127.0.0.1:7";'
	run -0 --separate-stderr bare XDG_CONFIG_HOME="$xdg" "$FSMC_BIN" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 (8)")" ]
}

@test "\$HOME/.config/fsmemcache/fsmemcache.cfg is read when XDG_CONFIG_HOME is unset" {
	write_cfg "$BATS_TEST_TMPDIR/home/.config/fsmemcache/fsmemcache.cfg" 'servers = "127.0.0.1:7";'
	run -0 --separate-stderr bare "$FSMC_BIN" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 (7)")" ]
}

@test "\$MEMCACHED_SERVERS is used when no file is found" {
	[ ! -e /usr/local/etc/fsmemcache.cfg ]
	mc_spawn
	run -0 --separate-stderr bare MEMCACHED_SERVERS="127.0.0.1:$MC_PORT" "$FSMC_BIN" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 ($MC_PORT)")" ]
	run -0 --separate-stderr bare MEMCACHED_SERVERS="127.0.0.1:$MC_PORT" "$FSMC_BIN" set c1 v
	[ "$stderr" = "" ]
	[ "$output" = "+OK" ]
	run -0 mc_raw "get c1"
	[ "$output" = $'VALUE c1 0 1\nv\nEND' ]
}

@test "\$MEMCACHED_SERVERS is not used when a file is found" {
	write_cfg "$BATS_TEST_TMPDIR/home/.config/fsmemcache/fsmemcache.cfg" 'servers = "127.0.0.1:7";'
	run -0 --separate-stderr bare MEMCACHED_SERVERS=127.0.0.1:9 "$FSMC_BIN" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 (7)")" ]
}

@test "with no file and no \$MEMCACHED_SERVERS the server is localhost:11211" {
	[ ! -e /usr/local/etc/fsmemcache.cfg ]
	run -0 --separate-stderr bare "$FSMC_BIN" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "localhost (11211)")" ]
}

# Forms of the servers.

@test "-s replaces the file's servers" {
	local cfg=$BATS_TEST_TMPDIR/file.cfg
	write_cfg "$cfg" 'servers = "127.0.0.1:5";'
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$cfg" -s "127.0.0.1:9, localhost" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 (9)" "localhost (11211)")" ]
}

@test "servers as a string" {
	local cfg=$BATS_TEST_TMPDIR/string.cfg
	mc_spawn
	write_cfg "$cfg" "servers = \"127.0.0.1:$MC_PORT\";"
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 ($MC_PORT)")" ]
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$cfg" set c2 v
	[ "$stderr" = "" ]
	[ "$output" = "+OK" ]
	run -0 mc_raw "get c2"
	[ "$output" = $'VALUE c2 0 1\nv\nEND' ]
}

@test "servers as a list with a host and port, and a socket" {
	local cfg=$BATS_TEST_TMPDIR/list.cfg
	write_cfg "$cfg" 'servers = (' '  { host = "127.0.0.1"; port = 5; },' '  { socket = "/run/m.sock"; }' ');'
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 (5)" "/run/m.sock (0)")" ]
}

# What memcached and libmemcached refuse in a namespace.

@test "--namespace with a byte of 0x80 or more: exit 64 before anything is applied" {
	local cfg=$BATS_TEST_TMPDIR/main.cfg
	write_cfg "$cfg" 'servers = "127.0.0.1:5";'
	run -64 --separate-stderr bare "$FSMC_BIN" -c "$cfg" --namespace "$(printf 'caf\303\251:')" -n
	[ "$output" = "" ]
	[ "$stderr" = 'fsmemcache: --namespace: namespace: "caf\xc3\xa9:" contains a byte of 0x80 or more (libmemcached takes printable ASCII only)' ]
}

@test "a SASL username with a newline and no password: the message shows it escaped, on one line" {
	local cfg=$BATS_TEST_TMPDIR/main.cfg
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' 'sasl = { username = "fs\nops\x1b[31m"; };'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" -n
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg: sasl: no password for 'fs\\x0aops\\x1b[31m' (password, password_file or FSMEMCACHE_PASSWORD)" ]
}
