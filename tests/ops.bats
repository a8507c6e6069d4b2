#!/usr/bin/env bats
# The operator commands: keys, -r and -i, and status verbose on a terminal (health has health.bats).
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() {
	mc_start
	FILE_PID=$MC_PID
	export FILE_PID
}
teardown_file() { mc_stop; }

# Stop the servers the test started, at once: memcached takes about a
# second to shut down on SIGTERM, and they hold nothing worth keeping.
teardown() {
	local pid pids
	mapfile -t pids <"$BATS_FILE_TMPDIR/memcached.pids"
	for pid in "${pids[@]}"; do
		if [ "$pid" != "$FILE_PID" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			mc_kill "$pid"
		fi
	done
}

# Use the configuration file $1.
use_config() {
	FSMC_CFG=$1
}

# The lines that to_file kept, in the array got; fails unless standard
# output ends in a newline.
kept_lines() {
	local out=$BATS_TEST_TMPDIR/stdout
	[ "$(tail -c 1 "$out" | od -An -c)" = "  \\n" ]
	mapfile -t got <"$out"
}

# Whether the lines that to_file kept are the keys given, in any order.
kept_keys_are() {
	cmp <(LC_ALL=C sort "$BATS_TEST_TMPDIR/stdout") \
	    <(printf '%s\n' "$@" | LC_ALL=C sort)
}

# The lines of the terminal's output that on_tty kept, in the array got.
tty_lines() {
	mapfile -t got <"$BATS_TEST_TMPDIR/tty"
}

# Milliseconds since the epoch.
now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((t / 1000))
}

# Run fsmemcache on a terminal, as an operator would, with the output in
# $BATS_TEST_TMPDIR/tty (carriage returns removed) and the exit status in
# $status.  The terminal mixes standard error into it.
on_tty() {
	local cmd
	cmd=$(printf '%q ' env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    "$FSMC_BIN" -c "$FSMC_CFG" "$@")
	SHELL=/bin/bash script -qec "$cmd" /dev/null |
	    tr -d '\r' >"$BATS_TEST_TMPDIR/tty"
	return "${PIPESTATUS[0]}"
}

# on_tty on a terminal $1 columns wide.
on_tty_cols() {
	local cmd
	cmd="stty cols $1 rows 50; exec $(printf '%q ' env -u FSMEMCACHE_CONFIG \
	    -u MEMCACHED_SERVERS -u COLUMNS "$FSMC_BIN" -c "$FSMC_CFG" "${@:2}")"
	SHELL=/bin/bash script -qec "$cmd" /dev/null |
	    tr -d '\r' >"$BATS_TEST_TMPDIR/tty"
	return "${PIPESTATUS[0]}"
}

# Check the status table that on_tty kept: no line wider than $1, and in
# each table, every row's cells (text two spaces or more apart) end where
# the header's server names end.  Prints the servers of each table, then
# each table's state row.
table_shape() {
	python3 - "$1" "$BATS_TEST_TMPDIR/tty" <<'PY'
import re, sys
width = int(sys.argv[1])
text = open(sys.argv[2], encoding="utf-8").read()
lines = [l for l in text.split("\n") if not l.startswith("fsmemcache: ")]
assert lines[0].startswith("Lib version: "), lines[0]
while lines and lines[-1] == "":
    lines.pop()
for l in lines:
    assert len(l) <= width, "wider than %d: %r" % (width, l)
tables = "\n".join(lines[1:]).split("\n\n")
cell = re.compile(r"\S+(?: \S+)*")
shape, states = [], []
for t in tables:
    rows = t.split("\n")
    head = list(cell.finditer(rows[0]))
    assert head[0].group() == "Servers:", rows[0]
    ends = [m.end() for m in head[1:]]
    for row in rows:
        got = list(cell.finditer(row))
        assert got[0].start() == 0, row
        assert [m.end() for m in got[1:]] == ends, "misaligned: %r" % row
        if got[0].group() == "state":
            states.append("|".join(m.group() for m in got[1:]))
    shape.append(str(len(ends)))
print(" ".join(shape))
print("\n".join(states))
PY
}

