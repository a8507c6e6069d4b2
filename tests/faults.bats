#!/usr/bin/env bats
# Faults: no server listening, a server that stops answering, a server killed or restarted in the middle of a batch, failover, and signals.
# shellcheck disable=SC2154,SC2016 # bats' run --separate-stderr sets $stderr; awk programs in single quotes

load helper

# Servers: the file's own (MC_PORT, FSMC_CFG), one stopped with SIGSTOP
# that accepts connections but never answers (FROZEN_PORT), and a port
# where nothing listens (DEAD_PORT).  Tests that kill or restart servers
# start their own.
setup_file() {
	mc_spawn
	FROZEN_PORT=$MC_PORT
	FROZEN_PID=$MC_PID
	kill -STOP "$FROZEN_PID"
	DEAD_PORT=$(dead_port)
	mc_start
	export FROZEN_PORT FROZEN_PID DEAD_PORT
}

# A stopped process acts on SIGTERM only once it is continued.
teardown_file() {
	local pid
	if [ -f "$BATS_FILE_TMPDIR/memcached.pids" ]; then
		while read -r pid; do
			kill -CONT "$pid" 2>/dev/null || true
		done <"$BATS_FILE_TMPDIR/memcached.pids"
	fi
	mc_stop
}

# A run in the background that a test could not finish: end it.
teardown() {
	exec 7>&-
	if [ -n "${BG_PID-}" ] && kill -0 "$BG_PID" 2>/dev/null; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	BG_PID=
}

# fsmemcache itself, with no configuration from the environment: for
# runs in the background, whose PID must be fsmemcache's own.
FSMC_EXEC=(env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS "$FSMC_BIN")

# The commands that talk to a server, each with its arguments.
COMMANDS=("set k v" "add k v" "replace k v" "append k v" "prepend k v"
	"get k" "getflags k" "delete k" "increment k" "decrement k 2"
	"touch k 60" "status verbose")

# Milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# fsmc with the configuration file $1.
fsmc_cfg() {
	local FSMC_CFG=$1
	shift
	fsmc "$@"
}

# Write the lines given after the file name to the file.
write_cfg() {
	local file=$1
	shift
	printf '%s\n' "$@" >"$file"
}

# mc_raw against the server on port $1.
raw_at() {
	local MC_PORT=$1
	mc_raw "$2"
}

# One statistic of the server on port $1.
stat_at() {
	local MC_PORT=$1
	mc_stat "$2" | tr -d '\r'
}

# Poll until the server on port $1 holds at least $2 items; 10 s at most.
wait_items() {
	local port=$1 want=$2 deadline=$((SECONDS + 10)) n
	while :; do
		n=$(stat_at "$port" curr_items)
		[ "${n:-0}" -ge "$want" ] && return 0
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "the server on $port holds ${n:-0} items, not $want" >&2
			return 1
		fi
		sleep 0.02
	done
}

# Poll until the file's server holds the key $1; 5 s at most.
wait_key() {
	local deadline=$((SECONDS + 5))
	until [[ $(mc_raw "get $1") == VALUE* ]]; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "key $1 did not reach the server within 5 s" >&2
			return 1
		fi
		sleep 0.02
	done
}

# Poll until the servers on the ports given have run at least $1 set
# commands between them; 10 s at most.
wait_sets() {
	local want=$1 deadline=$((SECONDS + 10)) n p
	shift
	while :; do
		n=0
		for p in "$@"; do
			n=$((n + $(stat_at "$p" cmd_set)))
		done
		[ "$n" -ge "$want" ] && return 0
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "$n sets reached the servers, not $want" >&2
			return 1
		fi
		sleep 0.02
	done
}

# Kill the server $1 with SIGKILL, as a crash would, and reap it.
mc_crash() {
	sed -i "/^$1\$/d" "$BATS_FILE_TMPDIR/memcached.pids"
	kill -KILL "$1"
	wait "$1" 2>/dev/null || true
}

# Start a memcached on the port $1 again, with room for every set of
# sets_file; its PID in $MC_PID.
mc_restart() {
	local args=(-l 127.0.0.1 -p "$1" -U 0 -m 1024)
	if [ "$(id -u)" -eq 0 ]; then args+=(-u root); fi
	memcached "${args[@]}" >>"$BATS_FILE_TMPDIR/memcached.log" 2>&1 3>&- 7>&- &
	MC_PID=$!
	echo "$MC_PID" >>"$BATS_FILE_TMPDIR/memcached.pids"
	wait_port "$1" "$MC_PID"
}

