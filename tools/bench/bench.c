/* Shared pieces of the benchmark programs; see bench.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

void bench_die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    exit(3);
}

long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

long long quantile(long long *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_ll);
    size_t rank = (size_t)(q * (double)n + 0.999999); /* nearest rank, 1-based */
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

/* The value under column `name` of the line pair that starts with prefix
 * ("TcpExt:" or "Tcp:"): a header line of names, then a line of values. */
static long read_counter(const char *path, const char *prefix, const char *name)
{
    char header[4096], values[4096];
    long result = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(header, sizeof header, f) && fgets(values, sizeof values, f)) {
        if (strncmp(header, prefix, strlen(prefix)) != 0)
            continue;
        char *hsave, *vsave;
        char *h = strtok_r(header, " \n", &hsave), *v = strtok_r(values, " \n", &vsave);
        while (h && v) {
            if (strcmp(h, name) == 0)
                result = atol(v);
            h = strtok_r(NULL, " \n", &hsave);
            v = strtok_r(NULL, " \n", &vsave);
        }
    }
    fclose(f);
    return result;
}

void counters_read(struct counters *c)
{
    c->abort_on_close = read_counter("/proc/net/netstat", "TcpExt:", "TCPAbortOnClose");
    c->abort_on_data = read_counter("/proc/net/netstat", "TcpExt:", "TCPAbortOnData");
    c->out_rsts = read_counter("/proc/net/snmp", "Tcp:", "OutRsts");
}

void counters_print_since(const struct counters *before)
{
    struct counters now;
    sleep_us(100000);
    counters_read(&now);
    printf(" abort_on_close=%ld abort_on_data=%ld out_rsts=%ld",
           now.abort_on_close - before->abort_on_close,
           now.abort_on_data - before->abort_on_data, now.out_rsts - before->out_rsts);
}

int listen_loopback(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        bench_die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        bench_die("bind");
    if (listen(fd, 4096) < 0)
        bench_die("listen");
    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        bench_die("getsockname");
    *port = ntohs(sa.sin_port);
    return fd;
}

int connect_loopback(int port, unsigned seq)
{
    struct sockaddr_in src = {.sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK + seq % 200)};
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
        connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

long proc_status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    long kb = -1;
    size_t flen = strlen(field);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, flen) == 0 && line[flen] == ':')
            kb = atol(line + flen + 1);
    fclose(f);
    return kb;
}

long proc_cpu_ms(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long utime = 0, stime = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name, which ends at the last ')': state is
     * field 3, utime 14, stime 15. */
    char *p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %lu %lu",
                     &utime, &stime) != 2)
        return -1;
    return (long)((utime + stime) * 1000UL / (unsigned long)sysconf(_SC_CLK_TCK));
}

long proc_fd_count(pid_t pid, int sockets_only)
{
    char path[64], link[64];
    long count = 0;
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        ssize_t n = sockets_only ? readlinkat(dirfd(d), e->d_name, link, sizeof link) : 0;
        count += !sockets_only || (n > 7 && memcmp(link, "socket:", 7) == 0);
    }
    closedir(d);
    return count;
}

long raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (long)rl.rlim_cur;
}

pid_t server_spawn(char **argv, int port, int timeout_ms)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork");
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    for (long long deadline = now_ns() + timeout_ms * 1000000LL; now_ns() < deadline; sleep_us(20000)) {
        int fd = connect_loopback(port, 0);
        if (fd >= 0) {
            close(fd);
            return pid;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1;
    }
    server_kill(pid);
    return -1;
}

void server_kill(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}
