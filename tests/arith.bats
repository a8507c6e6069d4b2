#!/usr/bin/env bats
# The counter commands increment and decrement: creation, counting, limits and bad offsets.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() { mc_start; }
teardown_file() { mc_stop; }

# The server's counts of everything a counter command may send.
counter_stats() {
	mc_raw stats | grep -E '^STAT (cmd_set|cmd_get|incr_hits|incr_misses|decr_hits|decr_misses) '
}

@test "increment of a missing key creates it at 1 and prints 1 with no newline" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc_out increment "$k"
	out_is '1'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 1\n1\nEND' "$k")" ]
}

@test "increment of a missing key by 7 stores exactly 7" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc_out increment "$k" 7
	out_is '7'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 1\n7\nEND' "$k")" ]
}

@test "decrement of a missing key creates it at 0, stored as the 1 byte 0" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc_out decrement "$k"
	out_is '0'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 1\n0\nEND' "$k")" ]
}

@test "decrement of a missing key by 5 still creates it at 0" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc_out decrement "$k" 5
	out_is '0'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 1\n0\nEND' "$k")" ]
}

@test "flags apply when the counter is created, and later counts keep them" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc_out increment "$k" 5 0 ff
	out_is '5'
	[ "$stderr" = "" ]
	run -0 --separate-stderr fsmc_out getflags "$k"
	out_is 'ff'
	run -0 --separate-stderr fsmc_out increment "$k" 1 0 aa
	out_is '6'
	[ "$stderr" = "" ]
	run -0 --separate-stderr fsmc_out getflags "$k"
	out_is 'ff'
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 255 1\n6\nEND' "$k")" ]
}

@test "expiration applies when the counter is created" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc_out increment "$k" 3 -1
	out_is '3'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "expiration does not apply to an existing counter" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 2\r\n10' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out increment "$k" 1 -1
	out_is '11'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 2\n11\nEND' "$k")" ]
}

@test "increment and decrement of an existing counter print the new value" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 2\r\n10' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out increment "$k" 5
	out_is '15'
	[ "$stderr" = "" ]
	run -0 --separate-stderr fsmc_out decrement "$k" 3
	out_is '12'
	[ "$stderr" = "" ]
	run -0 --separate-stderr fsmc_out decrement "$k"
	out_is '11'
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 2\n11\nEND' "$k")" ]
}

@test "decrement stops at 0" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 1\r\n3' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out decrement "$k" 5
	out_is '0'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 1\n0\nEND' "$k")" ]
}

@test "increment wraps from 18446744073709551615 to 0" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 20\r\n18446744073709551615' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out increment "$k"
	out_is '0'
	[ "$stderr" = "" ]
	run -0 --separate-stderr fsmc_out increment "$k"
	out_is '1'
}

@test "counters are unsigned: 9223372036854775807 + 1 is 9223372036854775808" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 19\r\n9223372036854775807' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out increment "$k"
	out_is '9223372036854775808'
	[ "$stderr" = "" ]
}

@test "offset 4294967295 is accepted and counts are 64-bit" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc_out increment "$k" 4294967295
	out_is '4294967295'
	[ "$stderr" = "" ]
	run -0 --separate-stderr fsmc_out increment "$k" 4294967295
	out_is '8589934590'
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 10\n8589934590\nEND' "$k")" ]
}

@test "a bad increment offset is invalid data, exit 65, nothing sent" {
	k=k$BATS_TEST_NUMBER
	before=$(counter_stats)
	conns=$(mc_stat total_connections)
	for offset in 4294967296 -1 abc 0x10 ''; do
		run -65 --separate-stderr fsmc_out increment "$k" "$offset"
		out_is '-ERR INVALID ARGUMENTS\n'
		[ "$stderr" = "fsmemcache: increment: bad offset '$offset': not a decimal number from 0 to 4294967295" ]
	done
	[ "$(mc_stat total_connections)" = "$((conns + 1))" ]
	[ "$(counter_stats)" = "$before" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "a bad decrement offset is invalid data, exit 65, nothing sent" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 2\r\n10' "$k")"
	[ "$output" = "STORED" ]
	before=$(counter_stats)
	conns=$(mc_stat total_connections)
	for offset in 4294967296 -1 abc 0x10 ''; do
		run -65 --separate-stderr fsmc_out decrement "$k" "$offset"
		out_is '-ERR INVALID ARGUMENTS\n'
		[ "$stderr" = "fsmemcache: decrement: bad offset '$offset': not a decimal number from 0 to 4294967295" ]
	done
	[ "$(mc_stat total_connections)" = "$((conns + 1))" ]
	[ "$(counter_stats)" = "$before" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 2\n10\nEND' "$k")" ]
}

@test "bad expiration or flags of a counter are invalid data, exit 65, nothing sent" {
	k=k$BATS_TEST_NUMBER
	before=$(counter_stats)
	run -65 --separate-stderr fsmc increment "$k" 1 later
	[ "$output" = "-ERR INVALID ARGUMENTS" ]
	[ "$stderr" = "fsmemcache: increment: bad expiration 'later': not a decimal number of seconds from -2147483648 to 2147483647" ]
	run -65 --separate-stderr fsmc decrement "$k" 1 0 xyz
	[ "$output" = "-ERR INVALID ARGUMENTS" ]
	[ "$stderr" = "fsmemcache: decrement: bad flags 'xyz': not a hexadecimal number from 0 to ffffffff" ]
	[ "$(counter_stats)" = "$before" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "increment of a value that is not a number is a client error, exit 65" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 3\r\nabc' "$k")"
	[ "$output" = "STORED" ]
	run -65 --separate-stderr fsmc_out increment "$k"
	out_is '-ERR CLIENT ERROR\n'
	[ "$stderr" = "fsmemcache: increment $k: value is not a number (127.0.0.1:$MC_PORT)" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 3\nabc\nEND' "$k")" ]
}

@test "decrement of a value that is not a number is a client error, exit 65" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 2\r\n1x' "$k")"
	[ "$output" = "STORED" ]
	run -65 --separate-stderr fsmc_out decrement "$k" 1
	out_is '-ERR CLIENT ERROR\n'
	[ "$stderr" = "fsmemcache: decrement $k: value is not a number (127.0.0.1:$MC_PORT)" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 2\n1x\nEND' "$k")" ]
}

@test "command names ignore case: INCREMENT, Decrement" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc INCREMENT "$k" 4
	[ "$output" = "4" ]
	run -0 --separate-stderr fsmc Decrement "$k"
	[ "$output" = "3" ]
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 1\n3\nEND' "$k")" ]
}
