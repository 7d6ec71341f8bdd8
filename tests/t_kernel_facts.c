/* The kernel facts the close policy builds on, on loopback and over a WAN
 * path (tests/progs/wanlink: 100 ms RTT, 2 Mbit/s). Prints what it
 * measured (docs/kernel-facts-verified.md quotes it).
 *  1. Once our FIN and all data before it are acknowledged (FIN_WAIT2), a
 *     reset from our side no longer fails the peer's recv(): it returns all
 *     our data, then 0; only the peer's further send() fails. A reset
 *     before that loses data and fails recv() with ECONNRESET.
 *  2. What TCP_INFO tells at the instant of a close on the receiving side:
 *     tcpi_last_data_recv counts from the last data segment, or from the
 *     handshake when none came yet, in jiffies; it is below one RTO while
 *     the peer is sending on a clean path (a lossy one stretches silences
 *     past it: printed) and above it once the peer is idle. */
#include <errno.h>
#include <linux/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "wan.h"

#define PORT 5000
#define RTT_MS 100
static const char *const wan_opts[] = {"--rtt", "100", "--rate", "2000", NULL};

/* tcpi_state: the kernel's TCP_* states (include/net/tcp_states.h), which
 * no uapi header exports. */
enum { STATE_ESTABLISHED = 1, STATE_FIN_WAIT1 = 4, STATE_FIN_WAIT2 = 5 };

enum path { LOOPBACK, WAN };
static const char *const path_name[] = {"loopback", "wan 100 ms 2 Mbit/s"};

static const char *state_name(int state)
{
    static const char *const names[] = {"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
                                        "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
                                        "LAST_ACK", "LISTEN", "CLOSING"};
    return state >= 0 && state <= 11 ? names[state] : "?";
}

/* The fields the close policy may read, in the units the kernel gives. */
static void print_info(const char *label, const struct tcp_info *i)
{
    printf("    %s: state %s rtt %u us rttvar %u us rto %u us rcv_rtt %u us"
           " last_data_recv %u ms last_ack_recv %u ms bytes_received %llu segs_in %u"
           " data_segs_in %u snd_wnd %u\n",
           label, state_name(i->tcpi_state), i->tcpi_rtt, i->tcpi_rttvar, i->tcpi_rto,
           i->tcpi_rcv_rtt, i->tcpi_last_data_recv, i->tcpi_last_ack_recv,
           (unsigned long long)i->tcpi_bytes_received, i->tcpi_segs_in, i->tcpi_data_segs_in,
           i->tcpi_snd_wnd);
    fflush(stdout);
}

static int client_connect(enum path path, struct wan *w)
{
    return path == WAN ? wan_connect(w, PORT) : peer_connect(4, PORT);
}

static int unread(int fd)
{
    int n = -1;
    ioctl(fd, FIONREAD, &n);
    return n;
}

/* ms until fd reaches state (polled every ms), or -1 after timeout_ms. */
static long wait_state(int fd, int state, long timeout_ms)
{
    struct tcp_info info;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        wan_tcp_info(fd, &info);
        if (info.tcpi_state == state)
            return elapsed_ms_since(&start);
        if (elapsed_ms_since(&start) > timeout_ms)
            return -1;
        sleep_ms(1);
    }
}

static void wait_unread(int fd, int bytes)
{
    for (int ms = 0; ms < 5000 && unread(fd) < bytes; ms++)
        sleep_ms(1);
}

/* Begins the case "PATH: what" (and starts the link): 0, or -1 once skipped. */
static int begin_on(enum path path, struct wan *w, const char *what)
{
    static char name[256];
    snprintf(name, sizeof name, "%s: %s", path_name[path], what);
    if (path == WAN)
        return wan_case_begin(w, name, wan_opts);
    case_begin(name);
    return 0;
}

static void end_on(enum path path, struct wan *w)
{
    if (path == WAN)
        wan_stop(w);
    case_end();
}

/* A child that sends on c until send fails, then reads to the end; it
 * writes what it saw to report (if >= 0). */
static pid_t start_uploader(int c, int s, int report)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    close(s);
    unsigned char chunk[4096] = {0};
    while (send(c, chunk, sizeof chunk, MSG_NOSIGNAL) > 0)
        ;
    int send_errno = errno;
    struct peer_result r = peer_read_all(c, 5000);
    if (report >= 0)
        dprintf(report, "send failed with %s, then recv got %zu bytes and %s", strerrorname_np(send_errno),
                r.bytes, r.eof ? "EOF" : r.reset ? "ECONNRESET" : "timeout");
    _exit(0);
}

