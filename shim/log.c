/* Event log: one line per event, built on the stack and written with one
 * write() (O_APPEND for files), so lines from threads and forked children
 * never interleave and the path stays async-signal-safe.
 *
 * The sink fd is the shim's own: it is opened once at load (so a daemon that
 * later drops privileges or chroots keeps logging), moved to a high number,
 * and hidden from the application by internal_fd.c. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "callsite.h"
#include "config_parse.h"
#include "error_text.h"
#include "event.h"
#include "event_fields.h"
#include "fmt.h"
#include "identity.h"
#include "internal_fd.h"
#include "log.h"
#include "log_file.h"
#include "owner.h"
#include "stack.h"
#include "stderr_sink.h"
#include "sys.h"

/* The sink, set once at load by log_open and only read after. */
static enum log_sink sink = LOG_NONE;
static int log_slot = -1; /* internal_fd slot of a file, syslog or journal sink */
static int log_json;
static int syslog_priority = SYSLOG_DEFAULT_PRIORITY;

/* syslog's tag and journald's SYSLOG_IDENTIFIER: rsyslog's programname. */
#define LOG_IDENT "libnorst"
/* A text line's head in a file or on stderr; syslog and journald have the
 * identifier instead. */
#define TEXT_HEAD LOG_IDENT ": "

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

/* A datagram socket connected to a local one (syslog's, journald's): the
 * fd, or -errno. */
