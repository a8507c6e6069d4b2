#!/usr/bin/env bats
# TLS against memcached -Z: commands, batches, --pipe, keys and SASL over it, certificates that fail to verify, client certificates, and servers that speak the other way.
# shellcheck disable=SC2154 # bats' run --separate-stderr sets $stderr

load helper

SECRET=s3cr3t-Pw-42

# A certificate signed by the test CA: name, subjectAltName, and the
# days it is valid (negative: it expired before it was made).
leaf() {
	local name=$1 san=$2 days=$3
	openssl req -newkey rsa:2048 -nodes -keyout "$name.key" \
	    -out "$name.csr" -subj "/CN=$name" 2>/dev/null
	printf '[ext]\nsubjectAltName=%s\nbasicConstraints=CA:FALSE\n' \
	    "$san" >"$name.ext"
	openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days "$days" -extfile "$name.ext" \
	    -extensions ext -out "$name.pem" 2>/dev/null
	chmod 600 "$name.key"
}

# The test's CA, another CA that signed nothing here, and certificates
# for 127.0.0.1 and localhost, for another name, expired, and a client's.
make_certs() {
	mkdir -p "$PKI"
	(
		cd "$PKI" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key \
		    -out ca.pem -days 30 -subj /CN=fsmemcache-test-ca \
		    2>/dev/null
		openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key \
		    -out other-ca.pem -days 30 -subj /CN=other-ca 2>/dev/null
		leaf server "IP:127.0.0.1,DNS:localhost" 30
		leaf wrongname "DNS:elsewhere.example" 30
		leaf expired "IP:127.0.0.1,DNS:localhost" -1
		leaf client "DNS:client" 30
	)
}

# memcached -Z with the certificate $1 of $PKI; further arguments go to
# memcached, and ssl options after a comma in $2.
tls_spawn() {
	mc_spawn -Z -o "ssl_chain_cert=$PKI/$1.pem,ssl_key=$PKI/$1.key${2-}" \
	    "${@:3}"
}

setup_file() {
	local sasldir=$BATS_FILE_TMPDIR/sasl
	PKI=$BATS_FILE_TMPDIR/pki
	make_certs
	[ -s "$PKI/expired.pem" ] && [ -s "$PKI/client.pem" ]

	mkdir "$sasldir"
	printf '%s' "$SECRET" |
	    saslpasswd2 -a memcached -c -p -f "$sasldir/sasldb" fs
	printf 'mech_list: plain\nsasldb_path: %s\n' "$sasldir/sasldb" \
	    >"$sasldir/memcached.conf"
	export SASL_CONF_PATH=$sasldir
	tls_spawn server "" -S
	unset SASL_CONF_PATH
	SASL_PORT=$MC_PORT

	tls_spawn server
	TLS2_PORT=$MC_PORT
	tls_spawn expired
	EXPIRED_PORT=$MC_PORT
	tls_spawn wrongname
	WRONG_PORT=$MC_PORT
	tls_spawn server ",ssl_ca_cert=$PKI/ca.pem,ssl_verify_mode=2"
	CLIENT_PORT=$MC_PORT
	tls_spawn server
	FROZEN_PORT=$MC_PORT
	FROZEN_PID=$MC_PID
	kill -STOP "$FROZEN_PID"

	mc_spawn
	PLAIN_PORT=$MC_PORT

	tls_spawn server
	TLS_PORT=$MC_PORT
	FSMC_CFG=$BATS_FILE_TMPDIR/tls.cfg
	write_cfg "$FSMC_CFG" "servers = \"127.0.0.1:$TLS_PORT\";" \
	    'tls = true;' "tls_ca_file = \"$PKI/ca.pem\";"
	export PKI SASL_PORT TLS_PORT TLS2_PORT EXPIRED_PORT WRONG_PORT \
	    CLIENT_PORT FROZEN_PORT FROZEN_PID PLAIN_PORT FSMC_CFG
}

# The stopped server acts on SIGTERM only once continued.
teardown_file() {
	kill -CONT "$FROZEN_PID" 2>/dev/null || true
	mc_stop
}

