#!/usr/bin/env bats
# One core handle shared by many threads: every command and count lands.

load helper
setup_file() { mc_start; }
teardown_file() { mc_stop; }

@test "16 threads on one handle: every value reads back and no count is lost" {
	run -0 "$BATS_TEST_DIRNAME/threads" "127.0.0.1:$MC_PORT" 16 200
	[ "$output" = 3200 ]
}

@test "20,000 calls from 4 threads leave no more sockets in TIME_WAIT than the connections kept" {
	local before
	own_server
	# The probe that saw the server listen left one of its own.
	before=$(ss -Htan state time-wait "( dport = :$MC_PORT )" | wc -l)
	run -0 "$BATS_TEST_DIRNAME/threads" "127.0.0.1:$MC_PORT" 4 1667
	[ "$output" = 6668 ]
	# 3 calls an iteration; a connection kept per thread at most.
	run -0 ss -Htan state time-wait "( dport = :$MC_PORT )"
	[ "$((${#lines[@]} - before))" -le 4 ]
}
