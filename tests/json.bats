#!/usr/bin/env bats
# --json: one JSON object a line, for batches and single commands, with every command kind, status, value and key form.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() { mc_start; }
teardown_file() { mc_stop; }

# Print, as JSON, what the Python expression $2 gives for the object o
# that the JSON text $1 holds, e.g. jval "$line" 'o["status"]'.
jval() {
	python3 -c '
import json, sys
o = json.loads(sys.argv[1])
print(json.dumps(eval(sys.argv[2]), ensure_ascii=False))
' "$1" "$2"
}

# Whether every line of the standard output that to_file kept is one
# JSON object, and there are $1 of them.
json_lines_are() {
	python3 -c '
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"", "no newline after the last object"
objs = [json.loads(l) for l in lines[:-1]]
assert all(isinstance(o, dict) for o in objs), "not all objects"
assert len(objs) == int(sys.argv[2]), "%d objects" % len(objs)
' "$BATS_TEST_TMPDIR/stdout" "$1"
}

# Print, space-separated, what the Python expression $1 gives for each
# object o on the standard output that to_file kept.
jcol() {
	python3 -c '
import json, sys
print(" ".join(json.dumps(eval(sys.argv[2], {"o": json.loads(l)}))
    for l in open(sys.argv[1], "rb").read().splitlines()))
' "$BATS_TEST_TMPDIR/stdout" "$1"
}

# The lines of the standard output that to_file kept, in $out.
read_out() {
	mapfile -t out <"$BATS_TEST_TMPDIR/stdout"
}

