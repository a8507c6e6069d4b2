#!/usr/bin/env bats
# Hostile and broken input: keys, protocol injection, values, numbers, batch input and configuration files; each refused with a clear message and nothing sent.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() { mc_start; }
teardown_file() { mc_stop; }

BADKEY='-ERR A BAD KEY WAS PROVIDED/CHARACTERS OUT OF RANGE\n'
INVALID='-ERR INVALID ARGUMENTS\n'
EXP='not a decimal number of seconds from -2147483648 to 2147483647'
FLAGS='not a hexadecimal number from 0 to ffffffff'
OFFSET='not a decimal number from 0 to 4294967295'
DELAY='not a decimal number of seconds from 0 to 2147483647'

# What the server has done: its command and hit/miss counters and its
# connections.  Each look costs one connection of its own; otherwise
# equal before and after a command means that the command never reached
# the server, not even to connect.
fingerprint() {
	mc_raw stats | tr -d '\r' |
	    sed -n 's/^STAT \(total_connections\|cmd_[a-z_]*\|[a-z]*_hits\|[a-z]*_misses\) \([0-9]*\)$/\1 \2/p'
}

# Remember the fingerprint; then check that nothing but the next look
# has reached the server since.
snapshot() {
	SNAPSHOT=$(fingerprint | awk '$1 == "total_connections" { $2 += 1 } { print }')
	[ -n "$SNAPSHOT" ]
}
untouched() {
	local now
	now=$(fingerprint)
	if [ "$now" != "$SNAPSHOT" ]; then
		diff <(echo "$SNAPSHOT") <(echo "$now") >&2 || true
		return 1
	fi
}

# n bytes of the character c.
repeat() {
	head -c "$2" /dev/zero | tr '\0' "$1"
}

# Keys.

@test "keys that cannot be sent (empty, 251 bytes, space, tab, CR, LF, DEL): exit 65, the reason, nothing reaches the server" {
	# Not i: bats 1.8's run sets a global i.
	local k251 n
	k251=$(repeat k 251)
	local keys=("" "$k251" "a b" $'a\tb' $'a\rb' $'a\nb' $'a\x7fb' $'\x1b[31mred')
	local quoted=("''" "'$(repeat k 87)...'" "'a b'" "'a\\x09b'" "'a\\x0db'" "'a\\x0ab'" "'a\\x7fb'" "'\\x1b[31mred'")
	local why=(empty "longer than 250 bytes" "contains a space" \
	    "contains a control character" "contains a control character" \
	    "contains a control character" "contains a control character" \
	    "contains a control character")
	snapshot
	for n in "${!keys[@]}"; do
		run -65 --separate-stderr to_file fsmc set "${keys[$n]}" v
		out_is "$BADKEY"
		[ "$stderr" = "fsmemcache: set: bad key ${quoted[$n]}: ${why[$n]}" ]
	done
	untouched
}

@test "a bad key is refused by every command that takes one, before anything is sent" {
	local c
	snapshot
	for c in "set|v" "add|v" "replace|v" "append|v" "prepend|v" "get" \
	    "getflags" "delete" "increment" "decrement" "touch|60" "where"; do
		IFS='|' read -r -a args <<<"$c"
		run -65 --separate-stderr to_file fsmc "${args[0]}" $'k\r\nflush_all' "${args[@]:1}"
		out_is "$BADKEY"
		[ "$stderr" = "fsmemcache: ${args[0]}: bad key 'k\\x0d\\x0aflush_all': contains a control character" ]
	done
	untouched
}

@test "a key of 250 bytes is sent; with a namespace, the namespace counts toward the 250" {
	local k250 k247
	k250=$(repeat k 250)
	k247=$(repeat k 247)
	run -0 --separate-stderr fsmc set "$k250" v
	[ "$output" = "+OK" ]
	run -0 mc_raw "get $k250"
	[ "$output" = "$(printf 'VALUE %s 0 1\nv\nEND' "$k250")" ]
	snapshot
	run -65 --separate-stderr to_file fsmc --namespace ns:: set "$k247" v
	out_is "$BADKEY"
	[ "$stderr" = "fsmemcache: set: bad key '$(repeat k 87)...': longer than 250 bytes with the namespace" ]
	untouched
	run -0 --separate-stderr fsmc --namespace ns: set "$k247" v
	[ "$output" = "+OK" ]
	run -0 mc_raw "get ns:$k247"
	[ "$output" = "$(printf 'VALUE ns:%s 0 1\nv\nEND' "$k247")" ]
}

