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

# Files the configuration includes.

@test "a relative @include is read from the including file's directory, not the current one" {
	local dir=$BATS_TEST_TMPDIR
	write_cfg "$dir/etc/fsmemcache.cfg" '@include "servers.inc"'
	write_cfg "$dir/etc/servers.inc" 'servers = "127.0.0.1:5";' '@include "sub/ns.inc"'
	# Nested: named from sub/, the directory of the file that names it.
	write_cfg "$dir/etc/sub/ns.inc" '@include "deeper.inc"'
	write_cfg "$dir/etc/sub/deeper.inc" 'namespace = "deep:";'
	# Decoys where the current directory would find them.
	write_cfg "$dir/cwd/servers.inc" 'servers = "127.0.0.1:6";'
	write_cfg "$dir/cwd/sub/ns.inc" 'namespace = "cwd:";'
	cd "$dir/cwd"
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$dir/etc/fsmemcache.cfg" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 (5)")" ]
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$dir/etc/fsmemcache.cfg" -n
	[ "$stderr" = "" ]
	[ "${lines[3]}" = 'namespace = "deep:";' ]
	# A relative -c too: the includes are next to it.
	cd "$dir"
	write_cfg "$dir/servers.inc" 'servers = "127.0.0.1:7";'
	run -0 --separate-stderr bare "$FSMC_BIN" -c etc/fsmemcache.cfg status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 (5)")" ]
}

@test "an absolute @include is read as written" {
	local dir=$BATS_TEST_TMPDIR
	write_cfg "$dir/elsewhere/servers.inc" 'servers = "127.0.0.1:8";'
	write_cfg "$dir/etc/fsmemcache.cfg" "@include \"$dir/elsewhere/servers.inc\""
	write_cfg "$dir/etc$dir/elsewhere/servers.inc" 'servers = "127.0.0.1:9";'
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$dir/etc/fsmemcache.cfg" status
	[ "$stderr" = "" ]
	[ "$output" = "$(listing "127.0.0.1 (8)")" ]
}

# No file is ever waited for: each one read must be a regular file.

@test "a FIFO as the configuration is refused at once, exit 78" {
	local fifo=$BATS_TEST_TMPDIR/fifo.cfg
	mkfifo "$fifo"
	# timeout turns a hang into a failure (exit 124).
	run -78 --separate-stderr bare timeout 10 "$FSMC_BIN" -c "$fifo" status
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $fifo: not a regular file" ]
}

@test "a FIFO as an @include is refused at once, naming the including file and line" {
	local cfg=$BATS_TEST_TMPDIR/main.cfg fifo=$BATS_TEST_TMPDIR/fifo.inc
	mkfifo "$fifo"
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' '@include "fifo.inc"'
	run -78 --separate-stderr bare timeout 10 "$FSMC_BIN" -c "$cfg" -n
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:2: @include: $fifo: not a regular file" ]
}

@test "a FIFO as password_file is refused at once, naming the file and line" {
	local cfg=$BATS_TEST_TMPDIR/main.cfg fifo=$BATS_TEST_TMPDIR/secret
	mkfifo "$fifo"
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' '' \
	    'sasl = { username = "fs"; password_file = "secret"; };'
	run -78 --separate-stderr bare timeout 10 "$FSMC_BIN" -c "$cfg" -n
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:3: sasl.password_file: $fifo: not a regular file" ]
}

@test "a device as an @include is refused, not read: /dev/zero" {
	local cfg=$BATS_TEST_TMPDIR/main.cfg
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' '@include "/dev/zero"'
	run -78 --separate-stderr bare timeout 10 "$FSMC_BIN" -c "$cfg" -n
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:2: @include: /dev/zero: not a regular file" ]
}

@test "an @include larger than 1 MiB is refused before it is parsed" {
	local cfg=$BATS_TEST_TMPDIR/main.cfg inc=$BATS_TEST_TMPDIR/big.inc
	{
		printf 'namespace = "'
		head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' n
		printf '";\n'
	} >"$inc"
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' '@include "big.inc"'
	run -78 --separate-stderr bare timeout 10 "$FSMC_BIN" -c "$cfg" -n
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:2: @include: $inc: larger than 1 MiB: not a configuration file" ]
}

