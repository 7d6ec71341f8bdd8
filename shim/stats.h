/* NORST_STATS=1: counters, reported at exit (stats.c). */
#ifndef NORST_STATS_H
#define NORST_STATS_H

struct close_event;

enum stat_counter {
    STAT_CLOSES, STAT_TCP, STAT_WOULD_RESET, STAT_DRAINED_CLEAN, STAT_BOUND_HIT,
    STAT_SKIPPED_SHARED, STAT_COUNT
};
void stats_add(enum stat_counter which);
void stats_count_event(const struct close_event *ev);
void stats_report(void);

#endif