# ---- keys ----

@test "keys lists every one of 10,000 keys loaded with --pipe" {
	local expected=$BATS_TEST_TMPDIR/expected
	own_server
	seq 1 10000 | sed 's/.*/set bulk& value&/' >"$BATS_TEST_TMPDIR/load.txt"
	run -0 --separate-stderr fsmc --pipe -f "$BATS_TEST_TMPDIR/load.txt"
	seq -f 'bulk%g' 1 10000 | LC_ALL=C sort >"$expected"
	run -0 --separate-stderr fsmc_out keys
	[ "$stderr" = "" ]
	run -0 cmp <(LC_ALL=C sort "$BATS_TEST_TMPDIR/stdout") "$expected"
}

@test "keys PREFIX lists only the keys that start with PREFIX" {
	local k
	own_server
	for k in user:1 user:2 users xuser:3 session:1 user; do
		run -0 fsmc set "$k" v
	done
	run -0 --separate-stderr fsmc_out keys user:
	[ "$stderr" = "" ]
	run -0 kept_keys_are user:1 user:2
	run -0 --separate-stderr fsmc_out keys user
	run -0 kept_keys_are user user:1 user:2 users
}

@test "keys with a prefix nothing starts with prints nothing, exit 0" {
	run -0 --separate-stderr fsmc_out keys "nothing$BATS_TEST_NUMBER:"
	stdout_is ""
	[ "$stderr" = "" ]
}

@test "keys with a namespace: its keys without it, and no other keys" {
	local k plain=$BATS_TEST_TMPDIR/plain.cfg
	own_server
	cp "$FSMC_CFG" "$plain"
	printf 'namespace = "ns:";\n' >>"$FSMC_CFG"
	for k in in1 in2 other; do
		run -0 fsmc set "$k" v
	done
	for k in out1 nsx ns other2; do
		run -0 "$FSMC_BIN" -c "$plain" set "$k" v
	done
	run -0 --separate-stderr fsmc_out keys
	[ "$stderr" = "" ]
	run -0 kept_keys_are in1 in2 other
	run -0 --separate-stderr fsmc_out keys i
	run -0 kept_keys_are in1 in2
	run -0 --separate-stderr to_file "$FSMC_BIN" -c "$plain" keys ns:
	run -0 kept_keys_are ns:in1 ns:in2 ns:other
}

@test "keys lists the keys of every server" {
	local first n
	own_server
	first=$MC_PORT
	mc_spawn
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d";\n' "$first" "$MC_PORT" \
	    >"$FSMC_CFG"
	for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		run -0 fsmc set "two$n" v
	done
	# Both servers hold some of them.
	run -0 fsmc -s "127.0.0.1:$first" keys
	[ "${#lines[@]}" -gt 0 ]
	[ "${#lines[@]}" -lt 20 ]
	run -0 --separate-stderr fsmc_out keys
	[ "$stderr" = "" ]
	run -0 kept_keys_are two{1..20}
}

@test "keys with a server down: only the live server's keys on standard output, the failure on standard error, exit 69" {
	local err
	own_server
	run -0 fsmc set live1 v
	dead_first
	err="-ERR SOME ERRORS WERE REPORTED
fsmemcache: keys: connection refused (127.0.0.1:$DEAD_PORT)"
	run -69 --separate-stderr fsmc_out keys
	out_is 'live1\n'
	[ "$stderr" = "$err" ]
	run -69 --separate-stderr fsmc_out -q keys
	out_is 'live1\n'
	[ "$stderr" = "$err" ]
}

