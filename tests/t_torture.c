/* The torture test's fixed seeds: tests/torture/torture runs each scenario
 * without libnorst and with it in every mode, and prints one PASS or FAIL
 * line per seed. Together the seeds cover every holder, close path, child
 * ending and exit path of the generator (tests/torture/gen.c), and these
 * cases with a small reply and unread request bytes in particular:
 *   a vfork child's close_range before exec (vforktrue)    6674 501 182 1762
 *   execl after vfork (vforkexecl)                         8536 17 863 2740
 *   clone() children (clone)                               8536 109 930 5819
 *   an undumpable child of a capability-less parent        8536 65 322
 *   two fds of one socket at exit or closefrom (dupkeep)   18609 838 17
 *   exit with a worker thread still writing, SIGPIPE on    6674 9885
 *   main thread ended by pthread_exit                      8557
 *   closefrom while a worker thread still writes           17745678752720
 *   accept while the reaper logs (fd numbers, async)       5819 6683
 *   a forked child's exit, the parent's thread still sends 69126718410908
 * Any seed replays with TORTURE_SEED=N ./tests/torture/torture, and
 * ./tests/torture/torture -d N describes it. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char *argv[] = {"torture", "8557", "8536", "18609", "6674", "109", "119", "17", "65", "182",
                    "267", "322", "327", "584", "863", "930", "1565", "1762", "5819", "6895",
                    "7263", "8795", "1220", "2740", "6683", "501", "838", "9885",
                    "17745678752720", "69126718410908", NULL};
    execv("./tests/torture/torture", argv);
    perror("./tests/torture/torture");
    return 1;
}
