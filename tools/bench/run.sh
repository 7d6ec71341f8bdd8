#!/bin/sh
# make bench: every benchmark without and with libnorst, each network run in
# a private network namespace of its own (so the kernel's reset counters are
# the run's alone), loopback only. Prints markdown tables with the targets,
# "met" or "not met", and writes them to BUILD/bench/results.md; the raw
# key=value lines of every run go to BUILD/bench/raw.txt.
#
# Usage, from the top of the source tree: sh tools/bench/run.sh [BUILD]
# The sizes can be changed from the environment (defaults in brackets):
#   BENCH_CLOSE_ROUNDS [5]     close-cost runs per mode (the median is shown)
#   BENCH_CLOSE_BATCH [1000]   fds per timed batch; BENCH_CLOSE_REPS [31]
#   BENCH_RPS_ROUNDS [5]       rps runs per mode (the median is shown)
#   BENCH_RPS_SECONDS [3]      per rps run; BENCH_RPS_THREADS [8]
#   BENCH_LAT_COUNT [1000]     closes per latency run; BENCH_LAT_SEND_MS [5]
#   BENCH_LINGER_SOCKETS [10000]
# Benchmarks are not tests: the exit status is 0 whatever the figures.
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
close_rounds=${BENCH_CLOSE_ROUNDS:-5}
rps_rounds=${BENCH_RPS_ROUNDS:-5}
batch=${BENCH_CLOSE_BATCH:-1000}
reps=${BENCH_CLOSE_REPS:-31}
rps_seconds=${BENCH_RPS_SECONDS:-3}
rps_threads=${BENCH_RPS_THREADS:-8}
lat_count=${BENCH_LAT_COUNT:-1000}
lat_send_ms=${BENCH_LAT_SEND_MS:-5}
linger_n=${BENCH_LINGER_SOCKETS:-10000}

lib=$B/libnorst.so
bin=$B/bench
for f in "$lib" "$bin/close-cost" "$bin/server" "$bin/client"; do
    [ -e "$f" ] || { echo "bench: $f is missing; run make bench" >&2; exit 2; }
done
# ns, tmp, say, in_ns, commands, val, calc, verdict, repeat, machine
. tools/bench/lib.sh
# Room for the lingering sockets: the reaper keeps its duplicates in the
# upper half of the fd range, so it holds at most RLIMIT_NOFILE/2 of them.
# ulimit -n, -H and -S are not POSIX, but every sh this runs under has them.
# shellcheck disable=SC3045
raise_nofile() {
    if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$1" ]; then
        ulimit -n "$1" 2>/dev/null || ulimit -S -n "$(ulimit -H -n)" 2>/dev/null
    fi
    nofile=$(ulimit -n)
}
raise_nofile $((2 * linger_n + 1000))

raw=$bin/raw.txt results=$bin/results.md
: >"$raw"
: >"$results"

# The environment of a mode: without the library, with it without the
# thread (NORST_ASYNC=0: close() lingers), with it by default (the reaper's
# thread lingers).
mode_env() {
    case $1 in
    without) ;;
    whole) echo "env BENCH_UNREAD_EVERY=0" ;;
    sync) echo "env LD_PRELOAD=$lib NORST_ASYNC=0" ;;
    async) echo "env LD_PRELOAD=$lib" ;;
    esac
}

say "# libnorst benchmarks"
say ""
say "$machine"
rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
say "Library: $lib, source $rev, $(date -u +%Y-%m-%d)."

# ---- 1. close() cost by fd kind ----------------------------------------
say ""
say "## 1. close() cost by fd kind"
say ""
say "$machine"
close_round() {
    for mode in without sync; do
        # shellcheck disable=SC2046
        in_ns $(mode_env "$mode") "$bin/close-cost" time "$batch" "$reps" | sed "s/^/run=$mode /" >>"$tmp/close"
    done
}
repeat "$close_rounds" close_round
cat "$tmp/close" >>"$raw"
for mode in without sync; do
    # shellcheck disable=SC2046
    in_ns strace -f -s 64 -o "$bin/close-$mode.strace" $(mode_env "$mode") "$bin/close-cost" count "$batch" >/dev/null
done

