/* Load-time set-up: symbols, the fd table, configuration, fork tracking. */
#include <pthread.h>

#include "norst.h"

static void after_fork(void)
{
    fdtab_spawned();
}

/* Priority 101: before constructors of ordinary priority in this object, so
 * the hooks are ready as early as a preloaded library can make them. */
__attribute__((constructor(101))) void norst_init(void)
{
    if (norst_ready)
        return;
    real_resolve();
    fdtab_init();
    config_load();
    pthread_atfork(NULL, after_fork, after_fork);
    __atomic_store_n(&norst_ready, 1, __ATOMIC_RELEASE);
}
