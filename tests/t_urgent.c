/* An urgent (MSG_OOB) byte left unread: FIONREAD can read 0 while
 * __tcp_close() still counts the byte and resets. The shim must see it. */
#include <stdio.h>
#include <sys/socket.h>

#include "harness.h"

static void urgent(int with_shim)
{
    char name[96];
    struct proc server;
    struct counters before;
    snprintf(name, sizeof name, "urgent byte left at the mark, %s", with_shim ? "with shim" : "without shim");
    case_begin(name);
    counters_read(&before);
    /* the server reads the 10 normal bytes and stops at the mark */
    closer_start(&server, with_shim, NULL, 4, "accept queued:10 read:10 sleep:100 close");
    int fd = peer_connect(4, 5000);
    peer_send_pattern(fd, 10);
    CHECK(send(fd, "!", 1, MSG_OOB) == 1, "send MSG_OOB");
    struct peer_result r = peer_read_all(fd, 5000);
    close(fd);
    CHECK(proc_finish(&server, 5000) == 0, "server: %s", server.err);
    struct counters delta = counters_since(&before);
    if (with_shim) {
        CHECK(r.eof && !r.reset, "client: eof %d reset %d", r.eof, r.reset);
        CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    } else {
        CHECK(r.reset, "client: eof %d reset %d", r.eof, r.reset);
        CHECK(delta.abort_on_close == 1, "AbortOnClose %ld", delta.abort_on_close);
    }
    case_end();
}

int main(void)
{
    urgent(0);
    urgent(1);
    return harness_done();
}
