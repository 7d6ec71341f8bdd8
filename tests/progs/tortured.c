/* The server side of the torture test's scenarios (tests/torture/): it
 * listens, accepts one connection per plan, in order, and hands each to the
 * holder its plan names; then it ends by the exit path given. Every fd number
 * it gets and every child's wait status is printed as one line ("fd TAG
 * WHAT=N", "st TAG=STATUS"), so the driver can compare runs with and
 * without the library line by line.
 *
 * usage: tortured serve PORT SIGPIPE(ign|dfl) EXIT PLAN...
 *        tortured child TAG RFD WFD READ REPLY CLOSE END
 *   PLAN   open (keep /dev/null open), or HOLDER,READ,REPLY,CLOSE,END:
 *          the holder reads READ request bytes, writes REPLY bytes, then
 *          closes the connection by CLOSE and, if it is a process, ends by END
 *   HOLDER self dup dupkeep fdopen fork forkpriv clone vforkexec vforkexecl
 *          vforkdup0 vforktrue spawn spawndup0 spawntrue thread threadexit scm
 *   CLOSE  close fclose dup2 range closefrom sys shut keep
 *   END    exit _exit return closefrom
 *   EXIT   return exit _exit closefrom pthread_exit */
#include <fcntl.h>
#include <netinet/tcp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "../../tools/demo.h"

extern char **environ;

struct plan {
    char tag[16];
    char holder[16], close[16], end[16];
    long r, n;
    int fd;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    line[len++] = '\n';
    if (write(1, line, (size_t)len) < 0)
        _exit(90);
}

static void read_some(int fd, long want)
{
    char buf[4096];
    while (want > 0) {
        ssize_t got = read(fd, buf, want < (long)sizeof buf ? (size_t)want : sizeof buf);
        if (got <= 0)
            return;
        want -= got;
    }
}

/* Writes n bytes; a failed write ends the reply (as SIGPIPE allows). */
static void write_some(int fd, long n)
{
    static const char buf[4096];
    while (n > 0) {
        ssize_t put = write(fd, buf, n < (long)sizeof buf ? (size_t)n : sizeof buf);
        if (put <= 0)
            return;
        n -= put;
    }
}

static void close_by(int fd, const char *how)
{
    if (strcmp(how, "close") == 0) {
        close(fd);
    } else if (strcmp(how, "fclose") == 0) {
        FILE *f = fdopen(fd, "r+");
        if (f)
            fclose(f);
    } else if (strcmp(how, "dup2") == 0) {
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        dup2(null, fd);
        close(null);
        close(fd);
    } else if (strcmp(how, "range") == 0) {
        close_range((unsigned)fd, (unsigned)fd, 0);
    } else if (strcmp(how, "closefrom") == 0) {
        closefrom(fd);
    } else if (strcmp(how, "sys") == 0) {
        syscall(SYS_close, fd);
    } else if (strcmp(how, "shut") == 0) {
        shutdown(fd, SHUT_RDWR);
        close(fd);
    }
    /* keep: the exit closes it */
}

static void serve(int rfd, int wfd, long r, long n, const char *how)
{
    read_some(rfd, r);
    write_some(wfd, n);
    if (wfd != rfd)
        close_by(wfd, how);
    close_by(rfd, how);
}

static void end_by(const char *how)
{
    if (strcmp(how, "_exit") == 0)
        _exit(0);
    if (strcmp(how, "closefrom") == 0)
        closefrom(3);
    exit(0);
}

/* ---- holders in other processes ---- */

static void wait_child(const char *tag, pid_t pid)
{
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
        say("st %s=%d", tag, status);
    else
        say("st %s=none", tag);
}

/* fork and clone children say when they are ready, so that the parent's
 * close comes after whatever the child did first (prctl). */
static int ready_pipe[2];

static void child_ready(void)
{
    close(ready_pipe[0]);
    if (write(ready_pipe[1], "r", 1) != 1)
        _exit(91);
    close(ready_pipe[1]);
}

static void parent_wait_ready(void)
{
    char c;
    close(ready_pipe[1]);
    if (read(ready_pipe[0], &c, 1) != 1)
        say("ready: child gave no sign");
    close(ready_pipe[0]);
}

