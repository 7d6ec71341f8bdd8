/* norst trace: every RST the kernel sends, system-wide, for as long as
 * asked; each attributed to the process that caused it, and a summary at
 * the end. bpftrace (trace_script.c) reads the tracepoint; this side names
 * the reason, decodes the addresses, reads /proc for who the process is,
 * filters, and writes text or JSON in the schema of the library's log. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"
#include "trace.h"

#define LINE_MAX_BYTES 4096
#define STOP_GRACE_S 5 /* for bpftrace to detach after SIGINT */
/* An address's columns: family, port, bytes 4-7, 8-15, 16-23 (trace_script.c). */
enum { EP_FAMILY, EP_PORT, EP_BYTES4, EP_BYTES8, EP_BYTES16, ENDPOINT_COLUMNS };

struct trace_options {
    double duration; /* seconds; 0: until interrupted */
    long pid;        /* -1: any */
    const char *comm;
    long port;       /* -1: any */
    int json;
};

/* A line of bpftrace's output, as trace_script.c writes it. */
enum column {
    COL_TAG, COL_NSECS, COL_PID, COL_TID, COL_REASON, COL_STATE, COL_INQ, COL_FIN,
    COL_CLOSER_PID, COL_CLOSER_TID, COL_GONE, COL_GONE_PID, COL_GONE_TID,
    COL_LOCAL, COL_PEER = COL_LOCAL + ENDPOINT_COLUMNS, COL_COMM = COL_PEER + ENDPOINT_COLUMNS,
    COL_CLOSER_COMM, COL_GONE_COMM, COL_COUNT
};

struct endpoint {
    char text[64]; /* 127.0.0.1:5000 or [::1]:5000, as the library writes them */
    unsigned port;
};

static volatile sig_atomic_t stop_asked;
static struct timespec wall0, mono0;

static void on_stop(int sig)
{
    (void)sig;
    stop_asked = 1;
}

/* Bytes of the tracepoint's sockaddr, most significant first in a number. */
static void put_bytes(unsigned char *out, const char *hex, int count)
{
    unsigned long long v = strtoull(hex, NULL, 16);
    for (int i = 0; i < count; i++)
        out[i] = (unsigned char)(v >> (8 * (count - 1 - i)));
}

/* The tracepoint's sockaddr_in or sockaddr_in6, from its columns. */
static void decode_endpoint(char **col, struct endpoint *e)
{
    unsigned char v4[4], v6[16];
    char host[INET6_ADDRSTRLEN];
    unsigned long family = strtoul(col[EP_FAMILY], NULL, 10);
    e->port = (unsigned)strtoul(col[EP_PORT], NULL, 10);
    put_bytes(v4, col[EP_BYTES4], 4);
    put_bytes(v6, col[EP_BYTES8], 8);
    put_bytes(v6 + 8, col[EP_BYTES16], 8);
    if (family == AF_INET && inet_ntop(AF_INET, v4, host, sizeof host))
        snprintf(e->text, sizeof e->text, "%s:%u", host, e->port);
    else if (family == AF_INET6 && inet_ntop(AF_INET6, v6, host, sizeof host))
        snprintf(e->text, sizeof e->text, "[%s]:%u", host, e->port);
    else
        snprintf(e->text, sizeof e->text, "?");
}

/* CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns) as UTC, ISO 8601, ms. */
static void format_time(unsigned long long nsecs, char *out, size_t cap)
{
    long long mono = (long long)mono0.tv_sec * 1000000000LL + mono0.tv_nsec;
    long long wall = (long long)wall0.tv_sec * 1000000000LL + wall0.tv_nsec + ((long long)nsecs - mono);
    time_t sec = (time_t)(wall / 1000000000LL);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t len = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + len, cap - len, ".%03lldZ", wall / 1000000 % 1000);
}

/* The task to blame, from the columns of one event. */
struct culprit {
    pid_t pid;
    long tid;
    const char *comm;
};

/* For an abort on close the task in close() itself; otherwise the socket's
 * closer when it had one (tcp_send_reset runs in softirq or a timer then),
 * else the task that was running. */
