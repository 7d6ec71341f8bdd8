#include <errno.h>
#include <fcntl.h>
#include <stdint.h>

#include "fdwalk.h"
#include "sys.h"

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static long parse_number(const char *s)
{
    long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 1L << 31)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

long fdwalk_dir(int dirfd, long (*visit)(int, const char *, long, void *), void *ctx)
{
    /* 1 KiB: about 40 entries a call; two walks nest in the sharing check,
     * which may run in a signal handler on a small stack */
    char buf[1024];
    long n;
    while ((n = sys3(SYS_getdents64, dirfd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            long number = parse_number(d->d_name);
            off += d->d_reclen;
            if (number < 0)
                continue;
            long stop = visit(dirfd, d->d_name, number, ctx);
            if (stop)
                return stop;
        }
    }
    return n < 0 ? -1 : 0;
}

long fdwalk_path(const char *path, long (*visit)(int, const char *, long, void *), void *ctx)
{
    long dirfd = sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dirfd < 0)
        return -1;
    long ret = fdwalk_dir((int)dirfd, visit, ctx);
    sys1(SYS_close, dirfd);
    return ret;
}

long fdwalk_self(long (*visit)(int, const char *, long, void *), void *ctx)
{
    long dirfd = sys4(SYS_openat, AT_FDCWD, "/proc/thread-self/fd",
                      O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dirfd == -ENOENT)
        return fdwalk_path("/proc/self/fd", visit, ctx);
    if (dirfd < 0)
        return -1;
    long ret = fdwalk_dir((int)dirfd, visit, ctx);
    sys1(SYS_close, dirfd);
    return ret;
}
