/* What one close() costs, by kind of fd. Run it without and with
 * LD_PRELOAD=libnorst.so; tools/bench/run.sh compares the two.
 *
 *   close-cost time BATCH REPS   per kind: REPS times (after one more to
 *                                warm up), open BATCH fds (not timed), then
 *                                close them all (timed); one line per kind
 *                                with the median and the fastest ns per
 *                                close
 *   close-cost count BATCH       per kind: one batch, its close loop between
 *                                two marker writes to fd -1 that strace shows
 *                                ("norst-bench:begin:KIND", "...end:KIND"),
 *                                so the system calls of the closes alone can
 *                                be counted
 *
 * Kinds: pipe (both ends), file (a regular file: this program's own binary),
 * devnull, udp, tcp-unconnected (socket() only), tcp-clean (the accepted
 * end of an established loopback connection, nothing sent, so nothing
 * unread; the connecting ends are closed afterwards, not timed). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

enum kind { K_PIPE, K_FILE, K_DEVNULL, K_UDP, K_TCP_UNCONNECTED, K_TCP_CLEAN, NKINDS };
static const char *const kind_names[NKINDS] = {
    "pipe", "file", "devnull", "udp", "tcp-unconnected", "tcp-clean",
};

static int listen_fd = -1, listen_port;
static unsigned conn_seq;

/* Fills fds[0..n) with fresh fds of kind k; peers[] gets the other ends of
 * TCP connections (closed by close_peers, outside the timed region). */
static void open_batch(enum kind k, int *fds, int *peers, int n)
{
    for (int i = 0; i < n; i++) {
        int fd = -1;
        switch (k) {
        case K_PIPE:
            if (i % 2 == 0) {
                int p[2];
                if (pipe(p) < 0)
                    bench_die("pipe");
                fd = p[0];
                if (i + 1 < n)
                    fds[i + 1] = p[1];
                else
                    close(p[1]);
            } else {
                continue;
            }
            break;
        case K_FILE:
            fd = open("/proc/self/exe", O_RDONLY);
            break;
        case K_DEVNULL:
            fd = open("/dev/null", O_RDWR);
            break;
        case K_UDP:
            fd = socket(AF_INET, SOCK_DGRAM, 0);
            break;
        case K_TCP_UNCONNECTED:
            fd = socket(AF_INET, SOCK_STREAM, 0);
            break;
        case K_TCP_CLEAN:
            if (listen_fd < 0)
                listen_fd = listen_loopback(&listen_port);
            peers[i] = connect_loopback(listen_port, conn_seq++);
            if (peers[i] < 0)
                bench_die("connect");
            fd = accept(listen_fd, NULL, NULL);
            break;
        case NKINDS:
            break;
        }
        if (fd < 0)
            bench_die(kind_names[k]);
        fds[i] = fd;
    }
}

static void close_peers(enum kind k, int *peers, int n)
{
    if (k == K_TCP_CLEAN)
        for (int i = 0; i < n; i++)
            close(peers[i]);
}

/* The timed loop: every close must succeed, or the figure means nothing. */
static void close_all(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (close(fds[i]) != 0)
            bench_die("close");
}

static void marker(const char *what, enum kind k)
{
    char line[64];
    int len = snprintf(line, sizeof line, "norst-bench:%s:%s", what, kind_names[k]);
    if (write(-1, line, (size_t)len) >= 0)
        bench_die("marker write succeeded");
}

static void usage(void)
{
    fprintf(stderr, "usage: close-cost time BATCH REPS | close-cost count BATCH\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    int timing = strcmp(argv[1], "time") == 0;
    if (!timing && strcmp(argv[1], "count") != 0)
        usage();
    int batch = atoi(argv[2]), reps = timing ? (argc > 3 ? atoi(argv[3]) : 0) : 1;
    if (batch < 2 || batch > 5000 || reps < 1 || reps > 1000)
        usage();
    if (raise_nofile() < 2L * batch + 16) {
        fprintf(stderr, "close-cost: RLIMIT_NOFILE too low for %d fds\n", 2 * batch + 16);
        return 2;
    }

    int *fds = calloc((size_t)batch, sizeof *fds), *peers = calloc((size_t)batch, sizeof *peers);
    long long *per_close = calloc((size_t)reps, sizeof *per_close);
    if (!fds || !peers || !per_close)
        bench_die("calloc");

    for (int k = 0; k < NKINDS; k++) {
        /* r == -1: one batch to warm up, in time mode, not counted */
        for (int r = timing ? -1 : 0; r < reps; r++) {
            open_batch((enum kind)k, fds, peers, batch);
            if (!timing)
                marker("begin", (enum kind)k);
            long long t0 = now_ns();
            close_all(fds, batch);
            long long t1 = now_ns();
            if (!timing)
                marker("end", (enum kind)k);
            close_peers((enum kind)k, peers, batch);
            if (r >= 0) /* tenths of a ns per close */
                per_close[r] = (t1 - t0) * 10 / batch;
        }
        if (timing) {
            long long median = quantile(per_close, (size_t)reps, 0.5);
            printf("kind=%s closes=%d reps=%d ns_median=%lld.%lld ns_min=%lld.%lld\n",
                   kind_names[k], batch, reps, median / 10, median % 10, per_close[0] / 10,
                   per_close[0] % 10);
        } else {
            printf("kind=%s closes=%d\n", kind_names[k], batch);
        }
        fflush(stdout);
    }
    if (listen_fd >= 0)
        close(listen_fd);
    free(fds);
    free(peers);
    free(per_close);
    return 0;
}
