/* The counters. Always counted, so that "norst status" can read them from
 * the process's status page while it runs; NORST_STATS=1 also prints them
 * in one summary line at exit. A close pays one relaxed atomic add (two
 * for TCP), on a page of its own process, with no lock: the close path is
 * async-signal-safe (so is making a forked child's page: raw system calls). */
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
/* A forked child makes its page at its first TCP close, not in fork():
 * most children exec or _exit before any, and a page made at fork would
 * cost each of them some 100 us and, after _exit, stay behind. */
enum child_page { CHILD_PAGE_NONE, CHILD_PAGE_WANTED, CHILD_PAGE_TAKEN };
static int child_page = CHILD_PAGE_NONE;

static void add(enum stat_counter which, uint64_t n)
{
    struct status_page *p = __atomic_load_n(&page, __ATOMIC_ACQUIRE);
    __atomic_fetch_add(&p->counters[which].value, n, __ATOMIC_RELAXED);
}

static void move_private_counts(struct status_page *to)
{
    for (int i = 0; i < STAT_COUNT; i++)
        __atomic_fetch_add(&to->counters[i].value,
                           __atomic_exchange_n(&private_page.counters[i].value, 0, __ATOMIC_RELAXED),
                           __ATOMIC_RELAXED);
}

/* One thread makes it; what was counted before moves over. A thread that
 * took the private page just before the switch and adds to it after the
 * second move loses that count: a same-instant race, in a child's first
 * moments, that a lock in the close path would not be worth. */
static void make_child_page(void)
{
    int wanted = CHILD_PAGE_WANTED;
    if (!__atomic_compare_exchange_n(&child_page, &wanted, CHILD_PAGE_TAKEN, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return;
    struct status_page *made = status_file_make(names, STAT_COUNT);
    if (!made)
        return;
    move_private_counts(made);
    __atomic_store_n(&page, made, __ATOMIC_RELEASE);
    move_private_counts(made); /* what came while it was being made */
}

void stats_add(enum stat_counter which)
{
    add(which, 1);
    if (which == STAT_TCP && __atomic_load_n(&child_page, __ATOMIC_RELAXED) == CHILD_PAGE_WANTED)
        make_child_page();
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
    status_file_drop(page != &private_page ? page : NULL);
    page = &private_page;
    for (int i = 0; i < STAT_COUNT; i++)
        private_page.counters[i].value = 0;
    child_page = norst_cfg.mode == MODE_OFF ? CHILD_PAGE_NONE : CHILD_PAGE_WANTED;
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
