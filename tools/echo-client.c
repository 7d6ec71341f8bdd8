/* The seed's echo client: sends a string and expects it back in full.
 * Reports how the connection ended, as the textbook client does:
 *   "recv() failed or connection closed prematurely: <reason>"
 * Exit status: 0 echoed in full, 1 orderly EOF too early, 2 error (reset).
 *
 * usage: echo-client HOST PORT STRING */
#include "demo.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: echo-client HOST PORT STRING\n");
        return 2;
    }
    const char *message = argv[3];
    size_t want = strlen(message), got = 0;
    int fd = demo_connect(argv[1], atoi(argv[2]));

    if (send(fd, message, want, 0) != (ssize_t)want)
        die("send");
    while (got < want) {
        char buf[256];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            printf("recv() failed or connection closed prematurely: %s\n", strerror(errno));
            return 2;
        }
        if (n == 0) {
            printf("recv() failed or connection closed prematurely: "
                   "orderly EOF after %zu of %zu bytes\n", got, want);
            return 1;
        }
        got += (size_t)n;
    }
    printf("Received: %zu bytes echoed\n", got);
    close(fd);
    return 0;
}
