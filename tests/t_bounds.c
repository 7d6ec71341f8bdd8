/* The drain is bounded. Without the thread (NORST_ASYNC=0), a peer that
 * never closes: close() returns once NORST_LINGER_MS has passed, and the log
 * says so. With it, close() waits NORST_BLOCK_MS at most, the reaper the
 * rest; a silent peer ends the linger at NORST_IDLE_MS, one that drips at
 * NORST_LINGER_MS. A peer that floods: the
 * NORST_MAX_BYTES bound holds, and the reset that follows is counted on the
 * wire and in the log. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

static void silent_peer(int signals)
{
    struct proc server;
    struct counters before;
    const char *env[] = {"NORST_ASYNC=0", "NORST_LINGER_MS=300", "NORST_LOG=stderr", NULL};

    case_begin(signals ? "peer never closes, SIGALRM every 1 ms: the drain still lasts its 300 ms"
                       : "peer never closes: close returns after the 300 ms bound");
    counters_read(&before);
    closer_start(&server, 1, env, 4,
                 signals ? "accept queued:10 read:1 itimer close" : "accept queued:10 read:1 close");
    int fd = peer_connect(4, 5000);
    peer_send_pattern(fd, 10);
    /* keep the connection open and silent until the server is done */
    CHECK(proc_finish(&server, 10000) == 0, "server: %s", server.err);
    long ms = number_after(server.out, "ms=");
    CHECK(ms >= 250 && ms < 2000, "close took %ld ms", ms);
    CHECK(contains(server.out, "close=0 errno=unchanged"), "%s", server.out);
    if (signals) {
        const char *alarms = strstr(server.out, "alarms=");
        CHECK(alarms && atoi(alarms + 7) >= 100, "signals delivered during close: %s", server.out);
    }
    CHECK(contains(server.err, "outcome=time-bound") && contains(server.err, "drained=9") &&
              contains(server.err, "rst=none"),
          "log: %s", server.err);
    struct peer_result r = peer_read_all(fd, 2000);
    CHECK(r.eof, "peer saw eof %d reset %d", r.eof, r.reset);
    close(fd);
    struct counters delta = counters_since(&before);
    CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    case_end();
}

/* A child process that writes to the connection until it breaks. */
static pid_t flood(int fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        char buf[65536] = {0};
        while (send(fd, buf, sizeof buf, MSG_NOSIGNAL) > 0 || errno == EINTR)
            ;
        _exit(0);
    }
    return pid;
}

static void flooding_peer(void)
{
    struct proc server;
    struct counters before;
    const char *env[] = {"NORST_MAX_BYTES=1048576", "NORST_LINGER_MS=5000", "NORST_LOG=stderr", NULL};

    case_begin("flooding peer: the 1 MB byte bound holds, then the reset is counted and logged");
    counters_read(&before);
    closer_start(&server, 1, env, 4, "accept queued:1000 read:1 close");
    int fd = peer_connect(4, 5000);
    pid_t flooder = flood(fd);
    CHECK(proc_finish(&server, 10000) == 0, "server: %s", server.err);
    long ms = number_after(server.out, "ms=");
    kill(flooder, SIGKILL);
    waitpid(flooder, NULL, 0);
    close(fd);
    struct counters delta = counters_since(&before);

    CHECK(ms >= 0 && ms < 4000, "close took %ld ms: the byte bound did not end the drain", ms);
    CHECK(contains(server.err, "outcome=byte-bound") && contains(server.err, "drained=1048576") &&
              contains(server.err, "rst=sent"),
          "log: %s", server.err);
    CHECK(delta.out_rsts >= 1, "OutRsts %ld", delta.out_rsts);
    CHECK(delta.abort_on_close + delta.abort_on_data >= 1, "AbortOnClose %ld AbortOnData %ld",
          delta.abort_on_close, delta.abort_on_data);
    case_end();
}

/* The three clocks with the thread: the caller's budget, the idle bound,
 * the total bound. drip_ms 0: the peer stays silent. */
static void clocks(long drip_ms, const char *expect_outcome, long min_ms, long max_ms)
{
    struct proc server;
    struct counters before;
    char name[160];
    const char *env[] = {"NORST_BLOCK_MS=200", "NORST_IDLE_MS=400", "NORST_LINGER_MS=900",
                         "NORST_LOG=stderr", NULL};

    snprintf(name, sizeof name, "thread: close waits its 200 ms budget; a peer %s ends at %s",
             drip_ms ? "dripping a byte every 100 ms" : "silent", expect_outcome);
    case_begin(name);
    counters_read(&before);
    closer_start(&server, 1, env, 4, "accept queued:10 read:1 close sleep:1500");
    int fd = peer_connect(4, 5000);
    peer_send_pattern(fd, 10);
    for (long t = 0; drip_ms && t < 1400; t += drip_ms) {
        sleep_ms(drip_ms);
        send(fd, "x", 1, MSG_NOSIGNAL);
    }
    CHECK(proc_finish(&server, 10000) == 0, "server: %s", server.err);
    close(fd);
    long close_ms = number_after(server.out, "ms="), linger_ms = number_after(server.err, " ms=");
    CHECK(close_ms >= 150 && close_ms < 600, "close took %ld ms, budget 200", close_ms);
    CHECK(contains(server.err, expect_outcome), "log: %s", server.err);
    CHECK(linger_ms >= min_ms && linger_ms < max_ms, "lingered %ld ms", linger_ms);
    case_end();
}

int main(void)
{
    clocks(0, "outcome=idle-bound", 350, 800);
    clocks(100, "outcome=time-bound", 850, 1400);
    silent_peer(0);
    silent_peer(1);
    flooding_peer();
    return harness_done();
}
