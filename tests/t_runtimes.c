/* Unmodified servers in real runtimes (Python, Perl, Node.js, and Java
 * where the machine has it) read part of a request, answer ERROR and close:
 * without the shim the kernel resets the connection (TCPAbortOnClose), with
 * it the client reads ERROR and an orderly EOF, and the kernel counts no
 * RST. Node's libuv closes with syscall(SYS_close); Java shuts down its
 * write side before close(), which does not stop the reset unless the
 * peer's own FIN came back in between: so the client keeps its end open
 * until the server has exited. A runtime that is not installed is reported
 * and skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

struct runtime {
    const char *name, *probe;
    const char *argv[6];
    size_t request; /* Node reads 64 KB at a time: send more than that */
};

/* The request, as much of it as the server takes before it closes. */
static void send_request(int fd, size_t len)
{
    char buf[4096];
    for (size_t off = 0; off < len; off += sizeof buf) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = (char)pattern_byte(off + i);
        if (send(fd, buf, len - off < sizeof buf ? len - off : sizeof buf, MSG_NOSIGNAL) < 0)
            return;
    }
}

static void run(const struct runtime *rt, int with_shim)
{
    char name[96];
    struct proc server;
    struct counters before;
    const char *env[] = {"NORST_LINGER_MS=500", NULL};

    snprintf(name, sizeof name, "%s server closing with unread data, %s", rt->name,
             with_shim ? "with shim" : "without shim");
    case_begin(name);
    counters_read(&before);
    proc_start(&server, with_shim, env, rt->argv, 0);
    CHECK(proc_wait_output(&server, "listening on port", 60000), "%s did not start", rt->name);
    int fd = peer_connect(4, 5000);
    send_request(fd, rt->request);
    char reply[16] = {0};
    ssize_t got = recv(fd, reply, 6, MSG_WAITALL);
    CHECK(proc_finish(&server, 30000) == 0, "server: %s", server.err);
    struct peer_result rest = peer_read_all(fd, 10000);
    close(fd);
    struct counters delta = counters_since(&before);

    if (with_shim) {
        CHECK(got == 6 && strcmp(reply, "ERROR\n") == 0, "reply %zd bytes: %s", got, reply);
        CHECK(rest.eof && !rest.reset, "after the reply: eof %d reset %d", rest.eof, rest.reset);
        CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    } else {
        /* Unread bytes at the close (AbortOnClose), or, when the server had
         * read all that was there and closed before the client's next
         * bytes came, those bytes meeting the closed socket (AbortOnData):
         * either way the kernel resets the connection. */
        CHECK(delta.abort_on_close + delta.abort_on_data >= 1, "AbortOnClose %ld AbortOnData %ld",
              delta.abort_on_close, delta.abort_on_data);
    }
    case_end();
}

int main(void)
{
    static const struct runtime runtimes[] = {
        {"Python", "python3 --version", {"/usr/bin/env", "python3", "../tests/runtimes/server.py", NULL}, 1000},
        {"Perl", "perl -MIO::Socket::INET -e 1", {"/usr/bin/env", "perl", "../tests/runtimes/server.pl", NULL}, 1000},
        {"Node.js", "node --version", {"/usr/bin/env", "node", "../tests/runtimes/server.js", NULL}, 1 << 20},
        {"Java", "java -version", {"/usr/bin/env", "java", "../tests/runtimes/Server.java", NULL}, 1000},
    };
    for (size_t i = 0; i < sizeof runtimes / sizeof runtimes[0]; i++) {
        char probe[128];
        snprintf(probe, sizeof probe, "%s >/dev/null 2>&1", runtimes[i].probe);
        if (system(probe) != 0) {
            printf("    skipped: %s is not installed\n", runtimes[i].name);
            continue;
        }
        run(&runtimes[i], 0);
        run(&runtimes[i], 1);
    }
    return harness_done();
}
