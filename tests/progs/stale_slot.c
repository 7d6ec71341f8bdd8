/* A close the shim never sees, then a different socket on the same number.
 *
 * A TCP socket made with socket() (the shim notes it was born TCP), closed
 * with a raw system call instruction, as Go-style runtimes or inline
 * assembly would; then a UDP socket made the same unseen way gets the same
 * number, and a datagram waits in its queue. Its close() through libc must
 * be handled as what it is now: a UDP socket, left alone.
 *
 * Prints "same-number=0|1" and "close=RET errno=NAME". */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../shim/sys.h"

int main(void)
{
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    if (tcp < 0) {
        perror("socket");
        return 1;
    }
    raw_syscall6(SYS_close, tcp, 0, 0, 0, 0, 0);
    long udp = raw_syscall6(SYS_socket, AF_INET, SOCK_DGRAM, 0, 0, 0, 0);
    printf("same-number=%d\n", udp == tcp);
    if (udp < 0)
        return 1;

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (bind((int)udp, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        getsockname((int)udp, (struct sockaddr *)&addr, &len) < 0 ||
        sendto((int)udp, "datagram", 8, 0, (struct sockaddr *)&addr, sizeof addr) != 8) {
        perror("udp");
        return 1;
    }
    usleep(10000); /* loopback delivers at once; a little slack */
    errno = 0;
    int ret = close((int)udp);
    printf("close=%d errno=%s\n", ret, errno == 0 ? "0" : strerror(errno));
    return 0;
}
