/* Is a signal handler running on this thread?
 *
 * No system call says so, but the kernel leaves traces. While a handler
 * runs, its signal stays blocked on the thread (setup_rt_frame() adds it to
 * the mask unless SA_NODEFER; sigreturn restores the old mask), a handler
 * on the alternate stack shows as SS_ONSTACK, and the handler's return
 * address is the restorer, on the stack it runs on.
 *
 * The mask is the cheap look. The handler itself may be gone by then
 * (SA_RESETHAND, or a handler that sets SIG_DFL before re-raising), so the
 * disposition proves nothing: any blocked signal that is not ignored is
 * doubt. A handler with SA_NODEFER leaves no trace in the mask: one for an
 * asynchronous signal is doubt too; one for a fault (SIGSEGV, SIGBUS,
 * SIGFPE, SIGILL, SIGTRAP, SIGSYS, the crash handlers many daemons
 * install) runs only when this thread faulted, and one with SA_RESETHAND
 * too is not running while it is still installed.
 *
 * Threads that block signals on purpose (haproxy's and most thread pools'
 * workers, daemons that read signals from a signalfd) are in that doubt
 * all the time. The stack settles it: a walk to the stack's first frame
 * that met no restorer proves that no handler runs (unwind.c). A walk
 * that stops short (no unwind tables, not x86-64, a seccomp filter) leaves
 * the doubt, and the alternate stack in use is doubt whatever the walk. */
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "drain.h"
#include "handler_context.h"
#include "sys.h"
#include "unwind.h"

/* The kernel's struct sigaction (x86_64 and aarch64 both have sa_restorer),
 * with the kernel's 8-byte mask. */
struct kernel_sigaction {
    uintptr_t handler;
    unsigned long flags;
    uintptr_t restorer;
    uint64_t mask;
};

#define KERNEL_NSIG 64
#define BIT(sig) (1ULL << ((sig) - 1))
#define FAULT_SIGNALS (BIT(SIGSEGV) | BIT(SIGBUS) | BIT(SIGFPE) | BIT(SIGILL) | BIT(SIGTRAP) | BIT(SIGSYS))

/* ThreadSanitizer holds an asynchronous signal back and runs its handler
 * later, from inside an intercepted call, as a plain call: no restorer on
 * the stack. Where its runtime is in the process the walk proves nothing. */
extern void __tsan_init(void) __attribute__((weak, visibility("default")));

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

/* Walks that prove nothing cost as much as those that do (some hundred
 * system calls): a process whose threads stay in doubt with frames the
 * walk cannot follow (a JVM's) would pay one on each lingering close.
 * After WALKS_IN_VAIN such walks in a row, none for WALK_REST_MS: the
 * doubt stands meanwhile. */
#define WALKS_IN_VAIN 8
#define WALK_REST_MS 1000
static _Atomic int walks_in_vain;
static _Atomic long walk_rest_until_ms;

/* The mask and the dispositions: 1 where they leave doubt (at the first
 * signal that does). */
static int mask_leaves_doubt(void)
{
    uint64_t blocked = 0;

    if (sys4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &blocked, sizeof blocked) < 0)
        return 1;
    for (int sig = 1; sig <= KERNEL_NSIG; sig++) {
        struct kernel_sigaction act = {0, 0, 0, 0};
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (sys4(SYS_rt_sigaction, sig, NULL, &act, sizeof act.mask) < 0)
            continue;
        if (act.handler == (uintptr_t)SIG_IGN)
            continue;
        if (blocked & BIT(sig))
            return 1;
        /* SA_RESETHAND: get_signal() puts back SIG_DFL before the handler
         * runs, so one still installed is not running (redis installs its
         * SIGABRT handler so). */
        if (act.handler != (uintptr_t)SIG_DFL && (act.flags & SA_NODEFER) &&
            !(act.flags & SA_RESETHAND) && !(FAULT_SIGNALS & BIT(sig)))
            return 1;
    }
    return 0;
}

/* Every restorer the dispositions name (a handler reset by SA_RESETHAND
 * keeps its restorer), for the walk to look for. */
static void collect_restorers(struct restorers *restorers)
{
    for (int sig = 1; sig <= KERNEL_NSIG; sig++) {
        struct kernel_sigaction act = {0, 0, 0, 0};
        if (sig != SIGKILL && sig != SIGSTOP &&
            sys4(SYS_rt_sigaction, sig, NULL, &act, sizeof act.mask) == 0 &&
            (act.flags & SA_RESTORER))
            restorers_add(restorers, act.restorer);
    }
}

/* The stack's answer, or doubt while walks rest. */
static int walk_leaves_doubt(void)
{
    struct restorers restorers = {.n = 0};
    long now = monotonic_ms();
    if (now < atomic_load_explicit(&walk_rest_until_ms, memory_order_relaxed))
        return 1;
    collect_restorers(&restorers);
    enum handler_frame found = unwind_handler_frame(&restorers);
    if (found == HANDLER_FRAME_UNKNOWN && atomic_fetch_add(&walks_in_vain, 1) + 1 >= WALKS_IN_VAIN) {
        atomic_store(&walks_in_vain, 0);
        atomic_store_explicit(&walk_rest_until_ms, now + WALK_REST_MS, memory_order_relaxed);
    } else if (found == HANDLER_FRAME_NONE) {
        atomic_store(&walks_in_vain, 0);
    }
    return found != HANDLER_FRAME_NONE;
}

int handler_may_be_running(void)
{
    stack_t alt;
    if (sys2(SYS_sigaltstack, NULL, &alt) == 0 && (alt.ss_flags & SS_ONSTACK))
        return 1;
    if (!mask_leaves_doubt())
        return 0;
    return __tsan_init || walk_leaves_doubt();
}
