/* The driver and load generator of the network benchmarks. It starts the
 * server (everything after "--", e.g. `env LD_PRELOAD=... server rps`) as
 * its child, plays the clients from this separate process, stops the server
 * by closing its standard input, and prints one line of key=value results:
 * its own, the server's, the server's CPU time, and the change of the
 * namespace's reset counters over the run.
 *
 *   client rps SECONDS THREADS -- SERVER...
 *       THREADS threads, each one connection after another for SECONDS:
 *       connect, send the request, read the reply to EOF, close.
 *       rps = replies received in full per second.
 *   client latency COUNT SEND_MS -- SERVER...
 *       COUNT connections one after another; each sends a request and then
 *       keeps sending for SEND_MS (4 KiB every 100 us), so the server's
 *       close finds bytes unread and more in flight; then it waits for the
 *       server's end of the connection and closes. The server reports how
 *       long its close() calls took.
 *   client linger COUNT -- SERVER...
 *       COUNT connections at once: all send a request, all are closed by
 *       the server (each with unread bytes), and only then, after the
 *       server's memory and CPU are measured with every one lingering, does
 *       the client read its replies and close them all; then it measures
 *       how long and how much server CPU the lingering sockets take to go.
 *
 * Every loop is bounded in count and time. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define SERVER_READY_MS 10000
#define SERVER_EXIT_MS 30000
#define MAX_CONNECTIONS 20000000L

/* ---- the server child ---- */

struct server {
    pid_t pid;
    int ctl;       /* its standard input: closing it stops the server */
    int out;       /* its standard output */
    FILE *err;     /* its standard error, kept to relay it afterwards */
    int port;
    char result[1024];
    long cpu_ms;   /* user + system, all threads, from wait4 */
    int status;
};

/* Reads one line from fd within timeout_ms; returns its length or -1. */
static int read_line(int fd, char *line, size_t len, int timeout_ms)
{
    size_t got = 0;
    long long deadline = now_ns() + timeout_ms * 1000000LL;
    while (got + 1 < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)((deadline - now_ns()) / 1000000);
        if (left < 0 || poll(&p, 1, left) <= 0)
            return -1;
        ssize_t n = read(fd, line + got, 1);
        if (n <= 0)
            return -1;
        if (line[got] == '\n')
            break;
        got++;
    }
    line[got] = '\0';
    return (int)got;
}

static void server_start(struct server *s, char **argv)
{
    int in[2], out[2];
    char line[128];
    memset(s, 0, sizeof *s);
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || !(s->err = tmpfile()))
        bench_die("server pipes");
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0)
        bench_die("fork");
    if (s->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(fileno(s->err), 2);
        close(fileno(s->err));
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->ctl = in[1];
    s->out = out[0];
    if (read_line(s->out, line, sizeof line, SERVER_READY_MS) < 0 ||
        sscanf(line, "listening on port %d", &s->port) != 1) {
        fprintf(stderr, "client: the server did not start\n");
        kill(s->pid, SIGKILL);
        exit(3);
    }
}

