/* The graceful close works the same on a blocking and an O_NONBLOCK socket,
 * and through fclose() of a stream over the socket. */
#include <stdio.h>

#include "harness.h"

static void one(const char *name, const char *steps, const char *result)
{
    struct exchange x;
    case_begin(name);
    exchange_run(&x, 1, NULL, 4, steps, 5000);
    CHECK(x.server_status == 0, "server: %s", x.server.err);
    CHECK(x.peer.eof && !x.peer.reset, "client: eof %d reset %d", x.peer.eof, x.peer.reset);
    CHECK(x.peer.bytes == 100000 && x.peer.pattern_ok, "client got %zu bytes, pattern %d",
          x.peer.bytes, x.peer.pattern_ok);
    CHECK(x.delta.out_rsts == 0, "OutRsts %ld", x.delta.out_rsts);
    CHECK(contains(x.server.out, result), "server: %s", x.server.out);
    case_end();
}

int main(void)
{
    one("blocking socket, 4999 bytes unread", "accept queued:5000 read:1 write:100000 close",
        "close=0 errno=unchanged");
    one("O_NONBLOCK socket, 4999 bytes unread", "accept queued:5000 nonblock read:1 write:100000 close",
        "close=0 errno=unchanged");
    one("fclose of a stream over the socket, 4999 bytes unread",
        "accept queued:5000 read:1 write:100000 fclose", "fclose=0 errno=unchanged");
    return harness_done();
}
