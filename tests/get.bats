#!/usr/bin/env bats
# The read commands get and getflags: exact value bytes, flags in hex, missing keys.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() { mc_start; }
teardown_file() { mc_stop; }

@test "get prints the value stored by the server, with no newline" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 5\r\nhello' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out get "$k"
	out_is 'hello'
	[ "$stderr" = "" ]
}

@test "get of an empty value prints nothing, exit 0" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "set $k 0 0 0"$'\r\n'
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out get "$k"
	out_is ''
	[ "$stderr" = "" ]
}

@test "get of a missing key prints -ERR NOT FOUND, exit 1, nothing on stderr" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
	run -1 --separate-stderr fsmc_out get "$k"
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "" ]
}

@test "a value with spaces round-trips exactly" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" '  two  spaces  '
	[ "$output" = "+OK" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 15\n  two  spaces  \nEND' "$k")" ]
	run -0 --separate-stderr fsmc_out get "$k"
	out_is '  two  spaces  '
	[ "$stderr" = "" ]
}

@test "a value with a leading dash round-trips exactly" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" -x
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 2\n-x\nEND' "$k")" ]
	run -0 --separate-stderr fsmc_out get "$k"
	out_is '-x'
}

@test "a value with newlines, CR LF and a trailing newline round-trips exactly" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" $'one\ntwo\r\nEND\r\n\n'
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
	run -0 mc_raw "mg $k s"
	[ "$output" = "HD s15" ]
	run -0 --separate-stderr fsmc_out get "$k"
	out_is 'one\ntwo\r\nEND\r\n\n'
	[ "$stderr" = "" ]
}

@test "getflags prints the flags in lowercase hex, no 0x, no newline" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 3735928559 0 1\r\nv' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out getflags "$k"
	out_is 'deadbeef'
	[ "$stderr" = "" ]
}

@test "getflags prints 0 for an item without flags" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 1\r\nv' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out getflags "$k"
	out_is '0'
	[ "$stderr" = "" ]
}

@test "getflags of a missing key prints -ERR NOT FOUND, exit 1" {
	k=k$BATS_TEST_NUMBER
	run -1 --separate-stderr fsmc_out getflags "$k"
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "" ]
}

@test "get does not change what it reads" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 10 0 3\r\nabc' "$k")"
	[ "$output" = "STORED" ]
	run -0 fsmc get "$k"
	[ "$output" = "abc" ]
	run -0 fsmc getflags "$k"
	[ "$output" = "a" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 10 3\nabc\nEND' "$k")" ]
}

@test "command names ignore case: GET, GetFlags" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 255 0 2\r\nhi' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc GET "$k"
	[ "$output" = "hi" ]
	run -0 --separate-stderr fsmc GetFlags "$k"
	[ "$output" = "ff" ]
	[ "$stderr" = "" ]
}

@test "get with a second argument is a usage error, exit 64, nothing sent" {
	k=k$BATS_TEST_NUMBER
	gets=$(mc_stat cmd_get)
	run -64 --separate-stderr fsmc get "$k" extra
	[ "${lines[0]}" = "-ERR" ]
	[ "$stderr" = "fsmemcache: get: too many arguments" ]
	[ "$(mc_stat cmd_get)" = "$gets" ]
}