static struct culprit culprit_of(char **col, const struct reason_names *names)
{
    unsigned long code = strtoul(col[COL_REASON], NULL, 10);
    const char *reason = code < TRACE_REASONS_MAX ? names->name[code] : NULL;
    int in_close = reason && strcmp(reason, "abort-on-close") == 0;
    long gone = strtol(col[COL_GONE_PID], NULL, 10), closer = strtol(col[COL_CLOSER_PID], NULL, 10);
    if (!in_close && strcmp(col[COL_GONE], "1") == 0 && gone > 0)
        return (struct culprit){(pid_t)gone, strtol(col[COL_GONE_TID], NULL, 10), col[COL_GONE_COMM]};
    if (!in_close && closer > 0)
        return (struct culprit){(pid_t)closer, strtol(col[COL_CLOSER_TID], NULL, 10),
                                col[COL_CLOSER_COMM]};
    return (struct culprit){(pid_t)strtol(col[COL_PID], NULL, 10), strtol(col[COL_TID], NULL, 10),
                            col[COL_COMM]};
}

static void put_text(const char *time, const struct process_info *p, const char *reason,
                     const struct endpoint *local, const struct endpoint *peer, long unread,
                     const char *state, pid_t current, const char *current_comm)
{
    printf("%s pid=%d comm=%s reason=%s local=%s peer=%s", time, (int)p->pid, p->comm, reason,
           local->text, peer->text);
    if (unread >= 0)
        printf(" unread=%ld", unread);
    printf(" state=%s exe=%s unit=%s preload=%s", state, p->exe[0] ? p->exe : "-",
           p->unit[0] ? p->unit : "-", preload_words[p->preload]);
    if (current != p->pid)
        printf(" sent-by=%d(%s)", (int)current, current_comm);
    putchar('\n');
}

/* The library's event (libnorst(7), shim/event_fields.h): the fields a
 * trace knows, action "none" and rst true; then the trace's own. */
static void put_json(const char *time, const struct process_info *p, const char *reason,
                     unsigned code, const struct endpoint *local, const struct endpoint *peer,
                     long unread, const char *state, pid_t current, const char *current_comm,
                     long tid)
{
    printf("{\"time\":\"%s\",\"pid\":%d,\"local\":", time, (int)p->pid);
    json_put_str(stdout, local->text);
    fputs(",\"peer\":", stdout);
    json_put_str(stdout, peer->text);
    if (unread >= 0)
        printf(",\"unread\":%ld", unread);
    fputs(",\"action\":\"none\",\"outcome\":\"none\",\"rst\":true,\"comm\":", stdout);
    json_put_str(stdout, p->comm);
    fputs(",\"exe\":", stdout);
    json_put_str(stdout, p->exe);
    fputs(",\"unit\":", stdout);
    if (p->unit[0])
        json_put_str(stdout, p->unit);
    else
        fputs("null", stdout);
    if (p->uid >= 0)
        printf(",\"uid\":%ld", p->uid);
    printf(",\"source\":\"trace\",\"reason\":\"%s\",\"reason_code\":%u,\"state\":\"%s\","
           "\"tid\":%ld,\"preload\":\"%s\",\"sent_by\":%d,\"sent_by_comm\":",
           reason, code, state, tid, preload_words[p->preload], (int)current);
    json_put_str(stdout, current_comm);
    fputs("}\n", stdout);
}

