/* This process's live counters' page (status_page.h): a file in a
 * directory of the effective uid's own, mapped shared, so that "norst
 * status" reads the counters while the close path only adds to them. No
 * fd stays open, no thread, no signal. Raw system calls only: a forked
 * child makes its page inside a close. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "fmt.h"
#include "status_file.h"
#include "sys.h"

#ifndef NORST_VERSION
#define NORST_VERSION "unknown"
#endif

static char page_path[256]; /* empty: no page */
static size_t name_at;      /* where the file's name begins in page_path */
static int page_error;      /* positive errno */
static unsigned long long page_ticks;

const char *status_file_path(void)
{
    return page_path[0] ? page_path : NULL;
}

int status_file_error(void)
{
    return page_error;
}

static long read_start_ticks(unsigned long long *ticks)
{
    char text[512]; /* the fields up to 22 fit, with the longest name */
    long fd = sys4(SYS_openat, AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    long n = sys3(SYS_read, fd, text, sizeof text);
    sys1(SYS_close, fd);
    if (n <= 0 || status_start_ticks(text, (size_t)n, ticks) < 0)
        return -EIO;
    return 0;
}

/* BASE/libnorst-EUID/PID-START into page_path; -ENAMETOOLONG if it does
 * not fit. */
static long build_path(const char *base, unsigned long euid)
{
    long r = read_start_ticks(&page_ticks);
    if (r < 0)
        return r;
    struct fmtbuf b = {page_path, 0, sizeof page_path};
    fmt_str(&b, base);
    fmt_str(&b, "/" STATUS_SUBDIR_PREFIX);
    fmt_ulong(&b, euid);
    name_at = b.len + 1;
    fmt_str(&b, "/");
    fmt_ulong(&b, (unsigned long long)sys0(SYS_getpid));
    fmt_str(&b, "-");
    fmt_ulong(&b, page_ticks);
    return b.len + 1 < b.cap ? 0 : -ENAMETOOLONG;
}

/* The directory, made 0700 if missing, and used only if it is ours and no
 * one else may write to it: anyone may take that name first in a shared
 * /dev/shm. Returns an fd or -errno. */
static long open_own_dir(unsigned long euid)
{
    struct stat st;
    page_path[name_at - 1] = '\0';
    long r = sys3(SYS_mkdirat, AT_FDCWD, page_path, 0700);
    long dirfd = r < 0 && r != -EEXIST
                     ? r
                     : sys4(SYS_openat, AT_FDCWD, page_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    page_path[name_at - 1] = '/';
    if (dirfd >= 0 && (sys2(SYS_fstat, dirfd, &st) < 0 || st.st_uid != euid || (st.st_mode & 077) != 0)) {
        sys1(SYS_close, dirfd);
        return -EPERM;
    }
    return dirfd;
}

/* The new file, filled with zeros by a write: a sparse file on a full
 * tmpfs would deliver SIGBUS at the first counter instead of an error now. */
static long create_file(long dirfd, const char *name)
{
    static const char zeros[STATUS_PAGE_SIZE];
    int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    long fd = sys4(SYS_openat, dirfd, name, flags, 0600);
    if (fd == -EEXIST) { /* ours, from before an exec: same pid, same start */
        sys3(SYS_unlinkat, dirfd, name, 0);
        fd = sys4(SYS_openat, dirfd, name, flags, 0600);
    }
    if (fd < 0)
        return fd;
    long n = sys4(SYS_pwrite64, fd, zeros, sizeof zeros, 0);
    if (n == (long)sizeof zeros)
        return fd;
    sys1(SYS_close, fd);
    return n < 0 ? n : -ENOSPC;
}

static void copy_text(char *to, size_t cap, const char *s)
{
    size_t n = strlen(s);
    memcpy(to, s, n < cap ? n : cap - 1);
}

static void fill(struct status_page *p, unsigned long euid, const char *const *names, int n)
{
    struct timespec now = {0, 0};
    uint64_t magic;
    p->version = STATUS_VERSION;
    p->size = STATUS_PAGE_SIZE;
    p->pid = (int32_t)sys0(SYS_getpid);
    p->uid = (uint32_t)euid;
    p->start_ticks = page_ticks;
    sys2(SYS_clock_gettime, CLOCK_REALTIME, &now);
    p->made_at = now.tv_sec;
    copy_text(p->library, sizeof p->library, NORST_VERSION);
    copy_text(p->mode, sizeof p->mode, config_vars[CONFIG_MODE].words[norst_cfg.mode]);
    p->async = (uint32_t)norst_cfg.async;
    for (int i = 0; i < n && i < STATUS_COUNTERS_MAX; i++)
        copy_text(p->counters[i].name, STATUS_NAME_MAX, names[i]);
    p->ncounters = (uint32_t)n;
    /* Last: a reader passes over a page without its magic. */
    memcpy(&magic, STATUS_MAGIC, sizeof magic);
    __atomic_store_n((uint64_t *)(void *)p->magic, magic, __ATOMIC_RELEASE);
}

/* NORST_STATUS_DIR as it was at load: a forked child makes its page later,
 * when the application may have changed its environment. */
static const char *base_dir(void)
{
    static char copy[192];
    if (!copy[0]) {
        const char *given = norst_cfg.status_dir ? norst_cfg.status_dir : STATUS_DEFAULT_DIR;
        size_t n = strlen(given);
        if (n >= sizeof copy)
            return NULL;
        memcpy(copy, given, n + 1);
    }
    return copy;
}

static int status_off(void)
{
    const char *base = base_dir();
    return base && strcmp(base, "off") == 0;
}

/* The path built and the directory opened: an fd, or -errno (page_error). */
static long open_page_dir(unsigned long euid)
{
    const char *base = base_dir();
    long r = !base ? -ENAMETOOLONG : base[0] == '/' ? build_path(base, euid) : -EINVAL;
    long dirfd = r < 0 ? r : open_own_dir(euid);
    page_error = dirfd < 0 ? (int)-dirfd : 0;
    if (dirfd < 0)
        page_path[0] = '\0';
    return dirfd;
}

int status_file_check(void)
{
    page_path[0] = '\0';
    page_error = 0;
    if (status_off())
        return -1;
    long dirfd = open_page_dir((unsigned long)sys0(SYS_geteuid));
    if (dirfd < 0)
        return (int)dirfd;
    sys1(SYS_close, dirfd);
    return 0;
}

struct status_page *status_file_make(const char *const *names, int n)
{
    unsigned long euid = (unsigned long)sys0(SYS_geteuid);
    long fd = -1, map = -EBADF;
    if (status_off())
        return NULL;
    long dirfd = open_page_dir(euid);
    if (dirfd >= 0)
        fd = create_file(dirfd, page_path + name_at);
    if (fd >= 0) {
        map = raw_syscall6(SYS_mmap, 0, STATUS_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        sys1(SYS_close, fd);
        if (map < 0 && map > -4096)
            sys3(SYS_unlinkat, dirfd, page_path + name_at, 0);
    }
    if (dirfd >= 0)
        sys1(SYS_close, dirfd);
    long err = dirfd < 0 ? dirfd : fd < 0 ? fd : map;
    if (err < 0 && err > -4096) {
        page_path[0] = '\0';
        page_error = (int)-err;
        return NULL;
    }
    fill((struct status_page *)map, euid, names, n);
    return (struct status_page *)map;
}

void status_file_drop(struct status_page *parents)
{
    if (parents)
        sys2(SYS_munmap, parents, STATUS_PAGE_SIZE);
    page_path[0] = '\0';
}

void status_file_remove(void)
{
    if (page_path[0])
        sys3(SYS_unlinkat, AT_FDCWD, page_path, 0);
    page_path[0] = '\0';
}
