/* One run of a scenario: the server program started with the environment
 * of a mode, its peers played over loopback, and what everyone saw. */
#ifndef TORTURE_RUN_H
#define TORTURE_RUN_H

#include "gen.h"

struct mode {
    const char *name;
    const char *env[4]; /* besides LD_PRELOAD (none for the run without) */
    int preload;
};

struct peer_seen {
    long bytes;  /* reply bytes received */
    int eof, rst;
    int timed_out;
    int port;    /* its local port, as the library's log names it */
};

struct run_result {
    int status;    /* wait status of the server's main process */
    int hung;      /* it had to be killed */
    char hang[1024]; /* then where its processes' threads waited */
    long ms;       /* wall time of the run */
    struct peer_seen peers[MAX_STEPS];
    char out[16384];   /* its "fd" and "st" lines, sorted */
    char err[65536];   /* its stderr: the library's log */
};

/* Runs sc on port; lib is the absolute path of libnorst.so. */
void run_scenario(const struct scenario *sc, const struct mode *m, const char *lib, int port,
                  struct run_result *res);

#endif
