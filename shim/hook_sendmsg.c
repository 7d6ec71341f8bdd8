/* A socket sent with SCM_RIGHTS lives on in the receiver: the sender's later
 * close must leave it alone, whatever is queued on it. */
#include <string.h>
#include <sys/socket.h>

#include "aside.h"
#include "common.h"
#include "real.h"
#include "sharing.h"

static void mark_passed_fds(const struct msghdr *msg)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
         c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfds; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            fdtab_given(fd);
        }
    }
}

NORST_API ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    real_sendmsg_fn *real_fn = REAL(sendmsg);
    /* Marked before sending: once sent, the receiver may act at once. */
    if (msg && msg->msg_controllen && norst_acting()) {
        KEEP_ERRNO;
        mark_passed_fds(msg);
    }
    return real_fn(fd, msg, flags);
}
