#!/usr/bin/env bats
# Commands that ask every server ask them all at once: three hung servers cost one deadline, and the output and exit status are as when they were asked in turn.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

FAKE=$BATS_TEST_DIRNAME/fake-memcached.py

# Three memcacheds stopped with SIGSTOP, which accept connections but
# never answer (HUNG1..HUNG3), and a fake memcached whose replies never
# change (LIVE), in the configuration HUNG_CFG as HUNG1, LIVE, HUNG2,
# HUNG3: the first to fail comes before the one that answers.
setup_file() {
	local n dir deadline=$((SECONDS + 10))
	for n in 1 2 3; do
		mc_spawn
		kill -STOP "$MC_PID"
		export "HUNG$n=$MC_PORT"
	done
	dir=$BATS_FILE_TMPDIR/live
	mkdir -p "$dir"
	python3 "$FAKE" --port-file "$dir/port" --mode valid --lifetime 600 \
	    >"$dir/output" 2>&1 3>&- &
	echo "$!" >"$dir/pid"
	until [ -s "$dir/port" ]; do
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.01
	done
	read -r LIVE <"$dir/port"
	HUNG_CFG=$BATS_FILE_TMPDIR/hung.cfg
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d";\n' \
	    "$HUNG1" "$LIVE" "$HUNG2" "$HUNG3" >"$HUNG_CFG"
	export LIVE HUNG_CFG
}

# A stopped process acts on SIGTERM only once it is continued.
teardown_file() {
	local pid
	if [ -f "$BATS_FILE_TMPDIR/live/pid" ]; then
		read -r pid <"$BATS_FILE_TMPDIR/live/pid"
		kill "$pid" 2>/dev/null || true
	fi
	if [ -f "$BATS_FILE_TMPDIR/memcached.pids" ]; then
		while read -r pid; do
			kill -CONT "$pid" 2>/dev/null || true
		done <"$BATS_FILE_TMPDIR/memcached.pids"
	fi
	mc_stop
}