# Run a command in the background, its output in the files stdout and
# stderr of the test's directory: bg_run CMD... reads /dev/null, and
# bg_fifo CMD... a FIFO that this shell holds open for writing on fd 7.
bg_run() {
	"$@" </dev/null >"$BATS_TEST_TMPDIR/stdout" \
	    2>"$BATS_TEST_TMPDIR/stderr" 3>&- &
	BG_PID=$!
}
bg_fifo() {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	exec 7<>"$BATS_TEST_TMPDIR/fifo"
	"$@" <"$BATS_TEST_TMPDIR/fifo" >"$BATS_TEST_TMPDIR/stdout" \
	    2>"$BATS_TEST_TMPDIR/stderr" 3>&- 7>&- &
	BG_PID=$!
}

# Wait up to $1 seconds for the background run to end by itself; its
# exit status in $BG_STATUS and its standard error in $stderr.  A run
# still going at the deadline is killed and the wait fails: a hang.
bg_wait() {
	local deadline=$((SECONDS + $1))
	while kill -0 "$BG_PID" 2>/dev/null && [ "$SECONDS" -le "$deadline" ]; do
		sleep 0.02
	done
	if kill -0 "$BG_PID" 2>/dev/null; then
		echo "still running after $1 s" >&2
		return 1
	fi
	BG_STATUS=0
	wait "$BG_PID" || BG_STATUS=$?
	BG_PID=
	stderr=$(cat "$BATS_TEST_TMPDIR/stderr")
}

