/* NORST_ASYNC=1: close() returns at once; one background thread lingers.
 *
 * The handoff (app thread, inside close): our FIN goes out now, the socket
 * is detached from everything of the application's that could still report
 * on it (its epoll sets, O_ASYNC), duplicated to a high fd number the
 * application never sees, and described in one record written to a
 * non-blocking pipe. Only raw syscalls and one atomic write(): it stays
 * async-signal-safe. Any failure, or the NORST_MAX_LINGER cap, falls back to
 * the synchronous drain.
 *
 * The reaper (one thread per process, started outside any close, all signals
 * blocked): one epoll set over the pipe and every lingering socket; entries
 * kept in handoff order, which is deadline order since every socket gets the
 * same NORST_LINGER_MS. It discards what arrives and does the real close at
 * the peer's EOF, the byte bound or the deadline.
 *
 * Why the epoll detach: an epoll registration lives as long as the open
 * file, and the reaper's duplicate keeps the file open; without EPOLL_CTL_DEL
 * the application's epoll set would go on reporting the old socket under its
 * old fd number, which by then may name a new connection. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "compat.h"
#include "internal_fd.h"
#include "norst.h"
#include "sys.h"

NORST_OLD_SYMBOL(pthread_create);
NORST_OLD_SYMBOL(pthread_attr_setstacksize);
NORST_OLD_SYMBOL(pthread_sigmask);

#define MAX_EPOLL_FDS 256
#define PIPE_TOKEN ((uint64_t)-1)

struct handoff {
    int reaper_fd;
    long deadline_ms, start_ms;
    struct close_event ev;
};

struct lingering {
    int fd;           /* the reaper's duplicate; -1 when the entry is free */
    uint32_t gen;     /* bumped on reuse: stale epoll events are ignored */
    int prev, next;   /* handoff (= deadline) order */
    long deadline_ms, start_ms;
    struct close_event ev;
};

static struct {
    _Atomic int state; /* 0 not started, 1 starting, 2 running */
    _Atomic int lingering;
    int capacity;
    int base_fd; /* reaper duplicates live at this number and above */
    int pipe_r, pipe_w, epfd; /* internal_fd slots: the numbers may move */
    struct lingering *entries;
    int head, tail, free_list;
    _Atomic int lock;
} reaper = {.pipe_r = -1, .pipe_w = -1, .epfd = -1, .head = -1, .tail = -1, .free_list = -1};

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
#define PIPE_R internal_fd_get(reaper.pipe_r)
#define PIPE_W internal_fd_get(reaper.pipe_w)
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

static void list_append(int i)
{
    struct lingering *e = &reaper.entries[i];
    e->prev = reaper.tail;
    e->next = -1;
    if (reaper.tail >= 0)
        reaper.entries[reaper.tail].next = i;
    else
        reaper.head = i;
    reaper.tail = i;
}

static uint64_t token(int i)
{
    return (uint64_t)reaper.entries[i].gen << 32 | (uint32_t)i;
}

/* The real close of a lingering socket, and its log line; why overrides
 * the drain's outcome unless it is OUT_NONE. */
static void finish(int i, enum outcome why)
{
    struct lingering *e = &reaper.entries[i];
    if (why != OUT_NONE)
        e->ev.outcome = why;
    e->ev.elapsed_ms = monotonic_ms() - e->start_ms;
    e->ev.unread_at_close = unread_bytes(e->fd);
    e->ev.rst = e->ev.unread_at_close > 0;
    sys4(SYS_epoll_ctl, EPFD, EPOLL_CTL_DEL, e->fd, NULL);
    fdtab_set_reaper(e->fd, 0);
    sys1(SYS_close, e->fd);
    close_path_end(&e->ev);
    list_unlink(i);
    e->fd = -1;
    e->gen++;
    e->next = reaper.free_list;
    reaper.free_list = i;
    atomic_fetch_sub(&reaper.lingering, 1);
}

/* Drain what is queued; finish the socket if it is done. */
static void serve(int i)
{
    struct lingering *e = &reaper.entries[i];
    if (drain_step(&e->ev, e->fd, norst_cfg.max_bytes))
        finish(i, OUT_NONE);
}

/* Take the handoff records waiting in the pipe. */
static void ingest(void)
{
    struct handoff h;
    while (sys3(SYS_read, PIPE_R, &h, sizeof h) == (long)sizeof h) {
        int i = reaper.free_list;
        if (i < 0) { /* cannot happen: the cap is counted at handoff */
            sys1(SYS_close, h.reaper_fd);
            continue;
        }
        struct lingering *e = &reaper.entries[i];
        reaper.free_list = e->next;
        e->fd = h.reaper_fd;
        e->deadline_ms = h.deadline_ms;
        e->start_ms = h.start_ms;
        e->ev = h.ev;
        list_append(i);
        struct epoll_event pev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = token(i)};
        sys4(SYS_epoll_ctl, EPFD, EPOLL_CTL_ADD, e->fd, &pev);
        serve(i);
    }
}

static void expire(long now)
{
    while (reaper.head >= 0 && reaper.entries[reaper.head].deadline_ms <= now)
        finish(reaper.head, OUT_TIME_BOUND);
}

