/* NORST_ASYNC=1: close() returns at once; one background thread lingers.
 *
 * The handoff (app thread, inside close): our FIN goes out now, the socket
 * is detached from everything of the application's that could still report
 * on it (its epoll sets, O_ASYNC), duplicated to a high fd number the
 * application never sees, described in an entry taken from a lock-free free
 * list and pushed on a lock-free intake list. Raw syscalls and atomics only:
 * it stays async-signal-safe. While handoffs keep coming, the reaper looks at
 * the intake every millisecond (GATHER_NS) anyway, and the closing thread
 * makes no further call; only a reaper asleep with nothing to do is woken,
 * once, through an eventfd. Any failure, or the NORST_MAX_LINGER cap, falls
 * back to the synchronous drain.
 *
 * The reaper (one thread per process, started outside any close, all signals
 * blocked): takes the intake at every wake-up, adds each socket to its epoll
 * set (there, not in close: an epoll_ctl waits on the epoll set's mutex,
 * which the reaper holds while it collects events), keeps entries in deadline
 * order (every socket gets the same NORST_LINGER_MS, so that is handoff
 * order, give or take concurrent handoffs), discards what arrives, and does
 * the real close at the peer's EOF, the byte bound or the deadline.
 *
 * Why the epoll detach: an epoll registration lives as long as the open
 * file, and the reaper's duplicate keeps the file open; without EPOLL_CTL_DEL
 * the application's epoll set would go on reporting the old socket under its
 * old fd number, which by then may name a new connection. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "compat.h"
#include "internal_fd.h"
#include "norst.h"
#include "owner.h"
#include "sys.h"

NORST_OLD_SYMBOL(pthread_create);
NORST_OLD_SYMBOL(pthread_attr_setstacksize);
NORST_OLD_SYMBOL(pthread_sigmask);

#define MAX_EPOLL_FDS 256
/* While busy, the reaper looks again this often: one wake-up serves every
 * socket and handoff of the interval (a drain ends that much later; the
 * peer saw our FIN long ago). */
#define GATHER_NS 1000000L
#define WAKE_TOKEN UINT64_MAX /* the eventfd's epoll event */

struct lingering {
    int fd;              /* the reaper's duplicate */
    _Atomic uint32_t gen; /* bumped on reuse: stale epoll events are ignored */
    _Atomic int listed;  /* set by the reaper when it takes the entry in */
    int prev, next;      /* deadline order, under the lock */
    _Atomic int link;    /* free list or intake list: index + 1, 0 ends */
    long deadline_ms, start_ms;
    struct close_event ev;
};

static struct {
    _Atomic int state; /* 0 not started, 1 starting, 2 running */
    _Atomic int lingering;
    int capacity;
    int base_fd; /* reaper duplicates live at this number and above */
    int epfd;    /* internal_fd slot: the number may move */
    int wakefd;  /* internal_fd slot of the eventfd */
    _Atomic int asleep; /* the reaper waits with nothing to do: wake it */
    struct lingering *entries;
    _Atomic int unused;       /* entries never used yet start here */
    _Atomic uint64_t free_top; /* tag << 32 | (index + 1): ABA-safe pops */
    _Atomic int intake;       /* index + 1 of the newest handoff */
    int head, tail;           /* the deadline-ordered list, under the lock */
    _Atomic int lock;
} reaper = {.epfd = -1, .wakefd = -1, .head = -1, .tail = -1};

/* epoll fds the application created: the handoff removes the socket from
 * each (ENOENT where it was not registered). A full table disables async. */
static _Atomic int epoll_fds[MAX_EPOLL_FDS] = {[0 ... MAX_EPOLL_FDS - 1] = -1};
static _Atomic int epoll_overflow;

void reaper_epoll_created(int epfd)
{
    for (int i = 0; i < MAX_EPOLL_FDS; i++) {
        int expected = -1;
        if (atomic_load(&epoll_fds[i]) == epfd ||
            atomic_compare_exchange_strong(&epoll_fds[i], &expected, epfd))
            return;
    }
    atomic_store(&epoll_overflow, 1);
}

void reaper_epoll_closed(int epfd)
{
    for (int i = 0; i < MAX_EPOLL_FDS; i++) {
        int expected = epfd;
        atomic_compare_exchange_strong(&epoll_fds[i], &expected, -1);
    }
}

/* A spinlock, not a mutex: app threads take it only on rare paths (an fd
 * limit hit, a dup2 onto one of the reaper's fds), and the reaper never
 * blocks holding it. */
