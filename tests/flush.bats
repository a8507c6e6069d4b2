#!/usr/bin/env bats
# The flush command: immediate and delayed flushes, and bad delays.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() { mc_start; }
teardown_file() { mc_stop; }

# memcached only flushes items stored in an earlier second than the
# flush, so the tests that flush now wait 2 seconds after storing.

@test "flush prints +OK with a newline and drops a key stored earlier" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 1\r\nv' "$k")"
	[ "$output" = "STORED" ]
	flushes=$(mc_stat cmd_flush)
	sleep 2
	run -0 --separate-stderr fsmc_out flush
	out_is '+OK\n'
	[ "$stderr" = "" ]
	[ "$(mc_stat cmd_flush)" = "$((flushes + 1))" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
	run -1 --separate-stderr fsmc get "$k"
	[ "$output" = "-ERR NOT FOUND" ]
}

@test "FLUSH 0 flushes at once; command names ignore case" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" v
	[ "$output" = "+OK" ]
	flushes=$(mc_stat cmd_flush)
	sleep 2
	run -0 --separate-stderr fsmc_out FLUSH 0
	out_is '+OK\n'
	[ "$stderr" = "" ]
	[ "$(mc_stat cmd_flush)" = "$((flushes + 1))" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "a negative delay is invalid data, exit 65, nothing sent" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 1\r\nv' "$k")"
	[ "$output" = "STORED" ]
	flushes=$(mc_stat cmd_flush)
	run -65 --separate-stderr fsmc_out flush -1
	out_is '-ERR INVALID ARGUMENTS\n'
	[ "$stderr" = "fsmemcache: flush: bad delay '-1': not a decimal number of seconds from 0 to 2147483647" ]
	[ "$(mc_stat cmd_flush)" = "$flushes" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 1\nv\nEND' "$k")" ]
}

@test "a delay that is not a number is invalid data, exit 65, nothing sent" {
	flushes=$(mc_stat cmd_flush)
	run -65 --separate-stderr fsmc_out flush abc
	out_is '-ERR INVALID ARGUMENTS\n'
	[ "$stderr" = "fsmemcache: flush: bad delay 'abc': not a decimal number of seconds from 0 to 2147483647" ]
	[ "$(mc_stat cmd_flush)" = "$flushes" ]
}

@test "flush with two arguments is a usage error, exit 64, nothing sent" {
	flushes=$(mc_stat cmd_flush)
	run -64 --separate-stderr fsmc flush 0 0
	[ "${lines[0]}" = "-ERR" ]
	[ "$stderr" = "fsmemcache: flush: too many arguments" ]
	[ "$(mc_stat cmd_flush)" = "$flushes" ]
}

# Last: the server drops everything 60 seconds after this.
@test "flush 60 prints +OK and leaves the keys for now" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 1\r\nv' "$k")"
	[ "$output" = "STORED" ]
	flushes=$(mc_stat cmd_flush)
	run -0 --separate-stderr fsmc_out flush 60
	out_is '+OK\n'
	[ "$stderr" = "" ]
	[ "$(mc_stat cmd_flush)" = "$((flushes + 1))" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 1\nv\nEND' "$k")" ]
}
