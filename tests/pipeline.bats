#!/usr/bin/env bats
# Pipelining in batches (-f): many lines in flight per server, each with its own reply and exit status in input order, --window, --stop-on-error with lines in flight, connections that fail under a window, and replies as slow input comes.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

FAKE=$BATS_TEST_DIRNAME/fake-memcached.py

# Three servers, and a configuration naming them all (THREE_CFG).
setup_file() {
	local ports=()
	mc_spawn
	ports+=("$MC_PORT")
	mc_spawn
	ports+=("$MC_PORT")
	mc_start
	ports+=("$MC_PORT")
	THREE_CFG=$BATS_FILE_TMPDIR/three.cfg
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d, 127.0.0.1:%d";\n' \
	    "${ports[@]}" >"$THREE_CFG"
	THREE_PORTS="${ports[*]}"
	export THREE_CFG THREE_PORTS
}
teardown_file() { mc_stop; }

# Stop what a test started: a run in the background and the fakes.
teardown() {
	local pid pids
	exec 7>&-
	if [ -n "${BG_PID-}" ] && kill -0 "$BG_PID" 2>/dev/null; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	[ -f "$BATS_TEST_TMPDIR/fakes" ] || return 0
	mapfile -t pids <"$BATS_TEST_TMPDIR/fakes"
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# Start a fake memcached (tests/fake-memcached.py) with the arguments
# given; its port in FAKE_PORT and the file where it logs each request
# in FAKE_LOG.  teardown stops it.
fake_start() {
	local dir pid deadline=$((SECONDS + 10))
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	python3 "$FAKE" --port-file "$dir/port" --log "$dir/log" \
	    --lifetime 60 "$@" >"$dir/output" 2>&1 3>&- &
	pid=$!
	echo "$pid" >>"$BATS_TEST_TMPDIR/fakes"
	until [ -s "$dir/port" ]; do
		if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -gt "$deadline" ]; then
			echo "the fake memcached did not start: $*" >&2
			cat "$dir/output" >&2
			return 1
		fi
		sleep 0.01
	done
	read -r FAKE_PORT <"$dir/port"
	FAKE_LOG=$dir/log
}

# fsmemcache against the fake alone, with no configuration.
fake_fsmc() {
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS "$FSMC_BIN" -c /dev/null \
	    -s "127.0.0.1:$FAKE_PORT" "$@"
}

# The summary's counts, the last line of $stderr: lines, ok, not found,
# not stored and errors, as one string "L O N S E".
counts() {
	local re='^fsmemcache: ([0-9]+) lines?: ([0-9]+) ok, ([0-9]+) not found, ([0-9]+) not stored, ([0-9]+) errors?; [0-9]+\.[0-9]{3} s, [0-9]+ lines/s$'
	[[ ${stderr##*$'\n'} =~ $re ]] || return 1
	echo "${BASH_REMATCH[*]:1}"
}

# Milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

@test "300 keys over three servers, seven lines each in flight together: every reply in input order, each line's exit status in the summary" {
	local k=k$BATS_TEST_NUMBER in=$BATS_TEST_TMPDIR/in want=$BATS_TEST_TMPDIR/want
	seq 1 300 | awk -v k="$k" '{
		print "set " k ":" $1 " v" $1 " 0 " sprintf("%x", $1)
		print "get " k ":" $1
		print "getflags " k ":" $1
		print "get " k ":miss" $1
		print "add " k ":" $1 " x"
		print "append " k ":" $1 " +"
		print "get " k ":" $1
	}' >"$in"
	seq 1 300 | awk '{
		printf "+OK\nv%d\n%x\n-ERR NOT FOUND\n-ERR NOT STORED\n+OK\nv%d+\n", $1, $1, $1
	}' >"$want"
	run -2 --separate-stderr to_file fsmc -c "$THREE_CFG" -f "$in"
	cmp "$want" "$BATS_TEST_TMPDIR/stdout"
	[ "$(counts)" = "2100 1500 300 300 0" ]
	# The keys did spread over the three servers.
	for port in $THREE_PORTS; do
		[ "$(MC_PORT=$port mc_stat curr_items)" -gt 0 ]
	done
}

@test "the same batch with --window 1 and the binary protocol: the same replies in the same order" {
	local k=k$BATS_TEST_NUMBER in=$BATS_TEST_TMPDIR/in want=$BATS_TEST_TMPDIR/want
	seq 1 100 | awk -v k="$k" '{
		print "set " k ":" $1 " v" $1
		print "get " k ":" $1
		print "delete " k ":" $1
		print "get " k ":" $1
		print "touch " k ":" $1 " 10"
	}' >"$in"
	seq 1 100 | awk '{
		printf "+OK\nv%d\n+OK\n-ERR NOT FOUND\n-ERR NOT FOUND\n", $1
	}' >"$want"
	run -1 --separate-stderr to_file fsmc -c "$THREE_CFG" --window 1 -f "$in"
	cmp "$want" "$BATS_TEST_TMPDIR/stdout"
	sed -i "s/^\([a-z]*\) $k:/\1 $k:b/" "$in"
	run -1 --separate-stderr to_file fsmc -c "$THREE_CFG" --binary -f "$in"
	cmp "$want" "$BATS_TEST_TMPDIR/stdout"
	[ "$(counts)" = "500 300 200 0 0" ]
}

