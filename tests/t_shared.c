/* A socket with several holders: closing one reference must change nothing
 * (no FIN, no bytes consumed: the other holder still serves the request),
 * and the close of the last reference must still be graceful. The reply the
 * peer checks is made by the last holder from the request bytes it read, so
 * a premature FIN or drain shows up as missing or wrong bytes. */
#include <stdio.h>

#include "harness.h"

struct shared_case {
    const char *mode, *title;
    const char *first_close, *last_close; /* how the log names them */
};

static void run(const struct shared_case *sc, int with_shim)
{
    char name[160];
    struct exchange x;
    const char *env[] = {"NORST_LOG=stderr", NULL};
    /* In a PID namespace with its own /proc: the processes of the host,
     * which a sharing check may not read and so must count as possible
     * holders of a socket it did not see born, stay out of view. */
    const char *argv[] = {"./tests/progs/pidns", "-own", "./tests/progs/sharer", sc->mode, "5000",
                          NULL};

    snprintf(name, sizeof name, "%s, %s", sc->title, with_shim ? "with shim" : "without shim");
    case_begin(name);
    exchange_run_argv(&x, with_shim, env, argv, 4, 10);
    CHECK(x.server_status == 0, "server: %s", x.server.err);
    const struct peer_result r = x.peer;
    const struct counters delta = x.delta;
    const struct proc *server = &x.server;

    CHECK(r.bytes == 1005 && r.pattern_ok, "peer got %zu bytes, pattern %d; server: %s", r.bytes,
          r.pattern_ok, server->err);
    if (with_shim) {
        CHECK(r.eof && !r.reset, "eof %d reset %d", r.eof, r.reset);
        CHECK(delta.out_rsts == 0, "OutRsts %ld; server: %s", delta.out_rsts, server->err);
        CHECK(contains(server->err, sc->first_close), "log lacks \"%s\": %s", sc->first_close, server->err);
        CHECK(contains(server->err, sc->last_close), "log lacks \"%s\": %s", sc->last_close, server->err);
        /* only a first close may say a reset is possible (SCM_RIGHTS) */
        CHECK(!contains(server->err, "rst=sent") &&
                  count_of(server->err, "rst=possible") == contains(sc->first_close, "rst=possible"),
              "%s", server->err);
    } else {
        CHECK(r.reset, "eof %d reset %d", r.eof, r.reset);
        CHECK(delta.abort_on_close == 1, "AbortOnClose %ld", delta.abort_on_close);
    }
    case_end();
}

int main(void)
{
    static const struct shared_case cases[] = {
        {"fork", "fork-per-connection: parent closes its copy after fork, child serves",
         "action=skip-shared outcome=none drained=0 ms=0 rst=none shared=another-process",
         "unread=5 action=drain outcome=peer-eof drained=5"},
        {"fdopen", "fdopen(fd) and fdopen(dup(fd)): the read stream is closed first",
         "unread=5 action=skip-shared outcome=none drained=0 ms=0 rst=none shared=another-fd",
         "unread=5 action=drain outcome=peer-eof drained=5"},
        {"inetd", "inetd style: dup2 onto 0 and 1, original closed, then 0, then 1",
         "action=skip-shared outcome=none drained=0 ms=0 rst=none shared=another-fd",
         "unread=5 action=drain outcome=peer-eof drained=5"},
        {"scm", "SCM_RIGHTS: the sender closes, the receiver serves",
         "action=skip-shared outcome=none drained=0 ms=0 rst=possible shared=passed-with-scm-rights",
         "unread=5 action=drain outcome=peer-eof drained=5"},
        {"exec", "inherited across exec: the parent closes, the exec'd program serves",
         "action=skip-shared outcome=none drained=0 ms=0 rst=none shared=another-process",
         "unread=5 action=drain outcome=peer-eof drained=5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(&cases[i], 0);
        run(&cases[i], 1);
    }
    return harness_done();
}
