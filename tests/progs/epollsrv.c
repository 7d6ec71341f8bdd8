/* A single-threaded epoll server that reuses fd numbers under load: the
 * test for the async hazard. Each client sends "REQ <id>\n" plus padding;
 * the server answers "REP <id>\n" after the first line and closes with the
 * padding unread (so the close lingers), while the client goes on sending.
 * If the lingering socket stayed in the server's epoll set, its events would
 * arrive under an fd number that by then names a newer connection: the
 * server counts reads that find nothing (spurious) and requests that do not
 * start with "REQ " (crossed).
 *
 * usage: epollsrv CONNECTIONS PORT
 * Prints "served=N spurious=S crossed=C" at the end. */
#include <fcntl.h>
#include <sys/epoll.h>

#include "../../tools/demo.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: epollsrv CONNECTIONS PORT\n");
        return 2;
    }
    int total = atoi(argv[1]), served = 0, spurious = 0, crossed = 0;
    int listener = demo_listen(4, atoi(argv[2]));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    demo_ready(atoi(argv[2]));

    while (served < total) {
        struct epoll_event events[64];
        int n = epoll_wait(ep, events, 64, 5000);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int conn = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
                if (conn >= 0) {
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = conn};
                    epoll_ctl(ep, EPOLL_CTL_ADD, conn, &cev);
                }
                continue;
            }
            char buf[32], reply[48];
            ssize_t got = recv(fd, buf, sizeof buf - 1, MSG_PEEK);
            if (got < 0) {
                spurious++;
                continue;
            }
            buf[got > 0 ? got : 0] = '\0';
            char *nl = strchr(buf, '\n');
            if (got == 0 || strncmp(buf, "REQ ", 4) != 0) {
                crossed++;
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                continue;
            }
            if (!nl)
                continue; /* the rest of the line is on its way */
            if (recv(fd, buf, (size_t)(nl - buf + 1), 0) < 0)
                continue;
            *nl = '\0';
            int len = snprintf(reply, sizeof reply, "REP %s\n", buf + 4);
            send(fd, reply, (size_t)len, MSG_NOSIGNAL);
            close(fd); /* padding unread; no EPOLL_CTL_DEL, as many servers do */
            served++;
        }
    }
    printf("served=%d spurious=%d crossed=%d\n", served, spurious, crossed);
    return 0;
}
