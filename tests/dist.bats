#!/usr/bin/env bats
# make dist: the release tarball holds every file git tracks under fsmemcache-VERSION/, and the same tree gives the same bytes.

load helper

ROOT=$BATS_TEST_DIRNAME/..

setup() {
	# The tarball is made from a git checkout; the tree unpacked from
	# it (make distcheck, a package build) has no history to make it.
	if [ "$(git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null)" != \
	    "$(cd "$ROOT" && pwd -P)" ]; then
		skip "not a git checkout"
	fi
}

dist() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" dist \
	    DISTFILE="$1"
}

@test "make dist packs exactly the tracked files under fsmemcache-VERSION/" {
	local version
	version=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" version)
	dist "$BATS_TEST_TMPDIR/a.tar.gz"
	tar -tzf "$BATS_TEST_TMPDIR/a.tar.gz" >"$BATS_TEST_TMPDIR/packed"
	git -C "$ROOT" ls-files | sed "s,^,fsmemcache-$version/," \
	    >"$BATS_TEST_TMPDIR/tracked"
	diff -u "$BATS_TEST_TMPDIR/tracked" "$BATS_TEST_TMPDIR/packed"
	grep -qx "fsmemcache-$version/debian/control" "$BATS_TEST_TMPDIR/packed"
	grep -qx "fsmemcache-$version/NEWS" "$BATS_TEST_TMPDIR/packed"
}

@test "make dist gives the same bytes twice, owned by root, with no name or time in the gzip header" {
	dist "$BATS_TEST_TMPDIR/a.tar.gz"
	dist "$BATS_TEST_TMPDIR/b.tar.gz"
	cmp "$BATS_TEST_TMPDIR/a.tar.gz" "$BATS_TEST_TMPDIR/b.tar.gz"
	tar --numeric-owner -tvzf "$BATS_TEST_TMPDIR/a.tar.gz" \
	    >"$BATS_TEST_TMPDIR/listing"
	# shellcheck disable=SC2016 # awk's field
	run -0 awk '$2 != "0/0"' "$BATS_TEST_TMPDIR/listing"
	[ "$output" = "" ]
	# Bytes 4-7 of a gzip member are its MTIME field; -n leaves it zero.
	run -0 od -An -tx1 -j4 -N4 "$BATS_TEST_TMPDIR/a.tar.gz"
	[ "$output" = " 00 00 00 00" ]
}
