#!/usr/bin/env bats
# Batch mode (-f): replies in input order, messages, summary, exit status, -q, --stop-on-error, --pipe, --verify, memory and reconnection.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() { mc_start; }
teardown_file() { mc_stop; }

FAKE=$BATS_TEST_DIRNAME/fake-memcached.py

# A run in the background that a test could not finish (bg_start's, or
# one started by hand, BG): end it; and stop the fakes the test started.
teardown() {
	local pid pids
	if [ -n "${BG_PID-}" ]; then
		bg_finish
	fi
	if [ -n "${BG-}" ]; then
		kill "$BG" 2>/dev/null || true
		wait "$BG" 2>/dev/null || true
	fi
	[ -f "$BATS_TEST_TMPDIR/fakes" ] || return 0
	mapfile -t pids <"$BATS_TEST_TMPDIR/fakes"
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# Start a fake memcached (tests/fake-memcached.py) with the arguments
# given (--mode MODE ...): its port in FAKE_PORT.  teardown stops it.
fake_start() {
	local dir pid deadline=$((SECONDS + 10))
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	python3 "$FAKE" --port-file "$dir/port" --lifetime 60 "$@" \
	    >"$dir/output" 2>&1 3>&- &
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
}

# What the file's server has served, from one look at its statistics:
# "total_connections N cmd_get N".  The look is a connection itself.
served() {
	mc_raw stats | tr -d '\r' |
	    sed -n 's/^STAT \(total_connections\|cmd_get\) \([0-9]*\)$/\1 \2/p' |
	    tr '\n' ' '
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

# Whether the summary counts N lines: A ok, B not found, C not stored and
# D errors, with a time and a rate, and the counts add up to N.
summary_is() {
	local re='^fsmemcache: ([0-9]+) lines?: ([0-9]+) ok, ([0-9]+) not found, ([0-9]+) not stored, ([0-9]+) errors?; [0-9]+\.[0-9]{3} s, [0-9]+ lines/s$'
	split_stderr
	[[ $SUMMARY =~ $re ]]
	[ "${BASH_REMATCH[1]}" = "$1" ]
	[ "${BASH_REMATCH[2]}" = "$2" ]
	[ "${BASH_REMATCH[3]}" = "$3" ]
	[ "${BASH_REMATCH[4]}" = "$4" ]
	[ "${BASH_REMATCH[5]}" = "$5" ]
	[ $((BASH_REMATCH[2] + BASH_REMATCH[3] + BASH_REMATCH[4] + BASH_REMATCH[5])) -eq "${BASH_REMATCH[1]}" ]
}

# Whether the --pipe summary counts N lines: S sent and E errors.
pipe_summary_is() {
	local re='^fsmemcache: ([0-9]+) lines?: ([0-9]+) sent, ([0-9]+) errors?; [0-9]+\.[0-9]{3} s, [0-9]+ lines/s$'
	split_stderr
	[[ $SUMMARY =~ $re ]]
	[ "${BASH_REMATCH[1]}" = "$1" ]
	[ "${BASH_REMATCH[2]}" = "$2" ]
	[ "${BASH_REMATCH[3]}" = "$3" ]
}

# Whether the --pipe --verify summary counts N lines: S sent, E errors;
# K keys: V verified, M missing, D differ, U unverified, and the keys
# add up.
verify_summary_is() {
	local re='^fsmemcache: ([0-9]+) lines?: ([0-9]+) sent, ([0-9]+) errors?; ([0-9]+) keys?: ([0-9]+) verified, ([0-9]+) missing, ([0-9]+) differs?, ([0-9]+) unverified; [0-9]+\.[0-9]{3} s, [0-9]+ lines/s$'
	split_stderr
	[[ $SUMMARY =~ $re ]]
	[ "${BASH_REMATCH[1]}" = "$1" ]
	[ "${BASH_REMATCH[2]}" = "$2" ]
	[ "${BASH_REMATCH[3]}" = "$3" ]
	[ "${BASH_REMATCH[4]}" = "$4" ]
	[ "${BASH_REMATCH[5]}" = "$5" ]
	[ "${BASH_REMATCH[6]}" = "$6" ]
	[ "${BASH_REMATCH[7]}" = "$7" ]
	[ "${BASH_REMATCH[8]}" = "$8" ]
	[ $((BASH_REMATCH[5] + BASH_REMATCH[6] + BASH_REMATCH[7] + BASH_REMATCH[8])) -eq "${BASH_REMATCH[4]}" ]
}

# Poll until the file's server holds key $1; give up after 5 seconds.
wait_for_key() {
	local deadline=$((SECONDS + 5))
	until [[ $(mc_raw "get $1") == VALUE* ]]; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "key $1 did not reach the server within 5 s" >&2
			return 1
		fi
		sleep 0.05
	done
}

# Run a command in the background with its input from a FIFO that this
# shell holds open for writing on fd 7: "bg_start file CMD..." gives
# CMD the FIFO's path as its last argument, "bg_start stdin CMD..." gives
# it the FIFO as standard input.  Its output goes to the files stdout
# and stderr of the test's directory.
bg_start() {
	local how=$1
	shift
	FIFO=$BATS_TEST_TMPDIR/fifo
	mkfifo "$FIFO"
	exec 7<>"$FIFO"
	if [ "$how" = file ]; then
		"$@" "$FIFO" >"$BATS_TEST_TMPDIR/stdout" \
		    2>"$BATS_TEST_TMPDIR/stderr" 3>&- 7>&- &
	else
		"$@" <"$FIFO" >"$BATS_TEST_TMPDIR/stdout" \
		    2>"$BATS_TEST_TMPDIR/stderr" 3>&- 7>&- &
	fi
	BG_PID=$!
}

# Close the FIFO so that the background run reaches the end of its
# input, and wait for it (5 seconds at most, then stop it): its exit
# status in $BG_STATUS, its standard error in $stderr.
bg_finish() {
	local deadline=$((SECONDS + 5))
	exec 7>&-
	while kill -0 "$BG_PID" 2>/dev/null && [ "$SECONDS" -le "$deadline" ]; do
		sleep 0.05
	done
	kill "$BG_PID" 2>/dev/null || true
	BG_STATUS=0
	wait "$BG_PID" || BG_STATUS=$?
	BG_PID=
	stderr=$(cat "$BATS_TEST_TMPDIR/stderr")
}

# The server's total_connections, this query's own included.
connections() {
	mc_stat total_connections | tr -d '\r'
}

# Replies and their order.

@test "a mix of stores, gets and misses prints each reply in input order" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1 0 ff" "get ${k}a" "get ${k}missing" \
	    "getflags ${k}a" "get ${k}b" "set ${k}b 2" "get ${k}b" \
	    "increment ${k}c 5" "get ${k}a" >"$in"
	run -1 --separate-stderr to_file fsmc -f "$in"
	out_is '+OK\n1\n-ERR NOT FOUND\nff\n-ERR NOT FOUND\n+OK\n2\n5\n1\n'
	summary_is 9 7 2 0 0
	[ "$ERRORS" = "" ]
}

@test "a run of gets and getflags, hits and misses mixed, keeps input order" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 1 0 3\r\none' "${k}x")"
	[ "$output" = "STORED" ]
	run -0 mc_raw "$(printf 'set %s 2 0 3\r\ntwo' "${k}y")"
	[ "$output" = "STORED" ]
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "get ${k}y" "get ${k}none" "getflags ${k}x" "get ${k}x" \
	    "getflags ${k}none" "getflags ${k}y" "get ${k}y" >"$in"
	run -1 --separate-stderr to_file fsmc -f "$in"
	out_is 'two\n-ERR NOT FOUND\n1\none\n-ERR NOT FOUND\n2\ntwo\n'
	summary_is 7 5 2 0 0
	[ "$ERRORS" = "" ]
}

