/* Accepts N connections, waits until each has its 10-byte request queued,
 * reads 1 byte of each, then drops them all at once.
 *
 * usage: manyconn N HOW PORT
 *   HOW: close_range (close_range(first, ~0U, 0)), closefrom,
 *        syscall (syscall(SYS_close_range, ...)), exit (return from main),
 *        close (close() each in turn, then return from main)
 * Prints "closed N in MS ms" for the range closes. */
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>

#include "../../tools/demo.h"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: manyconn N close_range|closefrom|syscall|exit|close PORT\n");
        return 2;
    }
    int n = atoi(argv[1]), first = -1, conns[1024];
    if (n > 1024)
        n = 1024;
    const char *how = argv[2];
    int listener = demo_listen(4, atoi(argv[3]));
    demo_ready(atoi(argv[3]));
    for (int i = 0; i < n; i++) {
        int conn = accept(listener, NULL, NULL), queued = 0;
        char byte;
        if (conn < 0)
            die("accept");
        if (first < 0)
            first = conn;
        conns[i] = conn;
        for (int wait = 0; wait < 5000 && ioctl(conn, FIONREAD, &queued) == 0 && queued < 10; wait++)
            usleep(1000);
        if (recv(conn, &byte, 1, 0) != 1)
            die("recv");
    }
    long start = now_ms();
    if (strcmp(how, "close_range") == 0)
        close_range((unsigned)first, ~0U, 0);
    else if (strcmp(how, "closefrom") == 0)
        closefrom(first);
    else if (strcmp(how, "syscall") == 0)
        syscall(SYS_close_range, first, ~0U, 0);
    else if (strcmp(how, "close") == 0)
        for (int i = 0; i < n; i++)
            close(conns[i]);
    else
        return 0; /* exit with every connection open */
    printf("closed %d in %ld ms\n", n, now_ms() - start);
    return 0;
}
