/* A scriptable TCP server for the tests: it listens, then runs its steps in
 * order on one accepted connection, printing what each close returned.
 *
 * usage: closer [-6] [-C HOW] PORT STEP...
 *   -C HOW        first close every fd from 3 up, as some daemons do at
 *                 start-up: HOW is loop (close() each), closefrom,
 *                 close_range, syscall (syscall(SYS_close_range)), or dup2
 *                 (dup2 /dev/null onto each of 3..4095, then close them)
 *   accept        accept the connection
 *   queued:N      wait until N bytes are queued unread (FIONREAD)
 *   read:N        read exactly N bytes
 *   readq         read whatever is queued now, to EAGAIN (a server that
 *                 takes its socket buffer into its own)
 *   write:N       write N bytes of the test pattern; prints "wrote=N"
 *   sleep:MS      sleep
 *   nonblock      set O_NONBLOCK on the connection
 *   linger0       SO_LINGER {1, 0}
 *   shutwr        shutdown(SHUT_WR): our FIN, before the close (haproxy's way)
 *   close         close(); prints "close=RET errno=NAME ms=ELAPSED"
 *   fclose        fclose(fdopen()); prints "fclose=RET errno=NAME ms=ELAPSED"
 *   dup2over      dup2(a /dev/null fd, connection): the implicit close
 *   dup3over      the same with dup3(..., O_CLOEXEC)
 *   close_range   close_range(connection, connection, 0)
 *   closefrom     closefrom(connection)
 *   __close       __close(connection)
 *   syscall_close syscall(SYS_close, connection)
 *   syscall_close_range   syscall(SYS_close_range, connection, ~0U, 0)
 *   itimer        SIGALRM every millisecond from now on (no SA_RESTART)
 *   sigblock      a SIGUSR1 handler, and SIGUSR1 blocked, outside any handler
 *   sigblockall   every signal blocked (a daemon that reads its signals from
 *                 a signalfd), a SIGUSR1 handler installed
 *   handlerclose  close() inside a SIGUSR1 handler (raise()d: on this stack)
 *   handlerclose-nodefer  the same, the handler installed with SA_NODEFER
 *   handlerclose-reset    the same, the handler first resetting its signal
 *                 to SIG_DFL with a raw rt_sigaction() and no restorer: only
 *                 the restorer's own unwind entry tells its frame
 *   threadclose   close() on a new thread that blocks every signal, as
 *                 haproxy's and most thread pools' workers do; prints
 *                 "joined" once that thread is gone
 *   crashhandler  a SIGABRT handler with SA_NODEFER | SA_RESETHAND, as redis
 *                 installs: not running while it is still installed
 *   reuse         open /dev/null; prints "reuse=FD" (the lowest free number)
 *   fdcount       prints "fds=N", the number of entries in /proc/self/fd
 *   fill          write (non-blocking) until the send queue is full
 *   threads       prints "threads=N" and each other thread's blocked signals
 *   cputime       prints "cpu_ms=N": user + system time of all threads so far
 *   unshare       unshare(CLONE_NEWUSER); prints "unshare=RET errno=NAME"
 *   fork-list     fork a child that prints its socket fds ("child-sockets=N")
 *   exec-list     fork and exec ls -l /proc/self/fd; its output on stdout
 *   fork-close:MS fork a child that closes its copy of the connection, prints
 *                 "child=PID", waits MS and exits; the parent goes on at once
 *   exit          return from main with the connection open
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "../../tools/demo.h"
#include "pattern.h"
#include "count_fds.h"

static volatile sig_atomic_t alarms;
static int handler_conn = -1; /* what handlerclose's handler closes */
static long handler_start;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}


static const char *errno_name(int e)
{
    switch (e) {
    case 0: return "0";
    case EBADF: return "EBADF";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case EINVAL: return "EINVAL";
    default: return strerror(e);
    }
}

/* errno is set to 77 before each close: a successful close leaves it so. */
static void report(const char *what, int ret, int err, long start)
{
    printf("%s=%d errno=%s ms=%ld alarms=%d\n", what, ret, err == 77 ? "unchanged" : errno_name(err),
           now_ms() - start, (int)alarms);
    fflush(stdout);
}

static int handler_resets; /* handlerclose-reset */

static void close_in_handler(int sig)
{
    if (handler_resets) {
        long dfl[4] = {0, 0, 0, 0}; /* the kernel's sigaction: SIG_DFL, no flags, no restorer */
        syscall(SYS_rt_sigaction, sig, dfl, NULL, 8);
    }
    errno = 77;
    int ret = close(handler_conn);
    report("close", ret, errno, handler_start); /* raise()d: not async */
}

static void handler_close(int conn, int flags, long start)
{
    struct sigaction sa = {.sa_handler = close_in_handler, .sa_flags = flags};
    handler_conn = conn;
    handler_start = start;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
}

static void *close_on_thread(void *arg)
{
    int conn = *(int *)arg;
    long start = now_ms();
    errno = 77;
    int ret = close(conn);
    report("close", ret, errno, start);
    return NULL;
}

