/* The torture test's fixed seeds: tests/torture/torture runs each scenario
 * without libnorst and with it in every mode, and prints one PASS or FAIL
 * line per seed. The seeds were picked so that together they cover every
 * holder, close path and exit path of the generator (tests/torture/gen.c);
 * any other seed replays with TORTURE_SEED=N ./tests/torture/torture. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char *argv[] = {"torture", "1011", "2782", "2604", "792", "182", "20", "65", "238", "239",
                    "274", "393", "819", "939", "1014", "1688", "2331", "3388", "205", "376",
                    "1232", "1772", "3181", "1752", "1066", NULL};
    execv("./tests/torture/torture", argv);
    perror("./tests/torture/torture");
    return 1;
}
