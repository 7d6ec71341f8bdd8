/* Every path that drops the last reference to a connected socket with
 * unread data: without the shim each one resets the peer, with it each one
 * closes in order, returns what the real call returns, and is logged under
 * its own name. */
#include <stdio.h>

#include "harness.h"

struct path_case {
    const char *step;     /* closer's step */
    const char *reported; /* what closer prints for it, or NULL (exit) */
    const char *logged;   /* the log's path= */
};

static void run(const struct path_case *pc, int with_shim)
{
    char name[128], steps[128], logged[64];
    struct exchange x;
    const char *env[] = {"NORST_LOG=stderr", NULL};

    snprintf(name, sizeof name, "%s with 9 bytes unread, %s", pc->step, with_shim ? "with shim" : "without shim");
    snprintf(steps, sizeof steps, "accept queued:10 read:1 write:100000 %s", pc->step);
    case_begin(name);
    exchange_run(&x, with_shim, env, 4, steps, 10);
    CHECK(x.server_status == 0, "server %d: %s", x.server_status, x.server.err);
    if (pc->reported)
        CHECK(contains(x.server.out, pc->reported), "server: %s", x.server.out);
    if (with_shim) {
        snprintf(logged, sizeof logged, "path=%s ", pc->logged);
        CHECK(x.peer.eof && !x.peer.reset, "eof %d reset %d", x.peer.eof, x.peer.reset);
        CHECK(x.peer.bytes == 100000 && x.peer.pattern_ok, "peer got %zu bytes", x.peer.bytes);
        CHECK(x.delta.out_rsts == 0, "OutRsts %ld", x.delta.out_rsts);
        CHECK(contains(x.server.err, logged) && contains(x.server.err, "unread=9 action=drain outcome=peer-eof"),
              "log: %s", x.server.err);
    } else {
        CHECK(x.peer.reset, "eof %d reset %d", x.peer.eof, x.peer.reset);
        CHECK(x.delta.abort_on_close == 1, "AbortOnClose %ld", x.delta.abort_on_close);
    }
    case_end();
}

int main(void)
{
    static const struct path_case cases[] = {
        {"close", "close=0 errno=unchanged", "close"},
        {"fclose", "fclose=0 errno=unchanged", "fclose"},
        {"__close", "__close=0 errno=unchanged", "__close"},
        {"dup2over", "dup2over=4 errno=unchanged", "dup2"},
        {"dup3over", "dup3over=4 errno=unchanged", "dup3"},
        {"close_range", "close_range=0 errno=unchanged", "close_range"},
        {"closefrom", "closefrom=0 errno=unchanged", "closefrom"},
        {"syscall_close", "syscall_close=0 errno=unchanged", "syscall-close"},
        {"syscall_close_range", "syscall_close_range=0 errno=unchanged", "syscall-close_range"},
        {"exit", NULL, "exit"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(&cases[i], 0);
        run(&cases[i], 1);
    }
    return harness_done();
}
