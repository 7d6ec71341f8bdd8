/* Holders of a socket that the sharing check must not miss, and the cost of
 * looking for them: a child it may not read, an io_uring ring, a process
 * whose main thread has ended, two fds of one socket closed together, a PID
 * namespace whose /proc is the parent's, and a bounded scan. Each server
 * ends with 5 of the client's 10 request bytes unread. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static const char *const log_env[] = {"NORST_LOG=stderr", NULL};

/* The server said "SKIP reason": the current case is skipped. */
static int skipped(const struct exchange *x)
{
    char why[160];
    const char *skip = strstr(x->server.out, "SKIP ");
    if (!skip)
        return 0;
    snprintf(why, sizeof why, "%.*s", (int)strcspn(skip + 5, "\n"), skip + 5);
    case_skip(why);
    case_end();
    return 1;
}

static void run_unseen(struct exchange *x, const char *mode)
{
    const char *argv[] = {"./tests/progs/unseen", mode, "5000", NULL};
    exchange_run_argv(x, 1, log_env, argv, 4, 10);
}

static int reply_ok(const struct exchange *x)
{
    return x->peer.bytes == 1005 && x->peer.pattern_ok;
}

static struct exchange x;

/* The other holder's reply arrived whole, and the first close was skipped
 * with this ending of its log line. */
static void check_skipped_close(const char *skip_line)
{
    CHECK(reply_ok(&x), "peer got %zu bytes, pattern %d; server: %s", x.peer.bytes,
          x.peer.pattern_ok, x.server.err);
    CHECK(contains(x.server.err, skip_line), "%s", x.server.err);
}

/* No reset: the last close drained, on this path. */
static void check_drained_on(const char *path)
{
    CHECK(x.delta.out_rsts == 0 && x.delta.abort_on_close == 0 && x.peer.eof,
          "OutRsts %ld AbortOnClose %ld eof %d; server: %s", x.delta.out_rsts,
          x.delta.abort_on_close, x.peer.eof, x.server.err);
    CHECK(contains(x.server.err, path), "%s", x.server.err);
}

static void unreadable_child(void)
{
    case_begin("a child the parent may not read still serves after the parent's close");
    run_unseen(&x, "nodump");
    if (skipped(&x))
        return;
    check_skipped_close("unread=10 action=skip-shared outcome=none drained=0 ms=0 "
                                 "rst=possible shared=holder-unreadable");
    case_end();
}

static void uring_fixed_file(void)
{
    case_begin("io_uring fixed file: the ring still sends after the plain fd's close");
    run_unseen(&x, "uring");
    if (skipped(&x))
        return;
    CHECK(contains(x.server.err, "uring: send=1005"), "%s", x.server.err);
    check_skipped_close("action=skip-shared outcome=none drained=0 ms=0 rst=none "
                                 "shared=io-uring");
    case_end();
}

static void main_thread_gone(void)
{
    run_unseen(&x, "ptexit-dup");
    case_begin("main thread ended: closing one of two fds leaves the request to the other");
    check_skipped_close("unread=10 action=skip-shared outcome=none drained=0 ms=0 "
                                 "rst=none shared=another-fd");
    case_end();

    case_begin("main thread ended: exit() from a worker drains what it leaves open");
    CHECK(x.server_status == 0, "status %d", x.server_status);
    check_drained_on("path=exit");
    case_end();

    run_unseen(&x, "child-ptexit");
    case_begin("a child whose main thread ended still holds the socket the parent closes");
    check_skipped_close("unread=10 action=skip-shared outcome=none drained=0 ms=0 "
                                 "rst=none shared=another-process");
    case_end();

    run_unseen(&x, "ptexit-closefrom");
    case_begin("main thread ended: closefrom() from a worker drains");
    check_drained_on("path=closefrom");
    case_end();
}