@test "runs of gets, hits, misses and the same key twice, as multi-gets in flight together: each value in its line's place" {
	local k=k$BATS_TEST_NUMBER in=$BATS_TEST_TMPDIR/in want=$BATS_TEST_TMPDIR/want
	seq 1 200 | awk -v k="$k" '$1 % 3 { print "set " k ":" $1 " v" $1 }' >"$in"
	seq 1 200 | awk -v k="$k" '{ print "get " k ":" $1; print "get " k ":" $1 }' >>"$in"
	{
		seq 1 200 | awk '$1 % 3 { print "+OK" }'
		seq 1 200 | awk '{ r = $1 % 3 ? "v" $1 : "-ERR NOT FOUND"; print r; print r }'
	} >"$want"
	run -1 --separate-stderr to_file fsmc -c "$THREE_CFG" --window 8 -f "$in"
	cmp "$want" "$BATS_TEST_TMPDIR/stdout"
	[ "$(counts)" = "534 402 132 0 0" ]
}

@test "--window N: a server that does not answer is sent N lines, which fail together at one deadline" {
	local in=$BATS_TEST_TMPDIR/in t0 ms
	fake_start --mode silent
	printf 'set w%d v\n' 1 2 3 4 5 6 7 8 >"$in"
	t0=$(now_ms)
	run -69 --separate-stderr to_file fake_fsmc -t 400 --window 4 -f "$in"
	ms=$(($(now_ms) - t0))
	echo "$ms ms"
	# Two windows of four: two deadlines, not eight.
	[ "$ms" -ge 800 ]
	[ "$ms" -lt 1600 ]
	[ "$(wc -l <"$FAKE_LOG")" -eq 8 ]
	out_is '-ERR A TIMEOUT OCCURRED\n-ERR A TIMEOUT OCCURRED\n-ERR A TIMEOUT OCCURRED\n-ERR A TIMEOUT OCCURRED\n-ERR A TIMEOUT OCCURRED\n-ERR A TIMEOUT OCCURRED\n-ERR A TIMEOUT OCCURRED\n-ERR A TIMEOUT OCCURRED\n'
	[ "${stderr_lines[4]}" = "fsmemcache: line 5: set w5: timed out (127.0.0.1:$FAKE_PORT)" ]
	[ "$(counts)" = "8 0 0 0 8" ]
}

@test "--window takes a count from 1 to 1024, with -f and without --pipe: anything else is a usage error, exit 64" {
	local bad
	for bad in 0 1025 -1 abc 12x ''; do
		run -64 --separate-stderr fsmc --window "$bad" -f /dev/null
		[ -z "$output" ]
		[ "$stderr" = "fsmemcache: --window: bad count '$bad' (lines in flight per server, from 1 to 1024)" ]
	done
	run -64 --separate-stderr fsmc --window 5 get k
	[ "$stderr" = "fsmemcache: --window needs -f (see fsmemcache -h)" ]
	run -64 --separate-stderr fsmc --window 5 --pipe -f /dev/null
	[ "$stderr" = "fsmemcache: --window does not go with --pipe, which waits for no reply (see fsmemcache -h)" ]
	run -0 --separate-stderr fsmc --window 1024 -f /dev/null
	run -0 --separate-stderr fsmc --window 1 -f /dev/null
}

