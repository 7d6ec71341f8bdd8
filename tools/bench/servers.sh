#!/bin/sh
# make bench, sections 5 and 6 (alone: make bench-servers): real servers with
# a hostile or a bad peer, without the library, with it in its default mode
# and with NORST_ASYNC=0 (no thread), in rounds, the modes taking turns within each;
# every run in a private network namespace of its own, loopback only.
#   5. redis-server (one thread, event loop): 4 clients PING at a steady
#      rate, one hostile client a second (tools/bench/pingload.c).
#   6. nginx (1 process): connection per request, every 2nd connection
#      413'd with 64 KiB past its body; nginx's own lingering_close against
#      lingering_close off plus the library (tools/bench/httpload.c).
# A section whose server is not installed is skipped, saying so. Prints
# markdown tables (medians over the rounds, min..max beside them) and writes
# them to BUILD/bench/servers.md, the raw key=value lines to
# BUILD/bench/servers-raw.txt. About 2.5 minutes with the defaults.
#
# Usage, from the top of the source tree: sh tools/bench/servers.sh [BUILD]
# Sizes from the environment (defaults in brackets):
#   BENCH_SERVERS_ROUNDS [5]
#   BENCH_REDIS_SECONDS [4]  BENCH_REDIS_CLIENTS [4]  BENCH_REDIS_RATE [20000]
#   BENCH_NGINX_SECONDS [2]  BENCH_NGINX_THREADS [4]  BENCH_NGINX_BAD_EVERY [2]
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
rounds=${BENCH_SERVERS_ROUNDS:-5}
redis_seconds=${BENCH_REDIS_SECONDS:-4}
redis_clients=${BENCH_REDIS_CLIENTS:-4}
redis_rate=${BENCH_REDIS_RATE:-20000}
nginx_seconds=${BENCH_NGINX_SECONDS:-2}
nginx_threads=${BENCH_NGINX_THREADS:-4}
nginx_bad_every=${BENCH_NGINX_BAD_EVERY:-2}

lib=$B/libnorst.so
bin=$B/bench
for f in "$lib" "$bin/pingload" "$bin/httpload"; do
    [ -e "$f" ] || { echo "bench: $f is missing; run make bench" >&2; exit 2; }
done
# ns, tmp, say, in_ns, commands, val, calc, verdict, repeat, machine
. tools/bench/lib.sh
raw=$bin/servers-raw.txt results=$bin/servers.md
: >"$raw"
: >"$results"

# spread FILE RUN KEY: "median (min..max)" of KEY over the lines of RUN
spread() {
    grep "^run=$2 " "$1" | tr ' ' '\n' | sed -n "s/^$3=//p" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "?"; else if (NR == 1) print v[1]
              else printf "%s (%s..%s)\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
# median FILE RUN KEY
median() { spread "$@" | cut -d' ' -f1; }
# count FILE RUN KEY: over how many lines of RUN KEY is 1
count() { grep "^run=$2 " "$1" | grep -c " $3=1"; }
# us_as_ms: every number of a spread, microseconds to milliseconds
us_as_ms() {
    awk '{ s = $0; out = ""
           while (match(s, /[0-9]+(\.[0-9]+)?/)) {
               out = out substr(s, 1, RSTART - 1) sprintf("%.2f", substr(s, RSTART, RLENGTH) / 1000)
               s = substr(s, RSTART + RLENGTH)
           }
           print out s }'
}

# The environment of a mode: without the library, its default (the reaper's
# thread), without the thread (NORST_ASYNC=0: close() lingers).
lib_env() {
    case $1 in
    without) ;;
    default) echo "env LD_PRELOAD=$lib" ;;
    async) echo "env LD_PRELOAD=$lib NORST_ASYNC=0" ;;
    esac
}
label() {
    case $1 in
    without) echo "without the library" ;;
    default) echo "library, default mode" ;;
    async) echo "library, NORST_ASYNC=0 (no thread)" ;;
    esac
}

