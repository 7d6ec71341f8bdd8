/* A process that installs a seccomp filter (or strict mode) on itself allows
 * what it saw itself call; the library's own calls are not on that list. So
 * before the install the reaper's thread ends (its sockets finished: the
 * filter may apply to it too, with TSYNC), and once the install succeeded
 * the library steps aside for good (aside.c). The install may come through
 * prctl(PR_SET_SECCOMP), seccomp(), or syscall() with either number
 * (hook_syscall.c). */
#include <errno.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <sys/prctl.h>

#include "aside.h"
#include "common.h"
#include "hook_seccomp.h"
#include "real.h"
#include "reaper.h"
#include "sys.h"

int seccomp_installs(long op)
{
    return op == SECCOMP_SET_MODE_STRICT || op == SECCOMP_SET_MODE_FILTER;
}

void seccomp_before(void)
{
    reaper_release(RELEASE_THREAD);
}

long seccomp_after(long ret)
{
    if (ret >= 0)
        norst_step_aside();
    reaper_resume(); /* stepped aside, nothing starts it anyway */
    return ret;
}

NORST_API int prctl(int option, ...)
{
    va_list ap;
    unsigned long a[4];
    va_start(ap, option);
    for (int i = 0; i < 4; i++)
        a[i] = va_arg(ap, unsigned long);
    va_end(ap);
    real_prctl_fn *real_fn = REAL(prctl);
    if (option != PR_SET_SECCOMP)
        return real_fn(option, a[0], a[1], a[2], a[3]);
    seccomp_before();
    return (int)seccomp_after(real_fn(option, a[0], a[1], a[2], a[3]));
}

/* glibc has no seccomp() (libseccomp calls syscall()); a libc that has one
 * is served by this definition, one that has none never refers to it. */
int seccomp(unsigned int op, unsigned int flags, void *args);

NORST_API int seccomp(unsigned int op, unsigned int flags, void *args)
{
    real_seccomp_fn *real_fn = REAL(seccomp);
    int installs = seccomp_installs(op);
    if (installs)
        seccomp_before();
    long ret;
    if (real_fn) {
        ret = real_fn(op, flags, args);
    } else {
        ret = sys3(SYS_seccomp, op, flags, args);
        if (ret < 0) {
            errno = (int)-ret;
            ret = -1;
        }
    }
    return (int)(installs ? seccomp_after(ret) : ret);
}
