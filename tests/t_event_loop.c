/* An event loop must not stall on a hostile peer. tests/progs/evloop (one
 * thread, epoll) serves 4 well-behaved clients, each sending 100 requests a
 * second on a connection of its own, while a hostile client connects once a
 * second, sends a request line that never ends ("GET " and 64 KiB), and then
 * neither reads nor closes. The server answers it "ERR" and closes it with
 * the bytes unread: without the library the kernel resets it
 * (TCPAbortOnClose); with it, the close drains instead.
 *
 * Run once without the library (the baseline) and once with it, in the mode
 * the environment gives: with no NORST_* set, the default. The good clients
 * must be served about as well as without the library, and no hostile close
 * may reset. The clients are open-loop: each request is due at a fixed time
 * and its latency counts from then, so a stalled loop shows in full; a
 * request not answered by the end counts as infinitely late.
 *
 * A close that drains in place (NORST_ASYNC=0: up to NORST_BLOCK_MS, 2 s,
 * against a peer that never sends its FIN) stalls the loop 2 s per hostile
 * peer, one a second: the two cases on the good requests (served, p99) fail
 * that way, as they did when that was the default; with the drain handed to
 * the reaper (the default) every case passes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

#define CLIENTS 4
#define PERIOD_US 10000LL           /* per client: 100 requests a second */
#define RUN_US 5000000LL            /* requests are due during this */
#define GRACE_US 1000000LL          /* then the replies may still come */
#define HOSTILE_FIRST_US 500000LL
#define HOSTILE_EVERY_US 1000000LL
#define HOSTILE_BYTES 65536
#define MAX_REQUESTS (CLIENTS * (RUN_US / PERIOD_US) + CLIENTS)
#define MAX_HOSTILE 16

#define SERVED_OF_BASELINE 0.80
#define P99_BOUND_US 200000LL

struct load {
    int sent, served, hostile, hostile_answered;
    long long p50_us, p99_us; /* LLONG_MAX: not answered */
    struct counters delta;
};

