# make install / install-strip / uninstall. PREFIX (default /usr/local) and
# LIBDIR (default PREFIX/lib/<multiarch triplet>) are set in mk/tools.mk,
# where norst gets them compiled in; DESTDIR stages the tree elsewhere (the
# installed norst also finds the library relative to its own directory).
#
# The library goes in as its versioned file with the links to it the loader
# and ldconfig expect: libnorst.so.0 (the SONAME, what norst preloads) and
# libnorst.so (for a hand-written LD_PRELOAD). Files are installed with
# their debug information; install-strip moves it to DEBUGDIR, by build-id.
# The systemd drop-in template goes in with its library path rewritten to
# where this install puts the library.

INSTALL ?= install
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/norst
DEBUGDIR ?= $(PREFIX)/lib/debug
LIBFILE  = libnorst.so.$(VERSION)
DOCS     = README.md docs/design.md docs/diagnosing-a-daemon.md docs/PERFORMANCE.md \
           docs/RELIABILITY.md docs/kernel-facts-verified.md

INSTALLED_LIB = $(addprefix $(DESTDIR)$(LIBDIR)/,$(LIBFILE) $(SONAME) libnorst.so)
INSTALLED_BIN = $(DESTDIR)$(BINDIR)/norst
INSTALLED_MAN = $(DESTDIR)$(MANDIR)/man1/norst.1 $(DESTDIR)$(MANDIR)/man7/libnorst.7
TEMPLATEDIR   = $(PREFIX)/share/libnorst/systemd
INSTALLED_TEMPLATE = $(DESTDIR)$(TEMPLATEDIR)/norst.conf

.PHONY: install install-strip uninstall print-libdir
install: $(B)/libnorst.so $(B)/norst docs/norst.1 docs/libnorst.7 contrib/systemd/norst.conf
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(TEMPLATEDIR)
	$(INSTALL) -m 0644 $(B)/libnorst.so $(DESTDIR)$(LIBDIR)/$(LIBFILE)
	ln -sf $(LIBFILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libnorst.so
	$(INSTALL) -m 0755 $(B)/norst $(INSTALLED_BIN)
	$(INSTALL) -m 0644 docs/norst.1 $(DESTDIR)$(MANDIR)/man1/norst.1
	$(INSTALL) -m 0644 docs/libnorst.7 $(DESTDIR)$(MANDIR)/man7/libnorst.7
	$(INSTALL) -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)
	sed 's|/usr/local/lib/libnorst.so|$(LIBDIR)/$(SONAME)|g' contrib/systemd/norst.conf \
	    > $(INSTALLED_TEMPLATE)
	chmod 0644 $(INSTALLED_TEMPLATE)

install-strip: install
	sh tools/split-debug.sh strip $(DESTDIR)$(DEBUGDIR) \
	    $(DESTDIR)$(LIBDIR)/$(LIBFILE) $(INSTALLED_BIN)

uninstall:
	sh tools/split-debug.sh remove $(DESTDIR)$(DEBUGDIR) \
	    $(DESTDIR)$(LIBDIR)/$(LIBFILE) $(INSTALLED_BIN)
	rm -f $(INSTALLED_LIB) $(INSTALLED_BIN) $(INSTALLED_MAN) $(INSTALLED_TEMPLATE)
	-rmdir $(DESTDIR)$(TEMPLATEDIR) $(DESTDIR)$(PREFIX)/share/libnorst 2>/dev/null
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# Where the library goes, for tests and packaging scripts.
print-libdir:
	@echo $(LIBDIR)
