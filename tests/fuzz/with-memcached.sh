#!/usr/bin/env bash
# Run a command against a memcached of its own: start memcached on a free
# loopback port, replace @SERVER@ in the arguments with 127.0.0.1:PORT
# and @PORT@ with PORT, run the command, stop memcached, and exit with
# the command's status.
#
#	bash tests/fuzz/with-memcached.sh command [argument ...]
set -u

pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

args=(-l 127.0.0.1 -U 0 -t 4 -c 4096)
if [ "$(id -u)" -eq 0 ]; then args+=(-u root); fi
for try in 1 2 3 4 5 6 7 8 9 10; do
	port=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
	memcached "${args[@]}" -p "$port" >/dev/null 2>&1 &
	pid=$!
	deadline=$((SECONDS + 5))
	while [ "$SECONDS" -le "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			break 2
		fi
		sleep 0.05
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
	: "port $port unavailable after try $try"
done
if [ -z "$pid" ]; then
	echo "with-memcached: could not start memcached" >&2
	exit 69
fi

cmd=()
for arg in "$@"; do
	arg=${arg//@SERVER@/127.0.0.1:$port}
	cmd+=("${arg//@PORT@/$port}")
done
"${cmd[@]}"
status=$?
cleanup
pid=
exit "$status"