# Whether the summary, the last line of $stderr, counts N lines: A ok,
# B not found, C not stored and D errors, adding up to N.
summary_is() {
	local re='^fsmemcache: ([0-9]+) lines?: ([0-9]+) ok, ([0-9]+) not found, ([0-9]+) not stored, ([0-9]+) errors?; [0-9]+\.[0-9]{3} s, [0-9]+ lines/s$'
	[[ ${stderr##*$'\n'} =~ $re ]]
	[ "${BASH_REMATCH[1]}" = "$1" ]
	[ "${BASH_REMATCH[2]}" = "$2" ]
	[ "${BASH_REMATCH[3]}" = "$3" ]
	[ "${BASH_REMATCH[4]}" = "$4" ]
	[ "${BASH_REMATCH[5]}" = "$5" ]
	[ $((BASH_REMATCH[2] + BASH_REMATCH[3] + BASH_REMATCH[4] + BASH_REMATCH[5])) -eq "${BASH_REMATCH[1]}" ]
}

# Batches.

@test "batch: set, get hit and miss, getflags and increment as documented" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set $k 1" "get $k" "get ${k}nope" "set ${k}f v 0 ff" \
	    "getflags ${k}f" "increment ${k}n 5" >"$in"
	run -1 --separate-stderr to_file fsmc --json -f "$in"
	json_lines_are 6
	read_out
	[ "${out[0]}" = '{"line":1,"command":"set","key":"'"$k"'","status":"ok","exit":0}' ]
	[ "${out[1]}" = '{"line":2,"command":"get","key":"'"$k"'","status":"ok","exit":0,"value":"1","flags":"0"}' ]
	[ "${out[2]}" = '{"line":3,"command":"get","key":"'"$k"'nope","status":"not_found","exit":1,"error":"NOT FOUND"}' ]
	[ "${out[3]}" = '{"line":4,"command":"set","key":"'"$k"'f","status":"ok","exit":0}' ]
	[ "${out[4]}" = '{"line":5,"command":"getflags","key":"'"$k"'f","status":"ok","exit":0,"flags":"ff"}' ]
	[ "${out[5]}" = '{"line":6,"command":"increment","key":"'"$k"'n","status":"ok","exit":0,"value":"5"}' ]
	summary_is 6 5 1 0 0
}

@test "batch: every command kind gives one parseable object with its line number" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set $k 1" "add $k 2" "replace $k 3" "get $k" \
	    "get ${k}none" "set ${k}e ''" "get ${k}e" "set ${k}f v 0 1f" \
	    "getflags ${k}f" "delete $k" "delete $k" "increment ${k}n 5" \
	    "decrement ${k}n 2" "status" "status verbose" "frob" \
	    "set ${k}x 1 x" "# a comment" "" "flush" >"$in"
	run -65 --separate-stderr to_file fsmc --json -f "$in"
	json_lines_are 18
	read_out
	# line numbers count the comment and the blank line too
	[ "$(jcol 'o["line"]')" = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 20" ]
	[ "$(jval "${out[0]}" '[o["command"], o["key"], o["status"], o["exit"]]')" = '["set", "'"$k"'", "ok", 0]' ]
	[ "$(jval "${out[1]}" '[o["command"], o["key"], o["status"], o["exit"], o["error"]]')" = '["add", "'"$k"'", "not_stored", 2, "NOT STORED"]' ]
	[ "$(jval "${out[2]}" '[o["command"], o["key"], o["status"], o["exit"]]')" = '["replace", "'"$k"'", "ok", 0]' ]
	[ "$(jval "${out[3]}" '[o["command"], o["key"], o["status"], o["exit"], o["value"], o["flags"]]')" = '["get", "'"$k"'", "ok", 0, "3", "0"]' ]
	[ "$(jval "${out[4]}" '[o["command"], o["key"], o["status"], o["exit"], o["error"]]')" = '["get", "'"$k"'none", "not_found", 1, "NOT FOUND"]' ]
	[ "$(jval "${out[5]}" '[o["command"], o["status"]]')" = '["set", "ok"]' ]
	[ "$(jval "${out[6]}" '[o["command"], o["key"], o["status"], o["exit"], o["value"], o["flags"]]')" = '["get", "'"$k"'e", "ok", 0, "", "0"]' ]
	[ "$(jval "${out[8]}" '[o["command"], o["key"], o["status"], o["exit"], o["flags"]]')" = '["getflags", "'"$k"'f", "ok", 0, "1f"]' ]
	[ "$(jval "${out[8]}" '"value" in o')" = false ]
	[ "$(jval "${out[9]}" '[o["command"], o["key"], o["status"], o["exit"]]')" = '["delete", "'"$k"'", "ok", 0]' ]
	[ "$(jval "${out[10]}" '[o["command"], o["key"], o["status"], o["exit"], o["error"]]')" = '["delete", "'"$k"'", "not_found", 1, "NOT FOUND"]' ]
	[ "$(jval "${out[11]}" '[o["command"], o["key"], o["status"], o["exit"], o["value"]]')" = '["increment", "'"$k"'n", "ok", 0, "5"]' ]
	[ "$(jval "${out[12]}" '[o["command"], o["key"], o["status"], o["exit"], o["value"]]')" = '["decrement", "'"$k"'n", "ok", 0, "3"]' ]
	[ "$(jval "${out[13]}" '[o["command"], o["status"], o["exit"], o["servers"]]')" = '["status", "ok", 0, [{"host": "127.0.0.1", "port": '"$MC_PORT"', "up": null}]]' ]
	[ "$(jval "${out[14]}" '[o["command"], o["status"], o["exit"], o["servers"][0]["host"], o["servers"][0]["port"], o["servers"][0]["up"]]')" = '["status", "ok", 0, "127.0.0.1", '"$MC_PORT"', true]' ]
	[ "$(jval "${out[14]}" 'o["servers"][0]["stats"]["pid"]')" = "\"$MC_PID\"" ]
	[ "$(jval "${out[15]}" '[o["status"], o["exit"], o["message"]]')" = "[\"usage\", 64, \"unknown command 'frob'\"]" ]
	[ "$(jval "${out[16]}" '[o["command"], o["key"], o["status"], o["exit"], o["error"], o["message"]]')" = "[\"set\", \"${k}x\", \"invalid\", 65, \"INVALID ARGUMENTS\", \"set: bad expiration 'x': not a decimal number of seconds from -2147483648 to 2147483647\"]" ]
	[ "$(jval "${out[17]}" '[o["command"], o["status"], o["exit"]]')" = '["flush", "ok", 0]' ]
	summary_is 18 13 2 1 2
}

@test "batch: a usage error carries status usage, exit 64 and the message" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "set $k" "get $k extra" >"$in"
	run -64 --separate-stderr to_file fsmc --json -f "$in"
	json_lines_are 2
	read_out
	[ "$(jval "${out[0]}" '[o["line"], o["command"], o["status"], o["exit"], o["message"]]')" = '[1, "set", "usage", 64, "set: too few arguments"]' ]
	[ "$(jval "${out[1]}" '[o["line"], o["command"], o["status"], o["exit"], o["message"]]')" = '[2, "get", "usage", 64, "get: too many arguments"]' ]
	[ "${stderr%$'\n'*}" = "fsmemcache: line 1: set: too few arguments
fsmemcache: line 2: get: too many arguments" ]
	summary_is 2 0 0 0 2
}

@test "batch: a value that is not UTF-8 comes back as value_base64" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc -x set "$k" < <(printf 'a\377b')
	[ "$output" = "+OK" ]
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "get $k" >"$in"
	run -0 --separate-stderr to_file fsmc --json -f "$in"
	json_lines_are 1
	out_is '{"line":1,"command":"get","key":"'"$k"'","status":"ok","exit":0,"value_base64":"Yf9i","flags":"0"}\n'
}

@test "batch: a UTF-8 value with quotes, backslashes, controls and NUL comes back exactly" {
	k=k$BATS_TEST_NUMBER
	value=$BATS_TEST_TMPDIR/value
	printf 'q"b\\s\\\\\tt\nn\r\0\001\037\177 \303\251\342\202\254\360\237\230\200' >"$value"
	run -0 --separate-stderr fsmc -x set "$k" <"$value"
	[ "$output" = "+OK" ]
	in=$BATS_TEST_TMPDIR/in
	printf '%s\n' "get $k" "get $k" >"$in"
	run -0 --separate-stderr to_file fsmc --json -f "$in"
	json_lines_are 2
	read_out
	[ "$(jval "${out[0]}" 'o["value"].encode("utf-8").hex()')" = "\"$(od -An -v -tx1 "$value" | tr -d ' \n')\"" ]
	[ "$(jval "${out[1]}" 'o["value"].encode("utf-8").hex()')" = "\"$(od -An -v -tx1 "$value" | tr -d ' \n')\"" ]
	[ "$(jval "${out[0]}" '"value_base64" in o')" = false ]
}

@test "batch: a key holding TAB is refused, and shown as the 3 bytes escaped" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf 'get a\tb\n' >"$in"
	run -65 --separate-stderr to_file fsmc --json -f "$in"
	json_lines_are 1
	read_out
	[[ ${out[0]} == *'"key":"a\tb"'* ]]
	[ "$(jval "${out[0]}" 'o["key"].encode("utf-8").hex()')" = '"610962"' ]
	[ "$(jval "${out[0]}" '[o["line"], o["command"], o["status"], o["exit"]]')" = '[1, "get", "invalid", 65]' ]
	[ "$(jval "${out[0]}" '"message" in o')" = true ]
}

