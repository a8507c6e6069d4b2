#!/usr/bin/env bats
# dump and restore: every item with its value, flags and expiry, binary safe, as records that restore and -f read back.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

teardown() { mc_stop; }

HEADER='# fsmemcache dump: each item is "{LENGTH} set KEY EXPIRES FLAGS", a newline, LENGTH bytes of value and a newline'

# Two empty servers of the test's own: SRC_PORT and DST_PORT, with
# configurations SRC_CFG and DST_CFG (FSMC_CFG is the source's).
two_servers() {
	mc_spawn "$@"
	SRC_PORT=$MC_PORT
	mc_spawn "$@"
	DST_PORT=$MC_PORT
	SRC_CFG=$BATS_TEST_TMPDIR/src.cfg
	DST_CFG=$BATS_TEST_TMPDIR/dst.cfg
	printf 'servers = "127.0.0.1:%d";\n' "$SRC_PORT" >"$SRC_CFG"
	printf 'servers = "127.0.0.1:%d";\n' "$DST_PORT" >"$DST_CFG"
	FSMC_CFG=$SRC_CFG
	MC_PORT=$SRC_PORT
}

# fsmemcache on the destination.
dst() {
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS "$FSMC_BIN" -c "$DST_CFG" "$@"
}

# The Unix time memcached on port $1 has now.
server_time() {
	local saved=$MC_PORT t
	MC_PORT=$1
	t=$(mc_stat time)
	MC_PORT=$saved
	printf '%s' "$t"
}

# The seconds left to key $1 on port $2, as memcached's meta get tells.
ttl_on() {
	local saved=$MC_PORT t
	MC_PORT=$2
	t=$(mc_raw "mg $1 t" | sed -n 's/^HD t//p')
	MC_PORT=$saved
	printf '%s' "$t"
}

# Whether the standard output that to_file kept, without its summary,
# is exactly the bytes printf %b makes of the header line and $1.
dump_is() {
	printf '%s\n%b' "$HEADER" "$1" | cmp - "$BATS_TEST_TMPDIR/stdout"
}

@test "dump | restore: 100,000 keys, values with NUL, CR, LF and bytes that are not UTF-8, every value and flag byte for byte and every TTL within 2 s" {
	local load=$BATS_TEST_TMPDIR/load.txt
	two_servers
	# Records, as -f reads them: keys with quotes and backslashes
	# too, a third never expiring, the others in 100 to 5099 s.
	python3 - "$load" <<'EOF'
import random, sys
random.seed(14)
with open(sys.argv[1], "wb") as f:
    for i in range(100000):
        key = b"k%d" % i if i % 1000 else b"q'%d\\x\"" % i
        value = bytes([0, 13, 10, 255, 0xc3, i % 256]) + bytes(
            random.randrange(256) for _ in range(i % 61))
        exp = 0 if i % 3 == 0 else 100 + i % 5000
        f.write(b"{%d} set %s %d %x\n" % (len(value),
            key.replace(b"\\", b"\\\\").replace(b"'", b"\\'"), exp,
            (i * 2654435761) & 0xffffffff) + value + b"\n")
EOF
	run -0 --separate-stderr fsmc --pipe -f "$load"
	# shellcheck disable=SC2016 # the inner shell's arguments
	run -0 --separate-stderr bash -c '
		set -o pipefail
		"$1" -c "$2" dump | "$1" -c "$3" restore' \
	    roundtrip "$FSMC_BIN" "$SRC_CFG" "$DST_CFG"
	[ "$output" = "" ]
	[[ ${stderr_lines[0]} =~ ^fsmemcache:\ dump:\ 100000\ items,\ 0\ skipped\;\ [0-9.]+\ s$ ]]
	[[ ${stderr_lines[1]} =~ ^fsmemcache:\ restore:\ 100000\ items:\ 100000\ stored,\ 0\ expired,\ 0\ refused\;\ [0-9.]+\ s$ ]]
	# Read every key from both servers directly: values and flags
	# equal to what was loaded, TTLs within 2 s of each other.
	run -0 python3 - "$SRC_PORT" "$DST_PORT" <<'EOF'
import random, socket, sys

random.seed(14)
def reader(port):
    s = socket.create_connection(("127.0.0.1", int(port)))
    return s, s.makefile("rb")

def fetch(conn, keys):
    s, r = conn
    s.sendall(b"".join(b"mg %s v f t\r\n" % k for k in keys))
    out = []
    for k in keys:
        line = r.readline().rstrip(b"\r\n").split(b" ")
        assert line[0] == b"VA", (k, line)
        n = int(line[1])
        data = r.read(n + 2)
        assert data[n:] == b"\r\n"
        tok = {t[:1]: t[1:] for t in line[2:]}
        out.append((data[:n], int(tok[b"f"]), int(tok[b"t"])))
    return out

src, dst = reader(sys.argv[1]), reader(sys.argv[2])
want = []
for i in range(100000):
    key = b"k%d" % i if i % 1000 else b"q'%d\\x\"" % i
    value = bytes([0, 13, 10, 255, 0xc3, i % 256]) + bytes(
        random.randrange(256) for _ in range(i % 61))
    want.append((key, value, (i * 2654435761) & 0xffffffff,
                 -1 if i % 3 == 0 else 100 + i % 5000))
worst = 0
for at in range(0, len(want), 1000):
    batch = want[at:at + 1000]
    keys = [w[0] for w in batch]
    for w, a, b in zip(batch, fetch(src, keys), fetch(dst, keys)):
        assert a[0] == w[1] == b[0], (w[0], a[0], b[0])
        assert a[1] == w[2] == b[1], (w[0], a[1], b[1])
        if w[3] == -1:
            assert a[2] == b[2] == -1, (w[0], a[2], b[2])
        else:
            assert w[3] - 60 <= a[2] <= w[3], (w[0], w[3], a[2])
            worst = max(worst, abs(a[2] - b[2]))
assert worst <= 2, worst
print("ok")
EOF
	[ "$output" = ok ]
	run -0 dst keys
	[ "${#lines[@]}" -eq 100000 ]
}

