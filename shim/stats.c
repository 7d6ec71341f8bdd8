/* NORST_STATS=1: counters for one summary line at exit. Counted only when
 * enabled, so an ordinary close pays one predictable branch. */
#include <stdatomic.h>

#include "config.h"
#include "event.h"
#include "event_fields.h"
#include "fmt.h"
#include "log.h"
#include "stats.h"
#include "sys.h"

static _Atomic unsigned long counters[STAT_COUNT];

void stats_add(enum stat_counter which)
{
    if (norst_cfg.stats)
        atomic_fetch_add_explicit(&counters[which], 1, memory_order_relaxed);
}

void stats_count_event(const struct close_event *ev)
{
    if (!norst_cfg.stats)
        return;
    if (ev->unread > 0)
        stats_add(STAT_WOULD_RESET);
    if (ev->action == ACT_SKIP_SHARED)
        stats_add(STAT_SKIPPED_SHARED);
    if (ev->action != ACT_DRAIN)
        return;
    if (ev->outcome == OUT_TIME_BOUND || ev->outcome == OUT_BYTE_BOUND)
        stats_add(STAT_BOUND_HIT);
    if (ev->rst == RST_NONE)
        stats_add(STAT_DRAINED_CLEAN);
}

void stats_report(void)
{
    static const char *const names[STAT_COUNT] = {
        [STAT_CLOSES] = "closes", [STAT_TCP] = "tcp_closes",
        [STAT_WOULD_RESET] = "would_reset", [STAT_DRAINED_CLEAN] = "drained_clean",
        [STAT_BOUND_HIT] = "bound_hit", [STAT_SKIPPED_SHARED] = "skipped_shared",
    };
    char line[512];
    struct fmtbuf b = {line, 0, sizeof line};
    int json = log_enabled() && log_is_json();
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
        fmt_ulong(&b, atomic_load(&counters[i]));
    }
    fmt_str(&b, json ? "}}" : "");
    if (!log_enabled())
        warn_stderr(line);
    else
        log_text(line);
}