/* ---- fact 1: a reset after our FIN was acknowledged ---- */

enum reset_how { RESET_UNREAD, RESET_LINGER0 };
enum reset_when { AFTER_FIN_ACKED, BEFORE_DATA_ACKED };

static void reset_case(int listener, enum path path, enum reset_how how, enum reset_when when)
{
    char name[200];
    const size_t reply = 30000; /* fits the peer's receive window: it does not read yet */
    struct wan w;
    snprintf(name, sizeof name, "reset by %s %s: the peer %s",
             how == RESET_UNREAD ? "close with unread data" : "SO_LINGER {1,0}",
             when == AFTER_FIN_ACKED ? "in FIN_WAIT2" : "with the reply in flight",
             when == AFTER_FIN_ACKED ? "reads the whole reply, then EOF; its send fails"
                                     : "loses data, recv fails with ECONNRESET");
    if (begin_on(path, &w, name) < 0)
        return;
    int c = client_connect(path, &w), s = accept(listener, NULL, NULL);
    peer_send(c, "0123456789", 10);
    wait_unread(s, 10);
    if (how == RESET_LINGER0) {
        char request[10];
        CHECK(recv(s, request, sizeof request, 0) == 10, "request");
    }
    peer_send_pattern(s, reply);
    shutdown(s, SHUT_WR);
    long waited = when == AFTER_FIN_ACKED ? wait_state(s, STATE_FIN_WAIT2, 10000) : 0;
    struct tcp_info before_close;
    wan_tcp_info(s, &before_close);
    if (how == RESET_LINGER0) {
        struct linger lg = {1, 0};
        setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    struct counters before;
    counters_read(&before);
    close(s);
    sleep_ms(path == WAN ? 3 * RTT_MS : 20); /* the reset has reached the peer */
    struct peer_result r = peer_read_all(c, 10000);
    char x = 'x';
    ssize_t send1 = send(c, &x, 1, MSG_NOSIGNAL);
    int errno1 = errno;
    ssize_t send2 = send(c, &x, 1, MSG_NOSIGNAL);
    int errno2 = errno;
    struct counters delta = counters_since(&before);
    close(c);
    if (path == WAN)
        wan_stop(&w);
    printf("    closer %s after %ld ms (unacked %u); peer got %zu of %zu bytes, then %s;"
           " send %zd (%s), again %zd (%s); OutRsts +%ld AbortOnClose +%ld AbortOnData +%ld\n",
           state_name(before_close.tcpi_state), waited, before_close.tcpi_unacked, r.bytes, reply,
           r.eof ? "EOF" : r.reset ? "ECONNRESET" : "timeout", send1,
           send1 < 0 ? strerrorname_np(errno1) : "ok", send2,
           send2 < 0 ? strerrorname_np(errno2) : "ok", delta.out_rsts, delta.abort_on_close,
           delta.abort_on_data);
    CHECK(delta.out_rsts >= 1, "no reset sent: OutRsts +%ld", delta.out_rsts);
    if (when == AFTER_FIN_ACKED) {
        CHECK(before_close.tcpi_state == STATE_FIN_WAIT2, "state %d", before_close.tcpi_state);
        CHECK(r.eof && !r.reset && r.bytes == reply && r.pattern_ok, "got %zu, eof %d reset %d",
              r.bytes, r.eof, r.reset);
        CHECK(send1 < 0 && errno1 == EPIPE, "first send %zd %s", send1, strerror(errno1));
        CHECK(send2 < 0 && errno2 == EPIPE, "second send %zd %s", send2, strerror(errno2));
    } else {
        CHECK(before_close.tcpi_state == STATE_FIN_WAIT1, "state %d", before_close.tcpi_state);
        CHECK(r.reset && r.bytes < reply, "got %zu, eof %d reset %d", r.bytes, r.eof, r.reset);
    }
    case_end();
}

/* The WAN upload case: the peer is still uploading when our reply and FIN
 * are acknowledged and we reset. */
static void reset_uploader(int listener)
{
    struct wan w;
    int report[2];
    const size_t reply = 200;
    if (begin_on(WAN, &w, "an uploader reset in FIN_WAIT2 gets EPIPE from send, then the whole"
                          " reply and EOF from recv") < 0)
        return;
    int c = client_connect(WAN, &w), s = accept(listener, NULL, NULL);
    if (pipe(report) < 0)
        exit(99);
    pid_t uploader = start_uploader(c, s, report[1]);
    close(c);
    close(report[1]);
    wait_unread(s, 1);
    peer_send_pattern(s, reply);
    shutdown(s, SHUT_WR);
    long waited = wait_state(s, STATE_FIN_WAIT2, 5000);
    int unread_at_close = unread(s);
    close(s);
    char seen[200] = "";
    ssize_t n = read(report[0], seen, sizeof seen - 1);
    seen[n > 0 ? n : 0] = '\0';
    close(report[0]);
    waitpid(uploader, NULL, 0);
    wan_stop(&w);
    printf("    FIN_WAIT2 after %ld ms, %d bytes unread at the close; the uploader: %s\n", waited,
           unread_at_close, seen);
    CHECK(waited >= 0, "FIN_WAIT2 not reached");
    CHECK(contains(seen, "send failed with EPIPE") && contains(seen, "got 200 bytes and EOF"), "%s",
          seen);
    case_end();
}

/* How long after shutdown(SHUT_WR) our socket reaches FIN_WAIT2 on
 * loopback, after `reply` bytes (0: a bare FIN). */
static long fin_wait2_ms(int listener, size_t reply)
{
    int c = peer_connect(4, PORT), s = accept(listener, NULL, NULL);
    if (reply)
        peer_send_pattern(s, reply);
    shutdown(s, SHUT_WR);
    long ms = wait_state(s, STATE_FIN_WAIT2, 2000);
    close(s);
    close(c);
    return ms;
}

static int by_value(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* The peer's kernel acknowledges a FIN with its delayed-ACK timer
 * (tcp_fin() enters pingpong mode), which runs icsk_ack.ato: TCP_ATO_MIN
 * (40 ms) once data has arrived, 0 (the next jiffy) before. A drain that
 * waits for FIN_WAIT2 after a reply waits those 40 ms even on loopback. */
static void fin_ack_delay(int listener)
{
    long bare[3], after_reply[3];
    case_begin("loopback: FIN_WAIT2 comes ~40 ms after a reply and FIN, within a jiffy or two after a bare FIN");
    for (int round = 0; round < 3; round++) {
        bare[round] = fin_wait2_ms(listener, 0);
        after_reply[round] = fin_wait2_ms(listener, 100);
    }
    qsort(bare, 3, sizeof(long), by_value);
    qsort(after_reply, 3, sizeof(long), by_value);
    printf("    shutdown to FIN_WAIT2: bare FIN %ld ms (%ld..%ld), after 100 bytes %ld ms (%ld..%ld)\n",
           bare[1], bare[0], bare[2], after_reply[1], after_reply[0], after_reply[2]);
    CHECK(bare[1] >= 0 && bare[1] < 30, "bare FIN: %ld ms", bare[1]);
    CHECK(after_reply[1] >= 35 && after_reply[1] < 200, "after a reply: %ld ms", after_reply[1]);
    case_end();
}

/* ---- fact 2: what TCP_INFO tells at the instant of a close ---- */

/* (a) A keep-alive peer: a request, our reply, then 1 s of silence. */
static void idle_peer(int listener, enum path path)
{
    struct wan w;
    struct tcp_info i;
    char buf[100] = {0};
    if (begin_on(path, &w, "an idle keep-alive peer (last sent 1 s ago): last_data_recv ~1000 ms > RTO") < 0)
        return;
    int c = client_connect(path, &w), s = accept(listener, NULL, NULL);
    peer_send(c, buf, sizeof buf);
    CHECK(recv(s, buf, sizeof buf, MSG_WAITALL) == sizeof buf, "request");
    peer_send(s, buf, 50);
    CHECK(recv(c, buf, 50, MSG_WAITALL) == 50, "reply");
    sleep_ms(1000);
    wan_tcp_info(s, &i);
    print_info("server at close", &i);
    close(s);
    close(c);
    CHECK(i.tcpi_state == STATE_ESTABLISHED, "state %d", i.tcpi_state);
    CHECK(i.tcpi_last_data_recv >= 950 && i.tcpi_last_data_recv < 1500, "last_data_recv %u",
          i.tcpi_last_data_recv);
    CHECK(i.tcpi_last_data_recv > i.tcpi_rto / 1000, "rto %u us", i.tcpi_rto);
    CHECK(i.tcpi_rto >= 200000, "rto %u us below TCP_RTO_MIN", i.tcpi_rto);
    CHECK(i.tcpi_bytes_received == sizeof buf, "bytes_received %llu",
          (unsigned long long)i.tcpi_bytes_received);
    end_on(path, &w);
}

/* (b) A peer uploading without pause; we have read all that arrived. */
static void uploading_peer(int listener)
{
    struct wan w;
    struct tcp_info i;
    char buf[65536];
    if (begin_on(WAN, &w, "a peer uploading, all read: unread 0, last_data_recv < RTO, more in flight") < 0)
        return;
    int c = client_connect(WAN, &w), s = accept(listener, NULL, NULL);
    pid_t uploader = start_uploader(c, s, -1);
    close(c);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (elapsed_ms_since(&start) < 1000) /* past slow start */
        if (recv(s, buf, sizeof buf, 0) <= 0)
            break;
    while (recv(s, buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
    int unread_at_close = unread(s);
    wan_tcp_info(s, &i);
    print_info("server at close", &i);
    /* The sender's pacing may leave gaps of an RTT or more (seen: over
     * 100 ms right after slow start). */
    struct timespec waiting;
    clock_gettime(CLOCK_MONOTONIC, &waiting);
    while (unread(s) == 0 && elapsed_ms_since(&waiting) < 5 * RTT_MS)
        sleep_ms(1);
    long next_ms = elapsed_ms_since(&waiting);
    int arrived_after = unread(s);
    struct counters before;
    counters_read(&before);
    close(s);
    struct counters delta = counters_since(&before);
    kill(uploader, SIGKILL);
    waitpid(uploader, NULL, 0);
    printf("    unread 0 at that instant; the next data arrived %ld ms later (%d bytes);"
           " the close: OutRsts +%ld AbortOnClose +%ld\n",
           next_ms, arrived_after, delta.out_rsts, delta.abort_on_close);
    CHECK(unread_at_close == 0, "unread %d", unread_at_close);
    CHECK(arrived_after > 0, "nothing was in flight");
    CHECK(i.tcpi_last_data_recv < 100 && i.tcpi_last_data_recv < i.tcpi_rto / 1000,
          "last_data_recv %u ms, rto %u us", i.tcpi_last_data_recv, i.tcpi_rto);
    CHECK(i.tcpi_rtt / 1000 >= RTT_MS - 5 && i.tcpi_rtt / 1000 < 3 * RTT_MS, "rtt %u us",
          i.tcpi_rtt);
    end_on(WAN, &w);
}

/* (b') The same uploader over lossy paths: the longest silences the
 * receiver sees while the peer has not stopped (loss recovery, RTO
 * backoff), against the receiver's own tcpi_rto. */
static void lossy_uploader(int listener, const char *const *opts, const char *name)
{
    struct wan w;
    struct tcp_info i;
    char buf[65536];
    if (wan_case_begin(&w, name, opts) < 0)
        return;
    int c = wan_connect(&w, PORT), s = accept(listener, NULL, NULL);
    pid_t uploader = start_uploader(c, s, -1);
    close(c);
    unsigned longest = 0, rto_then = 0, rto_min = ~0U;
    long samples = 0, beyond_rto = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (elapsed_ms_since(&start) < 5000) {
        while (recv(s, buf, sizeof buf, MSG_DONTWAIT) > 0)
            ;
        wan_tcp_info(s, &i);
        samples++;
        if (i.tcpi_last_data_recv > longest) {
            longest = i.tcpi_last_data_recv;
            rto_then = i.tcpi_rto / 1000;
        }
        if (i.tcpi_rto / 1000 < rto_min)
            rto_min = i.tcpi_rto / 1000;
        if (i.tcpi_last_data_recv >= i.tcpi_rto / 1000)
            beyond_rto++;
        sleep_ms(1);
    }
    print_info("server after 5 s", &i);
    close(s);
    kill(uploader, SIGKILL);
    waitpid(uploader, NULL, 0);
    wan_stop(&w);
    printf("    longest last_data_recv %u ms (rto then %u ms, lowest rto %u ms); %ld of %ld samples"
           " at or beyond rto\n", longest, rto_then, rto_min, beyond_rto, samples);
    CHECK(i.tcpi_bytes_received > 100000, "bytes %llu", (unsigned long long)i.tcpi_bytes_received);
    CHECK(longest < 4 * rto_then, "longest silence %u ms, rto %u ms", longest, rto_then);
    case_end();
}

/* (c) A client that sends right after connect; we look at once after
 * accept, and again when its data is in. */
static void fresh_sender(int listener, enum path path)
{
    struct wan w;
    struct tcp_info at_accept, with_data;
    if (begin_on(path, &w, "a fresh connection whose client sends at once: last_data_recv < RTO") < 0)
        return;
    int c = client_connect(path, &w);
    peer_send(c, "PING\r\n", 6);
    int s = accept(listener, NULL, NULL);
    wan_tcp_info(s, &at_accept);
    wait_unread(s, 6);
    wan_tcp_info(s, &with_data);
    print_info("server at accept", &at_accept);
    print_info("server with the data in", &with_data);
    close(s);
    close(c);
    CHECK(at_accept.tcpi_last_data_recv < at_accept.tcpi_rto / 1000, "last_data_recv %u",
          at_accept.tcpi_last_data_recv);
    CHECK(with_data.tcpi_last_data_recv < 100 && with_data.tcpi_bytes_received == 6,
          "last_data_recv %u bytes %llu", with_data.tcpi_last_data_recv,
          (unsigned long long)with_data.tcpi_bytes_received);
    end_on(path, &w);
}

/* (d) Nothing received yet on a connection made 500 ms ago: the time since
 * the handshake (tcp_create_openreq_child() sets icsk_ack.lrcvtime). */
static void silent_fresh(int listener, enum path path)
{
    struct wan w;
    struct tcp_info i;
    if (begin_on(path, &w, "nothing received 500 ms after the handshake: last_data_recv ~500 ms") < 0)
        return;
    int c = client_connect(path, &w);
    sleep_ms(500);
    int s = accept(listener, NULL, NULL);
    wan_tcp_info(s, &i);
    print_info("server at accept", &i);
    close(s);
    close(c);
    /* On the WAN the handshake ended at the server half an RTT after
     * connect() returned. */
    CHECK(i.tcpi_last_data_recv >= 400 && i.tcpi_last_data_recv < 800, "last_data_recv %u",
          i.tcpi_last_data_recv);
    CHECK(i.tcpi_bytes_received == 0 && i.tcpi_state == STATE_ESTABLISHED, "bytes %llu state %d",
          (unsigned long long)i.tcpi_bytes_received, i.tcpi_state);
    end_on(path, &w);
}

/* The resolution of tcpi_last_data_recv: it steps by whole jiffies. */
static void resolution(int listener)
{
    struct tcp_info i;
    unsigned seen[64];
    int n = 0;
    case_begin("loopback: tcpi_last_data_recv steps in whole jiffies");
    int c = peer_connect(4, PORT), s = accept(listener, NULL, NULL);
    peer_send(c, "x", 1);
    wait_unread(s, 1);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (elapsed_ms_since(&start) < 60 && n < 64) {
        wan_tcp_info(s, &i);
        if (n == 0 || seen[n - 1] != i.tcpi_last_data_recv)
            seen[n++] = i.tcpi_last_data_recv;
    }
    close(s);
    close(c);
    unsigned step = 1000;
    for (int k = 1; k < n; k++)
        if (seen[k] - seen[k - 1] < step)
            step = seen[k] - seen[k - 1];
    printf("    %d distinct values in 60 ms, smallest step %u ms (HZ %u):", n, step,
           step ? 1000 / step : 0);
    for (int k = 0; k < n; k++)
        printf(" %u", seen[k]);
    printf("\n");
    CHECK(n >= 3 && step >= 1 && step <= 10, "%d values, step %u", n, step);
    for (int k = 1; k < n; k++)
        CHECK(seen[k] % step == 0, "%u not a multiple of %u", seen[k], step);
    case_end();
}

int main(void)
{
    int listener = wan_listen(PORT);
    char cc[32] = "?";
    read_text_file("/proc/sys/net/ipv4/tcp_congestion_control", cc, sizeof cc);
    printf("    congestion control %s", cc);
    for (enum path p = LOOPBACK; p <= WAN; p++) {
        reset_case(listener, p, RESET_UNREAD, AFTER_FIN_ACKED);
        reset_case(listener, p, RESET_LINGER0, AFTER_FIN_ACKED);
    }
    reset_case(listener, WAN, RESET_UNREAD, BEFORE_DATA_ACKED);
    reset_case(listener, WAN, RESET_LINGER0, BEFORE_DATA_ACKED);
    reset_uploader(listener);
    fin_ack_delay(listener);
    for (enum path p = LOOPBACK; p <= WAN; p++) {
        idle_peer(listener, p);
        fresh_sender(listener, p);
        silent_fresh(listener, p);
    }
    uploading_peer(listener);
    static const char *const lossy1[] = {"--rtt", "100", "--rate", "10000", "--loss", "1", "--seed", "3", NULL};
    static const char *const lossy5[] = {"--rtt", "100", "--rate", "2000", "--loss", "5", "--seed", "3", NULL};
    lossy_uploader(listener, lossy1, "wan 100 ms 10 Mbit/s 1% loss: an uploader's silences against rto");
    lossy_uploader(listener, lossy5, "wan 100 ms 2 Mbit/s 5% loss: an uploader's silences against rto");
    resolution(listener);
    return harness_done();
}
