#!/usr/bin/env bats
# Usage errors, options, and the checks of keys and numbers made before anything is sent.
# shellcheck disable=SC2154 # run --separate-stderr sets $stderr

load helper

# Usage errors and bad arguments are found before any I/O, so most tests
# name a server on a port where nothing listens.  The tests of accepted
# forms start a server of their own with mc_start.
setup_file() {
	FSMC_CFG=$BATS_FILE_TMPDIR/unused-port.cfg
	printf 'servers = "127.0.0.1:1";\n' >"$FSMC_CFG"
	export FSMC_CFG
}
teardown_file() { mc_stop; }

# Whether $output has the whole line $1.
has_line() {
	local line
	for line in "${lines[@]}"; do
		if [ "$line" = "$1" ]; then
			return 0
		fi
	done
	return 1
}

SYNOPSIS='usage: fsmemcache [-qx] [--binary] [--json] [--tls] [-c file] [-i seconds] [--namespace prefix] [-p profile] [-r count] [-s servers] [-t ms] command [argument ...]
       fsmemcache [-qx] [--binary] [--json] [--tls] [-c file] [-i seconds] [--namespace prefix] [-p profile] [-r count] [-s servers] [-t ms] -e line
       fsmemcache [-q] [--binary] [--json] [--stop-on-error] [--tls] [-c file] [--namespace prefix] [-p profile] [-s servers] [-t ms] [--pipe [--verify]] -f file
       fsmemcache [-q] [--binary] [--json] [--tls] [-c file] [-i seconds] [-p profile] [-r count] [-s servers] [-t ms] [--warn limits] [--crit limits] health
       fsmemcache [-q] [--binary] [--history] [--json] [--tls] [-c file] [-i seconds] [-p profile] [-r count] [-s servers] [-t ms] latency
       fsmemcache [-q] [--binary] [--json] [--tls] [-c file] [--namespace prefix] [-p profile] [-s servers] [-t ms]
       fsmemcache -n [--binary] [--tls] [-c file] [--namespace prefix] [-p profile] [-s servers] [-t ms]
       fsmemcache -h | -V'

INVALID=$'-ERR INVALID ARGUMENTS\n'
BADKEY=$'-ERR A BAD KEY WAS PROVIDED/CHARACTERS OUT OF RANGE\n'
EXPIRATION='not a decimal number of seconds from -2147483648 to 2147483647'
FLAGS='not a hexadecimal number from 0 to ffffffff'

# The usage reply.

@test "an unknown command gets the usage reply" {
	run -64 to_file fsmc frobnicate
	[ "$output" = "fsmemcache: unknown command 'frobnicate'" ]
	stdout_is "$USAGE"
}

@test "-s with an unknown command gets the usage reply too" {
	run -64 to_file env -u FSMEMCACHE_CONFIG -u XDG_CONFIG_HOME \
	    HOME="$BATS_TEST_TMPDIR" "$FSMC_BIN" -s 127.0.0.1:1 frobnicate
	[ "$output" = "fsmemcache: unknown command 'frobnicate'" ]
	stdout_is "$USAGE"
}

@test "too few arguments get the usage reply" {
	run -64 to_file fsmc set u1k
	[ "$output" = "fsmemcache: set: too few arguments" ]
	stdout_is "$USAGE"
	run -64 to_file fsmc increment
	[ "$output" = "fsmemcache: increment: too few arguments" ]
	stdout_is "$USAGE"
}

@test "too many arguments get the usage reply" {
	run -64 to_file fsmc get a b
	[ "$output" = "fsmemcache: get: too many arguments" ]
	stdout_is "$USAGE"
	run -64 to_file fsmc set u2k v 0 0 extra
	[ "$output" = "fsmemcache: set: too many arguments" ]
	stdout_is "$USAGE"
	run -64 to_file fsmc flush 1 2
	[ "$output" = "fsmemcache: flush: too many arguments" ]
	stdout_is "$USAGE"
}

@test "status with an argument other than verbose gets the usage reply" {
	run -64 to_file fsmc status foo
	[ "$output" = "fsmemcache: status: unknown argument 'foo'" ]
	stdout_is "$USAGE"
}

@test "an empty -e line gets the usage reply" {
	run -64 to_file fsmc -e ''
	[ "$output" = "fsmemcache: no command given" ]
	stdout_is "$USAGE"
}

# Options.

@test "no arguments at all: the synopsis on standard error" {
	run -64 --separate-stderr fsmc </dev/null
	[ "$output" = "" ]
	[ "$stderr" = "$SYNOPSIS" ]
}

@test "an unknown option" {
	run -64 --separate-stderr fsmc -z get u3k
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: unknown option -z (see fsmemcache -h)" ]
}

