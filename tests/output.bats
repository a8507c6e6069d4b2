#!/usr/bin/env bats
# Where output goes: -q and -qq, the newline added on a terminal, values on a terminal, warnings, and what each exit status prints on standard error.

load helper
setup_file() { mc_start; }
teardown_file() { mc_stop; }

# Run a command with its standard output and standard error in
# $BATS_TEST_TMPDIR/stdout and stderr, so that their trailing newlines
# can be compared.
to_files() {
	"$@" >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr"
}

# Whether the standard error that to_files kept is exactly $1.
stderr_is() {
	printf '%s' "$1" | cmp - "$BATS_TEST_TMPDIR/stderr"
}

# Run a command with its standard output on /dev/full, where writes fail,
# and its standard error in $BATS_TEST_TMPDIR/stderr.
to_full() {
	"$@" >/dev/full 2>"$BATS_TEST_TMPDIR/stderr"
}

# Run fsmc on a pseudo-terminal; what the terminal shows (with CR LF line
# ends) is kept in $BATS_TEST_TMPDIR/tty.  The exit status is fsmc's.
on_tty() {
	script -qec "$(printf '%q ' "$FSMC_BIN" -c "$FSMC_CFG" "$@")" /dev/null \
	    </dev/null >"$BATS_TEST_TMPDIR/tty"
}

# Whether the terminal that on_tty kept showed exactly $1.
tty_is() {
	printf '%s' "$1" | cmp - "$BATS_TEST_TMPDIR/tty"
}

# -q

@test "-q: set, add and replace print nothing when they succeed" {
	run -0 to_files fsmc -q set q1 v1
	stdout_is ""
	stderr_is ""
	run -0 to_files fsmc -q add q2 v2
	stdout_is ""
	stderr_is ""
	run -0 to_files fsmc -q replace q1 v3
	stdout_is ""
	stderr_is ""
	run -0 mc_raw "get q1 q2"
	[ "$output" = $'VALUE q1 0 2\nv3\nVALUE q2 0 2\nv2\nEND' ]
}

@test "-q: delete prints nothing when it succeeds" {
	run -0 fsmc set q3 v
	[ "$output" = "+OK" ]
	run -0 to_files fsmc -q delete q3
	stdout_is ""
	stderr_is ""
	run -0 mc_raw "get q3"
	[ "$output" = END ]
}

@test "-q: flush prints nothing when it succeeds" {
	run -0 fsmc set q4 v
	[ "$output" = "+OK" ]
	run -0 to_files fsmc -q flush
	stdout_is ""
	stderr_is ""
	run -0 mc_raw "get q4"
	[ "$output" = END ]
}

@test "-q: get still prints the value" {
	run -0 fsmc set q5 value5
	[ "$output" = "+OK" ]
	run -0 to_files fsmc -q get q5
	stdout_is "value5"
	stderr_is ""
}

@test "-q: getflags and increment still print their reply" {
	run -0 fsmc set q6 7 0 ab
	[ "$output" = "+OK" ]
	run -0 to_files fsmc -q getflags q6
	stdout_is "ab"
	stderr_is ""
	run -0 to_files fsmc -q increment q6
	stdout_is "8"
	stderr_is ""
}

@test "-q: get of a missing key puts -ERR on standard error" {
	run -1 to_files fsmc -q get q7
	stdout_is ""
	stderr_is $'-ERR NOT FOUND\n'
}

@test "-q: add of an existing key puts -ERR on standard error" {
	run -0 fsmc set q8 v
	[ "$output" = "+OK" ]
	run -2 to_files fsmc -q add q8 w
	stdout_is ""
	stderr_is $'-ERR NOT STORED\n'
}

@test "-q: a usage error puts the usage reply on standard error, then the message" {
	run -64 to_files fsmc -q frobnicate
	stdout_is ""
	stderr_is "$USAGE"$'fsmemcache: unknown command \'frobnicate\'\n'
}

@test "-q: a bad key puts -ERR on standard error, then the message" {
	run -65 to_files fsmc -q get 'q 9'
	stdout_is ""
	stderr_is $'-ERR A BAD KEY WAS PROVIDED/CHARACTERS OUT OF RANGE\nfsmemcache: get: bad key \'q 9\': contains a space\n'
}

