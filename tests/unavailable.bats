#!/usr/bin/env bats
# Every command against a server that does not answer or cannot be resolved: exit 69 and its messages.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

# A live server for the file, and a port where nothing listens.
setup_file() {
	mc_start
	DEAD_PORT=$(dead_port)
	DEAD_CFG=$BATS_FILE_TMPDIR/dead.cfg
	printf 'servers = ( { host = "127.0.0.1"; port = %d; } );\n' \
	    "$DEAD_PORT" >"$DEAD_CFG"
	export DEAD_PORT DEAD_CFG
}
teardown_file() { mc_stop; }

# fsmc with the configuration naming the dead server.
fsmc_dead() {
	FSMC_CFG=$DEAD_CFG fsmc "$@"
}

# fsmc_dead with its standard output kept by to_file.
fsmc_dead_out() {
	to_file fsmc_dead "$@"
}

@test "set on a dead server: connection failure, exit 69, connection refused" {
	k=k$BATS_TEST_NUMBER
	run -69 --separate-stderr fsmc_dead_out set "$k" v
	out_is '-ERR CONNECTION FAILURE\n'
	[ "$stderr" = "fsmemcache: set $k: connection refused (127.0.0.1:$DEAD_PORT)" ]
}

@test "add and replace on a dead server: exit 69" {
	k=k$BATS_TEST_NUMBER
	run -69 --separate-stderr fsmc_dead_out add "$k" v
	out_is '-ERR CONNECTION FAILURE\n'
	[ "$stderr" = "fsmemcache: add $k: connection refused (127.0.0.1:$DEAD_PORT)" ]
	run -69 --separate-stderr fsmc_dead_out replace "$k" v
	out_is '-ERR CONNECTION FAILURE\n'
	[ "$stderr" = "fsmemcache: replace $k: connection refused (127.0.0.1:$DEAD_PORT)" ]
}

@test "get on a dead server: exit 69" {
	k=k$BATS_TEST_NUMBER
	run -69 --separate-stderr fsmc_dead_out get "$k"
	out_is '-ERR CONNECTION FAILURE\n'
	[[ "$stderr" == "fsmemcache: get $k: "*" (127.0.0.1:$DEAD_PORT)" ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "getflags on a dead server: exit 69" {
	k=k$BATS_TEST_NUMBER
	run -69 --separate-stderr fsmc_dead_out getflags "$k"
	out_is '-ERR CONNECTION FAILURE\n'
	[[ "$stderr" == "fsmemcache: getflags $k: "*" (127.0.0.1:$DEAD_PORT)" ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "delete on a dead server: exit 69" {
	k=k$BATS_TEST_NUMBER
	run -69 --separate-stderr fsmc_dead_out delete "$k"
	out_is '-ERR CONNECTION FAILURE\n'
	[[ "$stderr" == "fsmemcache: delete $k: "*" (127.0.0.1:$DEAD_PORT)" ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "increment on a dead server: exit 69" {
	k=k$BATS_TEST_NUMBER
	run -69 --separate-stderr fsmc_dead_out increment "$k"
	out_is '-ERR CONNECTION FAILURE\n'
	[[ "$stderr" == "fsmemcache: increment $k: "*" (127.0.0.1:$DEAD_PORT)" ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "decrement on a dead server: exit 69" {
	k=k$BATS_TEST_NUMBER
	run -69 --separate-stderr fsmc_dead_out decrement "$k" 2
	out_is '-ERR CONNECTION FAILURE\n'
	[[ "$stderr" == "fsmemcache: decrement $k: "*" (127.0.0.1:$DEAD_PORT)" ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "flush on a dead server: some errors were reported, exit 69" {
	run -69 --separate-stderr fsmc_dead_out flush
	out_is '-ERR SOME ERRORS WERE REPORTED\n'
	[ "$stderr" = "fsmemcache: flush: connection refused (127.0.0.1:$DEAD_PORT)" ]
}

@test "status verbose on a dead server: the server's error, exit 69" {
	v=$(lib_version)
	[ -n "$v" ]
	run -69 --separate-stderr fsmc_dead_out status verbose
	out_is "Lib version: $v\nServers: 1\n  127.0.0.1 ($DEAD_PORT)\n    error: CONNECTION FAILURE\n"
	[[ "$stderr" == "fsmemcache: status: "*" (127.0.0.1:$DEAD_PORT)" ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "status without verbose on a dead server lists it, exit 0" {
	v=$(lib_version)
	[ -n "$v" ]
	run -0 --separate-stderr fsmc_dead_out status
	out_is "Lib version: $v\nServers: 1\n  127.0.0.1 ($DEAD_PORT)\n"
	[ "$stderr" = "" ]
}

@test "-s names the server instead of the configuration: dead -s, live file" {
	k=k$BATS_TEST_NUMBER
	sets=$(mc_stat cmd_set)
	run -69 --separate-stderr fsmc -s "127.0.0.1:$DEAD_PORT" set "$k" v
	[ "$output" = "-ERR CONNECTION FAILURE" ]
	[ "$stderr" = "fsmemcache: set $k: connection refused (127.0.0.1:$DEAD_PORT)" ]
	[ "$(mc_stat cmd_set)" = "$sets" ]
	run -0 mc_raw "get $k"
	[ "$output" = "END" ]
}

@test "-s names the server instead of the configuration: live -s, dead file" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc_dead -s "127.0.0.1:$MC_PORT" set "$k" v
	[ "$output" = "+OK" ]
	[ "$stderr" = "" ]
	run -0 mc_raw "get $k"
	[ "$output" = "$(printf 'VALUE %s 0 1\nv\nEND' "$k")" ]
}

@test "a host that cannot be resolved: exit 69" {
	k=k$BATS_TEST_NUMBER
	run -69 --separate-stderr fsmc_dead_out -s nonexistent.invalid:11211 get "$k"
	out_is '-ERR getaddrinfo() or getnameinfo() HOSTNAME LOOKUP FAILURE\n'
	[ "$stderr" = "fsmemcache: get $k: getaddrinfo() or getnameinfo() hostname lookup failure (nonexistent.invalid:11211)" ]
}
