/* Is anyone else holding this socket?
 *
 * shutdown() and draining act on the socket, not on one fd: done on a socket
 * that a dup, a forked child or an SCM_RIGHTS receiver still holds, they cut
 * that holder's connection. Closing one reference of several never resets
 * the peer, so a shared socket is simply left alone.
 *
 * No syscall returns a file's reference count, so the shim keeps a small
 * per-fd table and falls back to looking for the socket's inode among the fds
 * of this and other processes (holders.c), on the rare path only:
 *   - fd created here (socket/accept hooks), never duplicated, no fork or
 *     spawn since, never sent with SCM_RIGHTS, no io_uring ring made: sole
 *     holder, no scan;
 *   - duplicated in this process or a ring made, no fork since: scan our own
 *     fd table (and our rings);
 *   - sent with SCM_RIGHTS: unknown (a message in flight holds it unseen),
 *     never touched;
 *   - anything else (inherited, received, open across a fork or spawn, or
 *     created by a path the shim does not see): scan every process in /proc;
 *     the slot's birth time, when the hooks saw the socket created, rules
 *     out the processes that started before it.
 * The table stores the socket's inode, so an entry left behind by a close the
 * shim did not see can never vouch for a different socket. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "aside.h"
#include "classify.h"
#include "fd_limit.h"
#include "fdwalk.h"
#include "holders.h"
#include "owner.h"
#include "sharing.h"
#include "sys.h"

struct fd_slot {
    _Atomic uint64_t ino;
    _Atomic uint64_t birth; /* CLOCK_BOOTTIME ns before it existed; 0 unknown */
    _Atomic uint32_t epoch;
    _Atomic uint32_t flags;
};

static struct fd_slot *slots;
static unsigned nslots;
static _Atomic uint32_t spawn_epoch;
/* A birth is evidence only in the process that saw the socket created: a
 * process that started before it cannot hold it, unless it is the one that
 * created it. A forked child inherits the slots of its parent, which
 * started before every one of them and may hold every one: in the child,
 * births recorded before the fork say nothing (holders_find gets 0). */
static _Atomic uint64_t births_from;

void fdtab_after_fork_child(void)
{
    atomic_store(&births_from, (uint64_t)holders_birth_clock());
}

void fdtab_init(void)
{
    /* Every number the process may ever have, within 2^20 (fs.nr_open's
     * default) and at least the usual 1024. */
    unsigned long want = fd_limit_ever(1UL << 20);
    if (want < 1024)
        want = 1024;
    /* Reserved, not committed: pages appear only where fds are used. */
    long map = raw_syscall6(SYS_mmap, 0, (long)(want * sizeof(struct fd_slot)),
                            PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                            -1, 0);
    if (map < 0 && map > -4096)
        return; /* no table: every socket gets the scan */
    slots = (struct fd_slot *)map;
    nslots = (unsigned)want;
}

static struct fd_slot *slot_of(int fd)
{
    return slots && fd >= 0 && (unsigned)fd < nslots ? &slots[fd] : NULL;
}

/* noinline: its struct stat stays off the frame that the /proc scan
 * nests under (a close may run on a small signal stack). */
static __attribute__((noinline)) uint64_t inode_of(int fd)
{
    struct stat st;
    if (probe_checked(sys2(SYS_fstat, fd, &st)) < 0 || !S_ISSOCK(st.st_mode))
        return 0;
    return st.st_ino;
}

static void slot_set(struct fd_slot *s, uint64_t ino, uint64_t birth, uint32_t flags)
{
    atomic_store_explicit(&s->ino, ino, memory_order_relaxed);
    atomic_store_explicit(&s->birth, birth, memory_order_relaxed);
    atomic_store_explicit(&s->epoch, atomic_load(&spawn_epoch), memory_order_relaxed);
    atomic_store_explicit(&s->flags, flags, memory_order_relaxed);
}

