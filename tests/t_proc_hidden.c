/* When the shim cannot tell whether a socket is shared, it does nothing and
 * says so. With an empty /proc, a socket that crossed a fork and an exec
 * cannot be checked: both closes are left alone (the last one resets, as it
 * would without the shim) and logged as skip-shared, proc-unreadable,
 * rst=possible. A socket accepted in the process and never shared needs no
 * /proc and is still drained. */
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "harness.h"

static int hide_proc(void)
{
    static char saved[64];
    snprintf(saved, sizeof saved, "/tmp/norst-proc-%d", (int)getpid());
    mkdir(saved, 0700);
    if (private_mounts() < 0 || mount("/proc", saved, NULL, MS_BIND | MS_REC, NULL) < 0 ||
        mount("tmpfs", "/proc", "tmpfs", 0, NULL) < 0)
        return -1;
    counters_proc = saved;
    return 0;
}

int main(void)
{
    struct exchange x;
    const char *env[] = {"NORST_LOG=stderr", NULL};
    const char *argv[] = {"./tests/progs/sharer", "exec", "5000", NULL};

    if (hide_proc() < 0) {
        case_begin("/proc hidden");
        CHECK(0, "cannot mount over /proc");
        case_end();
        return harness_done();
    }

    case_begin("/proc hidden: a socket that crossed fork and exec is left alone, and the log says why");
    exchange_run_argv(&x, 1, env, argv, 4, 10);
    CHECK(x.server_status == 0, "server: %s", x.server.err);
    CHECK(x.peer.bytes == 1005 && x.peer.pattern_ok, "the serving process got its request: %zu bytes",
          x.peer.bytes);
    CHECK(x.peer.reset && x.delta.abort_on_close == 1, "reset %d AbortOnClose %ld", x.peer.reset,
          x.delta.abort_on_close);
    CHECK(contains(x.server.err, "unread=10 action=skip-shared outcome=none drained=0 ms=0 rst=possible "
                               "shared=proc-unreadable"),
          "parent's close: %s", x.server.err);
    CHECK(contains(x.server.err, "unread=5 action=skip-shared outcome=none drained=0 ms=0 rst=possible "
                               "shared=proc-unreadable"),
          "exec'd program's close: %s", x.server.err);
    case_end();

    case_begin("/proc hidden: a socket accepted here and never shared is still drained");
    exchange_run(&x, 1, env, 4, "accept queued:10 read:1 close", 10);
    CHECK(x.peer.eof && x.delta.out_rsts == 0, "eof %d OutRsts %ld", x.peer.eof, x.delta.out_rsts);
    CHECK(contains(x.server.err, "unread=9 action=drain outcome=peer-eof"), "%s", x.server.err);
    case_end();
    return harness_done();
}