# Write the lines given after the file name to the file, mode 600.
write_cfg() {
	local file=$1
	shift
	printf '%s\n' "$@" >"$file"
	chmod 600 "$file"
}

# A configuration of TLS to the servers "$1" checked against the CA $2
# (a file of $PKI), with further lines after them.
tls_cfg() {
	local file=$BATS_TEST_TMPDIR/$BATS_TEST_NUMBER-$RANDOM.cfg
	write_cfg "$file" "servers = \"$1\";" 'tls = true;' \
	    "tls_ca_file = \"$PKI/$2\";" "${@:3}"
	echo "$file"
}

# fsmemcache with the configuration file $1, and nothing from the
# environment but SSL_CERT_FILE when the test sets it.
fsmc_cfg() {
	local cfg=$1
	shift
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS -u FSMEMCACHE_PASSWORD \
	    "$FSMC_BIN" -c "$cfg" "$@"
}

# One statistic of the TLS server on port $1, read over TLS.
tls_stat() {
	fsmc_cfg "$(tls_cfg "127.0.0.1:$1" ca.pem)" stats |
	    sed -n "s/^127.0.0.1:$1 $2 //p"
}

# Milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# A listener on a free loopback port that keeps what the first client
# sends in $1 and answers it as a plaintext memcached answers what it
# cannot read; its port is in $1.port once it listens.  Sets CAP_PID.
capture_spawn() {
	python3 -c '
import os, socket, sys
out = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
with open(out + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(out + ".tmp", out + ".port")
s.settimeout(10)
c, _ = s.accept()
c.settimeout(5)
data = b""
try:
    data = c.recv(65536)
    c.sendall(b"ERROR\r\n")
    while True:
        more = c.recv(65536)
        if not more:
            break
        data += more
except OSError:
    pass
with open(out + ".tmp", "wb") as f:
    f.write(data)
os.rename(out + ".tmp", out)
' "$1" 3>&- &
	CAP_PID=$!
	wait_file "$1.port"
}

# Wait until the file $1 exists, for up to 10 seconds.
wait_file() {
	local deadline=$((SECONDS + 10))
	while [ ! -e "$1" ] && [ "$SECONDS" -le "$deadline" ]; do
		sleep 0.05
	done
	[ -e "$1" ]
}

@test "set, get, increment, delete and status over TLS: the replies of plaintext" {
	local k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr to_file fsmc set "$k" hello
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc get "$k"
	out_is 'hello'
	run -0 --separate-stderr to_file fsmc increment "n$k" 5
	out_is '5'
	run -0 --separate-stderr to_file fsmc increment "n$k" 2
	out_is '7'
	run -0 --separate-stderr to_file fsmc delete "$k"
	out_is '+OK\n'
	run -1 --separate-stderr to_file fsmc get "$k"
	out_is '-ERR NOT FOUND\n'
	run -0 --separate-stderr to_file fsmc status
	out_is "Lib version: $(lib_version)\nServers: 1\n  127.0.0.1 ($TLS_PORT)\n"
	[ "$stderr" = "" ]
}

@test "the binary protocol over TLS: set and get" {
	local k=k$BATS_TEST_NUMBER
	run -0 --separate-stderr to_file fsmc --binary set "$k" bin-value
	out_is '+OK\n'
	run -0 --separate-stderr to_file fsmc --binary get "$k"
	out_is 'bin-value'
	[ "$stderr" = "" ]
}

@test "-f of 10,000 sets over TLS, then -f of their 10,000 gets: every value read back" {
	local k=f$BATS_TEST_NUMBER i
	for ((i = 1; i <= 10000; i++)); do
		printf 'set %s_%d value-%d\n' "$k" "$i" "$i"
	done >"$BATS_TEST_TMPDIR/sets"
	for ((i = 1; i <= 10000; i++)); do
		printf 'get %s_%d\n' "$k" "$i"
	done >"$BATS_TEST_TMPDIR/gets"
	for ((i = 1; i <= 10000; i++)); do
		printf 'value-%d\n' "$i"
	done >"$BATS_TEST_TMPDIR/values"
	run -0 --separate-stderr fsmc -q -f "$BATS_TEST_TMPDIR/sets"
	[ "$output" = "" ]
	[[ $stderr == "fsmemcache: 10000 lines: 10000 ok, 0 not found, 0 not stored, 0 errors; "* ]]
	run -0 --separate-stderr to_file fsmc -f "$BATS_TEST_TMPDIR/gets"
	cmp "$BATS_TEST_TMPDIR/values" "$BATS_TEST_TMPDIR/stdout"
	[[ $stderr == "fsmemcache: 10000 lines: 10000 ok, 0 not found, 0 not stored, 0 errors; "* ]]
}

@test "--pipe of 10,000 sets over TLS: all sent, all verified, and every value read back" {
	local k=p$BATS_TEST_NUMBER i
	for ((i = 1; i <= 10000; i++)); do
		printf 'set %s_%d piped-%d\n' "$k" "$i" "$i"
	done >"$BATS_TEST_TMPDIR/sets"
	for ((i = 1; i <= 10000; i++)); do
		printf 'get %s_%d\n' "$k" "$i"
	done >"$BATS_TEST_TMPDIR/gets"
	for ((i = 1; i <= 10000; i++)); do
		printf 'piped-%d\n' "$i"
	done >"$BATS_TEST_TMPDIR/values"
	run -0 --separate-stderr fsmc --pipe --verify -f "$BATS_TEST_TMPDIR/sets"
	[ "$output" = "" ]
	[[ $stderr == "fsmemcache: 10000 lines: 10000 sent, 0 errors; 10000 keys: 10000 verified, 0 missing, 0 differ, 0 unverified; "* ]]
	run -0 --separate-stderr to_file fsmc -f "$BATS_TEST_TMPDIR/gets"
	cmp "$BATS_TEST_TMPDIR/values" "$BATS_TEST_TMPDIR/stdout"
}

@test "keys over TLS: its metadump connection is TLS too" {
	local k=keys$BATS_TEST_NUMBER
	fsmc set "${k}_a" 1 >/dev/null
	fsmc set "${k}_b" 2 >/dev/null
	run -0 --separate-stderr to_file fsmc keys "${k}_*"
	# metadump lists in hash order: compare as a set.
	sort "$BATS_TEST_TMPDIR/stdout" >"$BATS_TEST_TMPDIR/sorted"
	printf '%s\n' "${k}_a" "${k}_b" | cmp - "$BATS_TEST_TMPDIR/sorted"
	[ "$stderr" = "" ]
}

@test "commands that ask every server, over TLS to two: status verbose, health, stats, flush" {
	local cfg
	cfg=$(tls_cfg "127.0.0.1:$TLS_PORT, 127.0.0.1:$TLS2_PORT" ca.pem)
	run -0 --separate-stderr fsmc_cfg "$cfg" status verbose
	[[ $output == *"127.0.0.1 ($TLS_PORT)"*"127.0.0.1 ($TLS2_PORT)"* ]]
	[ "$stderr" = "" ]
	run -0 --separate-stderr fsmc_cfg "$cfg" health
	[[ ${lines[0]} == "MEMCACHE OK: 2 of 2 servers up | "* ]]
	run -0 --separate-stderr fsmc_cfg "$cfg" stats
	[[ $output == *"127.0.0.1:$TLS_PORT pid "* ]]
	[[ $output == *"127.0.0.1:$TLS2_PORT pid "* ]]
	fsmc_cfg "$cfg" set flushme x >/dev/null
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" flush
	out_is '+OK\n'
	run -1 --separate-stderr to_file fsmc_cfg "$cfg" get flushme
	out_is '-ERR NOT FOUND\n'
}

@test "SASL on top of TLS: the right password works, a wrong one is exit 77" {
	local cfg pw=$BATS_TEST_TMPDIR/password k=k$BATS_TEST_NUMBER
	printf '%s\n' "$SECRET" >"$pw"
	chmod 600 "$pw"
	cfg=$(tls_cfg "127.0.0.1:$SASL_PORT" ca.pem \
	    "sasl = { username = \"fs\"; password_file = \"$pw\"; };")
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" sasl-tls
	out_is '+OK\n'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'sasl-tls'
	[ "$stderr" = "" ]
	printf 'wrong\n' >"$pw"
	run -77 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is '-ERR AUTHENTICATION FAILURE\n'
	[ "$stderr" = "fsmemcache: get $k: authentication failure (127.0.0.1:$SASL_PORT)" ]
}

@test "an unknown CA: exit 77, one line naming the server and the reason, nothing stored" {
	local cfg k=k$BATS_TEST_NUMBER before
	cfg=$(tls_cfg "127.0.0.1:$TLS2_PORT" other-ca.pem)
	before=$(tls_stat "$TLS2_PORT" cmd_set)
	[ -n "$before" ]
	run -77 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" secret
	out_is '-ERR AUTHENTICATION FAILURE\n'
	[ "$stderr" = "fsmemcache: set $k: TLS: the server's certificate is signed by an unknown CA (tls_ca_file) (127.0.0.1:$TLS2_PORT)" ]
	[ "$(tls_stat "$TLS2_PORT" cmd_set)" = "$before" ]
}

@test "--tls checks servers against the system's CA store, which does not know the test CA" {
	local k=k$BATS_TEST_NUMBER
	run -77 --separate-stderr to_file env -u SSL_CERT_FILE -u SSL_CERT_DIR \
	    "$FSMC_BIN" -c /dev/null --tls -s "127.0.0.1:$TLS_PORT" get "$k"
	out_is '-ERR AUTHENTICATION FAILURE\n'
	[ "$stderr" = "fsmemcache: get $k: TLS: the server's certificate is signed by an unknown CA (tls_ca_file) (127.0.0.1:$TLS_PORT)" ]
	# OpenSSL's store is where SSL_CERT_FILE says.
	run -0 --separate-stderr to_file env SSL_CERT_FILE="$PKI/ca.pem" \
	    "$FSMC_BIN" -c /dev/null --tls -s "127.0.0.1:$TLS_PORT" set "$k" v
	out_is '+OK\n'
	[ "$stderr" = "" ]
}

@test "a certificate for another name: exit 77, name mismatch; tls_server_name names the one to check" {
	local cfg k=k$BATS_TEST_NUMBER
	cfg=$(tls_cfg "127.0.0.1:$WRONG_PORT" ca.pem)
	run -77 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is '-ERR AUTHENTICATION FAILURE\n'
	[ "$stderr" = "fsmemcache: get $k: TLS: the server's certificate is not for \"127.0.0.1\" (name mismatch; tls_server_name) (127.0.0.1:$WRONG_PORT)" ]
	cfg=$(tls_cfg "127.0.0.1:$WRONG_PORT" ca.pem \
	    'tls_server_name = "elsewhere.example";')
	run -1 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "" ]
	# The right certificate, checked against the wrong name, fails too.
	cfg=$(tls_cfg "127.0.0.1:$TLS_PORT" ca.pem \
	    'tls_server_name = "elsewhere.example";')
	run -77 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	[ "$stderr" = "fsmemcache: get $k: TLS: the server's certificate is not for \"elsewhere.example\" (name mismatch; tls_server_name) (127.0.0.1:$TLS_PORT)" ]
	cfg=$(tls_cfg "127.0.0.1:$TLS_PORT" ca.pem 'tls_server_name = "localhost";')
	run -1 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is '-ERR NOT FOUND\n'
}

