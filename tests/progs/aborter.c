/* A client that gives up on a download: it connects, reads N bytes of
 * whatever the server streams, and closes with the rest unread; then it
 * stays alive a while (a process exit would end any linger).
 *
 * usage: aborter HOST PORT N LINGER_MS
 * prints "close=RET ms=ELAPSED read=N" */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(int argc, char **argv)
{
    static char buf[65536];
    struct sockaddr_in sa = {.sin_family = AF_INET};

    if (argc != 5)
        return 2;
    sa.sin_port = htons((unsigned short)atoi(argv[2]));
    inet_pton(AF_INET, argv[1], &sa.sin_addr);
    long want = atol(argv[3]), got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("aborter: connect");
        return 1;
    }
    while (got < want) {
        ssize_t n = read(fd, buf, sizeof buf < (size_t)(want - got) ? sizeof buf : (size_t)(want - got));
        if (n <= 0)
            break;
        got += n;
    }
    long start = now_ms();
    int ret = close(fd);
    printf("close=%d ms=%ld read=%ld\n", ret, now_ms() - start, got);
    fflush(stdout);
    usleep((useconds_t)atol(argv[4]) * 1000);
    return 0;
}
