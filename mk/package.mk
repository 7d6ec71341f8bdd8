# make check-package: the Debian package (debian/) built from a copy of the
# tree, checked with lintian, installed with dpkg -i, run (the seed echo
# case through the installed norst), removed (tests/package/check.sh). It
# needs root and dpkg-dev, debhelper and lintian; without them it skips
# with its reason. make check does not run it: it changes the machine's
# installed packages for its duration. .ci/run does.

.PHONY: check-package
check-package: $(DEMO)
	sh tests/package/check.sh $(B)
