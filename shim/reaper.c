/* The default (NORST_ASYNC=1): close() returns at once; one background
 * thread lingers.
 *
 * The handoff (app thread, inside close): our FIN goes out now, the socket
 * is detached from everything of the application's that could still report
 * on it (its epoll sets, O_ASYNC), duplicated to a high fd number the
 * application never sees, described in an entry taken from a lock-free free
 * list and pushed on a lock-free intake list. Raw syscalls and atomics only:
 * it stays async-signal-safe. While handoffs keep coming, the reaper looks at
 * the intake every millisecond (GATHER_NS) anyway, and the closing thread
 * makes no further call; only a reaper asleep with nothing to do is woken,
 * once, through an eventfd. Any failure, or the NORST_MAX_LINGER cap, leaves
 * the socket to the close, within its budget (NORST_BLOCK_MS).
 *
 * The reaper's parts (entries, epoll set, eventfd: raw syscalls only) are
 * set up by the first handoff; its thread (one per process, all signals
 * blocked) is started by that handoff once it is done, unless the close may
 * run in a signal handler (handler_context.c; pthread_create is not
 * async-signal-safe): then by the next hook that makes an fd. A process
 * that never lingers never has a thread, and the thread ends when nothing
 * has lingered for a while (IDLE_END_MS). Until a thread runs, and at exit,
 * the handed-off sockets wait with their FIN out; exit drains them in the
 * exiting thread. unshare/setns/seccomp stop the thread (reaper_stop), a
 * later handoff starts it again.
 *
 * The thread takes the intake at every wake-up, adds each socket to its epoll
 * set (there, not in close: an epoll_ctl waits on the epoll set's mutex,
 * which the reaper holds while it collects events), keeps entries in the
 * order of their next deadline (idle or total: see expire()), discards what
 * arrives, and does the real close at the peer's EOF or a bound.
 *
 * Why the epoll detach: an epoll registration lives as long as the open
 * file, and the reaper's duplicate keeps the file open; without EPOLL_CTL_DEL
 * the application's epoll set would go on reporting the old socket under its
 * old fd number, which by then may name a new connection. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "aside.h"
#include "compat.h"
#include "config.h"
#include "drain.h"
#include "event.h"
#include "event_fields.h"
#include "handler_context.h"
#include "internal_fd.h"
#include "log.h"
#include "owner.h"
#include "reaper.h"
#include "report.h"
#include "sharing.h"
#include "stack.h"
#include "stats.h"
#include "sys.h"
#include "threads.h"

NORST_OLD_SYMBOL(pthread_create);
NORST_OLD_SYMBOL(pthread_join);
NORST_OLD_SYMBOL(pthread_detach);
NORST_OLD_SYMBOL(pthread_attr_setstacksize);
NORST_OLD_SYMBOL(pthread_sigmask);

#define MAX_EPOLL_FDS 256
/* While busy, the reaper looks again this often: one wake-up serves every
 * socket and handoff of the interval (a drain ends that much later; the
 * peer saw our FIN long ago). */
#define GATHER_NS 1000000L
#define WAKE_TOKEN UINT64_MAX /* the eventfd's epoll event */
/* A thread the application never sees must not keep the process alive:
 * when the application's last thread ends with pthread_exit(), glibc ends
 * the process only once no thread is left. So, with nothing lingering for
 * this long and no other thread left, the reaper ends. */
#define IDLE_RETIRE_MS 500
/* And with other threads, after this long with nothing lingering: a
 * process that lingers rarely keeps no thread for it. The next socket that
 * needs one starts it again. */
#define IDLE_END_MS 10000

struct lingering {
    int fd;              /* the reaper's duplicate */
    _Atomic uint32_t gen; /* bumped on reuse: stale epoll events are ignored */
    _Atomic int listed;  /* set by the reaper when it takes the entry in */
    int prev, next;      /* deadline order, under the lock */
    _Atomic int link;    /* free list or intake list: index + 1, 0 ends */
    long deadline_ms;    /* when to look at its bounds next (list order) */
    struct close_event ev;
};

enum { PARTS_NONE, PARTS_SETTING_UP, PARTS_READY, PARTS_FAILED };

