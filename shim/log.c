/* Event log: one line per event, built on the stack and written with one
 * write() (O_APPEND for files), so lines from threads and forked children
 * never interleave and the path stays async-signal-safe.
 *
 * The sink fd is the shim's own: it is opened once at load (so a daemon that
 * later drops privileges or chroots keeps logging), moved to a high number,
 * and hidden from the application by internal_fd.c. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "callsite.h"
#include "config_parse.h"
#include "event.h"
#include "event_fields.h"
#include "fmt.h"
#include "internal_fd.h"
#include "log.h"
#include "owner.h"
#include "stack.h"
#include "stderr_sink.h"
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
        if (!yield_bounded(&spins))
            return; /* a signal handler interrupted the move: drop the line */
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

/* One event, one line: the fields of event_fields.h in their order. */
enum line_form { LINE_TEXT, LINE_JSON };

static int field_in_line(enum event_field f, const struct close_event *ev, enum line_form form)
{
    switch (f) {
    case EF_SHARED:
        return ev->action == ACT_SKIP_SHARED;
    case EF_HOLDER:
        return ev->action == ACT_SKIP_SHARED && (form == LINE_JSON || ev->holder_pid > 0);
    case EF_STACK:
        return form == LINE_JSON;
    default:
        return 1;
    }
}

/* At most this much of a call site's text goes into a JSON line. */
#define JSON_CALLER_MAX 399

/* rst in JSON: a "possible" reset is null, as libnorst(7) says. */
static const char *const rst_json[] = {
    [RST_NONE] = "false", [RST_SENT] = "true", [RST_POSSIBLE] = "null"};

/* The value alone: a string's quotes are the caller's. An address's text
 * needs no escaping (digits, '.', ':', '[', ']'), nor do the names. */
static void field_value(struct fmtbuf *b, enum event_field f, const struct close_event *ev,
                        enum line_form form)
{
    switch (f) {
    case EF_TIME: fmt_utc_time(b); break;
    case EF_PID: fmt_ulong(b, (unsigned long long)sys0(SYS_getpid)); break;
    case EF_FD: fmt_long(b, ev->fd); break;
    case EF_PATH: fmt_str(b, close_path_names[ev->path]); break;
    case EF_LOCAL: fmt_addr(b, &ev->local); break;
    case EF_PEER: fmt_addr(b, &ev->peer); break;
    case EF_UNREAD: fmt_long(b, ev->unread); break;
    case EF_ACTION: fmt_str(b, action_names[ev->action]); break;
    case EF_OUTCOME: fmt_str(b, outcome_names[ev->outcome]); break;
    case EF_DRAINED: fmt_ulong(b, ev->drained); break;
    case EF_ELAPSED_MS: fmt_long(b, ev->elapsed_ms); break;
    case EF_RST:
        if (form == LINE_JSON)
            fmt_str(b, rst_json[ev->rst]);
        else
            fmt_str(b, rst_names[ev->rst]);
        break;
    case EF_SHARED: fmt_str(b, ev->share_reason); break;
    case EF_HOLDER: fmt_long(b, ev->holder_pid); break;
    case EF_CALLER:
        if (form == LINE_JSON && ev->caller)
            fmt_callsite_json(b, ev->caller, JSON_CALLER_MAX, ev->site_lookup);
        else if (form == LINE_JSON)
            fmt_str(b, "null");
        else if (ev->path == PATH_EXIT)
            fmt_str(b, "at exit");
        else {
            fmt_str(b, close_path_names[ev->path]);
            fmt_str(b, "() from ");
            fmt_callsite(b, ev->caller, ev->site_lookup);
        }
        break;
    case EF_STACK: fmt_stack_json(b, ev); break;
    case EVENT_FIELD_COUNT: break;
    }
}

/* always_inline, this and the next: in the frame of the buffer's owner,
 * not one more frame on a small signal stack. */
static inline __attribute__((always_inline)) void format_event(struct fmtbuf *b,
                                                               const struct close_event *ev,
                                                               enum line_form form)
{
    fmt_str(b, form == LINE_JSON ? "{" : "libnorst: ");
    for (enum event_field f = 0; f < EVENT_FIELD_COUNT; f++) {
        const struct event_field_form *field = &event_fields[f];
        int quoted = form == LINE_JSON &&
                     (field->kind == FIELD_STRING || field->kind == FIELD_NAME);
        if (!field_in_line(f, ev, form))
            continue;
        if (form == LINE_JSON) {
            fmt_str(b, f == 0 ? "\"" : ",\"");
            fmt_str(b, field->json);
            fmt_str(b, quoted ? "\":\"" : "\":");
        } else {
            fmt_str(b, field->text);
        }
        field_value(b, f, ev, form);
        if (quoted)
            fmt_str(b, "\"");
    }
    if (form == LINE_JSON)
        fmt_str(b, "}");
}

static inline __attribute__((always_inline)) void write_event(char *buf, size_t size,
                                                              const struct close_event *ev)
{
    struct fmtbuf b = {buf, 0, size - 1};
    if (sink == LOG_SYSLOG)
        fmt_str(&b, "<28>");
    format_event(&b, ev, log_json ? LINE_JSON : LINE_TEXT);
    buf[b.len++] = '\n';
    log_write(buf, b.len);
}

/* noinline, this and the next: the small buffer's frame is not on the
 * stack while a JSON line is written in pages of its own. */
static __attribute__((noinline)) void write_small_event(const struct close_event *ev)
{
    char buf[1024];
    write_event(buf, sizeof buf, ev);
}

/* A JSON line with its stack (8 frames of up to FRAME_JSON_MAX bytes) is
 * built in pages mapped for it, off a small signal stack; without them it
 * goes out with the frames that fit in the small buffer. */
#define JSON_LINE_MAX (16 * 1024 + 8 * FRAME_JSON_MAX)

static __attribute__((noinline)) void write_json_event(const struct close_event *ev)
{
    long map = raw_syscall6(SYS_mmap, 0, JSON_LINE_MAX, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map < 0 && map > -4096) {
        write_small_event(ev);
        return;
    }
    write_event((char *)map, JSON_LINE_MAX, ev);
    sys2(SYS_munmap, map, JSON_LINE_MAX);
}

void log_event(const struct close_event *ev)
{
    if (sink == LOG_NONE)
        return;
    if (log_json)
        write_json_event(ev);
    else
        write_small_event(ev);
}
