/* System calls made through libc's syscall(): the shim takes SYS_close and
 * SYS_close_range and must pass every other number through untouched, with
 * all six arguments. Prints one line per call for comparison. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long ret)
{
    printf("%-24s ret=%ld errno=%d\n", what, ret, ret < 0 ? errno : 0);
}

int main(void)
{
    int p[2];
    char buf[8] = {0};
    show("getpid==getpid()", syscall(SYS_getpid) == getpid());
    show("pipe2", syscall(SYS_pipe2, p, O_CLOEXEC));
    show("write", syscall(SYS_write, p[1], "abc", 3));
    show("read", syscall(SYS_read, p[0], buf, sizeof buf));
    show("read-data-ok", strcmp(buf, "abc") == 0);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    struct timespec zero = {0, 0};
    show("ppoll-5-args", syscall(SYS_ppoll, &pfd, 1, &zero, NULL, 8));
    void *map = (void *)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    show("mmap-6-args-usable", map != MAP_FAILED && (((char *)map)[0] = 1) == 1);
    show("dup3-flags", syscall(SYS_dup3, p[0], 50, O_CLOEXEC));
    show("fcntl-cloexec", syscall(SYS_fcntl, 50, F_GETFD));
    show("close-pipe", syscall(SYS_close, 50));
    show("close-bad", syscall(SYS_close, 50));
    show("close_range-bad-flags", syscall(SYS_close_range, 3, 2, 0));
    show("unknown-number", syscall(100000));
    return 0;
}
