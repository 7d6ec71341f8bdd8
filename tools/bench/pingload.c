/* A steady load on redis-server with a hostile client a second: does a
 * single-threaded event loop keep serving while the library lingers?
 *
 *   pingload PORT SECONDS CLIENTS RATE -- SERVER...
 *
 * Starts SERVER (listening on 127.0.0.1:PORT). CLIENTS connections send
 * inline PINGs ("PING\r\n", answered "+PONG\r\n" in order), RATE a second
 * in all, for SECONDS; the replies may come for one second more. The load is
 * open-loop: each request is due at a fixed time and its latency counts
 * from then, so a stall of the server shows in full. A request still
 * unanswered at the end counts as late as the end (a lower bound: the
 * quantile is then flagged unserved). Once a second a hostile client
 * connects, sends "*abc\r\n" (redis answers "-ERR Protocol error" and
 * closes the connection with what follows unread) and 64 KiB, and then
 * neither reads nor closes. Then the reset counters are read, and the
 * server is killed.
 *
 * Prints one line: sent= served= served_pct= p50_us= p99_us= max_us=
 * p50_unserved=0|1 p99_unserved=0|1 hostile= errors= server_cpu_ms=
 * abort_on_close= abort_on_data= out_rsts=. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define MAX_CLIENTS 64
#define MAX_HOSTILE 64
#define GRACE_NS 1000000000LL
#define HOSTILE_BYTES 65536

static const char ping[] = "PING\r\n", pong[] = "+PONG\r\n";
#define PING_LEN (sizeof ping - 1)
#define PONG_LEN (sizeof pong - 1)

/* One connection's stream: requests queued (due), written, answered. */
struct client {
    int fd;
    long long next_due;
    long queued, written_bytes, answered, reply_bytes;
    long long *due;  /* due time of each request, by its number */
};

static long long *latency;
static long served, errors;

/* Writes what the socket takes of the queued PINGs (all the same bytes). */
static void flush_requests(struct client *c)
{
    static char stream[PING_LEN * 512];
    if (!stream[0])
        for (size_t i = 0; i < sizeof stream; i++)
            stream[i] = ping[i % PING_LEN];
    while (c->written_bytes < c->queued * (long)PING_LEN) {
        size_t off = (size_t)(c->written_bytes % (long)PING_LEN);
        size_t want = (size_t)(c->queued * (long)PING_LEN - c->written_bytes);
        if (want > sizeof stream - off)
            want = sizeof stream - off;
        ssize_t n = send(c->fd, stream + off, want, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0)
            return;
        c->written_bytes += n;
    }
}

/* Each whole "+PONG\r\n" settles the oldest unanswered request. */
static void take_replies(struct client *c, long long now)
{
    char buf[65536];
    ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] != pong[c->reply_bytes % (long)PONG_LEN])
            errors++;
        if (++c->reply_bytes % (long)PONG_LEN == 0 && c->answered < c->queued) {
            latency[served++] = now - c->due[c->answered];
            c->answered++;
        }
    }
}

