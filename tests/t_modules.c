/* shim/'s modules depend on each other in one direction: the graph that
 * tests/arch/modgraph.sh computes from the library's objects has no cycle
 * beyond those tests/arch/allowed-cycles still lists, and each listed one
 * still exists. Runs in the build directory, the source directory being
 * its parent (as for t_install). */
#include <stdio.h>

#include "harness.h"

int main(void)
{
    char out[65536];
    const char *argv[] = {"/bin/sh", "../tests/arch/modgraph.sh", "shim",
                          "../tests/arch/allowed-cycles", NULL};
    case_begin("shim/: the module cycles are exactly those tests/arch/allowed-cycles lists");
    int status = run_client(argv, out, sizeof out);
    CHECK(status == 0, "modgraph.sh exited %d:\n%s", status, out);
    case_end();
    return harness_done();
}
