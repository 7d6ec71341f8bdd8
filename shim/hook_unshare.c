/* unshare() and setns() refuse a multi-threaded process for some flags
 * (EINVAL): a new user namespace (ksys_unshare adds CLONE_THREAD, which
 * check_unshare_flags refuses unless thread_group_empty()), CLONE_THREAD,
 * CLONE_SIGHAND, CLONE_VM; joining a user namespace (userns_install), a
 * mount namespace (mntns_install: fs shared by threads) or a time namespace
 * (timens_install). The reaper's thread must not be why: it ends first,
 * its sockets finished, and starts again at the next handoff that needs it. */
#include <sched.h>

#include "aside.h"
#include "common.h"
#include "hook_unshare.h"
#include "real.h"
#include "reaper.h"

#define REFUSED_IF_THREADED (CLONE_NEWUSER | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)
#define JOIN_REFUSED_IF_THREADED (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWTIME)

enum namespace_hold namespace_before(long flags, enum namespace_call call)
{
    /* setns(fd, 0) joins whatever namespace fd is. */
    int needs_single = call == NS_SETNS ? flags == 0 || (flags & JOIN_REFUSED_IF_THREADED)
                            : (flags & REFUSED_IF_THREADED) != 0;
    if (!needs_single)
        return NAMESPACE_NOTHING_HELD;
    reaper_release(RELEASE_THREAD);
    return NAMESPACE_THREAD_HELD;
}

void namespace_after(enum namespace_hold held)
{
    if (held == NAMESPACE_THREAD_HELD)
        reaper_resume();
}

NORST_API int unshare(int flags)
{
    enum namespace_hold held = namespace_before(flags, NS_UNSHARE);
    int ret = REAL(unshare)(flags);
    KEEP_ERRNO;
    namespace_after(held);
    return ret;
}

NORST_API int setns(int fd, int nstype)
{
    enum namespace_hold held = namespace_before(nstype, NS_SETNS);
    int ret = REAL(setns)(fd, nstype);
    KEEP_ERRNO;
    namespace_after(held);
    return ret;
}
