#!/usr/bin/env bats
# Golden files of tests/config: what -n prints for good configuration files and profiles, and the one line for bad ones.

load helper

# The files are named relative to the repository's root, so that the
# messages and the comment -n prints hold no machine's paths.
setup() {
	cd "$BATS_TEST_DIRNAME/.." || return
	GOLDEN=tests/config
}

# Run fsmemcache -n on a file, with no configuration from the
# environment, keeping its standard output, standard error and exit
# status in $BATS_TEST_TMPDIR/{out,err,rc}.
check_config() {
	local rc=0
	env -u FSMEMCACHE_CONFIG -u MEMCACHED_SERVERS -u FSMEMCACHE_PASSWORD \
	    "$FSMC_BIN" -n -c "$@" >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err" || rc=$?
	echo "$rc" >"$BATS_TEST_TMPDIR/rc"
}

# What -n must print on standard error for a good file: nothing, or the
# warning about a password that group or others can read.
expected_err() {
	local cfg=$1
	if grep -Eq '(^|[[:space:]{;])password[[:space:]]*=' "$cfg" &&
	    [ "$(($(stat -c %#a "$cfg") & 077))" -ne 0 ]; then
		printf 'fsmemcache: warning: %s holds a password and can be read by group or others (chmod 600)\n' "$cfg"
	fi
}

# Report a failed comparison: which file, and how it differs.
mismatch() {
	echo "FAILED: $1"
	shift
	diff -u "$@" || true
}

@test "pass-*.cfg: -n exits 0 and prints exactly pass-*.out" {
	local cfg base n=0 failed=0
	for cfg in "$GOLDEN"/pass-*.cfg; do
		base=${cfg%.cfg}
		n=$((n + 1))
		check_config "$cfg"
		expected_err "$cfg" >"$BATS_TEST_TMPDIR/err.expected"
		if [ "$(cat "$BATS_TEST_TMPDIR/rc")" != 0 ]; then
			mismatch "$cfg: exit $(cat "$BATS_TEST_TMPDIR/rc"), not 0" \
			    "$BATS_TEST_TMPDIR/err.expected" "$BATS_TEST_TMPDIR/err"
			failed=$((failed + 1))
		elif ! cmp -s "$base.out" "$BATS_TEST_TMPDIR/out"; then
			mismatch "$cfg: standard output" "$base.out" "$BATS_TEST_TMPDIR/out"
			failed=$((failed + 1))
		elif ! cmp -s "$BATS_TEST_TMPDIR/err.expected" "$BATS_TEST_TMPDIR/err"; then
			mismatch "$cfg: standard error" \
			    "$BATS_TEST_TMPDIR/err.expected" "$BATS_TEST_TMPDIR/err"
			failed=$((failed + 1))
		fi
	done
	[ "$n" -ge 10 ]
	[ "$failed" -eq 0 ]
}

@test "fail-*.cfg: -n exits 78, prints nothing and exactly fail-*.err on standard error" {
	local cfg base n=0 failed=0
	for cfg in "$GOLDEN"/fail-*.cfg; do
		base=${cfg%.cfg}
		n=$((n + 1))
		check_config "$cfg"
		if [ "$(cat "$BATS_TEST_TMPDIR/rc")" != 78 ]; then
			mismatch "$cfg: exit $(cat "$BATS_TEST_TMPDIR/rc"), not 78" \
			    "$base.err" "$BATS_TEST_TMPDIR/err"
			failed=$((failed + 1))
		elif [ -s "$BATS_TEST_TMPDIR/out" ]; then
			mismatch "$cfg: standard output is not empty" \
			    /dev/null "$BATS_TEST_TMPDIR/out"
			failed=$((failed + 1))
		elif ! cmp -s "$base.err" "$BATS_TEST_TMPDIR/err"; then
			mismatch "$cfg: standard error" "$base.err" "$BATS_TEST_TMPDIR/err"
			failed=$((failed + 1))
		fi
	done
	[ "$n" -ge 30 ]
	[ "$failed" -eq 0 ]
}

