#!/usr/bin/env bats
# health, the monitoring-plugin check: verdicts, thresholds, figures over an interval, performance data, JSON and exit statuses 0 to 3.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

setup_file() {
	mc_start
	FILE_PID=$MC_PID
	export FILE_PID
}
teardown_file() { mc_stop; }

# Stop the filler, if any, and the servers the test started, at once:
# memcached takes about a second to shut down on SIGTERM, and they hold
# nothing worth keeping.
teardown() {
	local pid pids
	if [ -n "${FAKE_PID-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	if [ -n "${FILLER_PID-}" ]; then
		: >"$BATS_TEST_TMPDIR/stop"
		wait "$FILLER_PID" || true
	fi
	mapfile -t pids <"$BATS_FILE_TMPDIR/memcached.pids"
	for pid in "${pids[@]}"; do
		if [ "$pid" != "$FILE_PID" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			mc_kill "$pid"
		fi
	done
}

# Use the configuration file $1.
use_config() {
	FSMC_CFG=$1
}

# Run a command with its standard output on a full disk.
to_full() {
	"$@" >/dev/full
}

# The commands that fill the current server (started with -m 2) until it
# evicts: 200 values of 50,000 bytes over a 2 MiB cache.
fill_file() {
	local file=$BATS_TEST_TMPDIR/fill.txt value
	value=$(head -c 50000 /dev/zero | tr '\0' x)
	seq -f "set fill%g $value" 1 200 >"$file"
	echo "$file"
}

# Fill the current server until it evicts, once.
fill_server() {
	run -0 --separate-stderr fsmc --pipe -f "$(fill_file)"
	[ "$(mc_stat evictions)" -gt 0 ]
}

# Keep filling the current server in the background, so that it evicts
# all the time, until teardown stops it; return once it evicts.
keep_filling() {
	local file deadline=$((SECONDS + 10))
	file=$(fill_file)
	(while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do
		fsmc --pipe -f "$file" >/dev/null 2>&1 || true
	done) 3>&- &
	FILLER_PID=$!
	until [ "$(mc_stat evictions)" -gt 0 ]; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "the server did not evict within 10 s" >&2
			return 1
		fi
		sleep 0.05
	done
}

# Stop the filler and wait until it has ended.
stop_filling() {
	: >"$BATS_TEST_TMPDIR/stop"
	wait "$FILLER_PID"
	FILLER_PID=
}

# The current server's memory in health's form, e.g. 100.0: the slab
# pages it took (total_malloced) against limit_maxbytes, at most 100%.
memory_pct() {
	awk -v m="$(mc_raw 'stats slabs' | sed -n 's/^STAT total_malloced //p')" \
	    -v l="$(mc_stat limit_maxbytes)" \
	    'BEGIN { p = 100 * m / l; if (p > 100) p = 100; printf "%.1f", p }'
}

# The current server's bytes against limit_maxbytes, the figure health
# used to judge memory by, e.g. 90.7.
bytes_pct() {
	awk -v b="$(mc_stat bytes)" -v l="$(mc_stat limit_maxbytes)" \
	    'BEGIN { printf "%.1f", 100 * b / l }'
}

# The pattern of health's line for a server that is up: port, hit ratio,
# evictions per second, evictions since start, memory % and MiB, each
# already a pattern.
up_re() {
	local version
	version=$(mc_stat version)
	printf '^  127\\.0\\.0\\.1:%s up: version %s, uptime [0-9]+ s, [0-9]+ connections?, hit ratio %s, evictions %s/s \\(%s since start\\), memory %s%% of %s MiB, response [0-9]+\\.[0-9]{2} ms$' \
	    "$1" "${version//./\\.}" "$2" "$3" "$4" "$5" "$6"
}

# The pattern of the performance data of a server: port, then hit ratio,
# evictions and memory, each as "VALUE;WARN;CRIT" patterns.
perf_re() {
	local p="127\\.0\\.0\\.1:$1"
	printf '%s_hit=%s;0;100 %s_evictions=%s;0 %s_memory=%s;0;100 %s_connections=[0-9]+;;;0;1024 %s_time=0\\.[0-9]{6}s;;;0' \
	    "$p" "$2" "$p" "$3" "$p" "$4" "$p" "$p"
}

# Whether the verdict line, the first that to_file kept, is $1 followed
# by the performance data $2 (a pattern) of the servers up.
verdict_is() {
	local first
	first=$(head -n 1 "$BATS_TEST_TMPDIR/stdout")
	[ "${first%% | *}" = "$1" ]
	[[ "${first#* | }" =~ ^$2$ ]]
}

# The lines that to_file kept, in the array got; fails unless standard
# output ends in a newline.
kept_lines() {
	local out=$BATS_TEST_TMPDIR/stdout
	[ "$(tail -c 1 "$out" | od -An -c)" = "  \\n" ]
	mapfile -t got <"$out"
}

# Milliseconds since the epoch.
now_ms() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo $((t / 1000))
}

# Print, as JSON, what the Python expression $1 gives for the object o
# that the standard output to_file kept holds, on one line.
jkept() {
	python3 -c '
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert len(lines) == 2 and lines[1] == b"", "not one line of JSON"
o = json.loads(lines[0])
print(json.dumps(eval(sys.argv[2])))
' "$BATS_TEST_TMPDIR/stdout" "$1"
}

# Give the server a hit ratio of 50%: one hit, one miss.
half_hits() {
	run -0 fsmc set "h$BATS_TEST_NUMBER" v
	run -0 fsmc get "h$BATS_TEST_NUMBER"
	run -1 fsmc get "h$BATS_TEST_NUMBER-missing"
}

# ---- verdicts and figures ----

@test "health of a fresh server: OK with performance data, exit 0, and a line of its figures" {
	own_server
	run -0 --separate-stderr fsmc_out health
	[ "$stderr" = "" ]
	kept_lines
	[ "${#got[@]}" -eq 2 ]
	verdict_is "MEMCACHE OK: 1 of 1 server up" \
	    "$(perf_re "$MC_PORT" 'U;;' '0\.00;;' '0\.0%;;')"
	[[ "${got[1]}" =~ $(up_re "$MC_PORT" n/a '0\.00' 0 '0\.0' 64) ]]
}

@test "health of two servers that are up: OK, both in the performance data, one line each, in order" {
	local first
	own_server
	first=$MC_PORT
	mc_spawn
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d";\n' "$first" "$MC_PORT" \
	    >"$FSMC_CFG"
	run -0 --separate-stderr fsmc_out health
	[ "$stderr" = "" ]
	kept_lines
	[ "${#got[@]}" -eq 3 ]
	verdict_is "MEMCACHE OK: 2 of 2 servers up" \
	    "$(perf_re "$first" 'U;;' '0\.00;;' '0\.0%;;') $(perf_re "$MC_PORT" 'U;;' '0\.00;;' '0\.0%;;')"
	[[ "${got[1]}" =~ $(up_re "$first" n/a '0\.00' 0 '0\.0' 64) ]]
	[[ "${got[2]}" =~ $(up_re "$MC_PORT" n/a '0\.00' 0 '0\.0' 64) ]]
}

@test "health shows the hit ratio of the server's gets since it started" {
	own_server
	run -0 fsmc set h1 v
	run -0 fsmc get h1
	run -1 fsmc get h1-missing
	run -0 fsmc get h1
	run -0 --separate-stderr fsmc_out health
	[ "$stderr" = "" ]
	kept_lines
	verdict_is "MEMCACHE OK: 1 of 1 server up" \
	    "$(perf_re "$MC_PORT" '66\.7%;;' '0\.00;;' '[0-9.]+%;;')"
	[[ "${got[1]}" =~ $(up_re "$MC_PORT" '66\.7%' '0\.00' 0 '[0-9]+\.[0-9]' 64) ]]
}

@test "performance data: monitoring-plugins' label=value[UOM];warn;crit;min;max, thresholds as ranges" {
	own_server
	half_hits
	run -1 --separate-stderr fsmc_out --warn hit=60,evictions=5,memory=90 \
	    --crit hit=40,evictions=10,memory=98 health
	verdict_is "MEMCACHE WARNING: 127.0.0.1:$MC_PORT hit ratio 50.0% below 60%" \
	    "$(perf_re "$MC_PORT" '50\.0%;60:;40:' '0\.00;5;10' '[0-9]+\.[0-9]%;90;98')"
}

@test "health: a hit ratio below --warn is a WARNING, exit 1" {
	own_server
	half_hits
	run -1 --separate-stderr fsmc_out --warn hit=60 health
	[ "$stderr" = "" ]
	kept_lines
	[ "${#got[@]}" -eq 2 ]
	[ "${got[0]%% | *}" = "MEMCACHE WARNING: 127.0.0.1:$MC_PORT hit ratio 50.0% below 60%" ]
	[[ "${got[1]}" =~ $(up_re "$MC_PORT" '50\.0%' '0\.00' 0 '[0-9]+\.[0-9]' 64) ]]
}

@test "health: a hit ratio below --crit is CRITICAL, exit 2, whatever --warn says" {
	own_server
	half_hits
	run -2 --separate-stderr fsmc_out --crit hit=60 health
	[ "$stderr" = "" ]
	kept_lines
	[ "${#got[@]}" -eq 2 ]
	[ "${got[0]%% | *}" = "MEMCACHE CRITICAL: 127.0.0.1:$MC_PORT hit ratio 50.0% below 60%" ]
	run -2 --separate-stderr fsmc_out --warn hit=90 --crit hit=60 health
	kept_lines
	[ "${got[0]%% | *}" = "MEMCACHE CRITICAL: 127.0.0.1:$MC_PORT hit ratio 50.0% below 60%" ]
}

@test "health: a hit ratio above both thresholds is OK, exit 0" {
	own_server
	half_hits
	run -0 --separate-stderr fsmc_out --warn hit=50 --crit hit=40 health
	[ "$stderr" = "" ]
	kept_lines
	[ "${got[0]%% | *}" = "MEMCACHE OK: 1 of 1 server up" ]
}

@test "health judges memory by the slab pages memcached took (total_malloced), not by the bytes of its items" {
	local pct
	own_server -m 2
	fill_server
	pct=$(memory_pct)
	[ "$pct" = 100.0 ]
	# The bytes of the items stay under 95% of the limit as it evicts.
	awk -v b="$(bytes_pct)" 'BEGIN { exit !(b < 95) }'
	run -2 --separate-stderr fsmc_out --crit memory=95 health
	[ "$stderr" = "" ]
	kept_lines
	[ "${#got[@]}" -eq 2 ]
	[ "${got[0]%% | *}" = "MEMCACHE CRITICAL: 127.0.0.1:$MC_PORT memory 100.0% above 95%" ]
	[[ "${got[1]}" =~ $(up_re "$MC_PORT" n/a '0\.00' "$(mc_stat evictions)" '100\.0' 2) ]]
	run -1 --separate-stderr fsmc_out --warn memory=95 health
	kept_lines
	[ "${got[0]%% | *}" = "MEMCACHE WARNING: 127.0.0.1:$MC_PORT memory 100.0% above 95%" ]
}

@test "health: memory=0 makes the first page memcached takes cross the threshold" {
	local pct
	own_server
	run -0 --separate-stderr fsmc_out --crit memory=0 health
	kept_lines
	[ "${got[0]%% | *}" = "MEMCACHE OK: 1 of 1 server up" ]
	run -0 fsmc set h5 v
	pct=$(memory_pct)
	[ "$pct" = 1.6 ]
	run -2 --separate-stderr fsmc_out --crit memory=0 health
	[ "$stderr" = "" ]
	kept_lines
	[ "${got[0]%% | *}" = "MEMCACHE CRITICAL: 127.0.0.1:$MC_PORT memory 1.6% above 0%" ]
	run -1 --separate-stderr fsmc_out --warn memory=0 health
	kept_lines
	[ "${got[0]%% | *}" = "MEMCACHE WARNING: 127.0.0.1:$MC_PORT memory 1.6% above 0%" ]
}

@test "health: evictions per second are those between its two samples, not since the server started" {
	own_server -m 2
	fill_server
	# Evictions long ago, none now: no rate.
	run -0 --separate-stderr fsmc_out --crit evictions=0 -i 0.2 health
	[ "$stderr" = "" ]
	kept_lines
	[ "${got[0]%% | *}" = "MEMCACHE OK: 1 of 1 server up" ]
	[[ "${got[1]}" =~ $(up_re "$MC_PORT" n/a '0\.00' "$(mc_stat evictions)" '100\.0' 2) ]]
}

@test "health: evictions per second in the interval above --warn are a WARNING, above --crit CRITICAL" {
	own_server -m 2
	keep_filling
	run -1 --separate-stderr fsmc_out --warn evictions=0 -i 0.3 health
	[ "$stderr" = "" ]
	kept_lines
	[ "${#got[@]}" -eq 2 ]
	[[ "${got[0]%% | *}" =~ ^MEMCACHE\ WARNING:\ 127\.0\.0\.1:$MC_PORT\ [0-9]+\.[0-9]{2}\ evictions/s\ above\ 0$ ]]
	[[ "${got[1]}" =~ $(up_re "$MC_PORT" n/a '[0-9]+\.[0-9]{2}' '[0-9]+' '100\.0' 2) ]]
	run -2 --separate-stderr fsmc_out --crit evictions=0 -i 0.3 health
	kept_lines
	[[ "${got[0]%% | *}" =~ ^MEMCACHE\ CRITICAL:\ 127\.0\.0\.1:$MC_PORT\ [0-9]+\.[0-9]{2}\ evictions/s\ above\ 0$ ]]
	run -0 --separate-stderr fsmc_out --crit evictions=1000000 -i 0.3 health
	kept_lines
	[ "${got[0]%% | *}" = "MEMCACHE OK: 1 of 1 server up" ]
	stop_filling
}

@test "health: several problems are listed in one verdict, separated by '; '" {
	own_server -m 2
	keep_filling
	run -2 --separate-stderr fsmc_out --crit evictions=0,memory=50 -i 0.3 health
	kept_lines
	[[ "${got[0]%% | *}" =~ ^MEMCACHE\ CRITICAL:\ 127\.0\.0\.1:$MC_PORT\ [0-9]+\.[0-9]{2}\ evictions/s\ above\ 0\;\ 127\.0\.0\.1:$MC_PORT\ memory\ 100\.0%\ above\ 50%$ ]]
	stop_filling
}

@test "health: a response slower than --warn latency=MS is a WARNING, than --crit CRITICAL, named in the verdict" {
	own_server
	# Every response takes more than 0 ms.
	run -1 --separate-stderr fsmc_out -i 0.1 --warn latency=0 health
	kept_lines
	[[ "${got[0]%% | *}" =~ ^MEMCACHE\ WARNING:\ 127\.0\.0\.1:$MC_PORT\ response\ [0-9]+\.[0-9]{2}\ ms\ above\ 0\ ms$ ]]
	run -2 --separate-stderr fsmc_out -i 0.1 --warn latency=0 --crit latency=0 health
	kept_lines
	[[ "${got[0]%% | *}" =~ ^MEMCACHE\ CRITICAL:\ 127\.0\.0\.1:$MC_PORT\ response\ [0-9]+\.[0-9]{2}\ ms\ above\ 0\ ms$ ]]
	run -0 --separate-stderr fsmc_out -i 0.1 --warn latency=60000 --crit latency=60000 health
	kept_lines
	[ "${got[0]%% | *}" = "MEMCACHE OK: 1 of 1 server up" ]
}

@test "health: a server that answers slowly crosses --crit latency; the limits are in the performance data, in seconds" {
	local dir deadline=$((SECONDS + 10)) port
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	# Statistics a byte every 5 ms: 68 bytes, at least 335 ms.
	python3 "$BATS_TEST_DIRNAME/fake-memcached.py" --port-file "$dir/port" \
	    --mode drip --interval 0.005 --target stats --lifetime 60 \
	    >"$dir/output" 2>&1 3>&- &
	FAKE_PID=$!
	until [ -s "$dir/port" ]; do
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.01
	done
	read -r port <"$dir/port"
	run -2 --separate-stderr to_file env -u FSMEMCACHE_CONFIG "$FSMC_BIN" \
	    -c /dev/null -s "127.0.0.1:$port" -t 5000 -i 0.1 \
	    --warn latency=100 --crit latency=300 health
	kept_lines
	[[ "${got[0]%% | *}" =~ ^MEMCACHE\ CRITICAL:\ 127\.0\.0\.1:$port\ response\ [0-9]+\.[0-9]{2}\ ms\ above\ 300\ ms$ ]]
	[[ "${got[0]#* | }" =~ \ 127\.0\.0\.1:${port}_time=[0-9]\.[0-9]{6}s\;0\.1\;0\.3\;0$ ]]
	[[ "${got[1]}" =~ ,\ response\ [0-9]+\.[0-9]{2}\ ms$ ]]
}

# ---- the interval ----

@test "health -i SECONDS takes its two samples SECONDS apart, once; the default is 1 s" {
	local start elapsed
	own_server
	start=$(now_ms)
	run -0 --separate-stderr fsmc_out -i 0.4 health
	elapsed=$(($(now_ms) - start))
	kept_lines
	[ "${#got[@]}" -eq 2 ]
	[ "$elapsed" -ge 400 ]
	[ "$elapsed" -lt 1400 ]
	start=$(now_ms)
	run -0 --separate-stderr fsmc_out health
	elapsed=$(($(now_ms) - start))
	[ "$elapsed" -ge 1000 ]
	[ "$elapsed" -lt 2000 ]
	run -0 --separate-stderr fsmc_out --json -i 0.25 health
	run -0 jkept '0.25 <= o["servers"][0]["interval_s"] < 1.25'
	[ "$output" = true ]
}

@test "health -r 2 -i 0.3: two verdicts, each over its own interval, with no other pause" {
	local start elapsed
	own_server
	start=$(now_ms)
	run -0 --separate-stderr fsmc_out -r 2 -i 0.3 health
	elapsed=$(($(now_ms) - start))
	kept_lines
	[ "${#got[@]}" -eq 4 ]
	[ "${got[0]%% | *}" = "MEMCACHE OK: 1 of 1 server up" ]
	[ "${got[2]%% | *}" = "MEMCACHE OK: 1 of 1 server up" ]
	[ "$elapsed" -ge 600 ]
	[ "$elapsed" -lt 1500 ]
}

@test "health -i 0: UNKNOWN, exit 3, as is a bad interval" {
	local seconds
	for seconds in 0 0.0; do
		run -3 --separate-stderr fsmc_out -i "$seconds" health
		out_is "MEMCACHE UNKNOWN: -i: bad interval '$seconds' for health (seconds above 0)\n"
		[ "$stderr" = "" ]
	done
	run -3 --separate-stderr fsmc_out -i abc health
	out_is "MEMCACHE UNKNOWN: -i: bad interval 'abc' (see fsmemcache -h)\n"
}

# ---- JSON ----

@test "health --json carries the verdict and the exit status of the process" {
	own_server
	run -0 --separate-stderr fsmc_out --json health
	run -0 jkept '[o["command"], o["status"], o["exit"], o["summary"]]'
	[ "$output" = '["health", "ok", 0, "1 of 1 server up"]' ]
	half_hits
	run -1 --separate-stderr fsmc_out --json --warn hit=80 health
	run -0 jkept '[o["status"], o["exit"], o["summary"]]'
	[ "$output" = "[\"warning\", 1, \"127.0.0.1:$MC_PORT hit ratio 50.0% below 80%\"]" ]
	run -0 jkept '[sorted(o["servers"][0]), o["servers"][0]["hit_ratio"], o["servers"][0]["up"]]'
	[ "$output" = '[["connections", "evictions_per_s", "hit_ratio", "host", "interval_s", "memory", "port", "response_s", "stats", "up"], 50.0, true]' ]
	run -2 --separate-stderr fsmc_out --json --crit hit=80 health
	run -0 jkept '[o["status"], o["exit"]]'
	[ "$output" = '["critical", 2]' ]
}

@test "health --json with a server down: critical, exit 2 in the JSON and for the process" {
	own_server
	dead_first
	run -2 --separate-stderr fsmc_out --json health
	run -0 jkept '[o["status"], o["exit"], o["summary"], [s["up"] for s in o["servers"]], o["servers"][0]["error"]]'
	[ "$output" = "[\"critical\", 2, \"127.0.0.1:$DEAD_PORT down\", [false, true], \"CONNECTION FAILURE\"]" ]
	run -0 jkept 'o["message"]'
	[ "$output" = "\"health: connection refused (127.0.0.1:$DEAD_PORT)\"" ]
}

@test "health --json when the check cannot run: unknown, exit 3, and why" {
	use_config /nonexistent
	run -3 --separate-stderr fsmc_out --json health
	run -0 jkept 'o'
	[ "$output" = '{"command": "health", "status": "unknown", "exit": 3, "message": "/nonexistent: No such file or directory"}' ]
	[ "$stderr" = "" ]
	run -3 --separate-stderr fsmc_out --json --warn hit=x health
	run -0 jkept '[o["status"], o["exit"], o["message"]]'
	[ "$output" = "[\"unknown\", 3, \"--warn: bad threshold in 'hit=x' (hit=PERCENT, evictions=PER_SECOND, memory=PERCENT, latency=MS)\"]" ]
}

# ---- exit statuses 0 to 3 only ----

@test "health: bad thresholds are UNKNOWN on standard output, exit 3" {
	local limits
	for limits in hit=abc foo=1 hit=101 hit= hit memory=101 evictions=-1 \
	    hit=50,bar=2 evictions=inf evictions=nan hit=+5 evictions=1e999 \
	    latency=-1 latency=fast; do
		run -3 --separate-stderr fsmc_out --warn "$limits" health
		stdout_is "MEMCACHE UNKNOWN: --warn: bad threshold in '$limits' (hit=PERCENT, evictions=PER_SECOND, memory=PERCENT, latency=MS)"$'\n'
		[ "$stderr" = "" ]
		run -3 --separate-stderr fsmc_out --crit "$limits" health
		stdout_is "MEMCACHE UNKNOWN: --crit: bad threshold in '$limits' (hit=PERCENT, evictions=PER_SECOND, memory=PERCENT, latency=MS)"$'\n'
		[ "$stderr" = "" ]
	done
}

@test "health: a --warn limit beyond the --crit limit is UNKNOWN, exit 3, nothing checked" {
	local conns
	conns=$(mc_stat total_connections)
	run -3 --separate-stderr fsmc_out --warn hit=50 --crit hit=80 health
	stdout_is $'MEMCACHE UNKNOWN: --warn hit=50 is below --crit hit=80\n'
	[ "$stderr" = "" ]
	run -3 --separate-stderr fsmc_out --crit evictions=10 --warn evictions=10.5 health
	stdout_is $'MEMCACHE UNKNOWN: --warn evictions=10.5 is above --crit evictions=10\n'
	[ "$stderr" = "" ]
	run -3 --separate-stderr fsmc_out --warn hit=90,memory=95 --crit hit=50,memory=90 health
	stdout_is $'MEMCACHE UNKNOWN: --warn memory=95 is above --crit memory=90\n'
	[ "$stderr" = "" ]
	run -3 --separate-stderr fsmc_out --warn latency=500 --crit latency=200 health
	stdout_is $'MEMCACHE UNKNOWN: --warn latency=500 is above --crit latency=200\n'
	[ "$stderr" = "" ]
	# Only the two mc_stat queries connected.
	[ "$(mc_stat total_connections)" = "$((conns + 1))" ]
}

@test "health: equal --warn and --crit limits, or limits of different figures, are accepted" {
	run -0 --separate-stderr fsmc -i 0.1 --warn hit=0,memory=100 --crit hit=0,memory=100 health
	[ "${lines[0]%% | *}" = "MEMCACHE OK: 1 of 1 server up" ]
	run -0 --separate-stderr fsmc -i 0.1 --warn memory=100 --crit hit=0 health
	[ "${lines[0]%% | *}" = "MEMCACHE OK: 1 of 1 server up" ]
}

@test "--warn and --crit with a command other than health: usage, exit 64" {
	run -64 --separate-stderr fsmc_out --warn hit=50 get "k$BATS_TEST_NUMBER"
	stdout_is ""
	[ "$stderr" = "fsmemcache: --warn and --crit go with health (see fsmemcache -h)" ]
}

@test "health with a bad option or option value: UNKNOWN on standard output, exit 3, where other commands exit 64" {
	run -3 --separate-stderr fsmc_out -t abc health
	out_is "MEMCACHE UNKNOWN: -t: bad timeout 'abc' (milliseconds from 1 to 3600000)\n"
	[ "$stderr" = "" ]
	run -64 --separate-stderr fsmc_out -t abc get k
	[ "$stderr" = "fsmemcache: -t: bad timeout 'abc' (milliseconds from 1 to 3600000)" ]
	run -3 --separate-stderr fsmc_out -r x health
	out_is "MEMCACHE UNKNOWN: -r: bad count 'x' (see fsmemcache -h)\n"
	run -3 --separate-stderr fsmc_out --bogus health
	out_is "MEMCACHE UNKNOWN: unknown option --bogus (see fsmemcache -h)\n"
	run -3 --separate-stderr fsmc_out -n health
	out_is "MEMCACHE UNKNOWN: -n takes no command words; unexpected argument 'health' (see fsmemcache -h)\n"
	run -3 --separate-stderr fsmc_out -e 'health x'
	out_is "MEMCACHE UNKNOWN: health: too many arguments\n"
}

@test "health with a missing configuration file: UNKNOWN on standard output, exit 3" {
	use_config /nonexistent
	run -3 --separate-stderr fsmc_out health
	out_is 'MEMCACHE UNKNOWN: /nonexistent: No such file or directory\n'
	[ "$stderr" = "" ]
}

@test "health with an argument: UNKNOWN, exit 3" {
	run -3 --separate-stderr fsmc_out health extra
	out_is 'MEMCACHE UNKNOWN: health: too many arguments\n'
	[ "$stderr" = "fsmemcache: health: too many arguments" ]
}

@test "health into a full disk (/dev/full): UNKNOWN's exit 3, not 74 or 70, and why on standard error" {
	run -3 --separate-stderr to_full fsmc -i 0.1 health
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: standard output: No space left on device" ]
	run -3 --separate-stderr to_full fsmc -i 0.1 --json health
	[ "$stderr" = "fsmemcache: standard output: No space left on device" ]
	run -3 --separate-stderr to_full fsmc -t abc health
	[ "$stderr" = "fsmemcache: standard output: No space left on device" ]
	use_config /nonexistent
	run -3 --separate-stderr to_full fsmc health
	[ "$stderr" = "fsmemcache: standard output: No space left on device" ]
	# Other commands keep their exit status for it.
	use_config "$BATS_FILE_TMPDIR/fsmemcache.cfg"
	run -74 --separate-stderr to_full fsmc status
}

# ---- servers down ----

@test "health of a dead server: CRITICAL, exit 2, no performance data" {
	local dead
	dead=$(free_port)
	use_config "$BATS_TEST_TMPDIR/dead.cfg"
	printf 'servers = "127.0.0.1:%d";\n' "$dead" >"$BATS_TEST_TMPDIR/dead.cfg"
	run -2 --separate-stderr fsmc_out health
	out_is "MEMCACHE CRITICAL: 127.0.0.1:$dead down\n  127.0.0.1:$dead down: CONNECTION FAILURE\n"
	[ "$stderr" = "fsmemcache: health: connection refused (127.0.0.1:$dead)" ]
}

@test "health with one server down and one up: CRITICAL, exit 2, both listed, the live one's performance data" {
	own_server
	dead_first
	run -2 --separate-stderr fsmc_out health
	[ "$stderr" = "fsmemcache: health: connection refused (127.0.0.1:$DEAD_PORT)" ]
	kept_lines
	[ "${#got[@]}" -eq 3 ]
	verdict_is "MEMCACHE CRITICAL: 127.0.0.1:$DEAD_PORT down" \
	    "$(perf_re "$MC_PORT" 'U;;' '0\.00;;' '0\.0%;;')"
	[ "${got[1]}" = "  127.0.0.1:$DEAD_PORT down: CONNECTION FAILURE" ]
	[[ "${got[2]}" =~ $(up_re "$MC_PORT" n/a '0\.00' 0 '0\.0' 64) ]]
}

@test "health of a stopped server: CRITICAL, exit 2, within the timeout, without waiting the interval" {
	local start elapsed
	own_server
	kill -STOP "$MC_PID"
	start=$(now_ms)
	run -2 --separate-stderr to_file timeout 10 \
	    env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    "$FSMC_BIN" -c "$FSMC_CFG" -i 5 health
	elapsed=$(($(now_ms) - start))
	kill -CONT "$MC_PID"
	out_is "MEMCACHE CRITICAL: 127.0.0.1:$MC_PORT down\n  127.0.0.1:$MC_PORT down: A TIMEOUT OCCURRED\n"
	[ "$stderr" = "fsmemcache: health: timed out (127.0.0.1:$MC_PORT)" ]
	# Timeouts of 1 s by default: well under 3 s.
	[ "$elapsed" -lt 3000 ]
}

# ---- one verdict for every front end ----

@test "health in a batch prints the verdict, as the FreeSWITCH module does, not the statistics" {
	own_server
	run -0 --separate-stderr to_file fsmc -f - <<<"health"
	kept_lines
	[ "${#got[@]}" -eq 2 ]
	[ "${got[0]%% | *}" = "MEMCACHE OK: 1 of 1 server up" ]
	[[ "${got[1]}" =~ $(up_re "$MC_PORT" n/a '0\.00' 0 '0\.0' 64) ]]
}

@test "health --binary reads total_malloced from the binary protocol's stats slabs too" {
	own_server
	run -0 fsmc set h1 v
	run -2 --separate-stderr fsmc_out --binary --crit memory=0 -i 0.1 health
	[ "$stderr" = "" ]
	kept_lines
	[ "${got[0]%% | *}" = "MEMCACHE CRITICAL: 127.0.0.1:$MC_PORT memory 1.6% above 0%" ]
}