# "KIND NAME COUNT" for every system call between a kind's two markers
syscalls() {
    awk '/norst-bench:begin:/ { k = $0; sub(/.*norst-bench:begin:/, "", k); sub(/".*/, "", k); on = 1; next }
         /norst-bench:end:/ { on = 0; next }
         on && !/resumed>/ { l = $0; sub(/^[0-9]+ +/, "", l)
             if (match(l, /^[a-z0-9_]+\(/)) n[k " " substr(l, 1, RLENGTH - 1)]++ }
         END { for (x in n) print x, n[x] }' "$1" | sort
}
syscalls "$bin/close-without.strace" >"$tmp/sys0"
syscalls "$bin/close-sync.strace" >"$tmp/sys1"

say ""
say "ns per close(): median over $close_rounds runs of the median of $reps batches of $batch closes."
say "System calls per close(): counted by strace between two markers around one batch of $batch closes."
say ""
say "| fd kind | ns without | ns with | added ns | ratio | syscalls without | syscalls with | added per close | the added calls | target |"
say "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
for kind in pipe file devnull udp tcp-unconnected tcp-clean; do
    med() {
        grep "^run=$1 kind=$kind " "$tmp/close" | tr ' ' '\n' | sed -n 's/^ns_median=//p' |
            sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
    }
    t0=$(med without) t1=$(med sync)
    n0=$(awk -v k="$kind" '$1 == k { s += $3 } END { print s + 0 }' "$tmp/sys0")
    n1=$(awk -v k="$kind" '$1 == k { s += $3 } END { print s + 0 }' "$tmp/sys1")
    added=$(calc '%.2f' "($n1 - $n0) / $batch")
    which=$(awk -v k="$kind" -v b="$batch" '
        FNR == NR && $1 == k { base[$2] = $3; next }
        $1 == k && $3 > base[$2] { d = ($3 - base[$2]) / b; out = out sep $2 (d == 1 ? "" : " x" d); sep = ", " }
        END { print out == "" ? "none" : out }' "$tmp/sys0" "$tmp/sys1")
    case $kind in
    tcp-*) target="1 expected: $(verdict "$added == 1" | sed 's/^met$/as expected/; s/^not met$/differs/')" ;;
    *) target="<= 1 extra: $(verdict "$added <= 1")" ;;
    esac
    say "| $kind | $t0 | $t1 | $(calc '%+.1f' "$t1 - $t0") | $(calc '%.2f' "$t1 / $t0") | $(calc '%.2f' "$n0 / $batch") | $(calc '%.2f' "$n1 / $batch") | $added | $which | $target |"
done
commands

# ---- is NORST_ASYNC in this build? -------------------------------------
# One connection whose peer keeps sending for 300 ms: an asynchronous close
# returns long before that, a synchronous one waits for the peer's EOF.
probe=$(in_ns "$bin/client" latency 1 300 -- env LD_PRELOAD="$lib" "$bin/server" latency 2>"$tmp/probe.err")
printf 'probe %s\n' "$probe" >>"$raw"
probe_ns=$(val close_ns_p50 "$probe")
if grep -q 'ignoring NORST_ASYNC' "$tmp/probe.err"; then
    async=0 why="the library prints \"ignoring NORST_ASYNC\""
elif [ -z "$probe_ns" ] || [ "$probe_ns" -ge 100000000 ]; then
    async=0 why="by default a close whose peer sends for 300 ms took ${probe_ns:-?} ns, like a synchronous one"
else
    async=1 why="by default a close whose peer sends for 300 ms took $probe_ns ns"
fi
na="not available in this build"

modes="without sync"
[ "$async" = 1 ] && modes="without sync async"

