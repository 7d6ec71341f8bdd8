/* tests/progs/wanlink makes a real path: a TCP handshake takes the RTT,
 * both ends' smoothed RTT is the RTT, a bulk transfer runs at the rate, and
 * --loss drops about the share it is asked to. */
#include <errno.h>
#include <linux/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "wan.h"

#define PORT 5000

static int by_value(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static void path_rtt(int listener)
{
    const char *opts[] = {"--rtt", "100", "--rate", "2000", NULL};
    struct wan w;
    long connect_ms[5], rtt_client[5], rtt_server[5];
    if (wan_case_begin(&w, "wanlink --rtt 100: connect takes the RTT, tcpi_rtt of both ends is the RTT", opts) < 0)
        return;
    for (int round = 0; round < 5; round++) {
        struct timespec start;
        struct tcp_info ci, si;
        char byte = 'x';
        clock_gettime(CLOCK_MONOTONIC, &start);
        int c = wan_connect(&w, PORT);
        connect_ms[round] = elapsed_ms_since(&start);
        int s = accept(listener, NULL, NULL);
        for (int ping = 0; ping < 4; ping++) { /* a few samples for srtt */
            peer_send(c, &byte, 1);
            CHECK(recv(s, &byte, 1, 0) == 1, "server recv: %s", strerror(errno));
            peer_send(s, &byte, 1);
            CHECK(recv(c, &byte, 1, 0) == 1, "client recv: %s", strerror(errno));
        }
        wan_tcp_info(c, &ci);
        wan_tcp_info(s, &si);
        rtt_client[round] = ci.tcpi_rtt / 1000;
        rtt_server[round] = si.tcpi_rtt / 1000;
        close(c);
        close(s);
    }
    wan_stop(&w);
    qsort(connect_ms, 5, sizeof(long), by_value);
    qsort(rtt_client, 5, sizeof(long), by_value);
    qsort(rtt_server, 5, sizeof(long), by_value);
    printf("    connect ms median %ld (%ld..%ld); tcpi_rtt ms client %ld (%ld..%ld), server %ld (%ld..%ld)\n",
           connect_ms[2], connect_ms[0], connect_ms[4], rtt_client[2], rtt_client[0], rtt_client[4],
           rtt_server[2], rtt_server[0], rtt_server[4]);
    CHECK(connect_ms[2] >= 95 && connect_ms[2] < 200, "connect %ld ms", connect_ms[2]);
    CHECK(rtt_client[2] >= 95 && rtt_client[2] < 200, "client tcpi_rtt %ld ms", rtt_client[2]);
    CHECK(rtt_server[2] >= 95 && rtt_server[2] < 200, "server tcpi_rtt %ld ms", rtt_server[2]);
    case_end();
}

/* A child sends `bytes` from B; the server reads them all in A. Returns the
 * kbit/s of application data from the first to the last byte read. */
static long bulk_kbit(struct wan *w, int listener, size_t bytes)
{
    int c = wan_connect(w, PORT);
    int s = accept(listener, NULL, NULL);
    pid_t sender = fork();
    if (sender == 0) {
        close(s);
        peer_send_pattern(c, bytes);
        _exit(0);
    }
    close(c);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct peer_result r = peer_read_all(s, 60000);
    long ms = elapsed_ms_since(&start);
    close(s);
    waitpid(sender, NULL, 0);
    CHECK(r.eof && r.bytes == bytes && r.pattern_ok, "received %zu of %zu bytes, eof %d", r.bytes,
          bytes, r.eof);
    return ms > 0 ? (long)(r.bytes * 8 / (size_t)ms) : 0;
}

static void rate(int listener)
{
    const char *opts[] = {"--rtt", "100", "--rate", "2000", NULL};
    struct wan w;
    if (wan_case_begin(&w, "wanlink --rate 2000: a 1 MB upload runs at the rate", opts) < 0)
        return;
    long kbit = bulk_kbit(&w, listener, 1000000);
    wan_stop(&w);
    /* 1448 of every 1500 bytes on the wire are data: 1931 kbit/s at most;
     * slow start costs a few RTTs of the ~4 s. */
    printf("    1 MB at --rtt 100 --rate 2000: %ld kbit/s of data\n", kbit);
    CHECK(kbit > 1600 && kbit <= 1960, "%ld kbit/s", kbit);
    case_end();
}

static void loss(int listener)
{
    const char *opts[] = {"--rtt", "20", "--rate", "10000", "--loss", "5", "--seed", "7", "-v", NULL};
    struct wan w;
    if (wan_case_begin(&w, "wanlink --loss 5: about 5% of the packets are dropped, TCP still delivers", opts) < 0)
        return;
    long kbit = bulk_kbit(&w, listener, 500000);
    wan_stop(&w);
    const char *b_to_a = strstr(w.link.err, "B->A");
    long relayed = number_after(w.link.err, "B->A relayed ");
    long lost = b_to_a ? number_after(b_to_a, "lost ") : -1;
    double share = relayed + lost > 0 ? 100.0 * (double)lost / (double)(relayed + lost) : 0;
    printf("    500 kB at 10 Mbit/s, 5%% loss: %ld kbit/s; data direction relayed %ld, lost %ld (%.1f%%)\n",
           kbit, relayed, lost, share);
    CHECK(share > 2 && share < 10, "lost %.1f%%: %s", share, w.link.err);
    case_end();
}

int main(void)
{
    int listener = wan_listen(PORT);
    path_rtt(listener);
    rate(listener);
    loss(listener);
    return harness_done();
}
