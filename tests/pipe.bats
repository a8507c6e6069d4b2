#!/usr/bin/env bats
# --pipe: lines count as sent once their server confirms it read them; lines lost with a connection and lines a server refused are errors.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

FAKE=$BATS_TEST_DIRNAME/fake-memcached.py

# The servers come from -s.
setup_file() { export FSMC_CFG=/dev/null; }
teardown_file() { mc_stop; }

teardown() {
	if [ -n "${BG-}" ]; then
		kill -9 "$BG" 2>/dev/null || true
		wait "$BG" 2>/dev/null || true
	fi
	if [ -n "${FAKE_PID-}" ]; then
		kill -9 "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
}

# The summary, the last line of $stderr, in $SUMMARY, and the lines
# before it in $ERRORS.
split_stderr() {
	SUMMARY=${stderr##*$'\n'}
	ERRORS=
	if [[ $stderr == *$'\n'* ]]; then
		ERRORS=${stderr%$'\n'*}
	fi
}

# Whether the --pipe summary counts N lines: S sent and E errors.  With
# S or E "-", that count is taken as it comes, into SENT and ERRS; the
# two always add up to N.
pipe_summary_is() {
	local re='^fsmemcache: ([0-9]+) lines?: ([0-9]+) sent, ([0-9]+) errors?; [0-9]+\.[0-9]{3} s, [0-9]+ lines/s$'
	split_stderr
	[[ $SUMMARY =~ $re ]]
	SENT=${BASH_REMATCH[2]}
	ERRS=${BASH_REMATCH[3]}
	[ "${BASH_REMATCH[1]}" = "$1" ]
	[ "$2" = - ] || [ "$SENT" = "$2" ]
	[ "$3" = - ] || [ "$ERRS" = "$3" ]
	[ $((SENT + ERRS)) -eq "$1" ]
}

# One statistic of the memcached on port $1.
stat_of() {
	local line
	exec 4<>"/dev/tcp/127.0.0.1/$1"
	printf 'stats\r\n' >&4
	while IFS= read -r -t 5 line <&4; do
		line=${line%$'\r'}
		[ "$line" != END ] || break
		if [[ $line == "STAT $2 "* ]]; then
			echo "${line##* }"
		fi
	done
	exec 4<&-
}

# Poll until statistic $2 of the server on port $1 is $3; 10 seconds.
wait_stat() {
	local deadline=$((SECONDS + 10))
	until [ "$(stat_of "$1" "$2")" = "$3" ]; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "$2 of port $1 is $(stat_of "$1" "$2"), not $3" >&2
			return 1
		fi
		sleep 0.02
	done
}

@test "--pipe counts every line of a good load as sent, in the text and the binary protocol, and the server holds what they left" {
	local in=$BATS_TEST_TMPDIR/in proto
	# 20,000 sets and a delete of every fourth key: 25,000 lines.
	seq 1 20000 | awk '{ print "set g" $1 " v" $1 } $1 % 4 == 0 { print "delete g" $1 }' >"$in"
	for proto in text binary; do
		mc_spawn
		args=()
		if [ "$proto" = binary ]; then
			args=(--binary)
		fi
		run -0 --separate-stderr fsmc -s "127.0.0.1:$MC_PORT" \
		    "${args[@]}" --pipe -f "$in"
		[ "$output" = "" ]
		pipe_summary_is 25000 25000 0
		[ "$ERRORS" = "" ]
		[ "$(stat_of "$MC_PORT" curr_items)" = 15000 ]
		[ "$(stat_of "$MC_PORT" cmd_set)" = 20000 ]
		mc_kill "$MC_PID"
	done
}

@test "--pipe with a server killed mid-load: the lines it did not confirm are lost, one line names it, exit 69; no line is counted sent that a server did not get" {
	local first=$BATS_TEST_TMPDIR/first second=$BATS_TEST_TMPDIR/second
	local a b apid lost on_a on_b line others
	mc_spawn
	a=$MC_PORT
	apid=$MC_PID
	mc_spawn
	b=$MC_PORT
	servers=127.0.0.1:$a,127.0.0.1:$b
	seq 1 20000 | awk '{ print "set k" $1 " value-" $1 }' >"$first"
	seq 20001 40000 | awk '{ print "set k" $1 " value-" $1 }' >"$second"
	# where each key goes, from the same placement
	awk '{ print "where " $2 }' "$first" >"$BATS_TEST_TMPDIR/where1"
	awk '{ print "where " $2 }' "$second" >"$BATS_TEST_TMPDIR/where2"
	on_a=$(fsmc -s "$servers" -f "$BATS_TEST_TMPDIR/where1" 2>/dev/null | grep -c ":$a$")
	on_b=$((20000 - on_a + 20000 - $(fsmc -s "$servers" -f "$BATS_TEST_TMPDIR/where2" 2>/dev/null | grep -c ":$a$")))
	[ "$on_a" -gt 1000 ]
	FIFO=$BATS_TEST_TMPDIR/fifo
	mkfifo "$FIFO"
	exec 7<>"$FIFO"
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS "$FSMC_BIN" \
	    -c "$FSMC_CFG" -s "$servers" --pipe -f - <"$FIFO" \
	    >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" 3>&- 7>&- &
	BG=$!
	cat "$first" >&7
	# The first half has reached A; then A dies, and the second half
	# follows: its first lines for A go out on the dead connection.
	wait_stat "$a" cmd_set "$on_a"
	kill -9 "$apid"
	cat "$second" >&7
	exec 7>&-
	status=0
	wait "$BG" || status=$?
	BG=
	[ "$status" -eq 69 ]
	stderr=$(cat "$BATS_TEST_TMPDIR/stderr")
	pipe_summary_is 40000 - -
	# one line for the lines lost, naming A; the lines after it, which
	# could not connect, each have their own
	lost=0
	others=0
	while IFS= read -r line; do
		if [[ $line =~ ^fsmemcache:\ ([0-9]+)\ lines?\ lost\ with\ the\ connection:\ .*\ \(127\.0\.0\.1:$a\)$ ]]; then
			[ "$lost" -eq 0 ]
			lost=${BASH_REMATCH[1]}
		else
			[[ $line =~ ^fsmemcache:\ line\ [0-9]+:\ set\ k[0-9]+:\ .*\ \(127\.0\.0\.1:$a\)$ ]]
			others=$((others + 1))
		fi
	done <<<"$ERRORS"
	[ "$lost" -gt 0 ]
	[ $((lost + others)) -eq "$ERRS" ]
	# and its reply, the only ones on standard output
	[ "$(grep -c -v '^-ERR CONNECTION FAILURE$' "$BATS_TEST_TMPDIR/stdout")" -eq 0 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/stdout")" -eq "$others" ]
	# B got and holds every line of its own; of A's, at most those A got
	# before it died can have been counted sent.
	[ "$(stat_of "$b" curr_items)" = "$on_b" ]
	[ "$SENT" -ge "$on_b" ]
	[ $((SENT - on_b)) -le "$on_a" ]
}

@test "--pipe to a server killed while the load streams in: no line counted sent that the server did not read" {
	local in=$BATS_TEST_TMPDIR/in log=$BATS_TEST_TMPDIR/fake.log dir got
	seq 1 50000 | awk '{ print "set f" $1 " value-" $1 }' >"$in"
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	python3 "$FAKE" --port-file "$dir/port" --lifetime 60 --mode valid \
	    --log "$log" >"$dir/output" 2>&1 3>&- &
	FAKE_PID=$!
	deadline=$((SECONDS + 10))
	until [ -s "$dir/port" ]; do
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.01
	done
	read -r port <"$dir/port"
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS "$FSMC_BIN" \
	    -c /dev/null -s "127.0.0.1:$port" --pipe -f "$in" \
	    >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" 3>&- &
	BG=$!
	# SIGKILL once the fake has read some of the load, not all of it.
	deadline=$((SECONDS + 20))
	until [ "$(grep -c '^set ' "$log" 2>/dev/null)" -ge 3000 ]; do
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.01
	done
	kill -9 "$FAKE_PID"
	wait "$FAKE_PID" 2>/dev/null || true
	FAKE_PID=
	got=$(grep -c '^set ' "$log")
	[ "$got" -lt 50000 ]
	status=0
	wait "$BG" || status=$?
	BG=
	[ "$status" -eq 69 ]
	stderr=$(cat "$BATS_TEST_TMPDIR/stderr")
	pipe_summary_is 50000 - -
	[[ ${stderr%%$'\n'*} =~ ^fsmemcache:\ ([0-9]+)\ lines?\ lost\ with\ the\ connection:\ .*\ \(127\.0\.0\.1:$port\)$ ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[ "$SENT" -le "$got" ]
}

@test "--pipe --binary: values too large for the server are counted as failed on the server, exit 76; the others are stored" {
	local in=$BATS_TEST_TMPDIR/in big
	mc_spawn
	big=$(head -c 2000000 /dev/zero | tr '\0' x)
	{
		seq 1 10 | awk '{ print "set ok" $1 " v" $1 }'
		printf 'set big1 %s\nset big2 %s\nset big3 %s\n' "$big" "$big" "$big"
		echo "set ok11 v11"
	} >"$in"
	run -76 --separate-stderr fsmc -s "127.0.0.1:$MC_PORT" --binary \
	    --pipe -f "$in"
	[ "$output" = "" ]
	pipe_summary_is 14 14 0
	[ "$ERRORS" = "fsmemcache: 3 pipelined commands failed on the server" ]
	[ "$(stat_of "$MC_PORT" curr_items)" = 11 ]
	mc_kill "$MC_PID"
}

@test "--pipe to a server that takes the lines and never answers the barrier: every line lost at the deadline, exit 69, text and binary" {
	local in=$BATS_TEST_TMPDIR/in dir proto
	printf '%s\n' "set p1 v" "delete p2" "set p3 v" >"$in"
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	python3 "$FAKE" --port-file "$dir/port" --lifetime 60 --mode silent \
	    >"$dir/output" 2>&1 3>&- &
	FAKE_PID=$!
	deadline=$((SECONDS + 10))
	until [ -s "$dir/port" ]; do
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.01
	done
	read -r port <"$dir/port"
	for proto in text binary; do
		args=()
		if [ "$proto" = binary ]; then
			args=(--binary)
		fi
		run -69 --separate-stderr fsmc -s "127.0.0.1:$port" -t 300 \
		    "${args[@]}" --pipe -f "$in"
		[ "$output" = "" ]
		pipe_summary_is 3 0 3
		[ "$ERRORS" = "fsmemcache: 3 lines lost with the connection: timed out (127.0.0.1:$port)" ]
	done
}
