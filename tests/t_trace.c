/* norst trace, system-wide through bpftrace: while the seed's echo server,
 * its prime server and a static server reset their clients, the trace names
 * each (process, reason abort-on-close, ports) and says the static one
 * cannot be preloaded; an echo server with libnorst preloaded resets no one;
 * an abort on data (data arriving after the close) is laid at the closer's
 * door, not the sender's; norst report reads the trace's JSON.
 *
 * It needs what bpftrace needs: root in the initial user namespace (the
 * runner uses "unshare -n" for it as root) and a kernel that allows eBPF;
 * elsewhere, and without bpftrace, it skips with norst trace's own reason.
 * The trace sees every network namespace: events are matched by pid. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define TRACE_SECONDS "60" /* a bound: the test stops it with SIGINT when done */

struct trace {
    pid_t pid;
    char out_path[64], err_path[64];
    char out[1 << 20], err[1 << 16];
    int status;
    int ended; /* reaped: status holds its end */
};

static struct trace tr;

/* norst trace --json and args (at most 4). */
static void trace_start(struct trace *t, const char *const *args)
{
    snprintf(t->out_path, sizeof t->out_path, "/tmp/norst-trace-%d.json", (int)getpid());
    snprintf(t->err_path, sizeof t->err_path, "/tmp/norst-trace-%d.err", (int)getpid());
    fflush(NULL);
    unlink(t->out_path); /* trace_ready must not see a message of the last run */
    unlink(t->err_path);
    t->ended = 0;
    t->pid = fork();
    if (t->pid == 0) {
        int out = open(t->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(t->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(out, 1);
        dup2(err, 2);
        const char *argv[8] = {"./norst", "trace", "--json"};
        for (int i = 0; i < 4 && args[i]; i++)
            argv[3 + i] = args[i];
        execv(argv[0], (char *const *)argv);
        perror("./norst");
        _exit(127);
    }
}

/* 1 once norst trace says it traces; 0 (its message in err) if it ended. */
static int trace_ready(struct trace *t)
{
    for (int i = 0; i < 300; i++) {
        read_text_file(t->err_path, t->err, sizeof t->err);
        if (contains(t->err, "tracing every RST"))
            return 1;
        if (waitpid(t->pid, &t->status, WNOHANG) == t->pid) {
            t->ended = 1;
            read_text_file(t->err_path, t->err, sizeof t->err);
            return 0;
        }
        sleep_ms(100);
    }
    kill(t->pid, SIGKILL);
    waitpid(t->pid, &t->status, 0);
    t->ended = 1;
    snprintf(t->err, sizeof t->err, "norst trace did not start in 30 s");
    return 0;
}

/* Waits up to ms for it to end by itself; 1 if it did. */
static int trace_wait(struct trace *t, long ms)
{
    for (long waited = 0; !t->ended; waited += 100) {
        if (waitpid(t->pid, &t->status, WNOHANG) == t->pid)
            t->ended = 1;
        else if (waited >= ms)
            return 0;
        else
            sleep_ms(100);
    }
    return 1;
}

/* Stops it (SIGINT: the summary is printed) unless it ended, and reads
 * what it wrote. */
static void trace_stop(struct trace *t)
{
    if (!t->ended) {
        sleep_ms(500); /* the last events through bpftrace's pipe */
        kill(t->pid, SIGINT);
        if (!trace_wait(t, 20000)) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &t->status, 0);
            t->ended = 1;
        }
    }
    read_text_file(t->out_path, t->out, sizeof t->out);
    read_text_file(t->err_path, t->err, sizeof t->err);
}

/* The first event line of pid with the reason; "" if none. */
static const char *event_of(pid_t pid, const char *reason)
{
    static char line[4096];
    char key[48], why[64];
    snprintf(key, sizeof key, "\"pid\":%d,", (int)pid);
    snprintf(why, sizeof why, "\"reason\":\"%s\"", reason);
    for (const char *p = tr.out; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        if (contains(line, key) && contains(line, why))
            return line;
        p += len + (nl != NULL);
    }
    return "";
}

static int has_field(const char *line, const char *fmt, long value)
{
    char want[96];
    snprintf(want, sizeof want, fmt, value);
    return contains(line, want);
}

/* The servers, each started and made to reset (or not) before the trace ends. */
struct server {
    const char *name;
    struct proc proc;
    int port;
    char client_out[4096];
    int client_status;
};

static struct server echo = {"echo-server", .port = 5001}, prime = {"prime-server", .port = 5002},
                     shimmed = {"echo-server", .port = 5004}, stat = {"static-rst", .port = 5003};
static struct proc closer;
static int have_static;

