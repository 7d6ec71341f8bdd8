/* close() and __close(): the main entry. */
#include <errno.h>
#include <unistd.h>

#include "close_path.h"
#include "common.h"
#include "event_fields.h"
#include "hook_close.h"
#include "internal_fd.h"
#include "real.h"
#include "sys.h"

static int libc_close(int fd, void *ctx)
{
    (void)ctx;
    return real_close_fd(fd);
}

/* After a drain, a cancel may be pending: close all the same. */
static int close_uncancelled(int fd, void *ctx)
{
    (void)ctx;
    return raw_close_fd(fd);
}

int close_one(int fd, enum close_path_kind path, const void *caller)
{
    static const struct real_close by_close = {libc_close, close_uncancelled, NULL};
    if (internal_fd_is(fd)) {
        errno = EBADF; /* ours, so not open as far as the application knows */
        return -1;
    }
    return close_fd(fd, path, caller, &by_close);
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
