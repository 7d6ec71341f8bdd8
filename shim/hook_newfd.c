/* Every libc call that makes a new fd. Two reasons to be here:
 *   - at EMFILE while the reaper holds fds (lingering sockets), those are
 *     finished and the call made once more: the application must be able
 *     to open as many fds as without the library;
 *   - these hooks are never a close, so the reaper's thread can be started
 *     here when a handoff waits for it.
 * fopen and opendir open their fd inside libc, so they are hooked as wholes.
 * (dup2/dup3 onto a number fail with EBADF beyond the limit, never EMFILE;
 * fdopen makes no fd.) */
#undef _FORTIFY_SOURCE /* the fortified inline open() would clash with ours */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "aside.h"
#include "common.h"
#include "hook_newfd.h"
#include "real.h"
#include "reaper.h"

void new_fd_before(void)
{
    KEEP_ERRNO; /* starting a thread may set errno whatever the outcome */
    reaper_start_pending();
}

int new_fd_retry(void)
{
    int saved = errno;
    if (saved == EMFILE && norst_acting() && reaper_release(RELEASE_FDS) > 0)
        return 1;
    errno = saved;
    return 0;
}

/* open's mode is there only with O_CREAT or O_TMPFILE. */
#define MODE_FROM(flags, last)                                                 \
    mode_t mode = 0;                                                           \
    if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) {           \
        va_list ap;                                                            \
        va_start(ap, last);                                                    \
        mode = va_arg(ap, mode_t);                                             \
        va_end(ap);                                                            \
    }

NORST_API int open(const char *path, int flags, ...)
{
    MODE_FROM(flags, flags);
    return NEW_FD(REAL(open)(path, flags, mode), -1);
}

/* The *64 names are glibc's own symbols; musl's headers make them macros
 * for the plain names, hooked already. */
#ifdef __GLIBC__
NORST_API int open64(const char *path, int flags, ...)
{
    MODE_FROM(flags, flags);
    return NEW_FD(REAL(open64)(path, flags, mode), -1);
}
#endif

NORST_API int openat(int dirfd, const char *path, int flags, ...)
{
    MODE_FROM(flags, flags);
    return NEW_FD(REAL(openat)(dirfd, path, flags, mode), -1);
}

#ifdef __GLIBC__
NORST_API int openat64(int dirfd, const char *path, int flags, ...)
{
    MODE_FROM(flags, flags);
    return NEW_FD(REAL(openat64)(dirfd, path, flags, mode), -1);
}
#endif

/* What a program built with _FORTIFY_SOURCE calls for open(path, flags). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

NORST_API int __open_2(const char *path, int flags)
{
    return NEW_FD(REAL(__open_2)(path, flags), -1);
}

NORST_API int __open64_2(const char *path, int flags)
{
    return NEW_FD(REAL(__open64_2)(path, flags), -1);
}

NORST_API int __openat_2(int dirfd, const char *path, int flags)
{
    return NEW_FD(REAL(__openat_2)(dirfd, path, flags), -1);
}

NORST_API int __openat64_2(int dirfd, const char *path, int flags)
{
    return NEW_FD(REAL(__openat64_2)(dirfd, path, flags), -1);
}

NORST_API int creat(const char *path, mode_t mode)
{
    return NEW_FD(REAL(creat)(path, mode), -1);
}

#ifdef __GLIBC__
NORST_API int creat64(const char *path, mode_t mode)
{
    return NEW_FD(REAL(creat64)(path, mode), -1);
}
#endif

NORST_API int pipe(int fds[2])
{
    return NEW_FD(REAL(pipe)(fds), -1);
}

NORST_API int pipe2(int fds[2], int flags)
{
    return NEW_FD(REAL(pipe2)(fds, flags), -1);
}

NORST_API int socketpair(int domain, int type, int protocol, int fds[2])
{
    return NEW_FD(REAL(socketpair)(domain, type, protocol, fds), -1);
}

NORST_API int eventfd(unsigned int initval, int flags)
{
    return NEW_FD(REAL(eventfd)(initval, flags), -1);
}

NORST_API int signalfd(int fd, const sigset_t *mask, int flags)
{
    return NEW_FD(REAL(signalfd)(fd, mask, flags), -1);
}

NORST_API int timerfd_create(int clockid, int flags)
{
    return NEW_FD(REAL(timerfd_create)(clockid, flags), -1);
}

NORST_API int inotify_init(void)
{
    return NEW_FD(REAL(inotify_init)(), -1);
}

NORST_API int inotify_init1(int flags)
{
    return NEW_FD(REAL(inotify_init1)(flags), -1);
}

NORST_API int memfd_create(const char *name, unsigned int flags)
{
    return NEW_FD(REAL(memfd_create)(name, flags), -1);
}

NORST_API FILE *fopen(const char *path, const char *mode)
{
    return NEW_FD(REAL(fopen)(path, mode), NULL);
}

#ifdef __GLIBC__
NORST_API FILE *fopen64(const char *path, const char *mode)
{
    return NEW_FD(REAL(fopen64)(path, mode), NULL);
}
#endif

NORST_API DIR *opendir(const char *path)
{
    return NEW_FD(REAL(opendir)(path), NULL);
}