static void handle_line(char *line, const struct reason_names *names, const struct trace_options *opt)
{
    char *col[COL_COUNT];
    int n = 0;
    for (char *p = line; n < COL_COUNT; n++) {
        col[n] = p;
        p = strchr(p, '\t');
        if (!p) {
            n++;
            break;
        }
        *p++ = '\0';
    }
    if (n != COL_COUNT || strcmp(col[COL_TAG], "rst") != 0)
        return;
    unsigned code = (unsigned)strtoul(col[COL_REASON], NULL, 10);
    struct culprit who = culprit_of(col, names);
    pid_t pid = who.pid;
    struct endpoint local, peer;
    decode_endpoint(col + COL_LOCAL, &local);
    decode_endpoint(col + COL_PEER, &peer);
    if ((opt->pid >= 0 && pid != opt->pid) ||
        (opt->port >= 0 && local.port != opt->port && peer.port != opt->port))
        return;
    const struct process_info *p = process_lookup(pid, who.comm);
    if (opt->comm && strcmp(p->comm, opt->comm) != 0 && strcmp(who.comm, opt->comm) != 0)
        return;
    char time[40], buf[32];
    format_time(strtoull(col[COL_NSECS], NULL, 10), time, sizeof time);
    const char *reason = reason_name(names, code, buf, sizeof buf);
    long unread = -1;
    if (reason_is_close(names, code)) {
        unsigned long inq = strtoul(col[COL_INQ], NULL, 10);
        unread = (long)(inq && strcmp(col[COL_FIN], "1") == 0 ? inq - 1 : inq);
    }
    const char *state = tcp_state_name((unsigned)strtoul(col[COL_STATE], NULL, 10));
    pid_t current = (pid_t)strtol(col[COL_PID], NULL, 10);
    if (opt->json)
        put_json(time, p, reason, code, &local, &peer, unread, state, current, col[COL_COMM],
                 who.tid);
    else
        put_text(time, p, reason, &local, &peer, unread, state, current, col[COL_COMM]);
    fflush(stdout);
    summary_add(&(struct trace_event){p, code, local.port});
}

/* Lines read from one of bpftrace's pipes. */
struct reader {
    int fd;
    char buf[LINE_MAX_BYTES];
    size_t len;
};

/* Calls each(line) for every whole line read; 0 at end of file. */
static int read_lines(struct reader *r, void (*each)(char *line, void *ctx), void *ctx)
{
    ssize_t n = read(r->fd, r->buf + r->len, sizeof r->buf - 1 - r->len);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : 0;
    if (n == 0)
        return 0;
    r->len += (size_t)n;
    char *start = r->buf, *nl;
    while ((nl = memchr(start, '\n', r->len - (size_t)(start - r->buf)))) {
        *nl = '\0';
        each(start, ctx);
        start = nl + 1;
    }
    r->len -= (size_t)(start - r->buf);
    memmove(r->buf, start, r->len);
    if (r->len == sizeof r->buf - 1)
        r->len = 0; /* a line too long for any event: dropped */
    return 1;
}

struct session {
    const struct reason_names *names;
    const struct trace_options *opt;
    int ready;
    struct timespec started;
};

static void on_output(char *line, void *ctx)
{
    struct session *s = ctx;
    if (!s->ready && strcmp(line, "ready") == 0) {
        s->ready = 1;
        clock_gettime(CLOCK_MONOTONIC, &s->started);
        fputs("norst trace: tracing every RST this machine sends; Ctrl-C to stop\n", stderr);
        return;
    }
    handle_line(line, s->names, s->opt);
}

/* bpftrace's messages, but for those every run makes. */
static void on_error(char *line, void *ctx)
{
    (void)ctx;
    if (strstr(line, "RLIMIT_MEMLOCK") || strncmp(line, "Attaching ", 10) == 0 || !line[0])
        return;
    fprintf(stderr, "bpftrace: %s\n", line);
}

static pid_t start_bpftrace(const char *script, int *out_fd, int *err_fd)
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
        perror("norst trace: pipe");
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        /* the closers of every socket that is closing at once */
        setenv("BPFTRACE_MAP_KEYS_MAX", "65536", 0);
        execlp("bpftrace", "bpftrace", "-B", "line", "-e", script, (char *)NULL);
        fprintf(stderr, "cannot run bpftrace: %s\n", strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    if (pid < 0) {
        perror("norst trace: fork");
        return -1;
    }
    *out_fd = out[0];
    *err_fd = err[0];
    return pid;
}

