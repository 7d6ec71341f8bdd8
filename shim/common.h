/* The few macros every layer of the library may use. */
#ifndef NORST_COMMON_H
#define NORST_COMMON_H

#include <errno.h>

#define NORST_API __attribute__((visibility("default")))
#define RETURN_ADDRESS() __builtin_extract_return_addr(__builtin_return_address(0))

/* A hook hands the application exactly the errno of the real call: the
 * shim's own work in a hook (a flush, a lookup, starting the reaper, a
 * close of its own) runs in a block that begins with KEEP_ERRNO, and errno
 * is put back as it was when the block ends, however it ends. */
static inline void keep_errno_restore(const int *saved)
{
    errno = *saved;
}
#define KEEP_ERRNO const int keep_errno_ __attribute__((cleanup(keep_errno_restore))) = errno

#endif
