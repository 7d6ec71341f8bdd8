/* The counters. Always counted, so that "norst status" can read them from
 * the process's status page while it runs; NORST_STATS=1 also prints them
 * in one summary line at exit. A close pays one relaxed atomic add (two
 * for TCP), on a page of its own process, with no lock: the close path is
 * async-signal-safe (so is making the page: raw system calls). */
#include "aside.h"
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
    [STAT_DRAINED_BYTES] = "drained_bytes", [STAT_LINGERING_STARTED] = "lingering_started",
    [STAT_LINGERING_ENDED] = "lingering_ended",
};

/* Where counting goes when there is no page: the same layout, private. */
static struct status_page private_page;
static struct status_page *page = &private_page;
/* A process makes its page at its first TCP close, not at load or fork:
 * most processes never close a TCP socket (shells, compilers, a child that
 * execs), and a page made for each of them would cost some 100 us and, after
 * _exit (as dash ends), stay behind. */
enum page_state { PAGE_NONE, PAGE_WANTED, PAGE_TAKEN };
static int page_state = PAGE_NONE;

static void add(enum stat_counter which, uint64_t n)
{
    struct status_page *p = __atomic_load_n(&page, __ATOMIC_ACQUIRE);
    __atomic_fetch_add(&p->counters[which].value, n, __ATOMIC_RELAXED);
    /* Added to the private page while another thread put the real one in
     * place: moved over, so that no count is lost (lingering_started and
     * lingering_ended must stay paired). */
    struct status_page *now = __atomic_load_n(&page, __ATOMIC_SEQ_CST);
    if (p == &private_page && now != &private_page)
        __atomic_fetch_add(&now->counters[which].value,
                           __atomic_exchange_n(&private_page.counters[which].value, 0, __ATOMIC_SEQ_CST),
                           __ATOMIC_RELAXED);
}

static void move_private_counts(struct status_page *to)
{
    for (int i = 0; i < STAT_COUNT; i++)
        __atomic_fetch_add(&to->counters[i].value,
                           __atomic_exchange_n(&private_page.counters[i].value, 0, __ATOMIC_RELAXED),
                           __ATOMIC_RELAXED);
}

/* One thread makes it; what was counted before moves over (a count added
 * to the private page during the switch is moved by add()). */
static void make_page(void)
{
    int wanted = PAGE_WANTED;
    if (!__atomic_compare_exchange_n(&page_state, &wanted, PAGE_TAKEN, 0, __ATOMIC_ACQ_REL,
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
    if (which == STAT_TCP && __atomic_load_n(&page_state, __ATOMIC_RELAXED) == PAGE_WANTED)
        make_page();
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
    if (ev->outcome == OUT_TIME_BOUND || ev->outcome == OUT_BYTE_BOUND ||
        ev->outcome == OUT_IDLE_BOUND || ev->outcome == OUT_BLOCK_BOUND)
        add(STAT_BOUND_HIT, 1);
    if (ev->rst == RST_NONE)
        add(STAT_DRAINED_CLEAN, 1);
}

/* Mode off changes nothing and counts nothing: no page either. The
 * directory is checked now, so the load line can say where the page will
 * be, or why there will be none. */
void stats_load(void)
{
    /* A filter in place at load may kill on what making a page calls
     * (mkdirat, pwrite64): the counts stay private. */
    if (seccomp_mode_now() == 1)
        return;
    if (norst_cfg.mode != MODE_OFF && status_file_check() == 0)
        page_state = PAGE_WANTED;
}

/* Before the child's first close (fork returns after the atfork handlers),
 * so there is nothing to race with. */
void stats_after_fork_child(void)
{
    status_file_drop(page != &private_page ? page : NULL);
    page = &private_page;
    for (int i = 0; i < STAT_COUNT; i++)
        private_page.counters[i].value = 0;
    page_state = norst_cfg.mode == MODE_OFF ? PAGE_NONE : PAGE_WANTED;
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
