#!/usr/bin/env bats
# Servers that keep failing are skipped for retry_s seconds: in a batch,
# and with failover.state_file across processes.

load helper

setup_file() {
	mc_spawn
	LIVE_PORT=$MC_PORT
	# A stopped memcached: the kernel still accepts connections for it,
	# and nothing ever answers.
	mc_spawn
	HUNG_PORT=$MC_PORT HUNG_PID=$MC_PID
	kill -STOP "$HUNG_PID"
	export LIVE_PORT HUNG_PORT HUNG_PID
}

teardown_file() {
	kill -CONT "$HUNG_PID" 2>/dev/null || true
	mc_stop
}

teardown() {
	kill -STOP "$HUNG_PID" 2>/dev/null || true
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

SKIPPED_RE='server skipped until [0-2][0-9]:[0-5][0-9]:[0-6][0-9] UTC'

# A configuration of the live and the hung server, with the settings
# given as further lines.
two_servers() {
	FSMC_CFG=$BATS_TEST_TMPDIR/two.cfg
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d";\n' \
	    "$LIVE_PORT" "$HUNG_PORT" >"$FSMC_CFG"
	printf '%s\n' "$@" >>"$FSMC_CFG"
}

# 40 sets over the live and the hung server, failure_limit = 1, in
# $BATS_TEST_TMPDIR/sets; HUNG counts those for the hung server and
# WANT holds the replies they get: each of those times out.
forty_sets() {
	local i key
	two_servers 'failover = { failure_limit = 1; };'
	HUNG=0 WANT=''
	for i in $(seq 1 40); do
		key=dead:$i
		echo "set $key v$i"
		if [ "$(fsmc where "$key")" = "127.0.0.1:$HUNG_PORT" ]; then
			WANT+='-ERR A TIMEOUT OCCURRED\n'
			HUNG=$((HUNG + 1))
		else
			WANT+='+OK\n'
		fi
	done >"$BATS_TEST_TMPDIR/sets"
	[ "$HUNG" -ge 10 ]
}

@test "a live and a hung server, 40 sets with -t 100, failure_limit = 1 and one line in flight: the hung server's lines after the first fail at once, well within 1.5 s" {
	local t0 ms
	forty_sets
	t0=$(now_ms)
	run -69 --separate-stderr to_file fsmc -t 100 --window 1 \
	    -f "$BATS_TEST_TMPDIR/sets"
	ms=$(($(now_ms) - t0))
	echo "40 sets, $HUNG to the hung server: $ms ms"
	[ "$ms" -lt 1500 ]
	out_is "$WANT"
	# One timeout; every later line for that server is skipped.
	run -0 grep -c "set dead:[0-9]*: timed out (127.0.0.1:$HUNG_PORT)\$" <<<"$stderr"
	[ "$output" = 1 ]
	run -0 grep -cE ": $SKIPPED_RE: timed out \\(127.0.0.1:$HUNG_PORT\\)\$" <<<"$stderr"
	[ "$output" = $((HUNG - 1)) ]
}

@test "a live and a hung server, 40 sets pipelined with -t 100: the hung server's lines, all in flight, time out together in one deadline" {
	local t0 ms
	forty_sets
	t0=$(now_ms)
	run -69 --separate-stderr to_file fsmc -t 100 -f "$BATS_TEST_TMPDIR/sets"
	ms=$(($(now_ms) - t0))
	echo "40 sets, $HUNG to the hung server: $ms ms"
	[ "$ms" -lt 1500 ]
	out_is "$WANT"
	run -0 grep -c "set dead:[0-9]*: timed out (127.0.0.1:$HUNG_PORT)\$" <<<"$stderr"
	[ "$output" = "$HUNG" ]
}

@test "a skipped server is tried again after retry_s, and used once it answers" {
	local key='' i n=0 first_ok
	two_servers 'failover = { failure_limit = 1; };' \
	    'timeouts = { retry_s = 1; };'
	for i in $(seq 1 100); do
		if [ "$(fsmc where "back:$i")" = "127.0.0.1:$HUNG_PORT" ]; then
			key=back:$i
			break
		fi
	done
	[ -n "$key" ]
	# A set every 100 ms (the pace of the input, not a wait for an
	# event): the server comes back after the first five.
	run -0 --separate-stderr to_file fsmc -t 100 -f <(
		for i in $(seq 1 50); do
			echo "set $key v$i"
			[ "$i" != 5 ] || kill -CONT "$HUNG_PID"
			sleep 0.1
		done
	) || true
	first_ok=$(grep -n '^+OK$' "$BATS_TEST_TMPDIR/stdout" | head -1 | cut -d: -f1)
	echo "first +OK at line $first_ok"
	[[ $stderr =~ $SKIPPED_RE ]]
	[ "$(head -1 "$BATS_TEST_TMPDIR/stdout")" = "-ERR A TIMEOUT OCCURRED" ]
	# retry_s is 1 s: within 3 s of lines, whatever the load.
	[ -n "$first_ok" ] && [ "$first_ok" -le 32 ]
	# From then on, every line.
	n=$(tail -n +"$first_ok" "$BATS_TEST_TMPDIR/stdout" | grep -vc '^+OK$') || true
	[ "$n" = 0 ]
	kill -STOP "$HUNG_PID"
}

@test "failover.state_file: 100 processes setting a key of a hung server: the first waits the timeout, the others fail at once, and all work again within retry_s of its return" {
	local state=$BATS_TEST_TMPDIR/state k t0 t1 ms first slow=0 skipped=0 total
	FSMC_CFG=$BATS_TEST_TMPDIR/hung.cfg
	printf '%s\n' "servers = \"127.0.0.1:$HUNG_PORT\";" \
	    'timeouts = { connect_ms = 500; io_ms = 500; retry_s = 3; };' \
	    "failover = { failure_limit = 1; state_file = \"$state\"; };" \
	    >"$FSMC_CFG"
	t0=$(now_ms)
	run -69 --separate-stderr fsmc set st:0 v
	first=$(($(now_ms) - t0))
	[ "$output" = "-ERR A TIMEOUT OCCURRED" ]
	[ "$stderr" = "fsmemcache: set st:0: timed out (127.0.0.1:$HUNG_PORT)" ]
	for k in $(seq 1 99); do
		t1=$(now_ms)
		run -69 --separate-stderr fsmc set "st:$k" v
		ms=$(($(now_ms) - t1))
		[ "$ms" -lt 400 ] || slow=$((slow + 1))
		if [[ $stderr =~ $SKIPPED_RE ]]; then
			skipped=$((skipped + 1))
		fi
		[ "$output" = "-ERR A TIMEOUT OCCURRED" ]
	done
	total=$(($(now_ms) - t0))
	echo "first $first ms; 100 runs in $total ms; $skipped skipped, $slow slow"
	[ "$first" -ge 450 ]
	# Those that waited: the first, and one each time retry_s ran out.
	[ "$slow" -le $((total / 3000)) ]
	[ "$skipped" -ge $((99 - total / 3000)) ]
	[ "$(stat -c %a "$state")" = 600 ]
	kill -CONT "$HUNG_PID"
	t0=$(now_ms)
	until fsmc set st:back v >/dev/null 2>&1; do
		[ $(($(now_ms) - t0)) -lt 6000 ]
		sleep 0.1
	done
	echo "back after $(($(now_ms) - t0)) ms"
	# A success forgets the server: the next processes use it at once.
	run -0 fsmc get st:back
	[ "$output" = v ]
	run -1 grep -c "127.0.0.1:$HUNG_PORT" "$state"
	[ "$output" = 0 ]
}

@test "failover.state_file: a file that is not a state file, or is open to others, is ignored with a warning" {
	local state=$BATS_TEST_TMPDIR/state
	FSMC_CFG=$BATS_TEST_TMPDIR/live.cfg
	printf '%s\n' "servers = \"127.0.0.1:$LIVE_PORT\";" \
	    "failover = { state_file = \"$state\"; };" >"$FSMC_CFG"
	printf 'fsmemcache server marks 2\n1 99999999999 31 0 127.0.0.1:%d\nrubbish\n' \
	    "$LIVE_PORT" >"$state"
	chmod 600 "$state"
	run -0 --separate-stderr fsmc set sf:1 v
	[ "$output" = "+OK" ]
	[ "$stderr" = "fsmemcache: $state: not a state file of fsmemcache; ignored" ]
	printf 'fsmemcache server marks 2\n' >"$state"
	chmod 644 "$state"
	run -0 --separate-stderr fsmc get sf:1
	[ "$output" = v ]
	[ "$stderr" = "fsmemcache: $state: open to group or others; ignored" ]
}

@test "failover.state_file: a record counts retry_s from its failure; one from the future, or of another kind of failure, is not trusted" {
	local state=$BATS_TEST_TMPDIR/state now re t0
	FSMC_CFG=$BATS_TEST_TMPDIR/live.cfg
	printf '%s\n' "servers = \"127.0.0.1:$LIVE_PORT\";" \
	    'timeouts = { retry_s = 1; };' \
	    "failover = { failure_limit = 1; state_file = \"$state\"; };" \
	    >"$FSMC_CFG"
	now=$(($(date +%s%N) / 1000000))
	printf 'fsmemcache server marks 2\n1 %d 31 0 127.0.0.1:%d\n' \
	    $((now + 86400000)) "$LIVE_PORT" >"$state"
	chmod 600 "$state"
	run -0 fsmc set sf:2 v
	# 9 is a protocol error, which never marks a server.
	printf 'fsmemcache server marks 2\n1 %d 9 0 127.0.0.1:%d\n' \
	    "$now" "$LIVE_PORT" >"$state"
	run -0 fsmc get sf:2
	# 31 is a timeout.
	now=$(($(date +%s%N) / 1000000))
	printf 'fsmemcache server marks 2\n1 %d 31 0 127.0.0.1:%d\n' \
	    "$now" "$LIVE_PORT" >"$state"
	run -69 --separate-stderr fsmc get sf:2
	re="^fsmemcache: get sf:2: $SKIPPED_RE: timed out \\(127.0.0.1:$LIVE_PORT\\)\$"
	[[ $stderr =~ $re ]]
	t0=$(now_ms)
	until fsmc get sf:2 >/dev/null 2>&1; do
		[ $(($(now_ms) - t0)) -lt 3000 ]
		sleep 0.1
	done
	echo "tried again after $(($(now_ms) - t0)) ms"
}

@test "failover.state_file: 20 processes failing at once leave a state file that parses" {
	local state=$BATS_TEST_TMPDIR/state dead i pids=()
	dead=$(free_port)
	FSMC_CFG=$BATS_TEST_TMPDIR/dead.cfg
	printf '%s\n' "servers = \"127.0.0.1:$dead, 127.0.0.1:$LIVE_PORT\";" \
	    "failover = { failure_limit = 1; state_file = \"$state\"; };" \
	    >"$FSMC_CFG"
	for i in $(seq 1 20); do
		fsmc -e "set many:$i v" >/dev/null 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || true
	done
	run -0 cat "$state"
	[ "${lines[0]}" = "fsmemcache server marks 2" ]
	[[ ${lines[1]} =~ ^[0-9]+\ [0-9]+\ 3\ 111\ 127.0.0.1:$dead$ ]]
	[ "${#lines[@]}" = 2 ]
	# Read back without a warning: the file is whole.
	run -0 --separate-stderr fsmc where many:1
	[ -z "$stderr" ]
}

@test "failover.state_file: -n shows it; true is the default path; a relative path is refused" {
	FSMC_CFG=$BATS_TEST_TMPDIR/n.cfg
	printf '%s\n' "servers = \"127.0.0.1:$LIVE_PORT\";" \
	    'failover = { state_file = true; };' >"$FSMC_CFG"
	run -0 --separate-stderr env XDG_RUNTIME_DIR=/run/user/4242 "$FSMC_BIN" -c "$FSMC_CFG" -n
	[ "${lines[8]}" = 'failover = { remove_failed_servers = false; failure_limit = 2; state_file = "/run/user/4242/fsmemcache-servers"; };' ]
	run -0 --separate-stderr env XDG_RUNTIME_DIR= "$FSMC_BIN" -c "$FSMC_CFG" -n
	[ "${lines[8]}" = "failover = { remove_failed_servers = false; failure_limit = 2; state_file = \"/tmp/fsmemcache-servers-$(id -u)\"; };" ]
	printf '%s\n' "servers = \"127.0.0.1:$LIVE_PORT\";" \
	    'failover = { state_file = "state"; };' >"$FSMC_CFG"
	run -78 fsmc -n
	[ "$output" = "fsmemcache: $FSMC_CFG:2: failover.state_file: must be an absolute path" ]
}
