#!/usr/bin/env bats
# The status command: library version and server list, verbose statistics, and a dead server.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() { mc_start; }
teardown_file() { mc_stop; }

# A configuration with a dead server first and the file's server second.
# Sets DEAD_PORT and FSMC_CFG.
two_servers() {
	DEAD_PORT=$(dead_port)
	FSMC_CFG=$BATS_TEST_TMPDIR/two.cfg
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d";\n' \
	    "$DEAD_PORT" "$MC_PORT" >"$FSMC_CFG"
}

@test "fsmemcache -V names the libmemcached version" {
	run -0 --separate-stderr "$FSMC_BIN" -V
	[[ "$output" =~ ^fsmemcache\ [0-9]+\.[0-9]+\.[0-9]+\ \(libmemcached\ [0-9]+\.[0-9]+\.[0-9]+\)$ ]]
	[ "$stderr" = "" ]
}

@test "status prints the library version and the server, exactly" {
	v=$(lib_version)
	[ -n "$v" ]
	run -0 --separate-stderr fsmc_out status
	out_is "Lib version: $v\nServers: 1\n  127.0.0.1 ($MC_PORT)\n"
	[ "$stderr" = "" ]
}

@test "status sends nothing to the server" {
	conns=$(mc_stat total_connections)
	run -0 --separate-stderr fsmc status
	[ "${lines[2]}" = "  127.0.0.1 ($MC_PORT)" ]
	[ "$(mc_stat total_connections)" = "$((conns + 1))" ]
}

@test "status verbose adds the server's statistics, pid first" {
	v=$(lib_version)
	out=$BATS_TEST_TMPDIR/stdout
	run -0 --separate-stderr fsmc_out status verbose
	[ "$stderr" = "" ]
	run -0 sed -n 1,4p "$out"
	[ "$output" = "$(printf 'Lib version: %s\nServers: 1\n  127.0.0.1 (%d)\n    pid: %d' "$v" "$MC_PORT" "$MC_PID")" ]
	run -0 grep -Fx "    version: $(mc_stat version)" "$out"
	[ "${#lines[@]}" -eq 1 ]
	# One "    NAME: VALUE" line for each statistic, in the server's order.
	run -1 grep -c -v -E '^    [a-z0-9_:]+: ' <(sed 1,3d "$out")
	[ "$output" = "0" ]
	[ "$(sed -n '4,$s/^    \([^ ]*\): .*/\1/p' "$out")" = "$(mc_raw stats | sed -n 's/^STAT \([^ ]*\) .*/\1/p')" ]
}

@test "status verbose ends with its last statistic and a newline, no blank line" {
	out=$BATS_TEST_TMPDIR/stdout
	run -0 --separate-stderr fsmc_out status verbose
	[ "$stderr" = "" ]
	[ "$(tail -c 1 "$out" | od -An -c)" = "  \\n" ]
	run -1 grep -c -x '' "$out"
	[ "$output" = "0" ]
	run -0 tail -n 1 "$out"
	[[ "$output" =~ ^\ {4}[a-z0-9_:]+:\ [^\ ] ]]
}

@test "STATUS VERBOSE: the command and its argument ignore case" {
	run -0 --separate-stderr fsmc STATUS VERBOSE
	[ "${lines[3]}" = "    pid: $MC_PID" ]
	[ "$stderr" = "" ]
	run -0 --separate-stderr fsmc status Verbose
	[ "${lines[3]}" = "    pid: $MC_PID" ]
}

@test "status with an argument other than verbose is a usage error, exit 64" {
	run -64 --separate-stderr fsmc_out status foo
	stdout_is "$USAGE"
	[ "$stderr" = "fsmemcache: status: unknown argument 'foo'" ]
}

@test "status lists a dead server without contacting any server, exit 0" {
	two_servers
	v=$(lib_version)
	conns=$(mc_stat total_connections)
	run -0 --separate-stderr fsmc_out status
	out_is "Lib version: $v\nServers: 2\n  127.0.0.1 ($DEAD_PORT)\n  127.0.0.1 ($MC_PORT)\n"
	[ "$stderr" = "" ]
	[ "$(mc_stat total_connections)" = "$((conns + 1))" ]
}

@test "status verbose with a dead server: its error, the live server's statistics, exit 69" {
	two_servers
	v=$(lib_version)
	out=$BATS_TEST_TMPDIR/stdout
	run -69 --separate-stderr fsmc_out status verbose
	[[ "$stderr" == "fsmemcache: status: "*" (127.0.0.1:$DEAD_PORT)" ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -0 sed -n 1,6p "$out"
	[ "$output" = "$(printf 'Lib version: %s\nServers: 2\n  127.0.0.1 (%d)\n    error: CONNECTION FAILURE\n  127.0.0.1 (%d)\n    pid: %d' "$v" "$DEAD_PORT" "$MC_PORT" "$MC_PID")" ]
	run -0 grep -Fx "    version: $(mc_stat version)" "$out"
	[ "${#lines[@]}" -eq 1 ]
	run -0 grep -c '^    error: ' "$out"
	[ "$output" = "1" ]
	[ "$(tail -c 1 "$out" | od -An -c)" = "  \\n" ]
}
