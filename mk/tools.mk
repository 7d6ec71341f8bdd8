# The operator tools: the norst command (tools/norst/), and the test helper
# that needs a link of its own. Included by the top-level Makefile.

VERSION  = 0.1.0
# Also where "make install" puts things (mk/install.mk): the library in the
# multiarch directory (lib/x86_64-linux-gnu, as Debian's loader searches it)
# where the compiler names one, else in lib (musl-gcc names glibc's: a musl
# build goes to lib, as on Alpine).
PREFIX  ?= /usr/local
MULTIARCH := $(if $(filter glibc,$(LIBC)),$(shell $(CC) -print-multiarch 2>/dev/null))
LIBDIR  ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
# LIBDIR relative to the installed norst's directory (PREFIX/bin), when it
# lies under PREFIX: a tree staged under DESTDIR finds its own library.
LIBDIR_FROM_BIN = $(if $(filter $(PREFIX)/%,$(LIBDIR)),../$(patsubst $(PREFIX)/%,%,$(LIBDIR)))

# The configuration contract (names, limits, messages), the status
# page's format and the reading of a cgroup's unit are the library's own.
NORST_SRC  = $(wildcard tools/norst/*.c) shim/config_parse.c shim/status_name.c shim/cgroup_unit.c
NORST_DEFS = -DNORST_VERSION='"$(VERSION)"' -DNORST_LIBDIR='"$(LIBDIR)"' \
             -DNORST_LIBDIR_FROM_BIN='"$(LIBDIR_FROM_BIN)"' -DNORST_SONAME='"$(SONAME)"'

ALL_EXTRA += $(B)/norst

# The library writes its version into every event (shim/identity.c), its
# status page and its load line.
VERSIONED_SHIM = $(B)/shim/identity.o $(B)/shim/status_file.o $(B)/shim/load_line.o
# Not through CFLAGS or STACK_GUARD: the sanitizer builds set those on
# the command line.
$(VERSIONED_SHIM): SHIM_DEFS = -DNORST_VERSION='"$(VERSION)"'
$(VERSIONED_SHIM): $(B)/norst.defs

# The definitions are compiled in: a stamp that changes only when they do
# rebuilds norst after "make install PREFIX=..." with another prefix.
$(B)/norst.defs: norst-defs-check | $(B)
	@echo 'version=$(VERSION) prefix=$(PREFIX) libdir=$(LIBDIR)' | cmp -s - $@ || \
	    echo 'version=$(VERSION) prefix=$(PREFIX) libdir=$(LIBDIR)' > $@
.PHONY: norst-defs-check
norst-defs-check:

# Compiled one object each, so that each has its dependency file; the
# library's parser (shim/config_parse.c) in a directory of its own.
NORST_OBJ = $(patsubst tools/norst/%.c,$(B)/tools/norst/%.o,$(filter tools/norst/%,$(NORST_SRC))) \
            $(patsubst shim/%.c,$(B)/norst-shim/%.o,$(filter shim/%,$(NORST_SRC)))

$(B)/tools/norst/%.o: tools/norst/%.c $(B)/norst.defs
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) $(NORST_DEFS) -Ishim $(DEPFLAGS) -c -o $@ $<

$(B)/norst-shim/%.o: shim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -Ishim $(DEPFLAGS) -c -o $@ $<

$(B)/norst: $(NORST_OBJ)
	$(CC) $(PROG_CFLAGS) $(PROG_LDFLAGS) -o $@ $(NORST_OBJ)

# norst report --resolve's test needs a program whose code loads at an
# address other than its file offset: position-dependent (the last of
# -fPIE/-fno-pie and -pie/-no-pie wins).
$(B)/tests/progs/frame-nopie: PROG_CFLAGS += -fno-pie
$(B)/tests/progs/frame-nopie: PROG_LDFLAGS += -no-pie

# The statically linked programs: that of t_wrapper and t_check, and
# t_trace's server that resets its clients. Where the toolchain has no
# static libc the link fails, nothing is built, and the test says it skips
# that case.
STATIC_PROGS = $(B)/tests/progs/static-true $(B)/tests/progs/static-rst
$(STATIC_PROGS): $(B)/tests/progs/%: tests/progs/%.c | $(B)/tests/progs
	@echo '$(CC) $(BASE) $(CFLAGS) -static -o $@ $<'
	@$(CC) $(BASE) $(CFLAGS) -static -o $@ $< 2>/dev/null || \
	    echo "note: cannot link $* statically; the tests that need it skip that case"

# t_status plants pages named by start time, read as the library reads it.
$(B)/tests/t_status: $(B)/norst-shim/status_name.o
$(B)/tests/t_status: TESTLIB += $(B)/norst-shim/status_name.o
