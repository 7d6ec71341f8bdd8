/* The scenarios of the torture test: what a seed makes of them, the command
 * line of the server program (tests/progs/tortured) that plays the server's
 * side, and a description in words for the failure report. */
#ifndef TORTURE_GEN_H
#define TORTURE_GEN_H

#include <stddef.h>

#define MAX_STEPS 6

/* One step of the server: an accepted connection and its plan, or (open_only)
 * just an open("/dev/null") whose fd number is printed. */
struct step {
    int open_only;
    const char *holder, *close, *end; /* see tests/progs/tortured.c */
    long r, n;                        /* request bytes read, reply bytes written */
    /* the peer: part1 bytes at once, part2 after pause_ms, then SHUT_WR or not;
     * early_close: it closes right after sending, reading nothing;
     * linger_ms: it waits that long after the reply's end before closing */
    long part1, part2;
    int pause_ms, shut_wr, early_close, linger_ms;
    /* the holder keeps writing after its reply until the exit: only the
     * first n bytes are defined */
    int racy;
};

struct scenario {
    unsigned long long seed;
    int sigpipe_dfl;
    const char *exit_how;
    int nsteps;
    struct step steps[MAX_STEPS];
};

void scenario_make(struct scenario *sc, unsigned long long seed);
/* The server's argv for port (strings in buf); returns argc. */
int scenario_argv(const struct scenario *sc, int port, char *argv[], char buf[][64]);
/* The scenario in words, one step per line. */
void scenario_describe(const struct scenario *sc, char *out, size_t len);

#endif
