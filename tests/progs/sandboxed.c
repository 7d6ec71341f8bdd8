/* A process that sandboxes itself with seccomp, as OpenSSH's pre-auth child
 * or a systemd unit does; filters are raw BPF (no libseccomp).
 *
 * usage: sandboxed ACTION HOW
 *   A child first lingers: it accepts a loopback connection and closes it
 *   with 10 bytes unread (its peer stays silent), makes a pipe, then
 *   installs a strict allowlist (read, write, close, nanosleep, exit) whose
 *   default ACTION is
 *     kill    SECCOMP_RET_KILL_PROCESS
 *     errno   SECCOMP_RET_ERRNO(EPERM)
 *     learn   kill, but getsockopt fails with EPERM
 *   through HOW: prctl (PR_SET_SECCOMP), tsync (syscall(SYS_seccomp) with
 *   SECCOMP_FILTER_FLAG_TSYNC: every thread) or raw (the system call
 *   instruction itself, which no library sees). Then it closes both pipe
 *   ends, sleeps 300 ms and returns from main. The parent prints
 *   "status=N signal=N cpu_ms=N ms=N" for the child (CPU of all its threads);
 *   a child still running after 5 s is killed (signal=9).
 *
 * usage: sandboxed exec-resources PROGRAM ARG...
 *   installs a filter that kills on systemd's @resources calls
 *   (sched_setscheduler, setpriority, setrlimit...), then execs PROGRAM, as
 *   systemd does for SystemCallFilter=~@resources. */
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "../../tools/demo.h"

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#endif

#define MAX_INSNS 64

struct filter {
    struct sock_filter insns[MAX_INSNS];
    unsigned short len;
};

static void add(struct filter *f, struct sock_filter insn)
{
    f->insns[f->len++] = insn;
}

static void begin(struct filter *f)
{
    f->len = 0;
    add(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
    add(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0));
    add(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    add(f, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
}

/* if nr == number: return action */
static void rule(struct filter *f, long number, unsigned action)
{
    add(f, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)number, 0, 1));
    add(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action));
}

static void end(struct filter *f, unsigned action)
{
    add(f, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action));
}

static long raw_seccomp(unsigned op, unsigned flags, void *prog)
{
#if defined(__x86_64__)
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_seccomp), "D"((long)op), "S"((long)flags),
                     "d"(prog) : "rcx", "r11", "memory");
    return ret;
#else
    register long x8 __asm__("x8") = SYS_seccomp;
    register long x0 __asm__("x0") = op;
    register long x1 __asm__("x1") = flags;
    register long x2 __asm__("x2") = (long)prog;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
#endif
}

static int install(struct filter *f, const char *how)
{
    struct sock_fprog prog = {.len = f->len, .filter = f->insns};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    if (strcmp(how, "prctl") == 0)
        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
    if (strcmp(how, "tsync") == 0)
        return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
    return raw_seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : -1;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A loopback connection closed with 10 bytes unread; its peer stays open. */
static void linger_once(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int queued = 0, listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(listener, 1) < 0 ||
        getsockname(listener, (struct sockaddr *)&sa, &len) < 0)
        die("listen");
    int peer = socket(AF_INET, SOCK_STREAM, 0);
    if (peer < 0 || connect(peer, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("connect");
    int conn = accept(listener, NULL, NULL);
    if (conn < 0 || write(peer, "0123456789", 10) != 10)
        die("accept");
    for (int i = 0; i < 1000 && ioctl(conn, FIONREAD, &queued) == 0 && queued < 10; i++)
        usleep(1000);
    close(conn);
}

static int sandboxed_child(const char *action, const char *how)
{
    struct filter f;
    int fds[2];
    unsigned deflt = strcmp(action, "errno") == 0 ? SECCOMP_RET_ERRNO | EPERM : SECCOMP_RET_KILL_PROCESS;
    long allowed[] = {SYS_read, SYS_write, SYS_close, SYS_nanosleep, SYS_clock_nanosleep,
                      SYS_exit, SYS_exit_group, SYS_rt_sigreturn};

    linger_once();
    if (pipe(fds) < 0)
        die("pipe");
    begin(&f);
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        rule(&f, allowed[i], SECCOMP_RET_ALLOW);
    if (strcmp(action, "learn") == 0)
        rule(&f, SYS_getsockopt, SECCOMP_RET_ERRNO | EPERM);
    end(&f, deflt);
    fflush(NULL);
    if (install(&f, how) < 0)
        die("seccomp");
    if (close(fds[0]) != 0 || close(fds[1]) != 0)
        return 4;
    struct timespec pause = {0, 300 * 1000000L};
    nanosleep(&pause, NULL);
    return 0;
}

static int exec_under_resources_filter(char **argv)
{
    struct filter f;
    long resources[] = {SYS_sched_setscheduler, SYS_sched_setparam, SYS_sched_setattr,
                        SYS_sched_setaffinity, SYS_setpriority, SYS_setrlimit, SYS_ioprio_set,
                        SYS_set_mempolicy, SYS_mbind, SYS_migrate_pages, SYS_move_pages};
    begin(&f);
    for (size_t i = 0; i < sizeof resources / sizeof resources[0]; i++)
        rule(&f, resources[i], SECCOMP_RET_KILL_PROCESS);
    end(&f, SECCOMP_RET_ALLOW);
    if (install(&f, "raw") < 0)
        die("seccomp");
    execv(argv[0], argv);
    die("execv");
    return 3;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "exec-resources") == 0)
        return exec_under_resources_filter(argv + 2);
    if (argc != 3)
        return 2;
    long start = now_ms();
    fflush(NULL);
    pid_t child = fork();
    if (child == 0)
        exit(sandboxed_child(argv[1], argv[2])); /* exit(): as a return from main */
    /* A child the filter leaves stuck (a sanitizer's runtime retrying a
     * denied call) is killed after 5 s: its status then says SIGKILL. */
    int status;
    struct rusage ru;
    pid_t done = 0;
    for (int waited = 0; (done = wait4(child, &status, WNOHANG, &ru)) == 0 && waited < 5000; waited += 10)
        usleep(10000);
    if (done == 0) {
        kill(child, SIGKILL);
        done = wait4(child, &status, 0, &ru);
    }
    if (done != child)
        die("wait4");
    long cpu_ms = ru.ru_utime.tv_sec * 1000L + ru.ru_utime.tv_usec / 1000 + ru.ru_stime.tv_sec * 1000L +
                  ru.ru_stime.tv_usec / 1000;
    printf("status=%d signal=%d cpu_ms=%ld ms=%ld\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           WIFSIGNALED(status) ? WTERMSIG(status) : 0, cpu_ms, now_ms() - start);
    return 0;
}
