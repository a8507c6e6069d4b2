#!/usr/bin/env bats
# inspect and ttl: what the server knows of a key without its value, by meta commands, and what a server without them still tells.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

FAKE=$BATS_TEST_DIRNAME/fake-memcached.py

setup_file() { mc_start; }
teardown_file() { mc_stop; }

teardown() {
	local pid
	for pid in "${FAKE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# A field of memcached's own meta debug of the key $1, as the server
# has it (e.g. mc_me k size).
mc_me() {
	mc_raw "me $1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# The CAS of the key $1, by gets.
mc_cas() {
	mc_raw "gets $1" | sed -n '1s/^VALUE [^ ]* [0-9]* [0-9]* //p'
}

# Start tests/fake-memcached.py with the arguments given; its port in
# FAKE_PORT.
fake_start() {
	local dir deadline=$((SECONDS + 10))
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	python3 "$FAKE" --port-file "$dir/port" --log "$dir/log" \
	    --lifetime 60 "$@" >"$dir/output" 2>&1 3>&- &
	FAKE_PIDS+=("$!")
	until [ -s "$dir/port" ]; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			cat "$dir/output" >&2
			return 1
		fi
		sleep 0.01
	done
	read -r FAKE_PORT <"$dir/port"
}

# fsmemcache against the fake alone.
fsmc_fake() {
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS "$FSMC_BIN" \
	    -c /dev/null -s "127.0.0.1:$FAKE_PORT" -t 2000 "$@"
}

@test "inspect prints the TTL, size, flags, CAS, fetched, last access, slab class and item size the server has" {
	local k="i$BATS_TEST_NUMBER" cas size
	run -0 fsmc set "$k" 'hello world' 0 1f
	cas=$(mc_cas "$k")
	size=$(mc_me "$k" size)
	run -0 --separate-stderr fsmc inspect "$k"
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 10 ]
	[ "${lines[0]}" = "key: $k" ]
	[ "${lines[1]}" = "server: 127.0.0.1:$MC_PORT" ]
	[ "${lines[2]}" = "ttl: never" ]
	[ "${lines[3]}" = "size: 11" ]
	[ "${lines[4]}" = "flags: 1f" ]
	[ "${lines[5]}" = "cas: $cas" ]
	[ "${lines[6]}" = "fetched: yes" ]
	[[ ${lines[7]} =~ ^last_access:\ [0-2]$ ]]
	[ "${lines[8]}" = "slab_class: $(mc_me "$k" cls)" ]
	[ "${lines[9]}" = "item_size: $size" ]
	[ "$size" -gt 11 ]
}

@test "inspect leaves the item as it was: not fetched, its last access unchanged, on a second look too" {
	local k="i$BATS_TEST_NUMBER"
	run -0 fsmc set "$k" v
	run -0 fsmc inspect "$k"
	[ "${lines[6]}" = "fetched: no" ]
	run -0 fsmc inspect "$k"
	[ "${lines[6]}" = "fetched: no" ]
	[ "$(mc_me "$k" fetch)" = no ]
	run -0 fsmc get "$k"
	run -0 fsmc inspect "$k"
	[ "${lines[6]}" = "fetched: yes" ]
}

@test "inspect of a key that expires shows the seconds left" {
	local k="i$BATS_TEST_NUMBER"
	run -0 fsmc set "$k" v 1000
	run -0 fsmc inspect "$k"
	[[ ${lines[2]} =~ ^ttl:\ (998|999|1000)$ ]]
}

@test "inspect of a missing key: -ERR NOT FOUND, exit 1, nothing else" {
	run -1 --separate-stderr fsmc_out inspect "nothing$BATS_TEST_NUMBER"
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "" ]
	run -1 --separate-stderr fsmc_out -q inspect "nothing$BATS_TEST_NUMBER"
	out_is ''
	[ "$stderr" = "-ERR NOT FOUND" ]
}

