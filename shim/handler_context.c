/* Is a signal handler running on this thread?
 *
 * No system call says so, but the kernel leaves a trace: while a handler
 * runs, its signal stays blocked on the thread (setup_rt_frame() adds it to
 * the mask unless SA_NODEFER, and sigreturn restores the old mask), and a
 * handler on the alternate stack shows as SS_ONSTACK. So when no signal
 * that has a handler is blocked, none has SA_NODEFER, and we are not on the
 * alternate stack, no handler can be under us. Anything else is doubt:
 * threads that block signals on purpose answer 1, and the caller waits for
 * a better moment. A handler that unblocks its own signal, or that leaves
 * by longjmp without restoring the mask, is not seen; the first leaves its
 * signal unblocked only by its own choice, the second leaves doubt behind,
 * which costs nothing. */
#include <signal.h>
#include <stdint.h>

#include "handler_context.h"
#include "sys.h"

/* The kernel's struct sigaction (x86_64 and aarch64 both have sa_restorer),
 * with the kernel's 8-byte mask. */
struct kernel_sigaction {
    uintptr_t handler;
    unsigned long flags;
    uintptr_t restorer;
    uint64_t mask;
};

#define KERNEL_NSIG 64

int handler_may_be_running(void)
{
    stack_t alt;
    uint64_t blocked = 0;

    if (sys2(SYS_sigaltstack, NULL, &alt) == 0 && (alt.ss_flags & SS_ONSTACK))
        return 1;
    if (sys4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &blocked, sizeof blocked) < 0)
        return 1;
    for (int sig = 1; sig <= KERNEL_NSIG; sig++) {
        struct kernel_sigaction act = {0, 0, 0, 0};
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (sys4(SYS_rt_sigaction, sig, NULL, &act, sizeof act.mask) < 0)
            continue;
        if (act.handler == (uintptr_t)SIG_DFL || act.handler == (uintptr_t)SIG_IGN)
            continue;
        if ((act.flags & SA_NODEFER) || (blocked & (1ULL << (sig - 1))))
            return 1;
    }
    return 0;
}