#define EPFD internal_fd_get(reaper.epfd)

void reaper_lock(void)
{
    while (atomic_exchange_explicit(&reaper.lock, 1, memory_order_acquire))
        sys0(SYS_sched_yield);
}

void reaper_unlock(void)
{
    atomic_store_explicit(&reaper.lock, 0, memory_order_release);
}

int reaper_active(void)
{
    return atomic_load_explicit(&reaper.state, memory_order_acquire) == 2;
}

/* ---- the reaper's list, under the lock ---- */

static void list_unlink(int i)
{
    struct lingering *e = &reaper.entries[i];
    if (e->prev >= 0)
        reaper.entries[e->prev].next = e->next;
    else
        reaper.head = e->next;
    if (e->next >= 0)
        reaper.entries[e->next].prev = e->prev;
    else
        reaper.tail = e->prev;
}

/* Insert by deadline, from the tail: handoffs come almost in order. */
static void list_insert(int i)
{
    struct lingering *e = &reaper.entries[i];
    int after = reaper.tail;
    while (after >= 0 && reaper.entries[after].deadline_ms > e->deadline_ms)
        after = reaper.entries[after].prev;
    e->prev = after;
    e->next = after >= 0 ? reaper.entries[after].next : reaper.head;
    if (e->next >= 0)
        reaper.entries[e->next].prev = i;
    else
        reaper.tail = i;
    if (after >= 0)
        reaper.entries[after].next = i;
    else
        reaper.head = i;
}

static uint64_t token(int i)
{
    return (uint64_t)atomic_load_explicit(&reaper.entries[i].gen, memory_order_relaxed) << 32 |
           (uint32_t)i;
}

/* ---- lock-free entry allocation (app threads) and release (reaper) ---- */

static int entry_take(void)
{
    uint64_t top = atomic_load(&reaper.free_top);
    for (;;) {
        uint32_t index1 = (uint32_t)top;
        if (index1 == 0)
            break;
        int next1 = atomic_load_explicit(&reaper.entries[index1 - 1].link, memory_order_relaxed);
        uint64_t new_top = ((top >> 32) + 1) << 32 | (uint32_t)next1;
        if (atomic_compare_exchange_weak(&reaper.free_top, &top, new_top))
            return (int)index1 - 1;
    }
    int fresh = atomic_fetch_add(&reaper.unused, 1);
    if (fresh < reaper.capacity)
        return fresh;
    atomic_fetch_sub(&reaper.unused, 1);
    return -1;
}

static void entry_give_back(int i)
{
    uint64_t top = atomic_load(&reaper.free_top);
    do
        atomic_store_explicit(&reaper.entries[i].link, (int)(uint32_t)top, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(&reaper.free_top, &top,
                                         ((top >> 32) + 1) << 32 | (uint32_t)(i + 1)));
}

/* The real close of a lingering socket, and its log line; why overrides
 * the drain's outcome unless it is OUT_NONE. */
static void finish(int i, enum outcome why)
{
    struct lingering *e = &reaper.entries[i];
    if (why != OUT_NONE)
        e->ev.outcome = why;
    e->ev.elapsed_ms = monotonic_ms() - e->start_ms;
    note_unread_at_close(&e->ev, e->fd);
    /* The last reference: closing it also takes it out of our epoll set. */
    fdtab_set_reaper(e->fd, 0);
    sys1(SYS_close, e->fd);
    close_path_end(&e->ev);
    list_unlink(i);
    e->fd = -1;
    atomic_store(&e->listed, 0);
    atomic_fetch_add(&e->gen, 1);
    entry_give_back(i);
    atomic_fetch_sub(&reaper.lingering, 1);
}

/* Drain what is queued; finish the socket if it is done. */
static void serve(int i)
{
    struct lingering *e = &reaper.entries[i];
    if (drain_step(&e->ev, e->fd, norst_cfg.max_bytes, 0))
        finish(i, OUT_NONE);
}

/* Take the handoffs pushed since the last look (under the lock). Returns
 * how many. */