enum {
    THREAD_NONE, THREAD_STARTING, THREAD_RUNNING, THREAD_STOPPING, THREAD_FAILED,
    THREAD_RETIRING, /* idle: ending by itself, detached */
};

static struct {
    _Atomic int state; /* PARTS_*: the parts are set up apart from the thread */
    _Atomic int thread; /* THREAD_*: the thread is started apart, on demand */
    _Atomic int wanted; /* a handoff waits for the thread to be started */
    _Atomic int stop;   /* reaper_stop: the thread leaves its loop */
    pthread_t handle;
    _Atomic int tid;    /* the thread's kernel tid */
    _Atomic int retired_tid; /* a retired thread's, until it is gone */
    _Atomic int holds;  /* RELEASE_THREAD calls not yet resumed: no start */
    _Atomic int lingering;
    int capacity;
    int top;     /* duplicates go below this number (internal_fd_top) */
    int floor;   /* and never below this one */
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

static void epoll_set_created(int epfd)
{
    for (int i = 0; i < MAX_EPOLL_FDS; i++) {
        int expected = -1;
        if (atomic_load(&epoll_fds[i]) == epfd ||
            atomic_compare_exchange_strong(&epoll_fds[i], &expected, epfd))
            return;
    }
    atomic_store(&epoll_overflow, 1);
}

static void epoll_set_closed(int epfd)
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

static void reaper_lock(void)
{
    while (atomic_exchange_explicit(&reaper.lock, 1, memory_order_acquire))
        sys0(SYS_sched_yield);
}

static void reaper_unlock(void)
{
    atomic_store_explicit(&reaper.lock, 0, memory_order_release);
}

int reaper_thread_tid(void)
{
    int state = atomic_load(&reaper.thread);
    return state == THREAD_RUNNING || state == THREAD_STOPPING ? atomic_load(&reaper.tid) : 0;
}

static int reaper_active(void)
{
    return atomic_load_explicit(&reaper.state, memory_order_acquire) == PARTS_READY;
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

/* Why a lingering socket is finished: its drain ended (the peer's EOF or
 * reset, a bound, an error: the drain's outcome stands), or the reaper
 * ended it early to free its fd. */
enum finish_why { FINISH_DRAIN_ENDED, FINISH_EVICTED };

/* The real close of a lingering socket, and its log line. */
static void finish(int i, enum finish_why why)
{
    struct lingering *e = &reaper.entries[i];
    if (why == FINISH_EVICTED)
        e->ev.outcome = OUT_EVICTED;
    e->ev.elapsed_ms = monotonic_ms() - e->ev.start_ms;
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
    stats_add(STAT_LINGERING_ENDED);
}

/* Drain what is queued; finish the socket if it is done. */
static void serve(int i)
{
    struct lingering *e = &reaper.entries[i];
    if (drain_step(&e->ev, e->fd, DRAIN_TO_SHORT_READ))
        finish(i, FINISH_DRAIN_ENDED);
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
        if (drain_step(&e->ev, e->fd, DRAIN_TO_EMPTY)) {
            finish(i, FINISH_DRAIN_ENDED);
            continue;
        }
        /* drain_start, before every handoff, set the socket up for reading.
         * Not watched, the socket still has the deadline bound; only the
         * EOF would be noticed late. Level-triggered: what arrived since
         * the drain is reported at once. */
        sys4(SYS_epoll_ctl, EPFD, EPOLL_CTL_ADD, e->fd, &pev);
    }
    return taken;
}

/* The list is in the order of each entry's next look: its deadline as of
 * the last look. A byte from the peer since then moves its idle bound
 * later, so a look that finds the bound not reached puts the entry back
 * where its new deadline goes (once per idle period at most). */
static void expire(long now)
{
    while (reaper.head >= 0 && reaper.entries[reaper.head].deadline_ms <= now) {
        int i = reaper.head;
        enum outcome why;
        long end = drain_deadline(&reaper.entries[i].ev, LONG_MAX, &why);
        if (end <= now) {
            drain_done(&reaper.entries[i].ev, why);
            finish(i, FINISH_DRAIN_ENDED);
            continue;
        }
        list_unlink(i);
        reaper.entries[i].deadline_ms = end;
        list_insert(i);
    }
}

/* After a wait: the intake, the events, the deadlines. Returns 1 when
 * there was work (the caller looks again soon). */
static int take_events(const struct epoll_event *events, long n)
{
    reaper_lock();
    int busy = ingest() > 0;
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
    return busy;
}

/* SCHED_BATCH: a socket event waking the reaper must not preempt the
 * application's threads (on a busy machine that showed as close() latency
 * outliers). Only where no seccomp filter was in place at load:
 * sched_setscheduler is in systemd's @resources, which hardened units deny
 * (SystemCallFilter=~@resources kills on it). */
static int batch_allowed;

void reaper_load(void)
{
    batch_allowed = seccomp_mode_now() == 0;
    /* The reaper's fds go to the top of the range. Growing the kernel's fd
     * table that far later, with a second thread sharing it, waits for an
     * RCU grace period (expand_fdtable) inside some close(): grow it now,
     * at load, while the process is most likely single-threaded. */
    long top = sys3(SYS_fcntl, 0, F_DUPFD_CLOEXEC, internal_fd_top() - 1);
    if (top < 0) /* fd 0 closed: any fd will do */
        top = sys3(SYS_fcntl, 2, F_DUPFD_CLOEXEC, internal_fd_top() - 1);
    if (top >= 0)
        sys1(SYS_close, top);
}

static int nothing_lingers(void)
{
    return atomic_load(&reaper.lingering) == 0 && atomic_load(&reaper.intake) == 0;
}

/* Idle long enough: end, unless a handoff came meanwhile. A handoff pushes
 * on the intake, then starts a thread only if none is there (NONE); one
 * that saw RETIRING relies on this: the reaper says NONE, then looks at
 * the intake once more (both seq_cst), and takes back the running if
 * something came and no new thread was started meanwhile. Returns 1 when
 * the thread is to return. */
static int retire(void)
{
    int expected = THREAD_RUNNING;
    if (!atomic_compare_exchange_strong(&reaper.thread, &expected, THREAD_RETIRING))
        return 0; /* reaper_stop is joining us */
    if (!nothing_lingers()) {
        atomic_store(&reaper.thread, THREAD_RUNNING);
        return 0;
    }
    atomic_store(&reaper.retired_tid, atomic_load(&reaper.tid));
    atomic_store(&reaper.thread, THREAD_NONE);
    if (!nothing_lingers()) {
        expected = THREAD_NONE;
        if (atomic_compare_exchange_strong(&reaper.thread, &expected, THREAD_RUNNING)) {
            atomic_store(&reaper.retired_tid, 0);
            return 0;
        }
        /* a new thread is starting and takes what came */
    }
    pthread_detach(pthread_self());
    return 1;
}

static void *reaper_main(void *arg)
{
    struct epoll_event events[128];
    struct sched_param batch = {0};
    int busy = 0;
    long idle_for = 0; /* ms with nothing lingering */
    (void)arg;
    atomic_store(&reaper.tid, (int)sys0(SYS_gettid));
    if (batch_allowed && norst_acting())
        sys3(SYS_sched_setscheduler, 0, SCHED_BATCH, &batch);
    for (;;) {
        long timeout = 0;
        /* Asked to end, or the process is under a filter now: no more calls. */
        if (atomic_load(&reaper.stop) || !norst_acting())
            return NULL;
        if (busy) {
            struct timespec gather = {0, GATHER_NS};
            sys2(SYS_nanosleep, &gather, NULL);
        } else {
            /* Idle: sleep until a socket event, the first deadline or a
             * wake-up (with nothing lingering, no timeout at all). Announce
             * it, then look at the intake once more: a handoff pushed
             * before the announcement was seen is taken now, any later one
             * wakes us (both sides seq_cst). */
            timeout = IDLE_RETIRE_MS;
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
        if (n < 0)
            n = 0;
        if (n == 0 && timeout == IDLE_RETIRE_MS && nothing_lingers()) {
            idle_for += IDLE_RETIRE_MS;
            if ((idle_for >= IDLE_END_MS || threads_alive_except(sys0(SYS_gettid), 0) == 0) &&
                retire())
                return NULL;
        } else {
            idle_for = 0;
        }
        busy = take_events(events, n);
    }
}

/* ---- set up by the first handoff; the thread on demand ---- */

static void close_internal(int *slot)
{
    int fd = internal_fd_get(*slot);
    if (fd >= 0) {
        internal_fd_remove(fd);
        sys1(SYS_close, fd);
    }
    *slot = -1;
}

/* Raw syscalls only: this runs inside the close that first lingers. */
static void reaper_nudge(enum nudge_from from);
static void reaper_release_fd(int fd);

static void setup_parts(void)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong(&reaper.state, &expected, PARTS_SETTING_UP))
        return; /* set up, under way (maybe in the code this handler interrupted), or failed */

