#!/usr/bin/env bats
# The views of a pool: stats and its groups, slabs, top and latency, in pipes, on terminals and in JSON.
# shellcheck disable=SC2154,SC2016 # bats' run --separate-stderr sets $stderr; awk and python programs in single quotes

load helper

FAKE=$BATS_TEST_DIRNAME/fake-memcached.py
# What a table drawn over the last one sends: clear the rest of the line,
# and three lines up.
EL=$'\e[K'
UP3=$'\e[3A'

setup_file() {
	mc_start
	FILE_PID=$MC_PID
	FILE_PORT=$MC_PORT
	export FILE_PID FILE_PORT
}
teardown_file() { mc_stop; }

# Stop what the test started: its servers at once (they hold nothing
# worth keeping), a fake, a run left in the background.
teardown() {
	local pid pids
	if [ -n "${BG_PID-}" ]; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	if [ -n "${FAKE_PID-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	mapfile -t pids <"$BATS_FILE_TMPDIR/memcached.pids"
	for pid in "${pids[@]}"; do
		if [ "$pid" != "$FILE_PID" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			mc_kill "$pid"
		fi
	done
}

# A server of the test's own, with nothing in it, and a configuration
# naming it; extra arguments go to memcached.  Sets MC_PORT, MC_PID and
# FSMC_CFG.
own_server() {
	mc_spawn "$@"
	FSMC_CFG=$BATS_TEST_TMPDIR/own-$MC_PORT.cfg
	printf 'servers = "127.0.0.1:%d";\n' "$MC_PORT" >"$FSMC_CFG"
}

# A free port: one a server listened on, killed at once.
free_port() {
	mc_spawn
	kill -KILL "$MC_PID"
	mc_kill "$MC_PID"
	echo "$MC_PORT"
}

# A configuration naming the servers on the ports given, in that order.
ports_cfg() {
	local list="" p
	for p in "$@"; do
		list+="${list:+, }127.0.0.1:$p"
	done
	FSMC_CFG=$BATS_TEST_TMPDIR/ports.cfg
	printf 'servers = "%s";\n' "$list" >"$FSMC_CFG"
}

# Milliseconds since the epoch.
now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((t / 1000))
}

# Run fsmemcache in the background, its output in $BATS_TEST_TMPDIR;
# SIGINT is left to its default, which a script's background jobs are
# not.  Sets BG_PID.
bg_run() {
	env --default-signal=INT -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    "$FSMC_BIN" -c "$FSMC_CFG" "$@" </dev/null \
	    >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" 3>&- &
	BG_PID=$!
}

# Wait up to $1 seconds for the background run to end by itself; its
# exit status in $BG_STATUS and its standard error in $stderr.
bg_wait() {
	local deadline=$((SECONDS + $1))
	while kill -0 "$BG_PID" 2>/dev/null && [ "$SECONDS" -le "$deadline" ]; do
		sleep 0.02
	done
	if kill -0 "$BG_PID" 2>/dev/null; then
		echo "still running after $1 s" >&2
		return 1
	fi
	BG_STATUS=0
	wait "$BG_PID" || BG_STATUS=$?
	BG_PID=
	stderr=$(cat "$BATS_TEST_TMPDIR/stderr")
}

# Poll until the current server has $1 connections open, counting the
# one that asks; 5 s at most.
wait_conns() {
	local deadline=$((SECONDS + 5))
	until [ "$(mc_stat curr_connections)" -ge "$1" ]; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "fewer than $1 connections after 5 s" >&2
			return 1
		fi
		sleep 0.02
	done
}

# Poll until the background run's standard output has $1 lines; 10 s
# at most.
wait_lines() {
	local deadline=$((SECONDS + 10))
	until [ "$(wc -l <"$BATS_TEST_TMPDIR/stdout")" -ge "$1" ]; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "fewer than $1 lines after 10 s" >&2
			return 1
		fi
		sleep 0.02
	done
}

# Run fsmemcache on a terminal $1 columns wide, with the output in
# $BATS_TEST_TMPDIR/tty (carriage returns removed) and the exit status
# in $status.  The terminal mixes standard error into it.
on_tty() {
	local cmd
	cmd="stty cols $1 rows 50; exec $(printf '%q ' env -u FSMEMCACHE_CONFIG \
	    -u MEMCACHED_SERVERS -u COLUMNS "$FSMC_BIN" -c "$FSMC_CFG" "${@:2}")"
	SHELL=/bin/bash script -qec "$cmd" /dev/null |
	    tr -d '\r' >"$BATS_TEST_TMPDIR/tty"
	return "${PIPESTATUS[0]}"
}

# The widest line that on_tty kept, in columns.
tty_width() {
	awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }' \
	    "$BATS_TEST_TMPDIR/tty"
}