# A newline after the reply on a terminal, and none in a pipe.

@test "get: a newline follows the value on a terminal" {
	run -0 fsmc set t1 value
	[ "$output" = "+OK" ]
	run -0 on_tty get t1
	tty_is $'value\r\n'
}

@test "get: no newline follows the value in a pipe" {
	run -0 fsmc set t2 value
	[ "$output" = "+OK" ]
	run -0 to_files fsmc get t2
	stdout_is "value"
	stderr_is ""
	run -0 bash -c 'set -o pipefail; "$@" | od -An -c' _ "$FSMC_BIN" -c "$FSMC_CFG" get t2
	[ "$output" = "   v   a   l   u   e" ]
}

@test "getflags: a newline follows the flags on a terminal, none in a pipe" {
	run -0 fsmc set t3 v 0 1F
	[ "$output" = "+OK" ]
	run -0 on_tty getflags t3
	tty_is $'1f\r\n'
	run -0 to_files fsmc getflags t3
	stdout_is "1f"
}

@test "increment and decrement: a newline follows the number on a terminal, none in a pipe" {
	run -0 fsmc set t4 10
	[ "$output" = "+OK" ]
	run -0 on_tty increment t4 5
	tty_is $'15\r\n'
	run -0 on_tty decrement t4 3
	tty_is $'12\r\n'
	run -0 to_files fsmc increment t4
	stdout_is "13"
	run -0 to_files fsmc decrement t4
	stdout_is "12"
}

@test "+OK is not doubled on a terminal" {
	run -0 on_tty set t5 v
	tty_is $'+OK\r\n'
}

@test "-ERR is not doubled on a terminal" {
	run -1 on_tty get t6
	tty_is $'-ERR NOT FOUND\r\n'
}

# Standard error by exit status.

@test "exit 1 prints nothing on standard error" {
	run -1 to_files fsmc get e1
	stdout_is $'-ERR NOT FOUND\n'
	stderr_is ""
}

@test "exit 2 prints nothing on standard error" {
	run -0 fsmc set e2 v
	[ "$output" = "+OK" ]
	run -2 to_files fsmc add e2 w
	stdout_is $'-ERR NOT STORED\n'
	stderr_is ""
	run -2 to_files fsmc replace e3 w
	stdout_is $'-ERR NOT STORED\n'
	stderr_is ""
}

@test "exit 64: one line on standard error" {
	run -64 to_files fsmc get e4 extra
	stdout_is "$USAGE"
	stderr_is $'fsmemcache: get: too many arguments\n'
	run -64 to_files fsmc -e 'get e4' extra
	stdout_is ""
	stderr_is $'fsmemcache: -e takes no command words; unexpected argument \'extra\' (see fsmemcache -h)\n'
}

@test "exit 65: one line on standard error" {
	run -65 to_files fsmc set e5 v 0 zz
	stdout_is $'-ERR INVALID ARGUMENTS\n'
	stderr_is $'fsmemcache: set: bad flags \'zz\': not a hexadecimal number from 0 to ffffffff\n'
	run -0 fsmc set e6 abc
	[ "$output" = "+OK" ]
	run -65 to_files fsmc increment e6
	stdout_is $'-ERR CLIENT ERROR\n'
	stderr_is "fsmemcache: increment e6: value is not a number (127.0.0.1:$MC_PORT)"$'\n'
}

@test "exit 69: one line on standard error" {
	local port
	port=$(dead_port)
	run -69 to_files fsmc -s "127.0.0.1:$port" get e7
	stdout_is $'-ERR CONNECTION FAILURE\n'
	stderr_is "fsmemcache: get e7: connection refused (127.0.0.1:$port)"$'\n'
}

@test "exit 74: one line on standard error when standard output fails" {
	run -0 fsmc set e8 v
	[ "$output" = "+OK" ]
	run -74 to_full fsmc get e8
	[ "$output" = "" ]
	stderr_is $'fsmemcache: standard output: No space left on device\n'
}