@test "a configuration and its includes together larger than 1 MiB are refused" {
	local cfg=$BATS_TEST_TMPDIR/main.cfg dir=$BATS_TEST_TMPDIR
	# Each file is a comment of 600 KiB: under the limit alone.
	{
		printf '#'
		head -c $((600 * 1024)) /dev/zero | tr '\0' c
		printf '\n'
	} >"$dir/a.inc"
	cp "$dir/a.inc" "$dir/b.inc"
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' '@include "a.inc"' '@include "b.inc"'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" -n
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg:3: @include: $dir/b.inc: the configuration and its includes come to more than 1 MiB" ]
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' '@include "a.inc"'
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$stderr" = "" ]
}

@test "a NUL byte in an included file is refused at its line" {
	local cfg=$BATS_TEST_TMPDIR/main.cfg inc=$BATS_TEST_TMPDIR/nul.inc
	printf 'namespace = "a";\n# \0 here\nfoo = 1;\n' >"$inc"
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' '@include "nul.inc"'
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$cfg" -n
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $inc:2: a NUL byte: syntax error" ]
}

@test "a relative password_file is read from the configuration's directory" {
	local dir=$BATS_TEST_TMPDIR
	write_cfg "$dir/etc/fsmemcache.cfg" 'servers = "127.0.0.1:5";' \
	    'sasl = { username = "fs"; password_file = "secret"; };'
	printf 'pw\n' >"$dir/etc/secret"
	chmod 600 "$dir/etc/secret"
	mkdir "$dir/cwd"
	cd "$dir/cwd"
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$dir/etc/fsmemcache.cfg" -n
	[ "$stderr" = "" ]
	[ "${lines[10]}" = 'sasl = { username = "fs"; password = "********"; };' ]
	rm "$dir/etc/secret"
	printf 'pw\n' >secret
	run -78 --separate-stderr bare "$FSMC_BIN" -c "$dir/etc/fsmemcache.cfg" -n
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $dir/etc/fsmemcache.cfg:2: sasl.password_file: $dir/etc/secret: No such file or directory" ]
}

# A password anywhere in the files read, in a file that group or others
# can read, draws one warning on every run, whichever profile is used.

@test "a password only in an unused profile of a readable file: a warning on every run" {
	local cfg=$BATS_TEST_TMPDIR/main.cfg
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' 'profiles = {' \
	    '  plain = { namespace = "p:"; };' \
	    '  secure = { sasl = { username = "fs"; password = "pw"; }; };' '};'
	chmod 640 "$cfg"
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "$(listing "127.0.0.1 (5)")" ]
	[ "$stderr" = "fsmemcache: warning: $cfg holds a password and can be read by group or others (chmod 600)" ]
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$cfg" -p plain status
	[ "$stderr" = "fsmemcache: warning: $cfg holds a password and can be read by group or others (chmod 600)" ]
	chmod 600 "$cfg"
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$cfg" -p plain status
	[ "$stderr" = "" ]
}

@test "a password in a readable @included file: the warning names that file" {
	local cfg=$BATS_TEST_TMPDIR/main.cfg inc=$BATS_TEST_TMPDIR/secret.inc
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' '@include "secret.inc"'
	write_cfg "$inc" 'sasl = { username = "fs"; password = "pw"; };'
	chmod 600 "$cfg"
	chmod 644 "$inc"
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$output" = "$(listing "127.0.0.1 (5)")" ]
	[ "$stderr" = "fsmemcache: warning: $inc holds a password and can be read by group or others (chmod 600)" ]
	# The including file holds no password: its mode does not matter.
	chmod 644 "$cfg"
	chmod 600 "$inc"
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$cfg" status
	[ "$stderr" = "" ]
}

@test "passwords in several readable files: one warning naming each once" {
	local cfg=$BATS_TEST_TMPDIR/main.cfg inc=$BATS_TEST_TMPDIR/secret.inc
	write_cfg "$cfg" 'servers = "127.0.0.1:5";' \
	    'sasl = { username = "fs"; password = "pw"; };' 'profiles = {' \
	    '  a = {' '@include "secret.inc"' '  };' '  b = {' '@include "secret.inc"' '  };' '};'
	write_cfg "$inc" 'sasl = { username = "fs"; password = "pw"; };'
	chmod 604 "$cfg" "$inc"
	run -0 --separate-stderr bare "$FSMC_BIN" -c "$cfg" -p b status
	[ "$stderr" = "fsmemcache: warning: $cfg, $inc hold passwords and can be read by group or others (chmod 600)" ]
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

@test "-c /dev/null is an empty configuration: -s gives the servers" {
	mc_spawn
	run -0 --separate-stderr bare "$FSMC_BIN" -c /dev/null \
	    -s "127.0.0.1:$MC_PORT" set devnull v
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
}
