#!/usr/bin/env bash
# A short tour of the memcache grammar against a throwaway local memcached.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Start memcached on a free loopback port: try ports until one binds.
user=()
if [ "$(id -u)" -eq 0 ]; then user=(-u root); fi
for _ in 1 2 3 4 5 6 7 8 9 10; do
	port=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
	memcached -l 127.0.0.1 -p "$port" -U 0 "${user[@]}" \
	    >"$tmp/memcached.log" 2>&1 &
	pid=$!
	deadline=$((SECONDS + 5))
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -le "$deadline" ]; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			break 2
		fi
		sleep 0.05
	done
	wait "$pid" 2>/dev/null || true
	pid=""
done
if [ -z "$pid" ]; then
	echo "demo: could not start memcached" >&2
	exit 1
fi
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
