/* Normal process exit (exit(), return from main): the kernel closes what is
 * still open, and resets every socket with unread data. A destructor runs
 * before that, so those sockets get the same decision as a close, and the
 * ones to linger on drain within one overall bound.
 * _exit(), fatal signals and exec run no destructor: see the README. */
#include <stdio.h>

#include "fdwalk.h"
#include "internal_fd.h"
#include "norst.h"

static long offer_fd(int dirfd, const char *name, long fd, void *ctx)
{
    (void)name;
    if (fd != dirfd && !internal_fd_is((int)fd))
        batch_offer(ctx, (int)fd);
    return 0;
}

__attribute__((destructor)) static void norst_at_exit(void)
{
    /* Static, so that up to 256 sockets drain as one group. */
    static struct close_event evs[256];
    static struct close_batch batch = {.evs = evs, .capacity = 256};

    if (!norst_acting() || norst_cfg.mode == MODE_OFF)
        return;
    /* exit() would flush stdio after us; output buffered for a socket stream
     * must leave before our FIN, so flush now. */
    fflush(NULL);
    reaper_at_exit();
    batch.path = PATH_EXIT;
    batch.deadline_ms = linger_deadline();
    fdwalk_path("/proc/self/fd", offer_fd, &batch);
    if (batch.count)
        batch_flush(&batch);
    stats_report();
}
