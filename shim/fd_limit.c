/* RLIMIT_NOFILE with a raw getrlimit: asked on the close path too, which
 * may run in a signal handler. */
#include <sys/resource.h>

#include "fd_limit.h"
#include "sys.h"

static unsigned long capped(rlim_t limit, unsigned long cap)
{
    return limit < (rlim_t)cap ? (unsigned long)limit : cap; /* RLIM_INFINITY: cap */
}

unsigned long fd_limit_ever(unsigned long cap)
{
    struct rlimit rl;
    return sys2(SYS_getrlimit, RLIMIT_NOFILE, &rl) == 0 ? capped(rl.rlim_max, cap) : cap;
}

unsigned long fd_limit_now(unsigned long cap)
{
    struct rlimit rl;
    return sys2(SYS_getrlimit, RLIMIT_NOFILE, &rl) == 0 ? capped(rl.rlim_cur, cap) : cap;
}