static int ingest(void)
{
    int taken = 0;
    int index1 = atomic_exchange(&reaper.intake, 0), order = -1;
    /* The intake is newest first: reverse it, then list by deadline. */
    while (index1) {
        int i = index1 - 1;
        index1 = atomic_load_explicit(&reaper.entries[i].link, memory_order_relaxed);
        atomic_store_explicit(&reaper.entries[i].link, order + 1, memory_order_relaxed);
        order = i;
    }
    while (order >= 0) {
        int i = order;
        order = atomic_load_explicit(&reaper.entries[i].link, memory_order_relaxed) - 1;
        struct lingering *e = &reaper.entries[i];
        struct epoll_event pev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = token(i)};
        list_insert(i);
        atomic_store(&e->listed, 1);
        taken++;
        /* Up to a millisecond has passed since our FIN: a peer that only
         * waited for it has often answered with its own. Then the socket
         * is finished here, never watched. */
        if (drain_step(&e->ev, e->fd, norst_cfg.max_bytes, 1)) {
            finish(i, OUT_NONE);
            continue;
        }
        drain_prepare_read(e->fd);
        /* Not watched, the socket still has the deadline bound; only the
         * EOF would be noticed late. Level-triggered: what arrived since
         * the drain is reported at once. */
        sys4(SYS_epoll_ctl, EPFD, EPOLL_CTL_ADD, e->fd, &pev);
    }
    return taken;
}

static void expire(long now)
{
    while (reaper.head >= 0 && reaper.entries[reaper.head].deadline_ms <= now)
        finish(reaper.head, OUT_TIME_BOUND);
}

static void *reaper_main(void *arg)
{
    struct epoll_event events[128];
    struct sched_param batch = {0};
    int busy = 0;
    (void)arg;
    /* SCHED_BATCH: a socket event waking the reaper must not preempt the
     * application's threads (on a busy machine that showed as close()
     * latency outliers); the reaper's work is never urgent to the ms. */
    sys3(SYS_sched_setscheduler, 0, SCHED_BATCH, &batch);
    for (;;) {
        long timeout = 0;
        if (busy) {
            struct timespec gather = {0, GATHER_NS};
            sys2(SYS_nanosleep, &gather, NULL);
        } else {
            /* Idle: sleep until a socket event, the first deadline or a
             * wake-up (with nothing lingering, no timeout at all). Announce
             * it, then look at the intake once more: a handoff pushed
             * before the announcement was seen is taken now, any later one
             * wakes us (both sides seq_cst). */
            timeout = -1;
            reaper_lock();
            if (reaper.head >= 0) {
                timeout = reaper.entries[reaper.head].deadline_ms - monotonic_ms();
                if (timeout < 0)
                    timeout = 0;
            }
            reaper_unlock();
            atomic_store(&reaper.asleep, 1);
            if (atomic_load(&reaper.intake) != 0)
                timeout = 0;
        }
        long n = 0;
        if (internal_fd_enter()) {
            n = sys5(SYS_epoll_pwait, EPFD, events, 128, timeout, NULL);
            internal_fd_leave();
        } else {
            /* A dup2() is moving one of our fds; the mover wakes us after. */
            struct timespec pause = {0, GATHER_NS};
            sys2(SYS_nanosleep, &pause, NULL);
        }
        atomic_store(&reaper.asleep, 0);
        reaper_lock();
        busy = ingest() > 0;
        for (long k = 0; k < n; k++) {
            uint64_t t = events[k].data.u64, count;
            int i = (int)(uint32_t)t;
            if (t == WAKE_TOKEN) {
                sys3(SYS_read, internal_fd_get(reaper.wakefd), &count, sizeof count);
                continue;
            }
            busy = 1;
            if (i < reaper.capacity && atomic_load(&reaper.entries[i].listed) && token(i) == t)
                serve(i);
        }
        expire(monotonic_ms());
        reaper_unlock();
    }
    return NULL;
}

/* ---- start, lazily, from a hook that is never a close ---- */

