# A throwaway memcached for the demo and the benchmark: started on a free
# loopback port, stopped on exit.
# shellcheck shell=bash

# Start memcached with extra arguments "$@", trying ports until one binds.
# Sets MC_PORT and MC_PID, and a temporary directory MC_TMP that the exit
# trap removes with the server.
throwaway_memcached() {
	local user=() deadline
	MC_TMP=$(mktemp -d)
	MC_PID=""
	trap throwaway_cleanup EXIT INT TERM
	if [ "$(id -u)" -eq 0 ]; then user=(-u root); fi
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		MC_PORT=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
		memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 "${user[@]}" "$@" \
		    >"$MC_TMP/memcached.log" 2>&1 &
		MC_PID=$!
		deadline=$((SECONDS + 5))
		while kill -0 "$MC_PID" 2>/dev/null &&
		    [ "$SECONDS" -le "$deadline" ]; do
			if (exec 3<>"/dev/tcp/127.0.0.1/$MC_PORT") 2>/dev/null; then
				return 0
			fi
			sleep 0.05
		done
		wait "$MC_PID" 2>/dev/null || true
		MC_PID=""
	done
	echo "could not start memcached" >&2
	return 1
}

# shellcheck disable=SC2317 # called by the trap
throwaway_cleanup() {
	if [ -n "${MC_PID-}" ]; then
		kill "$MC_PID" 2>/dev/null || true
		wait "$MC_PID" 2>/dev/null || true
	fi
	rm -rf "${MC_TMP-}"
}