static void *reaper_main(void *arg)
{
    struct epoll_event events[128];
    (void)arg;
    for (;;) {
        long timeout = -1;
        reaper_lock();
        if (reaper.head >= 0) {
            timeout = reaper.entries[reaper.head].deadline_ms - monotonic_ms();
            if (timeout < 0)
                timeout = 0;
        }
        reaper_unlock();
        long n = sys5(SYS_epoll_pwait, EPFD, events, 128, timeout, NULL);
        reaper_lock();
        for (long k = 0; k < n; k++) {
            uint64_t t = events[k].data.u64;
            if (t == PIPE_TOKEN) {
                ingest();
                continue;
            }
            int i = (int)(uint32_t)t;
            if (i < reaper.capacity && reaper.entries[i].fd >= 0 && token(i) == t)
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
    int expected = 0, fds[2];
    if (!norst_cfg.async || !atomic_compare_exchange_strong(&reaper.state, &expected, 1))
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
    if (reaper.capacity <= 0 || (map < 0 && map > -4096) ||
        sys2(SYS_pipe2, fds, O_CLOEXEC | O_NONBLOCK) < 0)
        goto fail;
    reaper.entries = (struct lingering *)map;
    for (int i = 0; i < reaper.capacity; i++) {
        reaper.entries[i].fd = -1;
        reaper.entries[i].next = i + 1 < reaper.capacity ? i + 1 : -1;
    }
    reaper.free_list = 0;
    /* Room for bursts of handoffs between two wake-ups of the reaper. */
    sys3(SYS_fcntl, fds[1], F_SETPIPE_SZ, 1 << 20);
    reaper.pipe_r = internal_fd_adopt(fds[0]);
    reaper.pipe_w = internal_fd_adopt(fds[1]);
    long epfd = sys1(SYS_epoll_create1, EPOLL_CLOEXEC);
    if (epfd < 0 || reaper.pipe_r < 0 || reaper.pipe_w < 0)
        goto fail;
    reaper.epfd = internal_fd_adopt((int)epfd);
    if (reaper.epfd < 0)
        goto fail;
    struct epoll_event pev = {.events = EPOLLIN, .data.u64 = PIPE_TOKEN};
    sys4(SYS_epoll_ctl, EPFD, EPOLL_CTL_ADD, PIPE_R, &pev);
    /* Grow the fd table to the top of the reaper's range now: growing it
     * later, with a second thread sharing it, waits for an RCU grace period
     * (expand_fdtable) inside some close(). */
    long top = sys3(SYS_fcntl, PIPE_R, F_DUPFD_CLOEXEC, reaper.base_fd + reaper.capacity - 1);
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

int reaper_handoff(struct close_event *ev)
{
    struct handoff h;
    if (!norst_cfg.async || !reaper_active() || atomic_load(&epoll_overflow))
        return 0;
    if (atomic_fetch_add(&reaper.lingering, 1) >= reaper.capacity)
        goto refuse;
    drain_start(ev);
    detach_from_application(ev->fd);
    long dup = sys3(SYS_fcntl, ev->fd, F_DUPFD_CLOEXEC, reaper.base_fd);
    if (dup < 0)
        goto refuse;
    fdtab_set_reaper((int)dup, 1);
    memset(&h, 0, sizeof h);
    h.reaper_fd = (int)dup;
    h.start_ms = monotonic_ms();
    h.deadline_ms = h.start_ms + norst_cfg.linger_ms;
    h.ev = *ev;
    if (sys3(SYS_write, PIPE_W, &h, sizeof h) != (long)sizeof h) {
        fdtab_set_reaper((int)dup, 0);
        sys1(SYS_close, dup);
        goto refuse;
    }
    return 1;
refuse:
    atomic_fetch_sub(&reaper.lingering, 1);
    return 0; /* the caller drains synchronously; our FIN may be out already */
}

/* ---- the application needs fds back ---- */

/* Finish every lingering socket now (an fd limit was hit). Returns how many
 * fds were given back. */
int reaper_evict_all(void)
{
    int freed = 0;
    if (!reaper_active())
        return 0;
    reaper_lock();
    ingest();
    while (reaper.head >= 0) {
        finish(reaper.head, OUT_EVICTED);
        freed++;
    }
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
    if (atomic_load(&reaper.state) == 0)
        return;
    fdtab_close_reaper_fds();
    int own[3] = {PIPE_R, PIPE_W, EPFD};
    for (int i = 0; i < 3; i++) {
        internal_fd_remove(own[i]);
        sys1(SYS_close, own[i]);
    }
    if (reaper.entries)
        sys2(SYS_munmap, reaper.entries, (size_t)reaper.capacity * sizeof(struct lingering));
    reaper.entries = NULL;
    reaper.pipe_r = reaper.pipe_w = reaper.epfd = -1;
    reaper.head = reaper.tail = reaper.free_list = -1;
    atomic_store(&reaper.lingering, 0);
    atomic_store(&reaper.lock, 0);
    atomic_store(&reaper.state, 0);
}
