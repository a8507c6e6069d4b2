#!/usr/bin/env bats
# Interactive mode: the prompt driven in a terminal (a tmux pane), its replies, history, completion, help, quit and Ctrl-C.
# shellcheck disable=SC2154,SC2030,SC2031 # bats' run --separate-stderr sets $stderr; each test sets PROMPT and SHOWN for itself

load helper

FAKE=$BATS_TEST_DIRNAME/fake-memcached.py

setup_file() {
	command -v tmux >/dev/null || skip "tmux is not installed"
	mc_start
	# A private tmux server, kept until the end of the file, its panes
	# terminals with no status line, each kept after its program ends,
	# for what it showed last.
	TMUX_SOCKET=$BATS_FILE_TMPDIR/tmux
	printf '%s\n' 'set -s exit-empty off' 'set -g status off' \
	    'set -g remain-on-exit on' 'set -g default-terminal screen' \
	    'set -g history-limit 5000' >"$BATS_FILE_TMPDIR/tmux.conf"
	export TMUX_SOCKET
}

teardown_file() {
	tm kill-server 2>/dev/null || true
	mc_stop
}

# End what runs in the test's terminals and close them, and stop the
# fakes it started.  A program still running is sent SIGTERM first: the
# SIGHUP and SIGCONT of a terminal closed under it can hang
# LeakSanitizer's check at exit (make check).
teardown() {
	local session pid pids deadline
	while read -r session; do
		if [ "$(tm display -p -t "$session" '#{pane_dead}')" = 0 ]; then
			pid=$(tm display -p -t "$session" '#{pane_pid}')
			for pid in $(pgrep -P "$pid"); do
				kill -TERM "$pid" 2>/dev/null || true
			done
			deadline=$((SECONDS + 5))
			while [ "$(tm display -p -t "$session" '#{pane_dead}')" = 0 ] &&
			    [ "$SECONDS" -le "$deadline" ]; do
				sleep 0.05
			done
		fi
		tm kill-session -t "$session" 2>/dev/null || true
	done < <(tm list-sessions -F '#{session_name}' 2>/dev/null)
	[ -f "$BATS_TEST_TMPDIR/fakes" ] || return 0
	mapfile -t pids <"$BATS_TEST_TMPDIR/fakes"
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

tm() {
	tmux -S "$TMUX_SOCKET" "$@"
}

# Run a command in a new terminal, a pane of its own, as $PANE: HOME is
# the test's directory, and no configuration, servers or history come
# from the environment but those given as NAME=VALUE before it.  Its
# exit status goes to $PANE_STATUS: tmux 3.3 sometimes loses it.  bash
# waits for the command through a Ctrl-C the command itself survives.
pane_run() {
	local vars=()
	while [[ $1 == *=* ]]; do
		vars+=("$1")
		shift
	done
	PANES=$((${PANES-0} + 1))
	PANE=t$BATS_TEST_NUMBER-$PANES
	PANE_STATUS=$BATS_TEST_TMPDIR/$PANE.status
	# shellcheck disable=SC2016 # the inner shell's arguments
	tm -f "$BATS_FILE_TMPDIR/tmux.conf" new-session -d -s "$PANE" \
	    -x 100 -y 30 env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS \
	    -u XDG_STATE_HOME -u XDG_CONFIG_HOME -u FSMEMCACHE_HISTFILE \
	    HOME="$BATS_TEST_TMPDIR" LC_ALL=C.UTF-8 "${vars[@]}" \
	    bash -c '"$@"; echo "$?" >"$0.new"; mv "$0.new" "$0"' \
	    "$PANE_STATUS" "$@" 3>&-
}

# The prompt on the file's server; $PROMPT is what it shows, without its
# final space.
prompt_start() {
	PROMPT="127.0.0.1:$MC_PORT>"
	pane_run "$FSMC_BIN" -c "$FSMC_CFG"
}

# The pane's text, its scrollback too, lines cut by the width joined,
# without spaces at the end of a line, blank lines at the end, or tmux's
# line for a program that ended.
screen() {
	tm capture-pane -p -J -S - -t "$PANE" | sed '/^Pane is dead/d; s/ *$//' |
	    sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

# Wait until the pane shows exactly $1, for 5 seconds at most.
wait_screen() {
	local deadline=$((SECONDS + 5)) now
	while [ "$SECONDS" -le "$deadline" ]; do
		now=$(screen)
		[ "$now" = "$1" ] && return 0
		sleep 0.05
	done
	printf 'the screen:\n%s\n\nnot:\n%s\n' "$now" "$1" >&2
	return 1
}

# Wait until the pane shows a line that is exactly $1.
wait_line() {
	local deadline=$((SECONDS + 5)) now
	while [ "$SECONDS" -le "$deadline" ]; do
		now=$(screen)
		grep -qxF -- "$1" <<<"$now" && return 0
		sleep 0.05
	done
	printf 'the screen:\n%s\n\nhas no line:\n%s\n' "$now" "$1" >&2
	return 1
}

# Type text, then the keys named (Enter, Tab, C-c, C-d, C-p).
type_keys() {
	tm send-keys -t "$PANE" -l "$1"
	shift
	if [ $# -gt 0 ]; then
		tm send-keys -t "$PANE" "$@"
	fi
}

# Type a line and press Enter.
type_line() {
	type_keys "$1" Enter
}

# Wait for the first prompt; $SHOWN is then what the screen shows
# before the prompt.
prompt_wait() {
	SHOWN=
	wait_screen "$PROMPT"
}

# Type a line at the prompt, then wait until the screen shows it, the
# lines of its reply ($2, if any) and the next prompt.
exchange() {
	type_line "$1"
	SHOWN+="$PROMPT${1:+ $1}"$'\n'
	if [ -n "${2-}" ]; then
		SHOWN+="$2"$'\n'
	fi
	wait_screen "$SHOWN$PROMPT"
}

# Wait until the program in the pane has ended with exit status $1.
wait_exit() {
	local deadline=$((SECONDS + 5)) status
	while [ "$SECONDS" -le "$deadline" ]; do
		if [ -f "$PANE_STATUS" ]; then
			read -r status <"$PANE_STATUS"
			[ "$status" = "$1" ] && return 0
			echo "exit status $status, not $1" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "still running" >&2
	return 1
}

# Start a fake memcached with the arguments given; its port in
# FAKE_PORT.  teardown stops it.
fake_start() {
	local dir pid deadline=$((SECONDS + 10))
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/fake.XXXXXX")
	python3 "$FAKE" --port-file "$dir/port" --lifetime 60 "$@" \
	    >"$dir/output" 2>&1 3>&- &
	pid=$!
	echo "$pid" >>"$BATS_TEST_TMPDIR/fakes"
	until [ -s "$dir/port" ]; do
		if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -gt "$deadline" ]; then
			echo "the fake memcached did not start: $*" >&2
			return 1
		fi
		sleep 0.01
	done
	read -r FAKE_PORT <"$dir/port"
}

# memcached's count of the connections it has accepted.
connections() {
	mc_stat total_connections | tr -d '\r'
}

@test "a set then a get at the prompt, over one connection kept between them" {
	local before after
	prompt_start
	prompt_wait
	exchange 'set pr1 hello' '+OK'
	before=$(connections)
	exchange 'get pr1' 'hello'
	exchange "^^|set|pr1|a b c" '+OK'
	exchange 'getflags pr1' '0'
	exchange 'increment pr1-n 5' '5'
	after=$(connections)
	# No connection but this look's own.
	[ "$((after - before))" -eq 1 ]
	type_line quit
	wait_exit 0
	run -0 fsmc get pr1
	[ "$output" = "a b c" ]
}

@test "replies are shown as on a terminal: a value's control bytes as \\xNN" {
	run -0 fsmc set pr2 $'a\033[2Jb'
	prompt_start
	prompt_wait
	exchange 'get pr2' 'a\x1b[2Jb'
	exchange 'get pr2-none' '-ERR NOT FOUND'
	exchange 'status' "Lib version: $(lib_version)
Servers: 1
  127.0.0.1 ($MC_PORT)"
}

@test "a usage error gets -ERR and a line saying what is wrong and how the command goes" {
	prompt_start
	prompt_wait
	exchange 'set pr3' '-ERR
fsmemcache: set: too few arguments; usage: set|replace|add key value [expiration [flags]]'
	exchange 'frob pr3' "-ERR
fsmemcache: unknown command 'frob'; help lists the commands"
	exchange '# a comment, as in a batch'
	exchange ''
}

@test "the prompt names the profile, else the pool's first server and how many others" {
	local cfg=$BATS_TEST_TMPDIR/pool.cfg
	printf 'servers = "127.0.0.1:%d, 127.0.0.1:1, 127.0.0.1:2";\n' \
	    "$MC_PORT" >"$cfg"
	printf 'profiles = { sessions = { servers = "127.0.0.1:%d"; }; };\n' \
	    "$MC_PORT" >>"$cfg"
	pane_run "$FSMC_BIN" -c "$cfg"
	wait_screen "127.0.0.1:$MC_PORT+2>"
	type_keys '' C-d
	wait_exit 0
	PROMPT="sessions>"
	pane_run "$FSMC_BIN" -c "$cfg" -p sessions
	prompt_wait
	exchange 'set pr4 v' '+OK'
}

@test "help lists every command and the prompt's own; help COMMAND shows its usage" {
	local commands
	run -0 fsmc -h
	commands=$(sed -n '/^Commands/,/^Options/p' <<<"$output" | sed '$d')
	prompt_start
	prompt_wait
	exchange 'help' "$commands

At this prompt:
  help [command]   the usage of every command, or of one
  quit|exit        leave, as Ctrl-D on an empty line does
Lines are split as -e splits them.  Tab completes command names, and
keys after a command that takes one, when no more than 100 start
with what is typed.  Ctrl-C clears the line, or stops a command."
	exchange 'help GET' '  get|getflags key'
	exchange 'help quit' '  quit|exit'
	exchange 'help nosuch' "fsmemcache: help: unknown command 'nosuch'; help lists the commands"
}

@test "quit, exit and Ctrl-D on an empty line leave with exit status 0" {
	prompt_start
	prompt_wait
	type_line 'QUIT'
	wait_exit 0
	prompt_start
	prompt_wait
	type_line ' exit'
	wait_exit 0
	prompt_start
	prompt_wait
	type_keys '' C-d
	wait_exit 0
	wait_screen "$PROMPT ^D"
}

@test "Tab completes a command name from the command table" {
	prompt_start
	prompt_wait
	type_keys 'getf' Tab
	wait_screen "$PROMPT getflags"
	type_keys 'pr5' Enter
	SHOWN+="$PROMPT getflags pr5"$'\n-ERR NOT FOUND\n'
	wait_screen "$SHOWN$PROMPT"
	# Two commands start with "ge": their common part, then the list.
	type_keys 'GE' Tab
	wait_screen "$SHOWN$PROMPT get"
	type_keys '' Tab
	SHOWN+="$PROMPT get"$'\nget       getflags\n'
	wait_screen "$SHOWN$PROMPT get"
	type_keys '' C-u
	wait_screen "$SHOWN$PROMPT"
	# After help, a command name too.
	type_keys 'help decr' Tab
	wait_screen "$SHOWN$PROMPT help decrement"
}

@test "Tab on an empty line lists every command of the table, and the prompt's own" {
	local want got
	run -0 fsmc -h
	want=$({
		sed -n '/^Commands/,/^Options/{s/^  \([^ ]*\).*/\1/p}' <<<"$output" |
		    tr '|' '\n'
		printf '%s\n' exit help quit
	} | LC_ALL=C sort | paste -s -d ' ' -)
	prompt_start
	prompt_wait
	type_keys '' Tab X
	wait_line "$PROMPT X"
	got=$(screen | sed '1d;$d' | tr -s ' ' '\n' | sed '/^$/d' |
	    LC_ALL=C sort | paste -s -d ' ' -)
	[ "$got" = "$want" ]
}

@test "Tab completes a key from a small listing, and offers nothing for a large one" {
	local i
	run -0 fsmc set 'user:alice' a
	run -0 fsmc set 'user:bob' b
	run -0 fsmc set "it's" q
	for i in $(seq 101); do
		echo "set many:$i v"
	done >"$BATS_TEST_TMPDIR/many"
	run -0 fsmc --pipe -f "$BATS_TEST_TMPDIR/many"
	prompt_start
	prompt_wait
	type_keys 'get user:a' Tab
	wait_screen "$PROMPT get user:alice"
	type_keys '' Enter
	SHOWN+="$PROMPT get user:alice"$'\na\n'
	wait_screen "$SHOWN$PROMPT"
	type_keys 'delete user:' Tab
	SHOWN+="$PROMPT delete user:"$'\nuser:alice  user:bob\n'
	wait_screen "$SHOWN$PROMPT delete user:"
	type_keys '' C-u
	wait_screen "$SHOWN$PROMPT"
	# A quote is escaped as the line splitter reads it.
	type_keys 'get it' Tab
	wait_screen "$SHOWN$PROMPT get it\\'s"
	type_keys '' Enter
	SHOWN+="$PROMPT get it\\'s"$'\nq\n'
	wait_screen "$SHOWN$PROMPT"
	# 101 keys: nothing is completed; X shows that Tab was read.
	type_keys 'get many:' Tab X
	wait_screen "$SHOWN$PROMPT get many:X"
	type_keys '' C-u
	# Nothing for an empty word, nor after a command's key.
	type_keys 'get ' Tab X
	wait_screen "$SHOWN$PROMPT get X"
	type_keys '' C-u
	type_keys 'set user:a' Tab 'user:b' Tab X
	wait_screen "$SHOWN$PROMPT set user:alice user:bX"
}

@test "a key listing for completion waits 300 ms at most, whatever -t says" {
	fake_start --mode silent
	PROMPT="127.0.0.1:$FAKE_PORT>"
	pane_run "$FSMC_BIN" -s "127.0.0.1:$FAKE_PORT" -t 60000
	prompt_wait
	type_keys 'get k' Tab X
	wait_screen "$PROMPT get kX"
}

@test "history is kept in ~/.fsmemcache_history, mode 0600, and read by the next session" {
	local hist=$BATS_TEST_TMPDIR/.fsmemcache_history
	prompt_start
	prompt_wait
	exchange 'set pr6 one' '+OK'
	exchange ' set pr6-secret two' '+OK'
	exchange 'get pr6' 'one'
	exchange 'get pr6' 'one'
	type_line quit
	wait_exit 0
	# Not a line starting with a space, a repeat or quit.
	run -0 cat "$hist"
	[ "$output" = $'set pr6 one\nget pr6' ]
	run -0 stat -c %a "$hist"
	[ "$output" = 600 ]
	prompt_start
	prompt_wait
	type_keys '' C-p
	wait_screen "$PROMPT get pr6"
	type_keys '' C-p
	wait_screen "$PROMPT set pr6 one"
	type_keys '' BSpace BSpace BSpace 'two' Enter
	SHOWN+="$PROMPT set pr6 two"$'\n+OK\n'
	wait_screen "$SHOWN$PROMPT"
	type_line quit
	wait_exit 0
	run -0 cat "$hist"
	[ "$output" = $'set pr6 one\nget pr6\nset pr6 two' ]
	run -0 fsmc get pr6
	[ "$output" = two ]
}

@test "history goes under \$XDG_STATE_HOME, a file made 0600 and a directory 0700; FSMEMCACHE_HISTFILE= keeps none" {
	local state=$BATS_TEST_TMPDIR/state
	PROMPT="127.0.0.1:$MC_PORT>"
	pane_run XDG_STATE_HOME="$state" "$FSMC_BIN" -c "$FSMC_CFG"
	prompt_wait
	exchange 'get pr7' '-ERR NOT FOUND'
	type_line quit
	wait_exit 0
	run -0 cat "$state/fsmemcache/history"
	[ "$output" = 'get pr7' ]
	run -0 stat -c %a "$state" "$state/fsmemcache" "$state/fsmemcache/history"
	[ "$output" = $'700\n700\n600' ]
	[ ! -e "$BATS_TEST_TMPDIR/.fsmemcache_history" ]
	# A file that others could read is made 0600.
	chmod 644 "$state/fsmemcache/history"
	pane_run XDG_STATE_HOME="$state" "$FSMC_BIN" -c "$FSMC_CFG"
	prompt_wait
	exchange 'getflags pr7' '-ERR NOT FOUND'
	type_line quit
	wait_exit 0
	run -0 stat -c %a "$state/fsmemcache/history"
	[ "$output" = 600 ]
	run -0 cat "$state/fsmemcache/history"
	[ "$output" = $'get pr7\ngetflags pr7' ]
	pane_run FSMEMCACHE_HISTFILE= "$FSMC_BIN" -c "$FSMC_CFG"
	prompt_wait
	exchange 'get pr7' '-ERR NOT FOUND'
	type_line quit
	wait_exit 0
	[ ! -e "$BATS_TEST_TMPDIR/.fsmemcache_history" ]
	run -0 cat "$state/fsmemcache/history"
	[ "$output" = $'get pr7\ngetflags pr7' ]
}

@test "Ctrl-C at the prompt clears the line and the session goes on" {
	run -0 fsmc set pr8 kept
	prompt_start
	prompt_wait
	type_keys 'delete pr8'
	wait_screen "$PROMPT delete pr8"
	type_keys '' C-c
	SHOWN+="$PROMPT delete pr8^C"$'\n'
	wait_screen "$SHOWN$PROMPT"
	exchange 'get pr8' 'kept'
}

@test "Ctrl-C during a command stops the command, not the session" {
	local log=$BATS_TEST_TMPDIR/fake.log deadline=$((SECONDS + 5))
	fake_start --mode silent --log "$log"
	PROMPT="127.0.0.1:$FAKE_PORT>"
	pane_run "$FSMC_BIN" -s "127.0.0.1:$FAKE_PORT" -t 60000
	prompt_wait
	type_line 'get pr9'
	# The request has reached the server, which will never answer.
	until grep -q 'get pr9' "$log" 2>/dev/null; do
		[ "$SECONDS" -le "$deadline" ]
		sleep 0.05
	done
	type_keys '' C-c
	SHOWN+="$PROMPT get pr9
^C
-ERR A TIMEOUT OCCURRED
fsmemcache: get pr9: interrupted system call (127.0.0.1:$FAKE_PORT)
"
	wait_screen "$SHOWN$PROMPT"
	type_line quit
	wait_exit 0
}

@test "SIGTERM ends the session: exit status 143, and a line saying why" {
	local pid
	prompt_start
	prompt_wait
	exchange 'set pr12 v' '+OK'
	pid=$(pgrep -P "$(tm display -p -t "$PANE" '#{pane_pid}')")
	kill -TERM "$pid"
	wait_exit 143
	wait_screen "$SHOWN$PROMPT
fsmemcache: stopped by signal 15"
}

@test "--json and -q apply at the prompt" {
	PROMPT="127.0.0.1:$MC_PORT>"
	pane_run "$FSMC_BIN" -c "$FSMC_CFG" --json
	prompt_wait
	exchange 'set pr11 v' '{"command":"set","key":"pr11","status":"ok","exit":0}'
	exchange 'get pr11-none' '{"command":"get","key":"pr11-none","status":"not_found","exit":1,"error":"NOT FOUND"}'
	exchange 'frob' "{\"command\":null,\"status\":\"usage\",\"exit\":64,\"message\":\"unknown command 'frob'\"}
fsmemcache: unknown command 'frob'"
	pane_run "$FSMC_BIN" -c "$FSMC_CFG" -q
	prompt_wait
	exchange 'set pr11 w'
	exchange 'get pr11' 'w'
	exchange 'get pr11-none' '-ERR NOT FOUND'
}

@test "a history file of more than 1000 lines is cut to its last 1000" {
	local hist=$BATS_TEST_TMPDIR/.fsmemcache_history
	seq -f 'get h%g' 1005 >"$hist"
	prompt_start
	prompt_wait
	type_keys '' C-p
	wait_screen "$PROMPT get h1005"
	type_keys '' C-u C-d
	wait_exit 0
	run -0 wc -l <"$hist"
	[ "$output" = 1000 ]
	run -0 head -n 1 "$hist"
	[ "$output" = 'get h6' ]
	run -0 tail -n 1 "$hist"
	[ "$output" = 'get h1005' ]
}

@test "a history file that is not a regular file is not read or written, never waited for; /dev/null keeps none" {
	mkfifo "$BATS_TEST_TMPDIR/.fsmemcache_history"
	prompt_start
	SHOWN="fsmemcache: history $BATS_TEST_TMPDIR/.fsmemcache_history: not a regular file; not kept"$'\n'
	wait_screen "$SHOWN$PROMPT"
	exchange 'get pr13' '-ERR NOT FOUND'
	type_line quit
	wait_exit 0
	[ -p "$BATS_TEST_TMPDIR/.fsmemcache_history" ]
	# /dev/null says to keep none, as for other shells: no warning.
	pane_run FSMEMCACHE_HISTFILE=/dev/null "$FSMC_BIN" -c "$FSMC_CFG"
	prompt_wait
	exchange 'get pr13' '-ERR NOT FOUND'
	type_line quit
	wait_exit 0
}

@test "with standard output not a terminal, the prompt is on standard error and each reply on its own line" {
	PROMPT="127.0.0.1:$MC_PORT>"
	# shellcheck disable=SC2016 # the inner shell's arguments
	pane_run sh -c '"$0" -c "$1" >"$2"' "$FSMC_BIN" "$FSMC_CFG" \
	    "$BATS_TEST_TMPDIR/out"
	prompt_wait
	exchange 'set pr10 v'
	exchange 'get pr10'
	type_line quit
	wait_exit 0
	run -0 cat "$BATS_TEST_TMPDIR/out"
	[ "$output" = $'+OK\nv' ]
}

@test "no command without a terminal on standard input: the synopsis, exit 64" {
	run -64 --separate-stderr fsmc </dev/null
	[ "$output" = "" ]
	[ "${stderr_lines[0]}" = "usage: fsmemcache [-qx] [--binary] [--json] [--tls] [-c file] [-i seconds] [--namespace prefix] [-p profile] [-r count] [-s servers] [-t ms] command [argument ...]" ]
	run -64 --separate-stderr fsmc < <(echo 'get x')
	[ "$output" = "" ]
	[ "${stderr_lines[0]}" = "usage: fsmemcache [-qx] [--binary] [--json] [--tls] [-c file] [-i seconds] [--namespace prefix] [-p profile] [-r count] [-s servers] [-t ms] command [argument ...]" ]
	# In a terminal, with standard input from elsewhere.
	# shellcheck disable=SC2016 # the inner shell's arguments
	pane_run sh -c '"$0" -c "$1" </dev/null' "$FSMC_BIN" "$FSMC_CFG"
	wait_exit 64
	[ "$(screen)" = "$stderr" ]
	# A terminal, but options that want a command.
	pane_run "$FSMC_BIN" -c "$FSMC_CFG" -r 2
	wait_exit 64
	[ "$(screen)" = "$stderr" ]
}
