#!/usr/bin/env bats
# The commands beyond mod_memcache's grammar: append, prepend, touch and where.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() { mc_start; }
teardown_file() { mc_stop; }

@test "append and prepend add bytes at either end of a value" {
	k=x$BATS_TEST_NUMBER
	run -0 fsmc set "$k" mid 0 1f
	run -0 fsmc_out append "$k" ' end'
	out_is '+OK\n'
	run -0 fsmc_out prepend "$k" 'start '
	out_is '+OK\n'
	run -0 mc_raw "get $k"
	[ "$output" = "VALUE $k 31 13
start mid end
END" ]
}

@test "append to a missing key stores nothing: not stored, exit 2" {
	k=x$BATS_TEST_NUMBER
	run -2 --separate-stderr fsmc_out append "$k" tail
	out_is '-ERR NOT STORED\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = END ]
}

@test "prepend reads its value from standard input with -x, byte for byte" {
	k=x$BATS_TEST_NUMBER
	run -0 fsmc set "$k" b
	printf 'a\0' | fsmc -x prepend "$k"
	to_file fsmc get "$k"
	out_is 'a\0b'
}

@test "touch gives an existing item a new expiration; a missing one is not found" {
	k=x$BATS_TEST_NUMBER
	run -0 fsmc set "$k" v 1000
	run -0 fsmc_out touch "$k" -1
	out_is '+OK\n'
	run -1 fsmc get "$k"
	[ "$output" = "-ERR NOT FOUND" ]
	run -1 fsmc_out touch "$k" 10
	out_is '-ERR NOT FOUND\n'
}

@test "touch needs an expiration: usage, exit 64" {
	run -64 --separate-stderr fsmc_out touch "x$BATS_TEST_NUMBER"
	stdout_is "$USAGE"
	[ "$stderr" = "fsmemcache: touch: too few arguments" ]
}

@test "where names the server a key is placed on, without contacting it" {
	local dead
	dead=$(dead_port)
	run -0 fsmc_out where somekey
	out_is "127.0.0.1:$MC_PORT\\n"
	run -0 "$FSMC_BIN" -s "127.0.0.1:$dead" where somekey
	[ "$output" = "127.0.0.1:$dead" ]
}

@test "where of a socket server prints its path" {
	run -0 "$FSMC_BIN" -s /run/nowhere.sock where somekey
	[ "$output" = /run/nowhere.sock ]
}

@test "where spreads keys over several servers as the other commands place them" {
	local first=$MC_PORT cfg=$BATS_TEST_TMPDIR/two.cfg n server
	mc_spawn
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d";\n' "$first" "$MC_PORT" >"$cfg"
	for n in 1 2 3 4 5 6 7 8 9 10; do
		run -0 "$FSMC_BIN" -c "$cfg" set "w$n" "v$n"
		run -0 "$FSMC_BIN" -c "$cfg" where "w$n"
		server=$output
		run -0 "$FSMC_BIN" -s "$server" get "w$n"
		[ "$output" = "v$n" ]
	done
}

@test "the extensions are listed apart in --help" {
	run -0 fsmc -h
	[[ "$output" == *$'Extensions, not in mod_memcache:\n  append|prepend key value\n  touch key expiration\n  where key\n'* ]]
}