@test "dump writes a header line, then each item as {LENGTH} set KEY EXPIRES FLAGS, its value and a newline; quotes and backslashes in keys escaped" {
	two_servers
	printf 'a\0b\r\nc\377' | fsmc -x set bin 0 ff
	printf '' | fsmc -x set empty 0 0
	run -0 fsmc set "it's" 'x' 0 1
	run -0 fsmc set 'back\slash' y
	run -0 --separate-stderr fsmc_out dump bin
	dump_is '{7} set bin 0 ff\na\0b\r\nc\377\n'
	[[ $stderr =~ ^fsmemcache:\ dump:\ 1\ item,\ 0\ skipped\;\ [0-9.]+\ s$ ]]
	run -0 --separate-stderr fsmc_out dump empty
	dump_is '{0} set empty 0 0\n\n'
	run -0 --separate-stderr fsmc_out dump "it's"
	dump_is "{1} set it\\\\'s 0 1\nx\n"
	run -0 --separate-stderr fsmc_out dump "back\\"
	dump_is '{1} set back\\\\slash 0 0\ny\n'
}

@test "dump gives an item's expiry as the Unix time it expires" {
	local now exp
	two_servers
	run -0 fsmc set soon v 300
	now=$(server_time "$SRC_PORT")
	run -0 --separate-stderr fsmc_out dump soon
	exp=$(sed -n '2s/^{1} set soon \([0-9]*\) 0$/\1/p' "$BATS_TEST_TMPDIR/stdout")
	[ "$exp" -ge $((now + 298)) ]
	[ "$exp" -le $((now + 301)) ]
}

@test "dump PATTERN: a prefix or a glob, as keys has it; with nothing that matches, the header alone" {
	local k
	two_servers
	for k in user:1:session user:2:session user:1:profile other; do
		run -0 fsmc set "$k" v
	done
	# shellcheck disable=SC2016 # the inner shell's arguments
	run -0 --separate-stderr to_file sh -c \
	    '"$1" -c "$2" dump "user:*:session" | grep "^{"' dump "$FSMC_BIN" "$FSMC_CFG"
	run -0 sort "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = $'{1} set user:1:session 0 0\n{1} set user:2:session 0 0' ]
	run -0 --separate-stderr fsmc_out dump user:1
	[ "$(grep -c '^{' "$BATS_TEST_TMPDIR/stdout")" -eq 2 ]
	run -0 --separate-stderr fsmc_out dump nothing
	dump_is ''
	[[ $stderr =~ ^fsmemcache:\ dump:\ 0\ items,\ 0\ skipped ]]
}