@test "get of an empty value prints an empty line" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set $k ''" "get $k" "get $k" >"$in"
	run -0 --separate-stderr to_file fsmc -f "$in"
	out_is '+OK\n\n\n'
	summary_is 3 3 0 0 0
}

@test "set, add, replace, delete, decrement and flush print their replies" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "add ${k}a 1" "add ${k}a 2" "replace ${k}a 3" \
	    "replace ${k}none 4" "delete ${k}a" "delete ${k}a" \
	    "decrement ${k}n" "increment ${k}n 7" "decrement ${k}n 2" >"$in"
	run -2 --separate-stderr to_file fsmc -f "$in"
	out_is '+OK\n-ERR NOT STORED\n+OK\n-ERR NOT STORED\n+OK\n-ERR NOT FOUND\n0\n7\n5\n'
	summary_is 9 6 1 2 0
	[ "$ERRORS" = "" ]
}

@test "-f - reads the commands from standard input" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set $k from-stdin" "get $k" >"$in"
	run -0 --separate-stderr to_file fsmc -f - <"$in"
	out_is '+OK\nfrom-stdin\n'
	summary_is 2 2 0 0 0
	[ "$ERRORS" = "" ]
}

@test "a last line without a newline is run" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf 'set %s v\nget %s' "$k" "$k" >"$in"
	run -0 --separate-stderr to_file fsmc -f "$in"
	out_is '+OK\nv\n'
	summary_is 2 2 0 0 0
}

@test "the whole run uses one connection" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "get ${k}a" "get ${k}none" "increment ${k}n" \
	    "getflags ${k}a" "delete ${k}a" "get ${k}a" "add ${k}b 2" >"$in"
	before=$(connections)
	run -1 --separate-stderr to_file fsmc -f "$in"
	after=$(connections)
	# one for fsmemcache, one for the query after it
	[ $((after - before)) -eq 2 ]
}

# Splitting lines.

@test "each line is split as -e splits it: quotes, escapes, ^^, CR LF, spaces" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 'This is a test'" "get ${k}a" \
	    'set '"${k}b"' a\sb\tc' "get ${k}b" \
	    "^^|set|${k}c|x y z" "get ${k}c" \
	    $'   get '"${k}a"$' \t\r' >"$in"
	run -0 --separate-stderr to_file fsmc -f "$in"
	out_is '+OK\nThis is a test\n+OK\na b\tc\n+OK\nx y z\nThis is a test\n'
	summary_is 7 7 0 0 0
	[ "$ERRORS" = "" ]
}