@test "inspect and ttl look the key up under the namespace" {
	local cfg=$BATS_TEST_TMPDIR/ns.cfg
	printf 'servers = "127.0.0.1:%d";\nnamespace = "app:";\n' "$MC_PORT" >"$cfg"
	run -0 "$FSMC_BIN" -c "$cfg" set "n$BATS_TEST_NUMBER" abc 0 7
	run -0 "$FSMC_BIN" -c "$cfg" inspect "n$BATS_TEST_NUMBER"
	[ "${lines[0]}" = "key: n$BATS_TEST_NUMBER" ]
	[ "${lines[3]}" = "size: 3" ]
	[ "${lines[4]}" = "flags: 7" ]
	run -1 fsmc inspect "n$BATS_TEST_NUMBER"
	run -0 fsmc inspect "app:n$BATS_TEST_NUMBER"
	run -0 "$FSMC_BIN" -c "$cfg" ttl "n$BATS_TEST_NUMBER"
	[ "$output" = -1 ]
}

@test "inspect of a bad key is refused before anything is sent: exit 65" {
	run -65 --separate-stderr fsmc inspect 'a b'
	[ "$stderr" = "fsmemcache: inspect: bad key 'a b': contains a space" ]
	run -64 --separate-stderr fsmc inspect
	[ "$stderr" = "fsmemcache: inspect: too few arguments" ]
}

@test "ttl prints -1 for a key that never expires, with a newline" {
	run -0 fsmc set "t$BATS_TEST_NUMBER" v
	run -0 --separate-stderr fsmc_out ttl "t$BATS_TEST_NUMBER"
	out_is '-1\n'
	[ "$stderr" = "" ]
}

@test "ttl prints the seconds left alone" {
	run -0 fsmc set "t$BATS_TEST_NUMBER" v 500
	run -0 --separate-stderr fsmc ttl "t$BATS_TEST_NUMBER"
	[[ $output =~ ^(498|499|500)$ ]]
	run -0 fsmc touch "t$BATS_TEST_NUMBER" 20
	run -0 fsmc ttl "t$BATS_TEST_NUMBER"
	[[ $output =~ ^(18|19|20)$ ]]
}

@test "ttl of a missing key exits 1, with -ERR NOT FOUND (standard error with -q)" {
	run -1 --separate-stderr fsmc_out ttl "none$BATS_TEST_NUMBER"
	out_is '-ERR NOT FOUND\n'
	run -1 --separate-stderr fsmc_out -q ttl "none$BATS_TEST_NUMBER"
	out_is ''
	[ "$stderr" = "-ERR NOT FOUND" ]
}

@test "--json inspect and ttl: the fields the server told, the CAS as a string" {
	local k="j$BATS_TEST_NUMBER" cas
	run -0 fsmc set "$k" abc 0 ff
	cas=$(mc_cas "$k")
	run -0 --separate-stderr fsmc --json ttl "$k"
	[ "$output" = "{\"command\":\"ttl\",\"key\":\"$k\",\"status\":\"ok\",\"exit\":0,\"server\":\"127.0.0.1:$MC_PORT\",\"ttl\":-1}" ]
	run -0 --separate-stderr fsmc --json inspect "$k"
	[[ $output == "{\"command\":\"inspect\",\"key\":\"$k\",\"status\":\"ok\",\"exit\":0,\"server\":\"127.0.0.1:$MC_PORT\",\"ttl\":-1,\"size\":3,\"flags\":\"ff\",\"cas\":\"$cas\",\"fetched\":true,\"last_access\":"[0-2]",\"slab_class\":$(mc_me "$k" cls),\"item_size\":$(mc_me "$k" size)}" ]]
	run -1 --separate-stderr fsmc --json ttl "none$BATS_TEST_NUMBER"
	[ "$output" = "{\"command\":\"ttl\",\"key\":\"none$BATS_TEST_NUMBER\",\"status\":\"not_found\",\"exit\":1,\"server\":\"127.0.0.1:$MC_PORT\",\"error\":\"NOT FOUND\"}" ]
}

@test "inspect and ttl with the server down: exit 69, the server named" {
	local port
	port=$(dead_port)
	run -69 --separate-stderr env -u FSMEMCACHE_CONFIG "$FSMC_BIN" -c /dev/null -s "127.0.0.1:$port" inspect k
	[ "$output" = "-ERR CONNECTION FAILURE" ]
	[ "$stderr" = "fsmemcache: inspect k: connection refused (127.0.0.1:$port)" ]
	run -69 --separate-stderr env -u FSMEMCACHE_CONFIG "$FSMC_BIN" -c /dev/null -s "127.0.0.1:$port" ttl k
	[ "$stderr" = "fsmemcache: ttl k: connection refused (127.0.0.1:$port)" ]
}

