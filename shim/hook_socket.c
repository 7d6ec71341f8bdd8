/* Where TCP sockets are born in this process: the sharing check may trust a
 * socket it saw created (and never saw duplicated or spawned across) without
 * scanning /proc. Like every call that makes an fd (NEW_FD), these may start
 * the async reaper's thread and give the reaper's fds back at EMFILE.
 * A socket's birth is read before the call that makes it: a process forked
 * once its fd exists started after that time (see holders.c). */
#include <errno.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "norst.h"
#include "reaper.h"

static int (*real_socket)(int, int, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);

NORST_API int socket(int domain, int type, int protocol)
{
    int (*real_fn)(int, int, int) = REAL(real_socket, "socket");
    long birth = holders_birth_clock();
    int fd = NEW_FD(real_fn(domain, type, protocol), -1);
    if (fd >= 0 && norst_acting() && (domain == AF_INET || domain == AF_INET6) &&
        (type & 0xf) == SOCK_STREAM) {
        KEEP_ERRNO;
        fdtab_created(fd, protocol == 0 || protocol == IPPROTO_TCP, birth);
    }
    return fd;
}

NORST_API int accept(int listen_fd, struct sockaddr *addr, socklen_t *addrlen)
{
    int (*real_fn)(int, struct sockaddr *, socklen_t *) = REAL(real_accept, "accept");
    long birth = holders_birth_clock();
    int fd = NEW_FD(real_fn(listen_fd, addr, addrlen), -1);
    if (fd >= 0 && norst_acting()) {
        KEEP_ERRNO;
        fdtab_created(fd, fdtab_listener_is_tcp(listen_fd), birth);
    }
    return fd;
}

NORST_API int accept4(int listen_fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    int (*real_fn)(int, struct sockaddr *, socklen_t *, int) = REAL(real_accept4, "accept4");
    long birth = holders_birth_clock();
    int fd = NEW_FD(real_fn(listen_fd, addr, addrlen, flags), -1);
    if (fd >= 0 && norst_acting()) {
        KEEP_ERRNO;
        fdtab_created(fd, fdtab_listener_is_tcp(listen_fd), birth);
    }
    return fd;
}

/* epoll sets the application creates: a socket handed to the reaper is
 * removed from each of them first. */
static int (*real_epoll_create)(int);
static int (*real_epoll_create1)(int);

int epoll_created(int epfd)
{
    if (epfd >= 0) {
        KEEP_ERRNO;
        fdtab_mark_epoll(epfd);
        reaper_epoll(epfd, EPOLL_SET_CREATED);
    }
    return epfd;
}

NORST_API int epoll_create(int size)
{
    return epoll_created(NEW_FD(REAL(real_epoll_create, "epoll_create")(size), -1));
}

NORST_API int epoll_create1(int flags)
{
    return epoll_created(NEW_FD(REAL(real_epoll_create1, "epoll_create1")(flags), -1));
}
