/* The ways to start a process that pthread_atfork does not see: vfork(),
 * clone() and _Fork(). The child holds copies of our fds, so every fd open
 * now may have another holder from here on (fdtab_spawned); the child itself
 * runs no atfork handler and so never acts (owner.h).
 *
 * vfork cannot be wrapped by a C function: the child returns through the
 * caller's frame and then reuses the stack the parent will return through.
 * So the hook is a tail jump: it marks the spawn in the parent, before the
 * child exists, then jumps to the real vfork with the caller's stack and
 * return address untouched, as if the application had called it. */
#include <sched.h>
#include <stdarg.h>
#include <sys/types.h>
#include <unistd.h>

#include "common.h"
#include "real.h"
#include "sharing.h"

/* Called by the vfork stub: returns the function to jump to. fork() where
 * the real vfork cannot be found: POSIX lets vfork be a fork. */
__attribute__((used)) void *vfork_prepare(void);
__attribute__((used)) void *vfork_prepare(void)
{
    fdtab_spawned();
    void *fn = (void *)REAL(vfork);
    return fn ? fn : (void *)fork;
}

#if defined(__x86_64__)
/* At entry the stack holds the caller's return address (rsp = 8 mod 16):
 * align it for the call, restore it, jump. */
NORST_API __attribute__((naked)) pid_t vfork(void)
{
    __asm__(
#ifdef __CET__
        "endbr64\n\t"
#endif
        "sub $8, %rsp\n\t"
        "call vfork_prepare\n\t"
        "add $8, %rsp\n\t"
        "jmp *%rax\n\t");
}
#elif defined(__aarch64__)
/* The link register holds the caller's return address: save it around the
 * call, restore it, branch. "bti c" (a no-op hint on CPUs without branch
 * protection) lands the caller's indirect call; the branch goes through x16,
 * which the real vfork's own "bti c" accepts. */
NORST_API __attribute__((naked)) pid_t vfork(void)
{
    __asm__("hint 34\n\t"
            "stp x29, x30, [sp, #-16]!\n\t"
            "mov x29, sp\n\t"
            "bl vfork_prepare\n\t"
            "ldp x29, x30, [sp], #16\n\t"
            "mov x16, x0\n\t"
            "br x16\n\t");
}
#else
#error "libnorst needs a vfork stub for this architecture (hook_fork.c)"
#endif

/* glibc's clone() runs fn on the new stack and exits there: this frame is
 * never returned through by the child. The three optional arguments are
 * passed on as read, as glibc's own callers do. */
__attribute__((no_sanitize_address)) NORST_API int
clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    pid_t *parent_tid = va_arg(ap, pid_t *);
    void *tls = va_arg(ap, void *);
    pid_t *child_tid = va_arg(ap, pid_t *);
    va_end(ap);
    /* A child with its own copy of the fd table holds our sockets too. */
    if (!(flags & CLONE_FILES))
        fdtab_spawned();
    return REAL(clone)(fn, stack, flags, arg, parent_tid, tls, child_tid);
}

/* glibc 2.34's fork without atfork handlers: both sides return through
 * this frame, each on its own copy of the stack. */
pid_t _Fork(void);
NORST_API pid_t _Fork(void)
{
    real__Fork_fn *fn = REAL(_Fork);
    fdtab_spawned();
    return fn ? fn() : fork();
}
