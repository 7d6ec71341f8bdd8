/* seccomp: a call the library adds must never be what kills (or fails) a
 * sandboxed process. A filter the process installs itself (prctl,
 * syscall(SYS_seccomp)) makes the library step aside for good; one that
 * answers a probe with EPERM does too; one installed before exec that kills
 * on systemd's @resources leaves async mode working. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void sandboxed(const char *name, const char *const *env, const char *action, const char *how,
                      long max_cpu_ms, long max_ms)
{
    struct proc with, without;
    const char *argv[] = {"./tests/progs/sandboxed", action, how, NULL};

    /* The program must live under its filter without the library: a
     * sanitizer's runtime, for one, makes calls of its own that the
     * allowlist refuses. */
    proc_start(&without, 0, env, argv, 0);
    if (proc_finish(&without, 10000) != 0 || !contains(without.out, "status=0 signal=0")) {
        printf("SKIP %s: the program dies under its filter even without the library (%.*s)\n", name,
               (int)strcspn(without.out, "\n"), without.out);
        return;
    }
    case_begin(name);
    proc_start(&with, 1, env, argv, 0);
    CHECK(proc_finish(&with, 10000) == 0, "with: %s", with.err);
    CHECK(contains(with.out, "status=0 signal=0"), "with the library: %s %s", with.out, with.err);
    long cpu_ms = number_after(with.out, "cpu_ms="), ms = number_after(with.out, " ms=");
    CHECK(cpu_ms >= 0 && cpu_ms <= max_cpu_ms, "%ld ms of CPU: %s", cpu_ms, with.out);
    CHECK(ms >= 0 && ms <= max_ms, "%ld ms in all: %s", ms, with.out);
    case_end();
}

/* systemd's SystemCallFilter=~@resources, installed before exec: the reaper
 * (async mode) must not call sched_setscheduler, and must still work. */
static void resources_denied(void)
{
    struct exchange x;
    const char *env[] = {"NORST_ASYNC=1", "NORST_LINGER_MS=2000", "NORST_LOG=stderr", NULL};
    const char *argv[] = {"./tests/progs/sandboxed", "exec-resources", "./tests/progs/closer", "5000",
                          "accept", "queued:10", "read:1", "close", "reuse", "sleep:300", NULL};

    case_begin("seccomp: async under a filter that kills on @resources calls, installed before exec");
    exchange_run_argv(&x, 1, env, argv, 4, 10);
    CHECK(x.server_status == 0, "server status %d: %s", x.server_status, x.server.err);
    CHECK(x.peer.eof && !x.peer.reset, "peer eof %d reset %d", x.peer.eof, x.peer.reset);
    CHECK(x.delta.out_rsts == 0 && x.delta.abort_on_close == 0, "OutRsts %ld AbortOnClose %ld",
          x.delta.out_rsts, x.delta.abort_on_close);
    CHECK(contains(x.server.err, "action=drain outcome=peer-eof"), "log: %s", x.server.err);
    case_end();
}

int main(void)
{
    const char *async[] = {"NORST_ASYNC=1", "NORST_LINGER_MS=300", NULL};
    const char *sync[] = {"NORST_LINGER_MS=300", NULL};

    /* The child sleeps 300 ms after the install; without the library the
     * whole run takes about that plus the lingering close. */
    sandboxed("seccomp: strict allowlist, kill action, installed with prctl: close and exit live",
              async, "kill", "prctl", 150, 1500);
    sandboxed("seccomp: strict allowlist, errno action, on every thread (TSYNC): no spinning reaper, "
              "no wait at exit",
              async, "errno", "tsync", 150, 650);
    resources_denied();
    sandboxed("seccomp: a filter installed unseen answers getsockopt with EPERM: the library steps aside",
              sync, "learn", "raw", 150, 1500);
    return harness_done();
}
