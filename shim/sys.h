/* Raw system calls for the shim's own use.
 *
 * They return -errno instead of touching errno, so the hooks can hand the
 * application exactly the errno of the real call; they are never
 * cancellation points (glibc's recv/poll/close are), so a drain cannot be
 * cancelled half-way; and they never go through libc's syscall(), which the
 * shim interposes. All of this keeps the close path async-signal-safe. */
#ifndef NORST_SYS_H
#define NORST_SYS_H

#include <sys/syscall.h>

#if defined(__x86_64__)
static inline long raw_syscall6(long nr, long a1, long a2, long a3, long a4,
                                long a5, long a6)
{
    long ret;
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8),
                       "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static inline long raw_syscall6(long nr, long a1, long a2, long a3, long a4,
                                long a5, long a6)
{
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a1;
    register long x1 __asm__("x1") = a2;
    register long x2 __asm__("x2") = a3;
    register long x3 __asm__("x3") = a4;
    register long x4 __asm__("x4") = a5;
    register long x5 __asm__("x5") = a6;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}
#else
#error "libnorst needs a raw system call stub for this architecture (sys.h)"
#endif

#define sys0(nr) raw_syscall6((nr), 0, 0, 0, 0, 0, 0)
#define sys1(nr, a) raw_syscall6((nr), (long)(a), 0, 0, 0, 0, 0)
#define sys2(nr, a, b) raw_syscall6((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(nr, a, b, c) \
    raw_syscall6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(nr, a, b, c, d) \
    raw_syscall6((nr), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
/* A wait on another thread that a signal handler may have interrupted
 * (it can then never end): yield at most this many times, 50-100 ms here,
 * then the caller gives up its step. 1 while the wait may go on. */
#define YIELD_SPINS_MAX 100000
static inline int yield_bounded(int *spins)
{
    if (++*spins > YIELD_SPINS_MAX)
        return 0;
    raw_syscall6(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
    return 1;
}

#define sys5(nr, a, b, c, d, e) \
    raw_syscall6((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#endif
