/* syscall(): every number other than close and close_range passes through
 * with the same results, six arguments included. (The close paths through
 * syscall() are in t_close_paths.) */
#include <stdio.h>
#include <string.h>

#include "harness.h"

int main(void)
{
    struct proc plain, shimmed;
    const char *argv[] = {"./tests/progs/syscaller", NULL};
    case_begin("syscall(): other numbers pass through untouched");
    proc_start(&plain, 0, NULL, argv, 0);
    proc_start(&shimmed, 1, NULL, argv, 0);
    CHECK(proc_finish(&plain, 5000) == 0, "%s", plain.err);
    CHECK(proc_finish(&shimmed, 5000) == 0, "%s", shimmed.err);
    CHECK(strcmp(plain.out, shimmed.out) == 0, "without:\n%s\nwith:\n%s", plain.out, shimmed.out);
    CHECK(contains(plain.out, "mmap-6-args-usable       ret=1") && contains(plain.out, "close-bad                ret=-1 errno=9") &&
              contains(plain.out, "unknown-number           ret=-1 errno=38"),
          "%s", plain.out);
    case_end();
    return harness_done();
}
