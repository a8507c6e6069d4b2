#!/usr/bin/env bash
# make bench: fsmemcache against its peers, side by side, on a throwaway memcached.
set -euo pipefail
cd "$(dirname "$0")/.."

FSMC=./fsmemcache
N=${BENCH_LINES:-100000}
RUNS=${BENCH_RUNS:-51}
# A memcached with room for a million items.
# shellcheck source=tests/throwaway.sh
. tests/throwaway.sh
throwaway_memcached -m 1024
tmp=$MC_TMP
port=$MC_PORT
server=127.0.0.1:$port
cfg=$tmp/fsmemcache.cfg
printf 'servers = "%s";\n' "$server" >"$cfg"

now() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

results=()
failed=0
# record CASE PEER OURS THEIRS UNIT RATIO TARGET OK
record() {
	results+=("$(printf '%-34s | %-26s | %12s | %12s | %-8s | %7s | %-7s | %s' \
	    "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8")")
	if [ "$8" != yes ]; then failed=1; fi
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
meets() { awk -v r="$1" -v op="$2" -v t="$3" \
    'BEGIN { if ((op == "<=" && r <= t) || (op == ">=" && r >= t)) print "yes"; else print "no" }'; }

echo "bench: memcached $(memcached -V | cut -d' ' -f2) on $server; $(nproc) cores;" \
    "$(uname -sr); $N lines" >&2

# 1. One get, a whole process each, median of RUNS runs, interleaved.
$FSMC -c "$cfg" set bench:one 'hello' >/dev/null
for _ in $(seq "$RUNS"); do
	t0=$(now); $FSMC -c "$cfg" get bench:one >/dev/null; t1=$(now)
	echo $((t1 - t0)) >>"$tmp/ours"
	t0=$(now); memccat --servers="$server" bench:one >/dev/null; t1=$(now)
	echo $((t1 - t0)) >>"$tmp/theirs"
done
ours=$(median <"$tmp/ours")
theirs=$(median <"$tmp/theirs")
r=$(ratio "$ours" "$theirs")
record "one get, whole process (median)" "memccat" \
    "$((ours / 1000)) us" "$((theirs / 1000)) us" "time" "$r" "<= 1.0" \
    "$(meets "$r" "<=" 1.0)"

# 2. N set lines with replies, pipelined on one connection.  The batches
# of rows 2 and 4 are timed by the shell's clock, without the milliseconds
# that starting date(1) would add to a run of a few: memcslap times its
# own phase.
seq 1 "$N" | awk '{ print "set bench:s" $1 " value" $1 }' >"$tmp/sets"
t0=${EPOCHREALTIME/./}
$FSMC -c "$cfg" -q -f - <"$tmp/sets" >/dev/null 2>"$tmp/err"
t1=${EPOCHREALTIME/./}
ours=$(awk -v n="$N" -v us=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (us / 1e6) }')
memcslap --servers="$server" --test=set --concurrency=1 \
    --execute-number="$N" >"$tmp/slap" 2>&1
theirs=$(awk '/^Time to set/ { printf "%.0f", $4 / $(NF - 1) }' "$tmp/slap")
r=$(ratio "$ours" "$theirs")
record "$N set lines with replies (-q -f -)" "memcslap --test=set -c 1" \
    "$ours/s" "$theirs/s" "rate" "$r" ">= 8" "$(meets "$r" ">=" 8)"

# 3. Sets pipelined, against the same protocol text through nc -N: N
# lines and a million, the median of three runs each, interleaved; and
# the client CPU (user + system) of the million, the least of the three.
seq 1 1000000 | awk '{ print "set bench:p" $1 " value" $1 }' >"$tmp/psets1m"
for lines in "$N" 1000000; do
	head -n "$lines" "$tmp/psets1m" >"$tmp/psets"
	awk '{ printf "set %s 0 0 %d noreply\r\n%s\r\n", $2, length($3), $3 }' \
	    "$tmp/psets" >"$tmp/praw"
	: >"$tmp/pours"
	: >"$tmp/ptheirs"
	: >"$tmp/pcpu"
	for _ in 1 2 3; do
		t0=$(now)
		/usr/bin/time -o "$tmp/ptime" -f '%U %S' \
		    $FSMC -c "$cfg" --pipe -f "$tmp/psets" 2>"$tmp/err"
		t1=$(now)
		echo $((t1 - t0)) >>"$tmp/pours"
		awk '{ printf "%.0f\n", ($1 + $2) * 1000 }' "$tmp/ptime" >>"$tmp/pcpu"
		t0=$(now); nc -N 127.0.0.1 "$port" <"$tmp/praw" >/dev/null; t1=$(now)
		echo $((t1 - t0)) >>"$tmp/ptheirs"
	done
	ours=$(median <"$tmp/pours")
	theirs=$(median <"$tmp/ptheirs")
	r=$(ratio "$theirs" "$ours")
	record "$lines set lines, --pipe" "raw protocol text via nc -N" \
	    "$(awk -v n="$lines" -v ns="$ours" 'BEGIN { printf "%.0f", n / (ns / 1e9) }')/s" \
	    "$(awk -v n="$lines" -v ns="$theirs" 'BEGIN { printf "%.0f", n / (ns / 1e9) }')/s" \
	    "rate" "$r" ">= 0.95" "$(meets "$r" ">=" 0.95)"
done
cpu=$(sort -n "$tmp/pcpu" | head -n 1)
record "client CPU, 1M set lines, --pipe" "-" "${cpu} ms" "-" "cpu" "-" \
    "<= 100ms" "$([ "$cpu" -le 100 ] && echo yes || echo no)"

# 4. G get lines: multi-gets in flight, against memcslap's get phase.
G=${BENCH_GETS:-20000}
seq 1 "$G" | awk '{ print "get bench:s" $1 }' >"$tmp/gets"
t0=${EPOCHREALTIME/./}
$FSMC -c "$cfg" -f - <"$tmp/gets" >/dev/null 2>"$tmp/err"
t1=${EPOCHREALTIME/./}
ours=$(awk -v n="$G" -v us=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (us / 1e6) }')
memcslap --servers="$server" --test=get --concurrency=1 \
    --execute-number="$G" >"$tmp/slap" 2>&1
theirs=$(awk '/^Time to get/ { printf "%.0f", $4 / $(NF - 1) }' "$tmp/slap")
r=$(ratio "$ours" "$theirs")
record "$G get lines (-f -, multi-gets)" "memcslap --test=get -c 1" \
    "$ours/s" "$theirs/s" "rate" "$r" ">= 15" "$(meets "$r" ">=" 15)"

# 5. Peak memory does not grow with the input.
seq 1 10000 | awk '{ print "set bench:m" $1 " v" }' >"$tmp/10k"
seq 1 1000000 | awk '{ print "set bench:m" $1 " v" }' >"$tmp/1m"
/usr/bin/time -o "$tmp/rss" -f %M $FSMC -c "$cfg" --pipe -f "$tmp/10k" 2>/dev/null
small=$(cat "$tmp/rss")
/usr/bin/time -o "$tmp/rss" -f %M $FSMC -c "$cfg" --pipe -f "$tmp/1m" 2>/dev/null
big=$(cat "$tmp/rss")
grow=$((big - small))
record "peak RSS, 10k vs 1M set lines" "-" "${big} KiB" "${small} KiB" \
    "growth" "${grow}K" "<= 2048K" "$([ "$grow" -le 2048 ] && echo yes || echo no)"

# 6. Nor does it with replies: the window bounds what is held.
/usr/bin/time -o "$tmp/rss" -f %M $FSMC -c "$cfg" -q -f "$tmp/10k" 2>/dev/null
small=$(cat "$tmp/rss")
/usr/bin/time -o "$tmp/rss" -f %M $FSMC -c "$cfg" -q -f "$tmp/1m" 2>/dev/null
big=$(cat "$tmp/rss")
grow=$((big - small))
record "peak RSS, 10k vs 1M lines, -f" "-" "${big} KiB" "${small} KiB" \
    "growth" "${grow}K" "<= 2048K" "$([ "$grow" -le 2048 ] && echo yes || echo no)"

# 6. --pipe of N sets over TLS against the same in plaintext: one memcached
# -Z with a plaintext port beside its TLS one, and a certificate made here
# for 127.0.0.1.  Whole processes, handshake included; median of 5 runs.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/tls.key" \
    -out "$tmp/tls.pem" 2>/dev/null
tls_pid=""
# shellcheck disable=SC2317 # called by the trap
tls_cleanup() {
	if [ -n "$tls_pid" ]; then
		kill "$tls_pid" 2>/dev/null || true
		wait "$tls_pid" 2>/dev/null || true
	fi
	throwaway_cleanup
}
trap tls_cleanup EXIT INT TERM
user=()
if [ "$(id -u)" -eq 0 ]; then user=(-u root); fi
for _ in 1 2 3 4 5 6 7 8 9 10; do
	plain_port=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
	tls_port=$((plain_port + 1))
	memcached -U 0 -m 1024 "${user[@]}" -Z \
	    -o "ssl_chain_cert=$tmp/tls.pem,ssl_key=$tmp/tls.key" \
	    -l "notls:127.0.0.1:$plain_port,127.0.0.1:$tls_port" \
	    >"$tmp/tls.log" 2>&1 &
	tls_pid=$!
	deadline=$((SECONDS + 5))
	while kill -0 "$tls_pid" 2>/dev/null && [ "$SECONDS" -le "$deadline" ] &&
	    ! (exec 3<>"/dev/tcp/127.0.0.1/$tls_port") 2>/dev/null; do
		sleep 0.05
	done
	kill -0 "$tls_pid" 2>/dev/null && break
	wait "$tls_pid" 2>/dev/null || true
	tls_pid=""
done
printf 'servers = "127.0.0.1:%d";\ntls = true;\ntls_ca_file = "%s";\n' \
    "$tls_port" "$tmp/tls.pem" >"$tmp/tls.cfg"
printf 'servers = "127.0.0.1:%d";\n' "$plain_port" >"$tmp/plain.cfg"
: >"$tmp/ours"
: >"$tmp/theirs"
for _ in 1 2 3 4 5; do
	t0=$(now); $FSMC -c "$tmp/tls.cfg" --pipe -f "$tmp/sets" 2>"$tmp/err"
	t1=$(now)
	echo $((t1 - t0)) >>"$tmp/ours"
	t0=$(now); $FSMC -c "$tmp/plain.cfg" --pipe -f "$tmp/sets" 2>"$tmp/err"
	t1=$(now)
	echo $((t1 - t0)) >>"$tmp/theirs"
done
ours=$(awk -v n="$N" -v ns="$(median <"$tmp/ours")" \
    'BEGIN { printf "%.0f", n / (ns / 1e9) }')
theirs=$(awk -v n="$N" -v ns="$(median <"$tmp/theirs")" \
    'BEGIN { printf "%.0f", n / (ns / 1e9) }')
r=$(ratio "$ours" "$theirs")
record "$N set lines, --pipe over TLS" "the same in plaintext" \
    "$ours/s" "$theirs/s" "rate" "$r" ">= 0.6" "$(meets "$r" ">=" 0.6)"

# The module's path: gets through fsmc_run_line() on the handle's kept
# connections, against memcached_get() on a kept libmemcached handle, in
# turns within one process (tests/bench-core.c).
read -r ours theirs < <(tests/bench-core 127.0.0.1 "$port" "$N")
r=$(ratio "$ours" "$theirs")
record "module path per call (get)" "memcached_get, kept handle" \
    "$((ours / 1000)).$(((ours % 1000) / 100)) us" \
    "$((theirs / 1000)).$(((theirs % 1000) / 100)) us" "time" "$r" "<= 1.3" \
    "$(meets "$r" "<=" 1.3)"

printf '%-34s | %-26s | %12s | %12s | %-8s | %7s | %-7s | %s\n' \
    case "compared with" fsmemcache peer measure ratio target met
for row in "${results[@]}"; do
	printf '%s\n' "$row"
done
exit "$failed"