static void run_echo(struct server *s, int with_shim)
{
    char port[8];
    snprintf(port, sizeof port, "%d", s->port);
    const char *argv[] = {"./echo-server", port, NULL};
    const char *client[] = {"./echo-client", "127.0.0.1", port, "Echo this, please", NULL};
    proc_start(&s->proc, with_shim, NULL, argv, 1);
    s->client_status = run_client(client, s->client_out, sizeof s->client_out);
}

static void run_prime(struct server *s)
{
    const char *argv[] = {"./prime-server", "5002", NULL};
    const char *client[] = {"./prime-client", "127.0.0.1", "5002", "2", "4", "5", "7", "11", NULL};
    proc_start(&s->proc, 0, NULL, argv, 1);
    s->client_status = run_client(client, s->client_out, sizeof s->client_out);
}

static void run_static(struct server *s)
{
    const char *argv[] = {"./tests/progs/static-rst", "5003", NULL};
    have_static = access(argv[0], X_OK) == 0;
    if (!have_static)
        return;
    proc_start(&s->proc, 0, NULL, argv, 1);
    int fd = peer_connect(4, s->port);
    peer_send(fd, "two", 3);
    struct peer_result r = peer_read_all(fd, 5000);
    s->client_status = r.reset;
    close(fd);
}

/* The closer fills the window this process does not read, and closes with
 * nothing unread: its FIN waits behind the data, the socket stays in
 * FIN_WAIT1 (a FIN acknowledged at once would make it a timewait socket,
 * whose RST has another reason). Then this process sends: the kernel
 * answers the data with an RST (tcp_rcv_state_process), in this process's
 * context. */
static void run_abort_on_data(void)
{
    closer_start(&closer, 0, NULL, 4, "accept fill close sleep:5000");
    int fd = peer_connect(4, 5000);
    proc_wait_output(&closer, "close=0", 5000);
    sleep_ms(200);
    peer_send(fd, "late", 4);
    sleep_ms(200);
    close(fd);
}

static void stop_servers(void)
{
    struct server *all[] = {&echo, &prime, &shimmed, &stat};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]->proc.pid > 0) {
            kill(all[i]->proc.pid, SIGTERM);
            proc_finish(&all[i]->proc, 5000);
        }
    proc_finish(&closer, 10000);
}

static void check_reset_by(const struct server *s, const char *what)
{
    const char *ev = event_of(s->proc.pid, "abort-on-close");
    char name[64];
    snprintf(name, sizeof name, "\"comm\":\"%s\"", s->name);
    CHECK(ev[0], "%s: no abort-on-close event of pid %d in:\n%.2000s", what, (int)s->proc.pid, tr.out);
    CHECK(contains(ev, name), "%s: %s", what, ev);
    CHECK(has_field(ev, "\"local\":\"127.0.0.1:%ld\"", s->port), "%s: %s", what, ev);
    CHECK(contains(ev, "\"peer\":\"127.0.0.1:"), "%s: %s", what, ev);
    CHECK(contains(ev, "\"action\":\"none\"") && contains(ev, "\"rst\":true"), "%s: %s", what, ev);
    CHECK(number_after(ev, "\"unread\":") > 0, "%s: %s", what, ev);
}

/* norst trace's refusals: each says what is missing, with status 1 (or 2
 * for a usage error), before anything is traced. */
static void refusals(void)
{
    struct proc p;
    case_begin("trace: refusals say why");
    const char *no_bpftrace_env[] = {"PATH=/nonexistent", NULL};
    const char *trace[] = {"./norst", "trace", "--duration", "1", NULL};
    proc_start(&p, 0, no_bpftrace_env, trace, 0);
    CHECK(proc_finish(&p, 5000) == 1, "status %d", p.status);
    CHECK(contains(p.err, "norst trace: bpftrace is not installed"), "stderr: %s", p.err);
    const char *two_filters[] = {"./norst", "trace", "--pid", "1", "--port", "80", NULL};
    proc_start(&p, 0, NULL, two_filters, 0);
    CHECK(proc_finish(&p, 5000) == 2, "status %d", p.status);
    CHECK(contains(p.err, "usage: norst trace"), "stderr: %s", p.err);
    const char *bad_port[] = {"./norst", "trace", "--port", "70000", NULL};
    proc_start(&p, 0, NULL, bad_port, 0);
    CHECK(proc_finish(&p, 5000) == 2, "status %d", p.status);
    CHECK(contains(p.err, "--port: not a number from 0 to 65535"), "stderr: %s", p.err);
    case_end();
}

/* --port keeps the resets of one port (filtered in the kernel), and
 * --duration ends the trace by itself. */
