# Fuzzing, ThreadSanitizer and valgrind: proof by tools (see SECURITY.md).
# Included by the top Makefile; every product lives in tests/fuzz/build.
#
#	make fuzz [FUZZ_SECONDS=N]	each libFuzzer target for N seconds
#					(default 60), in parallel with -j
#	make fuzz-build			build the targets only
#	make fuzz-repro FUZZ_TARGET=run FUZZ_INPUT=FILE
#					run one target on one input
#	make tsan			8 threads x 10k commands on one
#					handle under ThreadSanitizer
#	make valgrind			representative commands under
#					valgrind against a real memcached
#	make fuzz-clean			remove tests/fuzz/build
#
# Needs clang with its compiler runtime (Debian: clang, libclang-rt-dev)
# and valgrind; libmemcached and libconfig are the system's.

FUZZ_SAVED_GOAL :=	$(.DEFAULT_GOAL)

FUZZ_DIR=	tests/fuzz
FUZZ_BUILD=	$(FUZZ_DIR)/build
FUZZ_CC?=	clang
FUZZ_SECONDS?=	60
FUZZ_TARGETS=	split run config reply
# Extra libFuzzer flags, as FUZZ_FLAGS=-jobs=2.
FUZZ_FLAGS?=
FUZZ_MAXLEN_split=	4096
FUZZ_MAXLEN_run=	4096
FUZZ_MAXLEN_config=	16384
FUZZ_MAXLEN_reply=	16384
FUZZ_CORE_SRCS=	$(wildcard src/core/*.c)
FUZZ_PKGS=	libmemcached libconfig libsasl2 openssl
FUZZ_CPPFLAGS=	-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc/core \
		-DFSMC_CONF='"/nonexistent/fsmemcache.cfg"' \
		$(shell pkg-config --cflags $(FUZZ_PKGS) 2>/dev/null)
FUZZ_LIBS=	$(shell pkg-config --libs $(FUZZ_PKGS) 2>/dev/null) -lhashkit \
		-pthread
FUZZ_SAN=	-fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer
FUZZ_CFLAGS=	-std=c99 -g -O1 -Wall -Wextra $(FUZZ_SAN)
TSAN_CFLAGS=	-std=c99 -g -O1 -Wall -Wextra -fsanitize=thread \
		-fno-omit-frame-pointer
FUZZ_CORE_OBJS=	$(patsubst src/core/%.c,$(FUZZ_BUILD)/fuzz/%.o,$(FUZZ_CORE_SRCS))
TSAN_CORE_OBJS=	$(patsubst src/core/%.c,$(FUZZ_BUILD)/tsan/%.o,$(FUZZ_CORE_SRCS))
FUZZ_BINS=	$(addprefix $(FUZZ_BUILD)/fuzz-,$(FUZZ_TARGETS))
# The stress test's size: threads and commands per thread.
TSAN_THREADS?=	8
TSAN_COMMANDS?=	10000
# ThreadSanitizer sees only code built with it: by default, the core's.
# To see inside libmemcached too, give a libmemcached 1.1.4 build tree
# made with it, as TSAN_LIBMEMCACHED=DIR:
#	CC=clang CXX=clang++ CFLAGS='-fsanitize=thread -g -O1' \
#	CXXFLAGS='-fsanitize=thread -g -O1' LDFLAGS=-fsanitize=thread \
#	cmake -DCMAKE_BUILD_TYPE=Debug -DENABLE_SASL=ON SRCDIR
#	make libmemcached libhashkit
TSAN_LIBMEMCACHED?=
TSAN_LIBS=	$(if $(TSAN_LIBMEMCACHED),\
		-L$(TSAN_LIBMEMCACHED)/src/libmemcached \
		-L$(TSAN_LIBMEMCACHED)/src/libhashkit \
		-Xlinker -rpath -Xlinker $(TSAN_LIBMEMCACHED)/src/libmemcached \
		-Xlinker -rpath -Xlinker $(TSAN_LIBMEMCACHED)/src/libhashkit \
		-lmemcached-dbg -lhashkit-dbg \
		$(shell pkg-config --libs libconfig 2>/dev/null) -lsasl2,\
		$(FUZZ_LIBS))

$(FUZZ_BUILD)/fuzz/%.o: src/core/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_CPPFLAGS) \
	    -MMD -MP -c -o $@ $<
$(FUZZ_BUILD)/tsan/%.o: src/core/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(TSAN_CFLAGS) $(FUZZ_CPPFLAGS) -MMD -MP -c -o $@ $<
$(FUZZ_BUILD)/fuzz-%: $(FUZZ_DIR)/fuzz-%.c $(FUZZ_CORE_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) -o $@ $< \
	    $(FUZZ_CORE_OBJS) $(FUZZ_LIBS)
$(FUZZ_BUILD)/stress: tests/stress.c $(TSAN_CORE_OBJS) fuzz-force
	$(FUZZ_CC) $(TSAN_CFLAGS) $(FUZZ_CPPFLAGS) -pthread -o $@ $< \
	    $(TSAN_CORE_OBJS) $(TSAN_LIBS)
	@ldd $@ | sed -n 's/^[[:space:]]*\(libmemcached[^ ]*\) => \([^ ]*\).*/stress: \1 from \2/p'
-include $(FUZZ_CORE_OBJS:.o=.d) $(TSAN_CORE_OBJS:.o=.d)
.SECONDARY: $(FUZZ_CORE_OBJS) $(TSAN_CORE_OBJS)

fuzz-build: $(FUZZ_BINS)

# Each target runs on a working corpus in the build directory, seeded
# from tests/fuzz/corpus/TARGET (which it never writes); a crash leaves
# its input as build/crash-TARGET-*, and the log build/fuzz-TARGET.log
# ends with libFuzzer's "Done N runs in S second(s)".  Standard input is
# /dev/null, so that a configuration naming /dev/stdin cannot block.
fuzz: $(addprefix fuzz-run-,$(FUZZ_TARGETS))
fuzz-run-%: $(FUZZ_BUILD)/fuzz-%
	@mkdir -p $(FUZZ_BUILD)/corpus-$*
	@echo "fuzz-$*: $(FUZZ_SECONDS) s, log in $(FUZZ_BUILD)/fuzz-$*.log"
	@LSAN_OPTIONS=suppressions=$(FUZZ_DIR)/lsan.supp:print_suppressions=0 \
	    $(FUZZ_BUILD)/fuzz-$* -max_total_time=$(FUZZ_SECONDS) \
	    -max_len=$(FUZZ_MAXLEN_$*) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crash-$*- \
	    $(FUZZ_FLAGS) $(FUZZ_BUILD)/corpus-$* $(FUZZ_DIR)/corpus/$* \
	    </dev/null >$(FUZZ_BUILD)/fuzz-$*.log 2>&1; \
	    status=$$?; \
	    grep -E '^(Done|stat::number_of_executed_units|SUMMARY)' \
	        $(FUZZ_BUILD)/fuzz-$*.log | sed 's/^/fuzz-$*: /'; \
	    exit $$status

fuzz-repro: $(FUZZ_BUILD)/fuzz-$(FUZZ_TARGET)
	LSAN_OPTIONS=suppressions=$(FUZZ_DIR)/lsan.supp $(FUZZ_BUILD)/fuzz-$(FUZZ_TARGET) $(FUZZ_INPUT) </dev/null

tsan: $(FUZZ_BUILD)/stress
	TSAN_OPTIONS='halt_on_error=1 exitcode=66 second_deadlock_stack=1' \
	    bash $(FUZZ_DIR)/with-memcached.sh \
	    $(FUZZ_BUILD)/stress @SERVER@ $(TSAN_THREADS) $(TSAN_COMMANDS)

valgrind: $(PROG)
	bash $(FUZZ_DIR)/with-memcached.sh \
	    bash $(FUZZ_DIR)/valgrind.sh ./$(PROG) @PORT@

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

fuzz-force:

.PHONY: fuzz fuzz-build fuzz-repro tsan valgrind fuzz-clean fuzz-force

.DEFAULT_GOAL :=	$(FUZZ_SAVED_GOAL)

clean: fuzz-clean