# profile-NAME.cfg is checked with -p NAME; profile-NAME.out holds what
# -n prints when the profile can be used, profile-NAME.err the error
# when it cannot.
@test "profile-NAME.cfg: -n -p NAME prints profile-NAME.out, or fails with profile-NAME.err" {
	local cfg base name n=0 failed=0
	for cfg in "$GOLDEN"/profile-*.cfg; do
		base=${cfg%.cfg}
		name=${base##*/profile-}
		n=$((n + 1))
		check_config "$cfg" -p "$name"
		if [ -f "$base.out" ]; then
			expected_err "$cfg" >"$BATS_TEST_TMPDIR/err.expected"
			if [ "$(cat "$BATS_TEST_TMPDIR/rc")" != 0 ]; then
				mismatch "$cfg -p $name: exit $(cat "$BATS_TEST_TMPDIR/rc"), not 0" \
				    "$BATS_TEST_TMPDIR/err.expected" "$BATS_TEST_TMPDIR/err"
				failed=$((failed + 1))
			elif ! cmp -s "$base.out" "$BATS_TEST_TMPDIR/out"; then
				mismatch "$cfg -p $name: standard output" \
				    "$base.out" "$BATS_TEST_TMPDIR/out"
				failed=$((failed + 1))
			elif ! cmp -s "$BATS_TEST_TMPDIR/err.expected" "$BATS_TEST_TMPDIR/err"; then
				mismatch "$cfg -p $name: standard error" \
				    "$BATS_TEST_TMPDIR/err.expected" "$BATS_TEST_TMPDIR/err"
				failed=$((failed + 1))
			fi
		elif [ "$(cat "$BATS_TEST_TMPDIR/rc")" != 78 ]; then
			mismatch "$cfg -p $name: exit $(cat "$BATS_TEST_TMPDIR/rc"), not 78" \
			    "$base.err" "$BATS_TEST_TMPDIR/err"
			failed=$((failed + 1))
		elif [ -s "$BATS_TEST_TMPDIR/out" ]; then
			mismatch "$cfg -p $name: standard output is not empty" \
			    /dev/null "$BATS_TEST_TMPDIR/out"
			failed=$((failed + 1))
		elif ! cmp -s "$base.err" "$BATS_TEST_TMPDIR/err"; then
			mismatch "$cfg -p $name: standard error" \
			    "$base.err" "$BATS_TEST_TMPDIR/err"
			failed=$((failed + 1))
		fi
	done
	[ "$n" -ge 4 ]
	[ -f "$GOLDEN/profile-nosuch.err" ]
	[ "$failed" -eq 0 ]
}

# The settings -n prints, less its comment lines, are themselves a
# configuration file that gives the same settings.
@test "every .out fed back as a configuration gives the same settings" {
	local out again n=0 failed=0
	again=$BATS_TEST_TMPDIR/again.cfg
	for out in "$GOLDEN"/pass-*.out "$GOLDEN"/profile-*.out; do
		n=$((n + 1))
		grep -v '^#' "$out" >"$again"
		chmod 600 "$again"
		check_config "$again"
		grep -v '^#' "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/out.settings"
		if [ "$(cat "$BATS_TEST_TMPDIR/rc")" != 0 ]; then
			mismatch "$out fed back: exit $(cat "$BATS_TEST_TMPDIR/rc"), not 0" \
			    /dev/null "$BATS_TEST_TMPDIR/err"
			failed=$((failed + 1))
		elif ! cmp -s "$again" "$BATS_TEST_TMPDIR/out.settings"; then
			mismatch "$out fed back: standard output" \
			    "$again" "$BATS_TEST_TMPDIR/out.settings"
			failed=$((failed + 1))
		elif [ -s "$BATS_TEST_TMPDIR/err" ]; then
			mismatch "$out fed back: standard error is not empty" \
			    /dev/null "$BATS_TEST_TMPDIR/err"
			failed=$((failed + 1))
		elif [ "$(head -n 1 "$BATS_TEST_TMPDIR/out")" != "$(head -n 1 "$out" |
		    sed 's/: settings in effect: .*/: settings in effect: from /')$again" ]; then
			mismatch "$out fed back: first line" /dev/null "$BATS_TEST_TMPDIR/out"
			failed=$((failed + 1))
		fi
	done
	[ "$n" -ge 12 ]
	[ "$failed" -eq 0 ]
}
