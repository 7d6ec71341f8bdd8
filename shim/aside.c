/* Stepping aside for good once a seccomp filter governs the process.
 *
 * A filter allows the calls its author saw the program make; every call the
 * library adds may be the one that kills the process (SIGSYS) or fails. So
 * once the process installs a filter or strict mode (hook_seccomp.c), or a
 * probe of ours fails in a way only a filter explains, every hook becomes a
 * pure pass-through that makes no call of its own, for the rest of the
 * process's life. norst_acting() is the one question every place that would
 * do something asks first. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>

#include "aside.h"
#include "sys.h"

int norst_ready; /* set by init.c once configuration, log and symbols are ready */
static _Atomic int aside;

int norst_acting(void)
{
    return __atomic_load_n(&norst_ready, __ATOMIC_ACQUIRE) &&
           !atomic_load_explicit(&aside, memory_order_relaxed);
}

void norst_step_aside(void)
{
    atomic_store(&aside, 1);
}

/* getsockopt(SO_PROTOCOL/SO_MEMINFO/SO_LINGER/TCP_INFO), ioctl(FIONREAD)
 * and fstat on an open fd have no EPERM in the kernel, and none of them is
 * missing (ENOSYS) on a kernel we run on: either answer comes from a
 * filter's SECCOMP_RET_ERRNO, and the next call we add may meet its kill. */
long probe_checked(long ret)
{
    if (ret == -EPERM || ret == -ENOSYS)
        norst_step_aside();
    return ret;
}

/* The Seccomp: line of /proc/self/status, read once at load (the dynamic
 * loader needed openat, read and close itself, so any filter already in
 * place allows them). 1 when the process already runs under a filter or
 * strict mode, 0 when not, -1 when the line could not be read. */
int seccomp_mode_now(void)
{
    static const char key[] = "\nSeccomp:\t";
    static char buf[4096]; /* once, at load: not on any signal stack */
    long fd = sys4(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    long n = sys3(SYS_read, fd, buf, sizeof buf - 1);
    sys1(SYS_close, fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    for (long i = 0; i + (long)sizeof key - 1 < n; i++) {
        long k = 0;
        while (key[k] && buf[i + k] == key[k])
            k++;
        if (!key[k])
            return buf[i + k] != '0';
    }
    return -1;
}