# ---- 2. connection-per-request throughput ------------------------------
say ""
say "## 2. Connection-per-request throughput"
say ""
say "$machine"
# "whole": the same server, no library, reading every request whole, so
# that no close resets: what the kernel's graceful close costs this load.
rps_round() {
    for mode in $modes whole; do
        # shellcheck disable=SC2046
        line=$(in_ns "$bin/client" rps "$rps_seconds" "$rps_threads" -- $(mode_env "$mode") "$bin/server" rps)
        printf 'bench=rps run=%s %s\n' "$mode" "$line" | tee -a "$raw" >>"$tmp/rps"
    done
}
repeat "$rps_rounds" rps_round
# rps_median MODE KEY: the KEY of the run with the median rps of MODE
rps_median() {
    grep "^bench=rps run=$1 " "$tmp/rps" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^rps=/) print substr($i, 5), $0 }' |
        sort -n | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }' | cut -d' ' -f2-
}
say ""
say "A one-thread blocking accept loop reads the request ($rps_threads client threads, one"
say "connection per request, $rps_seconds s a run; every other connection closed with"
say "$((512 - 64)) of its 512 request bytes unread), writes 128 bytes, closes."
say "Median of $rps_rounds runs per mode, the modes taking turns. CPU: user + system time of"
say "the server and of the client per request. Async: $why. The last row is the same"
say "server without the library reading every request whole, so that no close resets:"
say "the cost of the graceful close alone, with nothing of the library's."
say ""
say "| mode | requests/s | of without | of whole | client saw resets | TCPAbortOnClose | TCPAbortOnData | OutRsts | server CPU us/req | client CPU us/req | target |"
say "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
base_rps=$(val rps "$(rps_median without)")
whole_rps=$(val rps "$(rps_median whole)")
for mode in without sync async whole; do
    case " $modes whole " in *" $mode "*) ;; *)
        say "| $mode (default, thread) | $na | | | | | | | | | async >= 97% of without: $na |"
        continue ;;
    esac
    l=$(rps_median $mode)
    rps=$(val rps "$l")
    rsts="$(val abort_on_close "$l") + $(val abort_on_data "$l") + $(val out_rsts "$l")"
    case $mode in
    without) label=without; target="RSTs > 0: $(verdict "$rsts > 0")" ;;
    sync) label="no thread (NORST_ASYNC=0)"; target="no RST: $(verdict "$rsts == 0")" ;;
    async) label="default (thread)"
        target=">= 97% of without: $(verdict "$rps >= 0.97 * $base_rps"); no RST: $(verdict "$rsts == 0")" ;;
    whole) label="whole request read, no library"; target="no RST: $(verdict "$rsts == 0")" ;;
    esac
    say "| $label | $rps | $(calc '%.1f%%' "100 * $rps / $base_rps") | $(calc '%.1f%%' "100 * $rps / $whole_rps") | $(val client_resets "$l") | $(val abort_on_close "$l") | $(val abort_on_data "$l") | $(val out_rsts "$l") | $(calc '%.1f' "1000 * $(val server_cpu_ms "$l") / $(val requests "$l")") | $(calc '%.1f' "1000 * $(val client_cpu_ms "$l") / $(val requests "$l")") | $target |"
done

# The server's system calls per request, counted by strace over a short run
# of each mode (strace slows the server: only the counts mean something).
for mode in $modes; do
    # shellcheck disable=SC2046
    line=$(in_ns "$bin/client" rps 1 "$rps_threads" -- strace -f -c -o "$bin/rps-$mode.strace" $(mode_env "$mode") "$bin/server" rps)
    printf 'bench=rps-strace run=%s %s\n' "$mode" "$line" >>"$raw"
    # "MODE NAME CALLS-PER-REQUEST" from strace's table (name last, calls 4th)
    awk -v m="$mode" -v n="$(val connections "$line")" '
        $NF != "total" && $NF != "syscall" && $4 ~ /^[0-9]+$/ { printf "%s %s %.2f\n", m, $NF, $4 / n }
        $NF == "total" { printf "%s (all) %.2f\n", m, $4 / n }' "$bin/rps-$mode.strace" >>"$tmp/rps-sys"
done
say ""
say "System calls of the server per request (all threads), counted with strace -f -c"
say "over a 1 s run of each mode; calls under 0.01 per request left out:"
say ""
hdr="| system call |" sep="|---|"
for mode in $modes; do hdr="$hdr $mode |" sep="$sep---:|"; done
say "$hdr"
say "$sep"
awk -v modes="$modes" '
    { v[$2, $1] = $3; if (!($2 in seen) && $3 >= 0.01) { seen[$2] = 1; names[++n] = $2 } }
    END { split(modes, m, " ")
          for (i = 1; i <= n; i++) { row = "| " names[i] " |"
              for (j = 1; j in m; j++) row = row " " ((names[i], m[j]) in v ? v[names[i], m[j]] : "0") " |"
              print row } }' "$tmp/rps-sys" | sort -t'|' -k2,2 | tee -a "$results"
commands

# ---- 3. close() latency with bytes in flight ---------------------------
say ""
say "## 3. close() latency while the peer is still sending"
say ""
say "$machine"
for mode in $modes; do
    # shellcheck disable=SC2046
    line=$(in_ns "$bin/client" latency "$lat_count" "$lat_send_ms" -- $(mode_env "$mode") "$bin/server" latency)
    printf 'bench=latency run=%s %s\n' "$mode" "$line" | tee -a "$raw" >>"$tmp/lat"
