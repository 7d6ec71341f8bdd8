/* Where the library's thread may start, and what a process gets when it may
 * not (tests/progs/startprobe). Each case once hung, killed or slowed a
 * process:
 *  - a close inside a SA_RESETHAND handler, the main thread in malloc: the
 *    handler is gone by the time it runs, so only the blocked signal tells
 *    that one runs; pthread_create there waited forever on malloc's lock;
 *  - a TSYNC seccomp filter installed while another thread hands sockets
 *    off: a thread started between the reaper's stop and the filter died
 *    of SIGSYS on its first call;
 *  - a filter already in place at load that kills on clone: the default
 *    thread would kill the process; it gets no thread;
 *  - a fork-per-connection server: the parent's close of its copy, with
 *    nothing unread but the peer just connected, must not pay a /proc scan;
 *  - exit waits once for what lingers, not once for the reaper and again
 *    for what is still open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void probe(const char *title, const char *const *argv, const char *expect, long *value,
                  const char *key)
{
    struct proc p;
    case_begin(title);
    proc_start(&p, 1, NULL, argv, 0);
    CHECK(proc_finish(&p, 120000) == 0, "startprobe: %s %s", p.out, p.err);
    printf("%s", p.out);
    if (expect)
        CHECK(contains(p.out, expect), "%s", p.out);
    if (value)
        *value = number_after(p.out, key);
    case_end();
}

int main(void)
{
    long v = -1;
    const char *resethand[] = {"./tests/progs/startprobe", "resethand", "100", NULL};
    probe("a close in a SA_RESETHAND handler while malloc runs: 100 runs, none hangs", resethand,
          "hung=0 of 100 failed=0", NULL, NULL);
    const char *tsync[] = {"./tests/progs/startprobe", "tsync", "10", NULL};
    probe("a TSYNC filter while another thread hands sockets off: 10 runs, none killed", tsync,
          "killed=0 of 10", NULL, NULL);
    const char *noclone[] = {"./tests/progs/startprobe", "noclone", NULL};
    if (getenv("NORST_TEST_RUNTIME")) { /* the sanitizer's runtime makes threads of its own */
        case_begin("a filter at load that kills on clone: the process lives, no thread");
        case_skip("a sanitized build's runtime clones under the filter itself");
        case_end();
    } else {
        probe("a filter at load that kills on clone: the process lives, no thread", noclone,
              "status=0 signal=0", NULL, NULL);
    }
    const char *forked[] = {"./tests/progs/startprobe", "forked", "200", NULL};
    probe("fork per connection, 200 other processes: the parent's close stays cheap", forked, NULL,
          &v, "close_us_mean=");
    CHECK(v >= 0 && v < 250, "mean close %ld us (with a /proc scan on each: 450 to 540)", v);
    const char *exitwait[] = {"./tests/progs/startprobe", "exitwait", NULL};
    probe("exit with one socket lingering and one open: one wait of 2 s", exitwait, NULL, &v,
          "exit_ms=");
    CHECK(v >= 1500 && v < 3000, "exit took %ld ms", v);
    return harness_done();
}