@test "at most five words: the fifth is the rest of the line, as with -e" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	line="set $k v 0 ff extra"
	printf '%s\n' "$line" >"$in"
	run -65 --separate-stderr to_file fsmc -e "$line"
	single=$stderr
	cp "$BATS_TEST_TMPDIR/stdout" "$BATS_TEST_TMPDIR/single"
	[ "$single" = "fsmemcache: set: bad flags 'ff extra': not a hexadecimal number from 0 to ffffffff" ]
	run -65 --separate-stderr to_file fsmc -f "$in"
	cmp "$BATS_TEST_TMPDIR/single" "$BATS_TEST_TMPDIR/stdout"
	summary_is 1 0 0 0 1
	[ "$ERRORS" = "fsmemcache: line 1: ${single#fsmemcache: }" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

# Skipped lines, messages and the summary.

@test "blank and comment lines are skipped and not counted, but keep line numbers" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "" "# a comment" "   # an indented comment" "set $k 1" \
	    $' \t ' "#set ${k}x 1" "frob" >"$in"
	run -64 --separate-stderr to_file fsmc -f "$in"
	out_is '+OK\n-ERR\n'
	summary_is 2 1 0 0 1
	[ "$ERRORS" = "fsmemcache: line 7: unknown command 'frob'" ]
	run -0 mc_raw "get ${k}x"
	[ "$output" = "END" ]
}

@test "an input of only blank and comment lines runs nothing" {
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "" "# nothing" "   " >"$in"
	run -0 --separate-stderr to_file fsmc -f "$in"
	out_is ''
	summary_is 0 0 0 0 0
	[ "$ERRORS" = "" ]
}

@test "errors get a line each on standard error, and the run goes on" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "set ${k}b 1 x" "frob" "get ${k}a" \
	    "set ${k}c 3" >"$in"
	run -65 --separate-stderr to_file fsmc -f "$in"
	out_is '+OK\n-ERR INVALID ARGUMENTS\n-ERR\n1\n+OK\n'
	summary_is 5 3 0 0 2
	[ "$ERRORS" = "fsmemcache: line 2: set: bad expiration 'x': not a decimal number of seconds from -2147483648 to 2147483647
fsmemcache: line 3: unknown command 'frob'" ]
	run -0 mc_raw "get ${k}b"
	[ "$output" = "END" ]
	run -0 mc_raw "get ${k}c"
	[ "$output" = "$(printf 'VALUE %sc 0 1\n3\nEND' "$k")" ]
}

@test "a usage error in a run of gets is reported in its place" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "get ${k}a" "get" "get ${k}a extra" "get ${k}a" >"$in"
	run -64 --separate-stderr to_file fsmc -f "$in"
	out_is '+OK\n1\n-ERR\n-ERR\n1\n'
	summary_is 5 3 0 0 2
	[ "$ERRORS" = "fsmemcache: line 3: get: too few arguments
fsmemcache: line 4: get: too many arguments" ]
}

@test "the summary counts ok, not found, not stored and errors" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "add ${k}a 2" "get ${k}none" "delete ${k}none" \
	    "increment ${k}a x" "get ${k}a" "replace ${k}none 1" >"$in"
	run -65 --separate-stderr to_file fsmc -f "$in"
	out_is '+OK\n-ERR NOT STORED\n-ERR NOT FOUND\n-ERR NOT FOUND\n-ERR INVALID ARGUMENTS\n1\n-ERR NOT STORED\n'
	summary_is 7 2 2 2 1
	[ "$ERRORS" = "fsmemcache: line 5: increment: bad offset 'x': not a decimal number from 0 to 4294967295" ]
}

# Exit status: the highest of any line.

@test "exit 0 when every line succeeds" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set $k 1" "get $k" >"$in"
	run -0 --separate-stderr fsmc -f "$in"
}

@test "exit 1 for a miss" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "get ${k}none" "get ${k}a" >"$in"
	run -1 --separate-stderr fsmc -f "$in"
}

@test "exit 2 for add on an existing key, above a miss" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "add ${k}a 2" "get ${k}none" >"$in"
	run -2 --separate-stderr fsmc -f "$in"
}

@test "exit 64 for a malformed line" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "get ${k}none" "set $k" "set ${k}b 1" >"$in"
	run -64 --separate-stderr fsmc -f "$in"
	split_stderr
	[ "$ERRORS" = "fsmemcache: line 2: set: too few arguments" ]
}

@test "exit 65 for a bad number, whichever comes first" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "get ${k}none" "set ${k}a 1 0 zz" >"$in"
	run -65 --separate-stderr fsmc -f "$in"
	printf '%s\n' "set ${k}a 1 0 zz" "get ${k}none" >"$in"
	run -65 --separate-stderr fsmc -f "$in"
	printf '%s\n' "frob" "set ${k}a 1 0 zz" "add ${k}b 1" "add ${k}b 1" >"$in"
	run -65 --separate-stderr fsmc -f "$in"
	printf '%s\n' "set ${k}a 1 0 zz" "frob" >"$in"
	run -65 --separate-stderr fsmc -f "$in"
}

