/* Where TCP sockets are born in this process: the sharing check may trust a
 * socket it saw created (and never saw duplicated or spawned across) without
 * scanning /proc. Also where the async reaper starts (never inside a close),
 * and where an fd limit hit gives the reaper's fds back to the application:
 * its accept must not fail because of sockets the shim is lingering on.
 * A socket's birth is read before the call that makes it: a process forked
 * once its fd exists started after that time (see holders.c). */
#include <errno.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "norst.h"

static void before_new_fd(void)
{
    KEEP_ERRNO; /* starting a thread may set errno whatever the outcome */
    if (norst_cfg.async && !reaper_active())
        reaper_start();
}

static int evict_for_emfile(void)
{
    KEEP_ERRNO;
    return reaper_evict_all();
}

/* EMFILE while the reaper holds fds: finish those and try once more, from
 * the errno the application had, so a second try that succeeds leaves it. */
#define RETRY_ON_EMFILE(call)                                                  \
    ({                                                                         \
        int errno_before_ = errno;                                             \
        int fd_ = (call);                                                      \
        if (fd_ < 0 && errno == EMFILE && evict_for_emfile() > 0) {            \
            errno = errno_before_;                                             \
            fd_ = (call);                                                      \
        }                                                                      \
        fd_;                                                                   \
    })


static int (*real_socket)(int, int, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);

NORST_API int socket(int domain, int type, int protocol)
{
    int (*real_fn)(int, int, int) = REAL(real_socket, "socket");
    before_new_fd();
    long birth = holders_birth_clock();
    int fd = RETRY_ON_EMFILE(real_fn(domain, type, protocol));
    if (fd >= 0 && (domain == AF_INET || domain == AF_INET6) &&
        (type & 0xf) == SOCK_STREAM) {
        KEEP_ERRNO;
        fdtab_created(fd, protocol == 0 || protocol == IPPROTO_TCP, birth);
    }
    return fd;
}

NORST_API int accept(int listen_fd, struct sockaddr *addr, socklen_t *addrlen)
{
    int (*real_fn)(int, struct sockaddr *, socklen_t *) = REAL(real_accept, "accept");
    before_new_fd();
    long birth = holders_birth_clock();
    int fd = RETRY_ON_EMFILE(real_fn(listen_fd, addr, addrlen));
    if (fd >= 0) {
        KEEP_ERRNO;
        fdtab_created(fd, fdtab_listener_is_tcp(listen_fd), birth);
    }
    return fd;
}

NORST_API int accept4(int listen_fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
    int (*real_fn)(int, struct sockaddr *, socklen_t *, int) = REAL(real_accept4, "accept4");
    before_new_fd();
    long birth = holders_birth_clock();
    int fd = RETRY_ON_EMFILE(real_fn(listen_fd, addr, addrlen, flags));
    if (fd >= 0) {
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
        reaper_epoll_created(epfd);
    }
    return epfd;
}

NORST_API int epoll_create(int size)
{
    return epoll_created(REAL(real_epoll_create, "epoll_create")(size));
}

NORST_API int epoll_create1(int flags)
{
    return epoll_created(REAL(real_epoll_create1, "epoll_create1")(flags));
}
