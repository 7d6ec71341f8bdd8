/* The seed's experiments, on the wire: the one-byte echo server and the
 * prime-number protocol, each without and with libnorst, over IPv4 and IPv6. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void echo_case(int family, int with_shim)
{
    char name[64], out[4096];
    struct proc server;
    struct counters before;
    const char *host = family == 6 ? "::1" : "127.0.0.1";
    const char *server_argv[] = {"./echo-server", "-n", "1", family == 6 ? "-6" : "5000",
                                 family == 6 ? "5000" : NULL, NULL};
    const char *client_argv[] = {"./echo-client", host, "5000", "Echo this, please", NULL};
    const char *env[] = {"NORST_LOG=stderr", NULL}; /* for the failure message */

    snprintf(name, sizeof name, "seed echo, IPv%d, %s", family, with_shim ? "with shim" : "without shim");
    case_begin(name);
    counters_read(&before);
    proc_start(&server, with_shim, env, server_argv, 1);
    int status = run_client(client_argv, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server exit: %s", server.err);
    struct counters delta = counters_since(&before);

    if (with_shim) {
        CHECK(status == 1, "client status %d, output %s", status, out);
        CHECK(contains(out, "orderly EOF"), "client saw: %s", out);
        CHECK(!contains(out, "reset"), "client saw: %s", out);
        CHECK(delta.out_rsts == 0, "OutRsts %ld; server log: %s", delta.out_rsts, server.err);
        CHECK(delta.abort_on_close == 0, "AbortOnClose %ld", delta.abort_on_close);
    } else {
        CHECK(status == 2, "client status %d, output %s", status, out);
        CHECK(contains(out, "recv() failed or connection closed prematurely: Connection reset by peer"),
              "client saw: %s", out);
        CHECK(delta.abort_on_close == 1, "AbortOnClose %ld", delta.abort_on_close);
        CHECK(delta.out_rsts == 1, "OutRsts %ld", delta.out_rsts);
    }
    case_end();
}

struct prime_case {
    const char *name;
    const char *numbers[7];
    const char *verdict;
    int resets_without_shim;
};

static void prime_case(const struct prime_case *pc, int family, int with_shim)
{
    char name[128], out[4096];
    struct proc server;
    struct counters before;
    const char *server_argv[] = {"./prime-server", "-n", "1", family == 6 ? "-6" : "5000",
                                 family == 6 ? "5000" : NULL, NULL};
    const char *client_argv[12] = {"./prime-client", family == 6 ? "::1" : "127.0.0.1", "5000"};
    int argc = 3;
    for (int i = 0; pc->numbers[i]; i++)
        client_argv[argc++] = pc->numbers[i];

    snprintf(name, sizeof name, "prime protocol, %s, IPv%d, %s", pc->name, family,
             with_shim ? "with shim" : "without shim");
    case_begin(name);
    counters_read(&before);
    proc_start(&server, with_shim, NULL, server_argv, 1);
    int status = run_client(client_argv, out, sizeof out);
    CHECK(proc_finish(&server, 5000) == 0, "server exit: %s", server.err);
    struct counters delta = counters_since(&before);

    if (with_shim || !pc->resets_without_shim) {
        char expect[64];
        snprintf(expect, sizeof expect, "verdict: %s\n", pc->verdict);
        CHECK(status == 0, "client status %d, output %s", status, out);
        CHECK(contains(out, expect), "client saw: %s", out);
        CHECK(contains(out, "connection closed in order (EOF)"), "client saw: %s", out);
        CHECK(delta.out_rsts == 0, "OutRsts %ld", delta.out_rsts);
    } else {
        CHECK(status == 2, "client status %d, output %s", status, out);
        CHECK(contains(out, "Connection reset by peer"), "client saw: %s", out);
        CHECK(delta.abort_on_close == 1, "AbortOnClose %ld", delta.abort_on_close);
    }
    case_end();
}

int main(void)
{
    static const struct prime_case cases[] = {
        {"five primes", {"2", "3", "5", "7", "11", NULL}, "OK", 0},
        {"second number not prime", {"2", "4", "5", "7", "11", NULL}, "ERROR", 1},
        {"six primes", {"2", "3", "5", "7", "11", "13", NULL}, "OK", 1},
    };
    for (int family = 4; family <= 6; family += 2) {
        echo_case(family, 0);
        echo_case(family, 1);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            prime_case(&cases[i], family, 0);
            prime_case(&cases[i], family, 1);
        }
    }
    return harness_done();
}
