# make check-full: make check, then the reliability runs (what they found
# and the commands behind the figures: docs/RELIABILITY.md). Each is also a
# target of its own:
#   check-asan      the whole test suite against an AddressSanitizer and
#                   UndefinedBehaviorSanitizer build of everything
#   check-tsan      the threaded tests against a ThreadSanitizer build,
#                   synchronous and with NORST_ASYNC=1
#   check-valgrind  the seed demo servers under valgrind memcheck
#   check-fuzz      libFuzzer on the configuration parser, FUZZ_SECONDS long
#   check-torture   the differential torture test on random seeds,
#                   TORTURE_SECONDS long (mk/torture.mk)
# Every part runs even when an earlier one failed; check-full fails if any
# did. The sanitized trees go next to $(B), not into it: t_install needs the
# source directory to be the parent of the build directory it runs in.

ASAN_B = $(B)-asan
TSAN_B = $(B)-tsan
FUZZ_B = $(B)/fuzz
FUZZ_CC = clang
FUZZ_SECONDS = 120

# No _FORTIFY_SOURCE in the sanitized builds: its __*_chk wrappers would take
# the libc calls away from the sanitizers' interceptors.
SAN_HARDEN = -fstack-protector-strong
ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# A sanitized libnorst.so needs its runtime loaded first: the harness puts
# NORST_TEST_RUNTIME in front of it in LD_PRELOAD (hooks_host.so first: see
# tests/sanitize/hooks.c). verify_asan_link_order=0: for that, and because
# some tests build LD_PRELOAD themselves (t_early_close) or run programs
# through norst, which puts the library first; the runtime then comes in as
# a dependency of the sanitized library, which works for these programs.
ASAN_ENV = NORST_TEST_RUNTIME=$(CURDIR)/$(ASAN_B)/hooks_host.so:$$($(CC) -print-file-name=libasan.so) \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_odr_violation=0:verify_asan_link_order=0:log_path=$(CURDIR)/$(ASAN_B)/reports/asan \
    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitize/lsan.supp:print_suppressions=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(CURDIR)/$(ASAN_B)/reports/ubsan

# report_signal_unsafe=0: the close path runs in signal handlers on purpose.
# die_after_fork=0: with NORST_ASYNC=1 the reaper thread makes every server
# multi-threaded, and a forked child starts a reaper of its own, which
# ThreadSanitizer refuses by default (t_log_concurrent's forked servers).
# Each of the two runs writes its reports to $(TSAN_B)/reports-sync|async/.
TSAN_ENV = NORST_TEST_RUNTIME=$$($(CC) -print-file-name=libtsan.so) \
    TSAN_OPTIONS=halt_on_error=0:report_signal_unsafe=0:die_after_fork=0:second_deadlock_stack=1:log_path=$(CURDIR)/$(TSAN_B)/reports-$$mode/tsan
TSAN_TESTS = t_async t_log_concurrent t_seed
TSAN_BUILD = $(TSAN_B)/libnorst.so $(DEMO:$(B)/%=$(TSAN_B)/%) \
    $(TSAN_TESTS:%=$(TSAN_B)/tests/%) \
    $(filter-out %/static-true,$(TEST_PROGS:$(B)/%=$(TSAN_B)/%))

# Set by check-asan for its sub-make: an object every program links, and
# is relinked with when it changes.
SAN_LINK_EXTRA =
ifneq ($(SAN_LINK_EXTRA),)
PROG_LDFLAGS += $(SAN_LINK_EXTRA)
$(DEMO) $(TESTS) $(TEST_PROGS) $(B)/norst: $(SAN_LINK_EXTRA)
endif

# The parser is pure: the target links it, its warning line and fmt only.
FUZZ_SRC = tests/fuzz/fuzz_config.c shim/config_parse.c shim/config_warning.c shim/fmt.c

.PHONY: check-full check-asan check-tsan check-valgrind check-fuzz clean-check-full
# Ends with "check-full: N passed, N failed", counting make check (which
# got here only if it passed) and the five parts.
check-full: check
	@failed=; passed=1; for part in asan tsan valgrind fuzz torture; do \
	    if $(MAKE) --no-print-directory check-$$part; then passed=$$((passed + 1)); \
	    else failed="$$failed check-$$part"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "check-full: failed parts:$$failed"; fi; \
	echo "check-full: $$passed passed, $$((6 - passed)) failed"; \
	[ -z "$$failed" ]

# The whole tree, test drivers and programs included, with ASan and UBSan;
# every program also links tests/sanitize/hooks.o (see there why).
check-asan: $(ASAN_B)/hooks.o $(ASAN_B)/hooks_host.so
	$(MAKE) --no-print-directory B=$(ASAN_B) HARDEN='$(SAN_HARDEN)' CFLAGS='-O1 -g $(ASAN_FLAGS)' STACK_GUARD= \
	    SAN_LINK_EXTRA=$(ASAN_B)/hooks.o \
	    all $(patsubst $(B)/%,$(ASAN_B)/%,$(TESTS) $(TEST_PROGS) $(CHECK_EXTRA))
	$(ASAN_ENV) sh tests/sanitize/suite.sh asan $(ASAN_B) $(ASAN_B)/reports

$(ASAN_B)/hooks.o: tests/sanitize/hooks.c
	mkdir -p $(ASAN_B)
	$(CC) $(BASE) -fPIE -O1 -g -c -o $@ $<

$(ASAN_B)/hooks_host.so: tests/sanitize/hooks.c
	mkdir -p $(ASAN_B)
	$(CC) $(BASE) -DUNSANITIZED_HOST -fPIC -shared -O1 -g -o $@ $<

# Only the tests that exercise threads, so the build dir holds no others.
check-tsan:
	rm -f $(TSAN_B)/tests/t_*
	$(MAKE) --no-print-directory B=$(TSAN_B) HARDEN='$(SAN_HARDEN)' CFLAGS='-O1 -g -fsanitize=thread' STACK_GUARD= \
	    $(TSAN_BUILD)
	@status=0; \
	for mode in sync async; do \
	    async=0; [ $$mode = sync ] || async=1; \
	    $(TSAN_ENV) NORST_ASYNC=$$async sh tests/sanitize/suite.sh tsan-$$mode $(TSAN_B) \
	        $(TSAN_B)/reports-$$mode tests/sanitize/tsan.known-failures || status=1; \
	done; exit $$status

check-valgrind: $(B)/libnorst.so $(DEMO)
	sh tests/sanitize/memcheck.sh $(B) $(B)/memcheck

$(FUZZ_B)/fuzz_config: $(FUZZ_SRC) $(wildcard shim/*.h)
	mkdir -p $(FUZZ_B)
	$(FUZZ_CC) $(BASE) -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -Ishim -o $@ $(FUZZ_SRC)

check-fuzz: $(FUZZ_B)/fuzz_config
	sh tests/fuzz/run.sh $(FUZZ_B)/fuzz_config $(FUZZ_SECONDS) tests/fuzz/corpus/config \
	    tests/fuzz/config.dict $(FUZZ_B)

clean: clean-check-full
clean-check-full:
	rm -rf $(ASAN_B) $(TSAN_B)
