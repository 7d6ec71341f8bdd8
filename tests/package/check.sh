#!/bin/sh
# make check-package: builds the Debian package from a copy of the source
# tree (dpkg-buildpackage -b -us -uc), checks it with lintian, installs it
# with dpkg -i, runs the seed echo case through the installed /usr/bin/norst
# and library, then removes it with dpkg -r, leaving the machine as it was.
# Prints PASS/FAIL/SKIP lines and ends with "check-package: N passed, N
# failed, N skipped"; exits non-zero if anything failed.
build=${1:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
src=$PWD
name=check-package
. "$src/tests/shell-checks.sh"

[ "$(id -u)" = 0 ] || skip "not root: dpkg -i needs root"
for tool in dpkg dpkg-buildpackage dh lintian; do
    command -v $tool >/dev/null 2>&1 ||
        skip "no $tool here (apt-get install dpkg-dev debhelper lintian)"
done
if dpkg-query -W -f='${db:Status-Abbrev}' norst 2>/dev/null | grep -q '^.i'; then
    skip "a norst package is installed already: this check would replace it"
fi

tmp=$(mktemp -d /tmp/norst-package-XXXXXX) || exit 2
installed=
cleanup() {
    [ -z "$installed" ] || dpkg -r norst >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=/usr/lib/$triplet
arch=$(dpkg --print-architecture)
deb=$tmp/norst_0.1.0_${arch}.deb
dbgsym=$tmp/norst-dbgsym_0.1.0_${arch}.deb

# The sources as they are, without build outputs or version control.
mkdir "$tmp/src"
tar -C "$src" --exclude=./build --exclude='./build-*' --exclude=./.git -cf - . |
    tar -C "$tmp/src" -xf -
check "dpkg-buildpackage -b -us -uc builds norst and norst-dbgsym" \
    sh -c 'cd "$1/src" && dpkg-buildpackage -b -us -uc >../build.log 2>&1 ||
           { tail -30 ../build.log; exit 1; }; ls "$2" "$3"' sh "$tmp" "$deb" "$dbgsym"
[ -e "$deb" ] || { done_checks; exit 1; }
check "lintian: no errors" sh -c 'lintian --fail-on error "$1"/norst_0.1.0_*.changes >"$1/lintian" 2>&1
    status=$?; grep -v "running with root privileges" "$1/lintian"; exit $status' sh "$tmp"

check "dpkg -i installs it" dpkg -i "$deb"
installed=1
check "the files: the library with its SONAME link, norst, the man pages, the documents" \
    sh -c 'for f in "$1/libnorst.so.0.1.0" "$1/libnorst.so.0" /usr/bin/norst \
                    /usr/share/man/man1/norst.1.gz /usr/share/man/man7/libnorst.7.gz \
                    /usr/share/doc/norst/README.md.gz /usr/share/doc/norst/copyright; do
               dpkg -L norst | grep -qx "$f" && [ -e "$f" ] || { echo "missing: $f"; exit 1; }
           done
           [ "$(readlink "$1/libnorst.so.0")" = libnorst.so.0.1.0 ]' sh "$libdir"
# With a merged /usr, ldconfig names /lib/TRIPLET, the same directory.
check "man finds norst(1) and libnorst(7) where the package put them" \
    sh -c '[ "$(man -w norst)" = /usr/share/man/man1/norst.1.gz ] &&
           [ "$(man -w 7 libnorst)" = /usr/share/man/man7/libnorst.7.gz ]'
check "ldconfig knows libnorst.so.0 (the package's trigger ran)" \
    sh -c 'ldconfig -p | grep -E "libnorst\.so\.0 .*=> (/usr)?/lib/$1/libnorst\.so\.0\$"' sh "$triplet"
check "installed binaries are stripped, their debug information is in norst-dbgsym" \
    sh -c 'for f in /usr/bin/norst "$1/libnorst.so.0.1.0"; do
               if readelf -S "$f" | grep -q "\.symtab\|\.debug_info"; then echo "$f: not stripped"; exit 1; fi
               id=$(readelf -n "$f" | awk "/Build ID:/ { print \$3 }")
               rest=${id#??}
               dpkg-deb -c "$2" | grep -q "/usr/lib/debug/.build-id/${id%"$rest"}/$rest.debug\$" ||
                   { echo "$f: build-id $id not in norst-dbgsym"; exit 1; }
           done' sh "$libdir" "$dbgsym"
check "/usr/bin/norst preloads $libdir/libnorst.so.0 and the installed file is mapped" \
    sh -c '[ "$(/usr/bin/norst -- sh -c "echo \$LD_PRELOAD")" = "$1/libnorst.so.0" ] &&
           /usr/bin/norst -- cat /proc/self/maps | grep -q " $1/libnorst.so.0.1.0\$"' sh "$libdir"

# The seed case: the server resets without the library (so the check can
# fail), and through the installed norst its client reads an orderly EOF.
sh "$src/tests/seed-case.sh" "$build" "$build/echo-server" >"$tmp/without"
sh "$src/tests/seed-case.sh" "$build" /usr/bin/norst -- "$build/echo-server" >"$tmp/with"
check "seed echo server alone: the client is reset" \
    sh -c 'cat "$1"; grep -q "^client: status 2: .*reset by peer" "$1" &&
           ! grep -q "OutRsts 0 " "$1"' sh "$tmp/without"
check "/usr/bin/norst -- echo-server: the client sees an orderly EOF, no RST" \
    sh -c 'cat "$1"; grep -q "^client: status 1: .*orderly EOF" "$1" &&
           grep -q "^resets: OutRsts 0 AbortOnClose 0\$" "$1" &&
           grep -q "^server: status 0: \$" "$1"' sh "$tmp/with"

check "dpkg -r removes it: no file left, ldconfig forgets the library" \
    sh -c 'dpkg -r norst && ! dpkg-query -W -f="\${db:Status-Abbrev}" norst 2>/dev/null | grep -q "^.i" &&
           [ ! -e /usr/bin/norst ] && [ ! -e "$1/libnorst.so.0" ] && [ ! -e "$1/libnorst.so.0.1.0" ] &&
           [ ! -e /usr/share/doc/norst ] && ! ldconfig -p | grep -q libnorst' sh "$libdir"
installed=

done_checks
