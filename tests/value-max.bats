#!/usr/bin/env bats
# A session's bound on values, as the FreeSWITCH module's memcache:// files read them: a longer value is refused unread, in either protocol, and the session goes on.

load helper

VALUE_MAX=$BATS_TEST_DIRNAME/value-max

setup_file() {
	# Room for a 16 MiB value.
	mc_start -I 32m -m 128
	printf 'servers = ( { host = "127.0.0.1"; port = %d; } );\nprotocol = "binary";\n' \
	    "$MC_PORT" >"$BATS_FILE_TMPDIR/binary.cfg"
	head -c 100 /dev/zero | fsmc -x set at-limit
	head -c 101 /dev/zero | fsmc -x set over-limit
	head -c 16777216 /dev/zero | fsmc -x set huge
}
teardown_file() { mc_stop; }

# The replies of value-max with a limit of 100 bytes, in either protocol.
want_100() {
	printf '%s\n' "at-limit: 100 bytes" \
	    "over-limit: -ERR ITEM TOO BIG: get over-limit: a value of 101 bytes, over the limit of 100 (127.0.0.1:$MC_PORT)" \
	    "at-limit: 100 bytes" \
	    "missing: -ERR NOT FOUND: get missing: not found"
}

@test "a value at the limit is read; one byte over is refused with both lengths; the session goes on" {
	run -0 "$VALUE_MAX" "$FSMC_CFG" 100 at-limit over-limit at-limit missing
	[ "$output" = "$(want_100)" ]
}

@test "the binary protocol refuses a value over the limit the same way" {
	run -0 "$VALUE_MAX" "$BATS_FILE_TMPDIR/binary.cfg" 100 at-limit \
	    over-limit at-limit missing
	[ "$output" = "$(want_100)" ]
}

@test "a refused value is not read into memory; without a limit it is" {
	local cfg
	for cfg in "$FSMC_CFG" "$BATS_FILE_TMPDIR/binary.cfg"; do
		/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" \
		    "$VALUE_MAX" "$cfg" 1000 huge >"$BATS_TEST_TMPDIR/out"
		[ "$(cat "$BATS_TEST_TMPDIR/out")" = "huge: -ERR ITEM TOO BIG: get huge: a value of 16777216 bytes, over the limit of 1000 (127.0.0.1:$MC_PORT)" ]
		[ "$(tail -n 1 "$BATS_TEST_TMPDIR/rss")" -lt 12288 ]
	done
	/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" \
	    "$VALUE_MAX" "$FSMC_CFG" 0 huge >"$BATS_TEST_TMPDIR/out"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "huge: 16777216 bytes" ]
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/rss")" -ge 16384 ]
}