@test "batch: a key that is not UTF-8 is shown as key_base64" {
	k=k$BATS_TEST_NUMBER
	in=$BATS_TEST_TMPDIR/in
	printf 'set %s\377 v\nget %s\377\n' "$k" "$k" >"$in"
	run -0 --separate-stderr to_file fsmc --json -f "$in"
	json_lines_are 2
	read_out
	key64=$(printf '%s\377' "$k" | base64)
	[ "${out[0]}" = '{"line":1,"command":"set","key_base64":"'"$key64"'","status":"ok","exit":0}' ]
	[ "${out[1]}" = '{"line":2,"command":"get","key_base64":"'"$key64"'","status":"ok","exit":0,"value":"v","flags":"0"}' ]
}

# Single commands.

@test "single: get has no line member" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 31 0 2\r\nhi' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr to_file fsmc --json get "$k"
	out_is '{"command":"get","key":"'"$k"'","status":"ok","exit":0,"value":"hi","flags":"1f"}\n'
	[ "$stderr" = "" ]
	run -1 --separate-stderr to_file fsmc --json get "${k}none"
	out_is '{"command":"get","key":"'"$k"'none","status":"not_found","exit":1,"error":"NOT FOUND"}\n'
	[ "$stderr" = "" ]
}

@test "single: set, add not stored, getflags, increment, decrement, delete and flush" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr to_file fsmc --json set "$k" v 0 ff
	out_is '{"command":"set","key":"'"$k"'","status":"ok","exit":0}\n'
	run -2 --separate-stderr to_file fsmc --json add "$k" w
	json_lines_are 1
	out_is '{"command":"add","key":"'"$k"'","status":"not_stored","exit":2,"error":"NOT STORED"}\n'
	run -0 --separate-stderr to_file fsmc --json replace "$k" x 0 ff
	out_is '{"command":"replace","key":"'"$k"'","status":"ok","exit":0}\n'
	run -0 --separate-stderr to_file fsmc --json getflags "$k"
	out_is '{"command":"getflags","key":"'"$k"'","status":"ok","exit":0,"flags":"ff"}\n'
	run -0 --separate-stderr to_file fsmc --json increment "${k}n" 5
	out_is '{"command":"increment","key":"'"$k"'n","status":"ok","exit":0,"value":"5"}\n'
	run -0 --separate-stderr to_file fsmc --json decrement "${k}n" 2
	out_is '{"command":"decrement","key":"'"$k"'n","status":"ok","exit":0,"value":"3"}\n'
	run -0 --separate-stderr to_file fsmc --json delete "$k"
	out_is '{"command":"delete","key":"'"$k"'","status":"ok","exit":0}\n'
	run -0 --separate-stderr to_file fsmc --json flush
	out_is '{"command":"flush","status":"ok","exit":0}\n'
}

@test "single: a counter past 2^53 is an exact decimal string" {
	k=k$BATS_TEST_NUMBER
	run -0 mc_raw "$(printf 'set %s 0 0 20\r\n18446744073709551614' "$k")"
	[ "$output" = "STORED" ]
	run -0 --separate-stderr to_file fsmc --json increment "$k"
	out_is '{"command":"increment","key":"'"$k"'","status":"ok","exit":0,"value":"18446744073709551615"}\n'
}