say ""
say "## 5. redis-server with a hostile client a second"
say ""
say "$machine"
if ! command -v redis-server >/dev/null 2>&1; then
    say ""
    say "Skipped: redis-server is not installed (Debian: apt-get install redis-server)."
else
    say "$(redis-server --version | cut -d' ' -f1-3)."
    port=6379
    printf '%s\n' "port $port" "bind 127.0.0.1" 'save ""' "appendonly no" "protected-mode no" \
        "dir $tmp" >"$tmp/redis.conf"
    redis_round() {
        for mode in without default async; do
            # shellcheck disable=SC2046
            line=$(in_ns "$bin/pingload" "$port" "$redis_seconds" "$redis_clients" "$redis_rate" -- $(lib_env "$mode") \
                redis-server "$tmp/redis.conf")
            printf 'run=%s %s\n' "$mode" "$line" | tee -a "$raw" >>"$tmp/redis"
        done
    }
    : >"$tmp/redis"
    repeat "$rounds" redis_round
    say ""
    say "$redis_clients clients PING redis (inline \`PING\\r\\n\`), $redis_rate a second in all, open-loop"
    say "(each request due at a fixed time, its latency counted from then), for $redis_seconds s;"
    say "replies may come for 1 s more. Once a second a hostile client sends \`*abc\\r\\n\`"
    say "and 64 KiB, then neither reads nor closes; redis answers \`-ERR Protocol error\` and"
    say "closes it with the bytes unread. A request unanswered at the end counts as late as"
    say "the end: when more than 1% went unanswered, p99 is only a lower bound (a column"
    say "counts such rounds). Medians over $rounds rounds, min..max in brackets; resets:"
    say "the namespace's counters over the run. redis.conf (TMP: a temporary directory):"
    say ""
    sed "s|$tmp|TMP|g; s/^/    /" "$tmp/redis.conf" | tee -a "$results"
    say ""
    say "| mode | served % | p50 ms | p99 ms | p99 a lower bound in | TCPAbortOnClose | OutRsts | target |"
    say "|---|---:|---:|---:|---:|---:|---:|---|"
    base_pct=$(median "$tmp/redis" without served_pct)
    base_p99=$(median "$tmp/redis" without p99_us)
    for mode in without default async; do
        pct=$(median "$tmp/redis" $mode served_pct) p99=$(median "$tmp/redis" $mode p99_us)
        case $mode in
        without) target="" ;;
        *) target=">= 95% of without: $(verdict "$pct >= 0.95 * $base_pct"); p99 <= 2x: $(verdict "$p99 <= 2 * $base_p99 && $(count "$tmp/redis" $mode p99_unserved) == 0")" ;;
        esac
        say "| $(label $mode) | $(spread "$tmp/redis" $mode served_pct) | $(spread "$tmp/redis" $mode p50_us | us_as_ms) | $(spread "$tmp/redis" $mode p99_us | us_as_ms) | $(count "$tmp/redis" $mode p99_unserved) of $rounds | $(spread "$tmp/redis" $mode abort_on_close) | $(spread "$tmp/redis" $mode out_rsts) | $target |"
    done
    commands
fi

say ""
say "## 6. nginx: its own lingering close against the library's"
say ""
say "$machine"
if ! command -v nginx >/dev/null 2>&1; then
    say ""
    say "Skipped: nginx is not installed (Debian: apt-get install nginx-light)."
else
    say "$(nginx -v 2>&1 | sed 's/^nginx version: //')."
    port=8080
    # One process (master_process off: its pid is the one that serves, for
    # its CPU time); run as the namespace's root, whose uid is mapped.
    for lc in on off; do
        cat >"$tmp/nginx-$lc.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