void reaper_start(void)
{
    struct rlimit rl;
    int expected = 0;
    if (!norst_cfg.async || !owner_is_self() ||
        !atomic_compare_exchange_strong(&reaper.state, &expected, 1))
        return;

    /* Duplicates live in the upper half of the fd range, away from the
     * lowest-first numbers the application is handed. */
    long limit = 1024;
    if (sys2(SYS_getrlimit, RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        limit = (long)rl.rlim_cur;
    reaper.base_fd = (int)(limit / 2);
    reaper.capacity = (int)(norst_cfg.max_linger < limit / 2 ? norst_cfg.max_linger : limit / 2);

    size_t bytes = (size_t)reaper.capacity * sizeof(struct lingering);
    long map = raw_syscall6(SYS_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    /* Pages of the entry array appear as entries are first used. */
    if (reaper.capacity <= 0 || (map < 0 && map > -4096))
        goto fail;
    reaper.entries = (struct lingering *)map;
    long epfd = sys1(SYS_epoll_create1, EPOLL_CLOEXEC);
    if (epfd < 0 || (reaper.epfd = internal_fd_adopt((int)epfd)) < 0)
        goto fail;
    long wakefd = sys2(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakefd < 0 || (reaper.wakefd = internal_fd_adopt((int)wakefd)) < 0)
        goto fail;
    struct epoll_event wake = {.events = EPOLLIN, .data.u64 = WAKE_TOKEN};
    if (sys4(SYS_epoll_ctl, EPFD, EPOLL_CTL_ADD, internal_fd_get(reaper.wakefd), &wake) < 0)
        goto fail;
    /* Grow the fd table to the top of the reaper's range now: growing it
     * later, with a second thread sharing it, waits for an RCU grace period
     * (expand_fdtable) inside some close(). */
    long top = sys3(SYS_fcntl, EPFD, F_DUPFD_CLOEXEC, reaper.base_fd + reaper.capacity - 1);
    if (top >= 0)
        sys1(SYS_close, top);

    /* The thread inherits a mask with every signal blocked: the
     * application's signals must never land on it. */
    sigset_t all, old;
    pthread_t thread;
    pthread_attr_t attr;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int started = pthread_create(&thread, &attr, reaper_main, NULL) == 0;
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!started)
        goto fail;
    atomic_store_explicit(&reaper.state, 2, memory_order_release);
    return;
fail:
    warn_stderr("libnorst: NORST_ASYNC=1: cannot start the reaper; closes drain synchronously");
}

/* ---- the handoff, inside close ---- */

static void detach_from_application(int fd)
{
    long flags = sys2(SYS_fcntl, fd, F_GETFL);
    if (flags >= 0 && (flags & O_ASYNC))
        sys3(SYS_fcntl, fd, F_SETFL, flags & ~O_ASYNC);
    for (int i = 0; i < MAX_EPOLL_FDS; i++) {
        int epfd = atomic_load_explicit(&epoll_fds[i], memory_order_relaxed);
        if (epfd >= 0)
            sys4(SYS_epoll_ctl, epfd, EPOLL_CTL_DEL, fd, NULL);
    }
}

static int handoff(struct close_event *ev)
{
    if (atomic_fetch_add(&reaper.lingering, 1) >= reaper.capacity)
        goto refuse;
    int i = entry_take();
    if (i < 0)
        goto refuse;
    struct lingering *e = &reaper.entries[i];
    drain_send_fin(ev);
    detach_from_application(ev->fd);
    long dup = sys3(SYS_fcntl, ev->fd, F_DUPFD_CLOEXEC, reaper.base_fd);
    if (dup < 0 || !fdtab_set_reaper((int)dup, 1)) {
        if (dup >= 0)
            sys1(SYS_close, dup);
        entry_give_back(i);
        goto refuse;
    }
    e->fd = (int)dup;
    e->start_ms = monotonic_ms();
    e->deadline_ms = e->start_ms + norst_cfg.linger_ms;
    e->ev = *ev;
    /* Once on the intake, the entry is the reaper's. */
    int head = atomic_load(&reaper.intake);
    do
        atomic_store_explicit(&e->link, head, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(&reaper.intake, &head, i + 1));
    if (atomic_exchange(&reaper.asleep, 0))
        reaper_nudge(0);
    return 1;
refuse:
    atomic_fetch_sub(&reaper.lingering, 1);
    return 0; /* the caller drains synchronously; our FIN may be out already */
}

/* A fork between the duplicate and its mark in the fd table would give the
 * child an unmarked copy of the socket, which reaper_after_fork_child could
 * not close: the child would hold the socket, and reset it at its exit. So
 * fork waits for handoffs under way, and handoffs that begin while a fork
 * is being prepared drain synchronously (Dekker-style, seq_cst). */
static _Atomic int handoffs_under_way;
static _Atomic int forking; /* forks being prepared, in any thread */

int reaper_handoff(struct close_event *ev)
{
    if (!norst_cfg.async || !reaper_active() || atomic_load(&epoll_overflow))
        return 0;
    atomic_fetch_add(&handoffs_under_way, 1);
    int handed = !atomic_load(&forking) && handoff(ev);
    atomic_fetch_sub(&handoffs_under_way, 1);
    return handed;
}

/* pthread_atfork's prepare. Whether or not the reaper runs yet (it may
 * start during the fork), so that the parent's handler always undoes
 * exactly this. The wait is bounded: a handoff that a signal handler (the
 * one calling fork) interrupted cannot end. */
void reaper_before_fork(void)
{
    atomic_fetch_add(&forking, 1);
    for (int spins = 0; atomic_load(&handoffs_under_way) > 0 && spins < 100000; spins++)
        sys0(SYS_sched_yield);
    reaper_lock();
}

void reaper_after_fork_parent(void)
{
    reaper_unlock();
    atomic_fetch_sub(&forking, 1);
}

void reaper_nudge(int by_mover)
{
    uint64_t one = 1;
    if (!reaper_active())
        return;
    /* Outside a move, only within enter/leave: a dup2() onto the eventfd's
     * number must not let this write reach the application's file. A
     * wake-up skipped here is made by the mover once the move is done. */
    if (by_mover) {
        sys3(SYS_write, internal_fd_get(reaper.wakefd), &one, sizeof one);
    } else if (internal_fd_enter()) {
        sys3(SYS_write, internal_fd_get(reaper.wakefd), &one, sizeof one);
        internal_fd_leave();
    }
}

/* ---- the application needs fds back ---- */

/* Finish every lingering socket now (an fd limit was hit). Returns how many
 * were lingering: 0 means no fd could have come back, and the caller need
 * not try again. */
int reaper_evict_all(void)
{
    if (!reaper_active() || !owner_is_self())
        return 0;
    reaper_lock();
    /* Everything handed off so far, whether the intake finishes it at
     * once (its peer's EOF was there) or it is evicted below. */
    int freed = atomic_load(&reaper.lingering);
    ingest();
    while (reaper.head >= 0)
        finish(reaper.head, OUT_EVICTED);
    reaper_unlock();
    return freed;
}

/* dup2 onto a number a lingering socket holds: move the socket elsewhere,
 * or finish it if no fd is free above. */
void reaper_release_fd(int fd)
{
    if (!reaper_active())
        return;
    reaper_lock();
    ingest();
    for (int i = reaper.head; i >= 0; i = reaper.entries[i].next) {
        struct lingering *e = &reaper.entries[i];
        if (e->fd != fd)
            continue;
        long moved = sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, fd + 1);
        if (moved < 0) {
            finish(i, OUT_EVICTED);
            break;
        }
        struct epoll_event pev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = token(i)};
        sys4(SYS_epoll_ctl, EPFD, EPOLL_CTL_DEL, fd, NULL);
        sys4(SYS_epoll_ctl, EPFD, EPOLL_CTL_ADD, moved, &pev);
        fdtab_set_reaper(fd, 0);
        fdtab_set_reaper((int)moved, 1);
        sys1(SYS_close, fd);
        e->fd = (int)moved;
        break;
    }
    reaper_unlock();
}