# A fake memcached (tests/fake-memcached.py) with the arguments given;
# its port in FAKE_PORT.
fake_start() {
	local dir deadline=$((SECONDS + 10))
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	python3 "$FAKE" --port-file "$dir/port" --lifetime 60 "$@" \
	    >"$dir/output" 2>&1 3>&- &
	FAKE_PID=$!
	until [ -s "$dir/port" ]; do
		if ! kill -0 "$FAKE_PID" 2>/dev/null ||
		    [ "$SECONDS" -gt "$deadline" ]; then
			cat "$dir/output" >&2
			return 1
		fi
		sleep 0.01
	done
	read -r FAKE_PORT <"$dir/port"
}

# The server's answer to stats GROUP as fsmemcache prints it piped.
raw_lines() {
	mc_raw "stats${1:+ $1}" | sed -n "s/^STAT /127.0.0.1:$MC_PORT /p"
}

# ---- stats ----

@test "stats settings: a SERVER NAME VALUE line for each setting, as the server gives them" {
	run -0 --separate-stderr fsmc_out stats settings
	[ "$stderr" = "" ]
	raw_lines settings >"$BATS_TEST_TMPDIR/want"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/want")" -gt 30 ]
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/stdout"
}

@test "stats: every general statistic, in the server's order" {
	run -0 --separate-stderr fsmc_out stats
	[ "$stderr" = "" ]
	run -0 awk '{ print $1, $2 }' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = "$(raw_lines | awk '{ print $1, $2 }')" ]
	run -0 grep -c -x "127.0.0.1:$MC_PORT pid $MC_PID" "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = 1 ]
}

@test "stats slabs, items, sizes and conns: the group's statistics" {
	local g
	run -0 fsmc set st:group value
	for g in slabs items sizes conns; do
		run -0 --separate-stderr fsmc_out stats "$g"
		[ "$stderr" = "" ]
		run -0 awk '{ print $1, $2 }' "$BATS_TEST_TMPDIR/stdout"
		[ -n "$output" ]
		[ "$output" = "$(raw_lines "$g" | awk '{ print $1, $2 }')" ]
	done
	run -0 fsmc_out stats sizes
	out_is "127.0.0.1:$MC_PORT sizes_status disabled\n"
}

@test "stats extstore of a server without external storage: no lines, exit 0" {
	run -0 --separate-stderr fsmc_out stats extstore
	out_is ""
	[ "$stderr" = "" ]
}

@test "stats groups ignore case; an unknown group is a usage error, 64" {
	run -0 fsmc_out stats SETTINGS
	raw_lines settings | cmp - "$BATS_TEST_TMPDIR/stdout"
	run -64 --separate-stderr fsmc_out stats reset
	stdout_is "$USAGE"
	[ "$stderr" = "fsmemcache: stats: unknown group 'reset' (settings, slabs, items, sizes, conns or extstore)" ]
	run -64 --separate-stderr fsmc stats slabs items
	[ "$stderr" = "fsmemcache: stats: too many arguments" ]
}

@test "stats of two servers: the first server's lines, then the second's" {
	local first=$MC_PORT
	own_server
	ports_cfg "$first" "$MC_PORT"
	run -0 --separate-stderr fsmc_out stats settings
	[ "$stderr" = "" ]
	{ MC_PORT=$first raw_lines settings; raw_lines settings; } |
	    cmp - "$BATS_TEST_TMPDIR/stdout"
}