void fdtab_created(int fd, enum born_as born, long birth)
{
    struct fd_slot *s = slot_of(fd);
    uint32_t kind = born == BORN_ACCEPTED ? FD_TCP | FD_ACCEPTED : born == BORN_TCP ? FD_TCP : 0;
    if (s)
        slot_set(s, inode_of(fd), (uint64_t)birth, FD_TRACKED | FD_KIND_KNOWN | kind);
}

/* A slot left behind by a close the shim did not see may say TCP for what
 * is now something else: classify only asks in a different order then,
 * and confirms TCP before any decision. */
enum born_as fdtab_born(int fd)
{
    struct fd_slot *s = slot_of(fd);
    unsigned flags = s ? atomic_load_explicit(&s->flags, memory_order_relaxed) : 0;
    return flags & FD_ACCEPTED ? BORN_ACCEPTED : flags & FD_TCP ? BORN_TCP : BORN_UNKNOWN;
}

int fdtab_listener_is_tcp(int listen_fd)
{
    struct fd_slot *s = slot_of(listen_fd);
    if (!s)
        return 0;
    unsigned flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
    if (flags & FD_KIND_KNOWN)
        return (flags & FD_TCP) != 0;
    /* Inherited (socket activation) or made by a path not hooked: ask once.
     * Only the kind bits are added; the slot vouches for nothing else. */
    int tcp = is_tcp(listen_fd);
    atomic_fetch_or_explicit(&s->flags, FD_KIND_KNOWN | (tcp ? FD_TCP : 0), memory_order_relaxed);
    return tcp;
}

void fdtab_duped(int oldfd, int newfd)
{
    struct fd_slot *old = slot_of(oldfd), *new = slot_of(newfd);
    if (old)
        atomic_fetch_or_explicit(&old->flags, FD_DUPED, memory_order_relaxed);
    if (new) {
        uint32_t flags = old ? atomic_load_explicit(&old->flags, memory_order_relaxed) : 0;
        slot_set(new, old ? atomic_load(&old->ino) : 0, old ? atomic_load(&old->birth) : 0,
                 flags | FD_DUPED);
        if (old)
            atomic_store(&new->epoch, atomic_load(&old->epoch));
    }
}

void fdtab_given(int fd)
{
    struct fd_slot *s = slot_of(fd);
    if (s) {
        uint64_t ino = inode_of(fd);
        if (atomic_load(&s->ino) != ino)
            slot_set(s, ino, 0, 0);
        atomic_fetch_or_explicit(&s->flags, FD_GIVEN, memory_order_relaxed);
    }
}

unsigned fdtab_forget(int fd)
{
    struct fd_slot *s = slot_of(fd);
    unsigned flags = s ? atomic_load_explicit(&s->flags, memory_order_relaxed) : 0;
    if (!flags)
        return 0;
    /* A vfork child closing its copy of an epoll fd must not take the
     * parent's epoll set off the reaper's list. Other marks it may clear:
     * the parent then only scans where it trusted. */
    if ((flags & FD_EPOLL) && !owner_is_self())
        return 0;
    return atomic_exchange_explicit(&s->flags, 0, memory_order_relaxed);
}

void fdtab_mark_epoll(int fd)
{
    struct fd_slot *s = slot_of(fd);
    if (s)
        atomic_store_explicit(&s->flags, FD_EPOLL, memory_order_relaxed);
}

/* ---- the reaper's duplicates: hidden from the application ---- */

static _Atomic int reaper_fd_max = -1;

int fdtab_set_reaper(int fd, int on)
{
    struct fd_slot *s = slot_of(fd);
    if (!s)
        return 0;
    atomic_store_explicit(&s->flags, on ? FD_REAPER : 0, memory_order_release);
    int max = atomic_load(&reaper_fd_max);
    while (on && fd > max && !atomic_compare_exchange_weak(&reaper_fd_max, &max, fd))
        ;
    return 1;
}

