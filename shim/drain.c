/* The graceful close: send our FIN, then read and discard until the peer's
 * FIN, the time bound or the byte bound.
 *
 * Why read at all: __tcp_close() sends an RST instead of a FIN whenever the
 * receive queue is not empty (RFC 2525 2.17), and shutdown(SHUT_WR) alone does
 * not change that. Draining to the peer's EOF empties the queue, so the real
 * close that follows is an orderly one.
 *
 * Several sockets (a range close, exit) drain together under one deadline:
 * every FIN goes out first, then one ppoll serves them all.
 *
 * Raw syscalls with MSG_DONTWAIT under ppoll: the same on blocking and
 * O_NONBLOCK sockets, never a cancellation point, errno untouched. A signal
 * (EINTR) only makes us look at the clock and wait again. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "drain.h"
#include "event.h"
#include "event_fields.h"
#include "sys.h"

#define DRAIN_BATCH 64

/* libc's clock_gettime: the vDSO, no system call; async-signal-safe, and
 * CLOCK_MONOTONIC cannot fail, so errno stays as it was. */
long monotonic_ms(void)
{
    struct timespec ts = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* With unread data the close would have reset at once, lingering on
 * nothing (__tcp_close() looks at the queue first). Drained, it would wait
 * up to N s in close(), or in the reaper: as the last reference is about to
 * go, turning the option off changes nothing the application can see, and
 * the kernel finishes the orderly close in the background. */
static void linger_off(int fd)
{
    struct linger off = {0, 0};
    sys5(SYS_setsockopt, fd, SOL_SOCKET, SO_LINGER, &off, sizeof off);
}

void drain_send_fin(struct close_event *ev)
{
    if (ev->fin_sent)
        return;
    ev->fin_sent = 1;
    if (ev->linger_timed)
        linger_off(ev->fd);
    sys2(SYS_shutdown, ev->fd, SHUT_WR);
    ev->outcome = OUT_TIME_BOUND;
}

/* A high SO_RCVLOWAT would keep poll quiet while bytes sit queued. */
void drain_prepare_read(int fd)
{
    int one = 1;
    sys5(SYS_setsockopt, fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
}

/* Also after a refused handoff, whose FIN is out already (drain_send_fin
 * sends it once): the read side still needs its low-water mark. */
void drain_start(struct close_event *ev)
{
    drain_send_fin(ev);
    drain_prepare_read(ev->fd);
}

int drain_step(struct close_event *ev, int fd, unsigned long long max_bytes,
               enum drain_until until)
{
    for (;;) {
        /* 64 KiB a call: a NULL buffer with MSG_TRUNC discards without
         * copying, but memcheck takes [0, want) as written memory. */
        size_t want = 65536;
        if (max_bytes) {
            if (ev->drained >= max_bytes) {
                ev->outcome = OUT_BYTE_BOUND;
                return 1;
            }
            if (max_bytes - ev->drained < want)
                want = (size_t)(max_bytes - ev->drained);
        }
        /* MSG_TRUNC on a TCP socket discards without copying to user space. */
        long n = raw_syscall6(SYS_recvfrom, fd, 0, (long)want,
                              MSG_TRUNC | MSG_DONTWAIT, 0, 0);
        if (n > 0) {
            ev->drained += (unsigned long long)n;
            /* Less than asked: the queue was empty a moment ago. What
             * comes next (bytes, the EOF) makes the socket readable again,
             * and poll or the level-triggered epoll says so: no call just
             * to hear EAGAIN. */
            if ((size_t)n < want && until == DRAIN_TO_SHORT_READ)
                return 0;
            continue;
        }
        if (n == -EINTR)
            continue;
        if (n == -EAGAIN)
            return 0;
        if (n == 0) {
            ev->outcome = OUT_PEER_EOF;
        } else {
            ev->outcome = n == -ECONNRESET ? OUT_PEER_RESET : OUT_ERROR;
        }
        return 1;
    }
}

/* One group: group[] holds indices into evs (DONE once finished), small
 * beside the pollfd array, which is all the stack a group needs: a drain may
 * run in a signal handler on a small alternate stack. */
#define DONE 0xffff

static void drain_batch(struct close_event *evs, unsigned short *group, int count, long start,
                        long deadline_ms, unsigned long long max_bytes)
{
    struct pollfd pfds[DRAIN_BATCH];

    for (;;) {
        int nwait = 0;
        for (int i = 0; i < count; i++) {
            if (group[i] == DONE)
                continue;
            struct close_event *ev = &evs[group[i]];
            if (drain_step(ev, ev->fd, max_bytes, DRAIN_TO_SHORT_READ)) {
                ev->elapsed_ms = monotonic_ms() - start;
                group[i] = DONE;
                continue;
            }
            pfds[nwait++] = (struct pollfd){.fd = ev->fd, .events = POLLIN | POLLRDHUP};
        }
        long left = deadline_ms - monotonic_ms();
        if (nwait == 0)
            return;
        if (left <= 0) {
            for (int i = 0; i < count; i++)
                if (group[i] != DONE)
                    evs[group[i]].elapsed_ms = monotonic_ms() - start;
            return;
        }
        struct timespec ts = {left / 1000, (left % 1000) * 1000000L};
        sys5(SYS_ppoll, pfds, nwait, &ts, NULL, 0);
    }
}

void drain_sockets(struct close_event *evs, int count, long deadline_ms,
                   unsigned long long max_bytes)
{
    long start = monotonic_ms();
    unsigned short group[DRAIN_BATCH];
    int n = 0;

    for (int i = 0; i < count; i++)
        if (evs[i].action == ACT_DRAIN)
            drain_start(&evs[i]);
    for (int i = 0; i < count; i++) {
        if (evs[i].action != ACT_DRAIN)
            continue;
        group[n++] = (unsigned short)i;
        if (n == DRAIN_BATCH) {
            drain_batch(evs, group, n, start, deadline_ms, max_bytes);
            n = 0;
        }
    }
    if (n)
        drain_batch(evs, group, n, start, deadline_ms, max_bytes);
}