@test "-h into a full standard output: exit 74 and one line on standard error" {
	run -74 to_full "$FSMC_BIN" -h
	stderr_is $'fsmemcache: standard output: No space left on device\n'
	run -74 to_full "$FSMC_BIN" --help
	stderr_is $'fsmemcache: standard output: No space left on device\n'
}

@test "-V into a full standard output: exit 74 and one line on standard error" {
	run -74 to_full "$FSMC_BIN" -V
	stderr_is $'fsmemcache: standard output: No space left on device\n'
}

@test "-n and --json into a full standard output: exit 74 and one line" {
	run -74 to_full fsmc -n
	stderr_is $'fsmemcache: standard output: No space left on device\n'
	run -74 to_full fsmc --json get e8
	stderr_is $'fsmemcache: standard output: No space left on device\n'
}

@test "-f into a full standard output: exit 74, the message after the summary" {
	printf 'set e10 v\nget e10\n' >"$BATS_TEST_TMPDIR/in"
	run -74 to_full fsmc -f "$BATS_TEST_TMPDIR/in"
	run -0 tail -n 1 "$BATS_TEST_TMPDIR/stderr"
	[ "$output" = "fsmemcache: standard output: No space left on device" ]
	run -0 grep -c '^fsmemcache: 2 lines: 2 ok, ' "$BATS_TEST_TMPDIR/stderr"
	[ "$output" = 1 ]
}

@test "exit 78: one line on standard error" {
	run -78 to_files env -u FSMEMCACHE_CONFIG "$FSMC_BIN" -c "$BATS_TEST_TMPDIR/missing.cfg" get e9
	stdout_is ""
	stderr_is "fsmemcache: $BATS_TEST_TMPDIR/missing.cfg: No such file or directory"$'\n'
}

# Values on a terminal.

@test "get on a terminal shows control bytes as \xNN, text and UTF-8 as they are" {
	printf '\033[31mred\033[0m\tx\ny\rz\bw\177 caf\303\251 \302\233 \377.' \
	    >"$BATS_TEST_TMPDIR/in"
	run -0 fsmc -x set v1 <"$BATS_TEST_TMPDIR/in"
	[ "$output" = "+OK" ]
	run -0 on_tty get v1
	tty_is $'\\x1b[31mred\\x1b[0m\tx\r\ny\\x0dz\\x08w\\x7f caf\303\251 \\xc2\\x9b \\xff.\r\n'
}

@test "get in a pipe or a file gives a value's control bytes as stored" {
	printf '\033[31mred\033[0m\ry\377' >"$BATS_TEST_TMPDIR/in"
	run -0 fsmc -x set v2 <"$BATS_TEST_TMPDIR/in"
	[ "$output" = "+OK" ]
	run -0 to_files fsmc get v2
	cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/stdout"
	stderr_is ""
	run -0 bash -c 'set -o pipefail; "$@" | od -An -tx1' _ "$FSMC_BIN" -c "$FSMC_CFG" get v2
	[ "$output" = " 1b 5b 33 31 6d 72 65 64 1b 5b 30 6d 0d 79 ff" ]
}

@test "a batch on a terminal shows control bytes as \xNN too" {
	printf '\033]0;title\007' >"$BATS_TEST_TMPDIR/in"
	run -0 fsmc -x set v3 <"$BATS_TEST_TMPDIR/in"
	printf 'get v3\n' >"$BATS_TEST_TMPDIR/batch"
	run -0 on_tty -f "$BATS_TEST_TMPDIR/batch"
	run -0 head -n 1 "$BATS_TEST_TMPDIR/tty"
	[ "$output" = $'\\x1b]0;title\\x07\r' ]
}

# -qq: nothing at all but failures.

@test "-qq: set, add, replace, append, delete and flush print nothing at all" {
	local c
	for c in "set qq1 v" "add qq2 v" "replace qq1 w" "append qq1 x" \
	    "delete qq2" "flush"; do
		# shellcheck disable=SC2086 # the words of the command
		run -0 to_files fsmc -qq $c
		stdout_is ""
		stderr_is ""
	done
}

