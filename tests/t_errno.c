/* A hook leaves errno exactly as the real call would: a successful fclose
 * keeps the errno the application had, though the shim flushes the stream
 * first (ESPIPE on a socket) and asks for its fd (EBADF when it has none). */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void errno_kept(const char *how, const char *what)
{
    char name[96], expected[64];
    struct proc p;
    const char *argv[] = {"./tests/progs/errnoprobe", how, NULL};

    snprintf(name, sizeof name, "%s of %s: succeeds, errno untouched", how, what);
    snprintf(expected, sizeof expected, "%s ret=0 errno=4242\n", how);
    case_begin(name);
    proc_start(&p, 1, NULL, argv, 0);
    CHECK(proc_finish(&p, 10000) == 0, "status, stderr: %s", p.err);
    CHECK(strcmp(p.out, expected) == 0, "printed: %s", p.out);
    case_end();
}

int main(void)
{
    errno_kept("fclose", "a socket stream read ahead");
    errno_kept("fclose-memstream", "a stream with no fd");
    return harness_done();
}
