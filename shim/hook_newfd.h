/* Calls that make a new fd (hook_newfd.c). */
#ifndef NORST_HOOK_NEWFD_H
#define NORST_HOOK_NEWFD_H

#include <errno.h>

/* Before: a safe place to start the reaper's thread. After an EMFILE while
 * the reaper holds fds: finish those, and 1 to call once more (errno is
 * left exactly as the failed call set it when there is no retry). */
void new_fd_before(void);
int new_fd_retry(void);
#define NEW_FD(call, failed)                                                   \
    ({                                                                         \
        int errno_before_ = errno;                                             \
        new_fd_before();                                                       \
        __auto_type ret_ = (call);                                             \
        if (ret_ == (failed) && new_fd_retry()) {                              \
            errno = errno_before_; /* a retry that succeeds leaves it */       \
            ret_ = (call);                                                     \
        }                                                                      \
        ret_;                                                                  \
    })

#endif
