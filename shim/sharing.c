/* Is anyone else holding this socket?
 *
 * shutdown() and draining act on the socket, not on one fd: done on a socket
 * that a dup, a forked child or an SCM_RIGHTS receiver still holds, they cut
 * that holder's connection. Closing one reference of several never resets
 * the peer, so a shared socket is simply left alone.
 *
 * No syscall returns a file's reference count, so the shim keeps a small
 * per-fd table and falls back to looking for the socket's inode among the fds
 * of this and other processes, on the rare path only:
 *   - fd created here (socket/accept hooks), never duplicated, no fork or
 *     spawn since, never sent with SCM_RIGHTS: sole holder, no scan;
 *   - duplicated in this process, no fork since: scan /proc/self/fd;
 *   - sent with SCM_RIGHTS: shared, never touched;
 *   - anything else (inherited, received, open across a fork or spawn, or
 *     created by a path the shim does not see): scan every process we can
 *     read in /proc.
 * The table stores the socket's inode, so an entry left behind by a close the
 * shim did not see can never vouch for a different socket. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "fdwalk.h"
#include "norst.h"
#include "sys.h"

struct fd_slot {
    _Atomic uint64_t ino;
    _Atomic uint32_t epoch;
    _Atomic uint32_t flags;
};

static struct fd_slot *slots;
static unsigned nslots;
static _Atomic uint32_t spawn_epoch;

void fdtab_init(void)
{
    struct rlimit rl;
    unsigned long want = 1UL << 20;
    if (sys2(SYS_getrlimit, RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < want)
        want = rl.rlim_max < 1024 ? 1024 : rl.rlim_max;
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

static uint64_t inode_of(int fd)
{
    struct stat st;
    if (probe_checked(sys2(SYS_fstat, fd, &st)) < 0 || !S_ISSOCK(st.st_mode))
        return 0;
    return st.st_ino;
}

static void slot_set(struct fd_slot *s, uint64_t ino, uint32_t flags)
{
    atomic_store_explicit(&s->ino, ino, memory_order_relaxed);
    atomic_store_explicit(&s->epoch, atomic_load(&spawn_epoch), memory_order_relaxed);
    atomic_store_explicit(&s->flags, flags, memory_order_relaxed);
}

void fdtab_created(int fd, int tcp)
{
    struct fd_slot *s = slot_of(fd);
    if (s)
        slot_set(s, inode_of(fd), FD_TRACKED | FD_KIND_KNOWN | (tcp ? FD_TCP : 0));
}

/* A slot left behind by a close the shim did not see may say TCP for what
 * is now something else: classify only asks in a different order then. */
int fdtab_hinted_tcp(int fd)
{
    struct fd_slot *s = slot_of(fd);
    return s && (atomic_load_explicit(&s->flags, memory_order_relaxed) & FD_TCP);
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
        slot_set(new, old ? atomic_load(&old->ino) : 0, flags | FD_DUPED);
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
            slot_set(s, ino, 0);
        atomic_fetch_or_explicit(&s->flags, FD_GIVEN, memory_order_relaxed);
    }
}

unsigned fdtab_forget(int fd)
{
    struct fd_slot *s = slot_of(fd);
    if (!s || !atomic_load_explicit(&s->flags, memory_order_relaxed))
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
void fdtab_forget_range(unsigned first, unsigned last)
{
    if (!slots || first >= nslots)
        return;
    if (last >= nslots)
        last = nslots - 1;
    for (unsigned fd = first; fd <= last; fd++) {
        unsigned flags = atomic_load_explicit(&slots[fd].flags, memory_order_relaxed);
        if (flags && !(flags & FD_REAPER)) {
            atomic_store_explicit(&slots[fd].flags, 0, memory_order_relaxed);
            if (flags & FD_EPOLL)
                reaper_epoll_closed((int)fd);
        }
    }
}

/* A fork, a spawn or an exec from a vfork child: every fd open now may be
 * held by another process from here on. */
void fdtab_spawned(void)
{
    atomic_fetch_add(&spawn_epoch, 1);
}

/* ---- scanning /proc ---- */

struct holder_search {
    char target[48];    /* "socket:[INODE]", as /proc/PID/fd links read */
    size_t target_len;
    long self;          /* our pid */
    long closing_fd;    /* the fd being closed: in our own table, not a holder */
    long pid;           /* the process being looked at */
};

static long visit_fd_link(int dirfd, const char *name, long fd, void *ctx)
{
    const struct holder_search *hs = ctx;
    char link[64];
    if (hs->pid == hs->self && fd == hs->closing_fd)
        return 0;
    long len = sys4(SYS_readlinkat, dirfd, name, link, sizeof link);
    return len == (long)hs->target_len && memcmp(link, hs->target, hs->target_len) == 0;
}

/* 1: pid holds the socket, 0: it does not, -1: its fd table is unreadable. */
static long process_holds(struct holder_search *hs, long pid)
{
    char path[48];
    struct fmtbuf b = {path, 0, sizeof path};
    fmt_str(&b, "/proc/");
    fmt_ulong(&b, (unsigned long long)pid);
    fmt_str(&b, "/fd");
    hs->pid = pid;
    return fdwalk_path(path, visit_fd_link, hs);
}

static long visit_pid(int dirfd, const char *name, long pid, void *ctx)
{
    struct holder_search *hs = ctx;
    (void)dirfd;
    (void)name;
    return pid != hs->self && process_holds(hs, pid) > 0 ? pid : 0;
}

/* Returns the pid of another holder, 0 if none, -1 if even our own fd table
 * could not be read. Other users' processes that we may not read are passed
 * over: they cannot have received our socket unless we sent it, and sending
 * it marks it given. */
static long find_holder(int fd, uint64_t ino, int self_only)
{
    struct holder_search hs = {.self = sys0(SYS_getpid), .closing_fd = fd};
    struct fmtbuf t = {hs.target, 0, sizeof hs.target};
    fmt_str(&t, "socket:[");
    fmt_ulong(&t, ino);
    fmt_str(&t, "]");
    hs.target_len = t.len;

    long held = process_holds(&hs, hs.self);
    if (held != 0)
        return held > 0 ? hs.self : -1;
    if (self_only)
        return 0;
    long holder = fdwalk_path("/proc", visit_pid, &hs);
    return holder > 0 ? holder : 0;
}

enum share_verdict sharing_check(int fd, int *holder_pid, const char **why)
{
    struct fd_slot *s = slot_of(fd);
    uint64_t ino = inode_of(fd);
    int self_only = 0;

    *holder_pid = 0;
    if (!ino) {
        *why = "unknown-inode";
        return SHARE_UNKNOWN;
    }
    if (s && atomic_load_explicit(&s->ino, memory_order_relaxed) == ino) {
        uint32_t flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
        int same_epoch = atomic_load_explicit(&s->epoch, memory_order_relaxed) ==
                         atomic_load(&spawn_epoch);
        if (flags & FD_GIVEN) {
            *why = "passed-with-scm-rights";
            return SHARE_SHARED;
        }
        if ((flags & FD_TRACKED) && same_epoch) {
            if (!(flags & FD_DUPED))
                return SHARE_SOLE;
            self_only = 1;
        }
    }
    long holder = find_holder(fd, ino, self_only);
    if (holder < 0) {
        *why = "proc-unreadable";
        return SHARE_UNKNOWN;
    }
    if (holder == 0)
        return SHARE_SOLE;
    *holder_pid = (int)holder;
    *why = holder == sys0(SYS_getpid) ? "another-fd" : "another-process";
    return SHARE_SHARED;
}