@test "an expired certificate: exit 77, one line; tls_verify = false connects, with a warning" {
	local cfg k=k$BATS_TEST_NUMBER
	cfg=$(tls_cfg "127.0.0.1:$EXPIRED_PORT" ca.pem)
	run -77 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" v
	out_is '-ERR AUTHENTICATION FAILURE\n'
	[ "$stderr" = "fsmemcache: set $k: TLS: the server's certificate has expired (127.0.0.1:$EXPIRED_PORT)" ]
	cfg=$(tls_cfg "127.0.0.1:$EXPIRED_PORT" ca.pem 'tls_verify = false;')
	run -1 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is '-ERR NOT FOUND\n'
	[ "$stderr" = "fsmemcache: warning: tls_verify = false: servers' certificates are not checked, and anyone on the path can pose as them" ]
	run -0 --separate-stderr fsmc_cfg "$cfg" stats
	[ "$(printf '%s\n' "$output" | sed -n "s/^127.0.0.1:$EXPIRED_PORT cmd_set //p")" = 0 ]
}

@test "a server that requires client certificates: exit 77 without one, works with tls_cert_file and tls_key_file" {
	local cfg k=k$BATS_TEST_NUMBER
	cfg=$(tls_cfg "127.0.0.1:$CLIENT_PORT" ca.pem)
	run -77 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" v
	out_is '-ERR AUTHENTICATION FAILURE\n'
	[ "$stderr" = "fsmemcache: set $k: TLS: the server requires a client certificate (tls_cert_file, tls_key_file) (127.0.0.1:$CLIENT_PORT)" ]
	cfg=$(tls_cfg "127.0.0.1:$CLIENT_PORT" ca.pem \
	    "tls_cert_file = \"$PKI/client.pem\";" \
	    "tls_key_file = \"$PKI/client.key\";")
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" v
	out_is '+OK\n'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'v'
	[ "$stderr" = "" ]
}

@test "a client key that group or others can read works, with a warning like a password's" {
	local cfg key=$BATS_TEST_TMPDIR/client.key k=k$BATS_TEST_NUMBER
	cp "$PKI/client.key" "$key"
	chmod 640 "$key"
	cfg=$(tls_cfg "127.0.0.1:$CLIENT_PORT" ca.pem \
	    "tls_cert_file = \"$PKI/client.pem\";" "tls_key_file = \"$key\";")
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" v
	out_is '+OK\n'
	[ "$stderr" = "fsmemcache: warning: $key holds a private key and can be read by group or others (chmod 600)" ]
}

@test "a plaintext client to a TLS port: exit 69 within the deadline, a line that says TLS" {
	local k=k$BATS_TEST_NUMBER start
	start=$(now_ms)
	run -69 --separate-stderr to_file env -u FSMEMCACHE_CONFIG \
	    "$FSMC_BIN" -c /dev/null -t 1000 -s "127.0.0.1:$TLS_PORT" get "$k"
	out_is '-ERR CONNECTION FAILURE\n'
	[ "$stderr" = "fsmemcache: get $k: connection reset by peer before any reply (does the server want TLS?) (127.0.0.1:$TLS_PORT)" ]
	[ $(($(now_ms) - start)) -lt 5000 ]
}

@test "a TLS client to a plaintext port: exit 77 within the deadline, and only a TLS handshake sent" {
	local cfg k=k$BATS_TEST_NUMBER start cap=$BATS_TEST_TMPDIR/captured
	cfg=$(tls_cfg "127.0.0.1:$PLAIN_PORT" ca.pem 'timeouts = { connect_ms = 1000; };')
	start=$(now_ms)
	run -77 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" secret-value
	out_is '-ERR AUTHENTICATION FAILURE\n'
	[ "$stderr" = "fsmemcache: set $k: TLS: the server does not answer in TLS (a plaintext port?) (127.0.0.1:$PLAIN_PORT)" ]
	[ $(($(now_ms) - start)) -lt 5000 ]

	# What goes on the wire: a TLS handshake record, no key, no value.
	capture_spawn "$cap"
	cfg=$(tls_cfg "127.0.0.1:$(cat "$cap.port")" ca.pem)
	run -77 --separate-stderr fsmc_cfg "$cfg" set "$k" secret-value
	wait "$CAP_PID"
	wait_file "$cap"
	[ "$(head -c 3 "$cap" | od -An -tx1 | tr -d ' ')" = 160301 ]
	run -1 grep -c -a -e "$k" -e secret-value "$cap"
	# The same capture sees a plaintext client's key and value.
	rm -f "$cap" "$cap.port"
	capture_spawn "$cap"
	run --separate-stderr env -u FSMEMCACHE_CONFIG "$FSMC_BIN" -c /dev/null \
	    -s "127.0.0.1:$(cat "$cap.port")" set "$k" secret-value
	wait "$CAP_PID"
	wait_file "$cap"
	grep -q -a -e secret-value "$cap"
}

@test "a server that accepts and never answers the handshake: its deadline, then a line that says so" {
	local cfg k=k$BATS_TEST_NUMBER start
	cfg=$(tls_cfg "127.0.0.1:$FROZEN_PORT" ca.pem)
	start=$(now_ms)
	run -69 --separate-stderr to_file fsmc_cfg "$cfg" -t 300 get "$k"
	out_is '-ERR A TIMEOUT OCCURRED\n'
	[ "$stderr" = "fsmemcache: get $k: timed out in the TLS handshake (127.0.0.1:$FROZEN_PORT)" ]
	[ $(($(now_ms) - start)) -lt 3000 ]
}

@test "SIGTERM while a handshake waits on a server that never answers ends a batch at once: exit 143" {
	local cfg pid start rc=0 deadline=$((SECONDS + 10))
	cfg=$(tls_cfg "127.0.0.1:$FROZEN_PORT" ca.pem \
	    'timeouts = { connect_ms = 60000; io_ms = 60000; };')
	printf 'get k%s\n' "$BATS_TEST_NUMBER" >"$BATS_TEST_TMPDIR/lines"
	env -u FSMEMCACHE_CONFIG "$FSMC_BIN" -c "$cfg" \
	    -f "$BATS_TEST_TMPDIR/lines" >/dev/null 2>&1 3>&- &
	pid=$!
	# The kernel completes the connection for the stopped server.
	while [ -z "$(ss -Htn state established "( dport = :$FROZEN_PORT )")" ] &&
	    [ "$SECONDS" -le "$deadline" ]; do
		sleep 0.05
	done
	start=$(now_ms)
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	[ $(($(now_ms) - start)) -lt 3000 ]
}

@test "placement is unchanged: a TLS pool and a plaintext pool of the same servers put keys in the same places" {
	local tls plain i
	tls=$(tls_cfg "127.0.0.1:$TLS_PORT, 127.0.0.1:$TLS2_PORT, 127.0.0.1:$SASL_PORT" ca.pem 'distribution = "ketama";')
	plain=$BATS_TEST_TMPDIR/plain.cfg
	write_cfg "$plain" "servers = \"127.0.0.1:$TLS_PORT, 127.0.0.1:$TLS2_PORT, 127.0.0.1:$SASL_PORT\";" 'distribution = "ketama";'
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		[ "$(fsmc_cfg "$tls" where "key$i")" = "$(fsmc_cfg "$plain" where "key$i")" ]
	done
	# Not all on one server, or the comparison shows nothing.
	[ "$(for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do fsmc_cfg "$tls" where "key$i"; done | sort -u | wc -l)" -gt 1 ]
}

@test "-n prints the TLS settings in effect, and nothing of the key" {
	local cfg
	cfg=$(tls_cfg "127.0.0.1:$CLIENT_PORT" ca.pem \
	    "tls_cert_file = \"$PKI/client.pem\";" \
	    "tls_key_file = \"$PKI/client.key\";" \
	    'tls_server_name = "localhost";')
	run -0 --separate-stderr fsmc_cfg "$cfg" -n
	[ "${lines[-6]}" = 'tls = true;' ]
	[ "${lines[-5]}" = "tls_ca_file = \"$PKI/ca.pem\";" ]
	[ "${lines[-4]}" = "tls_cert_file = \"$PKI/client.pem\";" ]
	[ "${lines[-3]}" = "tls_key_file = \"$PKI/client.key\";" ]
	[ "${lines[-2]}" = 'tls_server_name = "localhost";' ]
	[ "${lines[-1]}" = 'tls_verify = true;' ]
	[[ $output != *PRIVATE* ]]
	[ "$stderr" = "" ]
	# --tls alone: the system's store, each server's own name.
	run -0 --separate-stderr env -u FSMEMCACHE_CONFIG "$FSMC_BIN" -c /dev/null \
	    --tls -s "127.0.0.1:$TLS_PORT" -n
	[ "${lines[-6]}" = 'tls = true;' ]
	[ "${lines[-5]}" = "# tls_ca_file: the system's CA store" ]
	[ "${lines[-4]}" = '# tls_cert_file: none' ]
	[ "${lines[-3]}" = '# tls_key_file: none' ]
	[ "${lines[-2]}" = "# tls_server_name: each server's host" ]
	[ "${lines[-1]}" = 'tls_verify = true;' ]
	# Without TLS, -n says nothing of it.
	run -0 --separate-stderr env -u FSMEMCACHE_CONFIG "$FSMC_BIN" -c /dev/null \
	    -s "127.0.0.1:$TLS_PORT" -n
	[[ $output != *tls* ]]
}

@test "profiles may differ in TLS; relative paths are the configuration file's" {
	local dir=$BATS_TEST_TMPDIR/etc cfg k=k$BATS_TEST_NUMBER
	mkdir "$dir"
	cp "$PKI/ca.pem" "$dir/"
	cfg=$dir/fsmemcache.cfg
	write_cfg "$cfg" "servers = \"127.0.0.1:$PLAIN_PORT\";" \
	    'tls_ca_file = "ca.pem";' 'profiles = {' \
	    "  secure = { servers = \"127.0.0.1:$TLS_PORT\"; tls = true; };" '};'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" set "$k" plain
	out_is '+OK\n'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" -p secure set "$k" secure
	out_is '+OK\n'
	[ "$stderr" = "" ]
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" get "$k"
	out_is 'plain'
	run -0 --separate-stderr to_file fsmc_cfg "$cfg" -p secure get "$k"
	out_is 'secure'
	run -0 --separate-stderr fsmc_cfg "$cfg" -p secure -n
	[[ $output == *"tls_ca_file = \"$dir/ca.pem\";"* ]]
}

@test "TLS settings that cannot work: exit 78 on one line, before any server is asked" {
	local cfg sock=$BATS_TEST_TMPDIR/mc.sock
	cfg=$(tls_cfg "$sock" ca.pem)
	run -78 --separate-stderr fsmc_cfg "$cfg" get k
	[ "$stderr" = "fsmemcache: tls: not over a UNIX socket ($sock)" ]
	cfg=$(tls_cfg "127.0.0.1:$TLS_PORT" missing.pem)
	run -78 --separate-stderr fsmc_cfg "$cfg" get k
	[ "$stderr" = "fsmemcache: tls_ca_file: $PKI/missing.pem: No such file or directory" ]
	cfg=$(tls_cfg "127.0.0.1:$TLS_PORT" client.key)
	run -78 --separate-stderr fsmc_cfg "$cfg" get k
	[ "$stderr" = "fsmemcache: tls_ca_file: $PKI/client.key: no certificate in PEM form" ]
	cfg=$(tls_cfg "127.0.0.1:$TLS_PORT" ca.pem "tls_key_file = \"$PKI/client.key\";")
	run -78 --separate-stderr fsmc_cfg "$cfg" get k
	[ "$stderr" = "fsmemcache: tls_key_file: no tls_cert_file for it" ]
	cfg=$(tls_cfg "127.0.0.1:$TLS_PORT" ca.pem \
	    "tls_cert_file = \"$PKI/client.pem\";" "tls_key_file = \"$PKI/server.key\";")
	run -78 --separate-stderr fsmc_cfg "$cfg" get k
	[ "$stderr" = "fsmemcache: tls_key_file: $PKI/server.key: not the key of the certificate in tls_cert_file" ]
	# A key with a passphrase is refused, never asked for.
	openssl pkey -in "$PKI/client.key" -aes256 -passout pass:pw \
	    -out "$BATS_TEST_TMPDIR/locked.key" 2>/dev/null
	cfg=$(tls_cfg "127.0.0.1:$TLS_PORT" ca.pem \
	    "tls_cert_file = \"$PKI/client.pem\";" \
	    "tls_key_file = \"$BATS_TEST_TMPDIR/locked.key\";")
	run -78 --separate-stderr fsmc_cfg "$cfg" get k </dev/null
	[ "$stderr" = "fsmemcache: tls_key_file: $BATS_TEST_TMPDIR/locked.key: no private key in PEM form without a passphrase" ]
	cfg=$(tls_cfg "127.0.0.1:$TLS_PORT" ca.pem 'tls_verify = "no";')
	run -78 --separate-stderr fsmc_cfg "$cfg" get k
	[ "$stderr" = "fsmemcache: $cfg:4: tls_verify: must be true or false" ]
}
