/* The counters: live in this process's status page (status_file.h) for
 * "norst status", and NORST_STATS=1's summary line at exit (stats.c). */
#ifndef NORST_STATS_H
#define NORST_STATS_H

struct close_event;

enum stat_counter {
    STAT_CLOSES, STAT_TCP, STAT_WOULD_RESET, STAT_DRAINED_CLEAN, STAT_BOUND_HIT,
    STAT_SKIPPED_SHARED, STAT_DRAINED_BYTES,
    STAT_LINGERING_STARTED, STAT_LINGERING_ENDED, /* by the reaper: "norst status" shows
                                                   * the difference, how many it holds */
    STAT_COUNT
};
void stats_add(enum stat_counter which);
void stats_count_event(const struct close_event *ev);
void stats_load(void);             /* at load: whether a page can be made */
void stats_after_fork_child(void); /* the child counts from zero, in a page of its own */
void stats_report(void);           /* at a normal exit: the summary line; the page goes */

#endif
