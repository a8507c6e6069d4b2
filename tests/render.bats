#!/usr/bin/env bats
# The reply renderer shared by fsmemcache and the FreeSWITCH module, byte for byte.

load helper

@test "every kind of result renders to the exact reply bytes on the right stream; health the same through the command line's and the module's writers" {
	run -0 "$BATS_TEST_DIRNAME/render-test"
	[ "$output" = "62 passed, 0 failed" ]
}