@test "keys in a batch with a server down: standard output still holds keys only" {
	own_server
	run -0 fsmc set live1 v
	dead_first
	run -69 --separate-stderr fsmc_out -f - <<<keys
	out_is 'live1\n'
	[ "${stderr_lines[0]}" = "-ERR SOME ERRORS WERE REPORTED" ]
	[ "${stderr_lines[1]}" = "fsmemcache: line 1: keys: connection refused (127.0.0.1:$DEAD_PORT)" ]
	[[ ${stderr_lines[2]} == "fsmemcache: 1 line: 0 ok, 0 not found, 0 not stored, 1 error; "* ]]
	[ "${#stderr_lines[@]}" -eq 3 ]
}

@test "keys with a server that refuses the dump: only the other's keys on standard output, exit 76" {
	local first
	own_server
	first=$MC_PORT
	run -0 fsmc set live1 v
	mc_spawn -o no_lru_crawler
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d";\n' "$first" "$MC_PORT" \
	    >"$FSMC_CFG"
	run -76 --separate-stderr fsmc_out keys
	out_is 'live1\n'
	[ "${stderr_lines[0]}" = "-ERR SOME ERRORS WERE REPORTED" ]
	[ "${stderr_lines[1]}" = "fsmemcache: keys: protocol error: unexpected reply to lru_crawler metadump: 'CLIENT_ERROR lru crawler disabled' (127.0.0.1:$MC_PORT)" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
}

@test "keys with a server down and one refusing the dump: the exit status and message of the first in the configuration" {
	local live=$MC_PORT dead refusing cfg=$BATS_TEST_TMPDIR/both.cfg
	dead=$(free_port)
	mc_spawn -o no_lru_crawler
	refusing=$MC_PORT
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d";\n' \
	    "$live" "$dead" "$refusing" >"$cfg"
	use_config "$cfg"
	run -69 --separate-stderr fsmc keys "none$BATS_TEST_NUMBER"
	[ "$output" = "" ]
	[ "${stderr_lines[1]}" = "fsmemcache: keys: connection refused (127.0.0.1:$dead) and 1 more server" ]
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d";\n' \
	    "$live" "$refusing" "$dead" >"$cfg"
	run -76 --separate-stderr fsmc keys "none$BATS_TEST_NUMBER"
	[ "$output" = "" ]
	[[ ${stderr_lines[1]} == "fsmemcache: keys: protocol error: "*" (127.0.0.1:$refusing) and 1 more server" ]]
}

@test "keys returns keys with special characters exactly" {
	own_server
	local k
	for k in 'a%b' 'café' 'x%41' '100%' 'k=v' 'p/q:r' 'plus+sign' '日本'; do
		run -0 fsmc set "$k" v
	done
	run -0 --separate-stderr fsmc_out keys
	[ "$stderr" = "" ]
	run -0 kept_keys_are 'a%b' 'café' 'x%41' '100%' 'k=v' 'p/q:r' \
	    'plus+sign' '日本'
}

# Check the JSON of keys in $BATS_TEST_TMPDIR/stdout: one object on one
# line, no failure, every key on the current server; prints each key
# sorted, with "never" or "future" for its expiration and whether its
# size is above 0.
json_keys_summary() {
	python3 -c '
import json, sys, time
text = open(sys.argv[1], encoding="utf-8").read()
assert text.endswith("\n") and text.count("\n") == 1, "not one line"
d = json.loads(text)
assert d["command"] == "keys" and d["status"] == "ok" and d["exit"] == 0, d
assert d["failures"] == [], d
now = time.time()
for k in sorted(d["keys"], key=lambda k: k["key"]):
    assert set(k) == {"exp", "size", "key", "servers"}, k
    assert k["servers"] == [sys.argv[2]], k
    exp = "never" if k["exp"] == -1 else "future" if k["exp"] > now else k["exp"]
    print(k["key"], exp, "size>0" if k["size"] > 0 else k["size"])
' "$BATS_TEST_TMPDIR/stdout" "127.0.0.1:$MC_PORT"
}

@test "--json keys: one object with each key's expiration, size and server" {
	own_server
	run -0 fsmc set forever v
	run -0 fsmc set later v 1000
	run -0 --separate-stderr fsmc_out --json keys
	[ "$stderr" = "" ]
	run -0 json_keys_summary
	[ "$output" = $'forever never size>0\nlater future size>0' ]
}

@test "--json keys: expiration and size also for keys with special characters" {
	own_server
	run -0 fsmc set user:1 v
	run -0 fsmc set 'a%b' v 1000
	run -0 fsmc set 'café' v
	run -0 --separate-stderr fsmc_out --json keys
	[ "$stderr" = "" ]
	run -0 json_keys_summary
	[ "$output" = $'a%b future size>0\ncafé never size>0\nuser:1 never size>0' ]
}

# ---- keys over a pool, replicas and the delete-by-prefix recipe ----

# A pool of $1 servers of the test's own, and a configuration naming
# them followed by the other arguments as lines.  Sets POOL ("a, b, c"),
# POOL_PIDS and FSMC_CFG.
own_pool() {
	local n=$1 i
	shift
	POOL=
	POOL_PIDS=()
	for ((i = 0; i < n; i++)); do
		mc_spawn
		POOL+=${POOL:+, }127.0.0.1:$MC_PORT
		POOL_PIDS+=("$MC_PID")
	done
	FSMC_CFG=$BATS_TEST_TMPDIR/pool.cfg
	printf 'servers = "%s";\n' "$POOL" >"$FSMC_CFG"
	if [ "$#" -gt 0 ]; then
		printf '%s\n' "$@" >>"$FSMC_CFG"
	fi
}

# Kill the server $1 (an index in POOL) at once; prints its address.
pool_kill() {
	local servers
	IFS=, read -r -a servers <<<"${POOL// /}"
	kill -KILL "${POOL_PIDS[$1]}"
	mc_kill "${POOL_PIDS[$1]}"
	echo "${servers[$1]}"
}

# Store del:1 to del:30 and keep:1 to keep:5 in the pool.
load_prefixes() {
	local in=$BATS_TEST_TMPDIR/load.txt
	{
		seq -f 'set del:%g v' 1 30
		seq -f 'set keep:%g v' 1 5
	} >"$in"
	run -0 --separate-stderr fsmc -f "$in"
}

# Where the configuration places the keys PREFIX1 to PREFIXn ($1, $2):
# "key server" lines.
placed() {
	paste -d ' ' <(seq -f "$1%g" 1 "$2") \
	    <(seq -f "where $1%g" 1 "$2" | fsmc -f - 2>/dev/null)
}

# Those of the keys PREFIX1 to PREFIXn ($1, $2) placed on the server $3
# (or, with $4 "not", on the others), one a line.
placed_on() {
	placed "$1" "$2" | awk -v s="$3" -v not="${4-}" \
	    '($2 == s) == (not == "") { print $1 }'
}

# The README's delete-by-prefix recipe for the prefix $1, as a user types
# it.  The batch's standard output goes to delete.out, its standard
# error to delete.err, that of keys to keys.err; prints the exit status
# of keys, sed and the batch.
delete_by_prefix() (
	local d=$BATS_TEST_TMPDIR
	set +e
	fsmc keys "$1" 2>"$d/keys.err" | sed 's/^/delete /' |
	    fsmc -f - >"$d/delete.out" 2>"$d/delete.err"
	echo "${PIPESTATUS[*]}"
)

# Whether no server of the pool but those given holds a key with the
# prefix $1 within 5 s: copies are deleted without waiting for a reply.
no_key_left() {
	local prefix=$1 s deadline=$((SECONDS + 5)) left
	shift
	while :; do
		left=
		for s in ${POOL//,/}; do
			[[ " $* " == *" $s "* ]] && continue
			left+=$("$FSMC_BIN" -c /dev/null -s "$s" keys "$prefix")
		done
		[ -z "$left" ] && return 0
		[ "$SECONDS" -le "$deadline" ] || break
		sleep 0.05
	done
	echo "left: $left"
	return 1
}

@test "keys with replicas = 1 lists each key once, though two servers hold it" {
	own_pool 3 'replicas = 1;'
	load_prefixes
	run -0 --separate-stderr fsmc_out keys
	[ "$stderr" = "" ]
	run -0 kept_keys_are del:{1..30} keep:{1..5}
	run -0 --separate-stderr fsmc_out keys keep:
	run -0 kept_keys_are keep:{1..5}
}

@test "--json keys with replicas = 1: each key once, with the servers that hold it in the order of the configuration" {
	local where=$BATS_TEST_TMPDIR/where
	own_pool 3 'replicas = 1;'
	load_prefixes
	placed keep: 5 >"$where"
	run -0 --separate-stderr fsmc_out --json keys keep:
	[ "$stderr" = "" ]
	run -0 python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
pool = sys.argv[3].split(", ")
own = dict(line.split() for line in open(sys.argv[2]))
assert (d["status"], d["exit"], d["failures"]) == ("ok", 0, []), d
got = {k["key"]: k["servers"] for k in d["keys"]}
assert len(got) == len(d["keys"]) == 5, d["keys"]
for key, s in own.items():
    i = pool.index(s)
    want = sorted([s, pool[(i + 1) % 3]], key=pool.index)
    assert got[key] == want, (key, got[key], want)
' "$BATS_TEST_TMPDIR/stdout" "$where" "$POOL"
}

@test "--json keys: a key that every server holds (copies another configuration left) is listed once with all three" {
	local s
	own_pool 3
	for s in ${POOL//,/}; do
		run -0 "$FSMC_BIN" -c /dev/null -s "$s" set everywhere v
	done
	run -0 --separate-stderr fsmc_out --json keys every
	[ "$stderr" = "" ]
	run -0 python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert [k["key"] for k in d["keys"]] == ["everywhere"], d
print(", ".join(d["keys"][0]["servers"]))
' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = "$POOL" ]
}

@test "--json keys with a server down: the keys, and the failure as a record of its own, exit 69" {
	local dead
	own_pool 2
	load_prefixes
	dead=$(pool_kill 1)
	run -69 --separate-stderr fsmc_out --json keys keep:
	[ "$stderr" = "fsmemcache: keys: connection refused ($dead)" ]
	run -0 python3 -c '
import json, sys
text = open(sys.argv[1]).read()
assert text.endswith("\n") and text.count("\n") == 1, "not one line"
d = json.loads(text)
live, dead = sys.argv[2].split(", ")
assert dead == sys.argv[3]
assert (d["status"], d["exit"]) == ("unavailable", 69), d
assert d["error"] == "SOME ERRORS WERE REPORTED", d
assert d["message"] == "keys: connection refused (%s)" % dead, d
assert d["failures"] == [{"server": dead, "status": "unavailable",
    "exit": 69, "error": "connection refused"}], d["failures"]
for k in d["keys"]:
    assert k["key"].startswith("keep:") and k["servers"] == [live], k
print(len(d["keys"]))
' "$BATS_TEST_TMPDIR/stdout" "$POOL" "$dead"
	[ "$output" -gt 0 ]
	[ "$output" -lt 5 ]
}

@test "delete by prefix (keys | sed | fsmemcache -f -) with replicas = 1: each key deleted once, every copy, nothing else" {
	own_pool 3 'replicas = 1;'
	load_prefixes
	run -0 delete_by_prefix del:
	[ "$output" = "0 0 0" ]
	run -0 cat "$BATS_TEST_TMPDIR/keys.err"
	[ "$output" = "" ]
	run -0 cmp "$BATS_TEST_TMPDIR/delete.out" <(yes +OK | head -n 30)
	run -0 cat "$BATS_TEST_TMPDIR/delete.err"
	[[ $output == "fsmemcache: 30 lines: 30 ok, 0 not found, 0 not stored, 0 errors; "* ]]
	run -0 no_key_left del:
	run -0 --separate-stderr fsmc_out keys
	run -0 kept_keys_are keep:{1..5}
}

@test "delete by prefix with a server down: the live servers' keys are deleted, keys exits 69 and says why on standard error" {
	local dead n live
	own_pool 3
	load_prefixes
	dead=$(pool_kill 1)
	n=$(placed_on del: 30 "$dead" not | wc -l)
	[ "$n" -gt 0 ]
	[ "$n" -lt 30 ]
	run -0 delete_by_prefix del:
	[ "$output" = "69 0 0" ]
	run -0 cat "$BATS_TEST_TMPDIR/keys.err"
	[ "$output" = "-ERR SOME ERRORS WERE REPORTED
fsmemcache: keys: connection refused ($dead)" ]
	run -0 cmp "$BATS_TEST_TMPDIR/delete.out" <(yes +OK | head -n "$n")
	run -0 cat "$BATS_TEST_TMPDIR/delete.err"
	[[ $output == "fsmemcache: $n lines: $n ok, 0 not found, 0 not stored, 0 errors; "* ]]
	run -0 no_key_left del: "$dead"
	run -69 --separate-stderr fsmc_out keys
	mapfile -t live < <(placed_on keep: 5 "$dead" not)
	run -0 kept_keys_are "${live[@]}"
}

@test "delete by prefix with replicas = 1 and a server down: what is left is exactly the copies of keys whose own server is down, each a failed line, exit 69" {
	local dead lost
	own_pool 3 'replicas = 1;'
	load_prefixes
	dead=$(pool_kill 0)
	placed_on del: 30 "$dead" >"$BATS_TEST_TMPDIR/lost"
	lost=$(wc -l <"$BATS_TEST_TMPDIR/lost")
	[ "$lost" -gt 0 ]
	run -0 delete_by_prefix del:
	[ "$output" = "69 0 69" ]
	run -0 grep -c -x -F -- '-ERR CONNECTION FAILURE' "$BATS_TEST_TMPDIR/delete.out"
	[ "$output" = "$lost" ]
	run -0 grep -c -x -F +OK "$BATS_TEST_TMPDIR/delete.out"
	[ "$output" = $((30 - lost)) ]
	run -0 tail -n 1 "$BATS_TEST_TMPDIR/delete.err"
	[[ $output == "fsmemcache: 30 lines: $((30 - lost)) ok, 0 not found, 0 not stored, $lost errors; "* ]]
	run -69 --separate-stderr fsmc_out keys del:
	run -0 cmp <(LC_ALL=C sort "$BATS_TEST_TMPDIR/stdout") \
	    <(LC_ALL=C sort "$BATS_TEST_TMPDIR/lost")
}

@test "keys lists 250,000 keys that replicas = 1 puts on both of two servers once each, within 10 s and 64 MiB" {
	local load=$BATS_TEST_TMPDIR/load.txt t0 ms
	own_pool 2 'replicas = 1;'
	seq -f 'set big%g v' 1 250000 >"$load"
	run -0 --separate-stderr fsmc --pipe -f "$load"
	t0=$(now_ms)
	ASAN_OPTIONS=$(measured_asan) run -0 --separate-stderr to_file \
	    /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" \
	    "$FSMC_BIN" -c "$FSMC_CFG" -t 10000 keys big
	ms=$(($(now_ms) - t0))
	[ "$stderr" = "" ]
	run -0 cmp <(LC_ALL=C sort "$BATS_TEST_TMPDIR/stdout") \
	    <(seq -f 'big%g' 1 250000 | LC_ALL=C sort)
	[ "$ms" -lt 10000 ]
	echo "peak RSS: $(cat "$BATS_TEST_TMPDIR/rss") KiB"
	[ "$(cat "$BATS_TEST_TMPDIR/rss")" -lt $((64 * 1024)) ]
	# One more key is over the limit, on each server: the copy goes out
	# without a reply, so wait until both servers hold it.
	run -0 fsmc set big250001 v
	local s deadline=$((SECONDS + 10))
	for s in ${POOL//,/ }; do
		until "$FSMC_BIN" -c /dev/null -s "$s" get big250001 >/dev/null 2>&1; do
			[ "$SECONDS" -le "$deadline" ]
			sleep 0.05
		done
	done
	# A deadline that a loaded machine cannot reach: the limit is tested.
	run -76 --separate-stderr fsmc_out -t 10000 keys big
	[ "$(wc -l <"$BATS_TEST_TMPDIR/stdout")" -eq 250000 ]
	# The first server past the limit is named; the other may be too.
	[[ ${stderr_lines[1]} == "fsmemcache: keys: more than 250000 keys: a longer prefix lists fewer (127.0.0.1:"*")" ||
	    ${stderr_lines[1]} == "fsmemcache: keys: more than 250000 keys: a longer prefix lists fewer (127.0.0.1:"*") and 1 more server" ]]
}

# ---- -r and -i ----

@test "-r 3 runs the command three times, each reply on its line" {
	run -0 --separate-stderr fsmc_out -r 3 increment "c$BATS_TEST_NUMBER"
	out_is '1\n2\n3\n'
	[ "$stderr" = "" ]
}

@test "-r 1 prints as without -r: a value without a newline" {
	run -0 fsmc set "r$BATS_TEST_NUMBER" v
	run -0 --separate-stderr fsmc_out -r 1 get "r$BATS_TEST_NUMBER"
	out_is 'v'
}

@test "-r 3 -i 0.2 waits 0.2 s between runs" {
	local start elapsed k=r$BATS_TEST_NUMBER
	run -0 fsmc set "$k" v
	start=$(now_ms)
	run -0 --separate-stderr fsmc_out -r 3 -i 0.2 get "$k"
	elapsed=$(($(now_ms) - start))
	out_is 'v\nv\nv\n'
	[ "$stderr" = "" ]
	[ "$elapsed" -ge 400 ]
}

@test "-i alone repeats until interrupted" {
	local k=r$BATS_TEST_NUMBER
	run -0 fsmc set "$k" v
	run -124 --separate-stderr to_file timeout -s INT 1 \
	    env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    "$FSMC_BIN" -c "$FSMC_CFG" -i 0.1 get "$k"
	[ "$stderr" = "" ]
	kept_lines
	[ "${#got[@]}" -ge 3 ]
	run -1 grep -c -v -x v "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = 0 ]
}

@test "-r 0 repeats until interrupted" {
	local k=r$BATS_TEST_NUMBER
	run -0 fsmc set "$k" v
	run -124 --separate-stderr to_file timeout -s INT 0.5 \
	    env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    "$FSMC_BIN" -c "$FSMC_CFG" -r 0 get "$k"
	[ "$stderr" = "" ]
	kept_lines
	[ "${#got[@]}" -ge 3 ]
	run -1 grep -c -v -x v "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = 0 ]
}

@test "a bad -r count or -i interval is a usage error, exit 64" {
	local arg
	for arg in abc -1 1.5 ''; do
		run -64 --separate-stderr fsmc_out -r "$arg" get k
		stdout_is ""
		[ "$stderr" = "fsmemcache: -r: bad count '$arg' (see fsmemcache -h)" ]
	done
	for arg in -1 abc 1x ''; do
		run -64 --separate-stderr fsmc_out -i "$arg" get k
		stdout_is ""
		[ "$stderr" = "fsmemcache: -i: bad interval '$arg' (see fsmemcache -h)" ]
	done
}

# ---- status verbose on a terminal ----

@test "status verbose on a terminal is a table with the server's column" {
	local out=$BATS_TEST_TMPDIR/tty version
	run -0 on_tty status verbose
	tty_lines
	[ "${got[0]}" = "Lib version: $(lib_version)" ]
	[[ "${got[1]}" =~ ^Servers:\ +127\.0\.0\.1:$MC_PORT$ ]]
	[[ "${got[2]}" =~ ^state\ +up$ ]]
	version=$(mc_stat version)
	[[ "${got[3]}" =~ ^version\ +${version//./\\.}$ ]]
	[[ "${got[4]}" =~ ^uptime\ +[0-9]+$ ]]
	run -0 grep -c -E "^pid +$MC_PID\$" "$out"
	[ "$output" = 1 ]
	run -1 grep -c -E '^ ' "$out"
	[ "$output" = 0 ]
}

@test "status verbose on a terminal: names over 24 characters do not shift the columns" {
	run -0 on_tty_cols 200 status verbose
	run -0 grep -c -E '^[a-z_]{25,} ' "$BATS_TEST_TMPDIR/tty"
	[ "$output" -ge 1 ]
	run -0 table_shape 200
	[ "$output" = $'1\nup' ]
}

@test "status verbose on a terminal: a long state stands apart from the next column" {
	dead_first
	run -69 on_tty_cols 200 status verbose
	run -0 table_shape 200
	[ "$output" = $'2\nCONNECTION FAILURE|up' ]
}

@test "status verbose on a terminal: 5 servers fit 80 columns, in as many tables as needed" {
	local ports=() i
	own_server
	ports+=("$MC_PORT")
	mc_spawn
	ports+=("$MC_PORT")
	mc_spawn
	ports+=("$MC_PORT")
	ports+=("$(free_port)" "$(free_port)")
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d";\n' \
	    "${ports[@]}" >"$FSMC_CFG"
	run -69 on_tty_cols 80 status verbose
	run -0 table_shape 80
	# The tables hold the five servers in order, and no table holds them all.
	read -r -a shape <<<"${lines[0]}"
	[ "${#shape[@]}" -ge 2 ]
	[ $((${shape[*]/%/+}0)) -eq 5 ]
	[ "$(printf '%s\n' "${lines[@]:1}" | tr '\n' '|')" = "up|up|up|CONNECTION FAILURE|CONNECTION FAILURE|" ]
	for i in 0 1 2 3 4; do
		run -0 grep -c -E "^Servers: .* 127\.0\.0\.1:${ports[i]}( |\$)" \
		    "$BATS_TEST_TMPDIR/tty"
		[ "$output" = 1 ]
	done
}

@test "status verbose piped keeps the module's format" {
	run -0 --separate-stderr fsmc_out status verbose
	kept_lines
	[ "${got[2]}" = "  127.0.0.1 ($MC_PORT)" ]
	[ "${got[3]}" = "    pid: $MC_PID" ]
}

@test "status verbose on a terminal with a dead server: its state and '-' cells, exit 69" {
	local out=$BATS_TEST_TMPDIR/tty n last version
	dead_first
	run -69 on_tty status verbose
	tty_lines
	last=$((${#got[@]} - 1))
	[[ "${got[1]}" =~ ^Servers:\ +127\.0\.0\.1:$DEAD_PORT\ +127\.0\.0\.1:$MC_PORT$ ]]
	[[ "${got[2]}" =~ ^state\ +CONNECTION\ FAILURE\ +up$ ]]
	version=$(mc_stat version)
	[[ "${got[3]}" =~ ^version\ +-\ +${version//./\\.}$ ]]
	[[ "${got[4]}" =~ ^uptime\ +-\ +[0-9]+$ ]]
	# Every statistic row has "-" for the dead server.
	for ((n = 3; n < last; n++)); do
		[[ "${got[n]}" =~ ^[a-z0-9_:]+\ +-\ +[^\ ]+$ ]]
	done
	[ "${got[last]}" = "fsmemcache: status: connection refused (127.0.0.1:$DEAD_PORT)" ]
}
