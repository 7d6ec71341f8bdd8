# The operator tools: the norst command (tools/norst/), and the test helper
# that needs a link of its own. Included by the top-level Makefile.

VERSION  = 0.1.0
# Also where "make install" puts things (mk/install.mk).
PREFIX  ?= /usr/local

# The configuration contract (names, limits, messages) is the library's own.
NORST_SRC  = $(wildcard tools/norst/*.c) shim/config_parse.c
NORST_DEFS = -DNORST_VERSION='"$(VERSION)"' -DNORST_LIBDIR='"$(PREFIX)/lib"'

ALL_EXTRA += $(B)/norst

# The definitions are compiled in: a stamp that changes only when they do
# rebuilds norst after "make install PREFIX=..." with another prefix.
$(B)/norst.defs: norst-defs-check | $(B)
	@echo 'version=$(VERSION) libdir=$(PREFIX)/lib' | cmp -s - $@ || \
	    echo 'version=$(VERSION) libdir=$(PREFIX)/lib' > $@
.PHONY: norst-defs-check
norst-defs-check:

$(B)/norst: $(NORST_SRC) tools/norst/tool.h shim/config_parse.h shim/event_fields.h $(B)/norst.defs | $(B)
	$(CC) $(PROG_CFLAGS) $(NORST_DEFS) -Ishim $(PROG_LDFLAGS) -o $@ $(NORST_SRC)

# t_wrapper's statically linked program. Where the toolchain has no static
# libc the link fails, nothing is built, and the test says it skips that case.
$(B)/tests/progs/static-true: tests/progs/static-true.c | $(B)/tests/progs
	@echo '$(CC) $(BASE) $(CFLAGS) -static -o $@ $<'
	@$(CC) $(BASE) $(CFLAGS) -static -o $@ $< 2>/dev/null || \
	    echo "note: cannot link statically; t_wrapper skips its static-binary case"