@test "--stop-on-error with lines in flight: those sent before the failure was known run and are shown, the summary says so, and no line after them is sent" {
	local k=k$BATS_TEST_NUMBER in=$BATS_TEST_TMPDIR/in
	{
		printf 'set %s:a 1\n{2000000} set %s:big\n' "$k" "$k"
		head -c 2000000 /dev/zero | tr '\0' x
		printf '\nset %s:b 2\nset %s:c 3\nset %s:d 4\nset %s:e 5\n' \
		    "$k" "$k" "$k" "$k"
	} >"$in"
	run -65 --separate-stderr to_file fsmc --window 3 --stop-on-error -f "$in"
	out_is '+OK\n-ERR ITEM TOO BIG\n+OK\n+OK\n'
	[ "${stderr_lines[0]}" = "fsmemcache: line 2: set $k:big: value too large for the server (127.0.0.1:$MC_PORT)" ]
	[ "${stderr_lines[1]}" = "fsmemcache: stopped at line 2; the 2 lines after it, sent before it failed, ran all the same" ]
	[ "$(counts)" = "4 3 0 0 1" ]
	[ "$(mc_raw "get $k:c")" = "$(printf 'VALUE %s:c 0 1\n3\nEND' "$k")" ]
	[ "$(mc_raw "get $k:d")" = END ]
	[ "$(mc_raw "get $k:e")" = END ]
}

@test "--stop-on-error: a command that waits for the lines in flight (flush) does not run after one of them failed" {
	local k=k$BATS_TEST_NUMBER in=$BATS_TEST_TMPDIR/in
	{
		printf 'set %s:a 1\n{2000000} set %s:big\n' "$k" "$k"
		head -c 2000000 /dev/zero | tr '\0' x
		printf '\nflush\n'
	} >"$in"
	run -65 --separate-stderr to_file fsmc --stop-on-error -f "$in"
	out_is '+OK\n-ERR ITEM TOO BIG\n'
	[ "$(counts)" = "2 1 0 0 1" ]
	[ "$(mc_raw "get $k:a")" = "$(printf 'VALUE %s:a 0 1\n1\nEND' "$k")" ]
}

@test "a reply that breaks the connection in the middle of a window fails the lines in flight behind it, never reports them done, and the lines after them run on a new connection" {
	local in=$BATS_TEST_TMPDIR/in
	fake_start --mode reply --reply 'VALUE other 0 1\r\nx\r\nEND' \
	    --target get
	printf '%s\n' "set a v" "set b v" "get c" "set d v" "set e v" \
	    "set f v" "set g v" >"$in"
	run -76 --separate-stderr to_file fake_fsmc --window 2 -f "$in"
	out_is '+OK\n+OK\n-ERR PROTOCOL ERROR\n-ERR PROTOCOL ERROR\n+OK\n+OK\n+OK\n'
	[ "${stderr_lines[0]}" = "fsmemcache: line 3: get c: protocol error: a VALUE for a key not asked for: 'VALUE other 0 1' (127.0.0.1:$FAKE_PORT)" ]
	[ "${stderr_lines[1]}" = "fsmemcache: line 4: set d: protocol error: a VALUE for a key not asked for: 'VALUE other 0 1' (127.0.0.1:$FAKE_PORT)" ]
	[ "$(counts)" = "7 5 0 0 2" ]
}

@test "a server killed under a full window: the lines in flight fail, none is reported done, and the next lines fail on their own" {
	local in=$BATS_TEST_TMPDIR/in i
	# The fake answers gets, and dies at the first set it reads.
	fake_start --mode exit --target set
	printf '%s\n' "get a" "get b" "set c v" "get d" "get e" "set f v" \
	    "get g" >"$in"
	run -69 --separate-stderr to_file fake_fsmc --window 3 -f "$in"
	# It answers a multi-get with the first key's value alone.  Lines
	# 3 to 5 were in flight when it died; 6 and 7 came after.
	out_is '0123456789\n-ERR NOT FOUND\n-ERR CONNECTION FAILURE\n-ERR CONNECTION FAILURE\n-ERR CONNECTION FAILURE\n-ERR CONNECTION FAILURE\n-ERR CONNECTION FAILURE\n'
	for i in 0 1 2 3 4; do
		[[ ${stderr_lines[i]} == "fsmemcache: line $((i + 3)): "*" (127.0.0.1:$FAKE_PORT)" ]]
	done
	[[ ${stderr_lines[0]} != *"connection refused"* ]]
	[[ ${stderr_lines[2]} != *"connection refused"* ]]
	[ "$(counts)" = "7 1 1 0 5" ]
}

