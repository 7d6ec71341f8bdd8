/* NORST_ANNOUNCE=1: one line at load, to the log target: version, pid, the
 * settings that change behaviour, and where "norst status" finds the live
 * counters (or why it cannot). Asked for, never by default: a log holds
 * events, and consumers that count its lines, or take a line from the
 * library as a sign that it acted, stay right. Only with a log target:
 * without one the application's stderr is its own. */
#include <string.h>

#include "config.h"
#include "fmt.h"
#include "load_line.h"
#include "log.h"
#include "status_file.h"
#include "sys.h"

#ifndef NORST_VERSION
#define NORST_VERSION "unknown"
#endif

/* Why there is no status page, in words. At load only, never in the close
 * path: strerror is fine here. */
static void status_reason(char *buf, size_t cap)
{
    struct fmtbuf b = {buf, 0, cap};
    if (norst_cfg.mode == MODE_OFF) {
        fmt_str(&b, "NORST_MODE=off");
    } else if (!status_file_error()) {
        fmt_str(&b, "NORST_STATUS_DIR=off");
    } else {
        fmt_str(&b, norst_cfg.status_dir ? norst_cfg.status_dir : STATUS_DEFAULT_DIR);
        fmt_str(&b, ": ");
        fmt_str(&b, strerror(status_file_error()));
    }
}

/* The line in each log format: the pieces between the values, and how a
 * free-form value (a path, a reason) is written. */
struct line_form {
    const char *time, *pid, *mode, *async_log[2], *status[2], *end[2];
    void (*put)(struct fmtbuf *b, const char *s);
};
static const struct line_form text_form = {
    "libnorst: ", " pid=", " loaded version=" NORST_VERSION " mode=",
    {" async=0 log=", " async=1 log="}, {" status=none (", " status="}, {")", ""}, fmt_str,
};
static const struct line_form json_form = {
    "{\"time\":\"", "\",\"pid\":", ",\"loaded\":{\"version\":\"" NORST_VERSION "\",\"mode\":\"",
    {"\",\"async\":false,\"log\":", "\",\"async\":true,\"log\":"},
    {",\"status\":null,\"status_error\":", ",\"status\":"}, {"}}", "}}"}, fmt_json_str,
};

void load_line_write(void)
{
    char line[700]; /* a long path is cut, never overflowed */
    char reason[300];
    struct fmtbuf b = {line, 0, sizeof line};
    const char *page = status_file_path();
    if (!norst_cfg.announce || !log_enabled())
        return;
    const struct line_form *f = log_is_json() ? &json_form : &text_form;
    status_reason(reason, sizeof reason);
    fmt_str(&b, f->time);
    fmt_utc_time(&b);
    fmt_str(&b, f->pid);
    fmt_ulong(&b, (unsigned long long)sys0(SYS_getpid));
    fmt_str(&b, f->mode);
    fmt_str(&b, config_vars[CONFIG_MODE].words[norst_cfg.mode]);
    fmt_str(&b, f->async_log[norst_cfg.async != 0]);
    f->put(&b, norst_cfg.log_sink == LOG_FILE ? norst_cfg.log_target : log_sink_words[norst_cfg.log_sink]);
    fmt_str(&b, f->status[page != NULL]);
    f->put(&b, page ? page : reason);
    fmt_str(&b, f->end[page != NULL]);
    log_text(line);
}
