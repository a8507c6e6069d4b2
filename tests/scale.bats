#!/usr/bin/env bats
# Scaling out and sharing data: key placement as pylibmc, PHP and mod_memcache place keys, Ruby Dalli and pymemcache reading and writing the same items, twemproxy (nutcracker) in front of a pool, and replicas.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

# Debian's Python, the one python3-pylibmc and python3-pymemcache are for.
PY=${FSMC_PYTHON:-/usr/bin/python3}
SCALE=$BATS_TEST_DIRNAME/scale
COUNT=1000

# Servers: a pool of three (POOL, "127.0.0.1:P1,..."), the file's own
# server (MC_PORT) for the other languages' clients, and nutcracker
# (NC_PORT) in front of the first two of the pool.
setup_file() {
	local THREE THREE_PIDS
	three
	POOL=$THREE
	PAIR=${THREE%,*}
	nc_spawn "${PAIR%,*}" "${PAIR#*,}"
	mc_start
	export POOL PAIR NC_PORT
}

# Start three servers; sets THREE to "127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3"
# and THREE_PIDS to their process ids.
three() {
	local n
	THREE=
	THREE_PIDS=()
	for n in 1 2 3; do
		mc_spawn
		# shellcheck disable=SC2153 # mc_spawn sets MC_PORT
		THREE+=${THREE:+,}127.0.0.1:$MC_PORT
		THREE_PIDS[n - 1]=$MC_PID
	done
}

teardown_file() { mc_stop; }

# Start nutcracker on a free loopback port in front of the servers given
# as host:port, and wait until it listens.  Sets NC_PORT; mc_stop stops
# it with the servers.
nc_spawn() {
	local try port stats pid s conf=$BATS_FILE_TMPDIR/nutcracker.yml
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
		stats=$((10000 + (RANDOM * 32768 + RANDOM) % 22000))
		{
			printf 'scale:\n  listen: 127.0.0.1:%d\n' "$port"
			printf '  hash: fnv1a_64\n  distribution: ketama\n'
			printf '  timeout: 400\n  auto_eject_hosts: false\n'
			printf '  servers:\n'
			for s in "$@"; do
				printf '    - %s:1\n' "$s"
			done
		} >"$conf"
		nutcracker -c "$conf" -a 127.0.0.1 -s "$stats" \
		    -o "$BATS_FILE_TMPDIR/nutcracker.log" \
		    -p "$BATS_FILE_TMPDIR/nutcracker.pid" 3>&- &
		pid=$!
		if wait_port "$port" "$pid"; then
			NC_PORT=$port
			echo "$pid" >>"$BATS_FILE_TMPDIR/memcached.pids"
			return 0
		fi
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		: "port $port or $stats busy after try $try"
	done
	echo "could not start nutcracker" >&2
	return 1
}

# fsmemcache with the configuration file $1 and nothing from the
# environment.
fsmc_cfg() {
	local cfg=$1
	shift
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS "$FSMC_BIN" -c "$cfg" "$@"
}

# Write a configuration file: the lines given after its name.
write_cfg() {
	local file=$1
	shift
	printf '%s\n' "$@" >"$file"
}

# A batch of COUNT lines "COMMAND PREFIXn [VALUEPREFIXn]", n from 1.
keys_batch() {
	awk -v c="$1" -v p="$2" -v v="${3-}" -v n="$COUNT" \
	    'BEGIN { for (i = 1; i <= n; i++) print c, p i (v == "" ? "" : " " v i) }'
}

# The lines VALUEPREFIXn, n from 1 to COUNT.
values() {
	awk -v v="$1" -v n="$COUNT" 'BEGIN { for (i = 1; i <= n; i++) print v i }'
}

# COUNT lines of +OK.
oks() {
	awk -v n="$COUNT" 'BEGIN { for (i = 1; i <= n; i++) print "+OK" }'
}

# The servers of a pool as fsmemcache's server string, "a, b, c".
servers_string() {
	printf '%s' "${1//,/, }"
}