# Usage errors: one line each.

@test "a usage error prints -ERR and one line naming the line and the problem, not the usage of every command" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "frob" "set $k" "get $k extra" "set $k v" "status loud" >"$in"
	run -64 --separate-stderr to_file fsmc -f "$in"
	out_is '-ERR\n-ERR\n-ERR\n+OK\n-ERR\n'
	summary_is 5 1 0 0 4
	[ "$ERRORS" = "fsmemcache: line 1: unknown command 'frob'
fsmemcache: line 2: set: too few arguments
fsmemcache: line 3: get: too many arguments
fsmemcache: line 5: status: unknown argument 'loud'" ]
}

@test "with -q, a usage error's -ERR goes to standard error before its line" {
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "frob" >"$in"
	run -64 --separate-stderr to_file fsmc -q -f "$in"
	out_is ''
	summary_is 1 0 0 0 1
	[ "$ERRORS" = "-ERR
fsmemcache: line 1: unknown command 'frob'" ]
}

# -qq: nothing at all when the run goes as it may, for cron.

@test "-qq: a run that succeeds prints nothing at all: no +OK, no data, no summary" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "add ${k}b 2" "get ${k}a" "delete ${k}b" \
	    "increment ${k}n 3" >"$in"
	run -0 --separate-stderr to_file fsmc -qq -f "$in"
	out_is ''
	[ "$stderr" = "" ]
	[ "$(mc_raw "get ${k}n" | sed -n 2p | tr -d '\r')" = 3 ]
}

@test "-qq: misses and NOT STORED print nothing at all; the exit status tells" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "get ${k}none" "add ${k}a 2" \
	    "replace ${k}none 3" "delete ${k}none" "getflags ${k}none" >"$in"
	run -2 --separate-stderr to_file fsmc -qq -f "$in"
	out_is ''
	[ "$stderr" = "" ]
}

@test "-qq: a real failure prints its line and the summary, nothing else" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "get ${k}none" "set ${k}b 1 x" "get ${k}a" >"$in"
	run -65 --separate-stderr to_file fsmc -qq -f "$in"
	out_is ''
	summary_is 4 2 1 0 1
	[ "$ERRORS" = "fsmemcache: line 3: set: bad expiration 'x': not a decimal number of seconds from -2147483648 to 2147483647" ]
}

@test "-q in a batch: no +OK, -ERR lines on standard error, data and the summary as always" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "get ${k}none" "get ${k}a" >"$in"
	run -1 --separate-stderr to_file fsmc -q -f "$in"
	out_is '1\n'
	summary_is 3 2 1 0 0
	[ "$ERRORS" = "-ERR NOT FOUND" ]
}

@test "-qq --pipe --verify: a load that verifies prints nothing; a key that differs is printed with the summary" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "set ${k}b 2" >"$in"
	run -0 --separate-stderr to_file fsmc -qq --pipe --verify -f "$in"
	out_is ''
	[ "$stderr" = "" ]
	printf '%s\n' "add ${k}a 3" >"$in"
	run -2 --separate-stderr to_file fsmc -qq --pipe --verify -f "$in"
	out_is ''
	verify_summary_is 1 1 0 1 0 0 1 0
	[ "$ERRORS" = "fsmemcache: line 1: add ${k}a: the server holds another value" ]
}

# --stop-on-error

@test "--stop-on-error stops at a malformed line, not at a miss" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "get ${k}none" "frob" "set ${k}b 2" >"$in"
	run -64 --separate-stderr to_file fsmc --stop-on-error -f "$in"
	out_is '+OK\n-ERR NOT FOUND\n-ERR\n'
	summary_is 3 1 1 0 1
	[ "$ERRORS" = "fsmemcache: line 3: unknown command 'frob'" ]
	run -0 mc_raw "get ${k}b"
	[ "$output" = "END" ]
}

@test "--stop-on-error stops at a bad number" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1 x" "set ${k}b 2" >"$in"
	run -65 --separate-stderr to_file fsmc --stop-on-error -f "$in"
	out_is '-ERR INVALID ARGUMENTS\n'
	summary_is 1 0 0 0 1
	run -0 mc_raw "get ${k}b"
	[ "$output" = "END" ]
}

@test "--stop-on-error stops at a malformed get among gets" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "get ${k}a" "get" "get ${k}a" "set ${k}b 2" >"$in"
	run -64 --separate-stderr to_file fsmc --stop-on-error -f "$in"
	out_is '+OK\n1\n-ERR\n'
	summary_is 3 2 0 0 1
	[ "$ERRORS" = "fsmemcache: line 3: get: too few arguments" ]
	run -0 mc_raw "get ${k}b"
	[ "$output" = "END" ]
}

@test "--stop-on-error stops at a line holding a NUL byte" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf 'set %sa 1\nset %sn a\0b\nset %sb 2\n' "$k" "$k" "$k" >"$in"
	run -65 --separate-stderr to_file fsmc --stop-on-error -f "$in"
	out_is '+OK\n'
	summary_is 2 1 0 0 1
	[ "$ERRORS" = "fsmemcache: line 2: holds a NUL byte" ]
	run -0 mc_raw "get ${k}b"
	[ "$output" = "END" ]
}