@test "an unknown long option" {
	run -64 --separate-stderr fsmc --frob get u4k
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: unknown option --frob (see fsmemcache -h)" ]
}

@test "an option without its argument" {
	run -64 --separate-stderr fsmc -c
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: option -c needs an argument (see fsmemcache -h)" ]
}

@test "-h prints the synopsis, every command and every option" {
	run -0 --separate-stderr fsmc -h
	[ "$stderr" = "" ]
	run -0 head -n 8 <<<"$output"
	[ "$output" = "$SYNOPSIS" ]
	run -0 --separate-stderr fsmc -h
	has_line "  set|replace|add key value [expiration [flags]]"
	has_line "  get|getflags key"
	has_line "  delete key [expiration]"
	has_line "  increment|decrement key [offset [expiration [flags]]]"
	has_line "  flush [delay]"
	has_line "  status [verbose]"
	has_line "      --binary           use memcached's binary protocol, not the text protocol"
	has_line "  -c, --config FILE      read the configuration from FILE"
	has_line "  -e, --execute LINE     run LINE, split into words as FreeSWITCH splits API commands"
	has_line "  -h, --help             show this help and exit"
	has_line "  -n, --check-config     check the configuration, print the settings in effect and"
	has_line "      --namespace PREFIX put PREFIX before every key, as in \"freeswitch:\""
	has_line "  -p, --profile NAME     use the profile NAME of the configuration"
	has_line "  -q, --quiet            print nothing when set, replace, add, delete or flush succeed,"
	has_line "                         and send -ERR lines to standard error; twice (-qq), print"
	has_line "  -s, --servers LIST     use the servers in LIST (\"host[:port], ...\") instead of the"
	has_line "  -t, --timeout MS       give up connecting after MS milliseconds, and on a"
	has_line "  -V, --version          print the version and exit"
	has_line "  -x, --stdin            read the value of set, replace, add, append or prepend from"
	has_line "                         standard input, byte for byte (less than 1 GiB)"
	has_line "With no command and a terminal on standard input, fsmemcache"
	has_line "else ~/.fsmemcache_history); help lists them, quit leaves."
}

@test "--help is -h" {
	run -0 fsmc -h
	local short=$output
	run -0 fsmc --help
	[ "$output" = "$short" ]
}

@test "-V prints the version of fsmemcache and of libmemcached" {
	run -0 --separate-stderr fsmc -V
	[ "$stderr" = "" ]
	[[ $output =~ ^fsmemcache\ [0-9]+\.[0-9]+\.[0-9]+\ \(libmemcached\ [0-9]+\.[0-9]+\.[0-9]+\)$ ]]
}

@test "the synopsis names every long option where it applies" {
	local opt
	run -64 --separate-stderr fsmc </dev/null
	for opt in --binary --json --namespace --stop-on-error --pipe \
	    --verify --warn --crit --history --tls; do
		[[ $stderr == *"[$opt"[\ \]]* ]]
	done
	[[ ${stderr_lines[2]} == *" [--stop-on-error] "*" -f file" ]]
	[[ ${stderr_lines[3]} == *" [--warn limits] [--crit limits] health" ]]
	[[ ${stderr_lines[4]} == *" [--history] "*" latency" ]]
}

@test "the manual's synopsis is the usage's" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	local man synopsis
	man=$(mandoc -Tascii "$BATS_TEST_DIRNAME/../man/fsmemcache.1" |
	    col -bx | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' |
	    tr -s ' \n' '  ')
	run -64 --separate-stderr fsmc </dev/null
	synopsis=$(tr -s ' \n' '  ' <<<"${stderr#usage:}")
	[ "${man# }" = "${synopsis# }" ]
}

@test "the manual's -e example runs as written" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	local example
	mc_start
	example=$(mandoc -Tascii "$BATS_TEST_DIRNAME/../man/fsmemcache.1" |
	    col -bx | sed -n 's/^ *\$ fsmemcache -e /-e /p')
	[ -n "$example" ]
	# The shell reads the example's quotes as a user's shell would.
	run -0 --separate-stderr bash -c "\"\$@\" $example" _ "$FSMC_BIN" -c "$FSMC_CFG"
	[ "$output" = "+OK" ]
	run -0 mc_raw "get freeswitch:test"
	[ "$output" = $'VALUE freeswitch:test 0 14\nThis is a test\nEND' ]
}

@test "-e takes the whole command: a further argument is a usage error" {
	run -64 --separate-stderr fsmc -e 'get u5k' extra
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: -e takes no command words; unexpected argument 'extra' (see fsmemcache -h)" ]
}

