#include <fcntl.h>
#include <stddef.h>

#include "fdwalk.h"
#include "fmt.h"
#include "sys.h"
#include "threads.h"

struct count {
    long alive, except_a, except_b;
};

static long count_live_task(int dirfd, const char *name, long tid, void *ctx)
{
    char path[40], stat[256];
    struct fmtbuf p = {path, 0, sizeof path - 1};
    struct count *c = ctx;
    if (tid == c->except_a || tid == c->except_b)
        return 0;
    fmt_str(&p, name);
    fmt_str(&p, "/stat");
    path[p.len] = '\0';
    long fd = sys4(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC, 0);
    long len = fd < 0 ? -1 : sys3(SYS_read, fd, stat, sizeof stat - 1);
    if (fd >= 0)
        sys1(SYS_close, fd);
    if (len <= 0)
        return 0; /* gone meanwhile */
    /* "TID (comm) S ...": the state follows the last ')'. */
    const char *state = NULL;
    for (long i = 0; i < len; i++)
        if (stat[i] == ')' && i + 2 < len)
            state = &stat[i + 2];
    if (state && *state != 'Z' && *state != 'X')
        c->alive++;
    return 0;
}

long threads_alive_except(long tid_a, long tid_b)
{
    struct count c = {0, tid_a, tid_b};
    if (fdwalk_path("/proc/self/task", count_live_task, &c) < 0)
        return -1;
    return c.alive;
}
