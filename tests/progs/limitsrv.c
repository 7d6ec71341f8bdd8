/* An application near its fd limit (run it with ulimit -n 48): it holds
 * open files up to fd 24, accepts LINGER connections and closes each with
 * unread data while its peer stays silent (so they linger, in async mode,
 * on fds of the reaper's), then accepts HOLD more and keeps them all open:
 * more fds than the limit leaves once the lingering ones are counted.
 * Prints "accept-failures=K".
 *
 * usage: limitsrv LINGER HOLD PORT */
#include <fcntl.h>
#include <sys/ioctl.h>

#include "../../tools/demo.h"

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    int linger = atoi(argv[1]), hold = atoi(argv[2]), failures = 0;
    int listener = demo_listen(4, atoi(argv[3]));
    while (open("/dev/null", O_RDONLY) < 24)
        ;
    demo_ready(atoi(argv[3]));
    for (int i = 0; i < linger + hold; i++) {
        int conn = accept(listener, NULL, NULL), queued = 0;
        if (conn < 0) {
            failures++;
            fprintf(stderr, "accept: %s\n", strerror(errno));
            continue;
        }
        if (i >= linger)
            continue; /* held open to the end */
        for (int wait = 0; wait < 2000 && ioctl(conn, FIONREAD, &queued) == 0 && queued < 10; wait++)
            usleep(1000);
        char byte;
        if (recv(conn, &byte, 1, 0) != 1)
            failures++;
        close(conn);
    }
    printf("accept-failures=%d\n", failures);
    return 0;
}