# A key's round trip between fsmemcache (configuration $1, servers $2)
# and another client: the command after the first five arguments, to
# which SERVERS KEYPREFIX COUNT check|write VALUEPREFIX are appended.
# The items are NAMESPACE ($3) PREFIX ($4) n; fsmemcache names them
# PREFIXn, the client CLIENTPREFIX ($5) n.  fsmemcache stores COUNT
# keys; the client finds every one; the client overwrites them; read
# directly, each sits on one server, the one fsmemcache's where names;
# fsmemcache reads the client's values.
round_trip() {
	local cfg=$1 servers=$2 ns=$3 prefix=$4 cprefix=$5 d=$BATS_TEST_TMPDIR
	shift 5
	keys_batch set "$prefix" fs- >"$d/set"
	fsmc_cfg "$cfg" -f "$d/set" >"$d/out" 2>"$d/err"
	oks | cmp - "$d/out"
	run -0 "$@" "$servers" "$cprefix" "$COUNT" check fs-
	[ "$output" = "found $COUNT of $COUNT" ]
	run -0 "$@" "$servers" "$cprefix" "$COUNT" write cl-
	[ "$output" = "wrote $COUNT" ]
	"$PY" "$SCALE/on-servers.py" "$servers" "$ns$prefix" "$COUNT" cl- \
	    >"$d/holders"
	keys_batch where "$prefix" >"$d/where"
	fsmc_cfg "$cfg" -f "$d/where" >"$d/placed" 2>"$d/err"
	cmp "$d/holders" "$d/placed"
	keys_batch get "$prefix" >"$d/get"
	fsmc_cfg "$cfg" -f "$d/get" >"$d/values" 2>"$d/err"
	values cl- | cmp - "$d/values"
}

# How many keys of COUNT a client finds: N of "found N of COUNT".
found() {
	"$@" | sed -n "s/^found \([0-9]*\) of $COUNT\$/\1/p"
}

# Placement over a pool of three: each distribution against the client
# configured the matching way.

@test "modula (the default) places $COUNT keys as pylibmc's defaults (and mod_memcache) do" {
	local cfg=$BATS_TEST_TMPDIR/modula.cfg
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";"
	round_trip "$cfg" "$POOL" "" mod- mod- \
	    "$PY" "$SCALE/pylibmc-keys.py" modula
}

@test "ketama places $COUNT keys as pylibmc with behaviors={\"ketama\": True}" {
	local cfg=$BATS_TEST_TMPDIR/ketama.cfg
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" \
	    'distribution = "ketama";'
	round_trip "$cfg" "$POOL" "" ket- ket- \
	    "$PY" "$SCALE/pylibmc-keys.py" ketama
}

@test "ketama with weights 1, 2, 3 places keys as pylibmc's ketama with the same weights" {
	local cfg=$BATS_TEST_TMPDIR/ketama-w.cfg servers
	servers=$(echo "$POOL" | awk -F, '{ print $1 ":1," $2 ":2," $3 ":3" }')
	write_cfg "$cfg" "servers = \"$(servers_string "$servers")\";" \
	    'distribution = "ketama";'
	round_trip "$cfg" "$servers" "" ketw- ketw- \
	    "$PY" "$SCALE/pylibmc-keys.py" ketama
}

@test "ketama-weighted places keys as pylibmc with behaviors={\"ketama_weighted\": True}" {
	local cfg=$BATS_TEST_TMPDIR/kw.cfg
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" \
	    'distribution = "ketama-weighted";'
	round_trip "$cfg" "$POOL" "" kwpy- kwpy- \
	    "$PY" "$SCALE/pylibmc-keys.py" ketama_weighted
}

@test "hash = \"fnv1a_32\" places keys as pylibmc with behaviors={\"hash\": \"fnv1a_32\"}" {
	local cfg=$BATS_TEST_TMPDIR/fnv.cfg
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" \
	    'hash = "fnv1a_32";'
	round_trip "$cfg" "$POOL" "" fnv- fnv- \
	    "$PY" "$SCALE/pylibmc-keys.py" hash=fnv1a_32
}

