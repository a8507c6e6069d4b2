#!/usr/bin/env bats
# The bash completion script: its syntax, and what it completes for commands, options, profiles and files.

load helper

SCRIPT=$BATS_TEST_DIRNAME/../etc/bash-completion/fsmemcache

# Complete the command line given as words, the last being the word under
# the cursor (possibly empty), as bash would with the built fsmemcache
# first on PATH; prints the completions sorted, on one line.
complete_words() {
	PATH="$BATS_TEST_DIRNAME/..:$PATH" bash -c '
		source "$1" || exit
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_fsmemcache
		printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | paste -s -d " " -
	' complete-test "$SCRIPT" "$@"
}

# A configuration with the profiles alpha and beta.
profiles_cfg() {
	printf '%s\n' 'servers = "127.0.0.1:11211";' \
	    'profiles = { alpha = { servers = "127.0.0.1:11212"; };' \
	    '             beta = { namespace = "b:"; }; };' \
	    >"$BATS_TEST_TMPDIR/profiles.cfg"
}

@test "the completion script is valid bash" {
	run -0 bash -n "$SCRIPT"
	[ "$output" = "" ]
}

@test "the completion script registers _fsmemcache for fsmemcache" {
	# shellcheck disable=SC2016 # $1 is the inner shell's
	run -0 bash -c 'source "$1"; complete -p fsmemcache' complete-test "$SCRIPT"
	[ "$output" = "complete -F _fsmemcache fsmemcache" ]
}

@test "a command is completed from its first letters" {
	run -0 complete_words fsmemcache ge
	[ "$output" = "get getflags" ]
}

@test "every command is offered, the extensions too" {
	run -0 complete_words fsmemcache ''
	[ "$output" = "add append decrement delete dump flush get getflags health increment inspect keys latency prepend replace restore set slabs stats status top touch ttl where" ]
}

@test "the options of keys are completed after it, and nothing else after a command" {
	run -0 complete_words fsmemcache keys -
	[ "$output" = "--big -l" ]
	run -0 complete_words fsmemcache -c /dev/null KEYS -l --b
	[ "$output" = "--big" ]
	run -0 complete_words fsmemcache keys --big ''
	[ "$output" = "" ]
	run -0 complete_words fsmemcache keys --big -
	[ "$output" = "" ]
	run -0 complete_words fsmemcache dump -
	[ "$output" = "" ]
	run -0 complete_words fsmemcache inspect -
	[ "$output" = "" ]
	run -0 complete_words fsmemcache 'ke[y' -
	[ "$output" = "" ]
}

@test "the command is completed after options and their values" {
	run -0 complete_words fsmemcache -q -c /dev/null -r 3 --warn hit=5 he
	[ "$output" = "health" ]
}

@test "a long option is completed from its first letters" {
	run -0 complete_words fsmemcache --ver
	[ "$output" = "--verify --version" ]
}

@test "the value of -p is completed from the profiles of the -c file" {
	profiles_cfg
	run -0 complete_words fsmemcache -c "$BATS_TEST_TMPDIR/profiles.cfg" -p ''
	[ "$output" = "alpha beta" ]
	run -0 complete_words fsmemcache -c "$BATS_TEST_TMPDIR/profiles.cfg" -p b
	[ "$output" = "beta" ]
}

@test "the value of --profile is completed from the profiles of the --config file" {
	profiles_cfg
	run -0 complete_words fsmemcache --config "$BATS_TEST_TMPDIR/profiles.cfg" --profile a
	[ "$output" = "alpha" ]
}

@test "-n prints the configuration's profiles on a comment line, for completion" {
	profiles_cfg
	run -0 "$FSMC_BIN" -c "$BATS_TEST_TMPDIR/profiles.cfg" -n
	run -0 grep -c -x '# profiles: alpha beta' <<<"$output"
	[ "$output" = 1 ]
}

@test "the group of stats is completed, and nothing after it" {
	run -0 complete_words fsmemcache stats ''
	[ "$output" = "conns extstore items settings sizes slabs" ]
	run -0 complete_words fsmemcache -c /dev/null STATS s
	[ "$output" = "settings sizes slabs" ]
	run -0 complete_words fsmemcache stats slabs ''
	[ "$output" = "" ]
}

@test "--history is completed" {
	run -0 complete_words fsmemcache --hi
	[ "$output" = "--history" ]
}

@test "nothing is completed after a command" {
	run -0 complete_words fsmemcache get ''
	[ "$output" = "" ]
	run -0 complete_words fsmemcache -c /dev/null status v
	[ "$output" = "" ]
}

@test "the value of -c is completed with file names" {
	mkdir "$BATS_TEST_TMPDIR/files"
	touch "$BATS_TEST_TMPDIR/files/one.cfg" "$BATS_TEST_TMPDIR/files/two.cfg"
	mkdir "$BATS_TEST_TMPDIR/files/sub"
	cd "$BATS_TEST_TMPDIR/files"
	run -0 complete_words fsmemcache -c ''
	[ "$output" = "one.cfg sub two.cfg" ]
	run -0 complete_words fsmemcache --config o
	[ "$output" = "one.cfg" ]
	run -0 complete_words fsmemcache -c "$BATS_TEST_TMPDIR/files/t"
	[ "$output" = "$BATS_TEST_TMPDIR/files/two.cfg" ]
}

@test "the values of -s, -t, -r, -i, --warn and --crit are not completed" {
	local opt
	for opt in -s -t -r -i --warn --crit; do
		run -0 complete_words fsmemcache "$opt" ''
		[ "$output" = "" ]
	done
}
