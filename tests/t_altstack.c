/* The close path's stack budget: a signal handler on a small alternate
 * stack (sigaltstack) may call close() or closefrom() on sockets with bytes
 * unread, with logging on. The handler's stack use below its own frame (the
 * shim, logging included, and libc) stays under STACK_BUDGET, measured on a
 * large pattern-filled alternate stack; and on an 8 KiB one, of which the
 * kernel's signal frame takes up to 3.5 KiB on x86-64 with AVX-512, the
 * process survives and each socket is closed and logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define STACK_BUDGET 3072

struct scenario {
    const char *name;
    const char *how;    /* close or closefrom:N */
    const char *format; /* text or json */
    const char *before; /* "spawn": the sharing check scans /proc; "handoff":
                         * the reaper runs and takes the socket */
    int sockets;
};

static const struct scenario scenarios[] = {
    {"close(), text log", "close", "text", NULL, 1},
    {"close(), JSON log", "close", "json", NULL, 1},
    {"close() handed to the running reaper, JSON log", "close", "json", "handoff", 1},
    {"closefrom() over 4 sockets, text log", "closefrom:4", "text", NULL, 4},
    {"closefrom() over 4 sockets after a spawn (a /proc scan), JSON log", "closefrom:4", "json", "spawn", 4},
    /* more than one group: the first is flushed before the walk ends */
    {"closefrom() over 20 sockets, text log", "closefrom:20", "text", NULL, 20},
};

static void run(const struct scenario *s, const char *stack_bytes, struct proc *p, char *log,
                size_t cap)
{
    static int serial;
    char path[96], log_setting[128], format_setting[64];
    const char *env[] = {log_setting, format_setting, NULL};
    const char *argv[] = {"./tests/progs/altstack", s->how, stack_bytes, s->before,
                          NULL};
    snprintf(path, sizeof path, "/tmp/norst-altstack-%d-%d.log", (int)getpid(), serial++);
    snprintf(log_setting, sizeof log_setting, "NORST_LOG=%s", path);
    snprintf(format_setting, sizeof format_setting, "NORST_LOG_FORMAT=%s", s->format);
    unlink(path);
    proc_start(p, 1, env, argv, 0);
    proc_finish(p, 20000);
    read_text_file(path, log, cap);
    unlink(path);
}

/* A sanitized library's frames carry redzones: the budget is the plain
 * build's (the sanitizer runs set NORST_TEST_RUNTIME). */
static int sanitized(void)
{
    if (!getenv("NORST_TEST_RUNTIME"))
        return 0;
    case_skip("the library under test is a sanitized build");
    case_end();
    return 1;
}

static void measured(const struct scenario *s)
{
    static char log[16384];
    char name[160];
    struct proc p;
    snprintf(name, sizeof name, "%s in a signal handler: stack used under %d bytes", s->name,
             STACK_BUDGET);
    case_begin(name);
    if (sanitized())
        return;
    run(s, "65536", &p, log, sizeof log);
    CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "status %#x: %s", p.status, p.err);
    long own = number_after(p.out, "own="), frame = number_after(p.out, "frame=");
    printf("    %s: the handler used %ld bytes below its frame (the kernel's frame: %ld)\n",
           s->name, own, frame);
    CHECK(own > 0 && own <= STACK_BUDGET, "used %ld bytes: %s", own, p.out);
    /* and the close that started the reaper, in the handoff case */
    int handoff = s->before && strcmp(s->before, "handoff") == 0;
    CHECK(count_of(log, "\n") == s->sockets + handoff, "log: %s", log);
    case_end();
}

static void survives(const struct scenario *s)
{
    static char log[16384];
    char name[160], expect[64];
    struct proc p;
    snprintf(name, sizeof name, "%s in a signal handler on an 8 KiB alternate stack: no crash",
             s->name);
    case_begin(name);
    if (sanitized())
        return;
    run(s, "8192", &p, log, sizeof log);
    if (contains(p.out, "sigaltstack refused")) {
        case_skip("this machine's signal frame needs more than 8 KiB");
        case_end();
        return;
    }
    CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "status %#x: %s", p.status, p.err);
    /* and the close that started the reaper, in the handoff case */
    int handoff = s->before && strcmp(s->before, "handoff") == 0;
    CHECK(count_of(log, "\n") == s->sockets + handoff, "log: %s", log);
    /* Drained to each peer's FIN (after a spawn, the /proc scan decides). */
    snprintf(expect, sizeof expect, "peers: eof=%d reset=0", s->sockets);
    CHECK((s->before && strcmp(s->before, "spawn") == 0) || contains(p.out, expect), "%s", p.out);
    case_end();
}

int main(void)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        measured(&scenarios[i]);
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        survives(&scenarios[i]);
    return harness_done();
}
