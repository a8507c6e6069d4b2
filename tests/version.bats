#!/usr/bin/env bats
# One version everywhere: the header sets it and the soname's number, and the Makefile, the command, the manuals, NEWS and the Debian packaging agree.

load helper

ROOT=$BATS_TEST_DIRNAME/..

# A #define of fsmemcache.h, as the Makefile reads it.
header_define() {
	awk -v name="$1" '$1 == "#define" && $2 == name { gsub(/"/, "", $3); print $3 }' \
	    "$ROOT/src/core/fsmemcache.h"
}

setup_file() {
	VERSION=$(header_define FSMC_VERSION)
	SOVERSION=$(header_define FSMC_SOVERSION)
	export VERSION SOVERSION
}

@test "fsmemcache.h defines the version and the soname's number" {
	[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
	[[ "$SOVERSION" =~ ^[0-9]+$ ]]
}

@test "the Makefile's version is the header's" {
	run -0 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" version
	[ "$output" = "$VERSION" ]
}

@test "fsmemcache -V prints the header's version" {
	run -0 "$FSMC_BIN" -V
	[[ "$output" == "fsmemcache $VERSION (libmemcached "*")" ]]
}

@test "both manuals carry the version in their footer" {
	run -0 grep -h '^\.Os' "$ROOT/man/fsmemcache.1" "$ROOT/man/fsmemcache.cfg.5"
	[ "$output" = ".Os fsmemcache $VERSION
.Os fsmemcache $VERSION" ]
}

@test "NEWS opens with the version's section" {
	run -0 grep -m 1 '^[0-9]' "$ROOT/NEWS"
	[[ "$output" == "$VERSION ("*")" ]]
}

@test "debian/changelog's newest entry packages the version" {
	run -0 head -n 1 "$ROOT/debian/changelog"
	[[ "$output" =~ ^fsmemcache\ \($VERSION-[0-9]+\)\  ]]
}

@test "the Debian library package is named after the soname's number" {
	local lib=libfsmemcache$SOVERSION
	run -0 grep -c "^Package: $lib\$" "$ROOT/debian/control"
	[ "$output" = 1 ]
	run -0 grep -c "^ *$lib (= \${binary:Version})," "$ROOT/debian/control"
	[ "$output" = 1 ]
	run -0 head -n 1 "$ROOT/debian/$lib.symbols"
	[ "$output" = "libfsmemcache.so.$SOVERSION $lib #MINVER#" ]
	[ -f "$ROOT/debian/$lib.install" ]
	run -0 grep -c '^Package: libfsmemcache[0-9]' "$ROOT/debian/control"
	[ "$output" = 1 ]
}