@test "stats with a server down: the others' lines, -ERR and the reason on standard error, exit 69" {
	local dead
	dead=$(free_port)
	ports_cfg "$dead" "$MC_PORT"
	run -69 --separate-stderr fsmc_out stats settings
	raw_lines settings | cmp - "$BATS_TEST_TMPDIR/stdout"
	[ "$stderr" = "-ERR CONNECTION FAILURE
fsmemcache: stats: connection refused (127.0.0.1:$dead)" ]
	run -69 --separate-stderr fsmc_out -q stats settings
	raw_lines settings | cmp - "$BATS_TEST_TMPDIR/stdout"
	[ "${stderr_lines[0]}" = "-ERR CONNECTION FAILURE" ]
}

@test "stats --json: the group, and each server's statistics or error" {
	local dead
	dead=$(free_port)
	ports_cfg "$MC_PORT" "$dead"
	run -69 --separate-stderr fsmc --json stats settings
	run -0 python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert o["command"] == "stats" and o["group"] == "settings", o
assert o["status"] == "unavailable" and o["exit"] == 69, o
a, b = o["servers"]
assert a["up"] is True and a["port"] == int(sys.argv[2]), a
assert a["stats"]["tcpport"] == sys.argv[2], a
assert b == {"host": "127.0.0.1", "port": int(sys.argv[3]), "up": False,
    "error": "CONNECTION FAILURE"}, b
print(len(a["stats"]))' "$output" "$MC_PORT" "$dead"
	[ "$output" = "$(raw_lines settings | wc -l)" ]
	run -69 fsmc --json stats
	[[ $output == *'"group":null,'* ]]
}

@test "stats --binary gives what the text protocol gives" {
	run -0 fsmc_out --binary stats settings
	raw_lines settings | cmp - "$BATS_TEST_TMPDIR/stdout"
}

@test "stats on a terminal: a row per statistic, a column per server, as wide as the terminal" {
	local dead
	dead=$(free_port)
	ports_cfg "$MC_PORT" "$dead" "$MC_PORT"
	run -69 on_tty 60 stats settings
	[ "$(tty_width)" -le 60 ]
	run -0 grep -c -E "^stats settings +127\.0\.0\.1:$MC_PORT +127\.0\.0\.1:$dead\$" "$BATS_TEST_TMPDIR/tty"
	[ "$output" = 1 ]
	# The third server does not fit beside the two: a table of its own.
	run -0 grep -c -E "^stats settings +127\.0\.0\.1:$MC_PORT\$" "$BATS_TEST_TMPDIR/tty"
	[ "$output" = 1 ]
	run -0 grep -c -E '^state +up +CONNECTION FAILURE$' "$BATS_TEST_TMPDIR/tty"
	[ "$output" = 1 ]
	run -0 grep -c -E "^tcpport +$MC_PORT +-\$" "$BATS_TEST_TMPDIR/tty"
	[ "$output" = 1 ]
	run -0 grep -c -x "fsmemcache: stats: connection refused (127.0.0.1:$dead)" "$BATS_TEST_TMPDIR/tty"
	[ "$output" = 1 ]
}

# ---- slabs ----

@test "slabs of an empty server: its total alone" {
	own_server
	run -0 --separate-stderr fsmc_out slabs
	[ "$stderr" = "" ]
	out_is "127.0.0.1:$MC_PORT total - 0 0 0 0 - 0 - -\n"
}

@test "slabs: a line per class with pages, as stats slabs and stats items give it, then the total" {
	local cls size
	own_server
	run -0 fsmc set sl:small abc
	run -0 fsmc set sl:big "$(head -c 3000 /dev/zero | tr '\0' y)"
	run -0 --separate-stderr fsmc_out slabs
	[ "$stderr" = "" ]
	want=()
	for cls in $(mc_raw "stats slabs" | sed -n 's/^STAT \([0-9]*\):total_pages [1-9].*/\1/p'); do
		size=$(mc_raw "stats slabs" | sed -n "s/^STAT $cls:chunk_size //p")
		want+=("127.0.0.1:$MC_PORT $cls $size 1 1 AGE 0 0 0 no -")
	done
	[ "${#want[@]}" -eq 2 ]
	want+=("127.0.0.1:$MC_PORT total - 2 2 AGE 0 - 0 - -")
	# Ages tick: compare them apart.
	run -0 awk '{ $6 = "AGE"; print }' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = "$(printf '%s\n' "${want[@]}")" ]
	run -0 awk '$6 !~ /^[0-9]+$/ || $6 > 60' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = "" ]
}

