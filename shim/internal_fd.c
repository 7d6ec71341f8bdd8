#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>

#include "fd_limit.h"
#include "internal_fd.h"
#include "owner.h"
#include "sharing.h"
#include "stderr_sink.h"
#include "sys.h"


static _Atomic int internal_fds[INTERNAL_FDS_MAX] = {[0 ... INTERNAL_FDS_MAX - 1] = -1};
static _Atomic int users, moving;

/* Dekker-style, all seq_cst: either the mover sees the user and waits, or
 * the user sees the move and stays away. */
int internal_fd_enter(void)
{
    atomic_fetch_add(&users, 1);
    if (atomic_load(&moving)) {
        atomic_fetch_sub(&users, 1);
        return 0;
    }
    return 1;
}

void internal_fd_leave(void)
{
    atomic_fetch_sub(&users, 1);
}

void internal_fd_after_fork_child(void)
{
    atomic_store(&users, 0);
    atomic_store(&moving, 0);
}

int internal_fd_add(int fd)
{
    for (int i = 0; i < INTERNAL_FDS_MAX; i++) {
        int expected = -1;
        if (atomic_compare_exchange_strong(&internal_fds[i], &expected, fd))
            return i;
    }
    return -1;
}

/* The kernel sizes a process's fd table to its highest open fd (8 bytes a
 * number): under a soft limit of a million, the top of the range would cost
 * every process 8 MB of kernel memory. Above this, the shim's fds stay here;
 * an application would need that many fds open before it noticed. */
#define FD_TOP_MAX 65536L

long internal_fd_top(void)
{
    return (long)fd_limit_now(FD_TOP_MAX);
}

/* F_DUPFD gives the lowest free number from its argument up: from start
 * down, the first that succeeds gives the highest free number at or above
 * start (a few tries; the shim's fds keep the top packed). */
long internal_fd_dup_high(int fd, long start, long floor)
{
    long ret = -EMFILE;
    for (long n = start, tries = 0; n >= floor && n >= 0 && tries < 16; n--, tries++) {
        ret = sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, n);
        if (ret >= 0 || (ret != -EMFILE && ret != -EINVAL))
            return ret;
    }
    return ret;
}

int internal_fd_count(void)
{
    int count = 0;
    for (int i = 0; i < INTERNAL_FDS_MAX; i++)
        count += atomic_load_explicit(&internal_fds[i], memory_order_relaxed) >= 0;
    return count;
}

/* Park an fd at the top of the fd range, above every number the
 * application is handed (lowest first), and hide it. Returns its slot. */
int internal_fd_adopt(int fd)
{
    long high = internal_fd_dup_high(fd, internal_fd_top() - 1 - internal_fd_count(), fd + 1);
    if (high >= 0) {
        sys1(SYS_close, fd);
        fd = (int)high;
    }
    return internal_fd_add(fd);
}

int internal_fd_get(int slot)
{
    return slot < 0 ? -1 : atomic_load_explicit(&internal_fds[slot], memory_order_relaxed);
}

void internal_fd_remove(int fd)
{
    for (int i = 0; i < INTERNAL_FDS_MAX; i++) {
        int expected = fd;
        atomic_compare_exchange_strong(&internal_fds[i], &expected, -1);
    }
}

void internal_fd_forget(int fd)
{
    internal_fd_remove(fd);
    if (fdtab_is_reaper(fd))
        fdtab_set_reaper(fd, 0);
}

int internal_fd_is(int fd)
{
    for (int i = 0; i < INTERNAL_FDS_MAX; i++)
        if (atomic_load_explicit(&internal_fds[i], memory_order_relaxed) == fd)
            return fd >= 0;
    return fdtab_is_reaper(fd);
}

void internal_fd_cloexec_all(void)
{
    for (int i = 0; i < INTERNAL_FDS_MAX; i++) {
        int fd = atomic_load_explicit(&internal_fds[i], memory_order_relaxed);
        if (fd >= 0)
            sys3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
    }
    for (int fd = fdtab_lowest_reaper(0, ~0u); fd >= 0; fd = fdtab_lowest_reaper((unsigned)fd + 1, ~0u))
        sys3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
}

int internal_fd_lowest_in(unsigned first, unsigned last)
{
    int lowest = fdtab_lowest_reaper(first, last);
    for (int i = 0; i < INTERNAL_FDS_MAX; i++) {
        int fd = atomic_load_explicit(&internal_fds[i], memory_order_relaxed);
        if (fd >= 0 && (unsigned)fd >= first && (unsigned)fd <= last &&
            (lowest < 0 || fd < lowest))
            lowest = fd;
    }
    return lowest;
}

static const struct internal_fd_mover *mover;

void internal_fd_set_mover(const struct internal_fd_mover *m)
{
    __atomic_store_n(&mover, m, __ATOMIC_RELEASE);
}

static void mover_lock(void)
{
    const struct internal_fd_mover *m = __atomic_load_n(&mover, __ATOMIC_ACQUIRE);
    if (m)
        m->lock();
}

static void mover_unlock(void)
{
    const struct internal_fd_mover *m = __atomic_load_n(&mover, __ATOMIC_ACQUIRE);
    if (m)
        m->unlock();
}

static void mover_nudge(enum nudge_from from)
{
    const struct internal_fd_mover *m = __atomic_load_n(&mover, __ATOMIC_ACQUIRE);
    if (m)
        m->nudge(from);
}

void internal_fd_evacuate(unsigned first, unsigned last)
{
    int fd;
    /* In a vfork child the slots are the parent's: moving the child's
     * copy would point them at a number the parent does not have. The
     * child's copies are close-on-exec; the application takes the number. */
    if (internal_fd_lowest_in(first, last) < 0 || !owner_is_self())
        return;
    while ((fd = internal_fd_lowest_in(first, last)) >= 0) {
        if (fdtab_is_reaper(fd)) {
            const struct internal_fd_mover *m = __atomic_load_n(&mover, __ATOMIC_ACQUIRE);
            if (m)
                m->release_fd(fd);
            if (fdtab_is_reaper(fd)) { /* a stray the reaper does not know */
                fdtab_set_reaper(fd, 0);
                sys1(SYS_close, fd);
            }
            continue;
        }
        /* The lowest free number above the range; readers of the slot see the
         * old or the new fd, and the old one closes only once swapped out.
         * With no room above (the fd limit), the application's wish wins:
         * the shim gives its fd up and stops logging. */
        long minimum = last == ~0u ? -1 : (long)last + 1;
        mover_lock(); /* the reaper must not use the old number meanwhile */
        /* Nor anyone outside the lock: the reaper blocked in its wait is
         * nudged out of it. The wait for users is bounded: a use that a
         * signal handler (this dup2's caller) interrupted cannot end. */
        atomic_store(&moving, 1);
        mover_nudge(NUDGE_IN_MOVE);
        for (int spins = 0; atomic_load(&users) > 0 && yield_bounded(&spins);)
            ;
        long moved = minimum < 0 ? -1 : sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, minimum);
        for (int i = 0; i < INTERNAL_FDS_MAX; i++) {
            int expected = fd;
            atomic_compare_exchange_strong(&internal_fds[i], &expected, moved < 0 ? -1 : (int)moved);
        }
        sys1(SYS_close, fd);
        atomic_store(&moving, 0);
        mover_unlock();
        mover_nudge(NUDGE_OUTSIDE_MOVE); /* a wake-up skipped during the move */
        if (moved < 0) {
            static const char msg[] = "libnorst: the application took the log's fd and no "
                                      "higher one is free; logging stops\n";
            stderr_write(msg, sizeof msg - 1);
        }
    }
}