@test "input that comes slowly gets each reply as soon as it comes, before the input ends" {
	local k=k$BATS_TEST_NUMBER deadline
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	exec 7<>"$BATS_TEST_TMPDIR/fifo"
	fsmc -f - <"$BATS_TEST_TMPDIR/fifo" >"$BATS_TEST_TMPDIR/stdout" \
	    2>"$BATS_TEST_TMPDIR/stderr" 3>&- 7>&- &
	BG_PID=$!
	printf 'set %s v1\n' "$k" >&7
	deadline=$((SECONDS + 5))
	until [ "$(cat "$BATS_TEST_TMPDIR/stdout")" = "+OK" ]; do
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.02
	done
	printf 'get %s\nget %s:miss\n' "$k" "$k" >&7
	deadline=$((SECONDS + 5))
	until [ "$(cat "$BATS_TEST_TMPDIR/stdout")" = "$(printf '+OK\nv1\n-ERR NOT FOUND')" ]; do
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.02
	done
	# The run is still waiting for input.
	kill -0 "$BG_PID"
	exec 7>&-
	st=0
	wait "$BG_PID" || st=$?
	BG_PID=
	[ "$st" -eq 1 ]
	stderr=$(cat "$BATS_TEST_TMPDIR/stderr")
	[ "$(counts)" = "3 2 1 0 0" ]
}

@test "a kept connection that the server closed between two lines is opened anew before a line is sent on it: nothing is lost, nothing is sent twice" {
	local k=k$BATS_TEST_NUMBER port pid deadline args
	mc_spawn
	port=$MC_PORT pid=$MC_PID
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	exec 7<>"$BATS_TEST_TMPDIR/fifo"
	fsmc -s "127.0.0.1:$port" -f - <"$BATS_TEST_TMPDIR/fifo" \
	    >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" 3>&- 7>&- &
	BG_PID=$!
	printf 'set %s 1\n' "$k" >&7
	deadline=$((SECONDS + 5))
	until [ "$(cat "$BATS_TEST_TMPDIR/stdout")" = "+OK" ]; do
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.02
	done
	mc_kill "$pid"
	args=(-l 127.0.0.1 -p "$port" -U 0)
	if [ "$(id -u)" -eq 0 ]; then args+=(-u root); fi
	memcached "${args[@]}" >>"$BATS_FILE_TMPDIR/memcached.log" 2>&1 3>&- 7>&- &
	pid=$!
	echo "$pid" >>"$BATS_FILE_TMPDIR/memcached.pids"
	wait_port "$port" "$pid"
	printf 'set %s 2\nappend %s 3\nget %s\n' "$k" "$k" "$k" >&7
	exec 7>&-
	wait "$BG_PID"
	BG_PID=
	out_is '+OK\n+OK\n+OK\n23\n'
	[ "$(MC_PORT=$port mc_stat cmd_set | tr -d '\r')" = 2 ]
}

@test "a live server and one that does not answer: the live one's lines all succeed, though their deadlines pass while the batch waits on the other; the other's fail at one deadline" {
	local k=k$BATS_TEST_NUMBER in=$BATS_TEST_TMPDIR/in want=$BATS_TEST_TMPDIR/want
	local cfg=$BATS_TEST_TMPDIR/two.cfg hung first n t0 ms
	fake_start --mode silent
	hung=127.0.0.1:$FAKE_PORT
	printf 'servers = "127.0.0.1:%d, %s";\n' "$MC_PORT" "$hung" >"$cfg"
	seq 1 60 | awk -v k="$k" '{ print "where " k ":" $1 }' >"$in"
	run -0 --separate-stderr fsmc -c "$cfg" -f "$in"
	# The first line goes to the silent server: the batch waits on it
	# first, while the replies of the live one, sent as soon as half its
	# window filled, wait in their socket.
	first=$(printf '%s\n' "${lines[@]}" | grep -n -x -m 1 -F "$hung" | cut -d: -f1)
	: >"$in"
	: >"$want"
	for n in $(seq "$first" 60) $(seq 1 $((first - 1))); do
		printf 'set %s:%d v\n' "$k" "$n" >>"$in"
		if [ "${lines[n - 1]}" = "$hung" ]; then
			echo '-ERR A TIMEOUT OCCURRED' >>"$want"
		else
			echo '+OK' >>"$want"
		fi
	done
	t0=$(now_ms)
	run -69 --separate-stderr to_file fsmc -c "$cfg" -t 300 --window 32 -f "$in"
	ms=$(($(now_ms) - t0))
	echo "$ms ms"
	cmp "$want" "$BATS_TEST_TMPDIR/stdout"
	[ "$ms" -lt 2000 ]
	[ "$(grep -c -x -F '+OK' "$want")" -gt 0 ]
}
