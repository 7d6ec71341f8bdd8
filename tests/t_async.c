/* The reaper (the default, NORST_ASYNC=1): close() returns at once with the real close's result; our
 * FIN leaves at once; one background thread (started lazily, every signal
 * blocked) drains and closes. The application's fd number is free on
 * return and nothing of the old socket reaches it again: not through its
 * epoll set (an epoll server that reuses fd numbers under load), not in a
 * forked child, not across exec. Exit waits for the drains within one
 * bound; past the NORST_MAX_LINGER cap a close lingers only NORST_BLOCK_MS; an
 * application at its fd limit gets the reaper's fds back. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "harness.h"

static void returns_at_once(void)
{
    struct proc server;
    struct counters before;
    struct timespec start;
    const char *env[] = {"NORST_ASYNC=1", "NORST_LINGER_MS=1000", "NORST_LOG=stderr", NULL};

    case_begin("async: close returns at once, FIN at once, the drain ends at its bound later");
    counters_read(&before);
    closer_start(&server, 1, env, 4, "accept queued:10 read:1 close reuse sleep:1500");
    int fd = peer_connect(4, 5000);
    peer_send_pattern(fd, 10);
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct peer_result r = peer_read_all(fd, 3000); /* the peer stays open */
    long fin_ms = elapsed_ms_since(&start);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    close(fd);
    struct counters delta = counters_since(&before);
    CHECK(r.eof && fin_ms < 500, "peer saw eof %d after %ld ms", r.eof, fin_ms);
    /* at once: against the 1000 ms a synchronous close would wait (closer's
     * clock has 1 ms steps, and sanitizer builds are slower) */
    CHECK(contains(server.out, "close=0 errno=unchanged ms="), "server: %s", server.out);
    CHECK(number_after(server.out, "ms=") <= 50, "close took %ld ms: %s", number_after(server.out, "ms="),
          server.out);
    CHECK(contains(server.out, "reuse=4"), "the fd number was not free: %s", server.out);
    CHECK(contains(server.err, "fd=4 path=close") && contains(server.err, "action=drain outcome=time-bound drained=9") &&
              contains(server.err, "rst=none"),
          "log: %s", server.err);
    long ms = number_after(server.err, " ms=");
    CHECK(ms >= 900 && ms < 2000, "drained for %ld ms", ms);
    CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    case_end();
}

/* No thread before the first handoff; the next call that is never a close
 * starts it, and the waiting socket is served at once, or the peer's EOF
 * would wait for a timeout of the full bound to be noticed. */
static void starts_at_next_call(void)
{
    struct exchange x;
    const char *env[] = {"NORST_ASYNC=1", "NORST_LINGER_MS=3000", "NORST_LOG=stderr", NULL};

    case_begin("async: the lingering close starts the reaper; the peer's EOF ends the drain at once");
    exchange_run(&x, 1, env, 4, "accept queued:10 read:1 sleep:200 close reuse sleep:1000", 10);
    CHECK(x.server_status == 0, "server: %s", x.server.err);
    CHECK(x.peer.eof && !x.peer.reset, "client: eof %d reset %d", x.peer.eof, x.peer.reset);
    CHECK(contains(x.server.err, "action=drain outcome=peer-eof drained=9"), "log: %s", x.server.err);
    long ms = number_after(x.server.err, " ms=");
    CHECK(ms >= 0 && ms < 500, "drained for %ld ms (the exit comes at 1000)", ms);
    CHECK(x.delta.out_rsts == 0, "OutRsts %ld", x.delta.out_rsts);
    case_end();
}

