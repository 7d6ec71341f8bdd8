/* FIN, then read-and-discard to the peer's EOF or a bound (drain.c). */
#ifndef NORST_DRAIN_H
#define NORST_DRAIN_H

#include "event.h"

/* FIN, then discard on every event's socket together, until each peer's EOF
 * or a bound: its own (idle, total, bytes), or the caller's block deadline
 * (CLOCK_MONOTONIC ms). */
void drain_sockets(struct close_event *evs, int count, long block_deadline_ms);
/* How long the caller of a close may wait (ms): NORST_BLOCK_MS, and at
 * exit at least the time the last drains get. */
long block_budget_ms(enum close_path_kind path);
/* The drain ended so (returns 1). */
int drain_done(struct close_event *ev, enum outcome how);
/* When the clock ends this drain (ms), and with which outcome; no block
 * deadline: LONG_MAX. */
long drain_deadline(const struct close_event *ev, long block_deadline_ms, enum outcome *why);
/* FIN now, drain later (drain_sockets skips the FIN for such an event). */
void drain_start(struct close_event *ev);
/* drain_start's first half, our FIN alone (a handoff's, idempotent). */
void drain_send_fin(struct close_event *ev);
/* How far one step reads. */
enum drain_until {
    DRAIN_TO_SHORT_READ, /* stop at a short discard: readiness tells of more */
    DRAIN_TO_EMPTY,      /* on to EAGAIN: a first look at a socket whose peer
                          * may have sent its FIN already */
};
/* Discard what is queued on fd for ev; 1 when this socket is finished. */
int drain_step(struct close_event *ev, int fd, enum drain_until until);

/* CLOCK_MONOTONIC in ms: the clock every deadline is read on. */
long monotonic_ms(void);

#endif
