#!/usr/bin/env bats
# keys beyond a prefix: glob patterns, a column of servers (-l) and the largest keys of each server and of all (--big).
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

FAKE=$BATS_TEST_DIRNAME/fake-memcached.py

teardown() {
	local pid
	mc_stop
	for pid in "${FAKE_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# Start tests/fake-memcached.py with the arguments given, and a
# configuration naming it alone; its port in FAKE_PORT.
fake_start() {
	local dir deadline=$((SECONDS + 10))
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	python3 "$FAKE" --port-file "$dir/port" --lifetime 60 "$@" \
	    >"$dir/output" 2>&1 3>&- &
	FAKE_PIDS+=("$!")
	until [ -s "$dir/port" ]; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			cat "$dir/output" >&2
			return 1
		fi
		sleep 0.01
	done
	read -r FAKE_PORT <"$dir/port"
	FSMC_CFG=$dir/fake.cfg
	printf 'servers = "127.0.0.1:%d";\n' "$FAKE_PORT" >"$FSMC_CFG"
}

# A server of the test's own and a configuration naming it.
own_server() {
	mc_spawn
	FSMC_CFG=$BATS_TEST_TMPDIR/own.cfg
	printf 'servers = "127.0.0.1:%d";\n' "$MC_PORT" >"$FSMC_CFG"
}

# Two servers of the test's own, A_PORT then B_PORT, in a configuration
# followed by the lines given.
two_servers() {
	local line
	mc_spawn
	A_PORT=$MC_PORT
	mc_spawn
	B_PORT=$MC_PORT
	FSMC_CFG=$BATS_TEST_TMPDIR/two.cfg
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d";\n' "$A_PORT" "$B_PORT" \
	    >"$FSMC_CFG"
	for line in "$@"; do
		printf '%s\n' "$line" >>"$FSMC_CFG"
	done
}

# Whether the keys kept by to_file are exactly the arguments, in any order.
kept_keys_are() {
	diff <(LC_ALL=C sort "$BATS_TEST_TMPDIR/stdout") \
	    <(printf '%s\n' "$@" | LC_ALL=C sort)
}

# The size memcached gives the item of key $1 on port $2.
item_size() {
	local saved=$MC_PORT size
	MC_PORT=$2
	size=$(mc_raw "me $1" | tr ' ' '\n' | sed -n 's/^size=//p')
	MC_PORT=$saved
	printf '%s' "$size"
}

# Store key $1 with a value of $2 bytes.
sized() {
	head -c "$2" /dev/zero | tr '\0' x | fsmc -x set "$1"
}

@test "keys PATTERN with * matches the whole key: user:*:session" {
	local k
	own_server
	for k in user:1:session user:22:session user:1:session:old \
	    user:1:profile admin:1:session user:session; do
		run -0 fsmc set "$k" v
	done
	run -0 --separate-stderr fsmc_out keys 'user:*:session'
	[ "$stderr" = "" ]
	run -0 kept_keys_are user:1:session user:22:session
}

@test "keys PATTERN with ? and [...]: one character, one of a set" {
	local k
	own_server
	for k in k1 k2 k3 k10 ka; do
		run -0 fsmc set "$k" v
	done
	run -0 fsmc_out keys 'k?'
	run -0 kept_keys_are k1 k2 k3 ka
	run -0 fsmc_out keys 'k[13]'
	run -0 kept_keys_are k1 k3
	run -0 fsmc_out keys 'k[!0-9]'
	run -0 kept_keys_are ka
}

@test "a backslash quotes a * in a pattern; a pattern without *, ? or [ is a prefix, backslash and all" {
	local k
	own_server
	for k in 'a*b' 'a*bc' 'axb' 'a\b' 'a\bc'; do
		run -0 fsmc set "$k" v
	done
	run -0 fsmc_out keys 'a\*b'
	run -0 kept_keys_are 'a*b'
	run -0 fsmc_out keys 'a\*b*'
	run -0 kept_keys_are 'a*b' 'a*bc'
	run -0 fsmc_out keys 'a\b'
	run -0 kept_keys_are 'a\b' 'a\bc'
}

@test "keys PATTERN under a namespace matches the keys without it" {
	local k
	own_server
	printf 'namespace = "ns:";\n' >>"$FSMC_CFG"
	for k in s:1 s:2 t:1; do
		run -0 fsmc set "$k" v
	done
	run -0 fsmc_out keys '*:1'
	run -0 kept_keys_are s:1 t:1
	run -0 fsmc_out keys 'ns:*'
	stdout_is ''
}

@test "keys -l puts each key's server before it, as where places it" {
	local n line
	two_servers
	for n in 1 2 3 4 5 6 7 8 9 10; do
		run -0 fsmc set "l$n" v
	done
	run -0 --separate-stderr fsmc_out keys -l l
	[ "$stderr" = "" ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/stdout")" -eq 10 ]
	while read -r line; do
		run -0 fsmc where "${line#* }"
		[ "${line%% *}" = "$output" ]
	done <"$BATS_TEST_TMPDIR/stdout"
	# Both servers hold some.
	run -0 grep -c "^127.0.0.1:$A_PORT " "$BATS_TEST_TMPDIR/stdout"
	run -0 grep -c "^127.0.0.1:$B_PORT " "$BATS_TEST_TMPDIR/stdout"
}

@test "keys -l with replicas = 1: every server that holds the key, in the order of the configuration" {
	two_servers 'replicas = 1;'
	run -0 fsmc set copied v
	run -0 --separate-stderr fsmc_out keys -l copied
	out_is "127.0.0.1:$A_PORT,127.0.0.1:$B_PORT copied\n"
}

@test "keys --big N: each server's N largest, largest first, then the N largest of all" {
	local a1 a2 b1
	two_servers
	run -0 fsmc -s "127.0.0.1:$A_PORT" -x set a1 < <(head -c 5000 /dev/zero)
	run -0 fsmc -s "127.0.0.1:$A_PORT" -x set a2 < <(head -c 3000 /dev/zero)
	run -0 fsmc -s "127.0.0.1:$A_PORT" set a3 small
	run -0 fsmc -s "127.0.0.1:$B_PORT" -x set b1 < <(head -c 4000 /dev/zero)
	run -0 fsmc -s "127.0.0.1:$B_PORT" set b2 small
	a1=$(item_size a1 "$A_PORT")
	a2=$(item_size a2 "$A_PORT")
	b1=$(item_size b1 "$B_PORT")
	run -0 --separate-stderr fsmc_out keys --big 2
	[ "$stderr" = "" ]
	out_is "127.0.0.1:$A_PORT $a1 a1
127.0.0.1:$A_PORT $a2 a2
127.0.0.1:$B_PORT $b1 b1
127.0.0.1:$B_PORT $(item_size b2 "$B_PORT") b2
all $a1 a1
all $b1 b1\n"
}

@test "keys --big with a pattern and -l, in any order: only the keys that match" {
	own_server
	sized big:1 2000
	sized big:2 1000
	sized other 9000
	run -0 --separate-stderr fsmc_out keys -l --big 5 'big:*'
	out_is "127.0.0.1:$MC_PORT $(item_size big:1 "$MC_PORT") big:1
127.0.0.1:$MC_PORT $(item_size big:2 "$MC_PORT") big:2
all $(item_size big:1 "$MC_PORT") big:1
all $(item_size big:2 "$MC_PORT") big:2\n"
	run -0 --separate-stderr fsmc_out --json keys --big 1 -l
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
server = "127.0.0.1:" + sys.argv[2]
assert d["status"] == "ok" and d["failures"] == [], d
assert [k["key"] for k in d["keys"]] == ["other"], d
assert d["keys"][0]["servers"] == [server], d
assert d["by_server"] == [{"server": server, "keys": d["keys"]}], d
' "$BATS_TEST_TMPDIR/stdout" "$MC_PORT"
}

@test "keys --big: equal sizes are listed by name; a key on two servers counts once in the largest of all" {
	two_servers 'replicas = 1;'
	sized same:b 100
	sized same:a 100
	run -0 --separate-stderr fsmc_out keys --big 3
	local s
	s=$(item_size same:a "$A_PORT")
	out_is "127.0.0.1:$A_PORT $s same:a
127.0.0.1:$A_PORT $s same:b
127.0.0.1:$B_PORT $s same:a
127.0.0.1:$B_PORT $s same:b
all $s same:a
all $s same:b\n"
}

@test "keys --big needs a count from 1 to 10000; -- ends the options, and a word like an option is a prefix" {
	own_server
	run -0 fsmc set -l v
	run -0 fsmc set -lx v
	run -0 fsmc set -x v
	run -65 --separate-stderr fsmc keys --big 0
	[ "$stderr" = "-ERR INVALID ARGUMENTS
fsmemcache: keys: bad count '0': not a decimal number from 1 to 10000" ]
	run -65 --separate-stderr fsmc keys --big 10001
	run -65 --separate-stderr fsmc keys --big x
	run -64 --separate-stderr fsmc keys --big
	[ "${stderr_lines[0]}" = -ERR ]
	[ "${stderr_lines[${#stderr_lines[@]} - 1]}" = "fsmemcache: keys: --big needs a count" ]
	run -64 --separate-stderr fsmc keys -l a b
	[ "${stderr_lines[0]}" = -ERR ]
	[ "${stderr_lines[${#stderr_lines[@]} - 1]}" = "fsmemcache: keys: too many arguments" ]
	run -0 --separate-stderr fsmc_out keys -- -l
	run -0 kept_keys_are -l -lx
	run -0 --separate-stderr fsmc_out keys -lx
	run -0 kept_keys_are -lx
	run -0 --separate-stderr fsmc_out keys -x
	run -0 kept_keys_are -x
}

@test "keys with options and a pattern from -e and in a batch" {
	own_server
	run -0 fsmc set user:1:session v
	run -0 fsmc set user:1:profile v
	run -0 --separate-stderr fsmc_out -e "keys -l user:*:session"
	out_is "127.0.0.1:$MC_PORT user:1:session\n"
	run -0 --separate-stderr fsmc_out -f - <<<"keys --big 1 user:*:profile"
	out_is "127.0.0.1:$MC_PORT $(item_size user:1:profile "$MC_PORT") user:1:profile
all $(item_size user:1:profile "$MC_PORT") user:1:profile\n"
}

@test "keys --big with a server down: the others' largest, the failure on standard error, exit 69" {
	local dead
	own_server
	sized k 10
	dead=$(dead_port)
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d";\n' "$MC_PORT" "$dead" \
	    >"$FSMC_CFG"
	run -69 --separate-stderr fsmc_out keys --big 1
	out_is "127.0.0.1:$MC_PORT $(item_size k "$MC_PORT") k
all $(item_size k "$MC_PORT") k\n"
	[ "$stderr" = "-ERR SOME ERRORS WERE REPORTED
fsmemcache: keys: connection refused (127.0.0.1:$dead)" ]
}

@test "keys lists every key while other clients read them, which moves them between memcached's LRUs" {
	local reader stop=$BATS_TEST_TMPDIR/stop
	own_server
	seq 1 50000 | sed 's/.*/set r& v/' >"$BATS_TEST_TMPDIR/load"
	seq 1 50000 | sed 's/.*/get r&/' >"$BATS_TEST_TMPDIR/read"
	run -0 --separate-stderr fsmc --pipe -f "$BATS_TEST_TMPDIR/load"
	(
		while [ ! -e "$stop" ]; do
			fsmc -f "$BATS_TEST_TMPDIR/read" >/dev/null 2>&1
		done
	) 3>&- &
	reader=$!
	for _ in 1 2 3; do
		run -0 --separate-stderr fsmc_out keys r
		run -0 wc -l "$BATS_TEST_TMPDIR/stdout"
		[ "${output%% *}" -eq 50000 ] || break
	done
	touch "$stop"
	wait "$reader"
	[ "${output%% *}" -eq 50000 ]
}

@test "a metadump line with a key longer than memcached allows is a protocol error: keys lists the keys before it, dump none, exit 76" {
	local long=a max=a fields='exp=-1 la=1 cas=1 fetch=no cls=1 size=2' err
	while [ "${#long}" -lt 251 ]; do
		long+=a
	done
	max=${long:0:250}
	fake_start --mode reply --target lru_crawler \
	    --reply "key=k1 $fields\r\nkey=$max $fields\r\nkey=$long $fields\r\nkey=k2 $fields\r\nEND"
	err="protocol error: a key longer than 250 bytes in lru_crawler metadump: 'key=${long:0:67}...' (127.0.0.1:$FAKE_PORT)"
	run -76 --separate-stderr fsmc_out keys
	out_is "k1\n$max\n"
	[ "${stderr_lines[0]}" = "-ERR SOME ERRORS WERE REPORTED" ]
	[ "${stderr_lines[1]}" = "fsmemcache: keys: $err" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	run -76 --separate-stderr fsmc_out keys --big 3
	out_is ''
	[ "${stderr_lines[1]}" = "fsmemcache: keys: $err" ]
	run -76 --separate-stderr fsmc_out dump
	out_is '# fsmemcache dump: each item is "{LENGTH} set KEY EXPIRES FLAGS", a newline, LENGTH bytes of value and a newline\n'
	[ "${stderr_lines[2]}" = "fsmemcache: dump: $err" ]
}
