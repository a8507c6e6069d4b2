#!/usr/bin/env bats
# The storage commands set, replace and add: replies, exit status, flags and expiration.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() { mc_start; }
teardown_file() { mc_stop; }

@test "set stores the value and prints +OK with a newline" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc_out set "$k" hello
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 5\nhello\nEND' "$k")" ]
}

@test "set overwrites an existing value" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 3\r\nold' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc set "$k" newer
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 5\nnewer\nEND' "$k")" ]
}

@test "add on a missing key stores it" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc_out add "$k" first
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 5\nfirst\nEND' "$k")" ]
}

@test "add on an existing key is not stored, exit 2, value kept" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 3\r\nold' "$k")"
	[ "$output" = "STORED" ]
	run -2 --separate-stderr fsmc_out add "$k" new
	out_is '-ERR NOT STORED\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 3\nold\nEND' "$k")" ]
}

@test "replace on an existing key replaces the value" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 3\r\nold' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out replace "$k" new
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 3\nnew\nEND' "$k")" ]
}

@test "replace on a missing key is not stored, exit 2, key still missing" {
	k=k$BATS_TEST_NUMBER
	run -2 --separate-stderr fsmc_out replace "$k" new
	out_is '-ERR NOT STORED\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "flags are hexadecimal: ff is 255" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" v 0 ff
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 255 1\nv\nEND' "$k")" ]
	run -0 --separate-stderr fsmc_out getflags "$k"
	out_is 'ff'
	[ "$stderr" = "" ]
}

@test "flags take an optional 0x and any case: 0xDEADBEEF" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" v 0 0xDEADBEEF
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 3735928559 1\nv\nEND' "$k")" ]
	run -0 --separate-stderr fsmc_out getflags "$k"
	out_is 'deadbeef'
}

@test "flags ffffffff, the largest, are accepted" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" v 0 ffffffff
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 4294967295 1\nv\nEND' "$k")" ]
	run -0 --separate-stderr fsmc_out getflags "$k"
	out_is 'ffffffff'
}

@test "flags over 32 bits are invalid data, exit 65, nothing sent" {
	k=k$BATS_TEST_NUMBER
	sets=$(mc_stat cmd_set)
	run -65 --separate-stderr fsmc_out set "$k" v 0 100000000
	out_is '-ERR INVALID ARGUMENTS\n'
	[ "$stderr" = "fsmemcache: set: bad flags '100000000': not a hexadecimal number from 0 to ffffffff" ]
	[ "$(mc_stat cmd_set)" = "$sets" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "flags that are not hexadecimal are invalid data, exit 65" {
	k=k$BATS_TEST_NUMBER
	sets=$(mc_stat cmd_set)
	run -65 --separate-stderr fsmc add "$k" v 0 fg
	[ "$output" = "-ERR INVALID ARGUMENTS" ]
	[ "$stderr" = "fsmemcache: add: bad flags 'fg': not a hexadecimal number from 0 to ffffffff" ]
	run -65 --separate-stderr fsmc replace "$k" v 0 -1
	[ "$output" = "-ERR INVALID ARGUMENTS" ]
	[ "$stderr" = "fsmemcache: replace: bad flags '-1': not a hexadecimal number from 0 to ffffffff" ]
	[ "$(mc_stat cmd_set)" = "$sets" ]
}

@test "an expiration that is not decimal is invalid data, exit 65" {
	k=k$BATS_TEST_NUMBER
	sets=$(mc_stat cmd_set)
	run -65 --separate-stderr fsmc set "$k" v 0x10
	[ "$output" = "-ERR INVALID ARGUMENTS" ]
	[ "$stderr" = "fsmemcache: set: bad expiration '0x10': not a decimal number of seconds from -2147483648 to 2147483647" ]
	[ "$(mc_stat cmd_set)" = "$sets" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "a negative expiration stores an already expired item" {
	k=k$BATS_TEST_NUMBER
	sets=$(mc_stat cmd_set)
	run -0 --separate-stderr fsmc_out set "$k" v -1
	out_is '+OK\n'
	[ "$stderr" = "" ]
	[ "$(mc_stat cmd_set)" = "$((sets + 1))" ]
	run -1 --separate-stderr fsmc_out get "$k"
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "an expiration of 1 second: gone 2 seconds later, other keys kept" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" v 1
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
	run -0 --separate-stderr fsmc set "$k-kept" v
	[ "$output" = "+OK" ]
	sleep 2
	run -1 --separate-stderr fsmc get "$k"
	[ "$output" = "-ERR NOT FOUND" ]
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k-kept"
	[ "$output" = "$(printf 'VALUE %s-kept 0 1\nv\nEND' "$k")" ]
}

@test "expiration and flags together" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" v 3600 1f
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
	# The time to live left: 3600, or 3599 if the server's clock ticked.
	run -0 mc_raw "mg $k t"
	[[ "$output" =~ ^HD\ t(3600|3599)$ ]]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 31 1\nv\nEND' "$k")" ]
}

@test "command names ignore case: SET, Add, rEpLaCe" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc SET "$k" one
	[ "$output" = "+OK" ]
	run -2 --separate-stderr fsmc Add "$k" two
	[ "$output" = "-ERR NOT STORED" ]
	run -0 --separate-stderr fsmc rEpLaCe "$k" three
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 5\nthree\nEND' "$k")" ]
}

@test "set without a value is a usage error, exit 64, nothing sent" {
	k=k$BATS_TEST_NUMBER
	sets=$(mc_stat cmd_set)
	run -64 --separate-stderr fsmc set "$k"
	[ "${lines[0]}" = "-ERR" ]
	[ "$stderr" = "fsmemcache: set: too few arguments" ]
	[ "$(mc_stat cmd_set)" = "$sets" ]
}

@test "set with a fifth argument is a usage error, exit 64, nothing sent" {
	k=k$BATS_TEST_NUMBER
	sets=$(mc_stat cmd_set)
	run -64 --separate-stderr fsmc set "$k" v 0 0 extra
	[ "${lines[0]}" = "-ERR" ]
	[ "$stderr" = "fsmemcache: set: too many arguments" ]
	[ "$(mc_stat cmd_set)" = "$sets" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}
