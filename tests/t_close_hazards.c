/* Closes the library used to make worse than without it: SO_LINGER {1,N}
 * (a drained close then waited N s, in close() or in the reaper under its
 * lock), a thread cancelled while its close drained (the fd leaked), and a
 * close after the application's own shutdown(SHUT_RD) (the drain read its
 * own EOF and left the peer stuck on a closed window). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "harness.h"

static void start_holders(struct proc *p, const char *const *env, const char *scenario)
{
    const char *argv[] = {"./tests/progs/holders", scenario, NULL};
    proc_start(p, 1, env, argv, 1);
}

/* The peer sends its request and its FIN, then reads nothing for 2.5 s:
 * our data and FIN cannot all leave, so a lingering close would wait. */
static void so_linger(const char *mode, const char *const *env)
{
    char name[128];
    struct proc p;
    snprintf(name, sizeof name, "SO_LINGER {1,5}: a drained close neither blocks nor holds a fork (%s)", mode);
    case_begin(name);
    start_holders(&p, env, "linger-close");
    int fd = peer_connect(4, 5000);
    peer_send_pattern(fd, 100);
    shutdown(fd, SHUT_WR);
    proc_wait_output(&p, "fork-ms=", 9000);
    sleep_ms(200);
    struct peer_result r = peer_read_all(fd, 8000);
    close(fd);
    int status = proc_finish(&p, 9000);
    CHECK(status == 0, "status %d: %s %s", status, p.out, p.err);
    CHECK(number_after(p.out, "close-ms=") >= 0 && number_after(p.out, "close-ms=") < 1000,
          "%s", p.out);
    CHECK(number_after(p.out, "fork-ms=") >= 0 && number_after(p.out, "fork-ms=") < 1000, "%s", p.out);
    CHECK(r.eof && !r.reset, "peer: %zu bytes eof %d reset %d", r.bytes, r.eof, r.reset);
    case_end();
}

/* The peer never closes: the close drains until the cancel comes. */
static void cancel(void)
{
    static const char *const env[] = {"NORST_LOG=stderr", NULL};
    struct proc p;
    case_begin("pthread_cancel during a draining close(): the fd is closed all the same");
    start_holders(&p, env, "cancel-close");
    int fd = peer_connect(4, 5000);
    peer_send_pattern(fd, 100);
    proc_wait_output(&p, "closed=", 5000);
    close(fd);
    int status = proc_finish(&p, 5000);
    CHECK(status == 0, "status %d: %s %s", status, p.out, p.err);
    CHECK(number_after(p.out, "closed=") == 1, "%s", p.out);
    case_end();
}

/* The peer uploads without pause. Returns ms until its send failed, or -1
 * if it was still stuck after 4 s. */
static long upload_until_failure(int fd)
{
    static char chunk[65536];
    struct timespec start;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (elapsed_ms_since(&start) < 4000) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        poll(&pfd, 1, 100);
        ssize_t n = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN)
            return elapsed_ms_since(&start);
    }
    return -1;
}

static void read_side_shut(const char *mode, const char *const *env, int with_shim)
{
    char name[128];
    struct proc p;
    snprintf(name, sizeof name,
             "shutdown(SHUT_RDWR) then close: an uploading client fails fast, not hangs (%s)", mode);
    case_begin(name);
    const char *argv[] = {"./tests/progs/holders", "shutrd-close", NULL};
    struct counters before;
    counters_read(&before);
    proc_start(&p, with_shim, env, argv, 1);
    int fd = peer_connect(4, 5000);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long failed_after = upload_until_failure(fd);
    close(fd);
    int status = proc_finish(&p, 5000);
    struct counters delta = counters_since(&before);
    CHECK(status == 0, "status %d: %s %s", status, p.out, p.err);
    CHECK(failed_after >= 0, "the upload was still stuck 4 s after the server's close: %s %s", p.out,
          p.err);
    /* The close itself resets, as without the library: not a FIN that the
     * next zero-window probe turns into an abort on data. */
    CHECK(delta.abort_on_close == 1 && delta.abort_on_data == 0, "AbortOnClose %ld AbortOnData %ld",
          delta.abort_on_close, delta.abort_on_data);
    if (with_shim)
        CHECK(contains(p.err, "action=skip-read-shut") && contains(p.err, "rst=sent"), "log: %s", p.err);
    case_end();
}

int main(void)
{
    static const char *const sync_env[] = {"NORST_LOG=stderr", NULL};
    static const char *const async_env[] = {"NORST_LOG=stderr", "NORST_ASYNC=1", NULL};
    so_linger("sync", sync_env);
    so_linger("async", async_env);
    cancel();
    read_side_shut("without the library", sync_env, 0);
    read_side_shut("sync", sync_env, 1);
    read_side_shut("async", async_env, 1);
    return harness_done();
}