static pid_t fork_holder(const struct plan *p)
{
    pid_t pid;
    if (pipe2(ready_pipe, O_CLOEXEC) < 0)
        die("pipe2");
    /* clone: the raw system call, without CLONE_FILES, so that no fork
     * handler runs (the child goes on on a copy of this stack) */
    if (strcmp(p->holder, "clone") == 0)
        pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
    else
        pid = fork();
    if (pid == 0) {
        if (strcmp(p->holder, "forkpriv") == 0)
            prctl(PR_SET_DUMPABLE, 0);
        child_ready();
        serve(p->fd, p->fd, p->r, p->n, p->close);
        end_by(p->end);
    }
    if (pid < 0)
        die("fork");
    parent_wait_ready();
    return pid;
}

/* The argument vector of "tortured child" for plan p, reading from rfd and
 * writing to wfd; the strings live in buf. */
struct child_argv {
    char *argv[10];
    char buf[6][24];
};

static void child_args(struct child_argv *a, const struct plan *p, int rfd, int wfd)
{
    snprintf(a->buf[0], sizeof a->buf[0], "%d", rfd);
    snprintf(a->buf[1], sizeof a->buf[1], "%d", wfd);
    snprintf(a->buf[2], sizeof a->buf[2], "%ld", p->r);
    snprintf(a->buf[3], sizeof a->buf[3], "%ld", p->n);
    char *const v[] = {"tortured", "child", (char *)p->tag, a->buf[0], a->buf[1], a->buf[2],
                       a->buf[3], (char *)p->close, (char *)p->end, NULL};
    memcpy(a->argv, v, sizeof v);
}

static pid_t vfork_holder(const struct plan *p)
{
    struct child_argv a;
    int dup0 = strcmp(p->holder, "vforkdup0") == 0;
    child_args(&a, p, dup0 ? 0 : p->fd, p->fd);
    pid_t pid = vfork();
    if (pid == 0) {
        if (strcmp(p->holder, "vforktrue") == 0) {
            /* what Python's subprocess does with close_fds=True */
            close_range(3, ~0U, 0);
            execl("/bin/true", "true", (char *)NULL);
        } else if (strcmp(p->holder, "vforkexecl") == 0) {
            execl("/proc/self/exe", a.argv[0], a.argv[1], a.argv[2], a.argv[3], a.argv[4],
                  a.argv[5], a.argv[6], a.argv[7], a.argv[8], (char *)NULL);
        } else {
            if (dup0)
                dup2(p->fd, 0); /* inetd style: the connection is stdin too */
            execv("/proc/self/exe", a.argv);
        }
        _exit(127);
    }
    if (pid < 0)
        die("vfork");
    return pid;
}

static pid_t spawn_holder(const struct plan *p)
{
    struct child_argv a;
    posix_spawn_file_actions_t fa;
    pid_t pid = -1;
    int dup0 = strcmp(p->holder, "spawndup0") == 0;
    posix_spawn_file_actions_init(&fa);
    if (dup0)
        posix_spawn_file_actions_adddup2(&fa, p->fd, 0);
    child_args(&a, p, dup0 ? 0 : p->fd, p->fd);
    if (strcmp(p->holder, "spawntrue") == 0) {
        char *const tv[] = {"true", NULL};
        posix_spawn(&pid, "/bin/true", &fa, NULL, tv, environ);
    } else {
        posix_spawn(&pid, "/proc/self/exe", &fa, NULL, a.argv, environ);
    }
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* ---- SCM_RIGHTS: a helper process serves the connections passed to it ---- */

static int scm_sock = -1;
static pid_t scm_pid = -1;

static void scm_helper(int sock)
{
    struct plan p;
    for (;;) {
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {&p, sizeof p};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof cbuf};
        if (recvmsg(sock, &msg, 0) != (ssize_t)sizeof p)
            exit(0);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (!c || c->cmsg_type != SCM_RIGHTS)
            exit(4);
        memcpy(&p.fd, CMSG_DATA(c), sizeof p.fd);
        say("fd %s scm=%d", p.tag, p.fd);
        serve(p.fd, p.fd, p.r, p.n, p.close);
    }
}

static void scm_start(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        die("socketpair");
    scm_pid = fork();
    if (scm_pid == 0) {
        close(sv[0]);
        scm_helper(sv[1]);
    }
    close(sv[1]);
    scm_sock = sv[0];
}

