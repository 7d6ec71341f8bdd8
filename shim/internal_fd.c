#include <fcntl.h>
#include <stdatomic.h>

#include "internal_fd.h"
#include "sys.h"

#define MAX_INTERNAL 4

static _Atomic int internal_fds[MAX_INTERNAL] = {-1, -1, -1, -1};

int internal_fd_add(int fd)
{
    for (int i = 0; i < MAX_INTERNAL; i++) {
        int expected = -1;
        if (atomic_compare_exchange_strong(&internal_fds[i], &expected, fd))
            return i;
    }
    return -1;
}

int internal_fd_get(int slot)
{
    return slot < 0 ? -1 : atomic_load_explicit(&internal_fds[slot], memory_order_relaxed);
}

int internal_fd_is(int fd)
{
    for (int i = 0; i < MAX_INTERNAL; i++)
        if (atomic_load_explicit(&internal_fds[i], memory_order_relaxed) == fd)
            return fd >= 0;
    return 0;
}

int internal_fd_lowest_in(unsigned first, unsigned last)
{
    int lowest = -1;
    for (int i = 0; i < MAX_INTERNAL; i++) {
        int fd = atomic_load_explicit(&internal_fds[i], memory_order_relaxed);
        if (fd >= 0 && (unsigned)fd >= first && (unsigned)fd <= last &&
            (lowest < 0 || fd < lowest))
            lowest = fd;
    }
    return lowest;
}

void internal_fd_evacuate(unsigned first, unsigned last)
{
    int fd;
    while ((fd = internal_fd_lowest_in(first, last)) >= 0) {
        /* The lowest free number above the range; readers of the slot see the
         * old or the new fd, and the old one closes only once swapped out.
         * With no room above (the fd limit), the application's wish wins:
         * the shim gives its fd up and stops logging. */
        long minimum = last == ~0u ? -1 : (long)last + 1;
        long moved = minimum < 0 ? -1 : sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, minimum);
        for (int i = 0; i < MAX_INTERNAL; i++) {
            int expected = fd;
            atomic_compare_exchange_strong(&internal_fds[i], &expected, moved < 0 ? -1 : (int)moved);
        }
        sys1(SYS_close, fd);
        if (moved < 0) {
            static const char msg[] = "libnorst: the application took the log's fd and no "
                                      "higher one is free; logging stops\n";
            sys3(SYS_write, 2, msg, sizeof msg - 1);
        }
    }
}
