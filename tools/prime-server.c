/* The seed's prime-number protocol, server side. The client sends numbers as
 * 32-bit big-endian integers; the server reads five of them, one at a time,
 * and answers "OK\n" if all are prime, or "ERROR\n" as soon as one is not,
 * then closes. A non-prime second number, or a sixth number, is left unread
 * at close(): Linux resets the connection, and the verdict may be lost.
 *
 * usage: prime-server [-6] [-n CONNECTIONS] PORT */
#include <stdint.h>

#include "demo.h"

static int is_prime(uint32_t n)
{
    if (n < 2)
        return 0;
    for (uint32_t d = 2; (uint64_t)d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

/* noinline: the shim's log names this function as the closer */
__attribute__((noinline)) static void handle_client(int client)
{
    const char *verdict = "OK\n";
    for (int i = 0; i < 5; i++) {
        uint32_t number;
        ssize_t n = recv(client, &number, sizeof number, MSG_WAITALL);
        if (n != (ssize_t)sizeof number) {
            verdict = "ERROR\n";
            break;
        }
        if (!is_prime(ntohl(number))) {
            verdict = "ERROR\n";
            break;
        }
    }
    send(client, verdict, strlen(verdict), MSG_NOSIGNAL);
    close(client);
}

int main(int argc, char **argv)
{
    int family = 4, connections = -1, opt;
    while ((opt = getopt(argc, argv, "6n:")) != -1) {
        if (opt == '6')
            family = 6;
        else if (opt == 'n')
            connections = atoi(optarg);
        else
            return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: prime-server [-6] [-n CONNECTIONS] PORT\n");
        return 2;
    }
    int port = atoi(argv[optind]);
    int listener = demo_listen(family, port);
    demo_ready(port);
    for (int served = 0; connections < 0 || served < connections; served++) {
        int client = accept(listener, NULL, NULL);
        if (client < 0)
            die("accept");
        handle_client(client);
    }
    close(listener);
    return 0;
}
