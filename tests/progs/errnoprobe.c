/* Closes a stream (or a TCP socket with bytes unread: logged-close) in the
 * way named by argv[1], with errno set to a sentinel first, and prints the
 * call's return value and errno: a hook must hand back exactly what the
 * real call would. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SENTINEL 4242

/* A connected loopback pair; the peer's request waits unread at *server. */
static void connected_pair(int *server, int *peer)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(listener, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&sa, &len) != 0)
        _exit(2);
    *peer = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(*peer, (struct sockaddr *)&sa, sizeof sa) != 0)
        _exit(2);
    *server = accept(listener, NULL, NULL);
    close(listener);
    /* The request, then the peer's FIN: a drain ends at once. */
    if (write(*peer, "GET / HTTP/1.0\r\n\r\n", 18) != 18 || shutdown(*peer, SHUT_WR) != 0)
        _exit(2);
    usleep(20000);
}

int main(int argc, char **argv)
{
    int server, peer, ret;
    const char *how = argc > 1 ? argv[1] : "";

    if (strcmp(how, "fclose-memstream") == 0) { /* a stream with no fd */
        static char text[] = "in memory";
        FILE *f = fmemopen(text, sizeof text, "r");
        errno = SENTINEL;
        ret = f ? fclose(f) : -2;
        printf("%s ret=%d errno=%d\n", how, ret, errno);
        return 0;
    }
    if (strcmp(how, "logged-close") == 0) { /* bytes unread: an event to log */
        connected_pair(&server, &peer);
        errno = SENTINEL;
        ret = close(server);
        printf("%s ret=%d errno=%d\n", how, ret, errno);
        return 0;
    }
    if (strcmp(how, "fclose") != 0)
        return 2;
    connected_pair(&server, &peer);
    FILE *f = fdopen(server, "r+"); /* read ahead: its flush cannot seek */
    if (!f || fgetc(f) == EOF)
        return 2;
    errno = SENTINEL;
    ret = fclose(f);
    printf("%s ret=%d errno=%d\n", how, ret, errno);
    return 0;
}
