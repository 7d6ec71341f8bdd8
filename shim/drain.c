/* The graceful close: send our FIN, then read and discard until the peer's
 * FIN or a bound.
 *
 * The bounds, like nginx's lingering close: the peer silent for
 * NORST_IDLE_MS, or NORST_LINGER_MS in all; inside close() also the
 * caller's own budget (NORST_BLOCK_MS). And bytes: once the peer has
 * acknowledged our FIN (FIN_WAIT2), it holds everything we sent and our
 * EOF, and a reset no longer costs it a byte of that: its recv() returns
 * the data, then 0 (the RST only sets sk_err, which tcp_recvmsg() reports
 * after the queue and SOCK_DONE). From then on a peer that goes on sending
 * is only fed, so NORST_MAX_BYTES stops it; before, nothing but the clock
 * may, since a reset would throw away what the peer has not received.
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
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
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
    if (ev->drain_state != DRAIN_NOT_STARTED)
        return;
    ev->drain_state = DRAIN_LINGERING;
    ev->start_ms = ev->last_heard_ms = monotonic_ms();
    if (ev->linger_timed)
        linger_off(ev->fd);
    sys2(SYS_shutdown, ev->fd, SHUT_WR);
    ev->outcome = OUT_TIME_BOUND;
}

/* A high SO_RCVLOWAT would keep poll quiet while bytes sit queued. */
static void drain_prepare_read(int fd)
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

/* Our FIN and all before it acknowledged: tcp_rcv_state_process() moves
 * FIN_WAIT1 to FIN_WAIT2 only then. */
static int peer_has_our_fin(int fd)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    if (sys5(SYS_getsockopt, fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
        return 0;
    return info.tcpi_state == TCP_FIN_WAIT2 || info.tcpi_state == TCP_TIME_WAIT;
}

/* Exit ends every thread: what lingers must end in the exiting one, which
 * waits this long however small the caller's budget is. */
#define EXIT_WAIT_MS 2000

long block_budget_ms(enum close_path_kind path)
{
    long budget = norst_cfg.block_ms;
    if (path == PATH_EXIT && budget < EXIT_WAIT_MS)
        budget = EXIT_WAIT_MS;
    return budget;
}

int drain_done(struct close_event *ev, enum outcome how)
{
    ev->outcome = how;
    ev->drain_state = DRAIN_DONE;
    return 1;
}

long drain_deadline(const struct close_event *ev, long block_deadline_ms, enum outcome *why)
{
    long end = ev->start_ms + norst_cfg.linger_ms, idle = ev->last_heard_ms + norst_cfg.idle_ms;
    *why = OUT_TIME_BOUND;
    if (norst_cfg.idle_ms > 0 && idle < end) { /* 0: no idle bound */
        end = idle;
        *why = OUT_IDLE_BOUND;
    }
    if (block_deadline_ms < end) {
        end = block_deadline_ms;
        *why = OUT_BLOCK_BOUND;
    }
    return end;
}

/* What one step may read: a first look runs inside close(), which must
 * not wait on a peer that streams faster than we discard; a step of the
 * reaper or of a group must let the other sockets have their turn. What is
 * left is still readable, and poll or the level-triggered epoll says so. */
#define FIRST_LOOK_BYTES (256 * 1024)
#define STEP_BYTES (1024 * 1024)

int drain_step(struct close_event *ev, int fd, enum drain_until until)
{
    unsigned long long max_bytes = norst_cfg.max_bytes;
    size_t step_left = until == DRAIN_TO_EMPTY ? FIRST_LOOK_BYTES : STEP_BYTES;
    for (;;) {
        if (step_left == 0)
            return 0;
        /* 64 KiB a call: a NULL buffer with MSG_TRUNC discards without
         * copying, but memcheck takes [0, want) as written memory. */
        size_t want = 65536;
        if (max_bytes) {
            if (ev->drained >= max_bytes && peer_has_our_fin(fd))
                return drain_done(ev, OUT_BYTE_BOUND);
            /* Up to the bound exactly, then a look at the state per read. */
            if (ev->drained < max_bytes && max_bytes - ev->drained < want)
                want = (size_t)(max_bytes - ev->drained);
        }
        /* MSG_TRUNC on a TCP socket discards without copying to user space. */
        long n = raw_syscall6(SYS_recvfrom, fd, 0, (long)want,
                              MSG_TRUNC | MSG_DONTWAIT, 0, 0);
        if (n > 0) {
            ev->drained += (unsigned long long)n;
            ev->last_heard_ms = monotonic_ms();
            step_left -= (size_t)n < step_left ? (size_t)n : step_left;
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
        if (n == 0)
            return drain_done(ev, OUT_PEER_EOF);
        return drain_done(ev, n == -ECONNRESET ? OUT_PEER_RESET : OUT_ERROR);
    }
}

/* One group: group[] holds indices into evs (DONE once finished), small
 * beside the pollfd array, which is all the stack a group needs: a drain may
 * run in a signal handler on a small alternate stack. */
#define DONE 0xffff

static void drain_batch(struct close_event *evs, unsigned short *group, int count, long start,
                        long block_deadline_ms)
{
    struct pollfd pfds[DRAIN_BATCH];

    for (;;) {
        int nwait = 0;
        long now = monotonic_ms(), wake = LONG_MAX;
        for (int i = 0; i < count; i++) {
            if (group[i] == DONE)
                continue;
            struct close_event *ev = &evs[group[i]];
            enum outcome why;
            int done = drain_step(ev, ev->fd, DRAIN_TO_SHORT_READ);
            long end = drain_deadline(ev, block_deadline_ms, &why);
            if (!done && end <= now)
                done = drain_done(ev, why);
            if (done) {
                ev->elapsed_ms = monotonic_ms() - start;
                group[i] = DONE;
                continue;
            }
            if (end < wake)
                wake = end;
            pfds[nwait++] = (struct pollfd){.fd = ev->fd, .events = POLLIN | POLLRDHUP};
        }
        if (nwait == 0)
            return;
        long left = wake - now;
        struct timespec ts = {left / 1000, (left % 1000) * 1000000L};
        sys5(SYS_ppoll, pfds, nwait, &ts, NULL, 0);
    }
}

void drain_sockets(struct close_event *evs, int count, long block_deadline_ms)
{
    long start = monotonic_ms();
    unsigned short group[DRAIN_BATCH];
    int n = 0;

    for (int i = 0; i < count; i++)
        if (evs[i].action == ACT_DRAIN)
            drain_start(&evs[i]);
    for (int i = 0; i < count; i++) {
        if (evs[i].action != ACT_DRAIN || evs[i].drain_state != DRAIN_LINGERING)
            continue;
        group[n++] = (unsigned short)i;
        if (n == DRAIN_BATCH) {
            drain_batch(evs, group, n, start, block_deadline_ms);
            n = 0;
        }
    }
    if (n)
        drain_batch(evs, group, n, start, block_deadline_ms);
}