static long open_local_socket(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    memcpy(sun.sun_path, path, strlen(path) + 1);
    long fd = sys3(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    long err = sys3(SYS_connect, fd, &sun, sizeof sun);
    if (err < 0) {
        sys1(SYS_close, fd);
        return err;
    }
    return fd;
}

/* "libnorst: NORST_LOG=TARGET: cannot WHAT (why); logging disabled" */
static void say_cannot(const char *target, const char *what, long err)
{
    char line[600];
    struct fmtbuf b = {line, 0, sizeof line};
    fmt_str(&b, "libnorst: NORST_LOG=");
    fmt_json_str(&b, target);
    fmt_str(&b, ": cannot ");
    fmt_str(&b, what);
    fmt_str(&b, " (");
    fmt_error(&b, (int)-err);
    fmt_str(&b, "); logging disabled");
    warn_stderr(line);
}

void log_open(const struct norst_config *cfg)
{
    long fd = -1;

    log_json = cfg->log_format == LOG_JSON;
    syslog_priority = cfg->syslog_priority;
    switch (cfg->log_sink) {
    case LOG_NONE:
        return;
    case LOG_STDERR:
        sink = LOG_STDERR;
        return;
    case LOG_SYSLOG:
        fd = open_local_socket(SYSLOG_SOCKET);
        if (fd < 0)
            say_cannot(log_sink_words[LOG_SYSLOG], "connect to " SYSLOG_SOCKET, fd);
        break;
    case LOG_JOURNAL:
        fd = open_local_socket(JOURNAL_SOCKET);
        if (fd < 0)
            say_cannot(log_sink_words[LOG_JOURNAL], "connect to " JOURNAL_SOCKET, fd);
        break;
    case LOG_FILE:
        fd = log_file_open(cfg->log_target);
        if (fd < 0)
            say_cannot(cfg->log_target, "open for appending", fd);
        break;
    }
    if (fd < 0)
        return;
    sink = cfg->log_sink;
    log_slot = internal_fd_adopt((int)fd);
}

/* syslog or journald restarted: its socket is a new one, and ours, still
 * connected to the old, is refused (unix_dgram_sendmsg: ECONNREFUSED, then
 * ENOTCONN). Connect anew, onto the same number (as log_file.c does, so a
 * concurrent sender never uses a number the application may reuse), and
 * send once more. */
static void send_datagram(int fd, const char *buf, size_t len)
{
    long sent = sys3(SYS_sendto, fd, buf, len);
    if (sent != -ECONNREFUSED && sent != -ENOTCONN)
        return;
    long fresh = open_local_socket(sink == LOG_JOURNAL ? JOURNAL_SOCKET : SYSLOG_SOCKET);
    if (fresh < 0)
        return;
    sys3(SYS_dup3, fresh, fd, O_CLOEXEC);
    sys1(SYS_close, fresh);
    sys3(SYS_sendto, fd, buf, len);
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
    if (fd >= 0 && sink == LOG_FILE) {
        log_file_follow(fd);
        sys3(SYS_write, fd, buf, len);
    } else if (fd >= 0) {
        send_datagram(fd, buf, len);
    }
    internal_fd_leave();
}

/* What starts a line: syslog's "<PRI>libnorst[PID]: " (RFC 3164 4.1.3's
 * TAG, so rsyslog's programname is libnorst and the JSON is its MSG), the
 * text head in a file or on stderr, nothing before a JSON object. */
static void line_head(struct fmtbuf *b, enum log_format format)
{
    if (sink == LOG_SYSLOG) {
        fmt_str(b, "<");
        fmt_long(b, syslog_priority);
        fmt_str(b, ">" LOG_IDENT "[");
        fmt_ulong(b, (unsigned long long)sys0(SYS_getpid));
        fmt_str(b, "]: ");
    } else if (format == LOG_TEXT) {
        fmt_str(b, TEXT_HEAD);
    }
}

/* journald's native protocol (systemd's "Native Journal Protocol"): one
 * datagram of KEY=value lines. A value holds no newline here (those would
 * need the binary form): one that slipped in becomes a space. The buffer's
 * capacity leaves a byte for journal_send. */
static void journal_value_end(struct fmtbuf *b, size_t from)
{
    for (size_t i = from; i < b->len; i++)
        if (b->buf[i] == '\n')
            b->buf[i] = ' ';
    fmt_str(b, "\n");
}

/* A full buffer cut the last value short: it still ends its line. */
static void journal_send(struct fmtbuf *b)
{
    if (b->len && b->buf[b->len - 1] != '\n')
        b->buf[b->len++] = '\n';
    log_write(b->buf, b->len);
}

/* The fields every entry has, up to "MESSAGE=" for the caller's value. */
static void journal_head(struct fmtbuf *b)
{
    fmt_str(b, "PRIORITY=");
    fmt_long(b, syslog_priority & 7);
    fmt_str(b, "\nSYSLOG_FACILITY=");
    fmt_long(b, syslog_priority >> 3);
    fmt_str(b, "\nSYSLOG_IDENTIFIER=" LOG_IDENT "\nSYSLOG_PID=");
    fmt_ulong(b, (unsigned long long)sys0(SYS_getpid));
    fmt_str(b, "\nMESSAGE=");
}

void log_text(const char *text)
{
    char buf[1024];
    struct fmtbuf b = {buf, 0, sizeof buf - 1};
    if (sink == LOG_NONE)
        return;
    /* The head is the sink's own: a line that carries the text head
     * already loses it to syslog's tag or journald's identifier. */
    if ((sink == LOG_SYSLOG || sink == LOG_JOURNAL) &&
        strncmp(text, TEXT_HEAD, sizeof TEXT_HEAD - 1) == 0)
        text += sizeof TEXT_HEAD - 1;
    if (sink == LOG_JOURNAL)
        journal_head(&b);
    else if (sink == LOG_SYSLOG)
        line_head(&b, LOG_JSON); /* the text brings its own form */
    size_t from = b.len;
    fmt_str(&b, text);
    if (sink == LOG_JOURNAL) {
        journal_value_end(&b, from);
        journal_send(&b);
        return;
    }
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
    enum identity_form id_form = form == LINE_JSON ? ID_JSON : ID_TEXT;
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
    case EF_COMM: fmt_identity(b, ID_COMM, id_form); break;
    case EF_EXE: fmt_identity(b, ID_EXE, id_form); break;
    case EF_UNIT: fmt_identity(b, ID_UNIT, id_form); break;
    case EF_UID: fmt_identity(b, ID_UID, id_form); break;
    case EF_VERSION: fmt_identity(b, ID_VERSION, id_form); break;
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

/* The fields after the line's head. always_inline, this and write_event:
 * in the frame of the buffer's owner, not one more frame on a small signal
 * stack. */
static inline __attribute__((always_inline)) void format_event(struct fmtbuf *b,
                                                               const struct close_event *ev,
                                                               enum line_form form)
{
    if (form == LINE_JSON)
        fmt_str(b, "{");
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

/* journald: the text line as MESSAGE, and each field as NORST_<NAME>, so
 * that "journalctl NORST_ACTION=drain" selects. A frame of its own, never
 * inlined: its buffer, with the line and the fields, is not log_event's. */
__attribute__((noinline)) static void journal_event(const struct close_event *ev)
{
    char buf[1152];
    struct fmtbuf b = {buf, 0, sizeof buf - 1};
    journal_head(&b);
    size_t from = b.len;
    format_event(&b, ev, LINE_TEXT);
    journal_value_end(&b, from);
    for (enum event_field f = 0; f < EVENT_FIELD_COUNT; f++) {
        /* journald records the process itself, from the kernel: _COMM,
         * _EXE, _SYSTEMD_UNIT, _UID; the entry keeps its room for ours */
        int journald_knows = f == EF_COMM || f == EF_EXE || f == EF_UNIT || f == EF_UID;
        if (!field_in_line(f, ev, LINE_TEXT) || journald_knows)
            continue;
        fmt_str(&b, "NORST_");
        for (const char *c = event_fields[f].json; *c; c++) {
            char upper[2] = {*c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c, '\0'};
            fmt_str(&b, upper);
        }
        fmt_str(&b, "=");
        size_t value_from = b.len;
        field_value(&b, f, ev, LINE_TEXT);
        journal_value_end(&b, value_from);
    }
    journal_send(&b);
}

static inline __attribute__((always_inline)) void write_event(char *buf, size_t size,
                                                              const struct close_event *ev)
{
    struct fmtbuf b = {buf, 0, size - 1};
    line_head(&b, log_json ? LOG_JSON : LOG_TEXT);
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
#if defined(__SANITIZE_THREAD__)
    /* ThreadSanitizer sees only libc's munmap: without it, the next
     * thread handed the same pages looks like a race with this one. */
    munmap((void *)map, JSON_LINE_MAX);
#else
    sys2(SYS_munmap, map, JSON_LINE_MAX);
#endif
}

void log_event(const struct close_event *ev)
{
    if (sink == LOG_NONE)
        return;
    if (sink == LOG_JOURNAL)
        journal_event(ev);
    else if (log_json)
        write_json_event(ev);
    else
        write_small_event(ev);
}