int fdtab_is_reaper(int fd)
{
    struct fd_slot *s = slot_of(fd);
    return s && fd <= atomic_load_explicit(&reaper_fd_max, memory_order_relaxed) &&
           (atomic_load_explicit(&s->flags, memory_order_acquire) & FD_REAPER);
}

int fdtab_lowest_reaper(unsigned first, unsigned last)
{
    int max = atomic_load(&reaper_fd_max);
    if (max < 0 || first > (unsigned)max)
        return -1;
    if (last > (unsigned)max)
        last = (unsigned)max;
    for (unsigned fd = first; fd <= last; fd++)
        if (atomic_load_explicit(&slots[fd].flags, memory_order_relaxed) & FD_REAPER)
            return (int)fd;
    return -1;
}

void fdtab_close_reaper_fds(void)
{
    int fd;
    while ((fd = fdtab_lowest_reaper(0, ~0u)) >= 0) {
        atomic_store(&slots[fd].flags, 0);
        sys1(SYS_close, fd);
    }
    atomic_store(&reaper_fd_max, -1);
}

/* After a range close: forget what the application closed (the reaper's
 * own fds in the range were stepped over, and stay marked). */
void fdtab_forget_range(unsigned first, unsigned last, void (*epoll_closed)(int fd))
{
    if (!slots || first >= nslots || !owner_is_self())
        return;
    if (last >= nslots)
        last = nslots - 1;
    for (unsigned fd = first; fd <= last; fd++) {
        unsigned flags = atomic_load_explicit(&slots[fd].flags, memory_order_relaxed);
        if (flags && !(flags & FD_REAPER)) {
            atomic_store_explicit(&slots[fd].flags, 0, memory_order_relaxed);
            if (flags & FD_EPOLL)
                epoll_closed((int)fd);
        }
    }
}

/* A fork, a spawn or an exec from a vfork child: every fd open now may be
 * held by another process from here on. */
void fdtab_spawned(void)
{
    atomic_fetch_add(&spawn_epoch, 1);
}

/* A ring made through a hook: io_uring_setup may register any of our
 * sockets with it, unseen, so no socket is sole without a look at the rings. */
static _Atomic int have_rings;

void fdtab_ring_created(void)
{
    atomic_store(&have_rings, 1);
}

/* scope: NULL for a close of one fd; for a range close or exit, the fds of
 * ours closed together with this one (they are not holders). */
enum share_verdict sharing_check(int fd, const struct batch_scope *scope, enum share_search depth,
                                 int *holder_pid, const char **why)
{
    struct fd_slot *s = slot_of(fd);
    struct holder_query q = {.fd = fd, .ino = inode_of(fd)};

    *holder_pid = 0;
    if (!q.ino) {
        *why = "unknown-inode";
        return SHARE_UNKNOWN;
    }
    if (scope) {
        q.batch = 1;
        q.first = scope->first;
        q.last = scope->last;
    }
    if (s && atomic_load_explicit(&s->ino, memory_order_relaxed) == q.ino) {
        uint32_t flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
        int same_epoch = atomic_load_explicit(&s->epoch, memory_order_relaxed) ==
                         atomic_load(&spawn_epoch);
        if (flags & FD_GIVEN) {
            /* The receiver holds it, or the message still carries it (no
             * table shows that), or the receiver has closed it already and
             * this close is the last: never touched, and a reset possible. */
            *why = "passed-with-scm-rights";
            return SHARE_UNKNOWN;
        }
        if (flags & FD_TRACKED) {
            uint64_t birth = atomic_load_explicit(&s->birth, memory_order_relaxed);
            q.birth_ns = birth > atomic_load(&births_from) ? (long)birth : 0;
            if (same_epoch) {
                if (!(flags & FD_DUPED) && !atomic_load(&have_rings))
                    return SHARE_SOLE;
                q.self_only = 1;
            }
        }
    }
    if (depth == SEARCH_TABLE_ONLY) {
        *why = "not-searched";
        return SHARE_UNKNOWN;
    }
    return holders_find(&q, holder_pid, why);
}