@test "a namespace is hashed with the key: pylibmc finds freeswitch:KEY where fsmemcache put KEY" {
	local cfg=$BATS_TEST_TMPDIR/ns.cfg
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" \
	    'distribution = "ketama";' 'namespace = "freeswitch:";'
	round_trip "$cfg" "$POOL" freeswitch: ns- freeswitch:ns- \
	    "$PY" "$SCALE/pylibmc-keys.py" ketama
}

@test "PHP with OPT_LIBKETAMA_COMPATIBLE finds every key ketama-weighted wrote, equal weights" {
	local cfg=$BATS_TEST_TMPDIR/php.cfg
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" \
	    'distribution = "ketama-weighted";'
	round_trip "$cfg" "$POOL" "" php- php- php "$SCALE/php-keys.php"
}

@test "PHP with OPT_LIBKETAMA_COMPATIBLE and weights 3, 1, 2: ketama-weighted honours the weights alike" {
	local cfg=$BATS_TEST_TMPDIR/php-w.cfg servers
	servers=$(echo "$POOL" | awk -F, '{ print $1 ":3," $2 ":1," $3 ":2" }')
	write_cfg "$cfg" "servers = \"$(servers_string "$servers")\";" \
	    'distribution = "ketama-weighted";'
	round_trip "$cfg" "$servers" "" phpw- phpw- php "$SCALE/php-keys.php"
}

@test "PHP with OPT_PREFIX_KEY and OPT_HASH_WITH_PREFIX_KEY agrees with a namespace" {
	local cfg=$BATS_TEST_TMPDIR/php-ns.cfg
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" \
	    'distribution = "ketama-weighted";' 'namespace = "freeswitch:";'
	round_trip "$cfg" "$POOL" freeswitch: phpns- phpns- \
	    env PHP_PREFIX_KEY=freeswitch: php "$SCALE/php-keys.php"
}

@test "PHP's defaults agree with modula, and DISTRIBUTION_CONSISTENT with ketama" {
	local cfg=$BATS_TEST_TMPDIR/php-mod.cfg
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";"
	round_trip "$cfg" "$POOL" "" phpmod- phpmod- \
	    env PHP_DISTRIBUTION=modula php "$SCALE/php-keys.php"
	cfg=$BATS_TEST_TMPDIR/php-cons.cfg
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" \
	    'distribution = "ketama";'
	round_trip "$cfg" "$POOL" "" phpcons- phpcons- \
	    env PHP_DISTRIBUTION=consistent php "$SCALE/php-keys.php"
}

@test "pylibmc's ketama and PHP's libketama mode place keys differently: each needs its own setting" {
	local cfg=$BATS_TEST_TMPDIR/apart.cfg n
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" \
	    'distribution = "ketama-weighted";'
	keys_batch set apart1- fs- >"$BATS_TEST_TMPDIR/set"
	fsmc_cfg "$cfg" -f "$BATS_TEST_TMPDIR/set" >/dev/null 2>&1
	n=$(found "$PY" "$SCALE/pylibmc-keys.py" ketama "$POOL" apart1- "$COUNT" check fs-)
	[ "$n" -lt "$((COUNT * 9 / 10))" ]
	n=$(found php "$SCALE/php-keys.php" "$POOL" apart1- "$COUNT" check fs-)
	[ "$n" -eq "$COUNT" ]
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" \
	    'distribution = "ketama";'
	keys_batch set apart2- fs- >"$BATS_TEST_TMPDIR/set"
	fsmc_cfg "$cfg" -f "$BATS_TEST_TMPDIR/set" >/dev/null 2>&1
	n=$(found php "$SCALE/php-keys.php" "$POOL" apart2- "$COUNT" check fs-)
	[ "$n" -lt "$((COUNT * 9 / 10))" ]
	n=$(found "$PY" "$SCALE/pylibmc-keys.py" ketama "$POOL" apart2- "$COUNT" check fs-)
	[ "$n" -eq "$COUNT" ]
}

