/* Closes that are none of the shim's business (pipes, files, UDP, UNIX,
 * listening and unconnected TCP sockets, bad and double closes) return the
 * same values and errno with the shim as without, and a successful close
 * leaves errno alone. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void run_probe(int with_shim, char *out, size_t len, const char *const *env)
{
    struct proc p;
    const char *argv[] = {"./tests/progs/closeprobe", NULL};
    proc_start(&p, with_shim, env, argv, 0);
    int status = proc_finish(&p, 10000);
    CHECK(status == 0, "closeprobe exit %d: %s", status, p.err);
    snprintf(out, len, "%s", p.out);
}

int main(void)
{
    static char plain[65536], shimmed[65536];
    static const char *const modes[][2] = {
        {"NORST_MODE=drain", NULL}, {"NORST_MODE=always", NULL},
        {"NORST_MODE=log", NULL},   {"NORST_MODE=off", NULL},
    };

    case_begin("non-TCP and bad closes: same results without the shim, as expected");
    run_probe(0, plain, sizeof plain, NULL);
    CHECK(contains(plain, "double-close         close=-1 errno=9"), "%s", plain);
    CHECK(contains(plain, "never-opened         close=-1 errno=9"), "%s", plain);
    CHECK(contains(plain, "pipe-read-end        close=0 errno=77"), "%s", plain);
    CHECK(contains(plain, "tcp-listening        close=0 errno=77"), "%s", plain);
    case_end();

    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "non-TCP and bad closes: identical with the shim, %s", modes[i][0]);
        case_begin(name);
        run_probe(1, shimmed, sizeof shimmed, modes[i]);
        CHECK(strcmp(plain, shimmed) == 0, "without:\n%s\nwith:\n%s", plain, shimmed);
        case_end();
    }
    return harness_done();
}