@test "slabs marks the classes that evict, and those full" {
	local value cls evicted
	own_server -m 2
	value=$(head -c 50000 /dev/zero | tr '\0' x)
	seq -f "set fill%g $value" 1 200 >"$BATS_TEST_TMPDIR/fill.txt"
	run -0 --separate-stderr fsmc --pipe -f "$BATS_TEST_TMPDIR/fill.txt"
	[ "$(mc_stat evictions)" -gt 0 ]
	run -0 --separate-stderr fsmc_out slabs
	cls=$(mc_raw "stats items" | sed -n 's/^STAT items:\([0-9]*\):evicted [1-9].*/\1/p')
	evicted=$(mc_raw "stats items" | sed -n "s/^STAT items:$cls:evicted //p")
	run -0 grep -c -E "^127\.0\.0\.1:$MC_PORT $cls [0-9]+ [0-9]+ [0-9]+ [0-9]+ $evicted [0-9]+ 0 yes evicting\$" "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = 1 ]
	run -0 grep -c -E "^127\.0\.0\.1:$MC_PORT total - [0-9]+ [0-9]+ [0-9]+ $evicted - 0 - evicting\$" "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = 1 ]
	run -0 grep -c ' evicting$' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = 2 ]
}

@test "slabs of two servers: each one's classes and total, then the pool's as all" {
	local first
	own_server
	first=$MC_PORT
	run -0 fsmc set sl:a abc
	own_server
	run -0 fsmc set sl:b abc
	run -0 fsmc set sl:c abc
	ports_cfg "$first" "$MC_PORT"
	run -0 --separate-stderr fsmc_out slabs
	run -0 awk '{ $6 = "AGE"; print }' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = "127.0.0.1:$first 1 96 1 1 AGE 0 0 0 no -
127.0.0.1:$first total - 1 1 AGE 0 - 0 - -
127.0.0.1:$MC_PORT 1 96 1 2 AGE 0 0 0 no -
127.0.0.1:$MC_PORT total - 1 2 AGE 0 - 0 - -
all total - 2 3 AGE 0 - 0 - -" ]
}