@test "a key cannot hold a NUL byte: the command line cannot carry one, and a batch line holding one is refused, exit 65" {
	local in=$BATS_TEST_TMPDIR/in
	printf 'set nul:a\0b v\n' >"$in"
	snapshot
	run -65 --separate-stderr to_file fsmc -f "$in"
	out_is ''
	[ "${stderr_lines[0]}" = "fsmemcache: line 1: holds a NUL byte" ]
	[[ ${stderr_lines[1]} == "fsmemcache: 1 line: 0 ok, 0 not found, 0 not stored, 1 error; "* ]]
	untouched
}

# Protocol injection.

@test "protocol injection through keys and numbers never reaches the server: cmd_flush, cmd_set and every counter unchanged" {
	local n
	local words=(
	    "set 'a\\r\\nflush_all' v"
	    "set a\\r\\nflush_all v"
	    "get 'a\\r\\nflush_all'"
	    "getflags a\\nflush_all"
	    "delete 'k\\r\\nflush_all\\r\\n'"
	    "increment 'k\\r\\nflush_all'"
	    "touch 'k\\r\\nflush_all' 0"
	    "append 'k\\r\\nflush_all' v"
	    "where 'k\\r\\nflush_all'"
	    "^^|set|a\\r\\nflush_all|v"
	    "set 'a\\sflush_all' v"
	    "set 'k 0 0 1\\r\\nx\\r\\nflush_all' v"
	    "set k v '0\\r\\nflush_all'"
	    "set k v 0 '1\\r\\nflush_all'"
	    "increment k '1\\r\\nflush_all'"
	    "flush '0\\r\\nflush_all'"
	)
	local want=(65 65 65 65 65 65 65 65 65 65 65 65 65 65 65 65)
	snapshot
	for n in "${!words[@]}"; do
		run --separate-stderr fsmc -e "${words[$n]}"
		printf '%s: %d: %s\n' "${words[$n]}" "$status" "$stderr"
		[ "$status" -eq "${want[$n]}" ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == "fsmemcache: "*": bad "*": "* ]]
	done
	untouched
	run -0 mc_stat cmd_flush
	[ "$output" = 0 ]
}

@test "--namespace with CR LF is refused before anything is sent, exit 64, on one escaped line" {
	snapshot
	run -64 --separate-stderr to_file fsmc --namespace $'a\r\nflush_all\r\n' set k v
	out_is ''
	[ "$stderr" = "fsmemcache: --namespace: namespace: \"a\\x0d\\x0aflush_all\\x0d\\x0a\" contains a space or a control character" ]
	untouched
}

@test "a value holding CR LF and flush_all is data, not a command: stored byte for byte, no flush" {
	local k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" $'x\r\nflush_all\r\n'
	[ "$output" = "+OK" ]
	run -0 --separate-stderr to_file fsmc get "$k"
	out_is 'x\r\nflush_all\r\n'
	run -0 mc_stat cmd_flush
	[ "$output" = 0 ]
}

# Values.

@test "values holding CR LF, END CR LF and NUL round-trip byte for byte (-x and -e)" {
	local k=k$BATS_TEST_NUMBER value=$BATS_TEST_TMPDIR/value
	printf '\0a\0b\r\nEND\r\n\r\nVALUE x 0 1\r\n\0' >"$value"
	run -0 --separate-stderr fsmc -x set "$k" 0 ff <"$value"
	[ "$output" = "+OK" ]
	run -0 --separate-stderr to_file fsmc get "$k"
	cmp "$value" "$BATS_TEST_TMPDIR/stdout"
	run -0 --separate-stderr fsmc getflags "$k"
	[ "$output" = ff ]
	run -0 --separate-stderr fsmc -e "set ${k}e 'line\\r\\nEND\\r\\n'"
	[ "$output" = "+OK" ]
	run -0 --separate-stderr to_file fsmc get "${k}e"
	out_is 'line\r\nEND\r\n'
}