@test "-r or -i with -f: usage, exit 64, nothing read or run" {
	local in=$BATS_TEST_TMPDIR/in
	printf 'get u-r1\n' >"$in"
	run -64 --separate-stderr fsmc -r 2 -f "$in"
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: -r and -i do not go with -f or -n (see fsmemcache -h)" ]
	run -64 --separate-stderr fsmc -i 1 -f "$in"
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: -r and -i do not go with -f or -n (see fsmemcache -h)" ]
	run -64 --separate-stderr fsmc -r 0 -i 0.5 -f "$in"
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: -r and -i do not go with -f or -n (see fsmemcache -h)" ]
}

@test "-r or -i with -n: usage, exit 64" {
	run -64 --separate-stderr fsmc -r 2 -n
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: -r and -i do not go with -f or -n (see fsmemcache -h)" ]
	run -64 --separate-stderr fsmc -i 1 -n
	[ "$output" = "" ]
	[ "$stderr" = "fsmemcache: -r and -i do not go with -f or -n (see fsmemcache -h)" ]
}

# Numbers.

@test "bad expiration, flags, offset and delay: one example of each" {
	run -65 to_file fsmc set u6k v abc
	[ "$output" = "fsmemcache: set: bad expiration 'abc': $EXPIRATION" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc set u6k v 0 zz
	[ "$output" = "fsmemcache: set: bad flags 'zz': $FLAGS" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc increment u6k -1
	[ "$output" = "fsmemcache: increment: bad offset '-1': not a decimal number from 0 to 4294967295" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc flush -5
	[ "$output" = "fsmemcache: flush: bad delay '-5': not a decimal number of seconds from 0 to 2147483647" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc delete u6k abc
	[ "$output" = "fsmemcache: delete: bad expiration 'abc': $EXPIRATION" ]
	stdout_is "$INVALID"
}

@test "trailing garbage after a number is refused" {
	run -65 to_file fsmc set u7k v 10x
	[ "$output" = "fsmemcache: set: bad expiration '10x': $EXPIRATION" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc set u7k v 0 1fg
	[ "$output" = "fsmemcache: set: bad flags '1fg': $FLAGS" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc increment u7k 3x
	[ "$output" = "fsmemcache: increment: bad offset '3x': not a decimal number from 0 to 4294967295" ]
	stdout_is "$INVALID"
}

@test "a number out of range is refused, not clamped or truncated" {
	run -65 to_file fsmc set u8k v 2147483648
	[ "$output" = "fsmemcache: set: bad expiration '2147483648': $EXPIRATION" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc set u8k v -2147483649
	[ "$output" = "fsmemcache: set: bad expiration '-2147483649': $EXPIRATION" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc set u8k v 0 100000000
	[ "$output" = "fsmemcache: set: bad flags '100000000': $FLAGS" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc increment u8k 4294967296
	[ "$output" = "fsmemcache: increment: bad offset '4294967296': not a decimal number from 0 to 4294967295" ]
	stdout_is "$INVALID"
}

@test "flags take no sign" {
	run -65 to_file fsmc set u9k v 0 -1
	[ "$output" = "fsmemcache: set: bad flags '-1': $FLAGS" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc set u9k v 0 +1
	[ "$output" = "fsmemcache: set: bad flags '+1': $FLAGS" ]
	stdout_is "$INVALID"
}

@test "an empty number is refused" {
	run -65 to_file fsmc set u10k v ''
	[ "$output" = "fsmemcache: set: bad expiration '': $EXPIRATION" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc set u10k v 0 ''
	[ "$output" = "fsmemcache: set: bad flags '': $FLAGS" ]
	stdout_is "$INVALID"
}

@test "a number with a leading space is refused" {
	run -65 to_file fsmc set u11k v ' 5'
	[ "$output" = "fsmemcache: set: bad expiration ' 5': $EXPIRATION" ]
	stdout_is "$INVALID"
	run -65 to_file fsmc set u11k v 0 ' 5'
	[ "$output" = "fsmemcache: set: bad flags ' 5': $FLAGS" ]
	stdout_is "$INVALID"
}

@test "flags of 0x alone are refused" {
	run -65 to_file fsmc set u12k v 0 0x
	[ "$output" = "fsmemcache: set: bad flags '0x': $FLAGS" ]
	stdout_is "$INVALID"
}

@test "a bad number in a -e line is refused the same way" {
	run -65 to_file fsmc -e 'increment u13k 1 1 zz'
	[ "$output" = "fsmemcache: increment: bad flags 'zz': $FLAGS" ]
	stdout_is "$INVALID"
}

# Keys.

@test "an empty key is refused" {
	run -65 to_file fsmc get ''
	[ "$output" = "fsmemcache: get: bad key '': empty" ]
	stdout_is "$BADKEY"
	run -65 to_file fsmc -e "set '' v"
	[ "$output" = "fsmemcache: set: bad key '': empty" ]
	stdout_is "$BADKEY"
}

@test "a key of 251 bytes is refused" {
	local key
	key=$(printf 'k%.0s' {1..251})
	run -65 to_file fsmc get "$key"
	[ "$output" = "fsmemcache: get: bad key '${key:0:87}...': longer than 250 bytes" ]
	stdout_is "$BADKEY"
}

@test "a key with a space is refused" {
	run -65 to_file fsmc get 'a b'
	[ "$output" = "fsmemcache: get: bad key 'a b': contains a space" ]
	stdout_is "$BADKEY"
	run -65 to_file fsmc -e "get 'a b'"
	[ "$output" = "fsmemcache: get: bad key 'a b': contains a space" ]
	stdout_is "$BADKEY"
}

@test "a key with TAB, CR, LF or another control byte is refused and shown escaped" {
	run -65 to_file fsmc get $'a\tb'
	[ "$output" = "fsmemcache: get: bad key 'a\\x09b': contains a control character" ]
	stdout_is "$BADKEY"
	run -65 to_file fsmc get $'a\rb'
	[ "$output" = "fsmemcache: get: bad key 'a\\x0db': contains a control character" ]
	stdout_is "$BADKEY"
	run -65 to_file fsmc get $'a\nb'
	[ "$output" = "fsmemcache: get: bad key 'a\\x0ab': contains a control character" ]
	stdout_is "$BADKEY"
	run -65 to_file fsmc set $'a\001b' v
	[ "$output" = "fsmemcache: set: bad key 'a\\x01b': contains a control character" ]
	stdout_is "$BADKEY"
}

@test "a key with DEL is refused" {
	run -65 to_file fsmc get $'a\x7fb'
	[ "$output" = "fsmemcache: get: bad key 'a\\x7fb': contains a control character" ]
	stdout_is "$BADKEY"
}

@test "a key with control bytes made by -e escapes is refused" {
	run -65 to_file fsmc -e 'get a\tb'
	[ "$output" = "fsmemcache: get: bad key 'a\\x09b': contains a control character" ]
	stdout_is "$BADKEY"
	run -65 to_file fsmc -e 'get a\rb'
	[ "$output" = "fsmemcache: get: bad key 'a\\x0db': contains a control character" ]
	stdout_is "$BADKEY"
	run -65 to_file fsmc -e 'get a\nb'
	[ "$output" = "fsmemcache: get: bad key 'a\\x0ab': contains a control character" ]
	stdout_is "$BADKEY"
}

# Accepted forms, against a live server.

@test "a key of 250 bytes is accepted" {
	mc_start
	local key
	key=$(printf 'u%.0s' {1..250})
	run -0 fsmc set "$key" v250
	[ "$output" = "+OK" ]
	run -0 mc_raw "get $key"
	[ "$output" = "VALUE $key 0 4
v250
END" ]
}

@test "flags with a 0X prefix and the largest flags are accepted" {
	mc_start
	run -0 fsmc set u1 v 0 0X1F
	[ "$output" = "+OK" ]
	run -0 mc_raw "get u1"
	[ "$output" = $'VALUE u1 31 1\nv\nEND' ]
	run -0 fsmc set u2 v 0 0xffffffff
	[ "$output" = "+OK" ]
	run -0 mc_raw "get u2"
	[ "$output" = $'VALUE u2 4294967295 1\nv\nEND' ]
}

@test "a negative expiration is accepted, and the item is expired at once" {
	mc_start
	run -0 fsmc set u3 v -1
	[ "$output" = "+OK" ]
	run -0 mc_raw "get u3"
	[ "$output" = END ]
	run -0 fsmc set u4 v -2147483648
	[ "$output" = "+OK" ]
	run -0 mc_raw "get u4"
	[ "$output" = END ]
}

@test "an expiration with a plus sign is accepted" {
	mc_start
	run -0 fsmc set u5 v +5
	[ "$output" = "+OK" ]
	run -0 mc_raw "get u5"
	[ "$output" = $'VALUE u5 0 1\nv\nEND' ]
}

@test "an offset and a delay with a plus sign are accepted" {
	mc_start
	run -0 fsmc increment u6 +7
	[ "$output" = "7" ]
	run -0 fsmc flush +5
	[ "$output" = "+OK" ]
}

@test "a key's bytes outside printable ASCII are escaped in the message about it" {
	run -69 --separate-stderr fsmc get "$(printf 'caf\303\251')"
	[ "$output" = "-ERR CONNECTION FAILURE" ]
	[ "$stderr" = 'fsmemcache: get caf\xc3\xa9: connection refused (127.0.0.1:1)' ]
}
