#!/usr/bin/env bats
# Hostile servers: every command, alone, in batches, piped and in JSON, against a fake memcached that answers wrongly, floods, stalls or resets, each ending in its documented reply and exit status within its deadline and in bounded memory.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

FAKE=$BATS_TEST_DIRNAME/fake-memcached.py

# How much longer than its -t deadline a run may take, and the most
# memory (KiB) it may use, whatever the server sends.
SLACK_MS=500
RSS_MAX_KIB=$((64 * 1024))

# The commands that take a key, and flush, with their arguments.
KEY_CMDS=("set k v" "add k v" "replace k v" "append k v" "prepend k v"
	"get k" "getflags k" "delete k" "increment k" "decrement k"
	"touch k 10" "flush")
# The same in an order that keeps get and getflags apart, so that a batch
# sends each in a request of its own.
BATCH_CMDS=("set k v" "get k" "add k v" "getflags k" "replace k v"
	"delete k" "append k v" "increment k" "prepend k v" "decrement k"
	"touch k 10" "flush")
# The commands that read lists: statistics or keys.
LIST_CMDS=("status verbose" "health" "keys")

# The requests that carry a command's own reply.  A fake started with
# "targeted" answers only these as its mode says, and others (version,
# verbosity) as memcached would, so that the reply under test is the
# one to the command itself.
TARGETS=(set add replace append prepend cas get gets gat gats delete incr
	decr touch flush_all stats lru_crawler mg ms md ma)

# Fixed replies, each with the commands whose protocol allows it and
# what it means to them (COMMAND=CLASS, see want()).  To every other
# command it is a protocol error.  The class "-" leaves a command out
# where the protocol leaves the meaning open.
ALLOWED=(
	'END' 'get=notfound getflags=notfound'
	'DELETED' 'delete=ok'
	'NOT_FOUND' 'delete=notfound touch=notfound set=- add=- replace=- append=- prepend=- increment=- decrement=-'
	'NOT_STORED' 'add=notstored replace=notstored append=notstored prepend=notstored set=-'
	'STORED' 'set=ok add=ok replace=ok append=ok prepend=ok'
	'TOUCHED' 'touch=ok'
	'OK' 'flush=ok'
	'VERSION 1' ''
	'STAT a b' ''
	'VALUE k 0 1\r\nx\r\nEND' 'get=ok getflags=ok'
	'5' 'increment=ok decrement=ok'
)

# Fixed replies that no command allows.
MALFORMED=(
	'VALUE other 0 1\r\nx\r\nEND'      # a value for another key
	'VALUE k -1 -5\r\nx\r\nEND'        # negative flags and length
	'VALUE k 4294967296 1\r\nx\r\nEND' # flags over 32 bits
	'VALUE k 0 1\r\nxy\r\nEND'         # more data than announced
	'abc'                              # a counter that is not a number
	'-5'                               # a negative counter
	'18446744073709551616'             # a counter over 64 bits
	''                                 # an empty line
)

# Error replies and their classes.
ERRORS=('ERROR' error 'CLIENT_ERROR x' client 'SERVER_ERROR x' server)

# The libmemcached version that status verbose shows, and the Python
# interpreter itself, not a wrapper that finds it, so that a fake starts
# in milliseconds.
setup_file() {
	LIBV=$(lib_version)
	PY=$(python3 -c 'import sys; print(sys.executable)')
	export LIBV PY
}

teardown_file() { mc_stop; }

setup() {
	FAILS=0
	CASES=0
	T=300
	BUDGET_MS=
	FAKE_PIDS=()
	BATCH_OPTS=()
}

# Stop what a test started and has not stopped: a run in the background
# and the fakes.
teardown() {
	local pid
	if [ -n "${BG_PID-}" ] && kill -0 "$BG_PID" 2>/dev/null; then
		kill -KILL "$BG_PID" 2>/dev/null || true
		wait "$BG_PID" 2>/dev/null || true
	fi
	for pid in "${FAKE_PIDS[@]}"; do
		fake_stop "$pid"
	done
}

# Start a fake memcached with the arguments given (--mode MODE ...); its
# port in FAKE_PORT, its PID in FAKE_PID (and FAKE_PIDS, the fakes still
# running) and the file where it logs each request in FAKE_LOG.
fake_start() {
	local dir pid deadline=$((SECONDS + 10))
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	"$PY" "$FAKE" --port-file "$dir/port" --log "$dir/log" \
	    --lifetime 120 "$@" >"$dir/output" 2>&1 3>&- &
	pid=$!
	FAKE_PIDS+=("$pid")
	until [ -s "$dir/port" ]; do
		if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -gt "$deadline" ]; then
			echo "the fake memcached did not start: $*" >&2
			cat "$dir/output" >&2
			return 1
		fi
		sleep 0.01
	done
	read -r FAKE_PORT <"$dir/port"
	FAKE_PID=$pid
	FAKE_LOG=$dir/log
	: >>"$FAKE_LOG"
}

# fake_start answering only the TARGETS as the mode says.
targeted() {
	local t args=()
	for t in "${TARGETS[@]}"; do
		args+=(--target "$t")
	done
	fake_start "$@" "${args[@]}"
}

