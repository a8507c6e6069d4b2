#!/usr/bin/env bats
# One core handle shared by many threads: every command and count lands.

load helper
setup_file() { mc_start; }
teardown_file() { mc_stop; }

@test "16 threads on one handle: every value reads back and no count is lost" {
	run -0 "$BATS_TEST_DIRNAME/threads" "127.0.0.1:$MC_PORT" 16 200
	[ "$output" = 3200 ]
}
