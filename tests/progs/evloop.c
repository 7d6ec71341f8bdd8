/* A single-threaded epoll server of line requests, the shape of redis or
 * memcached: many connections, one loop, nothing in it may block. A request
 * is "GET <id>\n" and is answered "OK <id>\n"; connections stay open. A
 * request line that does not start with "GET " or does not end within
 * LINE_MAX bytes is answered "ERR ...\n" and the connection closed at once,
 * whatever the peer sent after it still unread: the close the library
 * turns into a drain.
 *
 * usage: evloop PORT      (runs until killed) */
#include <fcntl.h>
#include <sys/epoll.h>

#include "../../tools/demo.h"

#define LINE_MAX_LEN 256
#define MAX_FDS 1024

/* What a connection has sent of its current line. */
static struct pending {
    char buf[LINE_MAX_LEN];
    size_t len;
} pending[MAX_FDS];

static void drop(int ep, int fd, const char *why)
{
    send(fd, why, strlen(why), MSG_NOSIGNAL | MSG_DONTWAIT);
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
}

/* Answers every whole line in fd's buffer; closes fd on a bad one. */
static void serve_lines(int ep, int fd, struct pending *p)
{
    char *line = p->buf, *end = p->buf + p->len, *nl;
    while ((nl = memchr(line, '\n', (size_t)(end - line)))) {
        if (nl - line < 4 || memcmp(line, "GET ", 4) != 0) {
            drop(ep, fd, "ERR bad request\n");
            return;
        }
        char reply[LINE_MAX_LEN + 8];
        int len = snprintf(reply, sizeof reply, "OK %.*s\n", (int)(nl - line - 4), line + 4);
        send(fd, reply, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
        line = nl + 1;
    }
    p->len = (size_t)(end - line);
    memmove(p->buf, line, p->len);
    if (p->len == sizeof p->buf)
        drop(ep, fd, "ERR request too long\n");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: evloop PORT\n");
        return 2;
    }
    int listener = demo_listen(4, atoi(argv[1]));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    fcntl(listener, F_SETFL, O_NONBLOCK);
    demo_ready(atoi(argv[1]));

    for (;;) {
        struct epoll_event events[64];
        int n = epoll_wait(ep, events, 64, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd, conn;
            if (fd == listener) {
                while ((conn = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (conn >= MAX_FDS) {
                        close(conn);
                        continue;
                    }
                    pending[conn].len = 0;
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = conn};
                    epoll_ctl(ep, EPOLL_CTL_ADD, conn, &cev);
                }
                continue;
            }
            struct pending *p = &pending[fd];
            ssize_t got = recv(fd, p->buf + p->len, sizeof p->buf - p->len, 0);
            if (got > 0) {
                p->len += (size_t)got;
                serve_lines(ep, fd, p);
            } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
            }
        }
    }
}