# Stop the fake $1, reap it, and drop it from FAKE_PIDS.
fake_stop() {
	local pid=$1 deadline=$((SECONDS + 5)) p left=()
	for p in "${FAKE_PIDS[@]}"; do
		[ "$p" = "$pid" ] || left+=("$p")
	done
	FAKE_PIDS=("${left[@]}")
	kill "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -le "$deadline" ]; do
		sleep 0.02
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# Wait until the fake has logged a request; 5 s at most.
wait_request() {
	local deadline=$((SECONDS + 5))
	until [ -s "$FAKE_LOG" ]; do
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "no request reached the fake within 5 s" >&2
			return 1
		fi
		sleep 0.01
	done
}

# Run fsmemcache against the fake with -t $T and the arguments given,
# with no configuration (-c /dev/null, and -s over MEMCACHED_SERVERS);
# standard output and error go to the files stdout and stderr of the
# test's directory.  Sets ST (exit status), MS (milliseconds taken) and
# RSS (peak resident memory, KiB).  A run still going about 2 s past its
# budget is killed, as a hang: ST 137.  health samples 0.1 s apart, and
# its response times read T.
wire() {
	local t0 guard=$(((${BUDGET_MS:-$T} + 2000) / 1000)) opts=()
	[[ " $* " != *" health "* ]] || opts=(-i 0.1)
	t0=$(date +%s%N)
	ST=0
	ASAN_OPTIONS=$(measured_asan) \
	    /usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" \
	    timeout -s KILL "$guard" \
	    "$FSMC_BIN" -c /dev/null -s "127.0.0.1:$FAKE_PORT" -t "$T" \
	    "${opts[@]}" "$@" \
	    </dev/null >"$BATS_TEST_TMPDIR/stdout" \
	    2>"$BATS_TEST_TMPDIR/stderr" 3>&- || ST=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	RSS=$(tail -n 1 "$BATS_TEST_TMPDIR/rss")
	if [ "${#opts[@]}" -gt 0 ]; then
		sed -i -E 's/_time=[0-9]+\.[0-9]{6}s;/_time=Ts;/; s/, response [0-9]+\.[0-9]{2} ms$/, response T ms/' \
		    "$BATS_TEST_TMPDIR/stdout"
	fi
}

# The first bytes of the file $1 (- for standard input), shown on one line.
shown() {
	head -c 160 "$1" | od -An -c | tr -s ' \n' ' '
}

# What the command whose words are $1 is called in messages: the
# command and its key, or the command alone.
who_of() {
	local c k
	read -r c k _ <<<"$1"
	case $c in
	flush | status | health | keys) echo "$c" ;;
	*) echo "$c $k" ;;
	esac
}

# What the command line $1 gives for the outcome $2: sets W_ST (exit
# status), W_OUT (standard output, for printf %b), W_PRE and W_SUF, how
# its message on standard error starts and ends (both empty: no line),
# and W_ERR, a line that comes before that message, if any.  Outcomes:
#   ok         the command's success: +OK, or x for get, 0 for getflags,
#              5 for increment and decrement, an empty list for status
#              verbose, health and keys
#   notfound   -ERR NOT FOUND, 1        notstored  -ERR NOT STORED, 2
#   proto      -ERR PROTOCOL ERROR, 76
#   error      -ERR ERROR was returned by server, 76
#   server     -ERR SERVER ERROR, 76    client     -ERR CLIENT ERROR, 65
#   timeout    -ERR A TIMEOUT OCCURRED, 69
#   reset      -ERR CONNECTION FAILURE, 69
# flush, status verbose, health and keys keep their own documented
# forms: flush says SOME ERRORS WERE REPORTED for a server that does
# not answer, and a server that answers flush_all or stats with an error
# refuses it (ACTION NOT SUPPORTED, 76); status verbose shows the error
# under the server; health is CRITICAL, exit 2; keys keeps standard
# output for keys and sends -ERR SOME ERRORS WERE REPORTED to standard
# error before its message.
want() {
	local cmd=${1%% *} class=$2 who text at addr
	W_ERR=
	who=$(who_of "$1")
	at=" (127.0.0.1:$FAKE_PORT)"
	local head="Lib version: $LIBV\nServers: 1\n  127.0.0.1 ($FAKE_PORT)\n"
	W_PRE="fsmemcache: $who: "
	W_SUF=$at
	case $class in
	ok)
		W_ST=0 W_PRE='' W_SUF=''
		case $cmd in
		get) W_OUT=x ;;
		getflags) W_OUT=0 ;;
		increment | decrement) W_OUT=5 ;;
		status) W_OUT=$head ;;
		health)
			addr=127.0.0.1:$FAKE_PORT
			W_OUT="MEMCACHE OK: 1 of 1 server up | ${addr}_hit=U;;;0;100 ${addr}_evictions=U;;;0 ${addr}_memory=U;;;0;100 ${addr}_connections=U;;;0 ${addr}_time=Ts;;;0\n  $addr up: version ?, uptime ? s, ? connections, hit ratio n/a, evictions n/a, memory n/a, response T ms\n"
			;;
		keys) W_OUT= ;;
		*) W_OUT='+OK\n' ;;
		esac
		return 0
		;;
	notfound | notstored)
		W_PRE='' W_SUF=''
		if [ "$class" = notfound ]; then
			W_ST=1 W_OUT='-ERR NOT FOUND\n'
		else
			W_ST=2 W_OUT='-ERR NOT STORED\n'
		fi
		return 0
		;;
	proto) W_ST=76 text='PROTOCOL ERROR' W_PRE+='protocol error' ;;
	error) W_ST=76 text='ERROR was returned by server' ;;
	server) W_ST=76 text='SERVER ERROR' ;;
	client) W_ST=65 text='CLIENT ERROR' ;;
	timeout) W_ST=69 text='A TIMEOUT OCCURRED' W_PRE+='timed out' ;;
	reset) W_ST=69 text='CONNECTION FAILURE' ;;
	*)
		echo "no outcome $class" >&2
		return 1
		;;
	esac
	case $cmd/$class in
	flush/error | flush/server | flush/client | status/error | \
	    status/server | status/client | health/error | health/server | \
	    health/client | keys/error | keys/server | keys/client)
		W_ST=76 text='ACTION NOT SUPPORTED'
		;;
	flush/timeout | flush/reset) text='SOME ERRORS WERE REPORTED' ;;
	esac
	case $cmd in
	status) W_OUT="$head    error: $text\n" ;;
	health)
		W_ST=2
		W_OUT="MEMCACHE CRITICAL: 127.0.0.1:$FAKE_PORT down\n  127.0.0.1:$FAKE_PORT down: $text\n"
		;;
	keys) W_OUT='' W_ERR='-ERR SOME ERRORS WERE REPORTED' ;;
	*) W_OUT="-ERR $text\n" ;;
	esac
}

