/* Event log: one line per event, built on the stack and written with one
 * write() (O_APPEND for files), so lines from threads and forked children
 * never interleave and the path stays async-signal-safe.
 *
 * The sink fd is the shim's own: it is opened once at load (so a daemon that
 * later drops privileges or chroots keeps logging), moved to a high number,
 * and hidden from the application by internal_fd.c. */
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal_fd.h"
#include "norst.h"
#include "owner.h"
#include "sys.h"

/* The sink, set once at load by log_open and only read after. */
enum log_sink { LOG_NONE, LOG_STDERR, LOG_SYSLOG, LOG_FILE };
static enum log_sink sink = LOG_NONE;
static int log_slot = -1; /* internal_fd slot of a file or syslog sink */
static int log_json;

int log_enabled(void)
{
    return sink != LOG_NONE;
}

int log_is_json(void)
{
    return log_json;
}

/* The line and its newline in one writev, so they stay together. */
void warn_stderr(const char *line)
{
    struct iovec iov[2] = {{(void *)line, strlen(line)}, {"\n", 1}};
    stderr_writev(iov, 2);
}

static int open_syslog_socket(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
    long fd = sys3(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (sys3(SYS_connect, fd, &sun, sizeof sun) < 0) {
        sys1(SYS_close, fd);
        return -1;
    }
    return (int)fd;
}

void log_open(const char *target, enum log_format format)
{
    char line[600];
    struct fmtbuf b = {line, 0, sizeof line};
    int fd;

    log_json = format == LOG_JSON;
    if (!target || !*target)
        return;
    if (strcmp(target, "stderr") == 0) {
        sink = LOG_STDERR;
        return;
    }
    if (strcmp(target, "syslog") == 0) {
        fd = open_syslog_socket();
        if (fd < 0) {
            warn_stderr("libnorst: NORST_LOG=syslog: cannot connect to /dev/log; logging disabled");
            return;
        }
        sink = LOG_SYSLOG;
    } else {
        /* O_NOFOLLOW: a symlink planted at the path is refused, not followed. */
        fd = (int)sys4(SYS_openat, AT_FDCWD, target,
                       O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                       0600);
        if (fd < 0) {
            fmt_str(&b, "libnorst: NORST_LOG=");
            fmt_json_str(&b, target);
            fmt_str(&b, ": cannot open for appending (errno ");
            fmt_ulong(&b, (unsigned long long)-fd);
            fmt_str(&b, "); logging disabled");
            warn_stderr(line);
            return;
        }
        sink = LOG_FILE;
    }
    log_slot = internal_fd_adopt(fd);
}

static void log_write(const char *buf, size_t len)
{
    /* A vfork child's number of the log may already be its stdout. */
    if (!owner_is_self())
        return;
    if (sink == LOG_STDERR) {
        stderr_write(buf, len);
        return;
    }
    /* Not while a dup2() moves the log's fd: the line would land in the
     * application's file that takes the number. */
    int spins = 0;
    while (!internal_fd_enter())
        if (++spins > 100000)
            return; /* a signal handler interrupted the move: drop the line */
        else
            sys0(SYS_sched_yield);
    int fd = internal_fd_get(log_slot);
    if (fd >= 0)
        sys3(sink == LOG_SYSLOG ? SYS_sendto : SYS_write, fd, buf, len);
    internal_fd_leave();
}

void log_text(const char *text)
{
    char buf[1024];
    struct fmtbuf b = {buf, 0, sizeof buf - 1};
    if (sink == LOG_NONE)
        return;
    if (sink == LOG_SYSLOG)
        fmt_str(&b, "<28>"); /* LOG_DAEMON | LOG_WARNING */
    fmt_str(&b, text);
    buf[b.len++] = '\n';
    log_write(buf, b.len);
}

static const char *action_name(enum action a)
{
    switch (a) {
    case ACT_DRAIN: return "drain";
    case ACT_SKIP_SHARED: return "skip-shared";
    case ACT_SKIP_ABORT: return "skip-abort";
    case ACT_LOG_ONLY: return "log-only";
    case ACT_SKIP_READ_SHUT: return "skip-read-shut";
    case ACT_NONE: break;
    }
    return "none";
}

static const char *outcome_name(enum outcome o)
{
    switch (o) {
    case OUT_PEER_EOF: return "peer-eof";
    case OUT_TIME_BOUND: return "time-bound";
    case OUT_BYTE_BOUND: return "byte-bound";
    case OUT_PEER_RESET: return "peer-reset";
    case OUT_ERROR: return "error";
    case OUT_EVICTED: return "evicted";
    case OUT_NONE: break;
    }
    return "none";
}

static void text_event(struct fmtbuf *b, const struct close_event *ev)
{
    fmt_str(b, "libnorst: ");
    fmt_utc_time(b);
    fmt_str(b, " pid=");
    fmt_ulong(b, (unsigned long long)sys0(SYS_getpid));
    fmt_str(b, " fd=");
    fmt_long(b, ev->fd);
    fmt_str(b, " path=");
    fmt_str(b, close_path_name(ev->path));
    fmt_str(b, " local=");
    fmt_addr(b, &ev->local);
    fmt_str(b, " peer=");
    fmt_addr(b, &ev->peer);
    fmt_str(b, " unread=");
    fmt_long(b, ev->unread);
    fmt_str(b, " action=");
    fmt_str(b, action_name(ev->action));
    fmt_str(b, " outcome=");
    fmt_str(b, outcome_name(ev->outcome));
    fmt_str(b, " drained=");
    fmt_ulong(b, ev->drained);
    fmt_str(b, " ms=");
    fmt_long(b, ev->elapsed_ms);
    fmt_str(b, ev->rst > 0 ? " rst=sent" : ev->rst < 0 ? " rst=possible" : " rst=none");
    if (ev->action == ACT_SKIP_SHARED) {
        fmt_str(b, " shared=");
        fmt_str(b, ev->share_reason);
        if (ev->holder_pid > 0) {
            fmt_str(b, " holder=");
            fmt_long(b, ev->holder_pid);
        }
    }
    /* last, for people: where in the program the close came from */
    fmt_str(b, ": ");
    if (ev->path == PATH_EXIT) {
        fmt_str(b, "at exit");
        return;
    }
    fmt_str(b, close_path_name(ev->path));
    fmt_str(b, "() from ");
    fmt_callsite(b, ev->caller, ev->site_lookup);
}

/* An address's text needs no escaping: digits, '.', ':', '[', ']', '-'. */
static void json_addr(struct fmtbuf *b, const char *key, const union sock_addr *addr)
{
    fmt_str(b, key);
    fmt_str(b, "\"");
    fmt_addr(b, addr);
    fmt_str(b, "\"");
}

/* At most this much of a call site's text goes into a JSON line. */
#define JSON_CALLER_MAX 399

static void json_event(struct fmtbuf *b, const struct close_event *ev)
{
    fmt_str(b, "{\"time\":\"");
    fmt_utc_time(b);
    fmt_str(b, "\",\"pid\":");
    fmt_ulong(b, (unsigned long long)sys0(SYS_getpid));
    fmt_str(b, ",\"fd\":");
    fmt_long(b, ev->fd);
    fmt_str(b, ",\"path\":\"");
    fmt_str(b, close_path_name(ev->path));
    fmt_str(b, "\"");
    json_addr(b, ",\"local\":", &ev->local);
    json_addr(b, ",\"peer\":", &ev->peer);
    fmt_str(b, ",\"unread\":");
    fmt_long(b, ev->unread);
    fmt_str(b, ",\"action\":\"");
    fmt_str(b, action_name(ev->action));
    fmt_str(b, "\",\"outcome\":\"");
    fmt_str(b, outcome_name(ev->outcome));
    fmt_str(b, "\",\"drained\":");
    fmt_ulong(b, ev->drained);
    fmt_str(b, ",\"elapsed_ms\":");
    fmt_long(b, ev->elapsed_ms);
    fmt_str(b, ",\"rst\":");
    fmt_str(b, ev->rst > 0 ? "true" : ev->rst < 0 ? "null" : "false");
    if (ev->action == ACT_SKIP_SHARED) {
        fmt_str(b, ",\"shared\":\"");
        fmt_str(b, ev->share_reason);
        fmt_str(b, "\",\"holder\":");
        fmt_long(b, ev->holder_pid);
    }
    fmt_str(b, ",\"caller\":");
    if (ev->caller)
        fmt_callsite_json(b, ev->caller, JSON_CALLER_MAX, ev->site_lookup);
    else
        fmt_str(b, "null");
    fmt_str(b, "}");
}

void log_event(const struct close_event *ev)
{
    char buf[1024];
    struct fmtbuf b = {buf, 0, sizeof buf - 1};
    if (sink == LOG_NONE)
        return;
    if (sink == LOG_SYSLOG)
        fmt_str(&b, "<28>");
    if (log_json)
        json_event(&b, ev);
    else
        text_event(&b, ev);
    buf[b.len++] = '\n';
    log_write(buf, b.len);
}
