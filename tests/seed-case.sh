#!/bin/sh
# seed-case.sh BUILD [PREFIX...] SERVER: the seed's echo case once, in a
# network namespace of its own. SERVER (a path) runs with -n 1 PORT behind
# the PREFIX words (a wrapper such as "/usr/bin/norst --", or "env
# LD_PRELOAD=..."); BUILD/echo-client sends it a request. Prints three lines:
#   client: what the client printed (one line), its exit status
#   resets: the namespace's Tcp OutRsts and TcpExt TCPAbortOnClose deltas
#   server: the server's exit status and standard error (one line)
# The seed server resets without the library; the client then says "reset
# by peer". With it the client reads an orderly EOF and no reset is counted.
build=$1
shift
case $build in /*) ;; *) build=$PWD/$build ;; esac
# As make check-torture does: unshare -rn, or as root without user namespaces -n.
if [ "${NORST_SEED_IN_NS:-}" != 1 ]; then
    ns="unshare -rn"
    $ns true 2>/dev/null || ns="unshare -n"
    exec env NORST_SEED_IN_NS=1 $ns sh "$0" "$build" "$@"
fi
ip link set lo up || exit 1
tmp=$(mktemp -d /tmp/norst-seed-XXXXXX) && trap 'rm -rf "$tmp"' EXIT || exit 1

# counter FILE SECTION NAME: one of the kernel's counters in this namespace
counter() {
    awk -v sec="$2" -v name="$3" '$1 == sec && !seen { for (i = 2; i <= NF; i++) col[$i] = i; seen = 1; next }
         $1 == sec { print $col[name] + 0; exit }' "$1"
}
rsts() { counter /proc/net/snmp Tcp: OutRsts; }
aborts() { counter /proc/net/netstat TcpExt: TCPAbortOnClose; }

port=5000
rsts_before=$(rsts) aborts_before=$(aborts)
mkfifo "$tmp/ready"
"$@" -n 1 $port >"$tmp/ready" 2>"$tmp/server.err" &
server=$!
# The server prints its port once it listens; an EOF here means it failed.
read -r _ <"$tmp/ready" || true
out=$(timeout 10 "$build/echo-client" 127.0.0.1 $port hello-world 2>&1)
client=$?
wait $server
status=$?
sleep 0.05 # an RST still in flight on loopback is counted by then
echo "client: status $client: $(printf '%s' "$out" | tr '\n' ' ')"
echo "resets: OutRsts $(($(rsts) - rsts_before)) AbortOnClose $(($(aborts) - aborts_before))"
echo "server: status $status: $(tr '\n' ' ' <"$tmp/server.err")"
