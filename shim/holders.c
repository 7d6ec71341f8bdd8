/* Who else holds a socket: the search through /proc behind sharing_check.
 *
 * Its "nobody" must be sound, because a drain on a socket someone else still
 * holds cuts that holder's connection. So:
 *   - this process is identified by what /proc says (/proc/self, and its own
 *     table through /proc/thread-self), never by getpid(): in a PID
 *     namespace whose /proc is the parent's, getpid() names another process;
 *   - a process whose table we may not read (another user's, or one that is
 *     not dumpable, while we lack CAP_SYS_PTRACE) is a possible holder, unless
 *     it cannot hold the socket at all. A socket the hooks saw created (its
 *     birth is known) reaches another process by inheritance, or by
 *     SCM_RIGHTS from us (sharing.c marks those given): a process that started
 *     before the socket existed inherited nothing. Its start (field 22 of
 *     /proc/PID/stat, clock ticks since boot, readable for anyone's process)
 *     rules it out without reading its fd table, which also keeps the
 *     common scan cheap. A socket of unknown birth has no such filter;
 *   - when the main thread has ended (pthread_exit), /proc/PID/fd reads
 *     empty: one of the process's live threads shows the table instead;
 *   - an io_uring ring holds its registered files: the ring's fdinfo lists
 *     them (io_uring_show_fdinfo(), "UserFiles:" then "%5u: socket:[INO]");
 *   - the search is bounded in time and work; past the bound, "unknown".
 * Raw syscalls and small stack buffers only: this runs inside close(). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>

#include "fdwalk.h"
#include "fmt.h"
#include "holders.h"
#include "sharing.h"
#include "sys.h"

/* The bounds. A close normally costs microseconds; the full scan it
 * replaces took 0.5-1.5 s with 500-1,000 processes of 200 fds. Reading one
 * process's start time costs about 10 us (the kernel builds the whole stat
 * line), one fd link about 1 us: 20 ms lets the birth filter pass over about
 * 2,000 processes, and stops a scan with no filter (a socket of unknown
 * birth) long before it stalls an event loop for long. The work bound (one
 * unit per /proc entry, fd link or fdinfo read) stops a scan the clock
 * cannot, when the clock is coarse. */
#define SCAN_MAX_NS (20L * 1000 * 1000)
#define SCAN_MAX_WORK 50000UL

struct search {
    const struct holder_query *q;
    char target[32];       /* "socket:[INO]", as fd links read */
    unsigned target_len;
    long pid;              /* the process looked at; 0: this one */
    long self_pid;         /* this process, numbered as /proc numbers it */
    long birth_ticks;      /* the socket's birth in clock ticks; 0: unknown */
    long entries;          /* numeric entries of the fd table being walked */
    const char *why;       /* how s.pid holds it; NULL: nobody seen yet */
    const char *doubt;     /* why someone unseen may hold it */
    unsigned long work;
    long deadline_ns;
    int batch_peer;        /* a lower fd of ours in the batch has the socket */
};

/* libc's clock_gettime: the vDSO, no system call (socket() and accept()
 * ask for every new socket's birth); it cannot fail for these clocks, so
 * errno stays as it was. */