@test "slabs with a server down: the others', -ERR and the reason on standard error, exit 69" {
	local dead
	dead=$(free_port)
	own_server
	ports_cfg "$MC_PORT" "$dead"
	run -69 --separate-stderr fsmc_out slabs
	out_is "127.0.0.1:$MC_PORT total - 0 0 0 0 - 0 - -\nall total - 0 0 0 0 - 0 - -\n"
	[ "$stderr" = "-ERR CONNECTION FAILURE
fsmemcache: slabs: connection refused (127.0.0.1:$dead)" ]
}

@test "slabs on a terminal: a table per server under its address, evicting classes marked" {
	local value
	own_server -m 2
	value=$(head -c 50000 /dev/zero | tr '\0' x)
	seq -f "set fill%g $value" 1 200 >"$BATS_TEST_TMPDIR/fill.txt"
	run -0 --separate-stderr fsmc --pipe -f "$BATS_TEST_TMPDIR/fill.txt"
	run -0 fsmc set sl:small abc
	run -0 on_tty 80 slabs
	mapfile -t got <"$BATS_TEST_TMPDIR/tty"
	[ "${got[0]}" = "127.0.0.1:$MC_PORT" ]
	[[ ${got[1]} =~ ^CLASS\ +SIZE\ +PAGES\ +ITEMS\ +AGE\ +FULL\ +EVICTED\ +EVICT_TIME\ +OOM$ ]]
	[[ ${got[2]} =~ ^1\ +96B\ +1\ +1\ +[0-9]+s\ +no\ +0\ +0s\ +0$ ]]
	[[ ${got[3]} =~ ^[0-9]+\ +51\.7K\ +[0-9]+\ +[0-9]+\ +[0-9]+s\ +yes\ +[1-9][0-9]*\ +[0-9]+s\ +0\ \ evicting$ ]]
	[[ ${got[4]} =~ ^total\ +[0-9]+\ +[0-9]+\ +[0-9]+s\ +[1-9][0-9]*\ +0\ \ evicting$ ]]
	[ "${#got[@]}" -eq 5 ]
}

@test "slabs --json: each server's classes and total, and the pool's" {
	own_server
	run -0 fsmc set sl:j abc
	run -0 --separate-stderr fsmc --json slabs
	[ "$stderr" = "" ]
	run -0 python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert o["command"] == "slabs" and o["status"] == "ok" and o["exit"] == 0, o
(s,) = o["servers"]
assert s["up"] is True, s
(c,) = s["classes"]
assert (c["class"], c["chunk_size"], c["pages"], c["items"], c["evicted"],
    c["oom"], c["full"], c["evicting"]) == (1, 96, 1, 1, 0, 0, False, False), c
t = dict(s["total"])
del t["age"]
assert t == {"pages": 1, "items": 1, "evicted": 0, "oom": 0,
    "evicting": False}, t
assert o["total"]["items"] == 1, o
print("ok")' "$output"
}

# ---- top ----

@test "top -r 2 -i 0.3: a line per server and interval, its time first, no sooner than the intervals" {
	local start
	start=$(now_ms)
	run -0 --separate-stderr fsmc_out -r 2 -i 0.3 top
	[ "$(($(now_ms) - start))" -ge 600 ]
	[ "$stderr" = "" ]
	mapfile -t got <"$BATS_TEST_TMPDIR/stdout"
	[ "${#got[@]}" -eq 2 ]
	re="^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2} 127\.0\.0\.1:$MC_PORT( [0-9]+\.[0-9]| -){4}( [0-9]+){5}\.[0-9]\$"
	[[ ${got[0]} =~ $re ]]
	[[ ${got[1]} =~ $re ]]
}

@test "top shows the interval's gets, sets and hit ratio, and the memory in use" {
	local conns rate
	own_server
	conns=$(mc_stat curr_connections)
	bg_run -r 1 -i 2 top
	# The first sample is taken once top's connection is open.
	wait_conns $((conns + 1))
	{
		seq -f 'set top:%g v' 1 20
		seq -f 'get top:%g' 1 20
		seq -f 'get top:miss%g' 1 20
	} >"$BATS_TEST_TMPDIR/load.txt"
	# The misses make the batch exit 1.
	run -1 --separate-stderr fsmc -f "$BATS_TEST_TMPDIR/load.txt"
	bg_wait 10
	[ "$BG_STATUS" -eq 0 ]
	[ "$stderr" = "" ]
	mapfile -t got <"$BATS_TEST_TMPDIR/stdout"
	[ "${#got[@]}" -eq 1 ]
	read -r -a f <<<"${got[0]}"
	# 40 gets and 20 sets over two seconds, and a little more.
	rate=${f[2]%.*}
	[ "$rate" -ge 13 ]
	[ "$rate" -le 20 ]
	rate=${f[3]%.*}
	[ "$rate" -ge 6 ]
	[ "$rate" -le 10 ]
	[ "${f[4]}" = 50.0 ]
	[ "${f[5]}" = 0.0 ]
	[ "${f[9]}" = "$(mc_stat bytes)" ]
	[ "${f[10]}" = "$(awk -v b="${f[9]}" -v l="$(mc_stat limit_maxbytes)" 'BEGIN { printf "%.1f", 100 * b / l }')" ]
}

@test "top of two servers adds the pool's row, all" {
	local first
	own_server
	first=$MC_PORT
	own_server
	ports_cfg "$first" "$MC_PORT"
	run -0 --separate-stderr fsmc_out -r 1 -i 0.1 top
	run -0 awk '{ print $2 }' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = "127.0.0.1:$first
127.0.0.1:$MC_PORT
all" ]
	run -0 awk '{ print $9 }' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = "1
1
2" ]
}

@test "top with a server down: '-' for its figures, its reason once on standard error, exit 69" {
	local dead
	dead=$(free_port)
	own_server
	ports_cfg "$dead" "$MC_PORT"
	run -69 --separate-stderr fsmc_out -r 2 -i 0.1 top
	[ "$stderr" = "fsmemcache: top: connection refused (127.0.0.1:$dead)" ]
	run -0 grep -c -E "^[0-9T:-]+ 127\.0\.0\.1:$dead( -){9}\$" "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = 2 ]
	run -0 grep -c -E "^[0-9T:-]+ all 0\.0 0\.0 - 0\.0 [0-9]+ [0-9]+ 1 0 0\.0\$" "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = 2 ]
}

@test "top on a terminal draws each table over the last" {
	own_server
	run -0 on_tty 100 -r 2 -i 0.1 top
	mapfile -t got <"$BATS_TEST_TMPDIR/tty"
	[ "${#got[@]}" -eq 6 ]
	[[ ${got[0]} =~ ^fsmemcache\ top:\ every\ 0\.1\ s,\ [0-9:]{8}"$EL"$ ]]
	[[ ${got[1]} =~ ^SERVER\ +GETS/S\ +SETS/S\ +HIT%\ +EVICT/S\ +IN/S\ +OUT/S\ +CONNS\ +MEMORY\ +MEM%"$EL"$ ]]
	[[ ${got[2]} =~ ^127\.0\.0\.1:$MC_PORT\ +0\.0\ +0\.0\ +-\ +0\.0\ +[0-9.]+K?\ +[0-9.]+K?\ +1\ +0\ +0\.0%"$EL"$ ]]
	# Three lines up, then the same table.
	[[ ${got[3]} =~ ^"$UP3"fsmemcache\ top:\ every\ 0\.1\ s,\ [0-9:]{8}"$EL"$ ]]
	[ "${got[4]}" = "${got[1]}" ]
	[[ ${got[5]} =~ ^127\.0\.0\.1:$MC_PORT\ +0\.0\ +0\.0\ +-\ +0\.0\ + ]]
}

@test "top --json: an object per row with each server's rates" {
	own_server
	run -0 --separate-stderr fsmc --json -r 2 -i 0.2 top
	[ "$stderr" = "" ]
	[ "${#lines[@]}" -eq 2 ]
	run -0 python3 -c '
import json, sys
for line in sys.argv[2:]:
    o = json.loads(line)
    assert o["command"] == "top" and o["status"] == "ok", o
    (s,) = o["servers"]
    assert s["up"] is True and s["port"] == int(sys.argv[1]), s
    assert 0.1 < s["interval_s"] < 5, s
    assert s["gets_per_s"] == 0 and s["hit_ratio"] is None, s
    assert s["connections"] == 1 and s["limit_maxbytes"] == 64 * 1024 * 1024, s
print("ok")' "$MC_PORT" "${lines[@]}"
}

@test "top in a batch is one sample: the rates since each server started" {
	own_server
	run -0 --separate-stderr fsmc_out -f - <<<"top"
	run -0 cat "$BATS_TEST_TMPDIR/stdout"
	[[ $output =~ ^127\.0\.0\.1:$MC_PORT( [0-9]+\.[0-9]| -){4}( [0-9]+){5}\.[0-9]$ ]]
}

@test "SIGINT ends top: the rows so far, exit 130" {
	own_server
	bg_run -i 0.1 top
	wait_lines 2
	kill -INT "$BG_PID"
	bg_wait 5
	[ "$BG_STATUS" -eq 130 ]
	[ "$stderr" = "" ]
	run -1 grep -c -v -E "^[0-9T:-]+ 127\.0\.0\.1:$MC_PORT " "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = 0 ]
}

@test "top takes no argument; --history is latency's" {
	run -64 --separate-stderr fsmc_out top now
	stdout_is "$USAGE"
	[ "$stderr" = "fsmemcache: top: too many arguments" ]
	run -64 --separate-stderr fsmc --history top
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: --history goes with latency (see fsmemcache -h)" ]
}

# ---- latency ----

@test "latency -r 5: one line per server, least <= mean <= greatest, p99 among them, 5 samples" {
	local start
	start=$(now_ms)
	run -0 --separate-stderr fsmc_out -r 5 -i 0.1 latency
	[ "$(($(now_ms) - start))" -ge 400 ]
	[ "$stderr" = "" ]
	mapfile -t got <"$BATS_TEST_TMPDIR/stdout"
	[ "${#got[@]}" -eq 1 ]
	[[ ${got[0]} =~ ^127\.0\.0\.1:$MC_PORT( [0-9]+\.[0-9]{3}){4}\ 5\ 0$ ]]
	read -r -a f <<<"${got[0]}"
	awk -v min="${f[1]}" -v avg="${f[2]}" -v max="${f[3]}" -v p99="${f[4]}" \
	    'BEGIN { exit !(min <= avg && avg <= max && min <= p99 && p99 <= max) }'
}

@test "latency is the round trip: a server that sends its version slowly" {
	fake_start --mode drip --interval 0.01 --target version
	ports_cfg "$FAKE_PORT"
	run -0 --separate-stderr fsmc_out -r 3 -i 0 latency
	read -r -a f <"$BATS_TEST_TMPDIR/stdout"
	[ "${f[0]}" = "127.0.0.1:$FAKE_PORT" ]
	# "VERSION 1.6.99\r\n": a byte every 10 ms, 15 waits at least.
	awk -v min="${f[1]}" 'BEGIN { exit !(min >= 150 && min < 900) }'
	[ "${f[5]}" = 3 ]
}

@test "latency --history -r 3 -i 0.2: three rows per server, each with its time" {
	local start
	start=$(now_ms)
	run -0 --separate-stderr fsmc_out --history -r 3 -i 0.2 latency
	[ "$(($(now_ms) - start))" -ge 600 ]
	[ "$stderr" = "" ]
	mapfile -t got <"$BATS_TEST_TMPDIR/stdout"
	[ "${#got[@]}" -eq 3 ]
	for line in "${got[@]}"; do
		[[ $line =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\ 127\.0\.0\.1:$MC_PORT( [0-9]+\.[0-9]{3}){4}\ [1-9][0-9]*\ 0$ ]]
	done
}

@test "latency with a server down: '-' and its failures, its reason once, exit 69" {
	local dead
	dead=$(free_port)
	ports_cfg "$MC_PORT" "$dead"
	run -69 --separate-stderr fsmc_out -r 4 latency
	[ "$stderr" = "fsmemcache: latency: connection refused (127.0.0.1:$dead)" ]
	mapfile -t got <"$BATS_TEST_TMPDIR/stdout"
	[ "${#got[@]}" -eq 2 ]
	[[ ${got[0]} =~ ^127\.0\.0\.1:$MC_PORT( [0-9]+\.[0-9]{3}){4}\ 4\ 0$ ]]
	[ "${got[1]}" = "127.0.0.1:$dead - - - - 0 4" ]
}

@test "latency on a terminal: a table drawn over itself, the summary last" {
	local dead
	dead=$(free_port)
	ports_cfg "$MC_PORT" "$dead"
	run -69 on_tty 100 -r 40 latency
	mapfile -t got <"$BATS_TEST_TMPDIR/tty"
	[ "${got[0]}" = "fsmemcache: latency: connection refused (127.0.0.1:$dead)" ]
	[[ ${got[1]} =~ ^SERVER\ +MIN\ ms\ +AVG\ ms\ +MAX\ ms\ +P99\ ms\ +SAMPLES\ +FAILED"$EL"$ ]]
	# The last drawing: three lines up, the header, the two servers.
	n=${#got[@]}
	[ "${got[n - 3]}" = "$UP3${got[1]}" ]
	[[ ${got[n - 2]} =~ ^127\.0\.0\.1:$MC_PORT(\ +[0-9]+\.[0-9]{3}){4}\ +40\ +0"$EL"$ ]]
	[[ ${got[n - 1]} =~ ^127\.0\.0\.1:$dead(\ +-){4}\ +0\ +40\ \ CONNECTION\ FAILURE"$EL"$ ]]
}

@test "latency --json: the summary as an object" {
	run -0 --separate-stderr fsmc --json -r 5 latency
	[ "$stderr" = "" ]
	run -0 python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert o["command"] == "latency" and o["status"] == "ok" and o["exit"] == 0, o
(s,) = o["servers"]
assert s["port"] == int(sys.argv[2]) and s["samples"] == 5, s
assert s["failed"] == 0 and "error" not in s, s
assert 0 < s["min_ms"] <= s["avg_ms"] <= s["max_ms"], s
assert s["min_ms"] <= s["p99_ms"] <= s["max_ms"], s
print("ok")' "$output" "$MC_PORT"
}

@test "latency in a batch is one round trip per server" {
	run -0 --separate-stderr fsmc_out -f - <<<"latency"
	run -0 cat "$BATS_TEST_TMPDIR/stdout"
	[[ $output =~ ^127\.0\.0\.1:$MC_PORT\ [0-9]+\.[0-9]{3}$ ]]
}

@test "latency --binary times the binary protocol's version" {
	run -0 --separate-stderr fsmc_out --binary -r 3 latency
	[ "$stderr" = "" ]
	run -0 cat "$BATS_TEST_TMPDIR/stdout"
	[[ $output =~ ^127\.0\.0\.1:$MC_PORT( [0-9]+\.[0-9]{3}){4}\ 3\ 0$ ]]
}

@test "SIGINT ends latency: the summary of the samples so far, exit 130" {
	local conns
	own_server
	conns=$(mc_stat curr_connections)
	bg_run latency
	wait_conns $((conns + 1))
	kill -INT "$BG_PID"
	bg_wait 5
	[ "$BG_STATUS" -eq 130 ]
	[ "$stderr" = "" ]
	run -0 cat "$BATS_TEST_TMPDIR/stdout"
	[[ $output =~ ^127\.0\.0\.1:$MC_PORT(( [0-9]+\.[0-9]{3}){4}\ [1-9][0-9]*| - - - - 0)\ 0$ ]]
}

# ---- hostile servers ----

@test "a server that sends floods, garbage, resets or nothing: each view fails within its deadline, printing none of it" {
	local mode c start ms words
	for mode in endless-list random huge-line reset silent; do
		fake_start --mode "$mode"
		for c in "stats" "stats items" "slabs" "-r 1 -i 0 top" \
		    "-r 2 -i 0 latency"; do
			read -r -a words <<<"$c"
			start=$(now_ms)
			run --separate-stderr to_file env -u FSMEMCACHE_CONFIG \
			    "$FSMC_BIN" -c /dev/null -s "127.0.0.1:$FAKE_PORT" \
			    -t 300 "${words[@]}"
			ms=$(($(now_ms) - start))
			echo "$mode: $c: exit $status in $ms ms: $stderr"
			[ "$ms" -lt 3000 ]
			# endless-list answers version as memcached does.
			if [ "$mode" = endless-list ] && [[ $c == *latency ]]; then
				[ "$status" -eq 0 ]
				continue
			fi
			[[ $status == 69 || $status == 76 ]]
			[[ $stderr == *"(127.0.0.1:$FAKE_PORT)"* ]]
			case $c in
			*top) run -0 grep -c -x -E "[0-9T:-]+ 127\.0\.0\.1:$FAKE_PORT( -){9}" "$BATS_TEST_TMPDIR/stdout" ;;
			*latency) run -0 grep -c -x "127\.0\.0\.1:$FAKE_PORT - - - - 0 2" "$BATS_TEST_TMPDIR/stdout" ;;
			*) run -0 wc -l <"$BATS_TEST_TMPDIR/stdout" ;;
			esac
			[ "$output" = "$([[ $c == stats* || $c == slabs ]] && echo 0 || echo 1)" ]
		done
		kill "$FAKE_PID"
		wait "$FAKE_PID" || true
		FAKE_PID=
	done
}
