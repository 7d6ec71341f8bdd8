/* Load-time set-up: symbols, the fd table, configuration, the live
 * counters, fork tracking. */
#include <pthread.h>

#include "aside.h"
#include "config.h"
#include "identity.h"
#include "internal_fd.h"
#include "load_line.h"
#include "owner.h"
#include "real.h"
#include "reaper.h"
#include "sharing.h"
#include "stats.h"
#include "stderr_sink.h"

/* The reaper's lock is held across fork, so the child never copies a
 * socket the reaper is half-way through closing, nor one a handoff has
 * duplicated but not yet marked. */
static void before_fork(void)
{
    reaper_fork(FORK_PREPARE);
}

static void after_fork_parent(void)
{
    fdtab_spawned();
    reaper_fork(FORK_PARENT);
}

static void after_fork_child(void)
{
    owner_set_self();
    fdtab_spawned();
    fdtab_after_fork_child();
    internal_fd_after_fork_child();
    reaper_fork(FORK_CHILD);
    stats_after_fork_child();
}

/* Priority 101: before constructors of ordinary priority in this object, so
 * the hooks are ready as early as a preloaded library can make them. */
__attribute__((constructor(101))) static void norst_init(void)
{
    if (norst_ready)
        return;
    owner_set_self();
    stderr_remember(); /* before any warning */
    real_bind_at_load();
    fdtab_init();
    identity_load(); /* before the log can write an event */
    config_load();
    stats_load();
    load_line_write();
    if (norst_cfg.async)
        reaper_load();
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    __atomic_store_n(&norst_ready, 1, __ATOMIC_RELEASE);
}
