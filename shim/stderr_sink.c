/* The shim's lines on fd 2 (NORST_LOG=stderr, warnings, the stats line
 * without a log): only into the file that was fd 2 when the library loaded.
 *
 * A daemon that closes its stdio and then accepts a connection may get fd 2
 * for that connection; a line written there lands in a client's stream. So
 * fd 2's identity (device, inode, file type) is taken at load, and a line is
 * written only while fd 2 is still that file; otherwise it is dropped. A
 * socket qualifies only as the very socket fd 2 was at load (a journal
 * stream), never one the application got later.
 *
 * Nor may the write raise SIGPIPE in the host (a pipe whose reader has
 * gone): on a socket, send() with MSG_NOSIGNAL; on a pipe, SIGPIPE is
 * blocked in this thread around the write, so the kernel leaves it pending
 * instead of delivering it, and the one this write raised (the write failed
 * with EPIPE and none was pending before) is taken back with a zero-timeout
 * sigtimedwait before the mask is restored. A SIGPIPE pending before the
 * write is the application's and stays. Polling for POLLERR first would
 * leave a window between the poll and the write. Raw syscalls only: this
 * runs in signal handlers too. */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "stderr_sink.h"
#include "sys.h"

static struct {
    int known; /* fd 2 was open at load */
    dev_t dev;
    ino_t ino;
    mode_t type;
} at_load;

void stderr_remember(void)
{
    struct stat st;
    if (sys2(SYS_fstat, 2, &st) < 0)
        return;
    at_load.dev = st.st_dev;
    at_load.ino = st.st_ino;
    at_load.type = st.st_mode & S_IFMT;
    at_load.known = 1;
}

/* The kernel's sigset for rt_sigprocmask: one bit per signal, 8 bytes. */
#define SIGBIT(sig) (1UL << ((sig) - 1))

static void write_pipe(const struct iovec *iov, int count)
{
    unsigned long block = SIGBIT(SIGPIPE), old = 0, pending = 0;
    if (sys4(SYS_rt_sigprocmask, SIG_BLOCK, &block, &old, sizeof block) < 0)
        return; /* cannot make the write safe: drop the line */
    sys2(SYS_rt_sigpending, &pending, sizeof pending);
    long n = sys3(SYS_writev, 2, iov, count);
    if (n == -EPIPE && !(pending & SIGBIT(SIGPIPE))) {
        struct timespec zero = {0, 0};
        sys4(SYS_rt_sigtimedwait, &block, NULL, &zero, sizeof block);
    }
    sys4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
}

void stderr_writev(const struct iovec *iov, int count)
{
    struct stat st;
    if (!at_load.known || sys2(SYS_fstat, 2, &st) < 0 || st.st_dev != at_load.dev ||
        st.st_ino != at_load.ino || (st.st_mode & S_IFMT) != at_load.type)
        return;
    if (at_load.type == S_IFSOCK) {
        struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)count};
        sys3(SYS_sendmsg, 2, &msg, MSG_NOSIGNAL);
    } else if (at_load.type == S_IFIFO) {
        write_pipe(iov, count);
    } else {
        sys3(SYS_writev, 2, iov, count);
    }
}

void stderr_write(const char *buf, size_t len)
{
    struct iovec iov = {(void *)buf, len};
    stderr_writev(&iov, 1);
}