static void scm_pass(const struct plan *p)
{
    char cbuf[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec iov = {(void *)p, sizeof *p};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &p->fd, sizeof p->fd);
    if (sendmsg(scm_sock, &msg, 0) < 0)
        die("sendmsg");
}

/* ---- threads ---- */

static pthread_t threads[16];
static int nthreads;
static pthread_mutex_t written_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t written_cond = PTHREAD_COND_INITIALIZER;
static int written;

static void *thread_main(void *arg)
{
    const struct plan *p = arg;
    serve(p->fd, p->fd, p->r, p->n, p->close);
    return NULL;
}

/* Serves its reply, then keeps writing a byte now and then for a while:
 * the exit comes while it still works. It never closes the connection. */
static void *busy_thread_main(void *arg)
{
    const struct plan *p = arg;
    read_some(p->fd, p->r);
    write_some(p->fd, p->n);
    pthread_mutex_lock(&written_lock);
    written++;
    pthread_cond_signal(&written_cond);
    pthread_mutex_unlock(&written_lock);
    for (int i = 0; i < 1500; i++) {
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
        if (write(p->fd, "x", 1) != 1)
            break;
    }
    return NULL;
}

static void thread_holder(struct plan *p)
{
    int busy = strcmp(p->holder, "threadexit") == 0;
    pthread_mutex_lock(&written_lock);
    int want = written + 1;
    pthread_mutex_unlock(&written_lock);
    pthread_t t;
    if (pthread_create(&t, NULL, busy ? busy_thread_main : thread_main, p) != 0)
        die("pthread_create");
    if (!busy) {
        pthread_join(t, NULL);
        return;
    }
    /* wait for its reply, so the bytes the peer must get are defined */
    pthread_mutex_lock(&written_lock);
    while (written < want)
        pthread_cond_wait(&written_cond, &written_lock);
    pthread_mutex_unlock(&written_lock);
    threads[nthreads++] = t;
}

/* ---- the main process ---- */

static void dup_holder(const struct plan *p, int keep)
{
    int d = keep ? fcntl(p->fd, F_DUPFD, 0) : dup(p->fd);
    say("fd %s dup=%d", p->tag, d);
    serve(p->fd, d, p->r, p->n, keep ? "keep" : p->close);
}

static void fdopen_holder(const struct plan *p)
{
    static char buf[1 << 20];
    int d = dup(p->fd);
    say("fd %s dup=%d", p->tag, d);
    FILE *in = fdopen(p->fd, "r"), *out = fdopen(d, "w");
    if (!in || !out)
        die("fdopen");
    if (fread(buf, 1, (size_t)p->r, in) != (size_t)p->r)
        say("fdopen %s: short read", p->tag);
    fwrite(buf, 1, (size_t)p->n, out);
    fclose(out);
    fclose(in);
}

static void run_plan(struct plan *p, pid_t *child)
{
    const char *h = p->holder;
    /* A holder in another process: the parent closes its copy at once. */
    int parent_closes = 1;
    if (strcmp(h, "self") == 0) {
        serve(p->fd, p->fd, p->r, p->n, p->close);
        parent_closes = 0;
    } else if (strcmp(h, "dup") == 0 || strcmp(h, "dupkeep") == 0) {
        dup_holder(p, strcmp(h, "dupkeep") == 0);
        parent_closes = 0;
    } else if (strcmp(h, "fdopen") == 0) {
        fdopen_holder(p);
        parent_closes = 0;
    } else if (strcmp(h, "fork") == 0 || strcmp(h, "forkpriv") == 0 || strcmp(h, "clone") == 0) {
        *child = fork_holder(p);
    } else if (strcmp(h, "vforktrue") == 0) {
        *child = vfork_holder(p);
        serve(p->fd, p->fd, p->r, p->n, p->close);
        parent_closes = 0;
    } else if (strncmp(h, "vfork", 5) == 0) {
        *child = vfork_holder(p);
    } else if (strcmp(h, "spawntrue") == 0) {
        *child = spawn_holder(p);
        serve(p->fd, p->fd, p->r, p->n, p->close);
        parent_closes = 0;
    } else if (strncmp(h, "spawn", 5) == 0) {
        *child = spawn_holder(p);
    } else if (strncmp(h, "thread", 6) == 0) {
        thread_holder(p);
        parent_closes = 0;
    } else if (strcmp(h, "scm") == 0) {
        scm_pass(p);
    } else {
        fprintf(stderr, "unknown holder %s\n", h);
        exit(2);
    }
    /* The parent closes only its own copy: closefrom would take later fds
     * too, and shutdown() would end the other holder's connection. */
    if (parent_closes)
        close_by(p->fd, strcmp(p->close, "closefrom") == 0 ? "range"
                        : strcmp(p->close, "shut") == 0    ? "close"
                                                           : p->close);
}

