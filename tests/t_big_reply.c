/* The reset also throws away the closer's send queue: a server that writes a
 * 4 MB reply without reading the whole request, then closes. Without the
 * shim the client gets a truncated reply and ECONNRESET; with it, every byte
 * and then EOF. The test's namespace allows a 16 MB send buffer, so the
 * whole reply is queued before the client starts reading: most of it still
 * sits in the server's send queue when the server closes, as it would for a
 * client on the far side of a real network. */
#include <stdio.h>

#include "harness.h"

#define REPLY (4u << 20)

static void big_reply(int family, int with_shim)
{
    char name[96];
    struct proc server;
    struct counters before;

    snprintf(name, sizeof name, "4 MB reply, request unread, IPv%d, %s", family,
             with_shim ? "with shim" : "without shim");
    case_begin(name);
    counters_read(&before);
    closer_start(&server, with_shim, NULL, family, "accept read:1 write:4194304 close");
    int fd = peer_connect(family, 5000);
    peer_send_pattern(fd, 1000);
    CHECK(proc_wait_output(&server, "wrote=4194304", 5000), "the reply did not fit the send buffer");
    struct peer_result r = peer_read_all(fd, 10000);
    close(fd);
    CHECK(proc_finish(&server, 10000) == 0, "server: %s", server.err);
    struct counters delta = counters_since(&before);

    CHECK(r.pattern_ok, "reply bytes differ from what the server wrote");
    if (with_shim) {
        CHECK(r.bytes == REPLY, "client got %zu of %u bytes", r.bytes, REPLY);
        CHECK(r.eof && !r.reset, "eof %d reset %d", r.eof, r.reset);
        CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
        CHECK(contains(server.out, "close=0 errno=unchanged"), "server: %s", server.out);
    } else {
        CHECK(r.bytes < REPLY, "client got all %zu bytes", r.bytes);
        CHECK(r.reset, "eof %d reset %d after %zu bytes", r.eof, r.reset, r.bytes);
        CHECK(delta.abort_on_close == 1, "AbortOnClose %ld", delta.abort_on_close);
    }
    case_end();
}

int main(void)
{
    FILE *wmem = fopen("/proc/sys/net/ipv4/tcp_wmem", "w");
    if (!wmem || fprintf(wmem, "4096 16384 16777216\n") < 0 || fclose(wmem) != 0)
        printf("    cannot raise tcp_wmem in this namespace\n");
    big_reply(4, 0);
    big_reply(4, 1);
    big_reply(6, 0);
    big_reply(6, 1);
    return harness_done();
}