@test "inspect with the binary protocol asks on a text connection; with SASL it is refused" {
	run -0 fsmc set "b$BATS_TEST_NUMBER" v
	run -0 fsmc --binary ttl "b$BATS_TEST_NUMBER"
	[ "$output" = -1 ]
	printf 'servers = "127.0.0.1:%d";\nsasl = { username = "u"; password = "p"; };\n' \
	    "$MC_PORT" >"$BATS_TEST_TMPDIR/sasl.cfg"
	chmod 600 "$BATS_TEST_TMPDIR/sasl.cfg"
	run -64 --separate-stderr to_file "$FSMC_BIN" -c "$BATS_TEST_TMPDIR/sasl.cfg" inspect k
	stdout_is "$USAGE"
	[ "$stderr" = "fsmemcache: inspect: needs the text protocol, which cannot authenticate" ]
}

@test "a server without meta commands: inspect tells the size, flags and CAS that gets gives; ttl exits 76" {
	fake_start --mode reply --reply ERROR --target mg --target me
	run -0 --separate-stderr fsmc_fake inspect k
	[ "$output" = "key: k
server: 127.0.0.1:$FAKE_PORT
size: 10
flags: 0
cas: 1" ]
	[ "$stderr" = "" ]
	run -76 --separate-stderr fsmc_fake ttl k
	[ "$output" = "-ERR ACTION NOT SUPPORTED" ]
	[ "$stderr" = "fsmemcache: ttl k: the server has no meta commands to tell a TTL (memcached 1.6 or later)" ]
}

@test "a server without meta debug: inspect tells all but the slab class and item size" {
	fake_start --mode reply --reply 'HD k{key} s5 t42 f3 c9 h1 l4' --target mg
	run -0 --separate-stderr fsmc_fake inspect k
	[ "$output" = "key: k
server: 127.0.0.1:$FAKE_PORT
ttl: 42
size: 5
flags: 3
cas: 9
fetched: yes
last_access: 4" ]
	run -0 fsmc_fake ttl k
	[ "$output" = 42 ]
}

@test "replies to the meta commands that the protocol does not allow are PROTOCOL ERROR, with what was wrong" {
	local reply want
	while IFS='|' read -r reply want; do
		fake_start --mode reply --reply "$reply" --target mg
		run -76 --separate-stderr fsmc_fake inspect k
		[ "$output" = "-ERR PROTOCOL ERROR" ]
		[ "$stderr" = "fsmemcache: inspect k: protocol error: $want (127.0.0.1:$FAKE_PORT)" ]
	done <<'EOF'
VA 10|unexpected reply to mg: 'VA 10'
HD s5 t42 f3 c9 h1 l4|a malformed reply to mg: 'HD s5 t42 f3 c9 h1 l4'
HD kother s5 t42 f3 c9 h1 l4|a malformed reply to mg: 'HD kother s5 t42 f3 c9 h1 l4'
HD kk s5 s5 t42 f3 c9 h1 l4|a malformed reply to mg: 'HD kk s5 s5 t42 f3 c9 h1 l4'
HD kk s5 t-2 f3 c9 h1 l4|a malformed reply to mg: 'HD kk s5 t-2 f3 c9 h1 l4'
HD kk s5 t42 f4294967296 c9 h1 l4|a malformed reply to mg: 'HD kk s5 t42 f4294967296 c9 h1 l4'
HD kk s5 t42 f3 c9 h2 l4|a malformed reply to mg: 'HD kk s5 t42 f3 c9 h2 l4'
HD kk s5 t42 f3 c9 h1 l4 x1|a malformed reply to mg: 'HD kk s5 t42 f3 c9 h1 l4 x1'
HD kk s t42 f3 c9 h1 l4|a malformed reply to mg: 'HD kk s t42 f3 c9 h1 l4'
HD kk s5 t42 f3 c9 h1 l4\r\nME k size|a malformed reply to me: 'ME k size'
HD kk s5 t42 f3 c9 h1 l4\r\nME other cls=1|a malformed reply to me: 'ME other cls=1'
HD kk s5 t42 f3 c9 h1 l4\r\nME k cls=x|a malformed reply to me: 'ME k cls=x'
HD kk s5 t42 f3 c9 h1 l4\r\nVA 1|unexpected reply to me: 'VA 1'
EN kother|unexpected reply to mg: 'EN kother'
EOF
}