# The counts of the summary, the last line of $stderr: lines, ok, not
# found, not stored, errors in $S_LINES, $S_OK, $S_NOTFOUND,
# $S_NOTSTORED, $S_ERRORS; fails unless it is a summary.
summary() {
	local re='^fsmemcache: ([0-9]+) lines?: ([0-9]+) ok, ([0-9]+) not found, ([0-9]+) not stored, ([0-9]+) errors?; [0-9]+\.[0-9]{3} s, [0-9]+ lines/s$'
	[[ ${stderr##*$'\n'} =~ $re ]] || return 1
	S_LINES=${BASH_REMATCH[1]}
	S_OK=${BASH_REMATCH[2]}
	S_NOTFOUND=${BASH_REMATCH[3]}
	S_NOTSTORED=${BASH_REMATCH[4]}
	S_ERRORS=${BASH_REMATCH[5]}
}

# $SETS set lines, "set PREFIX:N vN", in $BATS_TEST_TMPDIR/sets: enough
# that a pipelined batch is still running when a test kills its server.
SETS=1000000
sets_file() {
	seq 1 "$SETS" | awk -v p="$1" '{ print "set " p ":" $1 " v" $1 }' \
	    >"$BATS_TEST_TMPDIR/sets"
}

# Nothing listening.

@test "nothing listening: every command exits 69 within 1 s and standard error names the server" {
	local cfg=$BATS_TEST_TMPDIR/dead.cfg c t0 ms
	write_cfg "$cfg" "servers = \"127.0.0.1:$DEAD_PORT\";"
	for c in "${COMMANDS[@]}" flush; do
		t0=$(now_ms)
		# shellcheck disable=SC2086 # a command and its words
		run -69 --separate-stderr fsmc_cfg "$cfg" $c
		ms=$(($(now_ms) - t0))
		echo "$c: $ms ms: $stderr"
		[ "$ms" -lt 1000 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == "fsmemcache: ${c%% *}"*" (127.0.0.1:$DEAD_PORT)" ]]
	done
}

@test "nothing listening on a UNIX socket: exit 69 within 1 s, standard error names the socket" {
	local sock=$BATS_TEST_TMPDIR/none.sock t0 ms
	t0=$(now_ms)
	run -69 --separate-stderr fsmc -s "$sock" get k
	ms=$(($(now_ms) - t0))
	[ "$ms" -lt 1000 ]
	[ "$stderr" = "fsmemcache: get k: no such file or directory ($sock)" ]
}

@test "nothing listening, a batch of 100 lines: each line fails naming the server, exit 69 within 1 s" {
	local in=$BATS_TEST_TMPDIR/in t0 ms
	seq 1 100 | awk '{ print ($1 % 2 ? "set" : "get") " nl:" $1 " v" }' |
	    sed 's/^\(get nl:[0-9]*\) v$/\1/' >"$in"
	t0=$(now_ms)
	run -69 --separate-stderr fsmc -s "127.0.0.1:$DEAD_PORT" -f "$in"
	ms=$(($(now_ms) - t0))
	[ "$ms" -lt 1000 ]
	summary
	[ "$S_LINES" -eq 100 ]
	[ "$S_ERRORS" -eq 100 ]
	[ "$S_OK" -eq 0 ]
	[ "$(grep -c "^fsmemcache: line [0-9]*: .* (127.0.0.1:$DEAD_PORT)\$" <<<"$stderr")" -eq 100 ]
}

# A server that accepts connections but never answers.

@test "a stopped server, timeouts of 300 ms: every command and status verbose exit 69 within 1.1 s, naming the server" {
	local cfg=$BATS_TEST_TMPDIR/frozen.cfg c t0 ms
	write_cfg "$cfg" "servers = \"127.0.0.1:$FROZEN_PORT\";" \
	    'timeouts = { connect_ms = 300; io_ms = 300; };'
	for c in "${COMMANDS[@]}"; do
		t0=$(now_ms)
		# shellcheck disable=SC2086 # a command and its words
		run -69 --separate-stderr fsmc_cfg "$cfg" $c
		ms=$(($(now_ms) - t0))
		echo "$c: $ms ms: $stderr"
		[ "$ms" -lt 1100 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == "fsmemcache: ${c%% *}"*": timed out (127.0.0.1:$FROZEN_PORT)" ]]
	done
}

@test "a stopped server, timeouts of 300 ms: flush exits 69 within 1.1 s, naming the server" {
	local cfg=$BATS_TEST_TMPDIR/frozen.cfg t0 ms
	write_cfg "$cfg" "servers = \"127.0.0.1:$FROZEN_PORT\";" \
	    'timeouts = { connect_ms = 300; io_ms = 300; };'
	t0=$(now_ms)
	run -69 --separate-stderr fsmc_cfg "$cfg" flush
	ms=$(($(now_ms) - t0))
	[ "$ms" -lt 1100 ]
	[ "$stderr" = "fsmemcache: flush: timed out (127.0.0.1:$FROZEN_PORT)" ]
}

@test "a stopped server, the default timeouts of 1 s: get, set and status verbose exit 69 within 2.5 s" {
	local cfg=$BATS_TEST_TMPDIR/frozen-default.cfg c t0 ms
	write_cfg "$cfg" "servers = \"127.0.0.1:$FROZEN_PORT\";"
	for c in "get k" "set k v" "status verbose"; do
		t0=$(now_ms)
		# shellcheck disable=SC2086 # a command and its words
		run -69 --separate-stderr fsmc_cfg "$cfg" $c
		ms=$(($(now_ms) - t0))
		echo "$c: $ms ms"
		[ "$ms" -lt 2500 ]
		[[ $stderr == "fsmemcache: ${c%% *}"*": timed out (127.0.0.1:$FROZEN_PORT)" ]]
	done
}

@test "a stopped server, a batch of 4 lines with timeouts of 300 ms: the two lines in flight time out together, the increment after them times out, the fourth line is skipped at once, exit 69 within 2.3 s" {
	local cfg=$BATS_TEST_TMPDIR/frozen.cfg in=$BATS_TEST_TMPDIR/in t0 ms
	write_cfg "$cfg" "servers = \"127.0.0.1:$FROZEN_PORT\";" \
	    'timeouts = { connect_ms = 300; io_ms = 300; };'
	printf '%s\n' "set fb:1 a" "get fb:1" "increment fb:2" "set fb:3 c" >"$in"
	t0=$(now_ms)
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" -f "$in"
	ms=$(($(now_ms) - t0))
	[ "$ms" -lt 2300 ]
	out_is '-ERR A TIMEOUT OCCURRED\n-ERR A TIMEOUT OCCURRED\n-ERR A TIMEOUT OCCURRED\n-ERR A TIMEOUT OCCURRED\n'
	[ "${stderr_lines[0]}" = "fsmemcache: line 1: set fb:1: timed out (127.0.0.1:$FROZEN_PORT)" ]
	[ "${stderr_lines[1]}" = "fsmemcache: line 2: get fb:1: timed out (127.0.0.1:$FROZEN_PORT)" ]
	# A counter waits for the lines in flight before it: a failure of its own.
	[ "${stderr_lines[2]}" = "fsmemcache: line 3: increment fb:2: timed out (127.0.0.1:$FROZEN_PORT)" ]
	# Two failures in a row skip the server (failure_limit's default).
	[[ ${stderr_lines[3]} =~ ^"fsmemcache: line 4: set fb:3: server skipped until "[0-2][0-9]:[0-5][0-9]:[0-6][0-9]" UTC: timed out (127.0.0.1:$FROZEN_PORT)"$ ]]
	summary
	[ "$S_LINES" -eq 4 ]
	[ "$S_ERRORS" -eq 4 ]
}

# A server that dies, or restarts, in the middle of a batch.

@test "a server killed in the middle of 1M sets: no hang, exit 69, every line counted ok or reported failed" {
	local port pid
	sets_file kill
	mc_spawn
	port=$MC_PORT pid=$MC_PID
	bg_run "${FSMC_EXEC[@]}" -s "127.0.0.1:$port" -f "$BATS_TEST_TMPDIR/sets"
	wait_items "$port" 2000
	mc_crash "$pid"
	bg_wait 60
	[ "$BG_STATUS" -eq 69 ]
	summary
	echo "${stderr##*$'\n'}"
	[ "$S_LINES" -eq "$SETS" ]
	[ "$S_NOTFOUND" -eq 0 ]
	[ "$S_NOTSTORED" -eq 0 ]
	[ "$S_OK" -ge 2000 ]
	[ "$S_ERRORS" -ge 1 ]
	[ $((S_OK + S_ERRORS)) -eq "$SETS" ]
	# Success, then failure: the first $S_OK replies are +OK, the others
	# -ERR, one a line, and each failed line is reported by number.
	run -0 awk -v ok="$S_OK" '(NR <= ok && $0 != "+OK") || (NR > ok && !/^-ERR /) { print "reply " NR ": " $0; exit 1 } END { print NR }' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = "$SETS" ]
	run -0 awk -v ok="$S_OK" '/^fsmemcache: line / { n = $3 + 0; if (n != ok + ++c) { print "line " n " out of turn"; exit 1 } } END { print c }' "$BATS_TEST_TMPDIR/stderr"
	[ "$output" = "$S_ERRORS" ]
}

