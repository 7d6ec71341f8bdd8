# The "stack" field's test program (tests/t_stack.c): its functions are
# exported (-rdynamic), so that a stripped copy, as distributions ship
# binaries, still names them from .dynsym; the unstripped one is what
# addr2line reads.
$(B)/tests/progs/stackclose: PROG_LDFLAGS += -rdynamic
$(B)/tests/progs/stackclose: PROG_CFLAGS += -fno-inline -fno-optimize-sibling-calls

$(B)/tests/progs/stackclose-stripped: $(B)/tests/progs/stackclose
	strip -o $@ $<

CHECK_EXTRA += $(B)/tests/progs/stackclose-stripped
