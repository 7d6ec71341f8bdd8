#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The runner starts every test in the build directory. */
#define SHIM_PATH "./libnorst.so"

/* ---- counters ---- */

/* Finds "Prefix: ... name ..." header/value line pairs, as in
 * /proc/net/netstat and /proc/net/snmp. */
static long read_counter(const char *path, const char *prefix, const char *name)
{
    char header[8192], values[8192];
    FILE *f = fopen(path, "r");
    long result = -1;
    if (!f)
        return -1;
    while (fgets(header, sizeof header, f) && fgets(values, sizeof values, f)) {
        if (strncmp(header, prefix, strlen(prefix)) != 0)
            continue;
        char *hs, *vs;
        char *h = strtok_r(header, " \n", &hs), *v = strtok_r(values, " \n", &vs);
        while (h && v) {
            if (strcmp(h, name) == 0)
                result = atol(v);
            h = strtok_r(NULL, " \n", &hs);
            v = strtok_r(NULL, " \n", &vs);
        }
    }
    fclose(f);
    return result;
}

const char *counters_proc = "/proc";

void counters_read(struct counters *c)
{
    char netstat[128], snmp[128];
    snprintf(netstat, sizeof netstat, "%s/net/netstat", counters_proc);
    snprintf(snmp, sizeof snmp, "%s/net/snmp", counters_proc);
    c->abort_on_close = read_counter(netstat, "TcpExt:", "TCPAbortOnClose");
    c->abort_on_data = read_counter(netstat, "TcpExt:", "TCPAbortOnData");
    c->out_rsts = read_counter(snmp, "Tcp:", "OutRsts");
}

struct counters counters_since(const struct counters *before)
{
    struct counters now;
    sleep_ms(50); /* let any RST still in flight on loopback be counted */
    counters_read(&now);
    now.abort_on_close -= before->abort_on_close;
    now.abort_on_data -= before->abort_on_data;
    now.out_rsts -= before->out_rsts;
    return now;
}

/* ---- processes ---- */

void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

long elapsed_ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

long number_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? atol(p + strlen(key)) : -1;
}

void read_text_file(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

int private_mounts(void)
{
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -1;
    return 0;
}

int shell(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    fflush(NULL);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int contains(const char *haystack, const char *needle)
{
    return strstr(haystack, needle) != NULL;
}

int proc_wait_output(struct proc *p, const char *text, int timeout_ms)
{
    size_t len = strlen(p->out);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!contains(p->out, text) && elapsed_ms_since(&start) < timeout_ms) {
        struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t n = read(p->out_fd, p->out + len, sizeof p->out - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        p->out[len] = '\0';
    }
    return contains(p->out, text);
}

void proc_start(struct proc *p, int with_shim, const char *const *env,
                const char *const *argv, int wait_ready)
{
    static int serial;
    int out[2];
    memset(p, 0, sizeof *p);
    snprintf(p->err_path, sizeof p->err_path, "/tmp/norst-test-%d-%d.err", (int)getpid(), serial++);
    if (pipe2(out, O_CLOEXEC) < 0) {
        perror("pipe2");
        exit(99);
    }
    fflush(NULL);
    p->pid = fork();
    if (p->pid == 0) {
        int err = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(out[1], 1);
        dup2(err, 2);
        /* NORST_TEST_RUNTIME: a sanitizer runtime that must be loaded before
         * a sanitized libnorst.so (make check-full). */
        const char *runtime = getenv("NORST_TEST_RUNTIME");
        char preload[512];
        snprintf(preload, sizeof preload, "%s%s%s", runtime ? runtime : "", runtime ? ":" : "", SHIM_PATH);
        if (with_shim)
            setenv("LD_PRELOAD", preload, 1);
        else
            unsetenv("LD_PRELOAD");
        for (; env && *env; env++)
            putenv((char *)*env);
        execv(argv[0], (char *const *)argv);
        perror(argv[0]);
        _exit(127);
    }
    close(out[1]);
    p->out_fd = out[0];
    if (wait_ready)
        proc_wait_output(p, "listening on port", 5000);
}

void closer_start(struct proc *p, int with_shim, const char *const *env, int family,
                  const char *steps)
{
    closer_program_start(p, "./tests/progs/closer", with_shim, env, family, steps);
}

void closer_program_start(struct proc *p, const char *program, int with_shim,
                          const char *const *env, int family, const char *steps)
{
    static char words[1024];
    const char *argv[64] = {program};
    int argc = 1;
    if (family == 6)
        argv[argc++] = "-6";
    argv[argc++] = "5000";
    snprintf(words, sizeof words, "%s", steps);
    for (char *save, *w = strtok_r(words, " ", &save); w && argc < 63; w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    proc_start(p, with_shim, env, argv, 1);
}

static void slurp(int fd, char *buf, size_t cap)
{
    size_t len = strlen(buf);
    ssize_t n;
    while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
}

int proc_finish(struct proc *p, int timeout_ms)
{
    struct timespec start;
    int killed = 0;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (waitpid(p->pid, &p->status, WNOHANG) == 0) {
        if (elapsed_ms_since(&start) > timeout_ms) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &p->status, 0);
            killed = 1;
            break;
        }
        sleep_ms(5);
    }
    slurp(p->out_fd, p->out, sizeof p->out);
    close(p->out_fd);
    int err = open(p->err_path, O_RDONLY);
    if (err >= 0) {
        slurp(err, p->err, sizeof p->err);
        close(err);
    }
    unlink(p->err_path);
    if (killed || !WIFEXITED(p->status))
        return -1;
    return WEXITSTATUS(p->status);
}

int run_client(const char *const *argv, char *out, size_t outlen)
{
    struct proc p;
    proc_start(&p, 0, NULL, argv, 0);
    int status = proc_finish(&p, 10000);
    snprintf(out, outlen, "%s", p.out);
    return status;
}

/* ---- the peer ---- */

int peer_connect(int family, int port)
{
    int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                               .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int rc = family == 6 ? connect(fd, (struct sockaddr *)&sa6, sizeof sa6)
                         : connect(fd, (struct sockaddr *)&sa4, sizeof sa4);
    if (fd < 0 || rc < 0) {
        perror("peer_connect");
        exit(99);
    }
    return fd;
}

void peer_send(int fd, const void *buf, size_t len)
{
    if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len) {
        perror("peer_send");
        exit(99);
    }
}

