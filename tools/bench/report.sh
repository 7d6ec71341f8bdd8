#!/bin/sh
# norst report's speed and memory on a large JSON log: generates a log of
# SIZE_MB megabytes (default 1024) of events in the library's format, with
# stacks of 4 to 8 frames, 40 distinct stacks, 5 processes, 60000 peers and
# a day of times, then reads it ROUNDS times (default 3) and prints, per
# round, the elapsed time, MB/s and the peak resident memory (GNU time's
# maximum RSS). The log stays in the build directory for the next run.
#   sh tools/bench/report.sh build      (or: make bench-report)
set -e
build=${1:-build}
size_mb=${SIZE_MB:-1024}
rounds=${ROUNDS:-3}
log="$build/bench/report-${size_mb}m.json"
mkdir -p "$build/bench"

if [ ! -s "$log" ]; then
    echo "generating $log ($size_mb MB)..."
    awk -v limit=$((size_mb * 1024 * 1024)) 'BEGIN {
        split("redis-server nginx python3 memcached worker", comm, " ")
        split("/usr/bin/redis-check-rdb /usr/sbin/nginx /usr/bin/python3.11 /usr/bin/memcached /opt/w/worker", exe, " ")
        split("redis-server.service nginx.service web.service memcached.service null", unit, " ")
        split("6379 80 8000 11211 443", port, " ")
        split("connSocketClose freeClient readQueryFromClient processInputBuffer processCommand ngx_close_connection ngx_http_close_connection sock_close internal_close conn_close", fn, " ")
        bytes = 0; n = 0
        while (bytes < limit) {
            p = n % 5 + 1; s = n % 40; depth = 4 + s % 5
            stack = ""
            for (f = 0; f < depth; f++) {
                k = (s * 7 + f * 3) % 10 + 1
                off = sprintf("0x%x", 4096 + k * 4096 + s * 16 + f)
                stack = stack (f ? "," : "") sprintf("{\"pc\":\"0x7f12%08x\",\"sym\":\"%s+0x%x\",\"obj\":\"%s\",\"build_id\":\"5f8e2c0d9a7b3e41c6d2f0a19b8c7e6d5a4f3b21\",\"off\":\"%s\"}", k * 4096 + s, fn[k], s + f, exe[p], off)
            }
            u = unit[p] == "null" ? "null" : "\"" unit[p] "\""
            sec = int(n * 86400 / 1200000) % 86400
            line = sprintf("{\"time\":\"2026-11-30T%02d:%02d:%02d.%03dZ\",\"pid\":%d,\"fd\":%d,\"path\":\"close\",\"local\":\"10.0.0.9:%s\",\"peer\":\"10.%d.%d.%d:%d\",\"unread\":%d,\"action\":\"drain\",\"outcome\":\"peer-eof\",\"drained\":%d,\"elapsed_ms\":%d,\"rst\":false,\"comm\":\"%s\",\"exe\":\"%s\",\"unit\":%s,\"uid\":110,\"version\":\"0.1.0\",\"stack\":[%s],\"caller\":\"%s+0x%x in %s\"}",
                int(sec / 3600), int(sec / 60) % 60, sec % 60, n % 1000, 1000 + p, 4 + n % 100, port[p],
                n % 3, int(n / 3) % 100, n % 200, 32768 + n % 28000, 1 + n % 37, 1 + n % 37, n % 50,
                comm[p], exe[p], u, stack, fn[(s * 7) % 10 + 1], s, exe[p])
            print line
            bytes += length(line) + 1; n++
        }
    }' > "$log"
fi

bytes=$(wc -c < "$log")
lines=$(wc -l < "$log")
echo "log: $log, $bytes bytes, $lines events"
i=0
while [ "$i" -lt "$rounds" ]; do
    i=$((i + 1))
    /usr/bin/time -f '%e %M' -o "$build/bench/report.time" "$build/norst" report "$log" > /dev/null
    read -r secs rss_kb < "$build/bench/report.time"
    awk -v b="$bytes" -v s="$secs" -v r="$rss_kb" -v i="$i" 'BEGIN {
        printf "round %d: %.2f s, %.0f MB/s, max RSS %.1f MB\n", i, s, b / 1048576 / s, r / 1024 }'
done
