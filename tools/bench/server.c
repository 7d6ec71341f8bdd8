/* The server side of the network benchmarks: one thread, one accept loop,
 * blocking sockets, the way many small daemons are written. Started by
 * `client` (with or without LD_PRELOAD=libnorst.so); prints
 * "listening on port N" when ready, runs until its standard input reaches
 * EOF (at most 10 minutes), and then prints one line of results.
 *
 *   server rps      every connection: read the request (one in
 *                   BENCH_UNREAD_EVERY, default 2, only its first HEAD_LEN
 *                   bytes, leaving the rest unread; 0: none), write a
 *                   REPLY_LEN reply, close
 *   server latency  every connection: read HEAD_LEN bytes while the peer
 *                   keeps sending, then close; the time each close() call
 *                   takes is recorded: close_ns_p50, _p99, _max
 *   server linger   every connection: read HEAD_LEN bytes of the request,
 *                   write the reply, close (the rest of the request unread,
 *                   so with the library each close lingers) */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define MAX_SAMPLES 100000
#define MAX_CONNECTIONS 50000000L
#define MAX_RUN_MS 600000LL

enum mode { RPS, LATENCY, LINGER };

/* Reads up to len bytes: all of them, or what came before EOF or an error. */
static size_t read_upto(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

int main(int argc, char **argv)
{
    static char buf[REQUEST_LEN], reply[REPLY_LEN];
    static long long samples[MAX_SAMPLES];
    enum mode mode;
    int port;

    if (argc == 2 && strcmp(argv[1], "rps") == 0)
        mode = RPS;
    else if (argc == 2 && strcmp(argv[1], "latency") == 0)
        mode = LATENCY;
    else if (argc == 2 && strcmp(argv[1], "linger") == 0)
        mode = LINGER;
    else {
        fprintf(stderr, "usage: server rps|latency|linger\n");
        return 2;
    }
    memset(reply, 'r', sizeof reply);
    int lfd = listen_loopback(&port);
    printf("listening on port %d\n", port);
    fflush(stdout);

    long connections = 0, short_reads = 0;
    /* rps: one connection in BENCH_UNREAD_EVERY (default 2) is closed with
     * most of its request unread */
    const char *every = getenv("BENCH_UNREAD_EVERY");
    long unread_every = every && atol(every) > 0 ? atol(every) : 2;
    /* BENCH_UNREAD_EVERY=0: read every request whole, so no close resets:
     * the cost of the same traffic closed gracefully, with no shim at all */
    int read_all = every && strcmp(every, "0") == 0;
    size_t nsamples = 0;
    struct pollfd pfds[2] = {{.fd = lfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    long long deadline = now_ns() + MAX_RUN_MS * 1000000LL;
    while (connections < MAX_CONNECTIONS) {
        long long left_ms = (deadline - now_ns()) / 1000000;
        if (left_ms <= 0)
            break;
        if (poll(pfds, 2, (int)left_ms) < 0) {
            if (errno == EINTR)
                continue;
            bench_die("poll");
        }
        if (pfds[1].revents)
            break; /* the client closed our standard input: done */
        if (!(pfds[0].revents & POLLIN))
            continue;
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            bench_die("accept");
        }
        size_t want = mode == RPS && (read_all || connections % unread_every != 0) ? REQUEST_LEN : HEAD_LEN;
        if (read_upto(fd, buf, want) < want)
            short_reads++;
        if (mode != LATENCY && write_all(fd, reply, sizeof reply) < 0)
            short_reads++;
        if (mode == LATENCY && nsamples < MAX_SAMPLES) {
            long long t0 = now_ns();
            close(fd);
            samples[nsamples++] = now_ns() - t0;
        } else {
            close(fd);
        }
        connections++;
    }

    printf("connections=%ld short_reads=%ld", connections, short_reads);
    if (mode == LATENCY) {
        long long p50 = quantile(samples, nsamples, 0.50);
        long long p99 = quantile(samples, nsamples, 0.99);
        printf(" close_ns_p50=%lld close_ns_p99=%lld close_ns_max=%lld", p50, p99,
               nsamples ? samples[nsamples - 1] : 0);
    }
    printf("\n");
    return 0;
}