@test "-qq: get, getflags and increment print nothing; the exit status tells" {
	run -0 fsmc set qq3 5 0 1f
	[ "$output" = "+OK" ]
	run -0 to_files fsmc -qq get qq3
	stdout_is ""
	stderr_is ""
	run -0 to_files fsmc -qq getflags qq3
	stdout_is ""
	stderr_is ""
	run -0 to_files fsmc -qq increment qq3
	stdout_is ""
	stderr_is ""
	run -0 mc_raw "get qq3"
	[ "$output" = $'VALUE qq3 31 1\n6\nEND' ]
}

@test "-qq: a miss and NOT STORED print nothing, exit 1 and 2" {
	run -1 to_files fsmc -qq get qq4
	stdout_is ""
	stderr_is ""
	run -1 to_files fsmc -qq delete qq4
	stdout_is ""
	stderr_is ""
	run -0 fsmc set qq5 v
	[ "$output" = "+OK" ]
	run -2 to_files fsmc -qq add qq5 w
	stdout_is ""
	stderr_is ""
	run -2 to_files fsmc -qq replace qq4 w
	stdout_is ""
	stderr_is ""
}

@test "-qq: a failure prints its one line on standard error and nothing else" {
	local port
	run -64 to_files fsmc -qq frobnicate
	stdout_is ""
	stderr_is $'fsmemcache: unknown command \'frobnicate\'\n'
	run -65 to_files fsmc -qq get 'qq 6'
	stdout_is ""
	stderr_is $'fsmemcache: get: bad key \'qq 6\': contains a space\n'
	port=$(dead_port)
	run -69 to_files fsmc -qq -s "127.0.0.1:$port" get qq6
	stdout_is ""
	stderr_is "fsmemcache: get qq6: connection refused (127.0.0.1:$port)"$'\n'
}

@test "-qq: health prints nothing, its exit status is the verdict" {
	run -0 to_files fsmc -qq health
	stdout_is ""
	stderr_is ""
	run -0 fsmc set qq7 v
	run -2 to_files fsmc -qq --crit memory=0 health
	stdout_is ""
	stderr_is ""
}

# Warnings: an expiration that memcached reads as a time already past.

@test "set with an expiration over 30 days already past: +OK, exit 0, a warning naming the date, even with -q and -qq" {
	local warning='fsmemcache: warning: set month: expiration 2592001 is over 30 days, so memcached reads it as a Unix time: 1970-01-31 00:00:01 UTC, already past'
	run -0 to_files fsmc set month v 2592001
	stdout_is $'+OK\n'
	stderr_is "$warning"$'\n'
	run -0 mc_raw "get month"
	[ "$output" = END ]
	run -0 to_files fsmc -q set month v 2592001
	stdout_is ""
	stderr_is "$warning"$'\n'
	run -0 to_files fsmc -qq set month v 2592001
	stdout_is ""
	stderr_is "$warning"$'\n'
	run -0 to_files fsmc -e 'set month v 2592001'
	stdout_is $'+OK\n'
	stderr_is "$warning"$'\n'
}

@test "replace, add, increment, decrement, touch and flush's delay warn as set does" {
	local pre='is over 30 days, so memcached reads it as a Unix time:'
	run -0 fsmc set w1 v
	run -0 fsmc set w5 v
	run -0 to_files fsmc replace w1 v 3000000
	stderr_is "fsmemcache: warning: replace w1: expiration 3000000 $pre 1970-02-04 17:20:00 UTC, already past"$'\n'
	run -0 to_files fsmc add w2 v 2592001
	stderr_is "fsmemcache: warning: add w2: expiration 2592001 $pre 1970-01-31 00:00:01 UTC, already past"$'\n'
	run -0 to_files fsmc increment w3 1 2592001
	stderr_is "fsmemcache: warning: increment w3: expiration 2592001 $pre 1970-01-31 00:00:01 UTC, already past"$'\n'
	run -0 to_files fsmc decrement w4 1 2592001 ff
	stderr_is "fsmemcache: warning: decrement w4: expiration 2592001 $pre 1970-01-31 00:00:01 UTC, already past"$'\n'
	run -0 to_files fsmc touch w5 2592001
	stdout_is $'+OK\n'
	stderr_is "fsmemcache: warning: touch w5: expiration 2592001 $pre 1970-01-31 00:00:01 UTC, already past"$'\n'
	run -0 mc_raw "get w1 w5"
	[ "$output" = END ]
	run -0 to_files fsmc flush 2592001
	stdout_is $'+OK\n'
	stderr_is "fsmemcache: warning: flush: delay 2592001 $pre 1970-01-31 00:00:01 UTC, already past"$'\n'
}

