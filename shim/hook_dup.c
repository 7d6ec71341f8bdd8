/* dup2/dup3 close their target inside the kernel; dup and fcntl(F_DUPFD)
 * make a second reference that the sharing check must know about. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "aside.h"
#include "close_path.h"
#include "common.h"
#include "event_fields.h"
#include "hook_newfd.h"
#include "internal_fd.h"
#include "real.h"
#include "sharing.h"
#include "sys.h"

/* The shim's fds are not open as far as the application knows. */
static int not_open(void)
{
    errno = EBADF;
    return -1;
}

/* The implicit close of newfd, treated like close(newfd). dup2 with a bad
 * oldfd fails without closing newfd, so newfd is only touched once oldfd is
 * known to be open. */
struct dup_onto {
    int oldfd, flags;
    enum close_path_kind path;
};

static int libc_dup(int newfd, void *ctx)
{
    const struct dup_onto *d = ctx;
    if (d->path == PATH_DUP2)
        return REAL(dup2)(d->oldfd, newfd);
    return REAL(dup3)(d->oldfd, newfd, d->flags);
}

static int dup_over(int oldfd, int newfd, int flags, enum close_path_kind path,
                    const void *caller)
{
    struct dup_onto onto = {oldfd, flags, path};
    const struct real_close by_dup = {libc_dup, NULL, &onto};

    if (internal_fd_is(oldfd))
        return not_open();
    if (!norst_acting()) {
        /* No call of ours: the kernel closes whatever held newfd, our own
         * fd too, which then is simply no longer ours. */
        internal_fd_forget(newfd);
        return libc_dup(newfd, &onto);
    }
    /* A bad oldfd fails without closing newfd: then nothing is closed. */
    if (oldfd == newfd || newfd < 0 || sys2(SYS_fcntl, oldfd, F_GETFD) < 0)
        return libc_dup(newfd, &onto);
    {
        KEEP_ERRNO;
        /* The application wants this number: our fd moves out of its way. */
        if (internal_fd_is(newfd))
            internal_fd_evacuate((unsigned)newfd, (unsigned)newfd);
    }
    int ret = close_fd(newfd, path, caller, &by_dup);
    if (ret >= 0) {
        KEEP_ERRNO;
        fdtab_duped(oldfd, newfd);
    }
    return ret;
}

NORST_API int dup2(int oldfd, int newfd)
{
    return dup_over(oldfd, newfd, 0, PATH_DUP2, RETURN_ADDRESS());
}

NORST_API int dup3(int oldfd, int newfd, int flags)
{
    return dup_over(oldfd, newfd, flags, PATH_DUP3, RETURN_ADDRESS());
}

NORST_API int dup(int oldfd)
{
    if (internal_fd_is(oldfd))
        return not_open();
    int newfd = NEW_FD(REAL(dup)(oldfd), -1);
    if (newfd >= 0) {
        KEEP_ERRNO;
        fdtab_duped(oldfd, newfd);
    }
    return newfd;
}

/* fcntl's third argument is an int or a pointer; passing it on as a pointer
 * is what glibc's own wrappers do on every ABI we build for. */
static int fcntl_hooked(int fd, int cmd, void *arg)
{
    if (internal_fd_is(fd))
        return not_open(); /* F_SETFD 0 on the log would hand it to exec'd children */
    real_fcntl_fn *real_fn = REAL(fcntl);
    if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
        return real_fn(fd, cmd, arg);
    int ret = NEW_FD(real_fn(fd, cmd, arg), -1);
    if (ret >= 0) {
        KEEP_ERRNO;
        fdtab_duped(fd, ret);
    }
    return ret;
}

NORST_API int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_hooked(fd, cmd, arg);
}

#ifdef __GLIBC__ /* glibc 2.28+'s name; musl has fcntl only */
NORST_API int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_hooked(fd, cmd, arg);
}
#endif
