# The "stack" field's test program (tests/t_stack.c): its functions are
# exported (-rdynamic), so that a stripped copy, as distributions ship
# binaries, still names them from .dynsym; the unstripped one is what
# addr2line reads.
$(B)/tests/progs/stackclose: PROG_LDFLAGS += -rdynamic
$(B)/tests/progs/stackclose: PROG_CFLAGS += -fno-inline -fno-optimize-sibling-calls

$(B)/tests/progs/stackclose-stripped: $(B)/tests/progs/stackclose
	strip -o $@ $<

CHECK_EXTRA += $(B)/tests/progs/stackclose-stripped

# closer without unwind tables for its own code, as code made at run time
# has none: the walk that clears a blocked signal's doubt cannot reach the
# stack's first frame from its close (tests/t_threads.c).
$(B)/tests/progs/closer-notables: tests/progs/closer.c | $(B)/tests/progs
	$(CC) $(PROG_CFLAGS) -fno-asynchronous-unwind-tables -fno-unwind-tables $(DEPFLAGS_PROG) \
	    $(PROG_LDFLAGS) -o $@ $<

CHECK_EXTRA += $(B)/tests/progs/closer-notables
