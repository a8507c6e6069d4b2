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

# 2. N set lines with replies, one connection.
seq 1 "$N" | awk '{ print "set bench:s" $1 " value" $1 }' >"$tmp/sets"
t0=$(now); $FSMC -c "$cfg" -f "$tmp/sets" >/dev/null 2>"$tmp/err"; t1=$(now)
ours=$(awk -v n="$N" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
memcslap --servers="$server" --test=set --concurrency=1 \
    --execute-number="$N" >"$tmp/slap" 2>&1
theirs=$(awk '/^Time to set/ { printf "%.0f", $4 / $(NF - 1) }' "$tmp/slap")
r=$(ratio "$ours" "$theirs")
record "$N set lines with replies (-f)" "memcslap --test=set -c 1" \
    "$ours/s" "$theirs/s" "rate" "$r" ">= 0.9" "$(meets "$r" ">=" 0.9)"

# 3. The same sets pipelined, against the same protocol text through nc.
t0=$(now); $FSMC -c "$cfg" --pipe -f "$tmp/sets" 2>"$tmp/err"; t1=$(now)
ours=$(awk -v n="$N" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
awk '{ printf "set %s 0 0 %d noreply\r\n%s\r\n", $2, length($3), $3 }' \
    "$tmp/sets" >"$tmp/raw"
t0=$(now); nc -N 127.0.0.1 "$port" <"$tmp/raw" >/dev/null; t1=$(now)
theirs=$(awk -v n="$N" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
r=$(ratio "$ours" "$theirs")
record "$N set lines, --pipe" "raw protocol text via nc" \
    "$ours/s" "$theirs/s" "rate" "$r" ">= 0.7" "$(meets "$r" ">=" 0.7)"

# 4. N get lines: multi-gets, against gets one round trip each.
seq 1 "$N" | awk '{ print "get bench:s" $1 }' >"$tmp/gets"
t0=$(now); $FSMC -c "$cfg" -f "$tmp/gets" >/dev/null 2>"$tmp/err"; t1=$(now)
ours=$(awk -v n="$N" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
memcslap --servers="$server" --test=get --concurrency=1 \
    --execute-number="$N" >"$tmp/slap" 2>&1
theirs=$(awk '/^Time to get/ { printf "%.0f", $4 / $(NF - 1) }' "$tmp/slap")
r=$(ratio "$ours" "$theirs")
record "$N get lines (-f, multi-get)" "memcslap --test=get -c 1" \
    "$ours/s" "$theirs/s" "rate" "$r" ">= 5" "$(meets "$r" ">=" 5)"

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
