# libnorst: see README.md. Outputs go to build/.
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE      = -std=gnu11 -D_GNU_SOURCE -fno-strict-aliasing $(WARN) $(CPPFLAGS)
HARDEN    = -D_FORTIFY_SOURCE=2 -fstack-protector-strong
# The close path may run in a signal handler on a small alternate stack
# (tests/t_altstack.c measures the whole path): no frame of the library may
# grow past this, so a page-sized buffer cannot creep back in. The
# sanitizer builds turn it off (their redzones grow every frame).
STACK_GUARD  = -Wframe-larger-than=1280
SHIM_CFLAGS  = $(BASE) $(HARDEN) -fPIC -fvisibility=hidden $(STACK_GUARD) $(SHIM_DEFS) $(CFLAGS)
# The SONAME is what the dynamic loader and ldconfig know the library by
# (mk/install.mk installs the versioned file and its links).
SONAME       = libnorst.so.$(firstword $(subst ., ,$(VERSION)))
SHIM_LDFLAGS = -shared -Wl,-soname,$(SONAME) -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--no-undefined $(LDFLAGS)
PROG_CFLAGS  = $(BASE) $(HARDEN) -fPIE $(CFLAGS)
PROG_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
# Each compile writes the headers it read next to its output (name.d, or
# program.d where one command compiles and links); the files are included
# below, so touching a header rebuilds exactly its users. -MP: a header
# that is deleted or renamed does not break the next build.
DEPFLAGS     = -MMD -MP
DEPFLAGS_PROG = $(DEPFLAGS) -MT $@ -MF $@.d
# glibc before 2.34 has dlsym and the pthread calls in these (shim/compat.h);
# musl has them all in libc.
GLIBC_LIBS   = -Wl,--no-as-needed -l:libdl.so.2 -l:libpthread.so.0
SHIM_LIBS    = $(if $(filter glibc,$(LIBC)),$(GLIBC_LIBS))

# The C library the compiler targets: make CC=musl-gcc builds against musl
# (mk/musl.mk), into a tree of its own.
LIBC := $(if $(findstring musl,$(notdir $(CC)) $(shell $(CC) -dumpmachine 2>/dev/null)),musl,glibc)
B = $(if $(filter musl,$(LIBC)),build-musl,build)
SHIM_SRC  = $(wildcard shim/*.c)
SHIM_OBJ  = $(SHIM_SRC:shim/%.c=$(B)/shim/%.o)
DEMO      = $(B)/echo-server $(B)/echo-client $(B)/prime-server $(B)/prime-client
TESTLIB   = $(B)/tests/harness.o $(B)/tests/wan.o
TEST_SRC  = $(wildcard tests/t_*.c)
TESTS     = $(TEST_SRC:tests/%.c=$(B)/tests/%)
TEST_PROGS = $(patsubst tests/progs/%.c,$(B)/tests/progs/%,$(wildcard tests/progs/*.c)) \
             $(patsubst tests/libs/%.c,$(B)/tests/libs/%.so,$(wildcard tests/libs/*.c))

# Further targets (install, benchmarks, sanitizer runs) live in mk/, one
# fragment per concern; each may add outputs to ALL_EXTRA and CHECK_EXTRA.
.DEFAULT_GOAL := all
ALL_EXTRA   =
CHECK_EXTRA =
include $(wildcard mk/*.mk)

.PHONY: all demo check clean
.SECONDARY:
all: $(B)/libnorst.so $(DEMO) $(ALL_EXTRA)

$(B)/shim/%.o: shim/%.c | $(B)/shim
	$(CC) $(SHIM_CFLAGS) $(DEPFLAGS) -c -o $@ $<

# The reaper's loop runs on its own thread's 256 KiB stack.
$(B)/shim/reaper.o: STACK_GUARD = -Wframe-larger-than=2048

$(B)/libnorst.so: $(SHIM_OBJ)
	$(CC) $(SHIM_CFLAGS) $(SHIM_LDFLAGS) -o $@ $^ $(SHIM_LIBS)

$(B)/%: tools/%.c | $(B)
	$(CC) $(PROG_CFLAGS) $(DEPFLAGS_PROG) $(PROG_LDFLAGS) -o $@ $<

$(B)/tests/%.o: tests/%.c | $(B)/tests
	$(CC) $(PROG_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/tests/t_%: tests/t_%.c $(TESTLIB) | $(B)/tests
	$(CC) $(PROG_CFLAGS) $(DEPFLAGS_PROG) $(PROG_LDFLAGS) -o $@ $< $(TESTLIB)

$(B)/tests/progs/%: tests/progs/%.c | $(B)/tests/progs
	$(CC) $(PROG_CFLAGS) $(DEPFLAGS_PROG) $(PROG_LDFLAGS) -o $@ $<

$(B)/tests/libs/%.so: tests/libs/%.c | $(B)/tests/libs
	$(CC) $(BASE) -fPIC -shared $(CFLAGS) $(DEPFLAGS_PROG) -o $@ $<

$(B) $(B)/shim $(B)/tests $(B)/tests/progs $(B)/tests/libs:
	mkdir -p $@

demo: all
	sh tools/demo.sh $(B)

check: all $(TESTS) $(TEST_PROGS) $(CHECK_EXTRA)
	sh tests/run.sh $(B)

clean:
	rm -rf $(B)

-include $(wildcard $(B)/*.d $(B)/*/*.d $(B)/*/*/*.d)