@test "single: status lists the servers, up null, without contacting them" {
	run -0 --separate-stderr to_file fsmc --json status
	json_lines_are 1
	read_out
	[ "$(jval "${out[0]}" 'sorted(o)')" = '["command", "exit", "lib_version", "servers", "status"]' ]
	[ "$(jval "${out[0]}" '[o["command"], o["status"], o["exit"], o["lib_version"]]')" = '["status", "ok", 0, "'"$(lib_version)"'"]' ]
	[ "$(jval "${out[0]}" 'o["servers"]')" = '[{"host": "127.0.0.1", "port": '"$MC_PORT"', "up": null}]' ]
}

@test "single: status verbose says up and gives the server's stats" {
	run -0 --separate-stderr to_file fsmc --json status verbose
	json_lines_are 1
	read_out
	[ "$(jval "${out[0]}" '[o["command"], o["status"], o["exit"]]')" = '["status", "ok", 0]' ]
	[ "$(jval "${out[0]}" '[s["host"] for s in o["servers"]]')" = '["127.0.0.1"]' ]
	[ "$(jval "${out[0]}" 'o["servers"][0]["port"]')" = "$MC_PORT" ]
	[ "$(jval "${out[0]}" 'o["servers"][0]["up"]')" = true ]
	[ "$(jval "${out[0]}" 'o["servers"][0]["stats"]["pid"]')" = "\"$MC_PID\"" ]
	[ "$(jval "${out[0]}" 'o["servers"][0]["stats"]["version"]')" = "\"$(mc_stat version | tr -d '\r')\"" ]
}

@test "single: a usage error is an object with status usage and the message" {
	run -64 --separate-stderr to_file fsmc --json get
	json_lines_are 1
	read_out
	[ "$(jval "${out[0]}" '[o["command"], o["status"], o["exit"], o["message"]]')" = '["get", "usage", 64, "get: too few arguments"]' ]
	[ "$(jval "${out[0]}" '"line" in o')" = false ]
}

@test "single: a bad number is status invalid, exit 65, with error and message" {
	k=k$BATS_TEST_NUMBER
	run -65 --separate-stderr to_file fsmc --json set "$k" v x
	json_lines_are 1
	read_out
	[ "$(jval "${out[0]}" '[o["command"], o["key"], o["status"], o["exit"], o["error"], o["message"]]')" = "[\"set\", \"$k\", \"invalid\", 65, \"INVALID ARGUMENTS\", \"set: bad expiration 'x': not a decimal number of seconds from -2147483648 to 2147483647\"]" ]
}

@test "single: a key holding TAB is escaped as a 3-byte string" {
	run -65 --separate-stderr to_file fsmc --json get $'a\tb'
	json_lines_are 1
	read_out
	[[ ${out[0]} == *'"key":"a\tb"'* ]]
	[ "$(jval "${out[0]}" 'o["key"].encode("utf-8").hex()')" = '"610962"' ]
	[ "$(jval "${out[0]}" '[o["status"], o["exit"]]')" = '["invalid", 65]' ]
	[ "$(jval "${out[0]}" '"message" in o')" = true ]
}

@test "single: binary and UTF-8 values with every special byte" {
	k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr fsmc -x set "${k}b" < <(printf 'a\377b')
	[ "$output" = "+OK" ]
	run -0 --separate-stderr to_file fsmc --json get "${k}b"
	out_is '{"command":"get","key":"'"$k"'b","status":"ok","exit":0,"value_base64":"Yf9i","flags":"0"}\n'
	value=$BATS_TEST_TMPDIR/value
	printf '"\\\t\n\r\0\001\037\177\b\f/\303\251' >"$value"
	run -0 --separate-stderr fsmc -x set "${k}u" <"$value"
	[ "$output" = "+OK" ]
	run -0 --separate-stderr to_file fsmc --json get "${k}u"
	json_lines_are 1
	read_out
	[ "$(jval "${out[0]}" 'o["value"].encode("utf-8").hex()')" = "\"$(od -An -v -tx1 "$value" | tr -d ' \n')\"" ]
}

@test "single: values that are almost UTF-8 (overlong, surrogate, truncated) are base64" {
	k=k$BATS_TEST_NUMBER
	for bytes in '\0300\0257' '\0355\0240\0200' '\0342\0202' '\0364\0220\0200\0200'; do
		run -0 --separate-stderr fsmc -x set "$k" < <(printf '%b' "$bytes")
		[ "$output" = "+OK" ]
		run -0 --separate-stderr to_file fsmc --json get "$k"
		json_lines_are 1
		read_out
		[ "$(jval "${out[0]}" 'o["value_base64"]')" = "\"$(printf '%b' "$bytes" | base64)\"" ]
	done
}