@test "a server killed and restarted in the middle of 1M sets: reconnected, and every set reported ok after the restart is on the new server" {
	local port pid a1 b a2
	local cfg=$BATS_TEST_TMPDIR/no-skip.cfg
	sets_file restart
	mc_spawn
	port=$MC_PORT pid=$MC_PID
	# retry_s = 0: the server is tried again at every line, never skipped
	# for a while, so that the batch sees it come back.
	write_cfg "$cfg" "servers = \"127.0.0.1:$port\";" \
	    'timeouts = { retry_s = 0; };'
	bg_run "${FSMC_EXEC[@]}" -c "$cfg" -f "$BATS_TEST_TMPDIR/sets"
	wait_items "$port" 2000
	mc_crash "$pid"
	mc_restart "$port"
	bg_wait 60
	[ "$BG_STATUS" -eq 69 ]
	summary
	echo "${stderr##*$'\n'}"
	[ "$S_LINES" -eq "$SETS" ]
	[ $((S_OK + S_ERRORS)) -eq "$SETS" ]
	# The replies: a run of +OK, a run of -ERR while the server was
	# down, and a run of +OK after it came back.
	run -0 awk '{ r = /^-ERR / ? "ERR" : $0 } r != last { printf "%s%s", n++ ? " " : "", r; last = r } END { print "" }' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = "+OK ERR +OK" ]
	a1=$(awk '$0 != "+OK" { print NR - 1; exit }' "$BATS_TEST_TMPDIR/stdout")
	b=$(awk -v a="$a1" 'NR > a && $0 == "+OK" { print NR - 1 - a; exit }' "$BATS_TEST_TMPDIR/stdout")
	a2=$((SETS - a1 - b))
	echo "$a1 ok, $b failed, $a2 ok after the restart"
	[ "$b" -eq "$S_ERRORS" ]
	# The restarted server started empty: it holds exactly the sets
	# reported ok after it came back, the last line's among them.
	[ "$(stat_at "$port" curr_items)" -eq "$a2" ]
	run -0 raw_at "$port" "get restart:$SETS"
	[ "$output" = "$(printf 'VALUE restart:%d 0 8\nv%d\nEND' "$SETS" "$SETS")" ]
}

# Failover.