static long long due_us[MAX_REQUESTS], latency_us[MAX_REQUESTS];

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int by_value(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Sorts v; the value at quantile q, nearest rank. */
static long long quantile(long long *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    int rank = (int)(q * n + 0.999999);
    return n ? v[rank < 1 ? 0 : rank - 1] : LLONG_MAX;
}

/* Connects, sends "GET " and HOSTILE_BYTES (as much as the window takes),
 * and keeps the connection: never reads, never closes. */
static int hostile_open(int port)
{
    static char junk[4 + HOSTILE_BYTES];
    int fd = peer_connect(4, port);
    memcpy(junk, "GET ", 4);
    memset(junk + 4, 'x', HOSTILE_BYTES);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    send(fd, junk, sizeof junk, MSG_NOSIGNAL);
    return fd;
}

/* "OK <id>\n" lines: each settles request id. */
static void take_replies(int fd, char *buf, size_t *len, struct load *l, long long now)
{
    ssize_t got = recv(fd, buf + *len, 255 - *len, MSG_DONTWAIT);
    if (got <= 0)
        return;
    *len += (size_t)got;
    char *line = buf, *nl;
    while ((nl = memchr(line, '\n', (size_t)(buf + *len - line)))) {
        int id;
        if (sscanf(line, "OK %d", &id) == 1 && id >= 0 && id < l->sent && latency_us[id] == LLONG_MAX) {
            latency_us[id] = now - due_us[id];
            l->served++;
        }
        line = nl + 1;
    }
    *len = (size_t)(buf + *len - line);
    memmove(buf, line, *len);
}

static void run_load(struct load *l, int with_shim, const char *port_text)
{
    int port = atoi(port_text), good[CLIENTS], hostile[MAX_HOSTILE];
    char buf[CLIENTS][256];
    size_t len[CLIENTS] = {0};
    long long next[CLIENTS];
    const char *argv[] = {"./tests/progs/evloop", port_text, NULL};
    struct proc server;
    struct counters before;

    memset(l, 0, sizeof *l);
    counters_read(&before);
    proc_start(&server, with_shim, NULL, argv, 1);
    for (int c = 0; c < CLIENTS; c++) {
        good[c] = peer_connect(4, port);
        fcntl(good[c], F_SETFL, O_NONBLOCK);
    }
    long long start = now_us(), next_hostile = start + HOSTILE_FIRST_US;
    for (int c = 0; c < CLIENTS; c++)
        next[c] = start + c * PERIOD_US / CLIENTS;

    for (long long now = start; now < start + RUN_US + GRACE_US; now = now_us()) {
        long long wake = start + RUN_US + GRACE_US;
        if (now < start + RUN_US) {
            if (now >= next_hostile && l->hostile < MAX_HOSTILE) {
                hostile[l->hostile++] = hostile_open(port);
                next_hostile += HOSTILE_EVERY_US;
            }
            for (int c = 0; c < CLIENTS; c++) {
                for (; next[c] <= now && l->sent < MAX_REQUESTS; next[c] += PERIOD_US) {
                    char req[32];
                    int n = snprintf(req, sizeof req, "GET %d\n", l->sent);
                    due_us[l->sent] = next[c];
                    latency_us[l->sent++] = LLONG_MAX;
                    send(good[c], req, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
                }
                wake = next[c] < wake ? next[c] : wake;
            }
            wake = next_hostile < wake ? next_hostile : wake;
        }
        struct pollfd pfd[CLIENTS];
        for (int c = 0; c < CLIENTS; c++)
            pfd[c] = (struct pollfd){.fd = good[c], .events = POLLIN};
        long long wait_us = wake > now ? wake - now : 0;
        struct timespec wait = {wait_us / 1000000, wait_us % 1000000 * 1000};
        ppoll(pfd, CLIENTS, &wait, NULL);
        now = now_us();
        for (int c = 0; c < CLIENTS; c++)
            if (pfd[c].revents)
                take_replies(good[c], buf[c], &len[c], l, now);
    }
    /* Counted before anything ends: the killed server's and the clients'
     * own last closes are not the loop's doing. */
    l->delta = counters_since(&before);
    kill(server.pid, SIGKILL);
    proc_finish(&server, 2000);
    for (int h = 0; h < l->hostile; h++) {
        char reply[256] = "";
        if (recv(hostile[h], reply, sizeof reply - 1, MSG_DONTWAIT) > 0 && strncmp(reply, "ERR", 3) == 0)
            l->hostile_answered++;
        close(hostile[h]);
    }
    for (int c = 0; c < CLIENTS; c++)
        close(good[c]);
    l->p50_us = quantile(latency_us, l->sent, 0.50);
    l->p99_us = quantile(latency_us, l->sent, 0.99);
    sleep_ms(200); /* the closes above settle before the next run counts */
}

static const char *us_text(long long us, char *buf, size_t len)
{
    if (us == LLONG_MAX)
        snprintf(buf, len, "never (not served)");
    else
        snprintf(buf, len, "%lld us", us);
    return buf;
}

static void print_load(const char *who, const struct load *l)
{
    char p50[32], p99[32];
    printf("%s: served %d of %d, p50 %s, p99 %s; hostile %d (answered %d); "
           "TCPAbortOnClose %ld TCPAbortOnData %ld OutRsts %ld\n",
           who, l->served, l->sent, us_text(l->p50_us, p50, sizeof p50), us_text(l->p99_us, p99, sizeof p99),
           l->hostile, l->hostile_answered, l->delta.abort_on_close, l->delta.abort_on_data, l->delta.out_rsts);
}

/* "default mode", or the NORST_* settings the environment passes on. */
static void mode_of_environment(char *buf, size_t len)
{
    extern char **environ;
    size_t used = 0;
    buf[0] = '\0';
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "NORST_", 6) == 0 && strncmp(*e, "NORST_TEST_", 11) != 0 && used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "", *e);
    if (!used)
        snprintf(buf, len, "default mode");
}

int main(void)
{
    struct load base, lib;
    char mode[256], name[3][384];

    mode_of_environment(mode, sizeof mode);
    run_load(&base, 0, "5000");
    print_load("without the library", &base);
    run_load(&lib, 1, "5001");
    snprintf(name[0], sizeof name[0], "with the library (%s)", mode);
    print_load(name[0], &lib);

    case_begin("event loop without the library: every good request served, the hostile closes reset");
    CHECK(base.sent > 0 && base.served >= base.sent * 95 / 100, "served %d of %d", base.served, base.sent);
    CHECK(base.p99_us < P99_BOUND_US, "p99 %lld us", base.p99_us); /* LLONG_MAX fails too */
    CHECK(base.delta.abort_on_close >= 1, "TCPAbortOnClose %ld: the hostile closes did not reset",
          base.delta.abort_on_close);
    case_end();

    snprintf(name[0], sizeof name[0],
             "event loop with the library (%s): good requests served >= 80%% of without it", mode);
    case_begin(name[0]);
    CHECK(lib.served >= SERVED_OF_BASELINE * base.served, "served %d, without the library %d", lib.served,
          base.served);
    case_end();

    snprintf(name[1], sizeof name[1], "event loop with the library (%s): good requests' p99 under 200 ms",
             mode);
    case_begin(name[1]);
    char p99[32], base_p99[32];
    CHECK(lib.p99_us < P99_BOUND_US, "p99 %s, without the library %s", us_text(lib.p99_us, p99, sizeof p99),
          us_text(base.p99_us, base_p99, sizeof base_p99));
    case_end();

    snprintf(name[2], sizeof name[2], "event loop with the library (%s): no hostile close resets", mode);
    case_begin(name[2]);
    CHECK(lib.hostile > 0 && lib.delta.abort_on_close == 0, "TCPAbortOnClose %ld over %d hostile peers",
          lib.delta.abort_on_close, lib.hostile);
    case_end();
    return harness_done();
}
