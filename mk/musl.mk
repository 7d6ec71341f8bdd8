# The musl build: make CC=musl-gcc builds the library (and the programs)
# against musl, into build-musl/ (the Makefile picks the tree from the C
# library the compiler targets). What is off under musl: docs/design.md,
# "Under musl". make check-musl builds it and runs the seed echo server,
# linked with musl, under the musl library (tests/musl/check.sh); it skips
# where musl-gcc is missing.

MUSL_CC = musl-gcc
MUSL_B  = build-musl

ifeq ($(LIBC),musl)
# Debian's musl-gcc links without the two notes gcc adds for glibc: the
# .eh_frame_hdr search table, which the "stack" field's walk needs (in the
# library itself, whose own frames it unwinds first), and the build-id
# norst report --resolve names objects by.
MUSL_LINK_NOTES = -Wl,--eh-frame-hdr -Wl,--build-id
SHIM_LDFLAGS += $(MUSL_LINK_NOTES)
PROG_LDFLAGS += $(MUSL_LINK_NOTES)
# Debian's musl-gcc searches musl's headers only; the kernel's (linux/,
# asm/), which the library includes, are glibc's: a directory of links to
# them. Alpine's linux-headers package puts them where musl finds them.
ifneq ($(shell printf '\043include <linux/seccomp.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 || echo missing),)
KERNEL_HEADERS = $(B)/kernel-headers
KERNEL_ARCH_INCLUDE := /usr/include/$(shell gcc -print-multiarch 2>/dev/null)
BASE += -isystem $(KERNEL_HEADERS)
$(SHIM_OBJ) $(NORST_OBJ): | $(KERNEL_HEADERS)
$(KERNEL_HEADERS):
	mkdir -p $@
	ln -sfn /usr/include/linux $@/linux
	ln -sfn /usr/include/asm-generic $@/asm-generic
	ln -sfn $(KERNEL_ARCH_INCLUDE)/asm $@/asm
endif
endif

.PHONY: check-musl clean-musl
check-musl: $(DEMO)
	@if ! command -v $(MUSL_CC) >/dev/null 2>&1; then \
	    echo "SKIP check-musl: no $(MUSL_CC) here (apt-get install musl-tools)"; \
	else \
	    $(MAKE) --no-print-directory CC=$(MUSL_CC) B=$(MUSL_B) \
	        $(MUSL_B)/libnorst.so $(MUSL_B)/echo-server $(MUSL_B)/norst && \
	    sh tests/musl/check.sh $(B) $(MUSL_B); \
	fi

clean: clean-musl
clean-musl:
	rm -rf $(MUSL_B)
