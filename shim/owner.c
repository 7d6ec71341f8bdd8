#include <stdatomic.h>

#include "owner.h"
#include "sys.h"

static _Atomic long owner_pid;

void owner_set_self(void)
{
    atomic_store_explicit(&owner_pid, sys0(SYS_getpid), memory_order_relaxed);
}

/* getpid() is never cached by glibc since 2.25, and in a vfork or clone
 * child it is the child's own: it tells the processes apart even where
 * they share every byte of memory. */
int owner_is_self(void)
{
    return sys0(SYS_getpid) == atomic_load_explicit(&owner_pid, memory_order_relaxed);
}