# memcached 1.6 takes an item of at most its item size limit (-I, 1 MiB
# by default) with its 48-byte header, the key and a NUL, the 8-byte
# CAS and the data's CR LF: for a key of n bytes without flags the value
# may hold 1048576 - 48 - (n + 1) - 8 - 2 bytes.
@test "a value at the server's item size limit less memcached's overhead is stored whole" {
	local k=big1 value=$BATS_TEST_TMPDIR/value
	repeat v $((1048576 - 48 - 5 - 8 - 2)) >"$value"
	run -0 --separate-stderr fsmc -x set "$k" <"$value"
	[ "$output" = "+OK" ]
	run -0 --separate-stderr to_file fsmc get "$k"
	cmp "$value" "$BATS_TEST_TMPDIR/stdout"
}

@test "a value one byte over the item size limit, or 2 MiB: exit 65, the item is too large, nothing stored" {
	local k=big2 n
	for n in $((1048576 - 48 - 5 - 8 - 2 + 1)) $((2 * 1048576)); do
		repeat v "$n" >"$BATS_TEST_TMPDIR/value"
		run -65 --separate-stderr to_file fsmc -x set "$k" <"$BATS_TEST_TMPDIR/value"
		out_is '-ERR ITEM TOO BIG\n'
		[ "$stderr" = "fsmemcache: set $k: value too large for the server (127.0.0.1:$MC_PORT)" ]
		run -0 mc_raw "get $k"
		[ "$output" = END ]
	done
}

# Numbers.

@test "every invalid expiration, flags, offset and delay: exit 65, the reason, nothing sent" {
	local w
	snapshot
	for w in "" abc 1x x1 " 1" "1 " + - --1 +-1 1.5 1e3 0x10 2147483648 \
	    -2147483649 99999999999999999999 -99999999999999999999; do
		run -65 --separate-stderr to_file fsmc set k v "$w"
		out_is "$INVALID"
		[ "$stderr" = "fsmemcache: set: bad expiration '$w': $EXP" ]
		run -65 --separate-stderr to_file fsmc touch k "$w"
		out_is "$INVALID"
	done
	run -65 --separate-stderr to_file fsmc set k v $'1\n'
	out_is "$INVALID"
	[ "$stderr" = "fsmemcache: set: bad expiration '1\x0a': $EXP" ]
	# ARABIC-INDIC DIGIT ONE: a digit, but not a decimal one.
	run -65 --separate-stderr to_file fsmc set k v $'\xd9\xa1'
	out_is "$INVALID"
	[ "$stderr" = "fsmemcache: set: bad expiration '\xd9\xa1': $EXP" ]
	for w in "" -1 +1 0x 0X g 1g 100000000 0x100000000 fffffffff \
	    ffffffffffffffffffffffffffffffff " 1" "1 " 0xx1 0x-1 1.0; do
		run -65 --separate-stderr to_file fsmc set k v 0 "$w"
		out_is "$INVALID"
		[ "$stderr" = "fsmemcache: set: bad flags '$w': $FLAGS" ]
		run -65 --separate-stderr to_file fsmc increment k 1 0 "$w"
		out_is "$INVALID"
	done
	for w in "" -1 +-1 4294967296 18446744073709551616 1.0 abc 0x10 " 1"; do
		run -65 --separate-stderr to_file fsmc increment k "$w"
		out_is "$INVALID"
		[ "$stderr" = "fsmemcache: increment: bad offset '$w': $OFFSET" ]
		run -65 --separate-stderr to_file fsmc decrement k "$w"
		out_is "$INVALID"
	done
	for w in "" -1 2147483648 x 1.5 99999999999999999999; do
		run -65 --separate-stderr to_file fsmc flush "$w"
		out_is "$INVALID"
		[ "$stderr" = "fsmemcache: flush: bad delay '$w': $DELAY" ]
	done
	for w in 1 -1 +5 2147483647; do
		run -65 --separate-stderr to_file fsmc delete k "$w"
		out_is "$INVALID"
		[ "$stderr" = "fsmemcache: delete: memcached cannot delay a delete: the expiration must be 0" ]
	done
	untouched
}