user root root;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log crit;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    keepalive_timeout 0;
    client_max_body_size 1k;
    lingering_close $lc;
    server {
        listen 127.0.0.1:$port backlog=4096;
        location / { return 200 "hello\n"; }
    }
}
EOF
    done
    # nginx-own: lingering_close on, no library; reset: off, no library
    # (what the library is there for); default, async: off plus the library.
    nginx_round() {
        for mode in nginx-own reset default async; do
            case $mode in
            nginx-own) conf=on env="" ;;
            reset) conf=off env="" ;;
            *) conf=off env=$(lib_env "$mode") ;;
            esac
            # shellcheck disable=SC2086
            line=$(in_ns "$bin/httpload" "$port" "$nginx_seconds" "$nginx_threads" "$nginx_bad_every" -- $env \
                nginx -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx-$conf.conf")
            printf 'run=%s %s\n' "$mode" "$line" | tee -a "$raw" >>"$tmp/nginx"
        done
    }
    : >"$tmp/nginx"
    repeat "$rounds" nginx_round
    say ""
    say "$nginx_threads client threads, one connection per request, closed-loop, for $nginx_seconds s a run:"
    say "\`GET /\` with \`Connection: close\`, answered 200; one connection in $nginx_bad_every a POST"
    say "declaring a 4 KiB body (past \`client_max_body_size 1k\`) and sending 64 KiB more past"
    say "it. nginx reads and discards the declared body whatever \`lingering_close\` says,"
    say "answers 413 and closes, the 64 KiB unread: its own lingering close (\`on\`, the"
    say "default, which reads until the client's EOF, \`lingering_timeout\` 5 s) or, with"
    say "\`off\`, the library's. Requests: responses read whole (200 or 413), per second."
    say "Server CPU: utime + stime of the nginx process (/proc/PID/stat) over the run and"
    say "200 ms after, per request. Latency: connect to the response's EOF. Medians over"
    say "$rounds rounds, min..max in brackets; ratios of the medians to nginx's own."
    say ""
    say "| mode | requests/s | of nginx's own | server CPU us/req | of nginx's own | p50 ms | p99 ms | client saw resets | TCPAbortOnClose | OutRsts | target |"
    say "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    base_rps=$(median "$tmp/nginx" nginx-own rps)
    base_cpu=$(median "$tmp/nginx" nginx-own server_cpu_us_per_req)
    for mode in nginx-own reset default async; do
        rps=$(median "$tmp/nginx" $mode rps) cpu=$(median "$tmp/nginx" $mode server_cpu_us_per_req)
        rsts=$(median "$tmp/nginx" $mode out_rsts)
        case $mode in
        nginx-own) name="nginx lingering_close on, no library" target="" ;;
        reset) name="lingering_close off, no library" target="(resets expected)" ;;
        default) name="lingering_close off, library default mode" ;;
        async) name="lingering_close off, library NORST_ASYNC=0 (no thread)" ;;
        esac
        case $mode in default | async)
            target=">= 0.97x: $(verdict "$rps >= 0.97 * $base_rps"); CPU <= 1.05x: $(verdict "$cpu <= 1.05 * $base_cpu"); 0 resets: $(verdict "$rsts == 0")" ;;
        esac
        say "| $name | $(spread "$tmp/nginx" $mode rps) | $(calc '%.3fx' "$rps / $base_rps") | $(spread "$tmp/nginx" $mode server_cpu_us_per_req) | $(calc '%.2fx' "$cpu / $base_cpu") | $(spread "$tmp/nginx" $mode p50_us | us_as_ms) | $(spread "$tmp/nginx" $mode p99_us | us_as_ms) | $(spread "$tmp/nginx" $mode client_resets) | $(spread "$tmp/nginx" $mode abort_on_close) | $(spread "$tmp/nginx" $mode out_rsts) | $target |"
    done
    say ""
    say "nginx.conf (\`lingering_close on\` for nginx's own; TMP is a temporary directory):"
    say ""
    sed "s|$tmp|TMP|g; s/^/    /" "$tmp/nginx-off.conf" | tee -a "$results"
    commands
fi
say ""
say "Raw results: $raw"
exit 0