# Judge the last run against W_ST, W_OUT, W_ERR, W_PRE and W_SUF, within
# the budget ($BUDGET_MS, or -t, and SLACK_MS) and RSS_MAX_KIB; print
# what differs, labelled $1.  Counts the case in CASES, and in FAILS if
# it failed.
verdict() {
	local budget=$((${BUDGET_MS:-$T} + SLACK_MS)) why=() err errs
	if [ "$ST" -ge 128 ]; then
		why+=("killed by signal $((ST - 128))")
	elif [ "$ST" -ne "$W_ST" ]; then
		why+=("exit $ST, not $W_ST")
	fi
	if ! printf '%b' "$W_OUT" | cmp -s - "$BATS_TEST_TMPDIR/stdout"; then
		why+=("stdout [$(shown "$BATS_TEST_TMPDIR/stdout")], not [$(printf '%b' "$W_OUT" | shown -)]")
	fi
	mapfile -t -n 3 errs <"$BATS_TEST_TMPDIR/stderr"
	if [ -n "$W_ERR" ] && [ "${errs[0]-}" != "$W_ERR" ]; then
		why+=("stderr '${errs[0]-}', not first '$W_ERR'")
	elif [ -n "$W_ERR" ]; then
		errs=("${errs[@]:1}")
	fi
	err=${errs[*]:0:2}
	err=${err:0:300}
	if [ -z "$W_PRE$W_SUF" ]; then
		if [ -s "$BATS_TEST_TMPDIR/stderr" ]; then
			why+=("stderr '$err', not empty")
		fi
	elif [ "${#errs[@]}" -ne 1 ] || [[ ${errs[0]} != "$W_PRE"*"$W_SUF" ]]; then
		why+=("stderr '$err', not one line '$W_PRE...$W_SUF'")
	fi
	if [ "$MS" -gt "$budget" ]; then
		why+=("took $MS ms, over $budget")
	fi
	if ! [[ $RSS =~ ^[0-9]+$ ]] || [ "$RSS" -ge "$RSS_MAX_KIB" ]; then
		why+=("peak RSS $RSS KiB")
	fi
	judged "$1" "${why[@]}"
}

# Run the command line $1 (words separated by spaces) against the fake
# and judge it against the outcome $2; $3 labels the case.
check() {
	local words
	read -r -a words <<<"$1"
	want "$1" "$2"
	wire "${words[@]}"
	verdict "$3: $1 [$2]"
}

# Count a case judged by a test itself; $1 labels it, and the other
# arguments say what was wrong, if anything.
judged() {
	local label=$1
	shift
	CASES=$((CASES + 1))
	if [ "$#" -gt 0 ]; then
		FAILS=$((FAILS + 1))
		printf 'FAIL %s:' "$label"
		printf ' %s;' "$@"
		printf '\n'
	fi
}

# Pass when every case passed.
all_passed() {
	echo "$FAILS of $CASES cases failed"
	[ "$CASES" -gt 0 ]
	[ "$FAILS" -eq 0 ]
}

