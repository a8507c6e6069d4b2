#!/usr/bin/env bash
# A short tour of the memcache grammar against a throwaway local memcached.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=tests/throwaway.sh
. tests/throwaway.sh
# shellcheck disable=SC2119 # no extra memcached arguments
throwaway_memcached
tmp=$MC_TMP
port=$MC_PORT
printf 'servers = "127.0.0.1:%d";\n' "$port" >"$tmp/fsmemcache.cfg"

# Show a command line, run it, and show its reply and exit status.  The
# lines are this script's own, so eval only undoes their shell quoting.
step() {
	local status=0
	printf '\n$ fsmemcache %s\n' "$1"
	eval "./fsmemcache -c \"\$tmp/fsmemcache.cfg\" $1" >"$tmp/out" ||
	    status=$?
	cat "$tmp/out"
	# get and friends print no newline of their own
	if [ -s "$tmp/out" ] && [ "$(tail -c 1 "$tmp/out" | od -An -c)" != '  \n' ]; then
		echo
	fi
	printf '[exit %d]\n' "$status"
}

echo "memcached is listening on 127.0.0.1:$port for this demo."
step "set greeting 'hello world' 3600 1f"
step 'get greeting'
step 'getflags greeting'
step "add greeting 'not stored: the key exists'"
step 'increment hits'
step 'increment hits 10'
step 'decrement hits 100'
step "-e \"set freeswitch:test 'This is a test'\""
step 'get freeswitch:test'
step 'get no-such-key'
step "set 'bad key' value"
step 'delete greeting'
step 'status'
printf 'PNG\0binary\r\n' >"$tmp/value"
echo
echo '$ fsmemcache -x set blob < file-with-NUL-bytes'
./fsmemcache -c "$tmp/fsmemcache.cfg" -x set blob <"$tmp/value"
./fsmemcache -c "$tmp/fsmemcache.cfg" get blob | cmp -s - "$tmp/value" &&
    echo "get blob: the value came back byte for byte"
echo
echo "Exit status: 0 done, 1 not found, 2 not stored, 65 invalid data," \
    "69 unavailable; see fsmemcache(1)."