@test "dump under a namespace writes the keys without it; restore puts them under its own" {
	two_servers
	printf 'namespace = "old:";\n' >>"$SRC_CFG"
	printf 'namespace = "new:";\n' >>"$DST_CFG"
	run -0 fsmc set a 1
	run -0 "$FSMC_BIN" -c /dev/null -s "127.0.0.1:$SRC_PORT" set b 2
	run -0 --separate-stderr fsmc_out dump
	dump_is '{1} set a 0 0\n1\n'
	run -0 --separate-stderr dst restore <"$BATS_TEST_TMPDIR/stdout"
	run -0 dst get a
	[ "$output" = 1 ]
	run -0 "$FSMC_BIN" -c /dev/null -s "127.0.0.1:$DST_PORT" get new:a
}

@test "-f reads what dump writes: each record runs its set with the value, and -f --pipe --verify reads them back" {
	two_servers
	printf 'line1\nline2\r\n\0' | fsmc -x set multi 0 a
	run -0 fsmc set plain v
	run -0 --separate-stderr to_file fsmc dump
	run -0 --separate-stderr dst -f "$BATS_TEST_TMPDIR/stdout"
	[ "$output" = $'+OK\n+OK' ]
	run -0 dst getflags multi
	[ "$output" = a ]
	dst get multi >"$BATS_TEST_TMPDIR/value"
	printf 'line1\nline2\r\n\0' | cmp - "$BATS_TEST_TMPDIR/value"
	run -0 dst flush
	run -0 --separate-stderr dst --pipe --verify -f "$BATS_TEST_TMPDIR/stdout"
	[[ $stderr == "fsmemcache: 2 lines: 2 sent, 0 errors; 2 keys: 2 verified, 0 missing, 0 differ, 0 unverified; "* ]]
}

@test "-f: a record's value may hold lines, which count in the line numbers; a record whose length is wrong stops the batch" {
	two_servers
	printf '{3} set a 0 0\nx\ny\nget nope\n{5} set b 0 0\nab\nget b\n' >"$BATS_TEST_TMPDIR/in"
	run -65 --separate-stderr fsmc -f "$BATS_TEST_TMPDIR/in"
	[ "$output" = $'+OK\n-ERR NOT FOUND' ]
	[ "${stderr_lines[0]}" = "fsmemcache: line 5: the value is not followed by a newline: its length is wrong" ]
	[[ ${stderr_lines[1]} == "fsmemcache: 3 lines: 1 ok, 1 not found, 0 not stored, 1 error; "* ]]
	run -1 fsmc get b
	printf '{x} set a 0 0\n{2} get a\nab\nget a\n' >"$BATS_TEST_TMPDIR/in"
	run -65 --separate-stderr fsmc -f "$BATS_TEST_TMPDIR/in"
	[ "${stderr_lines[0]}" = "fsmemcache: line 1: not a record: one starts \"{LENGTH} \" and a command, LENGTH below 1 GiB" ]
	[ "${stderr_lines[1]}" = "fsmemcache: line 2: get: takes no value, so none can be read from standard input" ]
	[ "$output" = $'-ERR\nx\ny' ]
}

@test "restore skips and counts records already expired, and stores the others with the time they have left" {
	local now
	two_servers
	now=$(date +%s)
	printf '{1} set past 1000000000 0\na\n{1} set gone %d 0\nb\n{1} set later %d 0\nc\n{1} set rel 50 0\nd\n{1} set never 0 0\ne\n' \
	    $((now - 1)) $((now + 100)) >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr dst restore <"$BATS_TEST_TMPDIR/in"
	[ "$output" = "" ]
	[[ $stderr =~ ^fsmemcache:\ restore:\ 5\ items:\ 3\ stored,\ 2\ expired,\ 0\ refused\;\ [0-9.]+\ s$ ]]
	run -1 dst get past
	run -1 dst get gone
	run -0 dst ttl later
	[ "$output" -ge 98 ]
	[ "$output" -le 101 ]
	run -0 dst ttl rel
	[ "$output" -ge 49 ]
	[ "$output" -le 50 ]
	run -0 dst ttl never
	[ "$output" = -1 ]
}