teardown() {
	local pid
	if [ -f "$BATS_TEST_TMPDIR/pids" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null || true
		done <"$BATS_TEST_TMPDIR/pids"
	fi
}

# Run fsmc against the hung servers with a 500 ms timeout, its standard
# output kept by to_file, and how long it took, in ms, in $ELAPSED.
hung() {
	local start
	start=$(date +%s%N)
	run --separate-stderr to_file fsmc -c "$HUNG_CFG" -t 500 "$@"
	ELAPSED=$((($(date +%s%N) - start) / 1000000))
	echo "took $ELAPSED ms"
}

# Three deadlines of 500 ms in turn are 1500 ms at least; one, with a
# generous margin for a loaded machine, is under 1400 ms.
one_deadline() {
	[ "$ELAPSED" -lt 1400 ]
}

# The error that every command gives for the hung servers.
TIMED_OUT="timed out (127.0.0.1:$HUNG1) and 2 more servers"

@test "status verbose: three hung servers cost one deadline; their errors and the live one's statistics in order, exit 69" {
	hung status verbose
	[ "$status" -eq 69 ]
	one_deadline
	out_is "Lib version: $(lib_version)
Servers: 4
  127.0.0.1 ($HUNG1)
    error: A TIMEOUT OCCURRED
  127.0.0.1 ($LIVE)
    pid: 1
    uptime: 10
    version: 1.6.99
  127.0.0.1 ($HUNG2)
    error: A TIMEOUT OCCURRED
  127.0.0.1 ($HUNG3)
    error: A TIMEOUT OCCURRED\n"
	[ "$stderr" = "fsmemcache: status: $TIMED_OUT" ]
}

@test "status verbose --json: the same servers in the same order, exit 69" {
	hung --json status verbose
	[ "$status" -eq 69 ]
	one_deadline
	out_is "{\"command\":\"status\",\"status\":\"unavailable\",\"exit\":69,\"lib_version\":\"$(lib_version)\",\"servers\":[{\"host\":\"127.0.0.1\",\"port\":$HUNG1,\"up\":false,\"error\":\"A TIMEOUT OCCURRED\"},{\"host\":\"127.0.0.1\",\"port\":$LIVE,\"up\":true,\"stats\":{\"pid\":\"1\",\"uptime\":\"10\",\"version\":\"1.6.99\"}},{\"host\":\"127.0.0.1\",\"port\":$HUNG2,\"up\":false,\"error\":\"A TIMEOUT OCCURRED\"},{\"host\":\"127.0.0.1\",\"port\":$HUNG3,\"up\":false,\"error\":\"A TIMEOUT OCCURRED\"}],\"message\":\"status: $TIMED_OUT\"}\n"
}

@test "status without verbose asks no server, exit 0" {
	hung status
	[ "$status" -eq 0 ]
	out_is "Lib version: $(lib_version)
Servers: 4
  127.0.0.1 ($HUNG1)
  127.0.0.1 ($LIVE)
  127.0.0.1 ($HUNG2)
  127.0.0.1 ($HUNG3)\n"
}

@test "health: each of its two samples costs one deadline; the verdict as before, exit 2" {
	hung -i 0.1 health
	[ "$status" -eq 2 ]
	one_deadline
	# The response time is the only figure that changes between runs.
	sed -E 's/_time=[0-9.]+s/_time=Ts/; s/response [0-9.]+ ms/response T ms/' \
	    "$BATS_TEST_TMPDIR/stdout" >"$BATS_TEST_TMPDIR/masked"
	printf '%s\n' "MEMCACHE CRITICAL: 127.0.0.1:$HUNG1 down; 127.0.0.1:$HUNG2 down; 127.0.0.1:$HUNG3 down | 127.0.0.1:${LIVE}_hit=U;;;0;100 127.0.0.1:${LIVE}_evictions=U;;;0 127.0.0.1:${LIVE}_memory=U;;;0;100 127.0.0.1:${LIVE}_connections=U;;;0 127.0.0.1:${LIVE}_time=Ts;;;0" \
	    "  127.0.0.1:$HUNG1 down: A TIMEOUT OCCURRED" \
	    "  127.0.0.1:$LIVE up: version 1.6.99, uptime 10 s, ? connections, hit ratio n/a, evictions n/a, memory n/a, response T ms" \
	    "  127.0.0.1:$HUNG2 down: A TIMEOUT OCCURRED" \
	    "  127.0.0.1:$HUNG3 down: A TIMEOUT OCCURRED" |
	    cmp - "$BATS_TEST_TMPDIR/masked"
	[ "$stderr" = "fsmemcache: health: $TIMED_OUT" ]
}

@test "keys: the live server's keys after one deadline, the first hung server named, exit 69" {
	hung keys -l
	[ "$status" -eq 69 ]
	one_deadline
	out_is "127.0.0.1:$LIVE k\n"
	[ "$stderr" = "-ERR SOME ERRORS WERE REPORTED
fsmemcache: keys: $TIMED_OUT" ]
}

@test "keys --json: each hung server's failure, in order, exit 69" {
	hung --json keys
	[ "$status" -eq 69 ]
	one_deadline
	out_is "{\"command\":\"keys\",\"status\":\"unavailable\",\"exit\":69,\"keys\":[{\"exp\":-1,\"size\":1,\"key\":\"k\",\"servers\":[\"127.0.0.1:$LIVE\"]}],\"failures\":[{\"server\":\"127.0.0.1:$HUNG1\",\"status\":\"unavailable\",\"exit\":69,\"error\":\"timed out\"},{\"server\":\"127.0.0.1:$HUNG2\",\"status\":\"unavailable\",\"exit\":69,\"error\":\"timed out\"},{\"server\":\"127.0.0.1:$HUNG3\",\"status\":\"unavailable\",\"exit\":69,\"error\":\"timed out\"}],\"error\":\"SOME ERRORS WERE REPORTED\",\"message\":\"keys: $TIMED_OUT\"}\n"
}

@test "flush: the live server is flushed and three hung servers cost one deadline, exit 69" {
	hung flush
	[ "$status" -eq 69 ]
	one_deadline
	out_is '-ERR SOME ERRORS WERE REPORTED\n'
	[ "$stderr" = "fsmemcache: flush: $TIMED_OUT" ]
}

@test "stats: the live server's statistics after one deadline, exit 69" {
	hung stats
	[ "$status" -eq 69 ]
	one_deadline
	out_is "127.0.0.1:$LIVE pid 1
127.0.0.1:$LIVE uptime 10
127.0.0.1:$LIVE version 1.6.99\n"
	[ "$stderr" = "-ERR SOME ERRORS WERE REPORTED
fsmemcache: stats: $TIMED_OUT" ]
}

@test "slabs and latency: one deadline each, exit 69" {
	hung slabs
	[ "$status" -eq 69 ]
	one_deadline
	out_is "127.0.0.1:$LIVE total - 0 0 0 0 - 0 - -
all total - 0 0 0 0 - 0 - -\n"
	[ "$stderr" = "-ERR SOME ERRORS WERE REPORTED
fsmemcache: slabs: $TIMED_OUT" ]
	hung -r 1 latency
	[ "$status" -eq 69 ]
	one_deadline
	[ "$(sed -n '1p;3,4p' "$BATS_TEST_TMPDIR/stdout")" = "127.0.0.1:$HUNG1 - - - - 0 1
127.0.0.1:$HUNG2 - - - - 0 1
127.0.0.1:$HUNG3 - - - - 0 1" ]
	[[ "$(sed -n 2p "$BATS_TEST_TMPDIR/stdout")" == "127.0.0.1:$LIVE "*" 1 0" ]]
}

@test "dump: every listing at once, then the live server's items, exit 69" {
	hung dump
	[ "$status" -eq 69 ]
	one_deadline
	out_is '# fsmemcache dump: each item is "{LENGTH} set KEY EXPIRES FLAGS", a newline, LENGTH bytes of value and a newline
{10} set k 0 0
0123456789\n'
	[ "${stderr_lines[0]}" = "-ERR SOME ERRORS WERE REPORTED" ]
	[[ "${stderr_lines[1]}" == "fsmemcache: dump: 1 item, 0 skipped; "*" s" ]]
	[ "${stderr_lines[2]}" = "fsmemcache: dump: $TIMED_OUT" ]
}

@test "SIGINT while every server is asked ends every server's wait at once: the batch stops, exit 130" {
	local deadline=$((SECONDS + 10)) start pid st=0
	printf 'status verbose\n' >"$BATS_TEST_TMPDIR/in"
	# Started from a script, a background job ignores SIGINT: undo that.
	env --default-signal=INT -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    "$FSMC_BIN" -c "$HUNG_CFG" -t 20000 -f "$BATS_TEST_TMPDIR/in" \
	    >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" 3>&- &
	pid=$!
	echo "$pid" >>"$BATS_TEST_TMPDIR/pids"
	# Every hung server has been asked once each has a connection from it.
	until [ "$(ss -Htn state established "( dport = :$HUNG1 or dport = :$HUNG2 or dport = :$HUNG3 )" | wc -l)" -ge 3 ]; do
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.02
	done
	start=$(date +%s%N)
	kill -INT "$pid"
	wait "$pid" || st=$?
	ELAPSED=$((($(date +%s%N) - start) / 1000000))
	echo "took $ELAPSED ms after the signal"
	[ "$st" -eq 130 ]
	[ "$ELAPSED" -lt 3000 ]
	run -0 grep -c '^    error: A TIMEOUT OCCURRED$' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = 3 ]
	run -0 sed -n 1p "$BATS_TEST_TMPDIR/stderr"
	[ "$output" = "fsmemcache: line 1: status: interrupted system call (127.0.0.1:$HUNG1) and 2 more servers" ]
}

# Start a fake memcached with the arguments given: its port in FAKE_PORT.
fake_start() {
	local dir pid deadline=$((SECONDS + 10))
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	python3 "$FAKE" --port-file "$dir/port" --lifetime 60 "$@" \
	    >"$dir/output" 2>&1 3>&- &
	pid=$!
	echo "$pid" >>"$BATS_TEST_TMPDIR/pids"
	until [ -s "$dir/port" ]; do
		kill -0 "$pid"
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.01
	done
	read -r FAKE_PORT <"$dir/port"
}

# Three live memcacheds, each holding keys of its own put there directly,
# named in the configuration in an order of their own: S3, S1, S2.
three_live() {
	local n
	for n in 1 2 3; do
		mc_spawn
		export "S$n=$MC_PORT"
		mc_raw "set $n-a 0 0 1"$'\r\n'"x" >/dev/null
	done
	FSMC_CFG=$BATS_TEST_TMPDIR/three.cfg
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d";\n' \
	    "$S3" "$S1" "$S2" >"$FSMC_CFG"
}

@test "several live servers: status verbose, stats and keys in the order of the configuration" {
	three_live
	run -0 --separate-stderr fsmc_out status verbose
	[ "$(grep -E '^  127' "$BATS_TEST_TMPDIR/stdout")" = "  127.0.0.1 ($S3)
  127.0.0.1 ($S1)
  127.0.0.1 ($S2)" ]
	run -0 --separate-stderr fsmc_out stats
	[ "$(cut -d' ' -f1 "$BATS_TEST_TMPDIR/stdout" | uniq)" = "127.0.0.1:$S3
127.0.0.1:$S1
127.0.0.1:$S2" ]
	run -0 --separate-stderr fsmc_out keys -l
	out_is "127.0.0.1:$S3 3-a\n127.0.0.1:$S1 1-a\n127.0.0.1:$S2 2-a\n"
}

@test "a slow first server answers last yet comes first, as do its keys" {
	local live
	mc_spawn
	live=$MC_PORT
	mc_raw "set fast 0 0 1"$'\r\n'"x" >/dev/null
	# Each byte of each reply 20 ms apart: the first server finishes
	# well after the second.
	fake_start --mode drip --interval 0.02
	FSMC_CFG=$BATS_TEST_TMPDIR/slow-first.cfg
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d";\n' "$FAKE_PORT" \
	    "$live" >"$FSMC_CFG"
	run -0 --separate-stderr fsmc_out -t 5000 keys -l
	out_is "127.0.0.1:$FAKE_PORT k\n127.0.0.1:$live fast\n"
	run -0 --separate-stderr fsmc_out -t 5000 stats
	[ "$(cut -d' ' -f1 "$BATS_TEST_TMPDIR/stdout" | uniq)" = "127.0.0.1:$FAKE_PORT
127.0.0.1:$live" ]
}

@test "a hung server with a live one on either side: each failure after the live servers' output, the first named" {
	three_live
	FSMC_CFG=$BATS_TEST_TMPDIR/mixed.cfg
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d";\n' \
	    "$S1" "$HUNG2" "$S2" "$HUNG3" >"$FSMC_CFG"
	run -69 --separate-stderr fsmc_out -t 500 keys -l
	out_is "127.0.0.1:$S1 1-a\n127.0.0.1:$S2 2-a\n"
	[ "$stderr" = "-ERR SOME ERRORS WERE REPORTED
fsmemcache: keys: timed out (127.0.0.1:$HUNG2) and 1 more server" ]
}

@test "threads share a handle over two servers: status verbose, keys, stats and flush at once, each right" {
	local first
	mc_spawn
	first=$MC_PORT
	mc_spawn
	run -0 "$BATS_TEST_DIRNAME/threads" "127.0.0.1:$first,127.0.0.1:$MC_PORT" \
	    8 20 fanout
	[ "$output" = 160 ]
}