@test "the extremes of every number are taken: expiration -2147483648 and 2147483647, flags ffffffff, offset 4294967295" {
	local k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" v 2147483647 0xFFFFFFFF
	[ "$output" = "+OK" ]
	run -0 --separate-stderr fsmc getflags "$k"
	[ "$output" = ffffffff ]
	run -0 --separate-stderr fsmc set "${k}x" v -2147483648
	[ "$output" = "+OK" ]
	run -1 --separate-stderr fsmc get "${k}x"
	[ "$output" = "-ERR NOT FOUND" ]
	run -0 --separate-stderr fsmc increment "${k}c" 4294967295
	[ "$output" = 4294967295 ]
	run -0 --separate-stderr fsmc increment "${k}c" +4294967295
	[ "$output" = 8589934590 ]
	run -0 --separate-stderr fsmc decrement "${k}c" 4294967295
	[ "$output" = 4294967295 ]
}

@test "-t takes milliseconds from 1 to 3600000, nothing else: exit 64" {
	local w
	snapshot
	for w in 0 -1 3600001 x "" 1.5 " 5" 99999999999999999999; do
		run -64 --separate-stderr fsmc -t "$w" get k
		[ "$output" = "" ]
		[ "$stderr" = "fsmemcache: -t: bad timeout '$w' (milliseconds from 1 to 3600000)" ]
	done
	untouched
}

# Batch input.

@test "a batch line of 16 MiB is refused, exit 65, the run goes on, and memory stays within the 8 MiB line limit" {
	local in=$BATS_TEST_TMPDIR/in small=$BATS_TEST_TMPDIR/small rss rss_small
	{
		printf 'set long:a 1\nset long:b '
		repeat x $((16 * 1048576))
		printf '\nget long:a\n'
	} >"$in"
	printf 'set long:a 1\nget long:a\n' >"$small"
	run -65 --separate-stderr to_file env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" \
	    "$FSMC_BIN" -c "$FSMC_CFG" -f "$in"
	out_is '+OK\n1\n'
	[ "${stderr_lines[0]}" = "fsmemcache: line 2: longer than 8 MiB" ]
	[[ ${stderr_lines[1]} == "fsmemcache: 3 lines: 2 ok, 0 not found, 0 not stored, 1 error; "* ]]
	run -0 mc_raw "get long:b"
	[ "$output" = END ]
	run -0 --separate-stderr env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss-small" \
	    "$FSMC_BIN" -c "$FSMC_CFG" -f "$small"
	rss=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
	rss_small=$(tail -n 1 "$BATS_TEST_TMPDIR/rss-small")
	echo "peak RSS: $rss KiB with the 16 MiB line, $rss_small KiB without"
	[ $((rss - rss_small)) -lt $((10 * 1024)) ]
}

@test "binary garbage as a batch: a clear error per line, no crash, nothing sent, bounded memory" {
	local in=$BATS_TEST_TMPDIR/in rss rss_small
	# Every byte value, in a scrambled order, 2 MiB of it: no line of it
	# is a command.  Then 20 MiB without a newline.
	awk 'BEGIN { for (i = 0; i < 8192; i++) for (j = 0; j < 256; j++) printf "%c", (j * 167 + i) % 256 }' >"$in"
	repeat '\377' $((20 * 1048576)) >>"$in"
	printf 'get garbage:none\n' >"$BATS_TEST_TMPDIR/small"
	run -1 --separate-stderr env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss-small" \
	    "$FSMC_BIN" -c "$FSMC_CFG" -f "$BATS_TEST_TMPDIR/small"
	snapshot
	run -65 --separate-stderr env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" \
	    "$FSMC_BIN" -c "$FSMC_CFG" -f "$in"
	untouched
	[[ ${stderr_lines[-1]} =~ ^fsmemcache:\ ([0-9]+)\ lines?:\ 0\ ok,\ 0\ not\ found,\ 0\ not\ stored,\ ([0-9]+)\ errors?\; ]]
	[ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ]
	[ "${BASH_REMATCH[1]}" -eq "$(grep -c '^fsmemcache: line [0-9]*: ' <<<"$stderr")" ]
	[[ $stderr == *"fsmemcache: line "*": longer than 8 MiB"* ]]
	[[ $stderr == *"fsmemcache: line "*": holds a NUL byte"* ]]
	rss=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
	rss_small=$(tail -n 1 "$BATS_TEST_TMPDIR/rss-small")
	echo "peak RSS: $rss KiB with the garbage, $rss_small KiB for one line"
	[ $((rss - rss_small)) -lt $((10 * 1024)) ]
}

