#!/usr/bin/env bats
# Values read byte for byte from standard input with -x, up to and beyond the server's item size and 1 GiB.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() { mc_start; }
teardown_file() { mc_stop; }

# fsmc with $1 zero bytes piped to its standard input.
fsmc_zeros() {
	local n=$1
	shift
	head -c "$n" /dev/zero | fsmc "$@"
}

@test "-x set stores NUL, CR LF and END from standard input byte for byte" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf 'a\0b\r\nEND\r\n' >"$in"
	run -0 --separate-stderr fsmc_out -x set "$k" <"$in"
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "mg $k s f"
	[ "$output" = "HD s10 f0" ]
	run -0 --separate-stderr fsmc_out get "$k"
	cmp "$in" "$BATS_TEST_TMPDIR/stdout"
	[ "$stderr" = "" ]
}

@test "-x set with expiration and flags" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf 'from stdin' >"$in"
	run -0 --separate-stderr fsmc_out -x set "$k" 0 1f <"$in"
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 31 10\nfrom stdin\nEND' "$k")" ]
	run -0 --separate-stderr fsmc_out getflags "$k"
	out_is '1f'
}

@test "-x set with an expiration in the past stores nothing that can be read" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc -x set "$k" -1 <<<"gone"
	[ "$output" = "+OK" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "-x set with empty standard input stores an empty value" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 3\r\nold' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr fsmc_out -x set "$k" </dev/null
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 0\n\nEND' "$k")" ]
	run -0 --separate-stderr fsmc_out get "$k"
	out_is ''
}

@test "-x add and -x replace read the value too" {
	k=k$BATS_TEST_NUMBER
	run -2 --separate-stderr fsmc_out -x replace "$k" <<<"one"
	out_is '-ERR NOT STORED\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr fsmc -x add "$k" <<<"two"
	[ "$output" = "+OK" ]
	run -0 --separate-stderr fsmc -x replace "$k" <<<"three"
	[ "$output" = "+OK" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 6\nthree\n\nEND' "$k")" ]
}

@test "-x set round-trips a 1 MiB value on a server with 2 MiB items" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	mc_spawn -I 2m
	FSMC_CFG=$BATS_TEST_TMPDIR/big.cfg
	printf 'servers = ( { host = "127.0.0.1"; port = %d; } );\n' \
	    "$MC_PORT" >"$FSMC_CFG"
	head -c 1048576 /dev/urandom >"$in"
	run -0 --separate-stderr fsmc_out -x set "$k" <"$in"
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 mc_raw "mg $k s"
	[ "$output" = "HD s1048576" ]
	run -0 --separate-stderr fsmc_out get "$k"
	cmp "$in" "$BATS_TEST_TMPDIR/stdout"
	[ "$stderr" = "" ]
}

@test "-x set of a value over the item size: item too big, exit 65, nothing stored" {
	k=k$BATS_TEST_NUMBER
	head -c 2097152 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	run -65 --separate-stderr fsmc_out -x set "$k" <"$BATS_TEST_TMPDIR/in"
	out_is '-ERR ITEM TOO BIG\n'
	[ "$stderr" = "fsmemcache: set $k: value too large for the server (127.0.0.1:$MC_PORT)" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "-x set of 1 byte over 1 MiB on the default server: item too big, exit 65" {
	k=k$BATS_TEST_NUMBER
	head -c 1048577 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	run -65 --separate-stderr fsmc_out -x set "$k" <"$BATS_TEST_TMPDIR/in"
	out_is '-ERR ITEM TOO BIG\n'
	[ "$stderr" = "fsmemcache: set $k: value too large for the server (127.0.0.1:$MC_PORT)" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "-x get is a usage error, exit 64: get takes no value" {
	k=k$BATS_TEST_NUMBER
	gets=$(mc_stat cmd_get)
	run -64 --separate-stderr fsmc_out -x get "$k" <<<"value"
	stdout_is "$USAGE"
	[ "$stderr" = "fsmemcache: get: takes no value, so none can be read from standard input" ]
	[ "$(mc_stat cmd_get)" = "$gets" ]
}

@test "-x set with a value word as well reads the word as the expiration: invalid, exit 65" {
	k=k$BATS_TEST_NUMBER
	sets=$(mc_stat cmd_set)
	run -65 --separate-stderr fsmc_out -x set "$k" v <<<"value"
	out_is "-ERR INVALID ARGUMENTS\n"
	[ "$stderr" = "fsmemcache: set: bad expiration 'v': not a decimal number of seconds from -2147483648 to 2147483647" ]
	[ "$(mc_stat cmd_set)" = "$sets" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "-x set with key, expiration, flags and one more word is too many arguments, exit 64" {
	k=k$BATS_TEST_NUMBER
	sets=$(mc_stat cmd_set)
	run -64 --separate-stderr fsmc_out -x set "$k" 0 0 extra <<<"value"
	stdout_is "$USAGE"
	[ "$stderr" = "fsmemcache: set: too many arguments" ]
	[ "$(mc_stat cmd_set)" = "$sets" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "-x append and -x prepend read the value from standard input" {
	k=k$BATS_TEST_NUMBER
	run -0 fsmc set "$k" middle
	[ "$output" = "+OK" ]
	printf ' end\0' >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr fsmc_out -x append "$k" <"$BATS_TEST_TMPDIR/in"
	out_is '+OK\n'
	run -0 --separate-stderr fsmc -x prepend "$k" <<<"start"
	[ "$output" = "+OK" ]
	run -0 --separate-stderr fsmc_out get "$k"
	out_is 'start\nmiddle end\0'
}

@test "-x with exactly 1 GiB from a pipe: too large, exit 65, nothing sent" {
	k=k$BATS_TEST_NUMBER
	sets=$(mc_stat cmd_set)
	run -65 --separate-stderr fsmc_zeros 1073741824 -x set "$k"
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: standard input: value of 1 GiB or more, larger than any memcached item" ]
	[ "$(mc_stat cmd_set)" = "$sets" ]
}

@test "-x with a file of 1 GiB or more: too large, exit 65, refused before it is read" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	sets=$(mc_stat cmd_set)
	for size in 1073741824 1073741825 2147483648; do
		rm -f "$in"
		truncate -s "$size" "$in"
		run -65 --separate-stderr fsmc_out -x set "$k" <"$in"
		stdout_is ""
		[ "$stderr" = "fsmemcache: standard input: value of 1 GiB or more, larger than any memcached item" ]
	done
	[ "$(mc_stat cmd_set)" = "$sets" ]
}

@test "-x with standard input that cannot be read: exit 74, nothing sent" {
	k=k$BATS_TEST_NUMBER
	sets=$(mc_stat cmd_set)
	run -74 --separate-stderr fsmc_out -x set "$k" <"$BATS_TEST_TMPDIR"
	stdout_is ""
	[ "$stderr" = "fsmemcache: standard input: Is a directory" ]
	[ "$(mc_stat cmd_set)" = "$sets" ]
}
