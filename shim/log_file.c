/* NORST_LOG=FILE across rotation, without a signal (signals are the
 * application's): before each write the path is stat()ed and compared with
 * the open file; once it names another file, that file is opened and
 * dup3()ed onto the log's number. The number never changes, so a thread
 * writing meanwhile writes whole lines to the old file or the new one, never
 * to a number the application may have reused, and the fd table of hidden
 * fds (internal_fd.c) needs no update.
 *
 * Every line, not once a second: the two system calls cost about a
 * microsecond (docs/PERFORMANCE.md), against a drain of milliseconds behind
 * each event; and no line lands in the old file once the new one exists. The path is made absolute at load, so a
 * daemon's later chdir() does not move it; after a chroot() or a drop of
 * privileges the path may no longer resolve or open: the old file is kept,
 * and a failed open is said once and not retried for that same new file.
 *
 * When the path names nothing (moved away, nothing created yet) the old
 * file is kept too: creating one here could race logrotate's own create. */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "error_text.h"
#include "fmt.h"
#include "log_file.h"
#include "stderr_sink.h"
#include "sys.h"

/* O_NOFOLLOW: a symlink planted at the path is refused, not followed. */
#define LOG_FILE_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)

/* Set at load, read only after. Empty: the path cannot be followed. */
static char path_at_load[PATH_MAX];
/* The file a reopen last failed on, not to be retried on every event. */
static struct {
    dev_t dev;
    ino_t ino;
} refused;

long log_file_open(const char *path)
{
    long fd = sys4(SYS_openat, AT_FDCWD, path, LOG_FILE_FLAGS, 0600);
    size_t len = strlen(path), dir = 0;
    if (fd < 0)
        return fd;
    if (path[0] != '/') {
        long n = sys2(SYS_getcwd, path_at_load, sizeof path_at_load);
        if (n <= 0)
            return fd; /* cwd unreachable: keep the file, do not follow it */
        dir = strlen(path_at_load);
        path_at_load[dir++] = '/';
    }
    if (dir + len >= sizeof path_at_load) {
        path_at_load[0] = '\0';
        return fd;
    }
    memcpy(path_at_load + dir, path, len + 1);
    return fd;
}

/* Its own frame, never inlined: the line is not on the stack of every check. */
__attribute__((noinline)) static void say_refused(long err)
{
    static int said;
    char line[512];
    struct fmtbuf b = {line, 0, sizeof line - 1}; /* room for the newline */
    if (__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
        return;
    fmt_str(&b, "libnorst: NORST_LOG=");
    fmt_json_str(&b, path_at_load);
    fmt_str(&b, " names a new file that cannot be opened (");
    fmt_error(&b, (int)-err);
    fmt_str(&b, "); still writing to the old one");
    line[b.len++] = '\n';
    stderr_write(line, b.len);
}

void log_file_follow(int fd)
{
    struct stat at_path, open_file;
    if (!path_at_load[0] || sys4(SYS_newfstatat, AT_FDCWD, path_at_load, &at_path, 0) < 0 ||
        sys2(SYS_fstat, fd, &open_file) < 0)
        return;
    if (at_path.st_dev == open_file.st_dev && at_path.st_ino == open_file.st_ino)
        return;
    if (at_path.st_dev == refused.dev && at_path.st_ino == refused.ino)
        return;
    long fresh = sys4(SYS_openat, AT_FDCWD, path_at_load, LOG_FILE_FLAGS, 0600);
    if (fresh < 0) {
        refused.dev = at_path.st_dev;
        refused.ino = at_path.st_ino;
        say_refused(fresh);
        return;
    }
    sys3(SYS_dup3, fresh, fd, O_CLOEXEC);
    sys1(SYS_close, fresh);
}
