# make install / make uninstall. PREFIX (default /usr/local, set in
# mk/tools.mk, where norst gets $(PREFIX)/lib compiled in) and DESTDIR, for
# staging: the installed norst also finds the library as ../lib/libnorst.so
# from its own directory. The systemd drop-in template is installed with
# its library path rewritten to where this install puts the library.

INSTALL ?= install
NORST_INSTALLED = lib/libnorst.so bin/norst share/man/man1/norst.1 share/man/man7/libnorst.7 \
                  share/libnorst/systemd/norst.conf

.PHONY: install uninstall
install: $(B)/libnorst.so $(B)/norst docs/norst.1 docs/libnorst.7 contrib/systemd/norst.conf
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7 \
	    $(DESTDIR)$(PREFIX)/share/libnorst/systemd
	$(INSTALL) -m 0755 $(B)/libnorst.so $(DESTDIR)$(PREFIX)/lib/libnorst.so
	$(INSTALL) -m 0755 $(B)/norst $(DESTDIR)$(PREFIX)/bin/norst
	$(INSTALL) -m 0644 docs/norst.1 $(DESTDIR)$(PREFIX)/share/man/man1/norst.1
	$(INSTALL) -m 0644 docs/libnorst.7 $(DESTDIR)$(PREFIX)/share/man/man7/libnorst.7
	sed 's|/usr/local/lib/|$(PREFIX)/lib/|g' contrib/systemd/norst.conf > \
	    $(DESTDIR)$(PREFIX)/share/libnorst/systemd/norst.conf
	chmod 0644 $(DESTDIR)$(PREFIX)/share/libnorst/systemd/norst.conf

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(NORST_INSTALLED))
	rmdir $(DESTDIR)$(PREFIX)/share/libnorst/systemd $(DESTDIR)$(PREFIX)/share/libnorst 2>/dev/null || true