static void closed_together(const char *mode, const char *title, const char *path)
{
    run_unseen(&x, mode);
    case_begin(title);
    CHECK(reply_ok(&x), "peer got %zu bytes; server: %s", x.peer.bytes, x.server.err);
    check_drained_on(path);
    CHECK(contains(x.server.err, "action=drain outcome=peer-eof"), "%s", x.server.err);
    CHECK(count_of(x.server.err, path) == 1, "one decision per socket: %s", x.server.err);
    case_end();
}

static void scm_receiver_gone(void)
{
    case_begin("SCM_RIGHTS receiver closed first: the sender's close is not logged rst=none");
    run_unseen(&x, "scm-gone");
    CHECK(x.delta.abort_on_close == 1, "AbortOnClose %ld; %s", x.delta.abort_on_close,
          x.server.err);
    CHECK(contains(x.server.err, "unread=10 action=skip-shared outcome=none drained=0 ms=0 "
                                 "rst=possible shared=passed-with-scm-rights"),
          "%s", x.server.err);
    case_end();
}

static void foreign_proc(void)
{
    const char *argv[] = {"./tests/progs/pidns", "./tests/progs/closer", "5000", "accept",
                          "fork-list", "queued:10", "read:5", "close", NULL};
    case_begin("PID namespace with the parent's /proc: the close finds itself, never logs a "
               "reset away");
    exchange_run_argv(&x, 1, log_env, argv, 4, 10);
    if (skipped(&x))
        return;
    CHECK(contains(x.server.out, "close=0"), "%s", x.server.out);
    if (contains(x.server.err, "action=drain")) {
        CHECK(x.delta.out_rsts == 0 && x.peer.eof, "OutRsts %ld; server: %s", x.delta.out_rsts,
              x.server.err);
    } else {
        CHECK(contains(x.server.err, "rst=possible"), "%s", x.server.err);
    }
    CHECK(!(contains(x.server.err, "rst=none") && x.delta.out_rsts > 0), "OutRsts %ld; %s",
          x.delta.out_rsts, x.server.err);
    case_end();
}

static double median_of(const char *out)
{
    double median = 1e9;
    const char *m = strstr(out, "median=");
    if (m)
        sscanf(m, "median=%lf", &median);
    return median;
}

static void scan_cost(void)
{
    static struct proc p;
    /* own /proc: the host's processes started since would be unreadable
     * possible holders, and the answer "unknown" rather than a drain */
    const char *argv[] = {"./tests/progs/pidns", "-own", "./tests/progs/scancost", "300", "100",
                          "5", NULL};
    case_begin("close after a fork with 300 processes x 100 fds stays cheap");
    proc_start(&p, 1, log_env, argv, 0);
    CHECK(proc_finish(&p, 60000) == 0, "%s", p.err);
    CHECK(median_of(p.out) < 40, "%s", p.out);
    CHECK(contains(p.err, "action=drain"), "%s", p.err);
    case_end();

    /* 300 x 200 fd links are past the work bound whatever the machine */
    const char *untracked[] = {"./tests/progs/pidns", "-own", "./tests/progs/scancost", "300",
                               "200", "5", "untracked", NULL};
    case_begin("a socket of unknown birth: the scan stops at its bound and does nothing");
    proc_start(&p, 1, log_env, untracked, 0);
    CHECK(proc_finish(&p, 60000) == 0, "%s", p.err);
    CHECK(median_of(p.out) < 60, "%s", p.out);
    CHECK(!contains(p.err, "action=drain") && contains(p.err, "rst=possible"), "%s", p.err);
    case_end();
}

int main(void)
{
    unreadable_child();
    uring_fixed_file();
    main_thread_gone();
    closed_together("inetd-exit", "inetd style: fds 0 and 1 of one socket closed by exit drain once",
                    "path=exit");
    closed_together("dup-closefrom", "closefrom over a dup pair drains once", "path=closefrom");
    scm_receiver_gone();
    foreign_proc();
    scan_cost();
    return harness_done();
}
