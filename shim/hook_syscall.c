/* syscall(SYS_close, fd) and syscall(SYS_close_range, ...): some event-loop
 * libraries close every fd this way to avoid the cancellation point, so a
 * close hook alone never sees their sockets. SYS_io_uring_setup is noted: a
 * ring may hold our sockets (sharing.c). Every other number goes to
 * libc's syscall() untouched, with all six argument registers. */
#include <errno.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "event_fields.h"
#include "hook_close.h"
#include "hook_close_range.h"
#include "hook_seccomp.h"
#include "hook_socket.h"
#include "hook_unshare.h"
#include "real.h"
#include "sharing.h"
#include "sys.h"

/* A process made by a raw system call runs no atfork handler (hook_fork.c). */
static int starts_process(long number)
{
    switch (number) {
#ifdef SYS_fork
    case SYS_fork:
#endif
#ifdef SYS_vfork
    case SYS_vfork:
#endif
#ifdef SYS_clone3
    case SYS_clone3:
#endif
    case SYS_clone:
        return 1;
    }
    return 0;
}

/* Six arguments are always read, whatever the number takes, as glibc's own
 * syscall() does in assembly: AddressSanitizer must not flag the read. */
__attribute__((no_sanitize_address)) NORST_API long syscall(long number, ...)
{
    va_list ap;
    long a[6];
    va_start(ap, number);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);

    if (number == SYS_close)
        return close_one((int)a[0], PATH_SYSCALL_CLOSE, RETURN_ADDRESS());
#ifdef SYS_close_range
    if (number == SYS_close_range) {
        long ret = close_range_hooked((unsigned)a[0], (unsigned)a[1], (int)a[2],
                                      PATH_SYSCALL_CLOSE_RANGE, RETURN_ADDRESS());
        if (ret < 0) {
            errno = (int)-ret;
            return -1;
        }
        return 0;
    }
#endif
    if (starts_process(number))
        fdtab_spawned();
    int installs = (number == SYS_seccomp && seccomp_installs(a[0])) ||
                   (number == SYS_prctl && a[0] == PR_SET_SECCOMP);
    if (installs)
        seccomp_before();
    enum namespace_hold held = NAMESPACE_NOTHING_HELD;
    if (number == SYS_unshare || number == SYS_setns)
        held = namespace_before(number == SYS_setns ? a[1] : a[0],
                                number == SYS_setns ? NS_SETNS : NS_UNSHARE);
    real_syscall_fn *real_fn = REAL(syscall);
    if (real_fn) {
        long ret = real_fn(number, a[0], a[1], a[2], a[3], a[4], a[5]);
        KEEP_ERRNO;
        namespace_after(held);
        if (installs)
            seccomp_after(ret);
#ifdef SYS_epoll_create
        if (number == SYS_epoll_create)
            epoll_created((int)ret);
#endif
        if (number == SYS_epoll_create1)
            epoll_created((int)ret);
        if (number == SYS_io_uring_setup && ret >= 0)
            fdtab_ring_created();
        return ret;
    }
    long ret = raw_syscall6(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    namespace_after(held);
    if (installs)
        seccomp_after(ret);
    if (number == SYS_io_uring_setup && ret >= 0)
        fdtab_ring_created();
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}
