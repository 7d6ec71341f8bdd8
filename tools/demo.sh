#!/bin/sh
# make demo: the seed's experiments in a private network namespace, each run
# without and then with libnorst, side by side: what the client saw, and the
# resets the kernel counted.
build=${1:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac

if [ "${NORST_DEMO_IN_NS:-}" != 1 ]; then
    for ns in "unshare -rn" "unshare -n"; do
        if $ns true 2>/dev/null; then
            exec env NORST_DEMO_IN_NS=1 $ns sh "$0" "$build"
        fi
    done
    echo "demo: needs a network namespace (unshare -rn, or unshare -n as root)" >&2
    exit 1
fi
ip link set lo up || exit 1

# "AbortOnClose OutRsts" from the kernel's counters of this namespace
counters() {
    awk '$1 == "TcpExt:" && !seen_ext { for (i = 2; i <= NF; i++) ext[i] = $i; seen_ext = 1; next }
         $1 == "TcpExt:" { for (i = 2; i <= NF; i++) if (ext[i] == "TCPAbortOnClose") close_ = $i }
         $1 == "Tcp:" && !seen_tcp { for (i = 2; i <= NF; i++) tcp[i] = $i; seen_tcp = 1; next }
         $1 == "Tcp:" { for (i = 2; i <= NF; i++) if (tcp[i] == "OutRsts") rsts = $i }
         END { print close_ + 0, rsts + 0 }' /proc/net/netstat /proc/net/snmp
}

port=7000
# run PRELOAD SERVER CLIENT...: prints the client's lines, then the counters
run() {
    preload=$1 server=$2
    shift 2
    port=$((port + 1))
    fifo=$(mktemp -u)
    mkfifo "$fifo"
    before=$(counters)
    LD_PRELOAD=$preload "$build/$server" -n 1 $port >"$fifo" 2>/dev/null &
    read -r _ <"$fifo"
    client=$1
    shift
    "$build/$client" 127.0.0.1 $port "$@" 2>&1
    wait
    rm -f "$fifo"
    sleep 0.05
    after=$(counters)
    set -- $before $after
    echo "kernel: TCPAbortOnClose +$(($3 - $1)), TcpOutRsts +$(($4 - $2))"
}

side_by_side() {
    title=$1
    shift
    printf '\n== %s\n' "$title"
    run "" "$@" >/tmp/norst-demo-without.$$
    run "$build/libnorst.so" "$@" >/tmp/norst-demo-with.$$
    printf '%-73s | %s\n' "without libnorst" "with LD_PRELOAD=libnorst.so"
    printf '%-73s-+-%s\n' "-------------------------------------------------------------------------" "------------------------------------------------------------------------"
    paste -d '|' /tmp/norst-demo-without.$$ /tmp/norst-demo-with.$$ |
        awk -F'|' '{ printf "%-73s | %s\n", $1, $2 }'
    rm -f /tmp/norst-demo-without.$$ /tmp/norst-demo-with.$$
}

side_by_side 'echo server reads 1 byte of "Hello, reset world" and closes' \
    echo-server echo-client "Hello, reset world"
side_by_side 'prime protocol: 2 4 5 7 11 (second number not prime, answer ERROR)' \
    prime-server prime-client 2 4 5 7 11
side_by_side 'prime protocol: 2 3 5 7 11 13 (six primes, answer OK)' \
    prime-server prime-client 2 3 5 7 11 13
echo
