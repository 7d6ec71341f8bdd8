/* Closes one of everything that is not a connected TCP socket and prints
 * each close's return value and errno, so the output with and without the
 * shim can be compared byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void probe(const char *what, int fd)
{
    errno = 77; /* a successful close must leave errno alone */
    int ret = close(fd);
    printf("%-20s close=%d errno=%d\n", what, ret, errno);
}

int main(void)
{
    int p[2], sv[2];
    char path[] = "/tmp/norst-closeprobe-XXXXXX";

    if (pipe(p) == 0) {
        if (write(p[1], "x", 1) != 1) /* unread bytes in a pipe mean nothing */
            return 1;
        probe("pipe-read-end", p[0]);
        probe("pipe-write-end", p[1]);
    }
    int file = mkstemp(path);
    if (write(file, "data", 4) != 4)
        return 1;
    lseek(file, 0, SEEK_SET);
    unlink(path);
    probe("regular-file", file);
    probe("dev-null", open("/dev/null", O_RDONLY));

    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    bind(udp, (struct sockaddr *)&sa, sizeof sa);
    getsockname(udp, (struct sockaddr *)&sa, &len);
    sendto(udp, "dgram", 5, 0, (struct sockaddr *)&sa, sizeof sa); /* queued to itself */
    probe("udp-with-datagram", udp);

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
        if (write(sv[1], "unix", 4) != 4)
            return 1;
        probe("unix-with-unread", sv[0]);
        probe("unix-peer", sv[1]);
    }

    int listener = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_port = 0;
    bind(listener, (struct sockaddr *)&sa, sizeof sa);
    listen(listener, 4);
    probe("tcp-listening", listener);
    probe("tcp-unconnected", socket(AF_INET6, SOCK_STREAM, 0));

    int twice = open("/dev/null", O_RDONLY);
    probe("first-close", twice);
    probe("double-close", twice);
    probe("negative-fd", -1);
    probe("never-opened", 4000);
    probe("stdin", 0);
    probe("stdin-again", 0);
    return 0;
}
