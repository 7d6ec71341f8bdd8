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

#include "aside.h"
#include "common.h"
#include "holders.h"
#include "hook_newfd.h"
#include "hook_socket.h"
#include "real.h"
#include "reaper.h"
#include "sharing.h"

NORST_API int socket(int domain, int type, int protocol)
{
    real_socket_fn *real_fn = REAL(socket);
    long birth = holders_birth_clock();
    int fd = NEW_FD(real_fn(domain, type, protocol), -1);
    if (fd >= 0 && norst_acting() && (domain == AF_INET || domain == AF_INET6) &&
        (type & 0xf) == SOCK_STREAM) {
        KEEP_ERRNO;
        fdtab_created(fd, protocol == 0 || protocol == IPPROTO_TCP ? BORN_TCP : BORN_UNKNOWN, birth);
    }
    return fd;
}

NORST_API int accept(int listen_fd, struct sockaddr *addr, socklen_t *addrlen)
{
    real_accept_fn *real_fn = REAL(accept);
    long birth = holders_birth_clock();
    int fd = NEW_FD(real_fn(listen_fd, addr, addrlen), -1);
    if (fd >= 0 && norst_acting()) {
        KEEP_ERRNO;
        fdtab_created(fd, fdtab_listener_is_tcp(listen_fd) ? BORN_ACCEPTED : BORN_UNKNOWN, birth);
    }
    return fd;
}

NORST_API int accept4(int listen_fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    real_accept4_fn *real_fn = REAL(accept4);
    long birth = holders_birth_clock();
    int fd = NEW_FD(real_fn(listen_fd, addr, addrlen, flags), -1);
    if (fd >= 0 && norst_acting()) {
        KEEP_ERRNO;
        fdtab_created(fd, fdtab_listener_is_tcp(listen_fd) ? BORN_ACCEPTED : BORN_UNKNOWN, birth);
    }
    return fd;
}

/* epoll sets the application creates: a socket handed to the reaper is
 * removed from each of them first. */
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
    return epoll_created(NEW_FD(REAL(epoll_create)(size), -1));
}

NORST_API int epoll_create1(int flags)
{
    return epoll_created(NEW_FD(REAL(epoll_create1)(flags), -1));
}