@test "-f with a directory, a missing file, a path through a file, or a file that cannot be read: exit 66 and the reason" {
	local file=$BATS_TEST_TMPDIR/file
	: >"$file"
	snapshot
	run -66 --separate-stderr fsmc -f "$BATS_TEST_TMPDIR"
	[ "$stderr" = "fsmemcache: $BATS_TEST_TMPDIR: Is a directory" ]
	run -66 --separate-stderr fsmc -f "$BATS_TEST_TMPDIR/missing"
	[ "$stderr" = "fsmemcache: $BATS_TEST_TMPDIR/missing: No such file or directory" ]
	run -66 --separate-stderr fsmc -f "$file/x"
	[ "$stderr" = "fsmemcache: $file/x: Not a directory" ]
	# Root reads any file whatever its mode; /proc/self/mem opens for
	# anyone and fails to read at offset 0 (EIO), an unreadable file
	# even for root.
	run -66 --separate-stderr fsmc -f /proc/self/mem
	[ "${stderr_lines[0]}" = "fsmemcache: /proc/self/mem: Input/output error" ]
	untouched
}

# Configuration files.

@test "a truncated configuration: exit 78, the file and line, no server contacted" {
	local cfg=$BATS_TEST_TMPDIR/truncated.cfg
	printf 'servers = ( { host = "127.0.0.1"; port = %d; } );\nnamespace = "a' "$MC_PORT" >"$cfg"
	snapshot
	run -78 --separate-stderr fsmc -c "$cfg" set k v
	[ "$output" = "" ]
	[[ $stderr == "fsmemcache: $cfg:2: "* ]]
	untouched
}

@test "a binary file as configuration: exit 78 on one line" {
	local cfg=$BATS_TEST_TMPDIR/binary.cfg
	head -c 65536 "$FSMC_BIN" >"$cfg"
	run -78 --separate-stderr fsmc -c "$cfg" get k
	[ "$output" = "" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == "fsmemcache: $cfg:"*": syntax error" ]]
}

@test "groups and lists nested 100,000 deep: exit 78, no crash" {
	local cfg=$BATS_TEST_TMPDIR/deep.cfg
	awk 'BEGIN { printf "x = "; for (i = 0; i < 100000; i++) printf "{ a = "; printf "1;"; for (i = 0; i < 100000; i++) printf " };"; print "" }' >"$cfg"
	run -78 --separate-stderr fsmc -c "$cfg" -n
	[ "$output" = "" ]
	[[ $stderr == "fsmemcache: $cfg:1: "* ]]
	awk 'BEGIN { printf "x = "; for (i = 0; i < 100000; i++) printf "("; printf "1"; for (i = 0; i < 100000; i++) printf ")"; print ";" }' >"$cfg"
	run -78 --separate-stderr fsmc -c "$cfg" -n
	[[ $stderr == "fsmemcache: $cfg:1: "* ]]
}

@test "a 10 MB string in a configuration: exit 78 within 10 s, no crash" {
	local cfg=$BATS_TEST_TMPDIR/long.cfg
	{
		printf 'servers = "127.0.0.1:%d";\nnamespace = "' "$MC_PORT"
		repeat n $((10 * 1000 * 1000))
		printf '";\n'
	} >"$cfg"
	run -78 --separate-stderr timeout 10 env -u FSMEMCACHE_CONFIG \
	    -u MEMCACHED_SERVERS "$FSMC_BIN" -c "$cfg" -n
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: $cfg: larger than 1 MiB: not a configuration file" ]
}

@test "--json -e: the key in the JSON is the key given" {
	local k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc set "$k" v
	run -0 --separate-stderr fsmc --json -e "get $k"
	[ "$output" = "{\"command\":\"get\",\"key\":\"$k\",\"status\":\"ok\",\"exit\":0,\"value\":\"v\",\"flags\":\"0\"}" ]
}
