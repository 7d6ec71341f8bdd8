/* Another preloaded library's constructor calls close(), before or after
 * libnorst's own constructor, in either preload order: the results are
 * right and the program then works under the shim as usual. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

static void order(const char *preload, const char *name)
{
    char setting[256];
    struct exchange x;
    const char *env[] = {setting, NULL};
    snprintf(setting, sizeof setting, "LD_PRELOAD=%s", preload);
    case_begin(name);
    exchange_run(&x, 0, env, 4, "accept queued:10 read:1 close", 10);
    CHECK(x.server_status == 0, "server: %s", x.server.err);
    CHECK(contains(x.server.err, "early: 0 -1/9 -1"), "stderr: %s", x.server.err);
    CHECK(x.peer.eof && x.delta.out_rsts == 0, "eof %d OutRsts %ld", x.peer.eof, x.delta.out_rsts);
    case_end();
}

int main(void)
{
    order("./tests/libs/early_close.so:./libnorst.so", "constructor closing fds, preloaded before libnorst");
    order("./libnorst.so:./tests/libs/early_close.so", "constructor closing fds, preloaded after libnorst");
    return harness_done();
}
