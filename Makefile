# Build, test and install fsmemcache and its core library.

PROG=		fsmemcache
LIB=		libfsmemcache.a
SHLIB=		libfsmemcache.so
# The version and the soname's number are the header's, and only there.
VERSION!=	awk '$$2 == "FSMC_VERSION" { gsub(/"/, "", $$3); print $$3 }' \
		    src/core/fsmemcache.h
SOVERSION!=	awk '$$2 == "FSMC_SOVERSION" { print $$3 }' src/core/fsmemcache.h
PREFIX?=	/usr/local
BINDIR?=	$(PREFIX)/bin
LIBDIR?=	$(PREFIX)/lib
INCLUDEDIR?=	$(PREFIX)/include
SYSCONFDIR?=	$(PREFIX)/etc
MANDIR?=	$(PREFIX)/share/man
PKGS=		libmemcached libconfig libsasl2 openssl
# The command-line tool's alone, never the library's: line editing for
# its prompt, with libedit (BSD) rather than readline (GPL).
CLI_PKGS=	libedit

CFLAGS?=	-O2 -g
WARNINGS=	-Wall -Wextra -Wpedantic -Wformat=2 -Wshadow \
		-Wstrict-prototypes -Wmissing-prototypes \
		-Wmissing-declarations -Wwrite-strings -Wpointer-arith \
		-Wcast-qual -Wundef -Wvla
ALL_CFLAGS=	-std=c99 -fPIC $(WARNINGS) $(CFLAGS)
ALL_CPPFLAGS=	-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc/core \
		-DFSMC_CONF='"$(SYSCONFDIR)/fsmemcache.cfg"' \
		$(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CPPFLAGS)
# Link only the libraries used: each one loaded costs every run's start-up.
# The core asks every server at once, a thread each: -pthread.
LDLIBS+=	-Wl,--as-needed $(shell pkg-config --libs $(PKGS) 2>/dev/null) \
		-lhashkit -pthread