/* Exit: let the drains run out their bounds (every deadline is at most
 * NORST_LINGER_MS from now; a little slack lets the reaper reach the last
 * of them), then finish what is left. */
void reaper_at_exit(void)
{
    if (!reaper_active())
        return;
    long deadline = monotonic_ms() + norst_cfg.linger_ms + 100;
    while (atomic_load(&reaper.lingering) > 0 && monotonic_ms() < deadline) {
        struct timespec ms = {0, 1000000};
        sys2(SYS_nanosleep, &ms, NULL);
    }
    reaper_evict_all();
}

/* fork: the child has no reaper thread, only copies of its fds. Those
 * copies must go at once (the parent's reaper does the real close), and the
 * child starts from nothing. */
void reaper_after_fork_child(void)
{
    /* The child's only thread: nothing is under way, nothing is held. */
    atomic_store(&handoffs_under_way, 0);
    atomic_store(&forking, 0);
    atomic_store(&reaper.lock, 0);
    if (atomic_load(&reaper.state) == 0)
        return;
    fdtab_close_reaper_fds();
    int epfd = EPFD;
    internal_fd_remove(epfd);
    sys1(SYS_close, epfd);
    if (reaper.wakefd >= 0) {
        int wakefd = internal_fd_get(reaper.wakefd);
        internal_fd_remove(wakefd);
        sys1(SYS_close, wakefd);
    }
    if (reaper.entries)
        sys2(SYS_munmap, reaper.entries, (size_t)reaper.capacity * sizeof(struct lingering));
    reaper.entries = NULL;
    reaper.epfd = -1;
    reaper.wakefd = -1;
    atomic_store(&reaper.asleep, 0);
    reaper.head = reaper.tail = -1;
    atomic_store(&reaper.unused, 0);
    atomic_store(&reaper.free_top, 0);
    atomic_store(&reaper.intake, 0);
    atomic_store(&reaper.lingering, 0);
    atomic_store(&reaper.state, 0);
}
