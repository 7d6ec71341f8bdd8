/* Closes TCP sockets with unread bytes from a signal handler that runs on a
 * small alternate signal stack, and reports how much of that stack the
 * handler used.
 *
 * usage: altstack close|closefrom:N STACK_BYTES [spawn|handoff]
 *   close       the handler calls close() on one socket
 *   closefrom:N N sockets (at most 32), the handler calls closefrom() on the
 *               lowest (more than 16 make more than one group)
 *   spawn       start a child first (posix_spawn), so the close decision has
 *               to look through /proc for other holders of each socket
 *   handoff     the peers send no FIN, and a close before the signal has
 *               started the reaper's thread: the handler's close hands its
 *               socket to the reaper
 *
 * The stack is filled with a pattern before the signal; afterwards the
 * lowest byte no longer holding it is the deepest the stack was touched.
 * Prints "frame=F own=O total=T": F bytes above the handler's frame (the
 * kernel's signal frame), O bytes the handler used below it (its own frame,
 * the shim, libc), T = F + O. Then "peers: eof=E reset=R": how each peer's
 * connection ended. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#define FILL 0xa5
#define SOCKETS 32

extern char **environ;

static int servers[SOCKETS], peers[SOCKETS], count, closefrom_mode, handoff_mode;
static uintptr_t handler_frame;

static void on_signal(int sig)
{
    (void)sig;
    handler_frame = (uintptr_t)__builtin_frame_address(0);
    if (closefrom_mode)
        closefrom(servers[0]);
    else
        close(servers[0]);
}

/* peers[i] connects; the request waits unread at servers[i], and the
 * peer's FIN after it: a drain ends at once. */
static void connect_pair(int listener, const struct sockaddr_in *sa, int i)
{
    if (connect(peers[i], (const struct sockaddr *)sa, sizeof *sa) != 0)
        exit(2);
    servers[i] = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (servers[i] < 0 || write(peers[i], "request\n", 8) != 8 ||
        (!handoff_mode && shutdown(peers[i], SHUT_WR) != 0))
        exit(2);
}

/* How the peer's connection ended: "eof" or "reset". */
static const char *peer_end(int fd)
{
    char buf[64];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
        ;
    return n == 0 ? "eof" : "reset";
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    pid_t child = 0;

    if (argc < 3)
        return 2;
    closefrom_mode = strncmp(argv[1], "closefrom:", 10) == 0;
    size_t size = strtoul(argv[2], NULL, 10);
    long page = sysconf(_SC_PAGESIZE);
    if (size == 0 || size % (size_t)page)
        return 2;

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (bind(listener, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(listener, SOCKETS) != 0 ||
        getsockname(listener, (struct sockaddr *)&sa, &len) != 0)
        return 2;
    /* Every peer's number below every server's: closefrom leaves them. */
    count = closefrom_mode ? atoi(argv[1] + 10) : 1;
    handoff_mode = argc > 3 && strcmp(argv[3], "handoff") == 0;
    if (count < 1 || count > SOCKETS)
        return 2;
    for (int i = 0; i < count; i++)
        peers[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    for (int i = 0; i < count; i++)
        connect_pair(listener, &sa, i);
    if (argc > 3 && strcmp(argv[3], "spawn") == 0) {
        char *sleeper[] = {"/bin/sleep", "10", NULL};
        if (posix_spawn(&child, sleeper[0], NULL, NULL, sleeper, environ) != 0)
            return 2;
    }
    if (handoff_mode) { /* a close out of any handler starts the thread */
        int warm_peer = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(warm_peer, (const struct sockaddr *)&sa, sizeof sa) != 0)
            return 2;
        int warm = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (warm < 0 || write(warm_peer, "request\n", 8) != 8)
            return 2;
        usleep(10000);
        close(warm);
    }
    usleep(20000); /* the requests and FINs are queued */

    /* The alternate stack, with an inaccessible page below it: going past
     * its end faults, as on a thread's stack. */
    unsigned char *map = mmap(NULL, size + (size_t)page, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED || mprotect(map, (size_t)page, PROT_NONE) != 0)
        return 2;
    unsigned char *stack = map + page;
    memset(stack, FILL, size);
    stack_t ss = {.ss_sp = stack, .ss_size = size};
    struct sigaction act = {.sa_handler = on_signal, .sa_flags = SA_ONSTACK};
    sigemptyset(&act.sa_mask);
    if (sigaltstack(&ss, NULL) != 0) {
        /* The kernel's signal frame alone would not fit (AT_MINSIGSTKSZ). */
        printf("sigaltstack refused: %s\n", strerror(errno));
        return 0;
    }
    if (sigaction(SIGUSR1, &act, NULL) != 0)
        return 2;
    raise(SIGUSR1);

    size_t lowest = 0;
    while (lowest < size && stack[lowest] == FILL)
        lowest++;
    uintptr_t top = (uintptr_t)(stack + size), deepest = (uintptr_t)(stack + lowest);
    printf("frame=%lu own=%lu total=%lu\n", (unsigned long)(top - handler_frame),
           (unsigned long)(handler_frame - deepest), (unsigned long)(top - deepest));
    int eofs = 0;
    for (int i = 0; i < count; i++)
        eofs += strcmp(peer_end(peers[i]), "eof") == 0;
    printf("peers: eof=%d reset=%d\n", eofs, count - eofs);
    if (child) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    return 0;
}