static void port_filter(void)
{
    struct server a = {"echo-server", .port = 5011}, b = {"echo-server", .port = 5012};
    case_begin("trace: --port keeps one service; --duration ends it");
    trace_start(&tr, (const char *const[]){"--port", "5011", "--duration", "4", NULL});
    if (!trace_ready(&tr)) {
        CHECK(0, "norst trace did not start: %s", tr.err);
        case_end();
        return;
    }
    run_echo(&a, 0);
    run_echo(&b, 0);
    int ended = trace_wait(&tr, 15000);
    trace_stop(&tr); /* collects the output (and stops it if it ran on) */
    CHECK(ended && WIFEXITED(tr.status) && WEXITSTATUS(tr.status) == 0,
          "norst trace --duration 4 did not end by itself: status %d, stderr:\n%s", tr.status, tr.err);
    CHECK(contains(b.client_out, "reset"), "client of %d: %s", b.port, b.client_out);
    CHECK(event_of(a.proc.pid, "abort-on-close")[0], "no reset on %d in:\n%s", a.port, tr.out);
    CHECK(!contains(tr.out, "127.0.0.1:5012") && count_of(tr.out, "\n") == 1, "events:\n%s", tr.out);
    kill(a.proc.pid, SIGTERM);
    kill(b.proc.pid, SIGTERM);
    proc_finish(&a.proc, 5000);
    proc_finish(&b.proc, 5000);
    case_end();
}

int main(void)
{
    refusals();
    case_begin("norst trace starts");
    trace_start(&tr, (const char *const[]){"--duration", TRACE_SECONDS, NULL});
    int ready = trace_ready(&tr);
    if (!ready) {
        char why[512];
        const char *own = strstr(tr.err, "norst trace: "); /* its reason, past bpftrace's */
        own = own ? own : tr.err;
        snprintf(why, sizeof why, "%.*s", (int)strcspn(own, "\n"), own);
        case_skip(why);
        case_end();
        unlink(tr.out_path);
        unlink(tr.err_path);
        return harness_done();
    }
    case_end();

    run_echo(&echo, 0);
    run_prime(&prime);
    run_static(&stat);
    run_echo(&shimmed, 1);
    run_abort_on_data();
    trace_stop(&tr);
    stop_servers();

    case_begin("trace: the seed echo server, abort on close");
    CHECK(echo.client_status == 2 && contains(echo.client_out, "reset"), "client: %s", echo.client_out);
    check_reset_by(&echo, "echo");
    case_end();

    case_begin("trace: the prime server, abort on close");
    CHECK(contains(prime.client_out, "reset"), "client: %s", prime.client_out);
    check_reset_by(&prime, "prime");
    case_end();

    case_begin("trace: a static server cannot be preloaded");
    if (!have_static) {
        case_skip("no static libc to link tests/progs/static-rst");
    } else {
        const char *ev = event_of(stat.proc.pid, "abort-on-close");
        check_reset_by(&stat, "static");
        CHECK(contains(ev, "\"preload\":\"static\""), "%s", ev);
        char want[96];
        snprintf(want, sizeof want, "static-rst (pid %d): cannot be preloaded", (int)stat.proc.pid);
        CHECK(contains(tr.err, want), "summary:\n%s", tr.err);
    }
    case_end();

    case_begin("trace: the echo server with libnorst resets no one");
    CHECK(contains(shimmed.client_out, "orderly EOF"), "client: %s", shimmed.client_out);
    CHECK(!has_field(tr.out, "\"pid\":%ld,", shimmed.proc.pid), "events:\n%.2000s", tr.out);
    case_end();

    case_begin("trace: an abort on data is the closer's");
    const char *ev = event_of(closer.pid, "abort-on-data");
    CHECK(ev[0], "no abort-on-data event of the closer, pid %d, in:\n%.3000s", (int)closer.pid, tr.out);
    CHECK(contains(ev, "\"comm\":\"closer\""), "%s", ev);
    CHECK(has_field(ev, "\"sent_by\":%ld,", getpid()), "sent by this test (pid %d): %s", (int)getpid(), ev);
    CHECK(contains(ev, "\"local\":\"127.0.0.1:5000\""), "%s", ev);
    case_end();

    case_begin("trace: the summary and norst report");
    CHECK(WIFEXITED(tr.status) && WEXITSTATUS(tr.status) == 0, "norst trace status %d: %s", tr.status, tr.err);
    char want[96];
    snprintf(want, sizeof want, "pid %d echo-server", (int)echo.proc.pid);
    CHECK(contains(tr.err, want) && contains(tr.err, "abort-on-close="), "summary:\n%s", tr.err);
    CHECK(contains(tr.err, "  port 5001: abort-on-close=1"), "summary:\n%s", tr.err);
    char out[65536];
    const char *report[] = {"./norst", "report", tr.out_path, NULL};
    CHECK(run_client(report, out, sizeof out) == 0, "norst report: %s", out);
    CHECK(contains(out, "echo-server") && contains(out, "prime-server"), "norst report:\n%s", out);
    case_end();

    port_filter();
    unlink(tr.out_path);
    unlink(tr.err_path);
    return harness_done();
}
