/* What one logged event costs: close() of a TCP socket with a byte unread,
 * at the end of a 5-deep call chain, in log mode (the library logs and
 * changes nothing, so no drain is timed). Run it with LD_PRELOAD and
 * NORST_MODE=log NORST_LOG=... ; NORST_LOG_FORMAT=json logs the "stack"
 * field, the text format the caller alone.
 *
 *   event-cost COUNT   COUNT closes, each timed alone; prints
 *                      "first_ns=N median_ns=N min_ns=N max_ns=N": the
 *                      first close (nothing named yet), and the others'
 *                      order statistics */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define NOINLINE __attribute__((noinline, noipa))

static volatile int sink; /* work after each call: no call is a tail call */

NOINLINE static int depth5(int fd) { int r = close(fd); sink += r; return r; }
NOINLINE static int depth4(int fd) { int r = depth5(fd); sink += r; return r; }
NOINLINE static int depth3(int fd) { int r = depth4(fd); sink += r; return r; }
NOINLINE static int depth2(int fd) { int r = depth3(fd); sink += r; return r; }
NOINLINE static int depth1(int fd) { int r = depth2(fd); sink += r; return r; }

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 0, port;
    if (count < 2)
        bench_die("usage: event-cost COUNT (at least 2)");
    long long *ns = malloc((size_t)count * sizeof *ns);
    int listener = listen_loopback(&port);
    if (!ns || listener < 0)
        bench_die("setup");
    for (int i = 0; i < count; i++) {
        int peer = connect_loopback(port, (unsigned)i);
        int fd = accept(listener, NULL, NULL);
        if (peer < 0 || fd < 0 || write_all(peer, "x", 1) != 0)
            bench_die("connection");
        sleep_us(200); /* the byte is queued, unread */
        long long start = now_ns();
        depth1(fd);
        ns[i] = now_ns() - start;
        close(peer);
    }
    long long first = ns[0];
    printf("first_ns=%lld median_ns=%lld min_ns=%lld max_ns=%lld\n", first,
           quantile(ns + 1, (size_t)count - 1, 0.5), quantile(ns + 1, (size_t)count - 1, 0.0),
           quantile(ns + 1, (size_t)count - 1, 1.0));
    return 0;
}