@test "without --stop-on-error the lines after an error run" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "frob" "set ${k}b 2" >"$in"
	run -64 --separate-stderr to_file fsmc -f "$in"
	out_is '-ERR\n+OK\n'
	summary_is 2 1 0 0 1
	run -0 mc_raw "get ${k}b"
	[ "$output" = "$(printf 'VALUE %sb 0 1\n2\nEND' "$k")" ]
}

# Lines that cannot be commands.

@test "a line holding a NUL byte is an error, exit 65, and the run goes on" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf 'set %sa 1\nset %sn a\0b\nset %sb 2\n' "$k" "$k" "$k" >"$in"
	run -65 --separate-stderr to_file fsmc -f "$in"
	out_is '+OK\n+OK\n'
	summary_is 3 2 0 0 1
	[ "$ERRORS" = "fsmemcache: line 2: holds a NUL byte" ]
	run -0 mc_raw "get ${k}n"
	[ "$output" = "END" ]
	run -0 mc_raw "get ${k}b"
	[ "$output" = "$(printf 'VALUE %sb 0 1\n2\nEND' "$k")" ]
}

@test "a line longer than 8 MiB is an error, exit 65; one of 8 MiB is not" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	# line 2: a comment of exactly 8 MiB; line 3: a set of 8 MiB and 1 byte
	python3 -c '
import sys
k = sys.argv[1]
mib8 = 8 * 1024 * 1024
head = "set %sl " % k
sys.stdout.write("set %sa 1\n" % k)
sys.stdout.write("#" + "c" * (mib8 - 1) + "\n")
sys.stdout.write(head + "x" * (mib8 + 1 - len(head)) + "\n")
sys.stdout.write("set %sb 2\n" % k)
' "$k" >"$in"
	run -65 --separate-stderr to_file fsmc -f "$in"
	out_is '+OK\n+OK\n'
	summary_is 3 2 0 0 1
	[ "$ERRORS" = "fsmemcache: line 3: longer than 8 MiB" ]
	run -0 mc_raw "get ${k}l"
	[ "$output" = "END" ]
	run -0 mc_raw "get ${k}b"
	[ "$output" = "$(printf 'VALUE %sb 0 1\n2\nEND' "$k")" ]
}

# The input file itself.

@test "-f with a missing file: exit 66" {
	run -66 --separate-stderr to_file fsmc -f "$BATS_TEST_TMPDIR/nosuch"
	out_is ''
	[ "$stderr" = "fsmemcache: $BATS_TEST_TMPDIR/nosuch: No such file or directory" ]
}

@test "-f with a directory: exit 66" {
	run -66 --separate-stderr to_file fsmc -f "$BATS_TEST_TMPDIR"
	out_is ''
	[ "$stderr" = "fsmemcache: $BATS_TEST_TMPDIR: Is a directory" ]
}

# Options that do not go together.

@test "usage errors: -f with command words, -e or -x; --pipe without -f; --verify without --pipe" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set $k from-the-file" >"$in"
	for args in "-f|$in|get|$k" "-f|$in|-e|get $k" "-x|-f|$in" \
	    "--pipe|set|$k|v" "--pipe|-e|set $k v" "--verify|-f|$in" \
	    "--verify|--stop-on-error|-f|$in"; do
		IFS='|' read -r -a argv <<<"$args"
		run -64 --separate-stderr to_file fsmc "${argv[@]}"
		out_is ''
		[[ $stderr == "fsmemcache: "*" (see fsmemcache -h)" ]]
		[[ $stderr != *$'\n'* ]]
	done
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

# --pipe

@test "--pipe sends set, add, replace and delete, prints nothing, and they are stored" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 3\r\nold' "${k}d")"
	[ "$output" = "STORED" ]
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "add ${k}b 2" "replace ${k}a 3" \
	    "delete ${k}d" "set ${k}f v 0 1f" >"$in"
	run -0 --separate-stderr to_file fsmc --pipe -f "$in"
	out_is ''
	pipe_summary_is 5 5 0
	[ "$ERRORS" = "" ]
	run -0 mc_raw "get ${k}a ${k}b ${k}d ${k}f"
	[ "$output" = "$(printf 'VALUE %sa 0 1\n3\nVALUE %sb 0 1\n2\nVALUE %sf 31 1\nv\nEND' "$k" "$k" "$k")" ]
}

@test "--pipe refuses a get line: exit 64, and the other lines are sent" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "get ${k}a" "set ${k}b 2" >"$in"
	run -64 --separate-stderr to_file fsmc --pipe -f "$in"
	out_is '-ERR\n'
	pipe_summary_is 3 2 1
	[ "$ERRORS" = "fsmemcache: line 2: get: needs its reply, so it cannot be pipelined (only set, add, replace and delete can)" ]
	run -0 mc_raw "get ${k}a ${k}b"
	[ "$output" = "$(printf 'VALUE %sa 0 1\n1\nVALUE %sb 0 1\n2\nEND' "$k" "$k")" ]
}