static int hostile_open(int port, unsigned seq)
{
    static char junk[6 + HOSTILE_BYTES];
    int fd = connect_loopback(port, seq);
    if (fd < 0)
        return -1;
    memcpy(junk, "*abc\r\n", 6);
    memset(junk + 6, 'x', HOSTILE_BYTES);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    send(fd, junk, sizeof junk, MSG_NOSIGNAL);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 7 || strcmp(argv[5], "--") != 0) {
        fprintf(stderr, "usage: pingload PORT SECONDS CLIENTS RATE -- SERVER...\n");
        return 2;
    }
    int port = atoi(argv[1]), nclients = atoi(argv[3]), nhostile = 0, hostile[MAX_HOSTILE];
    double seconds = atof(argv[2]), rate = atof(argv[4]);
    if (nclients < 1 || nclients > MAX_CLIENTS || seconds <= 0 || seconds > 60 || rate <= 0 || rate > 1e6) {
        fprintf(stderr, "pingload: 1..%d clients, 0..60 s, a rate up to 1e6\n", MAX_CLIENTS);
        return 2;
    }
    long long period = (long long)(1e9 * nclients / rate), run = (long long)(seconds * 1e9);
    long per_client = run / period + 2, total = per_client * nclients;
    struct client clients[MAX_CLIENTS];
    latency = calloc((size_t)total, sizeof *latency);
    if (!latency)
        bench_die("calloc");

    pid_t server = server_spawn(argv + 6, port, 10000);
    if (server < 0) {
        fprintf(stderr, "pingload: the server did not listen on port %d\n", port);
        return 3;
    }
    struct counters before;
    counters_read(&before);
    long cpu_before = proc_cpu_ms(server);
    long long start = now_ns(), next_hostile = start + 500000000LL;
    for (int i = 0; i < nclients; i++) {
        clients[i] = (struct client){.fd = connect_loopback(port, (unsigned)i + 1),
                                     .next_due = start + i * period / nclients,
                                     .due = calloc((size_t)per_client, sizeof(long long))};
        if (clients[i].fd < 0 || !clients[i].due)
            bench_die("client");
    }

    for (long long now = start; now < start + run + GRACE_NS; now = now_ns()) {
        long long wake = start + run + GRACE_NS;
        if (now < start + run) {
            if (now >= next_hostile && nhostile < MAX_HOSTILE) {
                int fd = hostile_open(port, 100 + (unsigned)nhostile);
                if (fd >= 0)
                    hostile[nhostile++] = fd;
                next_hostile += 1000000000LL;
            }
            wake = next_hostile;
            for (int i = 0; i < nclients; i++) {
                struct client *c = &clients[i];
                for (; c->next_due <= now && c->queued < per_client; c->next_due += period)
                    c->due[c->queued++] = c->next_due;
                wake = c->next_due < wake ? c->next_due : wake;
            }
        }
        struct pollfd pfd[MAX_CLIENTS];
        for (int i = 0; i < nclients; i++) {
            flush_requests(&clients[i]);
            pfd[i] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
        }
        long long left = wake > now ? wake - now : 0;
        struct timespec wait = {left / 1000000000LL, left % 1000000000LL};
        ppoll(pfd, (nfds_t)nclients, &wait, NULL);
        now = now_ns();
        for (int i = 0; i < nclients; i++)
            if (pfd[i].revents)
                take_replies(&clients[i], now);
    }

    long long end = now_ns();
    long sent = 0, n = served;
    for (int i = 0; i < nclients; i++) {
        struct client *c = &clients[i];
        for (long k = c->answered; k < c->queued; k++)
            latency[n++] = end - c->due[k]; /* unanswered: at least this late */
        sent += c->queued;
    }
    /* With more than 1 - q of the requests unanswered, the quantile q is
     * only a lower bound: flagged "unserved". */
    double p50_rank = 0.50 * (double)sent, p99_rank = 0.99 * (double)sent;
    long long p50 = quantile(latency, (size_t)n, 0.50), p99 = quantile(latency, (size_t)n, 0.99);
    long long max = n ? latency[n - 1] : 0;
    printf("sent=%ld served=%ld served_pct=%.1f p50_us=%lld p99_us=%lld max_us=%lld p50_unserved=%d "
           "p99_unserved=%d hostile=%d errors=%ld server_cpu_ms=%ld",
           sent, served, sent ? 100.0 * (double)served / (double)sent : 0.0, p50 / 1000, p99 / 1000,
           max / 1000, p50_rank > (double)served, p99_rank > (double)served, nhostile, errors,
           proc_cpu_ms(server) - cpu_before);
    counters_print_since(&before);
    printf("\n");
    fflush(stdout);
    server_kill(server);
    for (int i = 0; i < nhostile; i++)
        close(hostile[i]);
    for (int i = 0; i < nclients; i++)
        close(clients[i].fd);
    return 0;
}
