/* The walk reads a directory a small chunk at a time, in a function of its
 * own that keeps only the entries' numbers: the getdents buffer is gone from
 * the stack when visit runs, so walks nested inside visits (a range close
 * looking for other holders of a socket across /proc) each cost the stack a
 * few hundred bytes, not a buffer. It may run in a signal handler on a small
 * alternate stack. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* A record takes at least 24 bytes (its 19-byte header, the name and its
 * NUL, 8-aligned), so a chunk holds at most CHUNK / 24 entries. A /proc/PID
 * or fd entry takes 24 or 32: 16-21 a call, where a scan's cost is the
 * readlink or open per entry anyway (a few percent more calls than with a
 * page-sized buffer, for a stack that nested walks can afford). */
#define CHUNK 512
#define CHUNK_ENTRIES (CHUNK / 24)

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

/* The numeric entries of the next chunk into numbers[]; returns how many
 * entries the chunk had (numeric or not), 0 at the end, -1 on error. */
static __attribute__((noinline)) long read_chunk(int dirfd, int *numbers, int *count)
{
    char buf[CHUNK] __attribute__((aligned(8)));
    long n = sys3(SYS_getdents64, dirfd, buf, sizeof buf), entries = 0;
    *count = 0;
    if (n <= 0)
        return n < 0 ? -1 : 0;
    for (long off = 0; off < n; entries++) {
        const struct linux_dirent64 *d = (const struct linux_dirent64 *)(buf + off);
        long number = parse_number(d->d_name);
        off += d->d_reclen;
        if (number >= 0 && number <= INT_MAX && *count < CHUNK_ENTRIES)
            numbers[(*count)++] = (int)number;
    }
    return entries;
}

/* The entry's name again, as the kernel wrote it (no leading zeros). */
static void number_name(char name[12], int v)
{
    char digits[12];
    int n = 0, len = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        name[len++] = digits[--n];
    name[len] = '\0';
}

long fdwalk_dir(int dirfd, long (*visit)(int, const char *, long, void *), void *ctx)
{
    int numbers[CHUNK_ENTRIES], count;
    long entries;
    while ((entries = read_chunk(dirfd, numbers, &count)) > 0) {
        for (int i = 0; i < count; i++) {
            char name[12];
            number_name(name, numbers[i]);
            long stop = visit(dirfd, name, numbers[i], ctx);
            if (stop)
                return stop;
        }
    }
    return entries < 0 ? -1 : 0;
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