@test "--pipe uses one connection" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "set ${k}b 2" "delete ${k}a" >"$in"
	before=$(connections)
	run -0 --separate-stderr fsmc --pipe -f "$in"
	after=$(connections)
	# one for fsmemcache, one for the query after it
	[ $((after - before)) -eq 2 ]
}

@test "--pipe with 30000 set lines completes (libmemcached 1.1.4 asserts when buffering without noreply)" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	seq 1 30000 | awk -v k="$k" '{ print "set " k "_" $1 " v" $1 }' >"$in"
	run -0 --separate-stderr to_file fsmc --pipe -f "$in"
	out_is ''
	pipe_summary_is 30000 30000 0
	[ "$ERRORS" = "" ]
	run -0 mc_raw "get ${k}_1 ${k}_30000"
	[ "$output" = "$(printf 'VALUE %s_1 0 2\nv1\nVALUE %s_30000 0 6\nv30000\nEND' "$k" "$k")" ]
}

@test "--pipe memory stays flat: 1,000,000 lines under 20 MiB, within 2 MiB of 10,000 lines" {
	# A server of its own: a million keys would push out the others.
	mc_spawn
	big=$BATS_FILE_TMPDIR/1m.in
	small=$BATS_TEST_TMPDIR/10k.in
	seq 1 1000000 | awk '{ print "set m" $1 " value-" $1 }' >"$big"
	head -n 10000 "$big" >"$small"
	run -0 --separate-stderr env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss-big" \
	    "$FSMC_BIN" -c "$FSMC_CFG" -s "127.0.0.1:$MC_PORT" --pipe -f "$big"
	pipe_summary_is 1000000 1000000 0
	run -0 --separate-stderr env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss-small" \
	    "$FSMC_BIN" -c "$FSMC_CFG" -s "127.0.0.1:$MC_PORT" --pipe -f "$small"
	pipe_summary_is 10000 10000 0
	rss_big=$(cat "$BATS_TEST_TMPDIR/rss-big")
	rss_small=$(cat "$BATS_TEST_TMPDIR/rss-small")
	echo "peak RSS: $rss_big KiB for 1000000 lines, $rss_small KiB for 10000"
	[ "$rss_big" -lt 20480 ]
	diff=$((rss_big - rss_small))
	[ "${diff#-}" -lt 2048 ]
	rm -f "$big"
	mc_kill "$MC_PID"
}

# --pipe --verify

@test "--pipe --verify reads every key back: none missing, none different" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "# comment" "add ${k}b 2 0 ff" "set ${k}c 3" >"$in"
	run -0 --separate-stderr to_file fsmc --pipe --verify -f "$in"
	out_is ''
	verify_summary_is 3 3 0 3 3 0 0 0
	[ "$ERRORS" = "" ]
}

@test "--pipe --verify from standard input verifies too" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "set ${k}b 2" "set ${k}c 3" >"$in"
	run -0 --separate-stderr to_file fsmc --pipe --verify -f - <"$in"
	out_is ''
	verify_summary_is 3 3 0 3 3 0 0 0
	[ "$ERRORS" = "" ]
}

@test "--pipe --verify reports a key deleted behind its back: exit 1" {
	k=k$BATS_TEST_NUMBER
	bg_start stdin fsmc --pipe --verify -f -
	printf '%s\n' "set ${k}a 1" "set ${k}b 2" "set ${k}c 3" >&7
	wait_for_key "${k}c"
	run -0 mc_raw "delete ${k}b"
	[ "$output" = "DELETED" ]
	bg_finish
	[ "$BG_STATUS" -eq 1 ]
	out_is ''
	verify_summary_is 3 3 0 3 2 1 0 0
	[ "$ERRORS" = "fsmemcache: line 2: set ${k}b: missing after the load" ]
}

@test "--pipe --verify reports a value changed behind its back: exit 2" {
	k=k$BATS_TEST_NUMBER
	bg_start file fsmc --pipe --verify -f
	printf '%s\n' "set ${k}a 1" "set ${k}b 2" "set ${k}c 3" >&7
	wait_for_key "${k}c"
	run -0 mc_raw "$(printf 'set %sb 0 0 5\r\nother' "$k")"
	[ "$output" = "STORED" ]
	bg_finish
	[ "$BG_STATUS" -eq 2 ]
	out_is ''
	verify_summary_is 3 3 0 3 2 0 1 0
	[ "$ERRORS" = "fsmemcache: line 2: set ${k}b: the server holds another value" ]
}

@test "--verify judges each key by the input's final word: set, delete, set; a delete last; add and replace as the server applies them" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "delete ${k}a" "set ${k}a 2" \
	    "set ${k}dup 1" "delete ${k}dup" \
	    "set ${k}x 1" "add ${k}x 2" \
	    "delete ${k}y" "replace ${k}y 3" \
	    "add ${k}z 1 0 f" "add ${k}z 2" \
	    "set ${k}w 1 0 ff" "set ${k}w 2 0 1" >"$in"
	run -0 --separate-stderr to_file fsmc --pipe --verify -f "$in"
	out_is ''
	verify_summary_is 13 13 0 6 6 0 0 0
	[ "$ERRORS" = "" ]
	# what the server holds is indeed what the input's last word asked
	run -0 mc_raw "get ${k}a ${k}dup ${k}x ${k}y ${k}z ${k}w"
	[ "$output" = "$(printf 'VALUE %sa 0 1\n2\nVALUE %sx 0 1\n1\nVALUE %sz 15 1\n1\nVALUE %sw 1 1\n2\nEND' "$k" "$k" "$k" "$k")" ]
}

