/* The orchestrator (close_path.c): probe -> decide -> act -> report. */
#ifndef NORST_CLOSE_PATH_H
#define NORST_CLOSE_PATH_H

#include "event.h"

/* Now plus block_budget_ms(path), on monotonic_ms()'s clock. */
long block_deadline(enum close_path_kind path);

/* How the application's own close of one fd is done: fn(fd, ctx); after an
 * event, after_event(fd, ctx) where fn is a cancellation point (close()). */
struct real_close {
    int (*fn)(int fd, void *ctx);
    int (*after_event)(int fd, void *ctx); /* NULL: fn */
    void *ctx;
};
/* The whole close of one fd the application gives up (close, __close,
 * syscall(SYS_close), fclose, dup2/dup3 onto it): decide; drain here or
 * hand the socket to the reaper; forget what the fd table knew of the
 * number; the real close; the event's log line. Returns what the real close
 * returned, with the errno it left. */
int close_fd(int fd, enum close_path_kind path, const void *caller, const struct real_close *by);

/* Many fds at once (a range close, exit): offer each one; the sockets to act
 * on get their FIN at once and are drained in groups of up to `capacity`
 * under the batch's one deadline, then closed: batch_offer returns 1 when
 * the group is full, and the caller flushes it (a range close first leaves
 * its walk of /proc/self/fd, so the drain and the log lines do not stack on
 * top of the walk's frames). With evs NULL the events get pages of their
 * own at the first one (batch_release gives them back), so a range close in
 * a signal handler keeps them off a small stack: the first is recorded in
 * spare, which holds one event at a time if the pages cannot be had. */
enum batch_act {
    BATCH_ACT_IF_ALONE, /* act, unless another thread of ours still runs */
    BATCH_RECORD,       /* log what would be done; change and close nothing */
};
struct close_batch {
    struct close_event *evs, *spare;
    int capacity, count, mapped;
    enum batch_act act;
    long deadline_ms;
    const void *caller;
    enum close_path_kind path;
    unsigned first, last; /* the range, for range closes */
};
int batch_offer(struct close_batch *b, int fd);
void batch_flush(struct close_batch *b);
void batch_release(struct close_batch *b);

#endif