done
say ""
say "$lat_count connections one after another; each sends its request and goes on sending"
say "(4 KiB every 100 us) for $lat_send_ms ms; the server reads 64 bytes and closes. Time of the"
say "close() call, measured in the server. Async: $why."
say ""
say "| mode | p50 us | p99 us | max us | p99 vs without | OutRsts | target |"
say "|---|---:|---:|---:|---:|---:|---|"
base_p99=$(val close_ns_p99 "$(grep '^bench=latency run=without ' "$tmp/lat")")
for mode in without sync async; do
    l=$(grep "^bench=latency run=$mode " "$tmp/lat")
    if [ -z "$l" ]; then
        say "| default (thread) | $na | | | | | p99 <= 2x without: $na |"
        continue
    fi
    p99=$(val close_ns_p99 "$l")
    case $mode in
    without) label=without target="" ;;
    sync) label="no thread (NORST_ASYNC=0)" target="(drains to the peer's EOF)" ;;
    async) label="default (thread)" target="p99 <= 2x without: $(verdict "$p99 <= 2 * $base_p99")" ;;
    esac
    say "| $label | $(calc '%.1f' "$(val close_ns_p50 "$l") / 1000") | $(calc '%.1f' "$p99 / 1000") | $(calc '%.1f' "$(val close_ns_max "$l") / 1000") | $(calc '%.1fx' "$p99 / $base_p99") | $(val out_rsts "$l") | $target |"
done
commands

# ---- 4. many sockets lingering at once ---------------------------------
say ""
say "## 4. $linger_n sockets lingering at once"
say ""
say "$machine"
say ""
say "RLIMIT_NOFILE: $nofile (the reaper holds at most half of it)."
[ "$nofile" -lt $((2 * linger_n)) ] &&
    say "Note: the reaper has room for $((nofile / 2)) sockets only; raise the hard limit (ulimit -Hn) to $((2 * linger_n))."
: >"$tmp/linger"
# Not sync: each close would wait for its peer, and the peer waits for all.
for mode in $modes; do
    case $mode in
    without) set -- ;;
    sync) continue ;;
    async) set -- env LD_PRELOAD="$lib" NORST_MAX_LINGER="$linger_n" NORST_LINGER_MS=20000 NORST_IDLE_MS=20000 ;;
    esac
    line=$(in_ns "$bin/client" linger "$linger_n" -- "$@" "$bin/server" linger)
    [ -n "$line" ] && printf 'bench=linger run=%s %s\n' "$mode" "$line" | tee -a "$raw" >>"$tmp/linger"
done
say ""
say "The client opens $linger_n connections, each sends 512 bytes; the server reads 64, replies"
say "and closes each. With every close returned, the server's memory and CPU are read from"
say "/proc/PID; then the client reads its replies and closes all, and the lingering sockets"
say "drain. Async: $why."
say ""
say "| mode | lingering at once | VmRSS at start kB | VmRSS all lingering kB | bytes/socket since start | bytes/socket vs without | CPU ms, 1 s idle lingering | drain ms | drain CPU ms | CPU us/socket | AbortOnClose / AbortOnData / OutRsts | target |"
say "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
base=$(grep '^bench=linger run=without ' "$tmp/linger")
for mode in without async; do
    l=$(grep "^bench=linger run=$mode " "$tmp/linger")
    if [ -z "$l" ]; then
        case $mode/$async in async/0) failed=$na ;; *) failed="the run failed (its messages are above)" ;; esac
        [ "$mode" = async ] && mode="default (thread)"
        say "| $mode | $failed | | | | | | | | | | no RST: $failed |"
        continue
    fi
    n=$(val lingering "$l")
    rsts="$(val abort_on_close "$l") / $(val abort_on_data "$l") / $(val out_rsts "$l")"
    if [ "$mode" = without ]; then
        say "| without | $n | $(val rss_base_kb "$l") | $(val rss_lingering_kb "$l") | | | | | | | $rsts | (resets expected) |"
        continue
    fi
    per_vs="?"
    [ -n "$base" ] && per_vs=$(calc '%.0f' "($(val rss_lingering_kb "$l") - $(val rss_lingering_kb "$base")) * 1024 / ($n > 0 ? $n : 1)")
    zero=$(verdict "$(val abort_on_close "$l") + $(val abort_on_data "$l") + $(val out_rsts "$l") == 0 && $n == $linger_n")
    say "| default (thread) | $n | $(val rss_base_kb "$l") | $(val rss_lingering_kb "$l") | $(val rss_bytes_per_socket "$l") | $per_vs | $(val idle_1s_cpu_ms "$l") | $(val drain_ms "$l") | $(val drain_cpu_ms "$l") | $(calc '%.1f' "1000 * $(val drain_cpu_ms "$l") / ($n > 0 ? $n : 1)") | $rsts | all $linger_n linger, no RST: $zero |"
done
commands
say ""
say "Raw results: $raw"

# ---- 5, 6. real servers: redis-server, nginx ---------------------------
sh tools/bench/servers.sh "$B"
cat "$bin/servers.md" >>"$results"
exit 0