@test "restore refuses malformed input at its line, exit 65, and never stores part of a record" {
	local in=$BATS_TEST_TMPDIR/in input want
	two_servers
	while IFS='|' read -r input want; do
		run -0 dst flush
		printf '%b' "$input" >"$in"
		run -65 --separate-stderr dst restore <"$in"
		[ "$output" = "" ]
		[ "${stderr_lines[0]}" = "-ERR INVALID ARGUMENTS" ]
		[ "${stderr_lines[2]}" = "fsmemcache: restore: $want" ]
		run -1 dst get bad
	done <<'EOF'
{3} set bad 0 0\nab|line 1: the input ends inside the value of the record
{3} set ok 0 0\na\nb\n{3} set bad 0 0\nabcd\n|line 4: the value is not followed by a newline: its length is wrong
set bad v|line 1: not a record: one starts "{LENGTH} set "
\n# a comment\n{1} get bad\nx\n|line 3: not a set record: restore stores with set
{1} set bad\tx 0 0\nx\n|line 1: set: bad key 'bad\x09x': contains a control character
{1} set bad 0 zz\nx\n|line 1: set: bad flags 'zz': not a hexadecimal number from 0 to ffffffff
{1} set bad 0 0 extra\nx\n|line 1: set: too many arguments
{1073741824} set bad 0 0\n|line 1: not a record: one starts "{LENGTH} set "
{1}set bad 0 0\nx\n|line 1: not a record: one starts "{LENGTH} set "
EOF
	# What came before the malformed record was stored.
	printf '{3} set ok 0 0\na\nb\n{3} set bad 0 0\nabcd\n' >"$in"
	run -65 dst restore <"$in"
	run -0 dst get ok
	[ "$output" = $'a\nb' ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "restore reads records across the chunks it reads, and values of any size up to the server's limit" {
	two_servers
	head -c 900000 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	fsmc -x set big 0 3 <"$BATS_TEST_TMPDIR/big"
	run -0 --separate-stderr to_file fsmc dump
	run -0 --separate-stderr dst restore <"$BATS_TEST_TMPDIR/stdout"
	dst get big | cmp - "$BATS_TEST_TMPDIR/big"
}

@test "restore with the destination down: exit 69, the line and the server named" {
	local port
	two_servers
	port=$(dead_port)
	printf '{1} set a 0 0\nx\n' >"$BATS_TEST_TMPDIR/in"
	run -69 --separate-stderr "$FSMC_BIN" -c /dev/null -s "127.0.0.1:$port" restore <"$BATS_TEST_TMPDIR/in"
	[ "${stderr_lines[0]}" = "-ERR CONNECTION FAILURE" ]
	[ "${stderr_lines[2]}" = "fsmemcache: restore: line 1: set a: connection refused (127.0.0.1:$port)" ]
}

@test "restore of items the server refuses as too large: counted, the first named, the others stored, exit 65" {
	two_servers -I 1m
	head -c 2000000 /dev/zero >"$BATS_TEST_TMPDIR/huge"
	{
		printf '{2000000} set huge 0 0\n'
		cat "$BATS_TEST_TMPDIR/huge"
		printf '\n{1} set small 0 0\nx\n'
	} >"$BATS_TEST_TMPDIR/in"
	run -65 --separate-stderr dst restore <"$BATS_TEST_TMPDIR/in"
	[ "${stderr_lines[0]}" = "-ERR ITEM TOO BIG" ]
	[[ ${stderr_lines[1]} =~ ^fsmemcache:\ restore:\ 2\ items:\ 1\ stored,\ 0\ expired,\ 1\ refused ]]
	[ "${stderr_lines[2]}" = "fsmemcache: restore: 1 item refused by the servers, the first at line 1: set huge: value too large for the server" ]
	run -0 dst get small
}

@test "dump with a server down: the other's items, the failure on standard error, exit 69" {
	local dead
	two_servers
	run -0 fsmc set live v
	dead=$(dead_port)
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:%d";\n' "$dead" "$SRC_PORT" \
	    >"$FSMC_CFG"
	run -69 --separate-stderr fsmc_out dump
	dump_is '{1} set live 0 0\nv\n'
	[ "${stderr_lines[0]}" = "-ERR SOME ERRORS WERE REPORTED" ]
	[[ ${stderr_lines[1]} =~ ^fsmemcache:\ dump:\ 1\ item,\ 0\ skipped ]]
	[ "${stderr_lines[2]}" = "fsmemcache: dump: connection refused (127.0.0.1:$dead)" ]
}

@test "--json dump: one object per item, the value as a string or base64, then the result; --json restore: its counts" {
	two_servers
	run -0 fsmc set text 'héllo' 0 a
	printf '\377\0' | fsmc -x set bin
	run -0 --separate-stderr fsmc_out --json dump
	[ "$stderr" = "" ]
	run -0 sort "$BATS_TEST_TMPDIR/stdout"
	[ "${lines[0]}" = "{\"command\":\"dump\",\"status\":\"ok\",\"exit\":0,\"items\":2,\"skipped\":0,\"servers\":[\"127.0.0.1:$SRC_PORT\"],\"failures\":[]}" ]
	[ "${lines[1]}" = "{\"server\":\"127.0.0.1:$SRC_PORT\",\"key\":\"bin\",\"value_base64\":\"/wA=\",\"flags\":\"0\",\"exp\":0}" ]
	[ "${lines[2]}" = "{\"server\":\"127.0.0.1:$SRC_PORT\",\"key\":\"text\",\"value\":\"héllo\",\"flags\":\"a\",\"exp\":0}" ]
	printf '{1} set a 0 0\nx\n{1} set b 1000000000 0\ny\n' >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr dst --json restore <"$BATS_TEST_TMPDIR/in"
	[ "$output" = '{"command":"restore","status":"ok","exit":0,"items":2,"stored":1,"expired":1,"refused":0}' ]
	[ "$stderr" = "" ]
}

@test "-q keeps the summaries of dump and restore off standard error; -qq writes no items either" {
	two_servers
	run -0 fsmc set a v
	run -0 --separate-stderr fsmc_out -q dump
	dump_is '{1} set a 0 0\nv\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr dst -q restore <"$BATS_TEST_TMPDIR/stdout"
	[ "$stderr" = "" ]
	run -0 --separate-stderr fsmc_out -qq dump
	stdout_is ''
	[ "$stderr" = "" ]
}

@test "dump and restore run only as commands of their own: not in a batch, not with -x" {
	two_servers
	run -64 --separate-stderr fsmc -f - <<<dump
	[ "$output" = "-ERR" ]
	[ "${stderr_lines[0]}" = "fsmemcache: line 1: dump: streams its items, so it runs only as a command of its own" ]
	run -64 --separate-stderr fsmc -f - <<<restore
	[ "${stderr_lines[0]}" = "fsmemcache: line 1: restore: reads its items from a stream, so it runs only as a command of its own" ]
	run -64 --separate-stderr fsmc -x restore </dev/null
	[ "${stderr_lines[${#stderr_lines[@]} - 1]}" = "fsmemcache: restore: takes no value, so none can be read from standard input" ]
	run -64 --separate-stderr fsmc restore extra </dev/null
	[ "${stderr_lines[${#stderr_lines[@]} - 1]}" = "fsmemcache: restore: too many arguments" ]
}

@test "dump -e and dump | restore -e work as the words do" {
	two_servers
	run -0 fsmc set e1 v
	# shellcheck disable=SC2016 # the inner shell's arguments
	run -0 --separate-stderr bash -c '"$1" -c "$2" -e "dump e" | "$1" -c "$3" -e restore' \
	    x "$FSMC_BIN" "$SRC_CFG" "$DST_CFG"
	run -0 dst get e1
	[ "$output" = v ]
}

@test "restore: standard input that cannot be read exits 74" {
	two_servers
	run -74 --separate-stderr dst restore <"$BATS_TEST_TMPDIR"
	[ "${stderr_lines[${#stderr_lines[@]} - 1]}" = "fsmemcache: standard input: Is a directory" ]
}

@test "dump holds one window of values: 64 MiB of items in well under 64 MiB of memory" {
	local rss
	two_servers -m 256
	python3 - "$BATS_TEST_TMPDIR/in" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(1024):
        f.write(b"{65536} set v%d 0 0\n" % i + bytes([i % 256]) * 65536 + b"\n")
EOF
	run -0 --separate-stderr fsmc --pipe -f "$BATS_TEST_TMPDIR/in"
	ASAN_OPTIONS=$(measured_asan) \
	    /usr/bin/time -f 'rss %M' -o "$BATS_TEST_TMPDIR/rss" \
	    "$FSMC_BIN" -c "$FSMC_CFG" -q dump >"$BATS_TEST_TMPDIR/dump"
	run -0 grep -a -c '^{65536} set v' "$BATS_TEST_TMPDIR/dump"
	[ "$output" -eq 1024 ]
	rss=$(sed -n 's/^rss //p' "$BATS_TEST_TMPDIR/rss")
	[ "$rss" -lt $((32 * 1024)) ]
}
