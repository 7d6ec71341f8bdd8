/* A daemon that closed its stdio: the listener takes fd 0, /dev/null fd 1,
 * and the first client's connection gets fd 2. A second client's request
 * is read in part and its connection closed (a close the shim logs); the
 * first client gets "reply\n", and its connection stays open until the
 * process exits (NORST_STATS=1 reports then).
 *
 * usage: stdio_daemon [keep]   keep: leave stdio as it is (the ordinary
 *                              case: the shim's lines go to stderr) */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "../../tools/demo.h"

static void wait_queued(int fd, int bytes)
{
    int queued = 0;
    while (ioctl(fd, FIONREAD, &queued) == 0 && queued < bytes) {
        struct timespec pause = {0, 5000000};
        nanosleep(&pause, NULL);
    }
}

int main(int argc, char **argv)
{
    int keep = argc > 1 && strcmp(argv[1], "keep") == 0;
    char byte;

    if (!keep)
        close(0);
    int listener = demo_listen(4, 5000);
    printf("listening on port 5000\n");
    fflush(stdout);
    if (!keep) {
        close(1);
        close(2);
        if (open("/dev/null", O_WRONLY) != 1)
            return 4;
    }
    int first = accept(listener, NULL, NULL);
    if (!keep && first != 2)
        return 5;
    int second = accept(listener, NULL, NULL);
    wait_queued(second, 10);
    if (read(second, &byte, 1) != 1)
        return 6;
    close(second); /* 9 bytes unread: an event for the log */
    if (write(first, "reply\n", 6) != 6)
        return 7;
    return 0; /* the first connection is still open: exit closes it */
}