# Ruby's Dalli, on one server (Dalli's own ring, CRC32 and SHA1, matches
# no libmemcached distribution).

@test "Dalli with namespace \"freeswitch\" reads test where fsmemcache set freeswitch:test" {
	run -0 fsmc -e "set freeswitch:test 'This is a test'"
	[ "$output" = "+OK" ]
	run -0 ruby "$SCALE/dalli.rb" "127.0.0.1:$MC_PORT" freeswitch get test raw
	[ "$output" = "This is a test" ]
	run -0 fsmc --namespace freeswitch: set test2 'Another test'
	run -0 ruby "$SCALE/dalli.rb" "127.0.0.1:$MC_PORT" freeswitch get test2 raw
	[ "$output" = "Another test" ]
}

@test "fsmemcache reads what Dalli wrote raw, flags 0" {
	local f=$BATS_TEST_TMPDIR/v
	printf 'from ruby' >"$f"
	run -0 ruby "$SCALE/dalli.rb" "127.0.0.1:$MC_PORT" freeswitch set raw1 "$f" raw
	[ "$output" = "stored" ]
	run -0 --separate-stderr to_file fsmc get freeswitch:raw1
	out_is 'from ruby'
	run -0 --separate-stderr to_file fsmc --namespace freeswitch: getflags raw1
	out_is '0'
}

@test "Dalli's serialized values carry flag 1 (Marshal) both ways" {
	local f=$BATS_TEST_TMPDIR/v
	printf 'This is a test' >"$f"
	run -0 ruby "$SCALE/dalli.rb" "127.0.0.1:$MC_PORT" freeswitch set ser1 "$f" serialize
	run -0 --separate-stderr to_file fsmc getflags freeswitch:ser1
	out_is '1'
	ruby -e 'print Marshal.dump("This is a test")' >"$f.marshal"
	to_file fsmc get freeswitch:ser1
	cmp "$f.marshal" "$BATS_TEST_TMPDIR/stdout"
	run -0 fsmc -x set freeswitch:ser2 0 1 <"$f.marshal"
	run -0 ruby "$SCALE/dalli.rb" "127.0.0.1:$MC_PORT" freeswitch get ser2 deserialize
	[ "$output" = "This is a test" ]
}

@test "Dalli compresses 4 KiB and more: flag 2 with zlib data, 3 when serialized too" {
	local f=$BATS_TEST_TMPDIR/big
	"$PY" -c 'print("This is a test. " * 400, end="")' >"$f"
	run -0 ruby "$SCALE/dalli.rb" "127.0.0.1:$MC_PORT" freeswitch set big1 "$f" raw
	run -0 --separate-stderr to_file fsmc getflags freeswitch:big1
	out_is '2'
	to_file fsmc get freeswitch:big1
	"$PY" -c 'import sys, zlib; sys.stdout.buffer.write(zlib.decompress(open(sys.argv[1], "rb").read()))' \
	    "$BATS_TEST_TMPDIR/stdout" | cmp - "$f"
	"$PY" -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))' \
	    <"$f" | fsmc -x set freeswitch:big2 0 2
	ruby "$SCALE/dalli.rb" "127.0.0.1:$MC_PORT" freeswitch get big2 raw | cmp - "$f"
	run -0 ruby "$SCALE/dalli.rb" "127.0.0.1:$MC_PORT" freeswitch set big3 "$f" serialize
	run -0 --separate-stderr to_file fsmc getflags freeswitch:big3
	out_is '3'
}

# pymemcache, on one server (its HashClient's rendezvous hashing matches
# no libmemcached distribution).