CORE_OBJS=	$(patsubst %.c,%.o,$(wildcard src/core/*.c))
CLI_OBJS=	$(patsubst %.c,%.o,$(wildcard src/cli/*.c))
# libedit is loaded by the prompt when it opens (dlopen), not linked: a
# single command maps no line-editing library.  Its headers only here.
CLI_LDLIBS=	-ldl
TEST_PROGS=	tests/split-words tests/threads tests/render-test \
		tests/value-max
# The FreeSWITCH module: headers from FREESWITCH_INCLUDE (one or more
# directories) or from pkg-config, as system headers so that their own
# warnings stay theirs.
FREESWITCH_INCLUDE?=
FREESWITCH_MODDIR?=	$(shell pkg-config --variable=modulesdir freeswitch 2>/dev/null)
MOD_CPPFLAGS=	$(if $(strip $(FREESWITCH_INCLUDE)), \
		    $(addprefix -isystem ,$(FREESWITCH_INCLUDE)), \
		    $(patsubst -I%,-isystem %, \
		    $(shell pkg-config --cflags freeswitch 2>/dev/null)))
SAN=		-fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer

all: $(PROG) $(LIB)

$(LIB): $(CORE_OBJS)
	$(AR) rcs $@ $^
# The shared library exports only what fsmemcache.h marks FSMC_API: the
# core is compiled with hidden visibility (the static library too, where
# it costs nothing, since the command and the tests link it statically);
# the version script hides the symbols the linker adds, and -z defs
# refuses a library that would need its caller's symbols.
$(CORE_OBJS): ALL_CFLAGS += -fvisibility=hidden
$(SHLIB): $(CORE_OBJS) src/core/fsmemcache.map
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -shared -Wl,-z,defs \
	    -Wl,--version-script=src/core/fsmemcache.map \
	    -Wl,-soname,$(SHLIB).$(SOVERSION) -o $@ $(CORE_OBJS) $(LDLIBS)
$(CLI_OBJS): ALL_CPPFLAGS += \
		$(shell pkg-config --cflags $(CLI_PKGS) 2>/dev/null)
$(PROG): $(CLI_OBJS) $(LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS) \
	    $(CLI_LDLIBS)
mod: mod_memcache.so
# The module exports FreeSWITCH's entry points and none of the core it
# carries, so that no other copy of the core in the PBX can bind to it.
mod_memcache.so: src/mod/mod_memcache.c $(LIB)
	@if [ -z "$(strip $(MOD_CPPFLAGS))" ]; then \
	    echo "make mod: no FreeSWITCH headers: install FreeSWITCH's" \
	        "development files (pkg-config freeswitch) or give" \
	        "FREESWITCH_INCLUDE=DIR" >&2; exit 1; fi
	$(CC) $(ALL_CFLAGS) $(ALL_CPPFLAGS) $(MOD_CPPFLAGS) $(LDFLAGS) -shared \
	    -Wl,--exclude-libs,ALL -o $@ src/mod/mod_memcache.c $(LIB) $(LDLIBS)
install-mod: mod_memcache.so
	@if [ -z "$(FREESWITCH_MODDIR)" ]; then \
	    echo "make install-mod: give FREESWITCH_MODDIR=DIR" >&2; exit 1; fi
	install -d $(DESTDIR)$(FREESWITCH_MODDIR)
	install -m 755 mod_memcache.so $(DESTDIR)$(FREESWITCH_MODDIR)/
tests/split-words tests/render-test tests/value-max: %: %.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_CPPFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)
tests/threads: tests/threads.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_CPPFLAGS) -pthread $(LDFLAGS) -o $@ $< $(LIB) \
	    $(LDLIBS)
# make bench's driver of the core API: not part of make test.
tests/bench-core: tests/bench-core.c $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_CPPFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)
%.o: %.c
	$(CC) $(ALL_CFLAGS) $(ALL_CPPFLAGS) -MMD -MP -c -o $@ $<
-include $(CORE_OBJS:.o=.d) $(CLI_OBJS:.o=.d)

# The FreeSWITCH test kit, not part of test: a minimal FreeSWITCH built once
# into FS_CACHE from FREESWITCH_SRC, SPANDSP_SRC and SOFIA_SIP_SRC (git
# directories or trees), the module and the stock one run inside it.
FS_CACHE?=	$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/fsmemcache-fs
export FS_CACHE FREESWITCH_SRC SPANDSP_SRC SOFIA_SIP_SRC FREESWITCH_REV \
	SPANDSP_REV SOFIA_SIP_REV
fs-test: $(PROG) $(LIB)
	@bash tests/freeswitch/run.sh

# Install the Debian packages the build and the tests need, if missing.
deps:
	@sh tests/install-deps.sh

test: deps
	$(MAKE) test-progs
	bats tests
test-progs: $(PROG) $(TEST_PROGS)

bench: deps
	$(MAKE) $(PROG) tests/bench-core
	@bash tests/bench.sh

demo: deps
	$(MAKE) $(PROG)
	@bash tests/demo.sh

check: deps
	$(MAKE) clean
	$(MAKE) CFLAGS='-O1 -g -Werror $(SAN)' LDFLAGS='$(SAN)' \
	    $(PROG) $(TEST_PROGS)
	ASAN_OPTIONS=detect_leaks=1 bats tests
	$(MAKE) clean
	$(MAKE) lint

# KNF declares locals at the top of a function, so cppcheck's
# variableScope advice is off.
lint: format-check
	cppcheck --quiet --error-exitcode=1 --std=c99 --inline-suppr \
	    --enable=warning,style,performance,portability \
	    --suppress=missingIncludeSystem --suppress=variableScope \
	    -Isrc/core src tests/*.c tests/fuzz/*.c tests/freeswitch/*.c
	mandoc -Tlint -Wwarning man/fsmemcache.1 man/fsmemcache.cfg.5
	shellcheck -x -s bash tests/helper.bash tests/demo.sh tests/bench.sh \
	    tests/throwaway.sh \
	    etc/bash-completion/fsmemcache
	shellcheck -s sh tests/install-deps.sh tests/deb-check.sh .ci/run
	shellcheck -s bash tests/fuzz/*.sh tests/freeswitch/*.sh
	shellcheck tests/*.bats
	@! grep -nE '\<(printf|fprintf|puts|perror|exit|abort|errx?|warnx?|syslog)\(' \
	    src/core/*.c || { echo 'the core must not print or exit'; exit 1; }

format:
	clang-format -i src/*/*.[ch] tests/*.c tests/fuzz/*.c tests/freeswitch/*.c
format-check:
	clang-format --dry-run -Werror src/*/*.[ch] tests/*.c tests/fuzz/*.c \
	    tests/freeswitch/*.c

fsmemcache.pc: Makefile src/core/fsmemcache.h
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' \
	    'includedir=$(INCLUDEDIR)' '' 'Name: fsmemcache' \
	    'Description: FreeSWITCH memcache API commands on libmemcached' \
	    'Version: $(VERSION)' 'Requires.private: $(PKGS)' \
	    'Libs: -L$${libdir} -lfsmemcache' 'Libs.private: -lhashkit -pthread' 'Cflags: -I$${includedir}' >$@

install: $(PROG) $(LIB) $(SHLIB) fsmemcache.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(SYSCONFDIR)
	install -m 755 $(PROG) $(DESTDIR)$(BINDIR)/
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/$(SHLIB).$(SOVERSION)
	ln -sf $(SHLIB).$(SOVERSION) $(DESTDIR)$(LIBDIR)/$(SHLIB)
	install -m 644 src/core/fsmemcache.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 fsmemcache.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 etc/bash-completion/fsmemcache \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/
	install -m 644 man/fsmemcache.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/fsmemcache.cfg.5 $(DESTDIR)$(MANDIR)/man5/
	test -f $(DESTDIR)$(SYSCONFDIR)/fsmemcache.cfg || \
	    install -m 644 etc/fsmemcache.cfg $(DESTDIR)$(SYSCONFDIR)/

clean:
	rm -f $(PROG) $(LIB) $(SHLIB) fsmemcache.pc $(TEST_PROGS) mod_memcache.so \
	    tests/bench-core \
	    src/*/*.o src/*/*.d

# Releases: the tarball, a build and test of it, and the Debian packages.
DISTNAME=	$(PROG)-$(VERSION)
DISTFILE=	$(DISTNAME).tar.gz
DEBDIR=		build/deb
DEB_TOOLS=	dpkg-dev debhelper lintian man-db bash-completion

version:
	@echo $(VERSION)

# Every file git tracks, as the work tree has it, under $(DISTNAME)/;
# owners, modes, order and times are fixed, so that one tree gives one
# tarball.
dist:
	@[ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] || { \
	    echo "make dist: $(CURDIR) is not a git checkout" >&2; exit 1; }
	git ls-files -z | tar -cf $(DISTFILE:.gz=) --null --no-recursion \
	    --transform 's,^,$(DISTNAME)/,' --owner=0 --group=0 \
	    --numeric-owner --mode=u+rw,go=rX \
	    --mtime=@$$(git log -1 --format=%ct) -T -
	gzip -9nf $(DISTFILE:.gz=)

# Unpack the tarball where nothing else is, build and test there, and
# check that make clean leaves exactly what was unpacked.
distcheck: dist
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	    tar -xzf $(DISTFILE) -C "$$dir" && \
	    (cd "$$dir" && find $(DISTNAME) -type f | LC_ALL=C sort) \
	        >"$$dir/unpacked" && \
	    $(MAKE) -C "$$dir/$(DISTNAME)" test && \
	    $(MAKE) -C "$$dir/$(DISTNAME)" install DESTDIR="$$dir/root" && \
	    $(MAKE) -C "$$dir/$(DISTNAME)" clean && \
	    (cd "$$dir" && find $(DISTNAME) -type f | LC_ALL=C sort) | \
	        diff -u "$$dir/unpacked" - && \
	    echo "distcheck: $(DISTFILE) builds, passes its tests and cleans up"

# The Debian packages, built from the tarball as from a fresh clone into
# $(DEBDIR), then checked by lintian and installed, used, removed and
# purged (tests/deb-check.sh).  DEB_BUILD_OPTIONS=nocheck skips the
# suite in the build; DEB_BUILD_PROFILES=pkg.fsmemcache.freeswitch adds
# the module's package (debian/rules says where its headers come from).
deb: deps dist
	@sh tests/install-deps.sh $(DEB_TOOLS)
	rm -rf $(DEBDIR)
	mkdir -p $(DEBDIR)
	cp $(DISTFILE) $(DEBDIR)/$(PROG)_$(VERSION).orig.tar.gz
	tar -xzf $(DISTFILE) -C $(DEBDIR)
	cd $(DEBDIR)/$(DISTNAME) && dpkg-buildpackage -us -uc
	rm -rf $(DEBDIR)/$(DISTNAME)
	lintian --fail-on error $(DEBDIR)/*.changes >$(DEBDIR)/lintian.txt; \
	    status=$$?; cat $(DEBDIR)/lintian.txt; exit $$status
	sh tests/deb-check.sh $(DEBDIR)

.PHONY: all deps test bench demo check lint format format-check install mod \
	install-mod fs-test clean version dist distcheck deb test-progs

# Fuzzing, ThreadSanitizer and valgrind: make fuzz, make tsan, make valgrind.
-include tests/fuzz/fuzz.mk