static long now_ns(clockid_t clock)
{
    struct timespec ts = {0, 0};
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

long holders_birth_clock(void)
{
    return now_ns(CLOCK_BOOTTIME);
}

/* Counts one unit of work; 1 when a bound is reached. */
static int over_bound(struct search *s)
{
    if (++s->work > SCAN_MAX_WORK ||
        ((s->work & 15) == 0 && now_ns(CLOCK_MONOTONIC) > s->deadline_ns)) {
        s->doubt = "scan-bound";
        return 1;
    }
    return 0;
}

static long parse_decimal(const char *p, const char *end, int *complete)
{
    long v = 0;
    *complete = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
    *complete = p < end;
    return v;
}

static void proc_path(char *buf, size_t cap, long pid, long tid, const char *leaf)
{
    struct fmtbuf b = {buf, 0, cap - 1};
    fmt_str(&b, "/proc/");
    fmt_ulong(&b, (unsigned long long)pid);
    if (tid) {
        fmt_str(&b, "/task/");
        fmt_ulong(&b, (unsigned long long)tid);
    }
    fmt_str(&b, leaf);
    buf[b.len] = 0;
}

/* When pid started, in clock ticks since boot; -1 unknown, -2 gone.
 * Not inlined: its buffer must not stay on the stack under the fd walk. */
__attribute__((noinline)) static long start_ticks(long pid)
{
    char buf[256], path[40];
    proc_path(path, sizeof path, pid, 0, "/stat");
    long fd = sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return fd == -ENOENT || fd == -ESRCH ? -2 : -1;
    long n = sys3(SYS_read, fd, buf, sizeof buf);
    sys1(SYS_close, fd);
    if (n <= 0)
        return n == -ESRCH ? -2 : -1;
    /* "pid (comm) S ppid ...": comm may hold anything, so count from the
     * last ')'; field 22 follows the 20th space after it. */
    const char *end = buf + n, *p = end;
    while (p > buf && p[-1] != ')')
        p--;
    if (p == buf)
        return -1;
    for (int spaces = 0; p < end && spaces < 20; p++)
        spaces += *p == ' ';
    int complete;
    long ticks = parse_decimal(p, end, &complete);
    return complete ? ticks : -1;
}

/* A ring's registered files, from its fdinfo: 1 if the socket is one of
 * them, 0 if not; no "UserFiles:" section (the kernel leaves it out while the
 * ring's lock is busy) leaves a doubt. */
static long ring_holds(struct search *s, int fd_dir, const char *name)
{
    char path[32], buf[128], line[48];
    size_t ll = 0;
    int in_files = 0, seen_files = 0;
    struct fmtbuf b = {path, 0, sizeof path - 1};
    fmt_str(&b, "../fdinfo/");
    fmt_str(&b, name);
    path[b.len] = 0;
    long fd = sys4(SYS_openat, fd_dir, path, O_RDONLY | O_CLOEXEC, 0);
    long n = fd < 0 ? -1 : 0, found = 0;
    while (fd >= 0 && !found && (n = sys3(SYS_read, fd, buf, sizeof buf)) > 0) {
        if (over_bound(s))
            break;
        for (long i = 0; i < n && !found; i++) {
            if (buf[i] != '\n') {
                if (ll < sizeof line)
                    line[ll++] = buf[i];
                continue;
            }
            if (ll >= 10 && memcmp(line, "UserFiles:", 10) == 0) {
                in_files = seen_files = 1;
            } else if (in_files && ll < sizeof line) {
                /* "%5u: path" lines; another section's title ends them */
                char *colon = memchr(line, ':', ll);
                if (line[0] != ' ' && (line[0] < '0' || line[0] > '9'))
                    in_files = 0;
                else if (colon && line + ll - (colon + 2) == (long)s->target_len &&
                         memcmp(colon + 2, s->target, s->target_len) == 0)
                    found = 1;
            }
            ll = 0;
        }
    }
    if (fd >= 0)
        sys1(SYS_close, fd);
    if (found) {
        s->why = "io-uring";
        return 1;
    }
    if (n < 0 || !seen_files)
        s->doubt = "io-uring-unreadable";
    return 0;
}

static int in_batch(const struct holder_query *q, long fd)
{
    return q->batch && (unsigned long)fd >= q->first && (unsigned long)fd <= q->last;
}

static long visit_link(int dirfd, const char *name, long fd, void *ctx)
{
    static const char ring[] = "anon_inode:[io_uring]";
    struct search *s = ctx;
    char link[40];

    s->entries++;
    if (s->pid == 0 && (fd == dirfd || fd == s->q->fd))
        return 0;
    if (over_bound(s))
        return 1;
    long len = sys4(SYS_readlinkat, dirfd, name, link, sizeof link);
    if (len == -EACCES || len == -EPERM) {
        s->doubt = "holder-unreadable";
        return 0;
    }
    if (len == (long)s->target_len && memcmp(link, s->target, s->target_len) == 0) {
        if (s->pid == 0 && in_batch(s->q, fd)) {
            /* closed with this one: not a holder, and the lowest such fd
             * makes the one decision for the socket */
            s->batch_peer = fd < s->q->fd;
            return s->batch_peer;
        }
        s->why = s->pid ? "another-process" : "another-fd";
        return 1;
    }
    if (len == (long)sizeof ring - 1 && memcmp(link, ring, sizeof ring - 1) == 0)
        return ring_holds(s, dirfd, name);
    return 0;
}

static long visit_other_task(int dirfd, const char *name, long tid, void *ctx)
{
    (void)dirfd;
    (void)name;
    return tid != *(long *)ctx ? tid : 0;
}

/* Walks one fd table of pid (tid: one of its threads, or 0); 1 if the
 * search ends here. */
static long walk_table(struct search *s, long pid, long tid)
{
    char path[64];
    proc_path(path, sizeof path, pid, tid, "/fd");
    long dirfd = sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dirfd == -ENOENT || dirfd == -ESRCH)
        return 0; /* gone: its references went with it */
    if (dirfd < 0) {
        s->doubt = "holder-unreadable";
        return 0;
    }
    s->pid = pid;
    s->entries = 0;
    long ret = fdwalk_dir((int)dirfd, visit_link, s);
    sys1(SYS_close, dirfd);
    if (ret < 0)
        s->doubt = "holder-unreadable";
    return ret > 0;
}

