/* When the library may start its thread, and what happens when it may not:
 * scenarios that hung, killed or slowed a process, each run in children so
 * that one that hangs is seen and killed.
 *
 * usage: startprobe MODE [N]
 *   resethand N   a SA_RESETHAND handler closes a socket with unread data
 *                 while the main thread allocates (malloc's lock): prints
 *                 "hung=K of N" (a child still running after 2 s is hung)
 *   tsync N       one thread closes 200 sockets with unread data while the
 *                 main one installs a TSYNC filter that kills on what only
 *                 the reaper calls (sched_setscheduler, epoll_pwait): prints
 *                 "killed=K of N"
 *   noclone       a filter that kills on clone/clone3, then exec of
 *                 "startprobe onesrv" (the library loads under it): prints
 *                 "status=S signal=G"
 *   onesrv        closes an accepted socket with unread data and exits 0
 *   forked N      a fork-per-connection server whose child answers; the
 *                 parent closes its copy at once, with 200 other processes
 *                 on the host: prints "close_us_mean=M"
 *   exitwait      one socket handed off with a silent peer, one still open
 *                 with a byte unread, then exit: prints "exit_ms=M" */
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

/* A loopback listener and n accepted connections, each with 4 bytes unread. */
static int pairs(int n, int *client, int *server)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, n) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        client[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(client[i], (struct sockaddr *)&a, sizeof a) < 0)
            return -1;
        server[i] = accept(l, NULL, NULL);
        if (write(client[i], "data", 4) != 4)
            return -1;
    }
    usleep(5000);
    return l;
}

static int victim;
static volatile sig_atomic_t handled;
static void close_victim(int sig)
{
    (void)sig;
    close(victim);
    handled = 1;
}

static void *kick(void *arg)
{
    usleep(1000 + (unsigned)(rand() % 3000));
    pthread_kill(*(pthread_t *)arg, SIGUSR1);
    return NULL;
}

static void resethand_child(void)
{
    int c;
    srand((unsigned)getpid());
    if (pairs(1, &c, &victim) < 0)
        _exit(2);
    struct sigaction sa = {.sa_handler = close_victim, .sa_flags = SA_RESETHAND};
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t self = pthread_self(), k;
    pthread_create(&k, NULL, kick, &self);
    while (!handled) {
        void *p = malloc(2000 + (size_t)(rand() & 4095)), *q = malloc(50000);
        free(p);
        free(q);
    }
    pthread_join(k, NULL);
    _exit(0);
}

#define TSYNC_SOCKETS 200
static int tsync_server[TSYNC_SOCKETS];
static volatile int go;
static void *close_all(void *arg)
{
    (void)arg;
    while (!go)
        ;
    for (int i = 1; i < TSYNC_SOCKETS; i++)
        close(tsync_server[i]);
    return NULL;
}

static void install(struct sock_filter *f, unsigned short len, unsigned flags)
{
    struct sock_fprog prog = {len, f};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) != 0)
        _exit(3);
}

#define KILL_ON(nr) \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)

static void tsync_child(void)
{
    static int client[TSYNC_SOCKETS];
    if (pairs(TSYNC_SOCKETS, client, tsync_server) < 0)
        _exit(2);
    close(tsync_server[0]); /* the reaper runs, as in any server that closed a few */
    usleep(20000);
    pthread_t t;
    pthread_create(&t, NULL, close_all, NULL);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        KILL_ON(SYS_sched_setscheduler),
        KILL_ON(SYS_epoll_pwait),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    go = 1;
    usleep(300);
    install(f, sizeof f / sizeof f[0], SECCOMP_FILTER_FLAG_TSYNC);
    pthread_join(t, NULL);
    usleep(200000);
    _exit(0);
}

/* Runs child() n times, each bounded; returns how many did not exit 0. */
static int runs(void (*child)(void), int n, int *hung)
{
    int bad = 0;
    *hung = 0;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0)
            child();
        int status = 0;
        long start = now_us();
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (now_us() - start > 2000000) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                ++*hung;
                break;
            }
            usleep(1000);
        }
        bad += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    return bad;
}

static void forked(int n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    signal(SIGCHLD, SIG_IGN);
    if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 128) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) < 0)
        exit(2);
    pid_t client = fork();
    if (client == 0) {
        char buf[256];
        for (int i = 0; i < n; i++) {
            int c = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(c, (struct sockaddr *)&a, sizeof a) < 0 || read(c, buf, sizeof buf) <= 0 ||
                write(c, "QUIT\r\n", 6) != 6)
                _exit(1);
            while (read(c, buf, sizeof buf) > 0)
                ;
            close(c);
        }
        _exit(0);
    }
    static pid_t others[200];
    for (int i = 0; i < 200; i++)
        if ((others[i] = fork()) == 0) {
            pause();
            _exit(0);
        }
    long total = 0;
    for (int i = 0; i < n; i++) {
        int s = accept(l, NULL, NULL);
        if (fork() == 0) { /* the server speaks first (SMTP, FTP, SSH) */
            char buf[256];
            if (write(s, "220 hello\r\n", 11) != 11 || read(s, buf, sizeof buf) < 0 ||
                write(s, "221 bye\r\n", 9) != 9)
                _exit(1);
            close(s);
            _exit(0);
        }
        long t = now_us();
        close(s);
        total += now_us() - t;
    }
    signal(SIGCHLD, SIG_DFL);
    waitpid(client, NULL, 0);
    for (int i = 0; i < 200; i++)
        kill(others[i], SIGKILL);
    printf("close_us_mean=%ld\n", total / n);
}

int main(int argc, char **argv)
{
    int n = argc > 2 ? atoi(argv[2]) : 1, hung, bad;
    if (argc < 2)
        return 2;
    if (strcmp(argv[1], "resethand") == 0) {
        bad = runs(resethand_child, n, &hung);
        printf("hung=%d of %d failed=%d\n", hung, n, bad);
    } else if (strcmp(argv[1], "tsync") == 0) {
        bad = runs(tsync_child, n, &hung);
        printf("killed=%d of %d hung=%d\n", bad, n, hung);
    } else if (strcmp(argv[1], "noclone") == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            struct sock_filter f[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                KILL_ON(SYS_clone3),
                KILL_ON(SYS_clone),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
            };
            install(f, sizeof f / sizeof f[0], 0);
            execl(argv[0], argv[0], "onesrv", (char *)NULL);
            _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        printf("status=%d signal=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
               WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    } else if (strcmp(argv[1], "onesrv") == 0) {
        int c, s;
        if (pairs(1, &c, &s) < 0)
            return 2;
        close(s);
        usleep(100000);
        return 0;
    } else if (strcmp(argv[1], "forked") == 0) {
        forked(n);
    } else if (strcmp(argv[1], "exitwait") == 0) {
        pid_t pid = fork();
        long start = now_us();
        if (pid == 0) {
            int c[2], s[2];
            if (pairs(2, c, s) < 0)
                _exit(2);
            close(s[0]); /* handed to the reaper; its peer never answers */
            exit(0);     /* s[1] still open, a byte unread */
        }
        waitpid(pid, NULL, 0);
        printf("exit_ms=%ld\n", (now_us() - start) / 1000);
    } else {
        return 2;
    }
    return 0;
}