@test "no warning for a Unix time in the future, 30 days exactly or a negative expiration" {
	local future
	future=$(($(date +%s) + 3600))
	run -0 to_files fsmc set f1 v "$future"
	stdout_is $'+OK\n'
	stderr_is ""
	run -0 mc_raw "get f1"
	[ "$output" = $'VALUE f1 0 1\nv\nEND' ]
	run -0 to_files fsmc set f2 v 2592000
	stderr_is ""
	run -0 to_files fsmc set f3 v -1
	stderr_is ""
	run -0 to_files fsmc touch f1 "$future"
	stderr_is ""
}

@test "a bad command with a past expiration gets its error, not the warning" {
	run -65 to_files fsmc set b1 v 2592001 zz
	stderr_is $'fsmemcache: set: bad flags \'zz\': not a hexadecimal number from 0 to ffffffff\n'
	run -65 to_files fsmc delete b1 2592001
	stdout_is $'-ERR INVALID ARGUMENTS\n'
	run -1 grep -c warning "$BATS_TEST_TMPDIR/stderr"
}

@test "a batch line with an expiration already past warns with its line number, --pipe too" {
	local in=$BATS_TEST_TMPDIR/in
	printf 'set bw1 v\nset bw2 v 2592001\n' >"$in"
	run -0 to_files fsmc -f "$in"
	stdout_is $'+OK\n+OK\n'
	run -0 head -n 1 "$BATS_TEST_TMPDIR/stderr"
	[ "$output" = "fsmemcache: line 2: warning: set bw2: expiration 2592001 is over 30 days, so memcached reads it as a Unix time: 1970-01-31 00:00:01 UTC, already past" ]
	run -0 to_files fsmc --pipe -f "$in"
	stdout_is ""
	run -0 head -n 1 "$BATS_TEST_TMPDIR/stderr"
	[ "$output" = "fsmemcache: line 2: warning: set bw2: expiration 2592001 is over 30 days, so memcached reads it as a Unix time: 1970-01-31 00:00:01 UTC, already past" ]
}

@test "-r repeats a command with a past expiration, and warns once" {
	run -0 to_files fsmc -r 3 set rw1 v 2592001
	stdout_is $'+OK\n+OK\n+OK\n'
	stderr_is $'fsmemcache: warning: set rw1: expiration 2592001 is over 30 days, so memcached reads it as a Unix time: 1970-01-31 00:00:01 UTC, already past\n'
}

# Counts agree with their nouns.

@test "a count of one takes the singular: 1 of 1 server, 1 connection, 1 line, 1 error" {
	local n
	run -0 --separate-stderr fsmc -i 0.1 health
	[ "${lines[0]%% | *}" = "MEMCACHE OK: 1 of 1 server up" ]
	[[ ${lines[1]} =~ \ ([0-9]+)\ (connections?),\  ]]
	n=${BASH_REMATCH[1]}
	if [ "$n" = 1 ]; then
		[ "${BASH_REMATCH[2]}" = connection ]
	else
		[ "${BASH_REMATCH[2]}" = connections ]
	fi
	printf 'get c1 c2\n' >"$BATS_TEST_TMPDIR/in"
	run -64 to_files fsmc -f "$BATS_TEST_TMPDIR/in"
	run -0 tail -n 1 "$BATS_TEST_TMPDIR/stderr"
	[[ $output == "fsmemcache: 1 line: 0 ok, 0 not found, 0 not stored, 1 error; "* ]]
	printf 'get c1\nset c2\n' >"$BATS_TEST_TMPDIR/in"
	run -64 to_files fsmc --pipe -f "$BATS_TEST_TMPDIR/in"
	run -0 tail -n 1 "$BATS_TEST_TMPDIR/stderr"
	[[ $output == "fsmemcache: 2 lines: 0 sent, 2 errors; "* ]]
}
