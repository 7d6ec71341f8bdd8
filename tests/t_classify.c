/* What the receive queue holds decides whether close() resets; the shim
 * asks SO_MEMINFO first (is anything queued at all) and FIONREAD only then.
 * A lone FIN is queued memory but no unread byte: __tcp_close() subtracts
 * it, so the close sends a FIN, and the shim must leave that close alone. */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static void lone_fin(int with_shim)
{
    static const char *const env[] = {"NORST_LOG=stderr", NULL};
    char name[96];
    struct proc server;
    struct counters before;
    snprintf(name, sizeof name, "the peer's FIN left unread, %s: no RST, nothing to do",
             with_shim ? "with shim" : "without shim");
    case_begin(name);
    counters_read(&before);
    /* The server reads the 10 bytes, never the EOF. The FIN comes after
     * they were read, so it is an skb of its own (one that came with the
     * bytes would be eaten together with them). */
    closer_start(&server, with_shim, env, 4, "accept queued:10 read:10 sleep:300 write:5 close");
    int fd = peer_connect(4, 5000);
    peer_send_pattern(fd, 10);
    sleep_ms(100);
    CHECK(shutdown(fd, SHUT_WR) == 0, "shutdown");
    struct peer_result r = peer_read_all(fd, 5000);
    close(fd);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    struct counters delta = counters_since(&before);
    CHECK(r.eof && !r.reset && r.bytes == 5, "client: %zu bytes, eof %d reset %d", r.bytes,
          r.eof, r.reset);
    CHECK(delta.abort_on_close == 0 && delta.out_rsts == 0, "AbortOnClose %ld OutRsts %ld",
          delta.abort_on_close, delta.out_rsts);
    CHECK(contains(server.out, "close=0 errno=unchanged"), "server: %s", server.out);
    /* an event line would mean the shim counted unread bytes or drained */
    CHECK(!contains(server.err, "libnorst"), "stderr: %s", server.err);
    case_end();
}

/* The hint that a number holds a socket born TCP orders classify's calls;
 * it must never decide anything. */
static void stale_slot(void)
{
    static const char *const env[] = {"NORST_LOG=stderr", NULL};
    static const char *const argv[] = {"./tests/progs/stale_slot", NULL};
    struct proc p;
    case_begin("a TCP socket closed unseen, a UDP socket with a datagram on its number: left alone");
    proc_start(&p, 1, env, argv, 0);
    CHECK(proc_finish(&p, 5000) == 0, "stale_slot: %s %s", p.out, p.err);
    CHECK(contains(p.out, "same-number=1"), "%s", p.out);
    CHECK(contains(p.out, "close=0 errno=0"), "%s", p.out);
    CHECK(!contains(p.err, "libnorst"), "stderr: %s", p.err);
    case_end();
}

int main(void)
{
    lone_fin(0);
    lone_fin(1);
    stale_slot();
    return harness_done();
}
