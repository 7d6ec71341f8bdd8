#!/bin/sh
# make bench-trace: what norst trace costs the connection-per-request
# benchmark (bench/client rps ... -- bench/server rps, as in run.sh section
# 2): rounds alternating without and with norst trace running, in two
# workloads: every other connection closed with unread data (an RST each:
# every one an event through bpftrace and norst), and none (only the
# tracepoints' cost on every state change); and with resets, traced with
# --port of another service (the filter works in the kernel: no event
# leaves it). Needs root and bpftrace; prints
# a markdown table (medians, min..max) and writes it to BUILD/bench/trace.md.
#
# Usage, from the top of the source tree: sh tools/bench/trace.sh [BUILD]
#   BENCH_TRACE_ROUNDS [7]   rounds per workload
#   BENCH_RPS_SECONDS [3]    per run; BENCH_RPS_THREADS [8]
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
rounds=${BENCH_TRACE_ROUNDS:-7}
rps_seconds=${BENCH_RPS_SECONDS:-3}
rps_threads=${BENCH_RPS_THREADS:-8}
bin=$B/bench
for f in "$B/norst" "$bin/server" "$bin/client"; do
    [ -e "$f" ] || { echo "bench: $f is missing; run make bench-trace" >&2; exit 2; }
done
results=$bin/trace.md
: >"$results"
# ns, tmp, say, in_ns, commands, val, calc, repeat, machine
. tools/bench/lib.sh

trace_pid=
stop_trace() {
    [ -n "$trace_pid" ] && kill -INT "$trace_pid" 2>/dev/null && wait "$trace_pid"
    trace_pid=
}
trap 'stop_trace; rm -rf "$tmp"' EXIT
# start_trace [OPTION...]
start_trace() {
    : >"$tmp/trace.err"
    "$B/norst" trace "$@" >"$tmp/trace.out" 2>"$tmp/trace.err" &
    trace_pid=$!
    i=0
    until grep -q 'tracing every RST' "$tmp/trace.err"; do
        i=$((i + 1))
        if [ "$i" -gt 300 ] || ! kill -0 "$trace_pid" 2>/dev/null; then
            echo "bench: norst trace did not start:" >&2
            cat "$tmp/trace.err" >&2
            exit 2
        fi
        sleep 0.1
    done
}

# run WORKLOAD TRACE: one rps run; its line in $tmp/rps
run() {
    case $1 in
    resets) env= ;;
    clean) env="env BENCH_UNREAD_EVERY=0" ;;
    esac
    case $2 in
    traced) start_trace ;;
    other-port) start_trace --port 1 ;;
    esac
    # shellcheck disable=SC2086
    line=$(in_ns "$bin/client" rps "$rps_seconds" "$rps_threads" -- $env "$bin/server" rps)
    events=0
    if [ "$2" != untraced ]; then
        stop_trace
        events=$(sed -n 's/^norst trace: \([0-9]*\) reset.*/\1/p' "$tmp/trace.out")
    fi
    printf 'workload=%s run=%s events=%s %s\n' "$1" "$2" "$events" "$line" >>"$tmp/rps"
}
round() {
    run resets untraced
    run resets traced
    run resets other-port
    run clean untraced
    run clean traced
}
repeat "$rounds" round

# stat WORKLOAD RUN KEY: "median (min..max)" of KEY over the runs
stat() {
    grep "^workload=$1 run=$2 " "$tmp/rps" | while read -r l; do val "$3" "$l"; done | sort -n |
        awk '{ v[NR] = $1 } END { printf "%d (%d..%d)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
median() { stat "$@" | cut -d' ' -f1; }

say "## norst trace: its cost to connection-per-request"
say ""
say "$machine"
say "A one-thread blocking accept loop ($rps_threads client threads, one connection per"
say "request, $rps_seconds s a run); $rounds rounds, untraced and traced taking turns."
say "Requests per second, median (min..max); events: the resets norst trace reported."
say ""
say "| workload | untraced rps | traced rps | traced / untraced | events per traced run |"
say "|---|---|---|---|---|"
for w in resets clean; do
    case $w in
    resets) label="every other close with unread data (an RST each)" ;;
    clean) label="no RST (BENCH_UNREAD_EVERY=0)" ;;
    esac
    say "| $label | $(stat $w untraced rps) | $(stat $w traced rps) | $(calc '%.1f%%' "100 * $(median $w traced rps) / $(median $w untraced rps)") | $(stat $w traced events) |"
done
say "| the same resets, traced with \`--port 1\` | $(stat resets untraced rps) | $(stat resets other-port rps) | $(calc '%.1f%%' "100 * $(median resets other-port rps) / $(median resets untraced rps)") | $(stat resets other-port events) |"
commands
say "    $B/norst trace   # outside the namespace, as root, during each traced run"
say "    $B/norst trace --port 1   # the same, for the last row"