static double seconds_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static int run(const struct reason_names *names, const struct trace_options *opt)
{
    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: poll returns */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    static struct reader out, err;
    char *script = trace_script_for(opt->port);
    pid_t child = start_bpftrace(script, &out.fd, &err.fd);
    free(script);
    if (child < 0)
        return 1;
    struct session s = {names, opt, 0, {0, 0}};
    clock_gettime(CLOCK_REALTIME, &wall0);
    clock_gettime(CLOCK_MONOTONIC, &mono0);
    enum { TRACING, STOPPING, KILLED } phase = TRACING;
    struct timespec stop_sent;
    int open_fds = 2;
    struct pollfd fds[2] = {{out.fd, POLLIN, 0}, {err.fd, POLLIN, 0}};
    while (open_fds) {
        if (phase == TRACING && (stop_asked || (s.ready && opt->duration > 0 &&
                                                seconds_since(&s.started) >= opt->duration))) {
            kill(child, SIGINT); /* bpftrace detaches and exits */
            clock_gettime(CLOCK_MONOTONIC, &stop_sent);
            phase = STOPPING;
        } else if (phase == STOPPING && seconds_since(&stop_sent) >= STOP_GRACE_S) {
            fprintf(stderr, "norst trace: bpftrace did not stop within %d s of SIGINT; killed\n",
                    STOP_GRACE_S);
            kill(child, SIGKILL);
            phase = KILLED;
        }
        int ready = poll(fds, 2, 100);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready <= 0)
            continue; /* revents are not set */
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (!read_lines(i == 0 ? &out : &err, i == 0 ? on_output : on_error, &s)) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (!s.ready) {
        fputs("norst trace: bpftrace could not start tracing (its message above); where the "
              "kernel refuses eBPF (a container, lockdown, a seccomp filter) norst trace cannot "
              "run\n", stderr);
        return 1;
    }
    summary_print(opt->json ? stderr : stdout, names, seconds_since(&s.started));
    return 0;
}

static const char usage[] =
    "usage: norst trace [--duration S] [--pid P | --comm NAME | --port N] [--json]\n"
    "Every TCP reset this machine sends, with its reason and the process that\n"
    "caused it, until interrupted or for S seconds; then a summary. Needs root\n"
    "and bpftrace.\n"
    "  -d, --duration S  stop after S seconds\n"
    "  -p, --pid P       only resets caused by process P\n"
    "  -c, --comm NAME   only those of processes named NAME\n"
    "      --port N      only those of connections with local or peer port N\n"
    "      --json        events as JSON lines, libnorst's log format (norst report\n"
    "                    reads them); the summary on standard error\n";

static int number(const char *opt, const char *arg, double max, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(arg, &end);
    if (errno || end == arg || *end || *out < 0 || *out > max) {
        fprintf(stderr, "norst trace: %s: not a number from 0 to %.0f: %s\n", opt, max, arg);
        return -1;
    }
    return 0;
}

int trace_main(int argc, char **argv)
{
    enum { OPT_PORT = 256, OPT_JSON };
    static const struct option longopts[] = {
        {"duration", required_argument, NULL, 'd'}, {"pid", required_argument, NULL, 'p'},
        {"comm", required_argument, NULL, 'c'},     {"port", required_argument, NULL, OPT_PORT},
        {"json", no_argument, NULL, OPT_JSON},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct trace_options opt = {0, -1, NULL, -1, 0};
    int filters = 0, c;
    double v;
    argv[0] = "norst trace";
    while ((c = getopt_long(argc, argv, "d:p:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (number("--duration", optarg, 1e9, &opt.duration) < 0)
                return 2;
            break;
        case 'p':
            if (number("--pid", optarg, 4194304, &v) < 0)
                return 2;
            opt.pid = (long)v;
            filters++;
            break;
        case 'c': opt.comm = optarg; filters++; break;
        case OPT_PORT:
            if (number("--port", optarg, 65535, &v) < 0)
                return 2;
            opt.port = (long)v;
            filters++;
            break;
        case OPT_JSON: opt.json = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind < argc || filters > 1) {
        fputs(usage, stderr);
        return 2;
    }
    static struct reason_names names;
    int status = trace_kernel_check(&names);
    return status ? status : run(&names, &opt);
}
