/* The torture test's fixed seeds: tests/torture/torture runs each scenario
 * without libnorst and with it in every mode, and prints one PASS or FAIL
 * line per seed. Together the seeds cover every holder, close path, child
 * ending and exit path of the generator (tests/torture/gen.c), and these
 * cases in particular:
 *   a vfork child's close_range before exec (vforktrue)   719 11056 8557 699
 *   execl after vfork (vforkexecl)                        116 15738 1620
 *   clone() children (clone)                              5624 12700 2841
 *   an undumpable child of a capability-less parent       314 322 393
 *   two fds of one socket at exit or closefrom (dupkeep)  10306 14148
 *   exit with a worker thread still writing, SIGPIPE on   10306 2586
 *   main thread ended by pthread_exit                     8557
 * Any other seed replays with TORTURE_SEED=N ./tests/torture/torture. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char *argv[] = {"torture", "1620", "8557", "10306", "2254", "6834", "100", "116", "295",
                    "314", "322", "393", "699", "719", "2586", "3025", "5270", "5624", "7015",
                    "11056", "12700", "15738", "2841", "14148", "1093", NULL};
    execv("./tests/torture/torture", argv);
    perror("./tests/torture/torture");
    return 1;
}
