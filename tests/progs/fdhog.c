/* An application that counts on its fd numbers and its fd limit.
 *
 * usage: fdhog LINGER PORT
 *   accepts LINGER connections and closes each with unread data (its peer
 *   stays silent, so in async mode each lingers on an fd of the reaper's),
 *   then counts how many times open(/dev/null) succeeds before it fails
 *   ("opens=N errno=NAME"), closes them, and does the same with pipe()
 *   ("pipes=N") and epoll_create1() ("epolls=N").
 * usage: fdhog first
 *   prints the fd of its first socket ("socket=FD") and of its first
 *   open() ("open=FD"). */
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include "../../tools/demo.h"

#define MAX_FDS 4096

static int held[MAX_FDS];

static void release(int n)
{
    for (int i = 0; i < n; i++)
        close(held[i]);
}

static const char *errno_name(int e)
{
    return e == EMFILE ? "EMFILE" : e == ENFILE ? "ENFILE" : strerror(e);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "first") == 0) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        printf("socket=%d open=%d\n", fd, open("/dev/null", O_RDONLY));
        return 0;
    }
    if (argc != 3)
        return 2;
    int linger = atoi(argv[1]), n, fds[2];
    int listener = demo_listen(4, atoi(argv[2]));
    demo_ready(atoi(argv[2]));
    for (int i = 0; i < linger; i++) {
        int conn = accept(listener, NULL, NULL), queued = 0;
        if (conn < 0)
            die("accept");
        for (int wait = 0; wait < 2000 && ioctl(conn, FIONREAD, &queued) == 0 && queued < 10; wait++)
            usleep(1000);
        close(conn);
    }
    for (n = 0; n < MAX_FDS && (held[n] = open("/dev/null", O_RDONLY)) >= 0; n++)
        ;
    printf("opens=%d errno=%s\n", n, errno_name(errno));
    release(n);
    for (n = 0; n + 1 < MAX_FDS && pipe(fds) == 0; n += 2) {
        held[n] = fds[0];
        held[n + 1] = fds[1];
    }
    printf("pipes=%d errno=%s\n", n / 2, errno_name(errno));
    release(n);
    for (n = 0; n < MAX_FDS && (held[n] = epoll_create1(EPOLL_CLOEXEC)) >= 0; n++)
        ;
    printf("epolls=%d errno=%s\n", n, errno_name(errno));
    release(n);
    return 0;
}