static void thread_close(int conn)
{
    sigset_t all, old;
    pthread_t t;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* the new thread inherits it */
    if (pthread_create(&t, NULL, close_on_thread, &conn) != 0)
        die("pthread_create");
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_join(t, NULL);
    printf("joined\n");
    fflush(stdout);
}

static void write_pattern(int fd, size_t len)
{
    unsigned char buf[65536];
    for (size_t off = 0; off < len;) {
        size_t n = len - off < sizeof buf ? len - off : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern_byte(off + i);
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            usleep(1000);
            continue;
        }
        if (w < 0) {
            printf("write failed: %s\n", strerror(errno));
            return;
        }
        off += (size_t)w;
    }
}

int __close(int fd);


/* Every thread but this one, with its SigBlk mask. */
static void print_threads(void)
{
    char path[300], line[256];
    int threads = 0;
    DIR *tasks = opendir("/proc/self/task");
    struct dirent *d;
    while (tasks && (d = readdir(tasks))) {
        if (d->d_name[0] == '.')
            continue;
        threads++;
        if (atoi(d->d_name) == getpid())
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/status", d->d_name);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof line, f))
            if (strncmp(line, "SigBlk:", 7) == 0)
                printf("thread-sigblk=%s", line + 8);
        if (f)
            fclose(f);
    }
    if (tasks)
        closedir(tasks);
    printf("threads=%d\n", threads);
    fflush(stdout);
}

/* A forked child counts the sockets it holds, then exits at once. */
static void fork_list_sockets(void)
{
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        char path[64], link[64];
        int sockets = 0;
        for (int fd = 0; fd < 65536; fd++) {
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(path, link, sizeof link - 1);
            if (n > 0 && strncmp(link, "socket:", 7) == 0)
                sockets++;
        }
        printf("child-sockets=%d\n", sockets);
        fflush(stdout);
        _exit(0);
    }
    waitpid(child, NULL, 0);
}

static void close_everything(const char *how)
{
    if (strcmp(how, "loop") == 0)
        for (int fd = 3; fd < 65536; fd++)
            close(fd);
    else if (strcmp(how, "closefrom") == 0)
        closefrom(3);
    else if (strcmp(how, "close_range") == 0)
        close_range(3, ~0U, 0);
    else if (strcmp(how, "syscall") == 0)
        syscall(SYS_close_range, 3, ~0U, 0);
    else if (strcmp(how, "dup2") == 0) {
        int null = open("/dev/null", O_RDONLY);
        for (int fd = 3; fd < 4096; fd++)
            dup2(null, fd);
        for (int fd = 3; fd < 4096; fd++)
            close(fd);
    }
}

static int is_close_step(const char *step)
{
    static const char *const steps[] = {"dup2over", "dup3over", "close_range", "closefrom",
                                        "__close", "syscall_close", "syscall_close_range"};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (strcmp(step, steps[i]) == 0)
            return 1;
    return 0;
}

/* Each of the ways to drop the connection's fd, by step name. */
static int close_by(const char *how, int conn)
{
    int null = open("/dev/null", O_RDONLY), ret;
    errno = 77;
    if (strcmp(how, "dup2over") == 0)
        ret = dup2(null, conn);
    else if (strcmp(how, "dup3over") == 0)
        ret = dup3(null, conn, O_CLOEXEC);
    else if (strcmp(how, "close_range") == 0)
        ret = close_range((unsigned)conn, (unsigned)conn, 0);
    else if (strcmp(how, "closefrom") == 0)
        ret = (closefrom(conn), 0);
    else if (strcmp(how, "__close") == 0)
        ret = __close(conn);
    else if (strcmp(how, "syscall_close") == 0)
        ret = (int)syscall(SYS_close, conn);
    else
        ret = (int)syscall(SYS_close_range, conn, ~0U, 0);
    int err = errno;
    if (null != conn)
        close(null);
    errno = err;
    return ret;
}

