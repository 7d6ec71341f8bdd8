/* The return addresses of the code that called into the library
 * (unwind.c). */
#ifndef NORST_UNWIND_H
#define NORST_UNWIND_H

#include <stdint.h>

/* Up to max return addresses, innermost first, the first being caller (the
 * return address of the hook that called in, still on this thread's
 * stack). Walks the stack with the objects' DWARF call frame information
 * (.eh_frame); every read of memory goes through a system call that fails
 * instead of faulting. Where it cannot walk (not x86-64, a seccomp filter,
 * a frame it cannot read), the stack ends there: caller alone at least.
 * Returns how many; 0 only when caller is NULL. */
int unwind_stack(const void *caller, const void **pcs, int max);

/* Whether a signal handler's frame is on this thread's stack, by the same
 * walk taken to the stack's end: NONE only when it got there. A handler's
 * frame is one whose unwind entry is a signal frame's, or whose return
 * address is one of restorers (the dispositions' sa_restorer). */
#define RESTORERS_MAX 4
struct restorers {
    uintptr_t at[RESTORERS_MAX];
    int n; /* RESTORERS_MAX + 1: more than fit */
};
void restorers_add(struct restorers *r, uintptr_t restorer);
enum handler_frame { HANDLER_FRAME_NONE, HANDLER_FRAME_FOUND, HANDLER_FRAME_UNKNOWN };
enum handler_frame unwind_handler_frame(const struct restorers *restorers);

#endif
