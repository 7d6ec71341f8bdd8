/* The return addresses of the code that called into the library
 * (unwind.c). */
#ifndef NORST_UNWIND_H
#define NORST_UNWIND_H

/* Up to max return addresses, innermost first, the first being caller (the
 * return address of the hook that called in, still on this thread's
 * stack). Walks the stack with the objects' DWARF call frame information
 * (.eh_frame); every read of memory goes through a system call that fails
 * instead of faulting. Where it cannot walk (not x86-64, a seccomp filter,
 * a frame it cannot read), the stack ends there: caller alone at least.
 * Returns how many; 0 only when caller is NULL. */
int unwind_stack(const void *caller, const void **pcs, int max);

#endif
