/* Shared bits of the seed demo programs: listening and connecting sockets
 * for IPv4 or IPv6 on loopback, and reading an exact number of bytes. */
#ifndef NORST_DEMO_H
#define NORST_DEMO_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static inline void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    exit(3);
}

/* A listening socket on the wildcard address of family 4 or 6. */
static inline int demo_listen(int family, int port)
{
    int one = 1, fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == 6) {
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                                  .sin6_addr = IN6ADDR_ANY_INIT};
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            die("bind");
    } else {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_ANY)};
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            die("bind");
    }
    if (listen(fd, 16) < 0)
        die("listen");
    return fd;
}

/* Connect to host (a numeric IPv4 or IPv6 address) and port. */
static inline int demo_connect(const char *host, int port)
{
    struct sockaddr_in sa4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    int fd;
    if (inet_pton(AF_INET, host, &sa4.sin_addr) == 1) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa4, sizeof sa4) < 0)
            die("connect");
    } else if (inet_pton(AF_INET6, host, &sa6.sin6_addr) == 1) {
        fd = socket(AF_INET6, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa6, sizeof sa6) < 0)
            die("connect");
    } else {
        fprintf(stderr, "not a numeric address: %s\n", host);
        exit(3);
    }
    return fd;
}

/* Tell a waiting script that the server listens: one line, flushed. */
static inline void demo_ready(int port)
{
    printf("listening on port %d\n", port);
    fflush(stdout);
}

#endif