int main(int argc, char **argv)
{
    int family = 4, argi = 1, conn = -1;
    if (argc > 1 && strcmp(argv[1], "-6") == 0) {
        family = 6;
        argi++;
    }
    if (argi + 1 < argc && strcmp(argv[argi], "-C") == 0) {
        close_everything(argv[argi + 1]);
        argi += 2;
    }
    if (argi >= argc) {
        fprintf(stderr, "usage: closer [-6] PORT STEP...\n");
        return 2;
    }
    int port = atoi(argv[argi++]);
    int listener = demo_listen(family, port);
    demo_ready(port);

    for (; argi < argc; argi++) {
        const char *step = argv[argi];
        const char *colon = strchr(step, ':');
        long arg = colon ? atol(colon + 1) : 0;
        long start = now_ms();

        if (strcmp(step, "accept") == 0) {
            conn = accept(listener, NULL, NULL);
            if (conn < 0)
                die("accept");
        } else if (strncmp(step, "queued:", 7) == 0) {
            int queued = 0;
            while (ioctl(conn, FIONREAD, &queued) == 0 && queued < arg && now_ms() - start < 5000)
                usleep(1000);
        } else if (strcmp(step, "readq") == 0) {
            char sink[65536];
            while (recv(conn, sink, sizeof sink, MSG_DONTWAIT) > 0)
                ;
        } else if (strncmp(step, "read:", 5) == 0) {
            char buf[65536];
            for (long got = 0; got < arg;) {
                long want = arg - got < (long)sizeof buf ? arg - got : (long)sizeof buf;
                ssize_t n = recv(conn, buf, (size_t)want, 0);
                if (n < 0 && errno == EAGAIN) {
                    usleep(1000);
                    continue;
                }
                if (n <= 0)
                    break;
                got += n;
            }
        } else if (strncmp(step, "write:", 6) == 0) {
            write_pattern(conn, (size_t)arg);
            printf("wrote=%ld\n", arg);
            fflush(stdout);
        } else if (strncmp(step, "sleep:", 6) == 0) {
            usleep((useconds_t)arg * 1000);
        } else if (strcmp(step, "nonblock") == 0) {
            fcntl(conn, F_SETFL, fcntl(conn, F_GETFL) | O_NONBLOCK);
        } else if (strcmp(step, "shutwr") == 0) {
            shutdown(conn, SHUT_WR);
        } else if (strcmp(step, "linger0") == 0) {
            struct linger lg = {1, 0};
            setsockopt(conn, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        } else if (strcmp(step, "close") == 0) {
            errno = 77;
            int ret = close(conn);
            report("close", ret, errno, start);
        } else if (strcmp(step, "fclose") == 0) {
            FILE *stream = fdopen(conn, "r+");
            errno = 77;
            int ret = fclose(stream);
            report("fclose", ret, errno, start);
        } else if (is_close_step(step)) {
            int ret = close_by(step, conn);
            report(step, ret, errno, start);
        } else if (strcmp(step, "fdcount") == 0) {
            printf("fds=%d\n", count_fds());
            fflush(stdout);
        } else if (strcmp(step, "fill") == 0) {
            char buf[65536] = {0};
            long filled = 0, n;
            while ((n = send(conn, buf, sizeof buf, MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
                filled += n;
            printf("filled=%ld\n", filled);
            fflush(stdout);
        } else if (strcmp(step, "reuse") == 0) {
            printf("reuse=%d\n", open("/dev/null", O_RDONLY));
            fflush(stdout);
        } else if (strcmp(step, "threads") == 0) {
            print_threads();
        } else if (strcmp(step, "unshare") == 0) {
            errno = 0;
            int ret = unshare(CLONE_NEWUSER);
            printf("unshare=%d errno=%s\n", ret, errno_name(errno));
            fflush(stdout);
        } else if (strcmp(step, "cputime") == 0) {
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            printf("cpu_ms=%ld\n", (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000L +
                                       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000L);
            fflush(stdout);
        } else if (strcmp(step, "fork-list") == 0) {
            fork_list_sockets();
        } else if (strncmp(step, "fork-close:", 11) == 0) {
            fflush(stdout);
            if (fork() == 0) {
                close(conn);
                printf("child=%d\n", (int)getpid());
                fflush(stdout);
                usleep((useconds_t)arg * 1000);
                exit(0);
            }
        } else if (strcmp(step, "exec-list") == 0) {
            pid_t child = fork();
            if (child == 0) {
                execl("/bin/ls", "ls", "-l", "/proc/self/fd/", (char *)NULL);
                _exit(127);
            }
            waitpid(child, NULL, 0);
        } else if (strcmp(step, "itimer") == 0) {
            struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
            struct itimerval every_ms = {{0, 1000}, {0, 1000}};
            sigaction(SIGALRM, &sa, NULL);
            setitimer(ITIMER_REAL, &every_ms, NULL);
        } else if (strcmp(step, "crashhandler") == 0) {
            struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_NODEFER | SA_RESETHAND};
            sigaction(SIGABRT, &sa, NULL);
        } else if (strcmp(step, "sigblock") == 0) {
            struct sigaction sa = {.sa_handler = on_alarm};
            sigset_t usr1;
            sigaction(SIGUSR1, &sa, NULL);
            sigemptyset(&usr1);
            sigaddset(&usr1, SIGUSR1);
            sigprocmask(SIG_BLOCK, &usr1, NULL);
        } else if (strcmp(step, "sigblockall") == 0) {
            struct sigaction sa = {.sa_handler = on_alarm};
            sigset_t all;
            sigaction(SIGUSR1, &sa, NULL);
            sigfillset(&all);
            sigprocmask(SIG_BLOCK, &all, NULL);
        } else if (strcmp(step, "handlerclose") == 0) {
            handler_close(conn, 0, start);
        } else if (strcmp(step, "handlerclose-nodefer") == 0) {
            handler_close(conn, SA_NODEFER, start);
        } else if (strcmp(step, "handlerclose-reset") == 0) {
            handler_resets = 1;
            handler_close(conn, 0, start);
        } else if (strcmp(step, "threadclose") == 0) {
            thread_close(conn);
        } else if (strcmp(step, "exit") == 0) {
            return 0;
        } else {
            fprintf(stderr, "closer: unknown step %s\n", step);
            return 2;
        }
    }
    close(listener);
    return 0;
}