static long rusage_ms(const struct rusage *ru)
{
    return (ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000L +
           (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000L;
}

/* Stops the server, collects its result line, CPU time and stderr (relayed
 * to ours, each line prefixed "server: "). */
static void server_stop(struct server *s)
{
    struct rusage ru;
    long long deadline = now_ns() + SERVER_EXIT_MS * 1000000LL;
    pid_t done = 0;

    close(s->ctl);
    while ((done = wait4(s->pid, &s->status, WNOHANG, &ru)) == 0 && now_ns() < deadline)
        sleep_us(10000);
    if (done == 0) {
        fprintf(stderr, "client: the server did not exit; killed\n");
        kill(s->pid, SIGKILL);
        wait4(s->pid, &s->status, 0, &ru);
    }
    s->cpu_ms = rusage_ms(&ru);
    if (read_line(s->out, s->result, sizeof s->result, 1000) < 0)
        strcpy(s->result, "server_result=none");
    close(s->out);

    char line[512];
    rewind(s->err);
    while (fgets(line, sizeof line, s->err))
        fprintf(stderr, "server: %s", line);
    fclose(s->err);
}

static void print_server(const struct server *s)
{
    printf(" %s server_cpu_ms=%ld server_exit=%d", s->result, s->cpu_ms,
           WIFEXITED(s->status) ? WEXITSTATUS(s->status) : -1);
}

static void set_timeouts(int fd, int seconds)
{
    struct timeval tv = {seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Reads to EOF or an error; returns bytes read, *reset set on ECONNRESET,
 * *eof on an orderly end. */
static size_t read_to_end(int fd, int *reset, int *eof)
{
    char buf[4096];
    size_t total = 0;
    *reset = *eof = 0;
    for (int i = 0; i < 100000; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            total += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        *eof = n == 0;
        *reset = n < 0 && errno == ECONNRESET;
        break;
    }
    return total;
}

/* ---- rps ---- */

struct rps_shared {
    int port;
    long long deadline;
    atomic_uint seq;
    atomic_long ok, resets, errors;
};

static void *rps_thread(void *arg)
{
    struct rps_shared *sh = arg;
    static const char request[REQUEST_LEN] = {'q'};
    long ok = 0, resets = 0, errors = 0;

    while (now_ns() < sh->deadline && ok + resets + errors < MAX_CONNECTIONS) {
        int reset, eof;
        int fd = connect_loopback(sh->port, atomic_fetch_add(&sh->seq, 1));
        if (fd < 0) {
            errors++;
            continue;
        }
        set_timeouts(fd, 5);
        if (write_all(fd, request, sizeof request) < 0) {
            errors++;
            close(fd);
            continue;
        }
        size_t got = read_to_end(fd, &reset, &eof);
        if (got == REPLY_LEN)
            ok++;
        if (reset)
            resets++;
        else if (!eof || got != REPLY_LEN)
            errors++;
        close(fd);
    }
    atomic_fetch_add(&sh->ok, ok);
    atomic_fetch_add(&sh->resets, resets);
    atomic_fetch_add(&sh->errors, errors);
    return NULL;
}

static void run_rps(double seconds, int threads, char **server_argv)
{
    struct server s;
    struct counters before;
    struct rps_shared sh = {0};
    pthread_t tids[64];

    counters_read(&before);
    server_start(&s, server_argv);
    sh.port = s.port;
    long long start = now_ns();
    sh.deadline = start + (long long)(seconds * 1e9);
    for (int i = 0; i < threads; i++)
        if (pthread_create(&tids[i], NULL, rps_thread, &sh) != 0)
            bench_die("pthread_create");
    for (int i = 0; i < threads; i++)
        pthread_join(tids[i], NULL);
    double elapsed = (double)(now_ns() - start) / 1e9;
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    server_stop(&s);

    long ok = atomic_load(&sh.ok);
    printf("mode=rps seconds=%.2f threads=%d requests=%ld rps=%.0f client_resets=%ld "
           "client_errors=%ld client_cpu_ms=%ld",
           elapsed, threads, ok, (double)ok / elapsed, atomic_load(&sh.resets),
           atomic_load(&sh.errors), rusage_ms(&self));
    print_server(&s);
    counters_print_since(&before);
    printf("\n");
}

/* ---- latency ---- */

static void run_latency(long count, long send_ms, char **server_argv)
{
    static const char chunk[4096] = {'q'};
    struct server s;
    struct counters before;
    long resets = 0, errors = 0;

    counters_read(&before);
    server_start(&s, server_argv);
    for (long i = 0; i < count; i++) {
        int fd = connect_loopback(s.port, (unsigned)i);
        if (fd < 0) {
            errors++;
            continue;
        }
        set_timeouts(fd, 5);
        long long until = now_ns() + send_ms * 1000000LL;
        int sent_ok = 1;
        /* The request, then more, 4 KiB every 100 us, for send_ms. */
        for (long k = 0; k < 1000000 && sent_ok; k++) {
            sent_ok = write_all(fd, chunk, sizeof chunk) == 0;
            if (now_ns() >= until)
                break;
            sleep_us(100);
        }
        if (!sent_ok) {
            if (errno == ECONNRESET || errno == EPIPE)
                resets++;
            else
                errors++;
        }
        /* The server has closed (FIN or RST) before the next connection
         * starts: one close at a time, and every one counted. */
        struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
        if (sent_ok && poll(&p, 1, 5000) <= 0)
            errors++;
        close(fd);
    }
    server_stop(&s);
    printf("mode=latency count=%ld send_ms=%ld client_resets=%ld client_errors=%ld", count,
           send_ms, resets, errors);
    print_server(&s);
    counters_print_since(&before);
    printf("\n");
}

/* ---- linger ---- */

/* Waits until every socket has seen the server's end (EOF or reset), or the
 * deadline; counts how each ended. */
static void await_server_closes(const int *fds, long count, long long deadline, long *eofs,
                                long *resets, long *timeouts)
{
    for (long i = 0; i < count; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN | POLLRDHUP};
        int left = (int)((deadline - now_ns()) / 1000000);
        if (left < 0 || poll(&p, 1, left) <= 0) {
            (*timeouts)++;
            continue;
        }
        int reset, eof;
        read_to_end(fds[i], &reset, &eof);
        *eofs += eof;
        *resets += reset;
        *timeouts += !eof && !reset;
    }
}

static void run_linger(long count, char **server_argv)
{
    static const char request[REQUEST_LEN] = {'q'};
    struct server s;
    struct counters before;
    long eofs = 0, resets = 0, timeouts = 0;

    long nofile = raise_nofile();
    if (nofile < count + 64) {
        fprintf(stderr, "client: RLIMIT_NOFILE %ld is too low for %ld sockets\n", nofile, count);
        exit(2);
    }
    int *fds = calloc((size_t)count, sizeof *fds);
    if (!fds)
        bench_die("calloc");

    counters_read(&before);
    server_start(&s, server_argv);
    sleep_us(100000);
    long rss_base = proc_status_kb(s.pid, "VmRSS");
    long fds_base = proc_fd_count(s.pid, 0);

    long long t_connect = now_ns();
    for (long i = 0; i < count; i++) {
        fds[i] = connect_loopback(s.port, (unsigned)i);
        if (fds[i] < 0)
            bench_die("connect");
        if (write_all(fds[i], request, sizeof request) < 0)
            bench_die("send");
    }
    await_server_closes(fds, count, now_ns() + 30000000000LL, &eofs, &resets, &timeouts);
    double accept_close_ms = (double)(now_ns() - t_connect) / 1e6;

    /* Every close() has returned in the server; what still lingers there
     * is the library's. */
    sleep_us(200000);
    long rss_lingering = proc_status_kb(s.pid, "VmRSS");
    long fds_lingering = proc_fd_count(s.pid, 0);
    long lingering = proc_fd_count(s.pid, 1) - 1; /* its sockets but the listener */
    long cpu_idle_start = proc_cpu_ms(s.pid);
    sleep_us(1000000);
    long cpu_drain_start = proc_cpu_ms(s.pid);

    /* The peers close: each lingering socket sees EOF and goes. */
    long long t_drain = now_ns();
    for (long i = 0; i < count; i++)
        close(fds[i]);
    long target = fds_lingering - lingering;
    for (int i = 0; i < 6000 && proc_fd_count(s.pid, 0) > target; i++)
        sleep_us(5000);
    double drain_ms = (double)(now_ns() - t_drain) / 1e6;
    long cpu_drain_end = proc_cpu_ms(s.pid);
    long left = proc_fd_count(s.pid, 1) - 1;
    server_stop(&s);

    long per = lingering > 0 ? lingering : count;
    printf("mode=linger sockets=%ld nofile=%ld eof=%ld resets=%ld timeouts=%ld "
           "accept_close_ms=%.0f fds_base=%ld lingering=%ld rss_base_kb=%ld "
           "rss_lingering_kb=%ld rss_bytes_per_socket=%ld idle_1s_cpu_ms=%ld drain_ms=%.0f "
           "drain_cpu_ms=%ld left_after_drain=%ld",
           count, nofile, eofs, resets, timeouts, accept_close_ms, fds_base, lingering,
           rss_base, rss_lingering, (rss_lingering - rss_base) * 1024 / per,
           cpu_drain_start - cpu_idle_start, drain_ms, cpu_drain_end - cpu_drain_start, left);
    print_server(&s);
    counters_print_since(&before);
    printf("\n");
    free(fds);
}

static void usage(void)
{
    fprintf(stderr, "usage: client rps SECONDS THREADS -- SERVER...\n"
                    "       client latency COUNT SEND_MS -- SERVER...\n"
                    "       client linger COUNT -- SERVER...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int sep = 0;
    for (int i = 1; i < argc && !sep; i++)
        if (strcmp(argv[i], "--") == 0)
            sep = i;
    if (sep < 2 || sep + 1 >= argc)
        usage();
    char **server_argv = argv + sep + 1;
    signal(SIGPIPE, SIG_IGN);

    if (strcmp(argv[1], "rps") == 0 && sep == 4) {
        double seconds = atof(argv[2]);
        int threads = atoi(argv[3]);
        if (seconds <= 0 || seconds > 60 || threads < 1 || threads > 64)
            usage();
        run_rps(seconds, threads, server_argv);
    } else if (strcmp(argv[1], "latency") == 0 && sep == 4) {
        long count = atol(argv[2]), send_ms = atol(argv[3]);
        if (count < 1 || count > 100000 || send_ms < 0 || send_ms > 10000)
            usage();
        run_latency(count, send_ms, server_argv);
    } else if (strcmp(argv[1], "linger") == 0 && sep == 3) {
        long count = atol(argv[2]);
        if (count < 1 || count > 100000)
            usage();
        run_linger(count, server_argv);
    } else {
        usage();
    }
    return 0;
}
