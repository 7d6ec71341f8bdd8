/* The guard on the real symbols' table (shim/real.c): when dlsym(RTLD_NEXT)
 * hands libnorst its own definition, the library says so on stderr, naming
 * the symbol, and never calls itself: the close path falls back on the
 * system call and works as usual; a hook with nothing to fall back on
 * aborts when it is called. tests/libs/own_dlsym.so plays the broken
 * lookup. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "harness.h"

#define PRELOAD "LD_PRELOAD=./tests/libs/own_dlsym.so:./libnorst.so"

int main(void)
{
    struct exchange x;

    case_begin("dlsym finds our own close: a line names it, the system call stands in");
    /* The sanitizer runs (they set NORST_TEST_RUNTIME) load their runtime
     * after this dlsym, and the runtime looks its own symbols up through
     * it before it can serve the calls the lookup makes. */
    if (getenv("NORST_TEST_RUNTIME")) {
        case_skip("a preloaded dlsym goes ahead of the sanitizer's runtime");
        case_end();
        return harness_done();
    }
    const char *own_close[] = {PRELOAD, "OWN_SYMBOL=close", NULL};
    exchange_run(&x, 0, own_close, 4, "accept queued:10 read:1 close", 10);
    CHECK(x.server_status == 0, "server: %s", x.server.err);
    CHECK(contains(x.server.err, "libnorst: close: dlsym(RTLD_NEXT) found libnorst's own "
                                 "definition; using the stand-in\n"),
          "stderr: %s", x.server.err);
    CHECK(x.peer.eof && x.delta.out_rsts == 0, "eof %d OutRsts %ld", x.peer.eof, x.delta.out_rsts);
    case_end();

    case_begin("dlsym finds our own accept: a line names it, abort when it is called");
    const char *own_accept[] = {PRELOAD, "OWN_SYMBOL=accept", NULL};
    /* It aborts in accept() before any peer comes: no peer, or its connect
     * would race the abort. */
    closer_start(&x.server, 0, own_accept, 4, "accept read:1 close");
    proc_finish(&x.server, 5000);
    CHECK(WIFSIGNALED(x.server.status) && WTERMSIG(x.server.status) == SIGABRT,
          "wait status %#x, stderr: %s", x.server.status, x.server.err);
    CHECK(contains(x.server.err, "libnorst: accept: dlsym(RTLD_NEXT) found libnorst's own "
                                 "definition\nlibnorst: accept: no real function to call; "
                                 "aborting\n"),
          "stderr: %s", x.server.err);
    case_end();

    case_begin("no guard line when the lookup is right");
    const char *right[] = {PRELOAD, NULL};
    exchange_run(&x, 0, right, 4, "accept queued:10 read:1 close", 10);
    CHECK(x.server_status == 0 && !contains(x.server.err, "libnorst:"), "server: %s",
          x.server.err);
    CHECK(x.peer.eof && x.delta.out_rsts == 0, "eof %d OutRsts %ld", x.peer.eof, x.delta.out_rsts);
    case_end();
    return harness_done();
}