@test "pymemcache reads fsmemcache's value and flags byte for byte" {
	local f=$BATS_TEST_TMPDIR/bytes
	"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4)' >"$f"
	run -0 fsmc -x set pym1 0 fffffffe <"$f"
	run -0 "$PY" "$SCALE/pymemcache-io.py" "127.0.0.1:$MC_PORT" get pym1 "$f.got"
	[ "$output" = "fffffffe" ]
	cmp "$f" "$f.got"
}

@test "fsmemcache reads pymemcache's value and flags byte for byte" {
	local f=$BATS_TEST_TMPDIR/bytes
	"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(255, -1, -1)) * 3)' >"$f"
	run -0 "$PY" "$SCALE/pymemcache-io.py" "127.0.0.1:$MC_PORT" set pym2 8000001f "$f"
	[ "$output" = "stored" ]
	to_file fsmc get pym2
	cmp "$f" "$BATS_TEST_TMPDIR/stdout"
	run -0 --separate-stderr to_file fsmc getflags pym2
	out_is '8000001f'
}

# twemproxy (Debian's nutcracker) in front of two servers.

@test "through nutcracker every key command answers as memcached's own" {
	local cfg=$BATS_TEST_TMPDIR/nc.cfg k=nc$BATS_TEST_NUMBER
	write_cfg "$cfg" "servers = \"127.0.0.1:$NC_PORT\";"
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" 'This is a test' 0 1f
	out_is '+OK\n'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'This is a test'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" getflags "$k"
	out_is '1f'
	run -2 --separate-stderr to_file fsmc_cfg "$cfg" add "$k" again
	out_is '-ERR NOT STORED\n'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" replace "$k" second
	out_is '+OK\n'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" append "$k" ' end'
	out_is '+OK\n'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" prepend "$k" 'start '
	out_is '+OK\n'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'start second end'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" touch "$k" 100
	out_is '+OK\n'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" delete "$k"
	out_is '+OK\n'
	run -1 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is '-ERR NOT FOUND\n'
	run -1 --separate-stderr to_file fsmc_cfg "$cfg" delete "$k"
	out_is '-ERR NOT FOUND\n'
	run -2 --separate-stderr to_file fsmc_cfg "$cfg" replace "$k" none
	out_is '-ERR NOT STORED\n'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" add "$k" 5
	out_is '+OK\n'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" increment "$k" 10
	out_is '15'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" decrement "$k" 20
	out_is '0'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" increment "$k-new" 7
	out_is '7'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" decrement "$k-new2"
	out_is '0'
	run -1 --separate-stderr to_file fsmc_cfg "$cfg" touch "$k-none" 10
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "" ]
}

@test "through nutcracker keys spread over both servers; a batch reads them back" {
	local cfg=$BATS_TEST_TMPDIR/nc.cfg d=$BATS_TEST_TMPDIR
	write_cfg "$cfg" "servers = \"127.0.0.1:$NC_PORT\";"
	keys_batch set ncs- v- >"$d/set"
	fsmc_cfg "$cfg" -f "$d/set" >"$d/out" 2>"$d/err"
	oks | cmp - "$d/out"
	"$PY" "$SCALE/on-servers.py" "$PAIR" ncs- "$COUNT" v- >"$d/holders"
	keys_batch get ncs- >"$d/get"
	fsmc_cfg "$cfg" -f "$d/get" >"$d/values" 2>"$d/err"
	values v- | cmp - "$d/values"
}

@test "through nutcracker flush fails at once: -ERR ACTION NOT SUPPORTED, exit 76, nothing flushed" {
	local cfg=$BATS_TEST_TMPDIR/nc.cfg k=nc$BATS_TEST_NUMBER t0 ms
	write_cfg "$cfg" "servers = \"127.0.0.1:$NC_PORT\";"
	run -0 fsmc_cfg "$cfg" set "$k" kept
	t0=$(date +%s%N)
	run -76 --separate-stderr to_file fsmc_cfg "$cfg" flush
	ms=$((($(date +%s%N) - t0) / 1000000))
	out_is '-ERR ACTION NOT SUPPORTED\n'
	[ "$stderr" = "fsmemcache: flush: flush_all is not supported: the server closed the connection without a reply, as a proxy such as twemproxy does (127.0.0.1:$NC_PORT)" ]
	[ "$ms" -lt 900 ]
	run -76 --separate-stderr to_file fsmc_cfg "$cfg" -q flush 10
	out_is ''
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'kept'
}