static void reply_and_seed(void)
{
    struct exchange x;
    char out[4096];
    const char *env[] = {"NORST_ASYNC=1", NULL};
    const char *argv[] = {"./echo-server", "-n", "1", "5000", NULL};
    const char *client[] = {"./echo-client", "127.0.0.1", "5000", "Echo this, please", NULL};
    struct proc server;
    struct counters before;

    case_begin("async: the seed echo closes in order");
    counters_read(&before);
    proc_start(&server, 1, env, argv, 1);
    run_client(client, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    struct counters delta = counters_since(&before);
    CHECK(contains(out, "orderly EOF") && delta.out_rsts == 0, "client: %s OutRsts %ld", out, delta.out_rsts);
    case_end();

    case_begin("async: a 1 MB reply after an unread request arrives whole");
    exchange_run(&x, 1, env, 4, "accept queued:1000 read:1 write:1048576 close", 1000);
    CHECK(x.peer.eof && x.peer.bytes == 1048576 && x.peer.pattern_ok, "eof %d bytes %zu", x.peer.eof,
          x.peer.bytes);
    CHECK(x.delta.out_rsts == 0, "OutRsts %ld", x.delta.out_rsts);
    case_end();
}

/* One client process: `rounds` connections in turn, each checking its
 * reply and sending more after it; exits with the number of bad replies. */
static void epoll_client(int id, int rounds)
{
    int bad = 0;
    for (int round = 0; round < rounds; round++) {
        char req[600], reply[64], want[32];
        int fd = peer_connect(4, 5000), tag = id * 1000 + round;
        memset(req, 'p', sizeof req);
        int len = snprintf(req, sizeof req, "REQ %d\n", tag);
        req[len] = 'p';
        peer_send(fd, req, sizeof req);
        size_t got = 0;
        while (got < sizeof reply - 1) {
            ssize_t n = recv(fd, reply + got, 1, 0);
            if (n <= 0 || reply[got++] == '\n')
                break;
        }
        reply[got] = '\0';
        snprintf(want, sizeof want, "REP %d\n", tag);
        bad += strcmp(reply, want) != 0;
        for (int k = 0; k < 3; k++) /* keep the lingering socket busy */
            if (send(fd, req, 200, MSG_NOSIGNAL) < 0)
                break;
        struct peer_result r = peer_read_all(fd, 3000);
        bad += !r.eof;
        close(fd);
    }
    _exit(bad > 255 ? 255 : bad);
}

static void epoll_reuse(void)
{
    enum { CLIENTS = 16, ROUNDS = 25 };
    struct proc server;
    struct counters before;
    char total[16];
    const char *env[] = {"NORST_ASYNC=1", NULL};
    const char *argv[] = {"./tests/progs/epollsrv", total, "5000", NULL};
    pid_t pids[CLIENTS];
    int bad = 0;

    snprintf(total, sizeof total, "%d", CLIENTS * ROUNDS);
    case_begin("async: an epoll server reusing fd numbers under load never sees an old socket");
    counters_read(&before);
    proc_start(&server, 1, env, argv, 1);
    for (int c = 0; c < CLIENTS; c++)
        if ((pids[c] = fork()) == 0)
            epoll_client(c, ROUNDS);
    for (int c = 0; c < CLIENTS; c++) {
        int status;
        waitpid(pids[c], &status, 0);
        bad += WIFEXITED(status) ? WEXITSTATUS(status) : 1000;
    }
    CHECK(proc_finish(&server, 10000) == 0, "server: %s", server.err);
    struct counters delta = counters_since(&before);
    CHECK(bad == 0, "%d wrong replies or missing EOFs", bad);
    CHECK(contains(server.out, "spurious=0 crossed=0"), "server: %s", server.out);
    CHECK(number_after(server.out, "served=") == CLIENTS * ROUNDS, "server: %s", server.out);
    CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    case_end();
}

static void fork_and_exec(void)
{
    struct exchange x;
    const char *env[] = {"NORST_ASYNC=1", "NORST_LINGER_MS=1000", "NORST_LOG=stderr", NULL};

    case_begin("async fork: the child holds none of the lingering sockets");
    exchange_run(&x, 1, env, 4, "accept queued:10 read:1 close fork-list", 10);
    CHECK(contains(x.server.out, "child-sockets=1\n"), "child (the listener is 1): %s", x.server.out);
    case_end();

    case_begin("async exec: nothing of the shim is open in the new image");
    const char *sync_env[] = {"NORST_LINGER_MS=1000", NULL};
    static struct exchange plain;
    exchange_run(&plain, 1, sync_env, 4, "accept queued:10 read:10 close exec-list", 10);
    exchange_run(&x, 1, env, 4, "accept queued:10 read:1 close exec-list", 10);
    CHECK(count_of(x.server.out, "socket:[") == 1, "sockets other than the listener: %s", x.server.out);
    CHECK(count_of(x.server.out, " -> ") == count_of(plain.server.out, " -> ") &&
              count_of(x.server.out, "pipe:[") == count_of(plain.server.out, "pipe:[") &&
              !contains(x.server.out, "eventpoll"),
          "fds in the exec'd image, async:\n%s\nsync:\n%s", x.server.out, plain.server.out);
    case_end();
}

static void exit_and_cap(const char *cap, int expect_slow)
{
    char name[128];
    struct proc server;
    struct counters before;
    struct timespec start;
    const char *env[] = {"NORST_ASYNC=1", "NORST_LINGER_MS=300", "NORST_LOG=stderr", cap, NULL};
    const char *argv[] = {"./tests/progs/manyconn", "8", "close", "5000", NULL};
    int fds[8], eofs = 0;

    snprintf(name, sizeof name, "async exit: 8 silent peers, %s: %s", cap,
             expect_slow ? "the rest close after a first look, not waiting" : "one shared bound");
    case_begin(name);
    counters_read(&before);
    proc_start(&server, 1, env, argv, 1);
    for (int i = 0; i < 8; i++) {
        fds[i] = peer_connect(4, 5000);
        peer_send_pattern(fds[i], 10);
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK(proc_finish(&server, 10000) == 0, "server: %s", server.err);
    long ms = elapsed_ms_since(&start);
    for (int i = 0; i < 8; i++) {
        eofs += peer_read_all(fds[i], 2000).eof;
        close(fds[i]);
    }
    struct counters delta = counters_since(&before);
    CHECK(eofs == 8 && delta.out_rsts == 0, "%d EOFs, OutRsts %ld", eofs, delta.out_rsts);
    /* With room for 2, the other closes may wait only NORST_BLOCK_MS (0):
     * the rest of their bound is not the caller's to pay. */
    CHECK(count_of(server.err, "outcome=time-bound") == (expect_slow ? 2 : 8), "log: %s", server.err);
    CHECK(count_of(server.err, "outcome=block-bound") == (expect_slow ? 6 : 0), "log: %s", server.err);
    CHECK(ms >= 250 && ms < 1500, "exit after %ld ms: one shared 300 ms bound expected", ms);
    case_end();
}

static void fd_limit(void)
{
    struct proc server;
    const char *env[] = {"NORST_ASYNC=1", "NORST_LINGER_MS=5000", "NORST_LOG=stderr", NULL};
    const char *argv[] = {"/bin/sh", "-c", "ulimit -n 48 && exec ./tests/progs/limitsrv 10 14 5000", NULL};
    int fds[24];

    case_begin("async at the fd limit: the application's accept never fails because of the reaper");
    proc_start(&server, 1, env, argv, 1);
    for (int i = 0; i < 24; i++) {
        fds[i] = peer_connect(4, 5000);
        peer_send_pattern(fds[i], i < 10 ? 10 : 0);
    }
    CHECK(proc_finish(&server, 20000) == 0, "server: %s", server.err);
    for (int i = 0; i < 24; i++)
        close(fds[i]);
    CHECK(contains(server.out, "accept-failures=0"), "server: %s %s", server.out, server.err);
    CHECK(contains(server.err, "outcome=evicted"), "no socket was given back: %s", server.err);
    case_end();
}

static void thread_is_lazy_and_deaf(void)
{
    struct exchange x;
    struct proc shell;
    const char *env[] = {"NORST_ASYNC=1", NULL};
    const char *no_sockets[] = {"/bin/sh", "-c", "ls /proc/$$/task | wc -l", NULL};

    case_begin("async reaper: no thread in a program that makes no socket");
    proc_start(&shell, 1, env, no_sockets, 0);
    CHECK(proc_finish(&shell, 5000) == 0 && atoi(shell.out) == 1, "threads: %s", shell.out);
    case_end();

    /* Nothing lingers: the reaper waits for a wake-up with no timeout, even
     * when the bound (its longest wait once something lingers) is 0. */
    const char *zero_bound[] = {"NORST_ASYNC=1", "NORST_LINGER_MS=0", NULL};
    case_begin("async reaper, NORST_LINGER_MS=0: no CPU while nothing lingers");
    exchange_run(&x, 1, zero_bound, 4, "accept queued:10 read:1 close sleep:1000 cputime", 10);
    long cpu_ms = number_after(x.server.out, "cpu_ms=");
    CHECK(cpu_ms >= 0 && cpu_ms < 300, "%ld ms of CPU in a 1 s sleep: %s", cpu_ms, x.server.out);
    CHECK(x.delta.out_rsts == 0, "OutRsts %ld", x.delta.out_rsts);
    case_end();

    case_begin("async reaper: one thread once sockets exist, every signal blocked");
    struct proc server;
    closer_start(&server, 1, env, 4, "accept queued:10 read:1 close sleep:100 threads");
    int fd = peer_connect(4, 5000);
    peer_send_pattern(fd, 10);
    peer_read_all(fd, 3000);
    sleep_ms(50); /* a FIN at once would let the close finish in place, with no thread */
    close(fd);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    CHECK(contains(server.out, "threads=2"), "%s", server.out);
    const char *mask = strstr(server.out, "thread-sigblk=");
    unsigned long long blocked = mask ? strtoull(mask + 14, NULL, 16) : 0;
    int wanted[] = {SIGINT, SIGTERM, SIGALRM, SIGUSR1, SIGPIPE, SIGCHLD, SIGHUP, SIGIO};
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++)
        CHECK(blocked & (1ULL << (wanted[i] - 1)), "signal %d not blocked: %s", wanted[i], server.out);
    case_end();
}

int main(void)
{
    returns_at_once();
    starts_at_next_call();
    reply_and_seed();
    epoll_reuse();
    fork_and_exec();
    exit_and_cap("NORST_MAX_LINGER=4096", 0);
    exit_and_cap("NORST_MAX_LINGER=2", 1);
    fd_limit();
    thread_is_lazy_and_deaf();
    return harness_done();
}
