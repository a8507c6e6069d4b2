#!/usr/bin/env bash
# make valgrind: representative commands of fsmemcache under valgrind,
# against a memcached of their own (started by with-memcached.sh, which
# passes its port).  Each case must end with its own exit status, not
# valgrind's 99: no invalid read or write, no use of uninitialised
# memory, and no leak, definite, indirect or possible.  Libraries' own
# blocks are suppressed only as valgrind.supp explains.
#
#	bash tests/fuzz/valgrind.sh ./fsmemcache PORT
set -u

bin=$1 port=$2
dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0 cases=0

cfg=$tmp/fsmemcache.cfg
printf 'servers = "127.0.0.1:%s";\n' "$port" >"$cfg"
printf 's3cr3t\n' >"$tmp/secret"
chmod 600 "$tmp/secret"
cat >"$tmp/full.cfg" <<CFG
servers = ( { host = "127.0.0.1"; port = $port; weight = 2; },
            { socket = "$tmp/nothing.sock"; } );
namespace = "fs:";
distribution = "ketama";
hash = "md5";
timeouts = { connect_ms = 500; io_ms = 500; retry_s = 1; };
failover = { remove_failed_servers = true; failure_limit = 2; };
sasl = { username = "fs"; password_file = "$tmp/secret"; };
profiles = { other = { servers = "127.0.0.1:$port"; namespace = "o:"; }; };
CFG
cat >"$tmp/state.cfg" <<CFG
servers = "127.0.0.1:1, 127.0.0.1:$port";
failover = { failure_limit = 1; state_file = "$tmp/state"; };
CFG
printf 'servers = ( { host = "127.0.0.1"; port = ' >"$tmp/truncated.cfg"
printf 'set a 1\nget a\nget b\n# comment\n\nincrement hits 2\nset bad\\skey v\nget a\ngetflags a\ndelete a\nfrobnicate\nset k2 v 0 1f\nget k2\n' \
    >"$tmp/batch.txt"
printf 'set p1 v1\nset p2 v2 0 ff\ndelete p4\nadd p3 v3\n' >"$tmp/pipe.txt"
{
	printf 'get a\nset x '
	head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' 'x'
	printf '\nget a\n'
} >"$tmp/longline.txt"
printf 'a\0b\r\nEND\r\n' >"$tmp/binary"
head -c $((2 * 1024 * 1024)) /dev/zero >"$tmp/big"

# check STATUS [<FILE] ARGUMENT...: run fsmemcache under valgrind.
check() {
	local want=$1 input=/dev/null status log
	shift
	case $1 in
	\<*)
		input=${1#<}
		shift
		;;
	esac
	cases=$((cases + 1))
	log=$tmp/valgrind.$cases.log
	valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect,possible \
	    --show-leak-kinds=definite,indirect,possible \
	    --suppressions="$dir/valgrind.supp" --log-file="$log" \
	    "$bin" "$@" <"$input" >/dev/null 2>"$tmp/stderr"
	status=$?
	if [ "$status" -ne "$want" ] || [ -s "$log" ]; then
		failures=$((failures + 1))
		printf 'valgrind: FAIL: fsmemcache %s: exit %d, want %d\n' \
		    "$*" "$status" "$want"
		sed 's/^/    /' "$tmp/stderr" "$log"
	else
		printf 'valgrind: ok: fsmemcache %s\n' "$*"
	fi
}

c=(-c "$cfg")
check 0 -V
check 0 -h
check 0 "${c[@]}" set key value 0 1f
check 0 "${c[@]}" get key
check 0 "${c[@]}" getflags key
check 2 "${c[@]}" add key other
check 0 "${c[@]}" replace key value2
check 0 "${c[@]}" append key -tail
check 0 "${c[@]}" prepend key head-
check 0 "${c[@]}" touch key 60
check 0 "${c[@]}" increment counter 5 0 ff
check 0 "${c[@]}" decrement counter 2
check 0 "${c[@]}" where key
check 0 "${c[@]}" delete key
check 1 "${c[@]}" get key
check 0 "${c[@]}" status
check 0 "${c[@]}" status verbose
check 0 "${c[@]}" -q set quiet v
check 0 "${c[@]}" -e "set spaced 'a b \\'c\\'' 0 ff"
check 0 "${c[@]}" -e "^^|set|caret|x y"
check 0 "${c[@]}" --binary set bin-proto v
check 0 "<$tmp/binary" "${c[@]}" -x set binary
check 0 "${c[@]}" get binary
check 0 "${c[@]}" --json get binary
check 0 "${c[@]}" --json status verbose
check 0 "${c[@]}" --json -e "get caret"
check 0 "${c[@]}" --namespace ns: set nskey v
check 65 "<$tmp/big" "${c[@]}" -x set big
check 65 "${c[@]}" set 'bad key' v
check 65 "${c[@]}" -e "set 'a\r\nflush_all' v"
check 65 "${c[@]}" set key v notanumber
check 65 "${c[@]}" increment key 99999999999
check 64 "${c[@]}" frobnicate
check 64 "${c[@]}" --no-such-option
check 64 "${c[@]}" set onlykey
check 65 "${c[@]}" -f "$tmp/batch.txt"
check 65 "${c[@]}" --json --stop-on-error -f "$tmp/batch.txt"
check 0 "${c[@]}" --pipe --verify -f "$tmp/pipe.txt"
check 0 "<$tmp/pipe.txt" "${c[@]}" --pipe --verify -f -
check 65 "${c[@]}" -f "$tmp/longline.txt"
check 66 "${c[@]}" -f "$tmp/no-such-file"
check 66 "${c[@]}" -f "$tmp"
check 69 -c "$cfg" -s 127.0.0.1:1 get key
check 69 -c "$cfg" -s "$tmp/nothing.sock" status verbose
# A dead server skipped: recorded in the state file, read back from it.
check 69 -c "$tmp/state.cfg" -f "$tmp/batch.txt"
check 69 -c "$tmp/state.cfg" -f "$tmp/batch.txt"
check 0 -c "$tmp/full.cfg" -n
check 0 -c "$tmp/full.cfg" -p other -n
check 78 -c "$tmp/truncated.cfg" get key
check 78 -c "$tmp/no-such.cfg" get key
# The commands that ask every server, a thread each: the server under
# two names, and a server that is not there.
two=(-c "$cfg" -s "127.0.0.1:$port,localhost:$port")
check 0 "${two[@]}" status verbose
check 0 "${two[@]}" keys -l
check 0 "${two[@]}" --json keys --big 2
check 0 "${two[@]}" stats
check 0 "${two[@]}" slabs
check 0 "${two[@]}" -r 1 latency
check 0 "${two[@]}" -i 0.01 health
check 0 "${two[@]}" dump
check 69 -c "$cfg" -s "127.0.0.1:$port,$tmp/nothing.sock" status verbose
check 69 -c "$cfg" -s "127.0.0.1:$port,$tmp/nothing.sock" keys
check 0 "${two[@]}" flush
check 0 "${c[@]}" flush

printf 'valgrind: %d cases, %d failed\n' "$cases" "$failures"
[ "$failures" -eq 0 ]