# What the reply $1 means to the command line $2 by ALLOWED.
allowed_class() {
	local cmd=${2%% *} i pair
	for ((i = 0; i < ${#ALLOWED[@]}; i += 2)); do
		[ "${ALLOWED[i]}" = "$1" ] || continue
		for pair in ${ALLOWED[i + 1]}; do
			if [ "${pair%%=*}" = "$cmd" ]; then
				echo "${pair#*=}"
				return 0
			fi
		done
	done
	echo proto
}

# Run the batch of the command lines and outcomes given as LINE=CLASS
# and judge it: each line's reply as the single command's, followed by a
# newline where it has none; a message on standard error for each line
# that fails with 64 or more; the summary's counts; the highest exit
# status; within a deadline per line.  $1 labels the case; BATCH_OPTS
# holds more options for the run.
check_batch() {
	local label=$1 in=$BATS_TEST_TMPDIR/batch.in
	local want_out=$BATS_TEST_TMPDIR/batch.out pair line class
	local n=0 top=0 ok=0 nf=0 ns=0 er=0 why=() got k re
	local pres=() sufs=() errs=()
	shift
	: >"$in"
	: >"$want_out"
	for pair in "$@"; do
		line=${pair%=*} class=${pair##*=}
		n=$((n + 1))
		printf '%s\n' "$line" >>"$in"
		want "$line" "$class"
		printf '%b' "$W_OUT" >>"$want_out"
		if [ -n "$W_OUT" ] && [[ $W_OUT != *'\n' ]]; then
			printf '\n' >>"$want_out"
		fi
		case $W_ST in
		0) ok=$((ok + 1)) ;;
		1) nf=$((nf + 1)) ;;
		2) ns=$((ns + 1)) ;;
		*)
			er=$((er + 1))
			pres+=("fsmemcache: line $n: ${W_PRE#fsmemcache: }")
			sufs+=("$W_SUF")
			;;
		esac
		[ "$W_ST" -le "$top" ] || top=$W_ST
	done
	BUDGET_MS=$((n * T))
	wire "${BATCH_OPTS[@]}" -f "$in"
	BUDGET_MS=
	if [ "$ST" -ge 128 ]; then
		why+=("killed by signal $((ST - 128))")
	elif [ "$ST" -ne "$top" ]; then
		why+=("exit $ST, not $top")
	fi
	if ! cmp -s "$want_out" "$BATS_TEST_TMPDIR/stdout"; then
		why+=("stdout [$(shown "$BATS_TEST_TMPDIR/stdout")], not [$(shown "$want_out")]")
	fi
	mapfile -t errs < <(head -c 100000 "$BATS_TEST_TMPDIR/stderr" | tr -d '\0')
	if [ "${#errs[@]}" -ne $((er + 1)) ]; then
		why+=("${#errs[@]} lines on stderr, not $((er + 1)): '${errs[*]:0:3}'")
	else
		for k in "${!pres[@]}"; do
			got=${errs[k]:0:300}
			if [[ $got != "${pres[k]}"*"${sufs[k]}" ]]; then
				why+=("stderr '$got', not '${pres[k]}...${sufs[k]}'")
			fi
		done
	fi
	re="^fsmemcache: $n lines?: $ok ok, $nf not found, $ns not stored, $er errors?; [0-9]+\\.[0-9]{3} s, [0-9]+ lines/s\$"
	if ! [[ ${errs[-1]-} =~ $re ]]; then
		why+=("summary '${errs[-1]-}', not $n lines: $ok ok, $nf not found, $ns not stored, $er errors")
	fi
	if [ "$MS" -gt $((n * T + SLACK_MS)) ]; then
		why+=("took $MS ms, over $((n * T + SLACK_MS))")
	fi
	if ! [[ $RSS =~ ^[0-9]+$ ]] || [ "$RSS" -ge "$RSS_MAX_KIB" ]; then
		why+=("peak RSS $RSS KiB")
	fi
	judged "$label" "${why[@]}"
}

# Whether the JSON on the standard output of the last run is one object
# a line, each as "COMMAND KEY CLASS" of the arguments says (KEY - for
# none), with line numbers from 1 when $1 is "batch".
json_is() {
	"$PY" - "$BATS_TEST_TMPDIR/stdout" "$FAKE_PORT" "$@" <<'EOF'
import json, sys

path, port, batch, specs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
classes = {
    "ok": ("ok", 0, None, None),
    "notfound": ("not_found", 1, "NOT FOUND", None),
    "proto": ("server_error", 76, "PROTOCOL ERROR", "protocol error"),
    "error": ("server_error", 76, "ERROR was returned by server", ""),
    "server": ("server_error", 76, "SERVER ERROR", ""),
    "client": ("invalid", 65, "CLIENT ERROR", ""),
    "timeout": ("unavailable", 69, "A TIMEOUT OCCURRED", "timed out"),
    "reset": ("unavailable", 69, "CONNECTION FAILURE", ""),
}
lines = open(path, "rb").read().split(b"\n")
assert lines[-1] == b"", "no newline after the last object"
objs = [json.loads(line) for line in lines[:-1]]
assert len(objs) == len(specs), "%d objects, not %d" % (len(objs), len(specs))
for n, (o, spec) in enumerate(zip(objs, specs), 1):
    command, key, cls = spec.split()
    status, code, error, why = classes[cls]
    where = "object %d %s: " % (n, o)
    if batch == "batch":
        assert o.get("line") == n, where + "line"
    assert o["command"] == command, where + "command"
    if key != "-":
        assert o["key"] == key, where + "key"
    assert o["status"] == status, where + "status, not " + status
    assert o["exit"] == code, where + "exit, not %d" % code
    if error is not None:
        assert o["error"] == error, where + "error, not " + error
    if why is not None:
        who = command + ("" if key == "-" else " " + key) + ": " + why
        assert o["message"].startswith(who), where + "message, not " + who
        assert o["message"].endswith(" (127.0.0.1:%s)" % port), where + "server"
    if cls == "ok" and command == "get":
        assert (o["value"], o["flags"]) == ("x", "0"), where + "value"
    if cls == "ok" and command in ("increment", "decrement"):
        assert o["value"] == "5", where + "value"
EOF
}

# The harness itself.

