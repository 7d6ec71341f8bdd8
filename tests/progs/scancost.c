/* What a close costs when the sharing check must search /proc: NPROC
 * sleeping processes holding NFDS fds each, then RUNS times: a connection
 * over loopback with 10 unread bytes (the peer has sent its FIN), a fork
 * (so the socket may be held elsewhere), and the timed close().
 * Run it with the library preloaded.
 *
 * usage: scancost NPROC NFDS RUNS [untracked|held]
 *   untracked: accept through syscall(SYS_accept4), unseen by the hooks, so
 *        the socket's birth is unknown (as for an inherited socket) and no
 *        process can be ruled out by its start time
 *   held: the forked child keeps the connection open until the close is
 *        timed, as in a fork-per-connection server (the close skips)
 * Prints "close_ms median=M min=A max=B" over the runs. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "../../tools/demo.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static pid_t *sleepers;
static int nsleepers;

static void start_sleepers(int nproc, int nfds)
{
    sleepers = calloc((size_t)nproc, sizeof *sleepers);
    for (int i = 0; i < nproc; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            int fd = open("/dev/null", O_RDONLY);
            for (int j = 1; j < nfds; j++)
                if (dup(fd) < 0)
                    break;
            pause();
            _exit(0);
        }
        if (pid < 0)
            break;
        sleepers[nsleepers++] = pid;
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int nproc = atoi(argv[1]), nfds = atoi(argv[2]), runs = atoi(argv[3]);
    int untracked = argc > 4 && strcmp(argv[4], "untracked") == 0;
    int held = argc > 4 && strcmp(argv[4], "held") == 0;
    double *ms = calloc((size_t)runs, sizeof *ms);
    int listener = demo_listen(4, 5001);
    start_sleepers(nproc, nfds);
    for (int r = 0; r < runs; r++) {
        int client = demo_connect("127.0.0.1", 5001);
        int conn = untracked ? (int)syscall(SYS_accept4, listener, NULL, NULL, 0)
                             : accept(listener, NULL, NULL);
        if (send(client, "0123456789", 10, 0) != 10)
            die("send");
        shutdown(client, SHUT_WR);
        usleep(2000);
        pid_t child = fork();
        if (child == 0) {
            if (held)
                pause();
            _exit(0);
        }
        if (!held)
            waitpid(child, NULL, 0);
        usleep(1000);
        double start = now_ms();
        close(conn);
        ms[r] = now_ms() - start;
        if (held) {
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
        }
        close(client);
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp);
    printf("processes=%d fds=%d close_ms median=%.2f min=%.2f max=%.2f\n", nsleepers, nfds,
           ms[runs / 2], ms[0], ms[runs - 1]);
    for (int i = 0; i < nsleepers; i++)
        kill(sleepers[i], SIGKILL);
    while (wait(NULL) > 0)
        ;
    free(ms);
    return 0;
}
