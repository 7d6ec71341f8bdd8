/* Many closers at once: WORKERS threads (or, with -f, forked processes)
 * share one listener; each accepts connections, reads 1 byte of the
 * request and closes with the rest unread, until TOTAL connections have
 * been served between them.
 *
 * usage: threadsrv [-f] WORKERS TOTAL PORT */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "../../tools/demo.h"

static int listener;
static _Atomic int *remaining;

static void *worker(void *arg)
{
    (void)arg;
    while (atomic_fetch_sub(remaining, 1) > 0) {
        int conn = accept(listener, NULL, NULL), queued = 0;
        char byte;
        if (conn < 0)
            break;
        for (int wait = 0; wait < 2000 && ioctl(conn, FIONREAD, &queued) == 0 && queued < 10; wait++)
            usleep(500);
        if (recv(conn, &byte, 1, 0) == 1)
            close(conn);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int forked = argc > 1 && strcmp(argv[1], "-f") == 0;
    if (argc != 4 + forked) {
        fprintf(stderr, "usage: threadsrv [-f] WORKERS TOTAL PORT\n");
        return 2;
    }
    int workers = atoi(argv[1 + forked]);
    remaining = mmap(NULL, sizeof *remaining, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    atomic_store(remaining, atoi(argv[2 + forked]));
    listener = demo_listen(4, atoi(argv[3 + forked]));
    demo_ready(atoi(argv[3 + forked]));
    pthread_t threads[64];
    pid_t pids[64];
    if (workers > 64)
        workers = 64;
    for (int i = 0; i < workers; i++) {
        if (!forked)
            pthread_create(&threads[i], NULL, worker, NULL);
        else if ((pids[i] = fork()) == 0)
            exit((worker(NULL), 0));
    }
    for (int i = 0; i < workers; i++) {
        if (!forked)
            pthread_join(threads[i], NULL);
        else
            waitpid(pids[i], NULL, 0);
    }
    return 0;
}