static int parse_plan(struct plan *p, const char *text, int i)
{
    char holder[16], close_how[16], end[16];
    memset(p, 0, sizeof *p);
    snprintf(p->tag, sizeof p->tag, "c%d", i);
    if (sscanf(text, "%15[^,],%ld,%ld,%15[^,],%15s", holder, &p->r, &p->n, close_how, end) != 5)
        return -1;
    memcpy(p->holder, holder, sizeof holder);
    memcpy(p->close, close_how, sizeof close_how);
    memcpy(p->end, end, sizeof end);
    return 0;
}

/* As a daemon under a capability bounding set runs: without
 * CAP_SYS_PTRACE, a child that made itself undumpable (forkpriv) cannot be
 * read in /proc by its parent. SECBIT_NOROOT first, so that exec'd children
 * do not get the capabilities back (their /proc would then be closed to the
 * parent too, cap_ptrace_access_check()). */
static void drop_capabilities(void)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED);
    syscall(SYS_capset, &h, d);
}

static int serve_main(int argc, char **argv)
{
    static struct plan plans[16];
    pid_t children[16];
    int nplans = argc - 5;
    if (argc < 5 || nplans > 16) {
        fprintf(stderr, "usage: tortured serve PORT SIGPIPE EXIT PLAN...\n");
        return 2;
    }
    /* both ways: the disposition came through exec from whoever started us */
    signal(SIGPIPE, strcmp(argv[3], "ign") == 0 ? SIG_IGN : SIG_DFL);
    drop_capabilities();
    for (int i = 0; i < nplans; i++) {
        children[i] = 0;
        if (strcmp(argv[5 + i], "open") != 0 && parse_plan(&plans[i], argv[5 + i], i) < 0) {
            fprintf(stderr, "bad plan %s\n", argv[5 + i]);
            return 2;
        }
        if (strcmp(plans[i].holder, "scm") == 0 && scm_pid < 0)
            scm_start();
    }
    int lfd = demo_listen(4, atoi(argv[2]));
    say("fd m listen=%d", lfd);
    say("listening on port %s", argv[2]);
    for (int i = 0; i < nplans; i++) {
        if (strcmp(argv[5 + i], "open") == 0) {
            say("fd m%d open=%d", i, open("/dev/null", O_RDONLY));
            continue;
        }
        plans[i].fd = accept(lfd, NULL, NULL);
        say("fd %s accept=%d", plans[i].tag, plans[i].fd);
        /* Every write leaves at once: Nagle could hold a reply's last
         * bytes back until an ACK, and a reset in the meantime (the same
         * without the library) would discard them, a count set by timing. */
        int one = 1;
        setsockopt(plans[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        run_plan(&plans[i], &children[i]);
    }
    for (int i = 0; i < nplans; i++)
        if (children[i])
            wait_child(plans[i].tag, children[i]);
    if (scm_pid > 0) {
        close(scm_sock);
        wait_child("scm", scm_pid);
    }
    const char *exit_how = argv[4];
    if (strcmp(exit_how, "pthread_exit") == 0)
        pthread_exit(NULL);
    if (strcmp(exit_how, "_exit") == 0)
        _exit(0);
    if (strcmp(exit_how, "exit") == 0)
        exit(0);
    if (strcmp(exit_how, "closefrom") == 0)
        closefrom(3);
    return 0;
}

/* An exec'd holder: serves the connection it inherited. */
static int child_main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: tortured child TAG RFD WFD READ REPLY CLOSE END\n");
        return 2;
    }
    int rfd = atoi(argv[3]), wfd = atoi(argv[4]);
    say("fd %s child=%d,%d", argv[2], rfd, wfd);
    serve(rfd, wfd, atol(argv[5]), atol(argv[6]), argv[7]);
    if (strcmp(argv[8], "return") == 0)
        return 0;
    end_by(argv[8]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "serve") == 0)
        return serve_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child_main(argc, argv);
    fprintf(stderr, "usage: tortured serve|child ...\n");
    return 2;
}
