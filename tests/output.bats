#!/usr/bin/env bats
# Where output goes: -q, the newline added on a terminal, and what each exit status prints on standard error.

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

@test "exit 70: one line on standard error when standard output fails" {
	run -0 fsmc set e8 v
	[ "$output" = "+OK" ]
	run -70 to_full fsmc get e8
	[ "$output" = "" ]
	stderr_is $'fsmemcache: standard output: No space left on device\n'
}

@test "exit 78: one line on standard error" {
	run -78 to_files env -u FSMEMCACHE_CONFIG "$FSMC_BIN" -c "$BATS_TEST_TMPDIR/missing.cfg" get e9
	stdout_is ""
	stderr_is "fsmemcache: $BATS_TEST_TMPDIR/missing.cfg: No such file or directory"$'\n'
}
