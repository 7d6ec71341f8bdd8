/* A preloaded library whose constructor closes fds, possibly before
 * libnorst's constructor has run: it records what close returned. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((constructor)) static void close_early(void)
{
    int fd = open("/dev/null", O_RDONLY);
    int first = close(fd);
    errno = 0;
    int second = close(fd);
    int second_errno = errno;
    int negative = close(-1);
    char line[128];
    int len = snprintf(line, sizeof line, "early: %d %d/%d %d\n", first, second, second_errno, negative);
    if (write(2, line, (size_t)len) < 0)
        _exit(9);
}