static long visit_pid(int dirfd, const char *name, long pid, void *ctx)
{
    struct search *s = ctx;
    char path[40];
    (void)dirfd;
    (void)name;
    if (pid == s->self_pid)
        return 0;
    if (over_bound(s))
        return 1;
    if (s->birth_ticks) {
        long started = start_ticks(pid);
        /* started <= birth_ticks - 2 means it started more than a tick
         * before the socket existed (ticks are rounded down) */
        if (started == -2 || (started >= 0 && started + 2 <= s->birth_ticks))
            return 0;
    }
    if (walk_table(s, pid, 0))
        return 1;
    if (s->entries == 0) { /* main thread ended? a live thread shows the table */
        proc_path(path, sizeof path, pid, 0, "/task");
        long tid = fdwalk_path(path, visit_other_task, &pid);
        if (tid > 0 && walk_table(s, pid, tid))
            return 1;
    }
    return 0;
}

/* Our newest children first (this thread's, which /proc/thread-self/children
 * lists oldest first): the other holder of a socket that a fork-per-
 * connection server closes is the child it has just forked. Found here, the
 * walk over every process is spared; not found, that walk still runs.
 * 1: stop. */
#define NEWEST_CHILDREN 8
static long visit_children(struct search *s)
{
    char buf[64];
    long newest[NEWEST_CHILDREN], count = 0, pid = 0, n;
    long fd = sys4(SYS_openat, AT_FDCWD, "/proc/thread-self/children", O_RDONLY | O_CLOEXEC, 0);
    while (fd >= 0 && (n = sys3(SYS_read, fd, buf, sizeof buf)) > 0) {
        for (long i = 0; i < n; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                pid = pid * 10 + (buf[i] - '0');
            } else if (pid) {
                newest[count++ % NEWEST_CHILDREN] = pid;
                pid = 0;
            }
        }
    }
    if (fd >= 0)
        sys1(SYS_close, fd);
    for (long i = 1; i <= count && i <= NEWEST_CHILDREN; i++)
        if (visit_pid(-1, NULL, newest[(count - i) % NEWEST_CHILDREN], s))
            return 1;
    return 0;
}

/* This process's pid as /proc numbers it; 0 if /proc does not show us. */
static long proc_self_pid(void)
{
    char link[24];
    long len = sys4(SYS_readlinkat, AT_FDCWD, "/proc/self", link, sizeof link);
    int complete;
    if (len <= 0 || len >= (long)sizeof link)
        return 0;
    link[len] = ' ';
    long pid = parse_decimal(link, link + len + 1, &complete);
    return complete && pid > 0 ? pid : 0;
}

static enum share_verdict doubt(const char *why_text, const char **why)
{
    *why = why_text;
    return SHARE_UNKNOWN;
}

enum share_verdict holders_find(const struct holder_query *q, int *holder_pid, const char **why)
{
    struct search s = {.q = q};
    struct fmtbuf t = {s.target, 0, sizeof s.target};
    fmt_str(&t, "socket:[");
    fmt_ulong(&t, q->ino);
    fmt_str(&t, "]");
    s.target_len = (unsigned)t.len;
    s.deadline_ns = now_ns(CLOCK_MONOTONIC) + SCAN_MAX_NS;

    long ret = fdwalk_self(visit_link, &s);
    if (s.batch_peer)
        return SHARE_BATCH_PEER;
    if (s.why) {
        *holder_pid = (int)sys0(SYS_getpid);
        *why = s.why;
        return SHARE_SHARED;
    }
    if (ret < 0)
        return doubt("proc-unreadable", why);
    if (q->self_only)
        return s.doubt ? doubt(s.doubt, why) : SHARE_SOLE;

    s.self_pid = proc_self_pid();
    if (!s.self_pid)
        return doubt("proc-self-unknown", why);
    if (q->birth_ns) {
        long hz = (long)getauxval(AT_CLKTCK);
        s.birth_ticks = q->birth_ns / (1000000000L / (hz > 0 ? hz : 100));
    }
    long ret_all = visit_children(&s) ? 0 : fdwalk_path("/proc", visit_pid, &s);
    if (s.why) {
        *holder_pid = (int)s.pid;
        *why = s.why;
        return SHARE_SHARED;
    }
    if (ret_all < 0)
        return doubt("proc-unreadable", why);
    return s.doubt ? doubt(s.doubt, why) : SHARE_SOLE;
}
