/* exit() while other threads still run: the library must neither wait on
 * a stream lock another thread holds (glibc's own exit takes none), nor
 * send a FIN under a thread that is still writing (SIGPIPE would kill the
 * process), in every mode. */
#include <stdio.h>
#include <time.h>

#include "harness.h"

static void exit_case(const char *scenario, const char *what, const char *const *env,
                      const char *mode)
{
    char name[160];
    const char *argv[] = {"./tests/progs/holders", scenario, NULL};
    struct proc p;
    struct timespec start;

    snprintf(name, sizeof name, "%s (%s)", what, mode);
    case_begin(name);
    proc_start(&p, 1, env, argv, 1);
    int fd = peer_connect(4, 5000);
    peer_send_pattern(fd, 100);
    proc_wait_output(&p, "exiting=", 5000);
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = proc_finish(&p, 6000);
    long ms = elapsed_ms_since(&start);
    close(fd);
    CHECK(status == 0, "exit status %d (wait status %d) after %ld ms: %s %s", status, p.status, ms,
          p.out, p.err);
    /* the exit bound is NORST_LINGER_MS (2 s); slack on top */
    CHECK(ms < 4000, "exit took %ld ms", ms);
    case_end();
}

int main(void)
{
    static const char *const sync_env[] = {"NORST_LOG=stderr", NULL};
    static const char *const log_env[] = {"NORST_LOG=stderr", "NORST_MODE=log", NULL};
    static const char *const async_env[] = {"NORST_LOG=stderr", "NORST_ASYNC=1", NULL};
    static const char *const always_env[] = {"NORST_LOG=stderr", "NORST_MODE=always", NULL};
    const char *const *envs[] = {sync_env, log_env, async_env, always_env};
    const char *modes[] = {"drain", "log", "async", "always"};

    for (int i = 0; i < 4; i++)
        exit_case("exit-stdin", "exit() returns while a thread waits in fgets(stdin)", envs[i], modes[i]);
    for (int i = 0; i < 4; i++)
        exit_case("exit-writer", "exit() while a thread still sends: status 0, no SIGPIPE", envs[i],
                  modes[i]);
    for (int i = 0; i < 4; i++)
        exit_case("closefrom-writer", "closefrom() while a thread still sends: status 0, no SIGPIPE",
                  envs[i], modes[i]);
    return harness_done();
}
