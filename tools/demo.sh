#!/bin/sh
# make demo: the seed's experiments in a private network namespace, each run
# without and then with libnorst, side by side: how the client saw the
# connection end, and the resets the kernel sent. Ends with one line of the
# library's log and the norst command that produced it. Fits 80 columns.
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
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# The resets this namespace's kernel has sent (Tcp: OutRsts).
resets() {
    awk '$1 == "Tcp:" && !seen { for (i = 2; i <= NF; i++) name[i] = $i; seen = 1; next }
         $1 == "Tcp:" { for (i = 2; i <= NF; i++) if (name[i] == "OutRsts") n = $i }
         END { print n + 0 }' /proc/net/snmp
}

# The client's lines, as rows "label|value": the verdict it read, if any,
# then how the connection ended.
describe() {
    while IFS= read -r line; do
        case $line in
        verdict:*) echo "verdict read|${line#verdict: }" ;;
        *"reset by peer"*) echo "connection|reset (RST)" ;;
        *"orderly EOF"* | *"closed in order"*) echo "connection|closed cleanly (FIN)" ;;
        *) echo "client said|$line" ;;
        esac
    done
}

port=7000
# start PRELOAD SERVER: the server on the next port, once it listens
start() {
    port=$((port + 1))
    mkfifo "$tmp/ready"
    LD_PRELOAD=$1 "$build/$2" -n 1 $port >"$tmp/ready" 2>"$tmp/server.err" &
    read -r _ <"$tmp/ready"
    rm -f "$tmp/ready"
}

# run PRELOAD SERVER CLIENT ARGS...: the rows of one run
run() {
    preload=$1 server=$2 client=$3
    shift 3
    before=$(resets)
    start "$preload" "$server"
    "$build/$client" 127.0.0.1 $port "$@" 2>&1 | describe
    wait
    sleep 0.05
    echo "resets sent|$(($(resets) - before))"
}

# side_by_side TITLE EXPLANATION SERVER CLIENT ARGS...
side_by_side() {
    printf '\n%s\n%s\n' "$1" "$2"
    shift 2
    run "" "$@" >"$tmp/without"
    run "$build/libnorst.so" "$@" >"$tmp/with"
    printf '   %-14s %-30s %s\n' "" "without libnorst" "with libnorst"
    paste -d '|' "$tmp/without" "$tmp/with" |
        awk -F'|' '{ printf "   %-14s %-30s %s\n", $1, $2, $4 }'
}

echo "Three servers close a connection with bytes of the request still unread."
echo "Linux answers such a close with a reset (RST) instead of a FIN; libnorst"
echo "drains the bytes so that the connection ends cleanly. Each case runs"
echo "without the library, then with it."

side_by_side '1. An echo server reads 1 byte of "Hello, reset world" and closes.' \
    '   (It never echoes: the point is how the connection ends.)' \
    echo-server echo-client "Hello, reset world"
side_by_side '2. Prime protocol: the client sends 2 4 5 7 11.' \
    '   4 is not prime: the server answers ERROR at once, 3 numbers unread.' \
    prime-server prime-client 2 4 5 7 11
side_by_side '3. Prime protocol: the client sends six primes, 2 3 5 7 11 13.' \
    '   The server reads five, answers OK and closes: the sixth is unread, so
   even this successful exchange ends in a reset, which can destroy the OK
   before the client reads it ("verdict read: (none)").' \
    prime-server prime-client 2 3 5 7 11 13

# One line of the log, from the norst command a user would type.
port=7100
norst=${build#"$PWD"/}/norst server=${build#"$PWD"/}/echo-server
mkfifo "$tmp/ready"
"$build/norst" -l stderr -- "$build/echo-server" -n 1 $port >"$tmp/ready" 2>"$tmp/log" &
read -r _ <"$tmp/ready"
"$build/echo-client" 127.0.0.1 $port "Hello, reset world" >/dev/null 2>&1
wait
printf '\nWhat the library logs, one line per close it changed. The command\n\n'
printf '   %s -l stderr -- %s -n 1 %s\n\n' "$norst" "$server" "$port"
printf 'wrote, for a client like the first one (one line, wrapped here):\n\n'
grep -m 1 '^libnorst: ' "$tmp/log" | fold -s -w 74 | sed "s/ *$//; s/^/   /"
echo
