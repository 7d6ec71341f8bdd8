/* The counters. Always counted, so that "norst status" can read them from
 * the process's status page while it runs; NORST_STATS=1 also prints them
 * in one summary line at exit. A close pays one relaxed atomic add (two
 * for TCP), on a page of its own process, with no lock: the close path is
 * async-signal-safe. */
#include "config.h"
#include "event.h"
#include "event_fields.h"
#include "fmt.h"
#include "log.h"
#include "stats.h"
#include "status_file.h"
#include "sys.h"

static const char *const names[STAT_COUNT] = {
    [STAT_CLOSES] = "closes", [STAT_TCP] = "tcp_closes",
    [STAT_WOULD_RESET] = "would_reset", [STAT_DRAINED_CLEAN] = "drained_clean",
    [STAT_BOUND_HIT] = "bound_hit", [STAT_SKIPPED_SHARED] = "skipped_shared",
    [STAT_DRAINED_BYTES] = "drained_bytes",
};

/* Where counting goes when there is no page: the same layout, private. */
static struct status_page private_page;
static struct status_page *page = &private_page;

static void add(enum stat_counter which, uint64_t n)
{
    __atomic_fetch_add(&page->counters[which].value, n, __ATOMIC_RELAXED);
}

void stats_add(enum stat_counter which)
{
    add(which, 1);
}

void stats_count_event(const struct close_event *ev)
{
    if (ev->unread > 0)
        add(STAT_WOULD_RESET, 1);
    if (ev->action == ACT_SKIP_SHARED)
        add(STAT_SKIPPED_SHARED, 1);
    if (ev->action != ACT_DRAIN)
        return;
    if (ev->drained > 0)
        add(STAT_DRAINED_BYTES, (uint64_t)ev->drained);
    if (ev->outcome == OUT_TIME_BOUND || ev->outcome == OUT_BYTE_BOUND)
        add(STAT_BOUND_HIT, 1);
    if (ev->rst == RST_NONE)
        add(STAT_DRAINED_CLEAN, 1);
}

/* Mode off changes nothing and counts nothing: no page either. */
void stats_load(void)
{
    struct status_page *made = norst_cfg.mode == MODE_OFF ? NULL : status_file_make(names, STAT_COUNT);
    if (made)
        page = made;
}

/* Before the child's first close (fork returns after the atfork handlers),
 * so there is nothing to race with. */
void stats_after_fork_child(void)
{
    if (page != &private_page)
        status_file_drop(page);
    page = &private_page;
    for (int i = 0; i < STAT_COUNT; i++)
        private_page.counters[i].value = 0;
    stats_load();
}

void stats_report(void)
{
    char line[512];
    struct fmtbuf b = {line, 0, sizeof line};
    int json = log_enabled() && log_is_json();
    status_file_remove();
    if (!norst_cfg.stats)
        return;
    /* In a JSON log, an object too: {"stats":{...}} with no "action". */
    fmt_str(&b, json ? "{\"pid\":" : "libnorst: stats pid=");
    fmt_ulong(&b, (unsigned long long)sys0(SYS_getpid));
    fmt_str(&b, json ? ",\"stats\":{" : "");
    for (int i = 0; i < STAT_COUNT; i++) {
        fmt_str(&b, json ? (i ? ",\"" : "\"") : " ");
        fmt_str(&b, names[i]);
        fmt_str(&b, json ? "\":" : "=");
        fmt_ulong(&b, __atomic_load_n(&page->counters[i].value, __ATOMIC_RELAXED));
    }
    fmt_str(&b, json ? "}}" : "");
    if (!log_enabled())
        warn_stderr(line);
    else
        log_text(line);
}