@test "three servers, remove_failed_servers = true, failure_limit = 2, one killed: at most 2 failures, then every line succeeds on the others" {
	local cfg=$BATS_TEST_TMPDIR/three.cfg p1 p2 p3 pid2 i fails line
	mc_spawn
	p1=$MC_PORT
	mc_spawn
	p2=$MC_PORT pid2=$MC_PID
	mc_spawn
	p3=$MC_PORT
	write_cfg "$cfg" \
	    "servers = \"127.0.0.1:$p1, 127.0.0.1:$p2, 127.0.0.1:$p3\";" \
	    'failover = { remove_failed_servers = true; failure_limit = 2; };'
	bg_fifo "${FSMC_EXEC[@]}" -c "$cfg" -f -
	for i in $(seq 1 30); do printf 'set fo:%d v%d\n' "$i" "$i" >&7; done
	wait_sets 30 "$p1" "$p2" "$p3"
	mc_crash "$pid2"
	for i in $(seq 31 90); do printf 'set fo:%d v%d\n' "$i" "$i" >&7; done
	exec 7>&-
	bg_wait 20
	summary
	echo "${stderr##*$'\n'}"
	[ "$S_LINES" -eq 90 ]
	[ "$S_ERRORS" -le 2 ]
	[ "$S_ERRORS" -ge 1 ]
	[ "$BG_STATUS" -eq 69 ]
	# Every line after the last failure succeeded, and is stored on a
	# live server.
	fails=$(grep -c '^fsmemcache: line ' "$BATS_TEST_TMPDIR/stderr" || true)
	[ "$fails" -eq "$S_ERRORS" ]
	line=$(awk '/^-ERR / { n = NR } END { print n + 0 }' "$BATS_TEST_TMPDIR/stdout")
	for i in $(seq $((line + 1)) 90); do
		[[ $(raw_at "$p1" "get fo:$i")$(raw_at "$p3" "get fo:$i") == *"VALUE fo:$i 0 "* ]]
	done
}

@test "three servers, one killed: status lists all three, status verbose shows the dead one's error, exit 69" {
	local cfg=$BATS_TEST_TMPDIR/three.cfg p1 p2 p3 v
	v=$(lib_version)
	[ -n "$v" ]
	mc_spawn
	p1=$MC_PORT
	mc_spawn
	p2=$MC_PORT
	mc_crash "$MC_PID"
	mc_spawn
	p3=$MC_PORT
	write_cfg "$cfg" \
	    "servers = \"127.0.0.1:$p1, 127.0.0.1:$p2, 127.0.0.1:$p3\";" \
	    'failover = { remove_failed_servers = true; failure_limit = 2; };'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" status
	out_is "Lib version: $v\nServers: 3\n  127.0.0.1 ($p1)\n  127.0.0.1 ($p2)\n  127.0.0.1 ($p3)\n"
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" status verbose
	run -0 grep -A1 -F "  127.0.0.1 ($p2)" "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = "$(printf '  127.0.0.1 (%s)\n    error: CONNECTION FAILURE' "$p2")" ]
	run -0 grep -c '^    error: ' "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = 1 ]
}

# Signals.

@test "SIGINT during a batch ends it cleanly: the replies and the summary so far, exit 130" {
	# Started from a script, a background job ignores SIGINT: undo that.
	bg_fifo env --default-signal=INT -u FSMEMCACHE_CONFIG \
	    -u MEMCACHED_SERVERS "$FSMC_BIN" -c "$FSMC_CFG" -f -
	printf '%s\n' "set sig:int a" "get sig:int" "set sig:int2 b" >&7
	wait_key sig:int2
	kill -INT "$BG_PID"
	bg_wait 5
	[ "$BG_STATUS" -eq 130 ]
	printf '+OK\na\n+OK\n' | cmp - "$BATS_TEST_TMPDIR/stdout"
	summary
	[ "$S_LINES" -eq 3 ]
	[ "$S_OK" -eq 3 ]
}

@test "SIGTERM during a batch ends it cleanly: the replies and the summary so far, exit 143" {
	bg_fifo "${FSMC_EXEC[@]}" -c "$FSMC_CFG" -f -
	printf '%s\n' "set sig:term a" "get sig:term" "set sig:term2 b" >&7
	wait_key sig:term2
	kill -TERM "$BG_PID"
	bg_wait 5
	[ "$BG_STATUS" -eq 143 ]
	printf '+OK\na\n+OK\n' | cmp - "$BATS_TEST_TMPDIR/stdout"
	summary
	[ "$S_LINES" -eq 3 ]
	[ "$S_OK" -eq 3 ]
}

@test "SIGPIPE from | head ends an endless batch quietly: nothing on standard error, exit 141" {
	local err=$BATS_TEST_TMPDIR/stderr st=$BATS_TEST_TMPDIR/status
	run -0 fsmc set sig:pipe x
	# An endless input: only the closed pipe can end the run.
	run -0 timeout 20 bash -c 'yes "get sig:pipe" |
	    env --default-signal=PIPE -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    "$1" -c "$2" -f - 2>"$3" | head -n 1
	    echo "${PIPESTATUS[1]}" >"$4"' _ "$FSMC_BIN" "$FSMC_CFG" "$err" "$st"
	[ "$output" = x ]
	[ ! -s "$err" ]
	[ "$(cat "$st")" = 141 ]
}
