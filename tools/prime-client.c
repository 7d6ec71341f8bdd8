/* The seed's prime-number protocol, client side: sends every number given,
 * then reads the verdict until the server closes, and says how it closed.
 * Exit status: 0 verdict read and orderly EOF, 2 connection reset.
 *
 * usage: prime-client HOST PORT NUMBER... */
#include <stdint.h>

#include "demo.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: prime-client HOST PORT NUMBER...\n");
        return 2;
    }
    /* All numbers in one send(): they arrive together, so whatever the
     * server leaves unread is in its receive queue when it closes. */
    uint32_t numbers[64];
    size_t count = 0;
    for (int i = 3; i < argc && count < 64; i++)
        numbers[count++] = htonl((uint32_t)strtoul(argv[i], NULL, 10));
    int fd = demo_connect(argv[1], atoi(argv[2]));
    if (send(fd, numbers, count * sizeof numbers[0], MSG_NOSIGNAL) != (ssize_t)(count * sizeof numbers[0]))
        die("send");
    char reply[64];
    size_t got = 0;
    for (;;) {
        ssize_t n = recv(fd, reply + got, sizeof reply - 1 - got, 0);
        if (n < 0) {
            reply[got] = '\0';
            printf("verdict: %s\n", got ? strtok(reply, "\n") : "(none)");
            printf("recv() failed or connection closed prematurely: %s\n", strerror(errno));
            return 2;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    reply[got] = '\0';
    printf("verdict: %s\n", got ? strtok(reply, "\n") : "(none)");
    printf("connection closed in order (EOF)\n");
    close(fd);
    return 0;
}