@test "through nutcracker status verbose: ACTION NOT SUPPORTED, exit 76; plain status lists the proxy" {
	local cfg=$BATS_TEST_TMPDIR/nc.cfg v
	v=$(lib_version)
	write_cfg "$cfg" "servers = \"127.0.0.1:$NC_PORT\";"
	run -76 --separate-stderr to_file fsmc_cfg "$cfg" status verbose
	out_is "Lib version: $v\nServers: 1\n  127.0.0.1 ($NC_PORT)\n    error: ACTION NOT SUPPORTED\n"
	[ "$stderr" = "fsmemcache: status: stats is not supported: the server closed the connection without a reply, as a proxy such as twemproxy does (127.0.0.1:$NC_PORT)" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" status
	out_is "Lib version: $v\nServers: 1\n  127.0.0.1 ($NC_PORT)\n"
	[ "$stderr" = "" ]
}

@test "through nutcracker the binary protocol fails at once: key commands 69, flush and status verbose PROTOCOL ERROR, 76" {
	local cfg=$BATS_TEST_TMPDIR/nc-bin.cfg k=nc$BATS_TEST_NUMBER v why
	v=$(lib_version)
	why="the binary protocol is not supported: the server closed the connection, yet answers the text protocol, as a proxy such as twemproxy does (127.0.0.1:$NC_PORT)"
	write_cfg "$cfg" "servers = \"127.0.0.1:$NC_PORT\";" 'protocol = "binary";'
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" v
	out_is '-ERR CONNECTION FAILURE\n'
	[ "$stderr" = "fsmemcache: set $k: connection failure (127.0.0.1:$NC_PORT)" ]
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is '-ERR CONNECTION FAILURE\n'
	run -76 --separate-stderr to_file fsmc_cfg "$cfg" flush
	out_is '-ERR PROTOCOL ERROR\n'
	[ "$stderr" = "fsmemcache: flush: $why" ]
	run -76 --separate-stderr to_file fsmc_cfg "$cfg" status verbose
	out_is "Lib version: $v\nServers: 1\n  127.0.0.1 ($NC_PORT)\n    error: PROTOCOL ERROR\n"
	[ "$stderr" = "fsmemcache: status: $why" ]
}

@test "a memcached started with -F refuses flush: -ERR ACTION NOT SUPPORTED, exit 76" {
	mc_spawn -F
	run -76 --separate-stderr to_file fsmc -s "127.0.0.1:$MC_PORT" flush
	out_is '-ERR ACTION NOT SUPPORTED\n'
	[ "$stderr" = "fsmemcache: flush: the server refused flush_all: client error (127.0.0.1:$MC_PORT)" ]
	mc_kill "$MC_PID"
}

@test "a flush over a pool with a dead server and a proxy flushes the others and names the first, exit 69" {
	local dead
	dead=$(dead_port)
	mc_spawn
	run -69 --separate-stderr to_file fsmc -s "127.0.0.1:$dead, 127.0.0.1:$MC_PORT, 127.0.0.1:$NC_PORT" flush
	out_is '-ERR SOME ERRORS WERE REPORTED\n'
	[ "$stderr" = "fsmemcache: flush: connection refused (127.0.0.1:$dead) and 1 more server" ]
	[ "$(mc_stat cmd_flush)" = 1 ]
	mc_kill "$MC_PID"
}

# Replicas: libmemcached's replication, in the binary protocol.

@test "replicas = 2 over three servers: every key on all three; with one killed every key is still read" {
	local cfg=$BATS_TEST_TMPDIR/r2.cfg d=$BATS_TEST_TMPDIR THREE THREE_PIDS
	three
	write_cfg "$cfg" "servers = \"$(servers_string "$THREE")\";" 'replicas = 2;'
	keys_batch set r2- v- >"$d/set"
	fsmc_cfg "$cfg" -f "$d/set" >"$d/out" 2>"$d/err"
	oks | cmp - "$d/out"
	"$PY" "$SCALE/on-servers.py" "$THREE" r2- "$COUNT" v- 3 >/dev/null
	mc_kill "${THREE_PIDS[1]}"
	keys_batch get r2- >"$d/get"
	run -0 --separate-stderr fsmc_cfg "$cfg" -f "$d/get"
	values v- | cmp - <(printf '%s\n' "$output")
}

@test "replicas = 1: a copy on the next server in the list; with one killed every key is read, a set of its keys fails" {
	local cfg=$BATS_TEST_TMPDIR/r1.cfg d=$BATS_TEST_TMPDIR THREE THREE_PIDS
	local first lost key
	three
	write_cfg "$cfg" "servers = \"$(servers_string "$THREE")\";" 'replicas = 1;'
	keys_batch set r1- v- >"$d/set"
	fsmc_cfg "$cfg" -f "$d/set" >"$d/out" 2>"$d/err"
	oks | cmp - "$d/out"
	"$PY" "$SCALE/on-servers.py" "$THREE" r1- "$COUNT" v- 2 >"$d/holders"
	# Each key is on the server where names and on the next one.
	keys_batch where r1- >"$d/where"
	fsmc_cfg "$cfg" -f "$d/where" >"$d/placed" 2>"$d/err"
	awk -v pool="$THREE" 'BEGIN { n = split(pool, s, ",")
		for (i = 1; i <= n; i++) next_of[s[i]] = s[i % n + 1] }
	    { a = $0; b = next_of[a]; print (a == s[n] ? b " " a : a " " b) }' \
	    "$d/placed" | cmp - "$d/holders"
	first=${THREE%%,*}
	mc_kill "${THREE_PIDS[0]}"
	keys_batch get r1- >"$d/get"
	run -0 --separate-stderr fsmc_cfg "$cfg" -f "$d/get"
	values v- | cmp - <(printf '%s\n' "$output")
	# Writes go to the key's own server first: with it down, set fails.
	lost=$(grep -n -x -m 1 -F "$first" "$d/placed" | cut -d: -f1)
	key=r1-$lost
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" set "$key" new
	out_is '-ERR CONNECTION FAILURE\n'
	[ "$stderr" = "fsmemcache: set $key: connection refused ($first)" ]
}

@test "replicas: -n shows them and the binary protocol; too many for the servers, or ascii, is exit 78" {
	local cfg=$BATS_TEST_TMPDIR/rn.cfg
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" 'replicas = 2;'
	run -0 --separate-stderr fsmc_cfg "$cfg" -n
	[ "$stderr" = "" ]
	run -0 grep -c -x -e 'protocol = "binary";' -e 'replicas = 2;' <<<"$output"
	[ "$output" = 2 ]
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" 'replicas = 3;'
	run -78 --separate-stderr fsmc_cfg "$cfg" -n
	[ "$stderr" = "fsmemcache: $cfg: replicas: 3 copies need at least 4 servers, not 3" ]
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" 'replicas = 1;' \
	    'protocol = "ascii";'
	run -78 --separate-stderr fsmc_cfg "$cfg" -n
	[ "$stderr" = "fsmemcache: $cfg:3: protocol: replicas need the binary protocol" ]
	write_cfg "$cfg" "servers = \"$(servers_string "$POOL")\";" 'replicas = 16;'
	run -78 --separate-stderr fsmc_cfg "$cfg" -n
	[ "$stderr" = "fsmemcache: $cfg:2: replicas: 16 is out of range (0 to 15)" ]
}
