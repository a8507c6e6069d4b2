#!/usr/bin/env bats
# The delete command: deleting, missing keys, and the refusal of delayed deletes.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() { mc_start; }
teardown_file() { mc_stop; }

@test "delete removes the key and prints +OK with a newline" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 1\r\nv' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out delete "$k"
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "delete of a missing key prints -ERR NOT FOUND, exit 1, nothing on stderr" {
	k=k$BATS_TEST_NUMBER
	misses=$(mc_stat delete_misses)
	run -1 --separate-stderr fsmc_out delete "$k"
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "" ]
	[ "$(mc_stat delete_misses)" = "$((misses + 1))" ]
}

@test "a second delete of the same key is not found" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" v
	[ "$output" = "+OK" ]
	run -0 --separate-stderr fsmc delete "$k"
	[ "$output" = "+OK" ]
	run -1 --separate-stderr fsmc delete "$k"
	[ "$output" = "-ERR NOT FOUND" ]
	[ "$stderr" = "" ]
}

@test "delete with expiration 0 deletes" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 1\r\nv' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out delete "$k" 0
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "delete with an expiration other than 0 is refused, exit 65, key kept" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 1\r\nv' "$k")"
	[ "$output" = "STORED" ]
	hits=$(mc_stat delete_hits)
	conns=$(mc_stat total_connections)
	run -65 --separate-stderr fsmc_out delete "$k" 5
	out_is '-ERR INVALID ARGUMENTS\n'
	[ "$stderr" = "fsmemcache: delete: memcached cannot delay a delete: the expiration must be 0" ]
	[ "$(mc_stat total_connections)" = "$((conns + 1))" ]
	[ "$(mc_stat delete_hits)" = "$hits" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 1\nv\nEND' "$k")" ]
}

@test "delete with an expiration that is not a number is invalid data, exit 65" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 1\r\nv' "$k")"
	[ "$output" = "STORED" ]
	run -65 --separate-stderr fsmc delete "$k" soon
	[ "$output" = "-ERR INVALID ARGUMENTS" ]
	[ "$stderr" = "fsmemcache: delete: bad expiration 'soon': not a decimal number of seconds from -2147483648 to 2147483647" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 1\nv\nEND' "$k")" ]
}

@test "command names ignore case: DELETE, Delete" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 1\r\nv' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc DELETE "$k"
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
	run -1 --separate-stderr fsmc Delete "$k"
	[ "$output" = "-ERR NOT FOUND" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "delete removes only its own key" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s-a 0 0 1\r\na' "$k")"
	[ "$output" = "STORED" ]
	run -0 mc_raw "$(printf 'set %s-b 0 0 1\r\nb' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc delete "$k-a"
	[ "$output" = "+OK" ]
	run -0 mc_raw "get $k-a"
	[ "$output" = "END" ]
	run -0 mc_raw "get $k-b"
	[ "$output" = "$(printf 'VALUE %s-b 0 1\nb\nEND' "$k")" ]
}