unsigned char pattern_byte(size_t i)
{
    return (unsigned char)((i * 7 + i / 251) & 0xff);
}

void peer_send_pattern(int fd, size_t len)
{
    unsigned char buf[4096];
    for (size_t off = 0; off < len;) {
        size_t n = len - off < sizeof buf ? len - off : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern_byte(off + i);
        peer_send(fd, buf, n);
        off += n;
    }
}

struct peer_result peer_read_all(int fd, int timeout_ms)
{
    struct peer_result r = {.pattern_ok = 1};
    unsigned char buf[65536];
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        long left = timeout_ms - elapsed_ms_since(&start);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
            r.timed_out = 1;
            return r;
        }
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] != pattern_byte(r.bytes + (size_t)i))
                    r.pattern_ok = 0;
            r.bytes += (size_t)n;
        } else if (n == 0) {
            r.eof = 1;
            return r;
        } else if (errno != EINTR) {
            r.reset = errno == ECONNRESET;
            return r;
        }
    }
}

static void exchange_finish(struct exchange *x, const struct counters *before, int family,
                            size_t send_bytes)
{
    int fd = peer_connect(family, 5000);
    peer_send_pattern(fd, send_bytes);
    x->peer = peer_read_all(fd, 5000);
    close(fd);
    x->server_status = proc_finish(&x->server, 10000);
    x->delta = counters_since(before);
}

void exchange_run(struct exchange *x, int with_shim, const char *const *env, int family,
                  const char *steps, size_t send_bytes)
{
    struct counters before;
    counters_read(&before);
    closer_start(&x->server, with_shim, env, family, steps);
    exchange_finish(x, &before, family, send_bytes);
}

void exchange_run_argv(struct exchange *x, int with_shim, const char *const *env,
                       const char *const *argv, int family, size_t send_bytes)
{
    struct counters before;
    counters_read(&before);
    proc_start(&x->server, with_shim, env, argv, 1);
    exchange_finish(x, &before, family, send_bytes);
}

/* ---- cases ---- */

static const char *current_case;
static int case_failed, case_skipped, passed, failed;

void case_begin(const char *name)
{
    current_case = name;
    case_failed = 0;
    case_skipped = 0;
}

void case_skip(const char *why)
{
    printf("SKIP %s: %s\n", current_case, why);
    fflush(stdout);
    case_skipped = 1;
}

void check_impl(int ok, const char *expr, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    if (ok)
        return;
    if (!case_failed)
        printf("FAIL %s\n", current_case);
    case_failed = 1;
    printf("    %s:%d: %s: ", file, line, expr);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

void case_end(void)
{
    if (case_skipped && !case_failed)
        return;
    if (case_failed) {
        failed++;
    } else {
        passed++;
        printf("PASS %s\n", current_case);
    }
    fflush(stdout);
}

int harness_done(void)
{
    return failed ? 1 : 0;
}