@test "the fake in valid mode answers as memcached does: every command succeeds, so the replies that reset and drip cut short are valid ones" {
	local c words
	fake_start --mode valid
	for c in "${KEY_CMDS[@]}"; do
		want "$c" ok
		case ${c%% *} in
		get) W_OUT=0123456789 ;;
		increment | decrement) W_OUT=12345 ;;
		esac
		read -r -a words <<<"$c"
		wire "${words[@]}"
		verdict "valid: $c"
	done
	want "status verbose" ok
	W_OUT+='    pid: 1\n    uptime: 10\n    version: 1.6.99\n'
	wire status verbose
	verdict "valid: status verbose"
	want health ok
	W_OUT=${W_OUT/'version ?, uptime ? s'/'version 1.6.99, uptime 10 s'}
	wire health
	verdict "valid: health"
	want keys ok
	W_OUT='k\n'
	wire keys
	verdict "valid: keys"
	all_passed
}

# Fixed replies.

@test "a reply the protocol allows keeps its meaning: END a miss to get, DELETED, NOT_FOUND, STORED, NOT_STORED, TOUCHED, OK, a VALUE to get, a number to increment" {
	local i c class
	for ((i = 0; i < ${#ALLOWED[@]}; i += 2)); do
		targeted --mode reply --reply "${ALLOWED[i]}"
		for c in "${KEY_CMDS[@]}"; do
			class=$(allowed_class "${ALLOWED[i]}" "$c")
			case $class in
			proto | -) continue ;;
			esac
			check "$c" "$class" "reply '${ALLOWED[i]}'"
		done
		fake_stop "$FAKE_PID"
	done
	all_passed
}

@test "a reply the protocol does not allow for the command (END, DELETED, NOT_FOUND, STORED, TOUCHED, OK, VERSION, STAT, VALUE, a number) is PROTOCOL ERROR, exit 76, never NOT FOUND" {
	local i c
	for ((i = 0; i < ${#ALLOWED[@]}; i += 2)); do
		targeted --mode reply --reply "${ALLOWED[i]}"
		for c in "${KEY_CMDS[@]}"; do
			[ "$(allowed_class "${ALLOWED[i]}" "$c")" = proto ] || continue
			check "$c" proto "reply '${ALLOWED[i]}'"
		done
		fake_stop "$FAKE_PID"
	done
	all_passed
}

@test "a VALUE for another key, negative or 33-bit fields, more data than announced, a counter that is no 64-bit number, an empty line: PROTOCOL ERROR, exit 76, for every command" {
	local r c
	for r in "${MALFORMED[@]}"; do
		targeted --mode reply --reply "$r"
		for c in "${KEY_CMDS[@]}"; do
			check "$c" proto "reply '$r'"
		done
		fake_stop "$FAKE_PID"
	done
	all_passed
}

@test "ERROR, CLIENT_ERROR and SERVER_ERROR: -ERR ERROR was returned by server (76), CLIENT ERROR (65), SERVER ERROR (76); flush is refused, ACTION NOT SUPPORTED (76)" {
	local i c
	for ((i = 0; i < ${#ERRORS[@]}; i += 2)); do
		targeted --mode reply --reply "${ERRORS[i]}"
		for c in "${KEY_CMDS[@]}"; do
			check "$c" "${ERRORS[i + 1]}" "reply '${ERRORS[i]}'"
		done
		fake_stop "$FAKE_PID"
	done
	all_passed
}

@test "status verbose, health and keys: END is an empty list, STAT without END times out, an error reply refuses, any other reply is PROTOCOL ERROR" {
	local r c class
	local rows=('END' 'ok ok ok' 'STAT a b' 'timeout timeout proto'
		'ERROR' 'error error error'
		'CLIENT_ERROR x' 'client client client'
		'SERVER_ERROR x' 'server server server'
		'DELETED' 'proto proto proto' 'OK' 'proto proto proto'
		'VERSION 1' 'proto proto proto' '5' 'proto proto proto'
		'VALUE k 0 1\r\nx\r\nEND' 'proto proto proto'
		'' 'proto proto proto' 'abc' 'proto proto proto')
	local i j classes
	for ((i = 0; i < ${#rows[@]}; i += 2)); do
		r=${rows[i]}
		read -r -a classes <<<"${rows[i + 1]}"
		targeted --mode reply --reply "$r"
		for j in 0 1 2; do
			c=${LIST_CMDS[j]} class=${classes[j]}
			check "$c" "$class" "reply '$r'"
		done
		fake_stop "$FAKE_PID"
	done
	all_passed
}

# Floods, resets and stalls.

@test "a 10 MB error line, a line over 8192 bytes, a value of 1 TiB or 1 GiB + 1, endless random bytes: PROTOCOL ERROR, exit 76, at once and in bounded memory, for every command" {
	local c
	local modes=("huge-line" "huge-line --size 9000" "endless-value" "random")
	local m args
	for m in "${modes[@]}"; do
		read -r -a args <<<"$m"
		fake_start --mode "${args[@]}"
		for c in "${KEY_CMDS[@]}" "${LIST_CMDS[@]}"; do
			check "$c" proto "$m"
		done
		fake_stop "$FAKE_PID"
	done
	# At the limits: a line of 8000 bytes is an error reply still; a
	# value one byte over 1 GiB is refused from its header.
	fake_start --mode huge-line --size 8000
	check "set k v" server "huge-line --size 8000"
	check "get k" server "huge-line --size 8000"
	fake_stop "$FAKE_PID"
	fake_start --mode endless-value --size $((1024 * 1024 * 1024 + 1))
	check "get k" proto "endless-value 1 GiB + 1"
	check "getflags k" proto "endless-value 1 GiB + 1"
	all_passed
}

@test "a connection reset in the middle of a reply: CONNECTION FAILURE, exit 69, for every command" {
	local c
	fake_start --mode reset
	for c in "${KEY_CMDS[@]}" "${LIST_CMDS[@]}"; do
		check "$c" reset reset
	done
	all_passed
}

@test "a silent server: A TIMEOUT OCCURRED, exit 69, within the -t deadline + 0.5 s, for every command" {
	local c
	fake_start --mode silent
	for c in "${KEY_CMDS[@]}" "${LIST_CMDS[@]}"; do
		check "$c" timeout silent
	done
	all_passed
}

@test "a valid reply one byte every 0.3 s: A TIMEOUT OCCURRED, exit 69, within the -t deadline + 0.5 s, for every command" {
	local c
	local T=500
	fake_start --mode drip --interval 0.3
	for c in "${KEY_CMDS[@]}" "${LIST_CMDS[@]}"; do
		check "$c" timeout drip
	done
	all_passed
}

@test "never-ending stats and lru_crawler metadump, also of the same keys over and over: status verbose, health and keys stop at the deadline (69) or a limit (76), in bounded memory" {
	local class
	local T=500
	fake_start --mode endless-list
	# Either outcome is right; the one it was must be shown right.
	wire status verbose
	class=proto
	[ "$ST" -ne 69 ] || class=timeout
	want "status verbose" "$class"
	W_PRE="fsmemcache: status: "
	verdict "endless stats: status verbose [$class]"
	wire health
	class=proto
	! grep -q ' down: A TIMEOUT OCCURRED$' "$BATS_TEST_TMPDIR/stdout" ||
	    class=timeout
	want health "$class"
	W_PRE="fsmemcache: health: "
	verdict "endless stats: health [$class]"
	wire keys
	class=proto
	[ "$ST" -ne 69 ] || class=timeout
	want keys "$class"
	W_PRE="fsmemcache: keys: "
	# Keys listed before the failure, if any, are on standard output:
	# leave them out.
	grep -v -x 'k[0-9]*' "$BATS_TEST_TMPDIR/stdout" \
	    >"$BATS_TEST_TMPDIR/stdout.rest" || true
	mv "$BATS_TEST_TMPDIR/stdout.rest" "$BATS_TEST_TMPDIR/stdout"
	verdict "endless metadump: keys [$class]"
	# Three keys over and over: each is listed once, and the listing
	# still ends.
	fake_stop "$FAKE_PID"
	fake_start --mode endless-list --size 3
	wire keys
	class=proto
	[ "$ST" -ne 69 ] || class=timeout
	want keys "$class"
	W_PRE="fsmemcache: keys: "
	if ! printf 'k0\nk1\nk2\n' | cmp -s - "$BATS_TEST_TMPDIR/stdout"; then
		judged "endless repeated metadump: keys once" "stdout [$(shown "$BATS_TEST_TMPDIR/stdout")]"
	fi
	: >"$BATS_TEST_TMPDIR/stdout"
	verdict "endless repeated metadump: keys [$class]"
	all_passed
}

# Batches.

@test "batch (-f) against each fixed reply: every line gets the reply it gets alone, the messages, the summary, the highest exit status" {
	local i r c class pairs
	# A reply that breaks the connection fails the lines in flight
	# behind it (see pipeline.bats): one line at a time, each line's
	# reply is its own.  Error replies keep the stream in step, so
	# those run pipelined.
	BATCH_OPTS=(--window 1)
	for ((i = 0; i < ${#ALLOWED[@]}; i += 2)); do
		r=${ALLOWED[i]}
		pairs=()
		for c in "${BATCH_CMDS[@]}"; do
			class=$(allowed_class "$r" "$c")
			[ "$class" = - ] || pairs+=("$c=$class")
		done
		targeted --mode reply --reply "$r"
		check_batch "batch, reply '$r'" "${pairs[@]}"
		fake_stop "$FAKE_PID"
	done
	for r in "${MALFORMED[@]}"; do
		pairs=()
		for c in "${BATCH_CMDS[@]}"; do
			pairs+=("$c=proto")
		done
		targeted --mode reply --reply "$r"
		check_batch "batch, reply '$r'" "${pairs[@]}"
		fake_stop "$FAKE_PID"
	done
	BATCH_OPTS=()
	for ((i = 0; i < ${#ERRORS[@]}; i += 2)); do
		pairs=()
		for c in "${BATCH_CMDS[@]}"; do
			pairs+=("$c=${ERRORS[i + 1]}")
		done
		targeted --mode reply --reply "${ERRORS[i]}"
		check_batch "batch, reply '${ERRORS[i]}'" "${pairs[@]}"
		fake_stop "$FAKE_PID"
	done
	all_passed
}

@test "batch (-f) against random bytes, a 10 MB line, a 1 TiB value and a reset: every line fails on its own and the run goes on" {
	local m c class pairs args
	for m in random huge-line endless-value reset; do
		class=proto
		[ "$m" != reset ] || class=reset
		pairs=()
		for c in "${BATCH_CMDS[@]}"; do
			pairs+=("$c=$class")
		done
		read -r -a args <<<"$m"
		fake_start --mode "${args[@]}"
		check_batch "batch, $m" "${pairs[@]}"
		fake_stop "$FAKE_PID"
	done
	all_passed
}

# Two lines: after failure_limit (2) timeouts the server is skipped, and
# later lines fail at once (dead.bats).
@test "batch (-f) against a silent and a dripping server: each line times out on its own, within its deadline" {
	local T=500
	fake_start --mode silent
	check_batch "batch, silent" "set k v=timeout" "get k=timeout"
	fake_stop "$FAKE_PID"
	fake_start --mode drip --interval 0.3
	check_batch "batch, drip" "set k v=timeout" "increment k=timeout"
	all_passed
}

@test "--pipe against hostile servers: nothing on standard output, a message naming the server, the summary, exit 69 or 76, within the deadline" {
	local in=$BATS_TEST_TMPDIR/pipe.in i m args why re errs
	# A fake's arguments and the exit status.  Fixed replies are left
	# out: the replies of pipelined requests that failed come before the
	# last request's, and are passed over.
	local rows=(silent 69 "drip --interval 0.3" 69 reset 69 random 76
		huge-line 76 endless-value 76)
	local T=500
	printf '%s\n' "set p1 v" "set p2 v" "set p3 v" >"$in"
	re='^fsmemcache: 3 lines: ([0-9]+) sent, ([0-9]+) errors?; [0-9]+\.[0-9]{3} s, [0-9]+ lines/s$'
	for ((i = 0; i < ${#rows[@]}; i += 2)); do
		read -r -a args <<<"${rows[i]}"
		fake_start --mode "${args[@]}"
		wire --pipe -f "$in"
		why=()
		if [ "$ST" -ne "${rows[i + 1]}" ]; then
			why+=("exit $ST, not ${rows[i + 1]}")
		fi
		if [ -s "$BATS_TEST_TMPDIR/stdout" ]; then
			why+=("stdout [$(shown "$BATS_TEST_TMPDIR/stdout")], not empty")
		fi
		mapfile -t errs < <(head -c 10000 "$BATS_TEST_TMPDIR/stderr" | tr -d '\0')
		if ! [[ ${errs[-1]-} =~ $re ]] ||
		    [ $((BASH_REMATCH[1] + BASH_REMATCH[2])) -ne 3 ]; then
			why+=("summary '${errs[-1]-}'")
		fi
		if [ "$ST" -ge 64 ] && { [ "${#errs[@]}" -lt 2 ] ||
		    [[ ${errs[0]} != "fsmemcache: "*" (127.0.0.1:$FAKE_PORT)" ]]; }; then
			why+=("no message naming the server: '${errs[0]-}'")
		fi
		if [ "$MS" -gt $((T + SLACK_MS)) ]; then
			why+=("took $MS ms")
		fi
		if ! [[ $RSS =~ ^[0-9]+$ ]] || [ "$RSS" -ge "$RSS_MAX_KIB" ]; then
			why+=("peak RSS $RSS KiB")
		fi
		judged "--pipe, ${rows[i]}" "${why[@]}"
		fake_stop "$FAKE_PID"
	done
	all_passed
}

# JSON.

@test "--json single commands against hostile servers: status, exit, error and message as the outcome says" {
	local rows i args cmd class words T=300
	# A fake's arguments (\x20 for a space), a command, its outcome.
	rows=("reply --reply END" "get k" notfound
		'reply --reply VALUE\x20k\x200\x201\r\nx\r\nEND' "get k" ok
		"reply --reply 5" "increment k" ok
		'reply --reply VALUE\x20other\x200\x201\r\nx\r\nEND' "get k" proto
		'reply --reply VALUE\x20other\x200\x201\r\nx\r\nEND' "set k v" proto
		"reply --reply END" "delete k" proto
		'reply --reply CLIENT_ERROR\x20x' "set k v" client
		'reply --reply SERVER_ERROR\x20x' "delete k" server
		"reply --reply ERROR" "touch k 10" error
		random "get k" proto huge-line "set k v" proto
		endless-value "get k" proto reset "get k" reset
		silent "get k" timeout)
	for ((i = 0; i < ${#rows[@]}; i += 3)); do
		read -r -a args <<<"${rows[i]}"
		cmd=${rows[i + 1]} class=${rows[i + 2]}
		read -r -a words <<<"$cmd"
		fake_start --mode "${args[@]}"
		want "$cmd" "$class"
		wire --json "${words[@]}"
		if [ "$ST" -ne "$W_ST" ] || [ "$MS" -gt $((T + SLACK_MS)) ] ||
		    ! [[ $RSS =~ ^[0-9]+$ ]] || [ "$RSS" -ge "$RSS_MAX_KIB" ] ||
		    ! json_is single "${words[0]} ${words[1]} $class"; then
			judged "--json ${rows[i]}: $cmd [$class]" "exit $ST (not $W_ST), $MS ms, $RSS KiB, stdout [$(shown "$BATS_TEST_TMPDIR/stdout")]"
		else
			judged "--json ${rows[i]}: $cmd [$class]"
		fi
		fake_stop "$FAKE_PID"
	done
	all_passed
}

@test "--json batch against hostile servers: one object a line with its line number, each line's own outcome, and the summary" {
	local in=$BATS_TEST_TMPDIR/json.in re T=300
	re='^fsmemcache: ([0-9]+) lines?: 0 ok, 0 not found, 0 not stored, ([0-9]+) errors?; '
	printf '%s\n' "set k v" "get k" "increment k" "delete k" >"$in"
	targeted --mode reply --reply 'VALUE other 0 1\r\nx\r\nEND'
	BUDGET_MS=$((4 * T))
	wire --json -f "$in"
	[ "$ST" -eq 76 ]
	json_is batch "set k proto" "get k proto" "increment k proto" \
	    "delete k proto"
	[[ $(tail -n 1 "$BATS_TEST_TMPDIR/stderr") =~ $re ]]
	[ "${BASH_REMATCH[1]}" -eq 4 ]
	[ "${BASH_REMATCH[2]}" -eq 4 ]
	[ "$MS" -le $((4 * T + SLACK_MS)) ]
	[ "$RSS" -lt "$RSS_MAX_KIB" ]
	fake_stop "$FAKE_PID"
	fake_start --mode silent
	printf '%s\n' "set k v" "get k" >"$in"
	BUDGET_MS=$((2 * T))
	wire --json -f "$in"
	[ "$ST" -eq 69 ]
	json_is batch "set k timeout" "get k timeout"
	[[ $(tail -n 1 "$BATS_TEST_TMPDIR/stderr") =~ $re ]]
	[ "${BASH_REMATCH[1]}" -eq 2 ]
	[ "$MS" -le $((2 * T + SLACK_MS)) ]
}

# The binary protocol.

# fsmemcache against the memcached that mc_spawn started.
fsmc_mc() {
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS "$FSMC_BIN" -c /dev/null \
	    -s "127.0.0.1:$MC_PORT" "$@"
}

@test "--binary against hostile servers: garbage, a 10 MB line and an endless value are PROTOCOL ERROR, silence and a drip time out, a reset is CONNECTION FAILURE" {
	local rows i c args words
	rows=(random proto huge-line proto endless-value proto silent timeout
		"drip --interval 0.3" timeout reset reset)
	local T=500
	for ((i = 0; i < ${#rows[@]}; i += 2)); do
		read -r -a args <<<"${rows[i]}"
		fake_start --mode "${args[@]}"
		for c in "get k" "set k v"; do
			read -r -a words <<<"$c"
			want "$c" "${rows[i + 1]}"
			wire --binary "${words[@]}"
			verdict "--binary, ${rows[i]}: $c [${rows[i + 1]}]"
		done
		fake_stop "$FAKE_PID"
	done
	all_passed
}

@test "--binary set with a negative expiration against memcached stores an item already expired: get misses, exit 1" {
	mc_spawn
	run -0 --separate-stderr to_file fsmc_mc --binary set k v -1
	out_is '+OK\n'
	run -1 --separate-stderr to_file fsmc_mc --binary get k
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "" ]
}

@test "--binary touch with a negative expiration against memcached expires the item: get misses, exit 1" {
	mc_spawn
	run -0 --separate-stderr to_file fsmc_mc --binary set k v
	out_is '+OK\n'
	run -0 --separate-stderr to_file fsmc_mc --binary touch k -1
	out_is '+OK\n'
	run -1 --separate-stderr to_file fsmc_mc --binary get k
	out_is '-ERR NOT FOUND\n'
}

@test "--binary increment with a negative expiration against memcached creates the counter already expired: get misses, exit 1" {
	mc_spawn
	run -0 --separate-stderr to_file fsmc_mc --binary increment c 1 -1
	out_is '1'
	run -1 --separate-stderr to_file fsmc_mc --binary get c
	out_is '-ERR NOT FOUND\n'
}

# Signals.

# Send SIGTERM to the run in the background once the fake has a request,
# and wait for the run to end, 3 s at most: its exit status in ST and the
# milliseconds from the signal to its end in MS.
term_when_waiting() {
	local t0 deadline=$((SECONDS + 3))
	wait_request
	t0=$(date +%s%N)
	kill -TERM "$BG_PID"
	while kill -0 "$BG_PID" 2>/dev/null && [ "$SECONDS" -le "$deadline" ]; do
		sleep 0.01
	done
	MS=$((($(date +%s%N) - t0) / 1000000))
	ST=0
	if kill -0 "$BG_PID" 2>/dev/null; then
		echo "still running 3 s after SIGTERM" >&2
		return 1
	fi
	wait "$BG_PID" || ST=$?
	BG_PID=
	echo "exit $ST, $MS ms after SIGTERM"
}

@test "SIGTERM while a batch waits on a silent server (-t 20000): exit 143 and the summary within 0.5 s of the signal" {
	local in=$BATS_TEST_TMPDIR/term.in
	printf '%s\n' "set k v" "get k" "increment k" >"$in"
	fake_start --mode silent
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS "$FSMC_BIN" -c /dev/null \
	    -s "127.0.0.1:$FAKE_PORT" -t 20000 -f "$in" </dev/null \
	    >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" 3>&- &
	BG_PID=$!
	term_when_waiting
	cat "$BATS_TEST_TMPDIR/stderr"
	[ "$ST" -eq 143 ]
	[ "$MS" -lt 500 ]
	[[ $(tail -n 1 "$BATS_TEST_TMPDIR/stderr") =~ ^fsmemcache:\ [0-9]+\ lines?:\ [0-9]+\ ok,\ [0-9]+\ not\ found,\ [0-9]+\ not\ stored,\ [0-9]+\ errors?\;\  ]]
}

@test "SIGTERM while a single get waits on a silent server (-t 20000): exit 143 within 0.5 s of the signal" {
	fake_start --mode silent
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS "$FSMC_BIN" -c /dev/null \
	    -s "127.0.0.1:$FAKE_PORT" -t 20000 get k </dev/null \
	    >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" 3>&- &
	BG_PID=$!
	term_when_waiting
	[ "$ST" -eq 143 ]
	[ "$MS" -lt 500 ]
}