    /* Its fds are hidden by internal_fd.c, which must be able to move
     * them out of a dup2()'s way. */
    static const struct internal_fd_mover mover = {reaper_lock, reaper_unlock, reaper_nudge,
                                                   reaper_release_fd};
    internal_fd_set_mover(&mover);
    /* After reaper_give_back the entries stay (a handoff may hold one). */
    if (!reaper.entries) {
        /* Duplicates live at the top of the fd range, below the shim's
         * other fds, away from the lowest-first numbers the application is
         * handed. */
        reaper.top = (int)internal_fd_top();
        /* Half the range for duplicates, as documented: the shim's own fds
         * take the top numbers, so the half starts that much lower. */
        reaper.floor = reaper.top / 2 - INTERNAL_FDS_MAX;
        reaper.capacity = (int)(norst_cfg.max_linger < reaper.top / 2 ? norst_cfg.max_linger
                                                                      : reaper.top / 2);
        size_t bytes = (size_t)reaper.capacity * sizeof(struct lingering);
        long map = raw_syscall6(SYS_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        /* Pages of the entry array appear as entries are first used. */
        if (reaper.capacity <= 0 || (map < 0 && map > -4096))
            goto fail;
        reaper.entries = (struct lingering *)map;
    }
    long epfd = sys1(SYS_epoll_create1, EPOLL_CLOEXEC);
    if (epfd < 0 || (reaper.epfd = internal_fd_adopt((int)epfd)) < 0)
        goto fail;
    long wakefd = sys2(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakefd < 0 || (reaper.wakefd = internal_fd_adopt((int)wakefd)) < 0)
        goto fail;
    struct epoll_event wake = {.events = EPOLLIN, .data.u64 = WAKE_TOKEN};
    if (sys4(SYS_epoll_ctl, EPFD, EPOLL_CTL_ADD, internal_fd_get(reaper.wakefd), &wake) < 0)
        goto fail;
    atomic_store_explicit(&reaper.state, PARTS_READY, memory_order_release);
    return;
fail:
    /* Most likely the fd limit: a later handoff tries again, and closes
     * linger only within NORST_BLOCK_MS meanwhile. */
    close_internal(&reaper.epfd);
    close_internal(&reaper.wakefd);
    atomic_store(&reaper.state, reaper.entries ? PARTS_NONE : PARTS_FAILED);
    static _Atomic int warned;
    if (!atomic_exchange(&warned, 1))
        warn_stderr("libnorst: cannot set up the reaper; closes linger only within NORST_BLOCK_MS");
}

static int reaper_evict_all(void);

/* Start the thread; the caller checked that this may call pthread_create
 * (not in a signal handler, not in a child that shares our memory). */
static void start_thread(void)
{
    if (!norst_acting() || !reaper_active() || atomic_load(&reaper.holds) > 0)
        return;
    int expected = THREAD_NONE;
    if (!atomic_compare_exchange_strong(&reaper.thread, &expected, THREAD_STARTING))
        return;
    atomic_store(&reaper.wanted, 0);

    /* The thread inherits a mask with every signal blocked: the
     * application's signals must never land on it. Joinable: reaper_stop
     * waits for it to be gone. */
    sigset_t all, old;
    pthread_attr_t attr;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    atomic_store(&reaper.tid, 0);
    int started = pthread_create(&reaper.handle, &attr, reaper_main, NULL) == 0;
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* Its tid, before anyone counts threads: a range close that starts it
     * must not take it for one of the application's (others_running). */
    for (int spins = 0; started && atomic_load(&reaper.tid) == 0 && yield_bounded(&spins);)
        ;
    atomic_store(&reaper.thread, started ? THREAD_RUNNING : THREAD_FAILED);
    if (!started) {
        warn_stderr("libnorst: cannot start the reaper's thread; closes linger only within "
                    "NORST_BLOCK_MS");
        reaper_evict_all(); /* what was handed off has no thread to wait for */
    } else if (atomic_load(&reaper.intake)) {
        reaper_nudge(NUDGE_OUTSIDE_MOVE);
    }
}

void reaper_start_pending(void)
{
    if (atomic_load_explicit(&reaper.wanted, memory_order_relaxed) &&
        atomic_load(&reaper.thread) == THREAD_NONE && norst_acting() && reaper_active() &&
        owner_is_self() && !handler_may_be_running())
        start_thread();
}

/* pthread_join returns once the kernel cleared the thread's tid, which
 * exit_mm does before exit_notify unhashes the task; until then the
 * thread still counts for thread_group_empty(), so unshare(CLONE_NEWUSER)
 * would still fail. Wait (bounded) until its tid no longer names a task. */
static void wait_gone(int tid)
{
    long pid = sys0(SYS_getpid);
    for (int spins = 0; tid > 0 && sys3(SYS_tgkill, pid, tid, 0) != -ESRCH &&
                        yield_bounded(&spins);)
        ;
}

static void reaper_stop(void)
{
    int expected;
    if (!reaper_active() || !owner_is_self())
        return;
    /* A thread deciding to retire goes on running or ends: wait for which. */
    for (int spins = 0; atomic_load(&reaper.thread) == THREAD_RETIRING && yield_bounded(&spins);)
        ;
    expected = THREAD_RUNNING;
    if (atomic_compare_exchange_strong(&reaper.thread, &expected, THREAD_STOPPING)) {
        atomic_store(&reaper.stop, 1);
        reaper_nudge(NUDGE_OUTSIDE_MOVE);
        pthread_join(reaper.handle, NULL);
        wait_gone(atomic_load(&reaper.tid));
        atomic_store(&reaper.stop, 0);
        atomic_store(&reaper.thread, THREAD_NONE);
    } else if (expected == THREAD_NONE || expected == THREAD_RETIRING) {
        wait_gone(atomic_load(&reaper.retired_tid)); /* a retired thread, still exiting */
    }
    reaper_evict_all();
    /* Nothing waits for a thread now: none starts until the next handoff. */
    if (atomic_load(&reaper.lingering) == 0)
        atomic_store(&reaper.wanted, 0);
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
    int before = atomic_fetch_add(&reaper.lingering, 1);
    if (before >= reaper.capacity)
        goto refuse;
    int i = entry_take();
    if (i < 0)
        goto refuse;
    struct lingering *e = &reaper.entries[i];
    drain_send_fin(ev);
    detach_from_application(ev->fd);
    /* Just below the lingering ones: they stay packed under the shim's own
     * fds at the top (a finished one's number is the lowest free there). */
    long dup = internal_fd_dup_high(ev->fd, reaper.top - internal_fd_count() - before - 1,
                                    reaper.floor);
    if (dup < 0 || !fdtab_set_reaper((int)dup, 1)) {
        if (dup >= 0)
            sys1(SYS_close, dup);
        entry_give_back(i);
        goto refuse;
    }
    e->fd = (int)dup;
    enum outcome why;
    e->deadline_ms = drain_deadline(ev, LONG_MAX, &why);
    e->ev = *ev;
    /* The reaper's log line must not open files: named here, now. */
    if (log_enabled() && ev->path != PATH_EXIT)
        stack_remember(&e->ev, log_is_json() ? REMEMBER_STACK : REMEMBER_CALLER);
    e->ev.site_lookup = SITE_REMEMBERED;
    /* Counted before the reaper can see it, so its end never comes first. */
    stats_add(STAT_LINGERING_STARTED);
    /* Once on the intake, the entry is the reaper's. */
    int head = atomic_load(&reaper.intake);
    do
        atomic_store_explicit(&e->link, head, memory_order_relaxed);
    while (!atomic_compare_exchange_weak(&reaper.intake, &head, i + 1));
    if (atomic_exchange(&reaper.asleep, 0))
        reaper_nudge(NUDGE_OUTSIDE_MOVE);
    if (atomic_load(&reaper.thread) != THREAD_RUNNING)
        atomic_store(&reaper.wanted, 1);
    return 1;
refuse:
    atomic_fetch_sub(&reaper.lingering, 1);
    return 0; /* the caller lingers within its budget; our FIN may be out already */
}

/* A fork between the duplicate and its mark in the fd table would give the
 * child an unmarked copy of the socket, which reaper_after_fork_child could
 * not close: the child would hold the socket, and reset it at its exit. So
 * fork waits for handoffs under way, and handoffs that begin while a fork
 * is being prepared stay with the caller (Dekker-style, seq_cst). */
static _Atomic int handoffs_under_way;
static _Atomic int forking; /* forks being prepared, in any thread */

int reaper_handoff(struct close_event *ev)
{
    /* No thread yet, or it retired: this close starts one, or hands off
     * nothing. Never in a close that may run in a signal handler
     * (pthread_create is not async-signal-safe): the caller then does what
     * the library does without a thread. */
    int running = atomic_load(&reaper.thread) == THREAD_RUNNING;
    if (!running && norst_cfg.async &&
        (atomic_load(&reaper.holds) > 0 || !owner_is_self() || handler_may_be_running()))
        return 0;
    if (!norst_cfg.async || atomic_load(&epoll_overflow) ||
        atomic_load(&reaper.thread) == THREAD_FAILED)
        return 0;
    atomic_fetch_add(&handoffs_under_way, 1);
    int handed = 0;
    if (!atomic_load(&forking)) {
        /* The first handoff sets the reaper up (not under a fork's prepare
         * or reaper_give_back: both wait for handoffs under way). */
        if (!reaper_active())
            setup_parts();
        /* Closes on other threads at the first linger: one sets the parts
         * up, the others wait for it (a few system calls; bounded, since
         * the one setting up may be a handler's interrupted close). */
        for (int spins = 0; atomic_load(&reaper.state) == PARTS_SETTING_UP &&
                            yield_bounded(&spins);)
            ;
        handed = reaper_active() && handoff(ev);
    }
    atomic_fetch_sub(&handoffs_under_way, 1);
    /* After the handoff is done, so that a fork never waits on
     * pthread_create. */
    if (handed && !running)
        start_thread();
    return handed;
}

/* pthread_atfork's prepare. Whether or not the reaper runs yet (it may
 * start during the fork), so that the parent's handler always undoes
 * exactly this. The wait is bounded: a handoff that a signal handler (the
 * one calling fork) interrupted cannot end. */
static void reaper_before_fork(void)
{
    atomic_fetch_add(&forking, 1);
    for (int spins = 0; atomic_load(&handoffs_under_way) > 0 && yield_bounded(&spins);)
        ;
    reaper_lock();
}

static void reaper_after_fork_parent(void)
{
    reaper_unlock();
    atomic_fetch_sub(&forking, 1);
}

static void reaper_nudge(enum nudge_from from)
{
    uint64_t one = 1;
    if (!reaper_active())
        return;
    /* Outside a move, only within enter/leave: a dup2() onto the eventfd's
     * number must not let this write reach the application's file. A
     * wake-up skipped here is made by the mover once the move is done. */
    if (from == NUDGE_IN_MOVE) {
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
static int reaper_evict_all(void)
{
    if (!reaper_active() || !owner_is_self())
        return 0;
    reaper_lock();
    /* Everything handed off so far, whether the intake finishes it at
     * once (its peer's EOF was there) or it is evicted below. */
    int freed = atomic_load(&reaper.lingering);
    ingest();
    while (reaper.head >= 0)
        finish(reaper.head, FINISH_EVICTED);
    reaper_unlock();
    return freed;
}

/* The application's call failed with EMFILE: every fd of the reaper's goes
 * back, the lingering sockets (finished early) and its epoll set and
 * eventfd (set up again by the next handoff). Returns how many fds were
 * freed: 0 means none, and the caller need not try again. */
static int reaper_give_back(void)
{
    if (!reaper_active() || !owner_is_self())
        return 0;
    reaper_stop(); /* the thread is gone, what lingered is finished */
    /* No handoff begins until the fds are closed; one under way ends first
     * (bounded: a handoff a signal handler interrupted cannot end). */
    atomic_fetch_add(&forking, 1);
    for (int spins = 0; atomic_load(&handoffs_under_way) > 0 && yield_bounded(&spins);)
        ;
    reaper_lock();
    int freed = atomic_load(&reaper.lingering) + 2;
    ingest();
    while (reaper.head >= 0)
        finish(reaper.head, FINISH_EVICTED);
    atomic_store(&reaper.wanted, 0);
    close_internal(&reaper.epfd);
    close_internal(&reaper.wakefd);
    atomic_store(&reaper.state, PARTS_NONE);
    reaper_unlock();
    atomic_fetch_sub(&forking, 1);
    return freed;
}

/* dup2 onto a number a lingering socket holds: move the socket elsewhere,
 * or finish it if no fd is free above. */
static void reaper_release_fd(int fd)
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
            finish(i, FINISH_EVICTED);
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

/* Exit: let the drains run out their bounds, as long as exit may wait,
 * then finish what is left. */
static void reaper_at_exit(void)
{
    if (!reaper_active())
        return;
    long deadline = monotonic_ms() + block_budget_ms(PATH_EXIT);
    while (atomic_load(&reaper.lingering) > 0 && monotonic_ms() < deadline) {
        if (atomic_load(&reaper.thread) == THREAD_RUNNING) {
            struct timespec ms = {0, 1000000};
            sys2(SYS_nanosleep, &ms, NULL);
            continue;
        }
        /* No thread (no hook that may start one ran since the handoffs):
         * this one does the reaper's work. */
        struct epoll_event events[64];
        long n = 0;
        if (internal_fd_enter()) {
            n = sys5(SYS_epoll_pwait, EPFD, events, 64, 10, NULL);
            internal_fd_leave();
        }
        take_events(events, n < 0 ? 0 : n);
    }
    reaper_evict_all();
}

/* fork: the child has no reaper thread, only copies of its fds. Those
 * copies must go at once (the parent's reaper does the real close), and the
 * child starts from nothing. */
static void reaper_after_fork_child(void)
{
    /* The child's only thread: nothing is under way, nothing is held. */
    atomic_store(&handoffs_under_way, 0);
    atomic_store(&forking, 0);
    atomic_store(&reaper.lock, 0);
    atomic_store(&reaper.thread, THREAD_NONE);
    atomic_store(&reaper.wanted, 0);
    atomic_store(&reaper.stop, 0);
    atomic_store(&reaper.holds, 0);
    atomic_store(&reaper.retired_tid, 0);
    /* Stepped aside: the copies stay, as the process's own fds would. */
    if (atomic_load(&reaper.state) == PARTS_NONE || !norst_acting())
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
    atomic_store(&reaper.state, PARTS_NONE);
}

/* ---- the interface (reaper.h) ---- */

int reaper_release(enum reaper_release how)
{
    int held = reaper_active() ? atomic_load(&reaper.lingering) : 0;
    switch (how) {
    case RELEASE_FDS:
        return reaper_give_back();
    case RELEASE_THREAD:
        atomic_fetch_add(&reaper.holds, 1);
        if (norst_acting())
            reaper_stop();
        break;
    case RELEASE_AT_EXIT:
        reaper_at_exit();
        break;
    }
    return held;
}

void reaper_resume(void)
{
    atomic_fetch_sub(&reaper.holds, 1);
}

void reaper_fork(enum fork_stage stage)
{
    switch (stage) {
    case FORK_PREPARE:
        reaper_before_fork();
        break;
    case FORK_PARENT:
        reaper_after_fork_parent();
        break;
    case FORK_CHILD:
        reaper_after_fork_child();
        break;
    }
}

void reaper_epoll(int epfd, enum epoll_change change)
{
    if (change == EPOLL_SET_CREATED)
        epoll_set_created(epfd);
    else
        epoll_set_closed(epfd);
}
