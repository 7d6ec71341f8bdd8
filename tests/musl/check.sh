#!/bin/sh
# make check-musl, after the musl build (make CC=musl-gcc B=MUSL): the
# library and the seed echo server are musl's, and the server, which resets
# alone, ends its connection with a FIN under the musl library, preloaded
# directly and through the musl-built norst; the event it logs names the
# closing function. The client is the glibc build's (BUILD).
# usage: tests/musl/check.sh BUILD MUSL
build=${1:-build} musl=${2:-build-musl}
case $musl in /*) ;; *) musl=$PWD/$musl ;; esac
src=$PWD
name=check-musl
tmp=$(mktemp -d /tmp/norst-musl-XXXXXX) && trap 'rm -rf "$tmp"' EXIT || exit 2
. "$src/tests/shell-checks.sh"

check "the library needs musl's libc.so only, no glibc symbol version" \
    sh -c 'readelf -d "$1" | grep NEEDED; [ "$(readelf -d "$1" | grep -c NEEDED)" = 1 ] &&
           readelf -d "$1" | grep -q "NEEDED.*\[libc\.so\]" && ! readelf -V "$1" | grep -q GLIBC' \
    sh "$musl/libnorst.so"
check "the seed echo server is linked with musl" \
    sh -c 'readelf -l "$1" | grep -q "interpreter: /lib/ld-musl-"' sh "$musl/echo-server"

seed() { sh "$src/tests/seed-case.sh" "$build" "$@"; }
seed "$musl/echo-server" >"$tmp/alone"
seed env LD_PRELOAD="$musl/libnorst.so" NORST_LOG=stderr "$musl/echo-server" >"$tmp/preload"
seed "$musl/norst" -- "$musl/echo-server" >"$tmp/norst"
seed env LD_PRELOAD="$musl/libnorst.so" NORST_LOG=stderr NORST_LOG_FORMAT=json \
    "$musl/echo-server" >"$tmp/json"
check "musl echo-server alone: the client is reset" \
    sh -c 'cat "$1"; grep -q "^client: status 2: .*reset by peer" "$1" &&
           ! grep -q "OutRsts 0 " "$1"' sh "$tmp/alone"
for run in preload norst; do
    check "musl echo-server under the musl library ($run): orderly EOF, no RST" \
        sh -c 'cat "$1"; grep -q "^client: status 1: .*orderly EOF" "$1" &&
               grep -q "^resets: OutRsts 0 AbortOnClose 0\$" "$1"' sh "$tmp/$run"
done
check "its event: drained to the peer's EOF, the closer named" \
    sh -c 'cat "$1"; grep -q "^server: status 0: libnorst: .* action=drain outcome=peer-eof .*close() from handle_client_rst+0x" "$1"' \
    sh "$tmp/preload"
check "its stack: the closer, then main, each with the program's build-id" \
    sh -c 'cat "$1"; grep -q "\"stack\":\[{[^}]*\"sym\":\"handle_client_rst+0x[^}]*\"build_id\":\"[0-9a-f]\{40\}\"[^}]*},{[^}]*\"sym\":\"main+0x" "$1"' \
    sh "$tmp/json"
done_checks
