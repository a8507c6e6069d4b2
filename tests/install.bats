#!/usr/bin/env bats
# make install: every file in its place, and a program builds against the library.

load helper

# Build and install a copy of the sources, untouched by the caller's make.
install_copy() {
	local src=$BATS_FILE_TMPDIR/src
	mkdir -p "$src"
	cp -R "$BATS_TEST_DIRNAME/../Makefile" "$BATS_TEST_DIRNAME/../src" \
	    "$BATS_TEST_DIRNAME/../man" "$BATS_TEST_DIRNAME/../etc" "$src/"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make -s -C "$src" clean install PREFIX=/usr SYSCONFDIR=/etc \
	    DESTDIR="$BATS_FILE_TMPDIR/root"
}

setup_file() {
	install_copy >"$BATS_FILE_TMPDIR/install.log" 2>&1
}

@test "install puts the binary, libraries, header, pkg-config file, manual and example configuration in place" {
	local root=$BATS_FILE_TMPDIR/root
	[ -x "$root/usr/bin/fsmemcache" ]
	[ -f "$root/usr/lib/libfsmemcache.a" ]
	[ -f "$root/usr/lib/libfsmemcache.so.0" ]
	[ "$(readlink "$root/usr/lib/libfsmemcache.so")" = libfsmemcache.so.0 ]
	[ -f "$root/usr/include/fsmemcache.h" ]
	[ -f "$root/usr/lib/pkgconfig/fsmemcache.pc" ]
	[ -f "$root/usr/share/man/man1/fsmemcache.1" ]
	[ -f "$root/usr/share/man/man5/fsmemcache.cfg.5" ]
	[ -f "$root/usr/share/bash-completion/completions/fsmemcache" ]
	cmp "$root/etc/fsmemcache.cfg" "$BATS_TEST_DIRNAME/../etc/fsmemcache.cfg"
}

@test "the installed binary reads the installed system configuration path" {
	run -0 strings "$BATS_FILE_TMPDIR/root/usr/bin/fsmemcache"
	[[ "$output" == *"/etc/fsmemcache.cfg"* ]]
}

@test "a program builds with pkg-config against the installed shared library" {
	local root=$BATS_FILE_TMPDIR/root
	cat >"$BATS_TEST_TMPDIR/prog.c" <<'PROG'
#include <stdio.h>
#include <fsmemcache.h>
int
main(void)
{
	char line[256];
	puts(fsmc_usage_line(0, 0, line, sizeof line, NULL));
	return (0);
}
PROG
	run -0 env PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" \
	    PKG_CONFIG_SYSROOT_DIR="$root" pkg-config --cflags --libs fsmemcache
	# shellcheck disable=SC2086
	cc -o "$BATS_TEST_TMPDIR/prog" "$BATS_TEST_TMPDIR/prog.c" $output
	run -0 env LD_LIBRARY_PATH="$root/usr/lib" "$BATS_TEST_TMPDIR/prog"
	[ "$output" = "memcache <set|replace|add> <key> <value> [expiration [flags]]" ]
}

# The functions fsmemcache.h declares, one a line, sorted.
declared() {
	cc -E -P "$BATS_TEST_DIRNAME/../src/core/fsmemcache.h" |
	    grep -o '\<fsmc_[a-z0-9_]*(' | tr -d '(' | LC_ALL=C sort -u
}

@test "the shared library exports exactly the functions fsmemcache.h declares, under the header's soname" {
	local lib=$BATS_FILE_TMPDIR/root/usr/lib/libfsmemcache.so.0 sov
	run -0 declared
	[ "${#lines[@]}" -ge 20 ]
	declared >"$BATS_TEST_TMPDIR/declared"
	nm -D --defined-only "$lib" | awk '{ print $3 }' | LC_ALL=C sort \
	    >"$BATS_TEST_TMPDIR/exported"
	diff -u "$BATS_TEST_TMPDIR/declared" "$BATS_TEST_TMPDIR/exported"
	sov=$(awk '$2 == "FSMC_SOVERSION" { print $3 }' \
	    "$BATS_TEST_DIRNAME/../src/core/fsmemcache.h")
	run -0 objdump -p "$lib"
	[[ "$output" == *"  SONAME               libfsmemcache.so.$sov"$'\n'* ]]
}

@test "the Debian symbols file lists exactly the functions fsmemcache.h declares" {
	declared >"$BATS_TEST_TMPDIR/declared"
	sed -n 's/^ \(fsmc_[a-z0-9_]*\)@Base .*/\1/p' \
	    "$BATS_TEST_DIRNAME"/../debian/libfsmemcache[0-9]*.symbols |
	    LC_ALL=C sort >"$BATS_TEST_TMPDIR/listed"
	diff -u "$BATS_TEST_TMPDIR/declared" "$BATS_TEST_TMPDIR/listed"
}

@test "install keeps a configuration file that is already there" {
	local root=$BATS_FILE_TMPDIR/root
	echo 'servers = "cache9";' >"$root/etc/fsmemcache.cfg"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C \
	    "$BATS_FILE_TMPDIR/src" install PREFIX=/usr SYSCONFDIR=/etc \
	    DESTDIR="$root"
	run -0 cat "$root/etc/fsmemcache.cfg"
	[ "$output" = 'servers = "cache9";' ]
}
