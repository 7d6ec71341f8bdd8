/* close_range() and closefrom(): many fds at once, possibly many sockets.
 *
 * Each open fd in the range goes through the usual decision; the sockets to
 * linger on drain together, then the range is closed around the shim's own
 * fds. closefrom (glibc 2.34+) calls the hidden __close_range, so it needs its
 * own hook; on an older libc neither symbol exists and nothing refers to
 * these definitions. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <unistd.h>

#include "aside.h"
#include "close_path.h"
#include "common.h"
#include "config.h"
#include "config_parse.h"
#include "event.h"
#include "event_fields.h"
#include "fdwalk.h"
#include "hook_close_range.h"
#include "internal_fd.h"
#include "real.h"
#include "reaper.h"
#include "sharing.h"
#include "sys.h"

#ifndef __GLIBC__ /* musl declares neither: a program calls them by syscall */
int close_range(unsigned first, unsigned last, int flags);
void closefrom(int lowfd);
#endif

static void epoll_set_closed(int fd)
{
    reaper_epoll(fd, EPOLL_SET_CLOSED);
}

/* A walk of our fd table over [from, the batch's last]. */
struct range_walk {
    struct close_batch *batch;
    unsigned from;
};

/* Returns where to go on from (fd + 1) once the batch is full: the walk
 * stops there, so that the flush runs outside it. */
static long offer_fd(int dirfd, const char *name, long fd, void *ctx)
{
    struct range_walk *walk = ctx;
    (void)name;
    if (fd != dirfd && (unsigned long)fd >= walk->from && (unsigned long)fd <= walk->batch->last &&
        !internal_fd_is((int)fd) && batch_offer(walk->batch, (int)fd))
        return fd + 1;
    return 0;
}

/* Give every open fd in [first, last] the close decision; the sockets that
 * had an event are closed here, the caller closes the rest. */
static void close_sockets_in_range(unsigned first, unsigned last,
                                   enum close_path_kind path, const void *caller)
{
    /* Not malloc: a range close may run in a signal handler. */
    struct close_event spare;
    struct close_batch batch = {.evs = NULL, .spare = &spare, .capacity = 16};

    if (!norst_acting() || norst_cfg.mode == MODE_OFF)
        return;
    batch.path = path;
    batch.caller = caller;
    batch.first = first;
    batch.last = last;
    batch.deadline_ms = block_deadline(batch.path);
    /* /proc/self/fd lists fds in ascending order: a walk that stopped at a
     * full batch goes on from the next number (the batch's range, which
     * the sharing check counts as closing together, stays the whole). */
    struct range_walk walk = {&batch, first};
    for (;;) {
        long next = fdwalk_self(offer_fd, &walk);
        if (batch.count)
            batch_flush(&batch);
        if (next <= 0 || (unsigned long)next > last)
            break;
        walk.from = (unsigned)next;
    }
    batch_release(&batch);
}

static long real_close_range_call(unsigned first, unsigned last, int flags)
{
    if (REAL(close_range))
        return REAL(close_range)(first, last, flags) == 0 ? 0 : -errno;
    return sys3(SYS_close_range, first, last, flags);
}

/* The real range close, stepping over the shim's own fds. Returns 0 or
 * -errno of the first failing piece. */
static long close_range_around_internal(unsigned first, unsigned last, int flags)
{
    for (;;) {
        int internal = internal_fd_lowest_in(first, last);
        if (internal < 0)
            return real_close_range_call(first, last, flags);
        if ((unsigned)internal > first) {
            long ret = real_close_range_call(first, (unsigned)internal - 1, flags);
            if (ret < 0)
                return ret;
        }
        if ((unsigned)internal == last)
            return 0;
        first = (unsigned)internal + 1;
    }
}

long close_range_hooked(unsigned first, unsigned last, int flags,
                        enum close_path_kind path, const void *caller)
{
    if (first > last || (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)))
        return real_close_range_call(first, last, flags); /* its own EINVAL */
    if (!(flags & CLOSE_RANGE_CLOEXEC)) {
        KEEP_ERRNO; /* the sockets' own closes must not show */
        close_sockets_in_range(first, last, path, caller);
        fdtab_forget_range(first, last, epoll_set_closed);
    }
    return close_range_around_internal(first, last, flags);
}

NORST_API int close_range(unsigned first, unsigned last, int flags)
{
    long ret = close_range_hooked(first, last, flags, PATH_CLOSE_RANGE, RETURN_ADDRESS());
    if (ret < 0) {
        errno = (int)-ret;
        return -1;
    }
    return 0;
}

static long close_from(int dirfd, const char *name, long fd, void *ctx)
{
    (void)name;
    if (fd != dirfd && fd >= *(int *)ctx && !internal_fd_is((int)fd))
        real_close_fd((int)fd);
    return 0;
}

NORST_API void closefrom(int lowfd)
{
    if (lowfd < 0)
        lowfd = 0;
    long ret = close_range_hooked((unsigned)lowfd, ~0U, 0, PATH_CLOSEFROM, RETURN_ADDRESS());
    if (ret == -ENOSYS) /* kernel before 5.9: walk /proc/self/fd as glibc does */
        fdwalk_self(close_from, &lowfd);
}
