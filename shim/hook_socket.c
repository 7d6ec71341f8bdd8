/* Where TCP sockets are born in this process: the sharing check may trust a
 * socket it saw created (and never saw duplicated or spawned across) without
 * scanning /proc. */
#include <sys/socket.h>

#include "norst.h"

static int (*real_socket)(int, int, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);

NORST_API int socket(int domain, int type, int protocol)
{
    if (!real_socket)
        real_socket = (int (*)(int, int, int))real_lookup("socket");
    int fd = real_socket(domain, type, protocol);
    if (fd >= 0 && (domain == AF_INET || domain == AF_INET6) &&
        (type & 0xf) == SOCK_STREAM)
        fdtab_created(fd);
    return fd;
}

NORST_API int accept(int listen_fd, struct sockaddr *addr, socklen_t *addrlen)
{
    if (!real_accept)
        real_accept = (int (*)(int, struct sockaddr *, socklen_t *))real_lookup("accept");
    int fd = real_accept(listen_fd, addr, addrlen);
    if (fd >= 0)
        fdtab_created(fd);
    return fd;
}

NORST_API int accept4(int listen_fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    if (!real_accept4)
        real_accept4 = (int (*)(int, struct sockaddr *, socklen_t *, int))real_lookup("accept4");
    int fd = real_accept4(listen_fd, addr, addrlen, flags);
    if (fd >= 0)
        fdtab_created(fd);
    return fd;
}
