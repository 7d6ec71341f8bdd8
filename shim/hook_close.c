/* close() and __close(): the main entry. */
#include <errno.h>
#include <unistd.h>

#include "internal_fd.h"
#include "norst.h"
#include "sys.h"

/* The real close, exactly once: Linux releases the fd even when close fails
 * with EINTR, so a retry could close a number another thread just got. */
int real_close_fd(int fd)
{
    if (real.close)
        return real.close(fd);
    long ret = sys1(SYS_close, fd);
    if (ret < 0) {
        errno = (int)-ret;
        return -1;
    }
    return 0;
}

int raw_close_fd(int fd)
{
    long ret = sys1(SYS_close, fd);
    if (ret < 0) {
        errno = (int)-ret;
        return -1;
    }
    return 0;
}

int close_one(int fd, enum close_path_kind path, const void *caller)
{
    struct close_event ev;

    if (internal_fd_is(fd)) {
        errno = EBADF; /* ours, so not open as far as the application knows */
        return -1;
    }
    enum prepared how;
    {
        KEEP_ERRNO;
        how = close_path_prepare(fd, path, caller, &ev);
        if (fdtab_forget(fd) & FD_EPOLL)
            reaper_epoll_closed(fd);
    }
    /* After a drain, a cancel may be pending: close all the same. */
    int ret = how == PREP_NOTHING ? real_close_fd(fd) : raw_close_fd(fd);
    {
        KEEP_ERRNO;
        close_path_finish(&ev, how);
    }
    return ret;
}

NORST_API int close(int fd)
{
    return close_one(fd, PATH_CLOSE, RETURN_ADDRESS());
}

int __close(int fd);
NORST_API int __close(int fd)
{
    return close_one(fd, PATH___CLOSE, RETURN_ADDRESS());
}