@test "--verify checks a key once, at the line with the final word: adds that found the key are one key that differs" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 3\r\nold' "$k")"
	[ "$output" = "STORED" ]
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "add $k 1" "add $k 2" "add $k 3" >"$in"
	run -2 --separate-stderr to_file fsmc --pipe --verify -f "$in"
	out_is ''
	verify_summary_is 3 3 0 1 0 0 1 0
	[ "$ERRORS" = "fsmemcache: line 1: add $k: the server holds another value" ]
}

@test "--verify reads back only the lines that were loaded, not those --pipe refused or that were invalid" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "get ${k}a" "increment ${k}c" \
	    "set ${k}b 1 0 zz" "frob" >"$in"
	read -r _ _ _ before <<<"$(served)"
	run -65 --separate-stderr to_file fsmc --pipe --verify -f "$in"
	read -r _ _ _ after <<<"$(served)"
	out_is '-ERR\n-ERR\n-ERR INVALID ARGUMENTS\n-ERR\n'
	verify_summary_is 5 1 4 1 1 0 0 0
	[ "$ERRORS" = "fsmemcache: line 2: get: needs its reply, so it cannot be pipelined (only set, add, replace and delete can)
fsmemcache: line 3: increment: needs its reply, so it cannot be pipelined (only set, add, replace and delete can)
fsmemcache: line 4: set: bad flags 'zz': not a hexadecimal number from 0 to ffffffff
fsmemcache: line 5: unknown command 'frob'" ]
	# one key read back, and only one
	[ $((after - before)) -eq 1 ]
}

@test "--pipe --verify with every line invalid sends nothing: no connection, no read-back" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "get ${k}a" "frob" "set ${k}b 1 0 zz" >"$in"
	read -r _ conns _ gets <<<"$(served)"
	run -65 --separate-stderr to_file fsmc --pipe --verify -f "$in"
	read -r _ conns_after _ gets_after <<<"$(served)"
	out_is '-ERR\n-ERR\n-ERR INVALID ARGUMENTS\n'
	verify_summary_is 3 0 3 0 0 0 0 0
	# the second look at the statistics is the only new connection
	[ $((conns_after - conns)) -eq 1 ]
	[ "$gets_after" -eq "$gets" ]
}

@test "--verify counts, names and exits 69 for keys it could not read back: a server that dies at the read-back" {
	k=k$BATS_TEST_NUMBER
	# The fake takes the load (noreply sets, then the barrier) and exits,
	# as if killed, at the first get: the rest of the read-back finds
	# its port closed.
	fake_start --mode exit --target get
	in=$BATS_TEST_TMPDIR/in
	seq 1 2500 | awk -v k="$k" '{ print "set " k "_" $1 " v" $1 }' >"$in"
	run -69 --separate-stderr to_file fsmc -s "127.0.0.1:$FAKE_PORT" \
	    --pipe --verify -f "$in"
	out_is ''
	verify_summary_is 2500 2500 0 2500 0 0 0 2500
	expected=
	for n in 1 2 3 4 5 6 7 8 9 10; do
		expected+="fsmemcache: line $n: set ${k}_$n: could not be read back: connection failure (127.0.0.1:$FAKE_PORT)"$'\n'
	done
	[ "$ERRORS" = "${expected}fsmemcache: 2490 more keys could not be read back" ]
}

@test "--verify with one of two servers dying at the read-back: its keys unverified and named, the others verified, exit 69; --json has a record for each" {
	k=k$BATS_TEST_NUMBER
	fake_start --mode exit --target get
	servers="127.0.0.1:$MC_PORT,127.0.0.1:$FAKE_PORT"
	in=$BATS_TEST_TMPDIR/in
	seq 1 12 | awk -v k="$k" '{ print "set " k "_" $1 " v" $1 }' >"$in"
	# where each key goes, from the same placement
	seq 1 12 | awk -v k="$k" '{ print "where " k "_" $1 }' >"$BATS_TEST_TMPDIR/where"
	run -0 --separate-stderr fsmc -s "$servers" -f "$BATS_TEST_TMPDIR/where"
	mapfile -t placed <<<"$output"
	expected=
	json=
	lost=0
	for n in $(seq 1 12); do
		[ "${placed[n - 1]}" = "127.0.0.1:$FAKE_PORT" ] || continue
		lost=$((lost + 1))
		expected+="fsmemcache: line $n: set ${k}_$n: could not be read back: connection failure (127.0.0.1:$FAKE_PORT)"$'\n'
		json+='{"line":'$n',"command":"set","key":"'${k}_$n'","status":"unavailable","exit":69,"error":"CONNECTION FAILURE","message":"set '${k}_$n': could not be read back: connection failure (127.0.0.1:'$FAKE_PORT')"}'$'\n'
	done
	# both servers have keys to lose or keep
	[ "$lost" -gt 0 ]
	[ "$lost" -lt 10 ]
	run -69 --separate-stderr to_file fsmc -s "$servers" --json --pipe \
	    --verify -f "$in"
	stdout_is "$json"
	verify_summary_is 12 12 0 12 $((12 - lost)) 0 0 "$lost"
	[ "$ERRORS"$'\n' = "$expected" ]
}

