/* SO_LINGER {1,0} is an application asking for an abort: the shim must let
 * the RST go, with or without unread data. */
#include <stdio.h>

#include "harness.h"

static void linger_abort(int unread)
{
    char name[96];
    struct exchange x;
    const char *env[] = {"NORST_LOG=stderr", NULL};

    snprintf(name, sizeof name, "SO_LINGER {1,0} still aborts, %s unread data, with shim",
             unread ? "with" : "without");
    case_begin(name);
    exchange_run(&x, 1, env, 4,
                 unread ? "accept queued:10 read:1 linger0 close" : "accept queued:10 read:10 linger0 close",
                 10);
    CHECK(x.server_status == 0, "server: %s", x.server.err);
    CHECK(x.peer.reset, "client: eof %d reset %d", x.peer.eof, x.peer.reset);
    CHECK(x.delta.out_rsts == 1, "OutRsts %ld", x.delta.out_rsts);
    if (unread)
        CHECK(x.delta.abort_on_close == 1, "AbortOnClose %ld", x.delta.abort_on_close);
    else
        CHECK(x.delta.abort_on_data == 1, "AbortOnData %ld", x.delta.abort_on_data);
    CHECK(contains(x.server.out, "close=0 errno=unchanged"), "%s", x.server.out);
    if (unread)
        CHECK(contains(x.server.err, "action=skip-abort") && contains(x.server.err, "rst=sent"),
              "log: %s", x.server.err);
    case_end();
}

int main(void)
{
    linger_abort(1);
    linger_abort(0);
    return harness_done();
}
