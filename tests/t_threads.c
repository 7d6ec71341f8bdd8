/* A process that never lingers must never have a thread; one that does
 * must still be able to unshare(CLONE_NEWUSER), which the kernel refuses a
 * multi-threaded process: the reaper's thread ends first, and comes back
 * when a socket lingers again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void clean_closes_no_thread(void)
{
    struct exchange x;
    const char *env[] = {NULL};

    /* Closed once the peer is quiet: a peer that sent a moment ago may have
     * more on the way, and that close lingers (t_in_flight, t_modes). */
    case_begin("default: a socket made, read and closed cleanly: the process has one thread");
    exchange_run(&x, 1, env, 4, "accept read:10 sleep:100 close threads", 10);
    CHECK(contains(x.server.out, "threads=1"), "%s", x.server.out);
    CHECK(x.peer.eof && x.delta.out_rsts == 0, "eof %d OutRsts %ld", x.peer.eof, x.delta.out_rsts);
    case_end();
}

/* The first socket that needs the thread starts it, in its close; unless
 * that close runs in a signal handler: pthread_create there could wait
 * forever on a lock the interrupted code holds. Then nothing is handed
 * off: the close does what it can at once (our FIN, what is queued read)
 * and closes, as with no thread (outcome block-bound). A blocked signal
 * alone is not a handler: threads that block signals on purpose get the
 * thread once a walk of their stack finds no handler's frame. */
static void thread_from(const char *program, const char *script, long threads_after,
                        const char *expect_log)
{
    struct proc server;
    struct counters before;
    char path[64], status[4096], name[160];
    const char *env[] = {"NORST_LINGER_MS=3000", "NORST_LOG=stderr", NULL};

    snprintf(name, sizeof name, "default: %s \"%s\": %ld thread(s) after the lingering close, "
             "the socket drained", program + strlen("./tests/progs/"), script, threads_after);
    case_begin(name);
    counters_read(&before);
    closer_program_start(&server, program, 1, env, 4, script);
    int fd = peer_connect(4, 5000);
    peer_send_pattern(fd, 10);
    struct peer_result r = peer_read_all(fd, 3000); /* our FIN: the handoff is done */
    /* The close has returned, and a closing thread of the script's is gone. */
    proc_wait_output(&server, contains(script, "threadclose") ? "joined" : "close=", 3000);
    sleep_ms(50);
    snprintf(path, sizeof path, "/proc/%d/status", (int)server.pid);
    read_text_file(path, status, sizeof status);
    close(fd);
    CHECK(proc_finish(&server, 10000) == 0, "server: %s", server.err);
    struct counters delta = counters_since(&before);
    CHECK(r.eof && !r.reset, "eof %d reset %d", r.eof, r.reset);
    CHECK(number_after(status, "Threads:") == threads_after, "Threads: %ld",
          number_after(status, "Threads:"));
    CHECK(contains(server.err, expect_log), "log: %s", server.err);
    CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    case_end();
}

static void thread_from_close(const char *script, long threads_after, const char *expect_log)
{
    thread_from("./tests/progs/closer", script, threads_after, expect_log);
}

static void unshare_after_linger(void)
{
    struct proc server;
    struct counters before;
    const char *env[] = {"NORST_LINGER_MS=3000", "NORST_LOG=stderr", NULL};

    case_begin("default: unshare(CLONE_NEWUSER) after a lingering close succeeds; the next close still drains");
    counters_read(&before);
    closer_start(&server, 1, env, 4,
                 "accept queued:10 read:1 close threads sleep:200 unshare threads "
                 "accept queued:10 read:1 close threads");
    for (int round = 0; round < 2; round++) {
        int fd = peer_connect(4, 5000);
        peer_send_pattern(fd, 10);
        struct peer_result r = peer_read_all(fd, 3000);
        CHECK(r.eof && !r.reset, "connection %d: eof %d reset %d", round + 1, r.eof, r.reset);
        sleep_ms(100); /* a FIN at once would finish the close in place, threadless */
        close(fd);
    }
    CHECK(proc_finish(&server, 10000) == 0, "server: %s", server.err);
    struct counters delta = counters_since(&before);
    CHECK(contains(server.out, "unshare=0 errno=0"), "%s", server.out);
    /* the reaper, none after unshare, the reaper again */
    const char *first = strstr(server.out, "threads="), *second = first ? strstr(first + 1, "threads=") : NULL;
    const char *third = second ? strstr(second + 1, "threads=") : NULL;
    CHECK(first && second && third && atoi(first + 8) == 2 && atoi(second + 8) == 1 && atoi(third + 8) == 2,
          "%s%s", server.out, server.err);
    CHECK(count_of(server.err, "action=drain outcome=peer-eof") == 2, "log: %s", server.err);
    CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    case_end();
}

int main(void)
{
    clean_closes_no_thread();
    thread_from_close("accept queued:10 read:1 close sleep:500", 2, "action=drain outcome=peer-eof");
    thread_from_close("crashhandler accept queued:10 read:1 close sleep:500", 2,
                      "action=drain outcome=peer-eof");
    thread_from_close("sigblock accept queued:10 read:1 close sleep:500", 2,
                      "action=drain outcome=peer-eof");
    thread_from_close("sigblockall accept queued:10 read:1 close sleep:500", 2,
                      "action=drain outcome=peer-eof");
    thread_from_close("accept queued:10 read:1 threadclose sleep:500", 2,
                      "action=drain outcome=peer-eof");
    thread_from_close("accept queued:10 read:1 handlerclose sleep:500", 1,
                      "action=drain outcome=block-bound drained=9");
    thread_from_close("accept queued:10 read:1 handlerclose-nodefer sleep:500", 1,
                      "action=drain outcome=block-bound drained=9");
    thread_from_close("accept queued:10 read:1 handlerclose-reset sleep:500", 1,
                      "action=drain outcome=block-bound drained=9");
    /* Frames without unwind tables (as a JIT compiler's code has none): the
     * walk cannot reach the stack's first frame, the doubt stays. */
    thread_from("./tests/progs/closer-notables", "sigblock accept queued:10 read:1 close sleep:500",
                1, "action=drain outcome=block-bound drained=9");
    unshare_after_linger();
    return harness_done();
}
