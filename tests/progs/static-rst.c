/* A statically linked server that resets its clients (mk/tools.mk links it
 * with -static, so LD_PRELOAD cannot reach it): each connection, it reads
 * one byte and closes with the rest of the request unread. It serves until
 * killed, so that norst trace can still read its /proc entry.
 *
 * usage: static-rst PORT */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: static-rst PORT\n", stderr);
        return 2;
    }
    int one = 1, srv = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(srv, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(srv, 16) < 0) {
        perror("static-rst");
        return 1;
    }
    printf("listening on port %s\n", argv[1]);
    fflush(stdout);
    for (;;) {
        int c = accept(srv, NULL, NULL);
        char byte;
        if (c < 0)
            continue;
        if (recv(c, &byte, 1, 0) < 0)
            perror("recv");
        close(c); /* the rest of the request is still queued: RST */
    }
}
