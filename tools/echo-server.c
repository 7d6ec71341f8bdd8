/* The seed's reset demo: an echo server whose client handler receives one
 * byte and closes the connection (the HandleTCPClientRST behaviour of the
 * textbook). Whatever else the client sent is still unread at close(), so
 * Linux answers with an RST instead of a FIN.
 *
 * usage: echo-server [-6] [-n CONNECTIONS] PORT */
#include "demo.h"

/* noinline: the shim's log names this function as the closer */
__attribute__((noinline)) static void handle_client_rst(int client)
{
    char byte;
    if (recv(client, &byte, 1, 0) < 0)
        perror("recv");
    close(client); /* the rest of the request is still queued */
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
        fprintf(stderr, "usage: echo-server [-6] [-n CONNECTIONS] PORT\n");
        return 2;
    }
    int port = atoi(argv[optind]);
    int listener = demo_listen(family, port);
    demo_ready(port);
    for (int served = 0; connections < 0 || served < connections; served++) {
        int client = accept(listener, NULL, NULL);
        if (client < 0)
            die("accept");
        handle_client_rst(client);
    }
    close(listener);
    return 0;
}