@test "--verify against a server that takes the load and stores nothing: every key missing, exit 1" {
	k=k$BATS_TEST_NUMBER
	fake_start --mode reply --reply END --target get
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "set ${k}b 2" >"$in"
	run -1 --separate-stderr to_file fsmc -s "127.0.0.1:$FAKE_PORT" \
	    --pipe --verify -f "$in"
	out_is ''
	verify_summary_is 2 2 0 2 0 2 0 0
	[ "$ERRORS" = "fsmemcache: line 1: set ${k}a: missing after the load
fsmemcache: line 2: set ${k}b: missing after the load" ]
}

@test "--verify against a server that does not answer the read-back: unverified at the deadline, exit 69" {
	k=k$BATS_TEST_NUMBER
	fake_start --mode silent --target get
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "set ${k}b 2" >"$in"
	start=$(date +%s%N)
	run -69 --separate-stderr to_file fsmc -s "127.0.0.1:$FAKE_PORT" \
	    -t 200 --pipe --verify -f "$in"
	ms=$((($(date +%s%N) - start) / 1000000))
	out_is ''
	verify_summary_is 2 2 0 2 0 0 0 2
	[[ $ERRORS == "fsmemcache: line 1: set ${k}a: could not be read back: "*" (127.0.0.1:$FAKE_PORT)
fsmemcache: line 2: set ${k}b: could not be read back: "*" (127.0.0.1:$FAKE_PORT)" ]]
	[ "$ms" -lt 2000 ]
}

@test "--pipe --verify --stop-on-error reads back the lines loaded before the stop" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set ${k}a 1" "frob" "set ${k}b 2" >"$in"
	run -64 --separate-stderr to_file fsmc --stop-on-error --pipe --verify -f "$in"
	out_is '-ERR\n'
	verify_summary_is 2 1 1 1 1 0 0 0
	[ "$ERRORS" = "fsmemcache: line 2: unknown command 'frob'" ]
	run -0 mc_raw "get ${k}b"
	[ "$output" = "END" ]
}

@test "a signal during the read-back: the run ends at once, and the keys not read back are unverified" {
	k=k$BATS_TEST_NUMBER
	log=$BATS_TEST_TMPDIR/fake.log
	fake_start --mode silent --target get --log "$log"
	in=$BATS_TEST_TMPDIR/in
	seq 1 1500 | awk -v k="$k" '{ print "set " k "_" $1 " v" $1 }' >"$in"
	# env runs fsmemcache in its place: $! is fsmemcache itself.
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS "$FSMC_BIN" \
	    -c "$FSMC_CFG" -s "127.0.0.1:$FAKE_PORT" -t 60000 --pipe --verify \
	    -f "$in" >"$BATS_TEST_TMPDIR/stdout" \
	    2>"$BATS_TEST_TMPDIR/stderr" 3>&- &
	BG=$!
	deadline=$((SECONDS + 5))
	until grep -q '^get ' "$log" 2>/dev/null; do
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.01
	done
	kill -TERM "$BG"
	status=0
	wait "$BG" || status=$?
	BG=
	[ "$status" -eq 143 ]
	out_is ''
	stderr=$(cat "$BATS_TEST_TMPDIR/stderr")
	verify_summary_is 1500 1500 0 1500 0 0 0 1500
	expected=
	for n in 1 2 3 4 5 6 7 8 9 10; do
		expected+="fsmemcache: line $n: set ${k}_$n: could not be read back: interrupted system call (127.0.0.1:$FAKE_PORT)"$'\n'
	done
	[ "$ERRORS" = "${expected}fsmemcache: 1014 more keys could not be read back
fsmemcache: 476 keys not read back: stopped
fsmemcache: stopped by signal 15" ]
}

# Reconnection

@test "a server restarted between two lines is connected to again" {
	k=k$BATS_TEST_NUMBER
	mc_spawn
	bg_start file fsmc -s "127.0.0.1:$MC_PORT" -f
	printf '%s\n' "set ${k}r1 a" >&7
	wait_for_key "${k}r1"
	mc_kill "$MC_PID"
	args=(-l 127.0.0.1 -p "$MC_PORT" -U 0)
	if [ "$(id -u)" -eq 0 ]; then args+=(-u root); fi
	memcached "${args[@]}" >>"$BATS_FILE_TMPDIR/memcached.log" 2>&1 3>&- 7>&- &
	pid=$!
	echo "$pid" >>"$BATS_FILE_TMPDIR/memcached.pids"
	wait_port "$MC_PORT" "$pid"
	printf '%s\n' "set ${k}r2 b" "get ${k}r2" >&7
	bg_finish
	[ "$BG_STATUS" -eq 0 ]
	out_is '+OK\n+OK\nb\n'
	summary_is 3 3 0 0 0
	mc_kill "$pid"
}
