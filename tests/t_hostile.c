/* Hostile peers. Whatever the peer does, close() returns within its bound
 * (at once by default; NORST_LINGER_MS=500 without the thread, checked with
 * generous slack), the process keeps exactly the fds it should
 * (/proc/self/fd counted before and after), the drain ends within its
 * bounds (a flood at the byte bound once the peer has our FIN), and the
 * resets that follow are the peer's doing or the bound's, counted on the
 * wire. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "harness.h"

enum peer_kind { SILENT, FLOOD, RESET_MID_DRAIN, ZERO_WINDOW, SLOW_DRIP, FORGED_LOG };

/* The peer's behaviour after its 10-byte request, in a child process. */
static void behave(int fd, enum peer_kind kind)
{
    char buf[65536] = {0};
    switch (kind) {
    case FLOOD: /* until the connection breaks */
        while (send(fd, buf, sizeof buf, MSG_NOSIGNAL) > 0 || errno == EINTR)
            ;
        break;
    case RESET_MID_DRAIN: { /* wait for the server's FIN, then abort */
        struct linger lg = {1, 0};
        peer_read_all(fd, 5000);
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
        break;
    }
    case SLOW_DRIP: /* a byte every 100 ms, never an EOF */
        for (int i = 0; i < 40 && send(fd, "x", 1, MSG_NOSIGNAL) == 1; i++)
            sleep_ms(100);
        break;
    case SILENT:
    case ZERO_WINDOW: /* neither reads nor closes */
    case FORGED_LOG:
        sleep_ms(4000);
        break;
    }
    _exit(0);
}

/* expect_rst: 0 none, 1 at least one, 2 at most one (the peer's next byte
 * after our close may draw the kernel's RST, with or without the shim) */
enum thread_use { WITH_THREAD, THREADLESS };

static void hostile(enum thread_use use, const char *title, enum peer_kind kind, const char *steps,
                    const char *expect_log, int expect_rst)
{
    char name[160];
    struct proc server;
    struct counters before;
    const char *env[] = {use == THREADLESS ? "NORST_ASYNC=0" : "NORST_ASYNC=1",
                         "NORST_LINGER_MS=500", "NORST_LOG=stderr", NULL};

    snprintf(name, sizeof name, "hostile peer%s: %s", use == THREADLESS ? ", no thread" : "", title);
    case_begin(name);
    counters_read(&before);
    closer_start(&server, 1, env, 4, steps);
    int fd = peer_connect(4, 5000);
    if (kind == FORGED_LOG)
        peer_send(fd, "\nlibnorst: forged rst=none\x1b[2J\n", 32);
    else
        peer_send_pattern(fd, 10);
    pid_t peer = fork();
    if (peer == 0)
        behave(fd, kind);
    close(fd); /* the peer process holds the connection alone */
    CHECK(proc_finish(&server, 10000) == 0, "server: %s", server.err);
    /* Counted before the peer goes: its own last close may reset (it never
     * read what the server sent), and that is not the server's doing. */
    struct counters delta = counters_since(&before);
    kill(peer, SIGKILL);
    waitpid(peer, NULL, 0);

    long ms = number_after(server.out, "ms=");
    long fds_before = number_after(server.out, "fds="), fds_after = -1;
    const char *second = strstr(server.out, "fds=");
    if (second && (second = strstr(second + 1, "fds=")))
        fds_after = atol(second + 4);
    if (use == THREADLESS) {
        CHECK(ms >= 0 && ms < 2000, "close took %ld ms (bound 500)", ms);
        CHECK(fds_before > 0 && fds_after == fds_before - 1, "fds %ld before the close, %ld after",
              fds_before, fds_after);
    } else {
        CHECK(ms >= 0 && ms < 100, "close took %ld ms: it should not wait", ms);
        /* finished at once (-1); or handed off: the reaper's epoll set and
         * eventfd (+2), and its duplicate while it lingers (+1) */
        CHECK(fds_before > 0 && fds_after >= fds_before - 1 && fds_after <= fds_before + 2,
              "fds %ld before the close, %ld after", fds_before, fds_after);
    }
    CHECK(contains(server.out, "close=0 errno=unchanged"), "server: %s", server.out);
    CHECK(contains(server.err, expect_log), "log lacks \"%s\": %s", expect_log, server.err);
    int lines = 0;
    for (const char *c = server.err; *c; c++)
        lines += *c == '\n';
    CHECK(lines == 1, "%d log lines: %s", lines, server.err);
    if (expect_rst == 1)
        CHECK(delta.out_rsts >= 1, "OutRsts %ld", delta.out_rsts);
    else if (expect_rst == 0)
        CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    else /* a byte that arrives after the close may draw one, as it would anyway */
        CHECK(delta.out_rsts <= 1, "OutRsts %ld", delta.out_rsts);
    case_end();
}

static void each_peer(enum thread_use use)
{
    hostile(use, "never sends its FIN", SILENT, "accept queued:10 read:1 fdcount close fdcount",
            "action=drain outcome=time-bound drained=9", 0);
    /* 16 MiB (NORST_MAX_BYTES) after our FIN is acked, far less than 500 ms
     * of a loopback flood: the reset then costs the peer nothing it would
     * read, and stops its sending */
    hostile(use, "floods without end", FLOOD, "accept queued:10 read:1 fdcount close fdcount",
            "action=drain outcome=byte-bound drained=16777216", 1);
    hostile(use, "resets in the middle of the drain", RESET_MID_DRAIN,
            "accept queued:10 read:1 fdcount close fdcount", "action=drain outcome=peer-reset", 1);
    hostile(use, "stops reading: our send queue stays full (zero window)", ZERO_WINDOW,
            "accept queued:10 read:1 fill fdcount close fdcount", "action=drain outcome=time-bound", 0);
    hostile(use, "drips a byte every 100 ms, never an EOF", SLOW_DRIP,
            "accept queued:10 read:1 fdcount close fdcount", "action=drain outcome=time-bound", 2);
    /* the peer's bytes never reach the log: one line, no escape sequence */
    hostile(use, "sends a forged log line and a terminal escape", FORGED_LOG,
            "accept queued:32 read:1 fdcount close fdcount", "unread=31 action=drain outcome=time-bound",
            0);
}

int main(void)
{
    each_peer(WITH_THREAD);
    each_peer(THREADLESS);
    return harness_done();
}
