/* Data in flight at the instant of a close, the common real case:
 *  - a server at its connection limit answers a new client with an error
 *    and closes at once, while the client's first command is on its way:
 *    with nothing unread at the close, drain mode still lingers, because
 *    the peer sent (here: connected) a moment ago (classify.c,
 *    peer_activity), and no client is reset;
 *  - a client gives up on a download and closes with the rest unread: the
 *    library lingers, but a peer that streams without end is stopped once
 *    it holds our FIN (FIN_WAIT2) and NORST_MAX_BYTES has passed, within a
 *    small bound of bytes and time, as without the library it is stopped
 *    by the reset; and the close itself does not wait. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"

#define CLIENTS 20

/* "-ERR max number of clients reached\r\n" is 36 bytes: write:36 */
static int limit_round(int with_shim)
{
    struct proc server;
    const char *env[] = {NULL};
    closer_start(&server, with_shim, env, 4, "accept write:36 close sleep:300");
    int fd = peer_connect(4, 5000);
    peer_send(fd, "PING\r\n", 6);
    struct peer_result r = peer_read_all(fd, 3000);
    close(fd);
    proc_finish(&server, 5000);
    return r.reset || r.bytes != 36;
}

static void server_at_its_limit(void)
{
    struct counters before;
    int lost_without = 0, lost_with = 0;

    case_begin("server at its limit: 20 clients whose command arrives around the close, none reset");
    counters_read(&before);
    for (int i = 0; i < CLIENTS; i++)
        lost_without += limit_round(0);
    struct counters without = counters_since(&before);
    counters_read(&before);
    for (int i = 0; i < CLIENTS; i++)
        lost_with += limit_round(1);
    struct counters with = counters_since(&before);
    printf("without the library: %d of %d clients lost the reply, OutRsts %ld\n", lost_without,
           CLIENTS, without.out_rsts);
    printf("with it: %d lost, OutRsts %ld AbortOnData %ld AbortOnClose %ld\n", lost_with,
           with.out_rsts, with.abort_on_data, with.abort_on_close);
    CHECK(lost_without > 0, "the case did not happen without the library: %d lost", lost_without);
    CHECK(lost_with == 0 && with.out_rsts == 0, "%d clients lost the reply, OutRsts %ld", lost_with,
          with.out_rsts);
    case_end();
}

/* The client: a command, then more while the server answers, shuts its
 * side and closes (the server reads what is queued first: nothing is
 * unread at its close); then our FIN, and the rest of the reply. */
static int shut_first_round(int with_shim, const char *const *env, char *log, size_t log_len)
{
    struct proc server;
    char drip[512];
    memset(drip, 'x', sizeof drip);
    closer_start(&server, with_shim, env, 4, "accept read:6 write:36 shutwr readq close sleep:300");
    int fd = peer_connect(4, 5000);
    peer_send(fd, "PING\r\n", 6);
    int reset = 0;
    for (int i = 0; i < 40 && !reset; i++) {
        if (send(fd, drip, sizeof drip, MSG_NOSIGNAL) < 0)
            reset = 1;
        sleep_ms(5);
    }
    shutdown(fd, SHUT_WR);
    struct peer_result r = peer_read_all(fd, 3000);
    close(fd);
    proc_finish(&server, 5000);
    size_t n = strnlen(server.err, log_len - 1);
    memcpy(log, server.err, n);
    log[n] = '\0';
    return reset || r.reset || r.bytes != 36;
}

static void shut_before_close(void)
{
    struct counters before;
    char log[4096];
    const char *env[] = {"NORST_LOG=stderr", NULL};
    int lost_without = 0, lost_with = 0;

    case_begin("server shuts its write side, then closes with nothing unread while the client "
               "still sends: not reset");
    counters_read(&before);
    for (int i = 0; i < 3; i++)
        lost_without += shut_first_round(0, env, log, sizeof log);
    counters_read(&before);
    for (int i = 0; i < 3; i++)
        lost_with += shut_first_round(1, env, log, sizeof log);
    struct counters with = counters_since(&before);
    CHECK(lost_without > 0, "the case did not happen without the library");
    CHECK(lost_with == 0 && with.out_rsts == 0, "%d of 3 reset, OutRsts %ld; last log: %s", lost_with,
          with.out_rsts, log);
    CHECK(contains(log, "action=drain outcome=peer-eof"), "last log: %s", log);
    case_end();
}

struct stream_result {
    long long sent;      /* bytes the server sent in all */
    struct timespec end; /* when its send failed (CLOCK_MONOTONIC) */
};

/* The server side, in a child: stream until a send fails (or 20 s), then
 * report how much went out and when it failed. */
static void stream_server(int listen_fd, int report)
{
    static char chunk[65536];
    struct timespec start;
    int fd = accept(listen_fd, NULL, NULL);
    struct stream_result r = {0, {0, 0}};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        ssize_t n = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || elapsed_ms_since(&start) > 20000)
            break;
        r.sent += n;
    }
    clock_gettime(CLOCK_MONOTONIC, &r.end);
    if (write(report, &r, sizeof r) != sizeof r)
        _exit(1);
    _exit(0);
}

static void download_abort(int with_shim)
{
    char name[128];
    int report[2];
    struct proc client;
    const char *env[] = {"NORST_LOG=stderr", NULL};
    const char *argv[] = {"./tests/progs/aborter", "127.0.0.1", "5001", "1048576", "3000", NULL};

    snprintf(name, sizeof name, "download given up after 1 MB, the server streams on: %s",
             with_shim ? "with the library, stopped within bytes and time" : "without it (the reset stops it)");
    case_begin(name);
    int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(5001),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(listen_fd, 1) < 0 ||
        pipe(report) < 0) {
        CHECK(0, "set-up: %s", strerror(errno));
        case_end();
        return;
    }
    pid_t server = fork();
    if (server == 0)
        stream_server(listen_fd, report[1]);
    close(listen_fd);
    proc_start(&client, with_shim, env, argv, 0);
    proc_wait_output(&client, "close=", 10000);
    struct timespec closed; /* a moment after the client's close */
    clock_gettime(CLOCK_MONOTONIC, &closed);
    struct stream_result r = {-1, {0, 0}};
    if (read(report[0], &r, sizeof r) != sizeof r)
        CHECK(0, "no report from the server");
    long stop_ms = (r.end.tv_sec - closed.tv_sec) * 1000L + (r.end.tv_nsec - closed.tv_nsec) / 1000000L;
    long long after = r.sent - (1LL << 20); /* what the client never read */
    waitpid(server, NULL, 0);
    proc_finish(&client, 10000);
    long ms = number_after(client.out, "ms=");
    printf("%s: close took %ld ms; the server sent %lld bytes the client never read, and its send "
           "failed %ld ms after the close\n", with_shim ? "with" : "without", ms, after, stop_ms);
    CHECK(ms >= 0 && ms < 100, "close took %ld ms: %s", ms, client.out);
    /* the client's output is seen a moment after its close: a failure
     * before that shows as a few ms below 0 */
    CHECK(stop_ms > -100 && stop_ms < 2000, "the server's send failed %ld ms after the close",
          stop_ms);
    /* 16 MiB of NORST_MAX_BYTES, plus what both socket buffers held */
    CHECK(after < 48LL << 20, "%lld bytes the client never read", after);
    if (with_shim)
        CHECK(contains(client.err, "outcome=byte-bound drained=16777216"), "log: %s", client.err);
    close(report[0]);
    close(report[1]);
    case_end();
}

int main(void)
{
    server_at_its_limit();
    shut_before_close();
    download_abort(0);
    download_abort(1);
    return harness_done();
}
