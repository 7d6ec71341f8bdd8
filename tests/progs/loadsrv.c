/* Load with signals: THREADS threads share a listener and each serves
 * PER_THREAD connections: read a 4-byte seed, write REPLY bytes derived from
 * it, close with the rest of the request unread. A 1 ms interval timer
 * (SIGALRM, no SA_RESTART) interrupts everything, drains included; its
 * handler, once, closes a TCP socket that has unread data, so that close()
 * runs inside a signal handler. The server's own calls handle EINTR.
 *
 * usage: loadsrv THREADS PER_THREAD REPLY PORT
 * Prints "served=N alarms=A handler_close=R handler_peer=eof|reset|none
 * fds_start=X fds_end=Y". */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/time.h>

#include "../../tools/demo.h"
#include "count_fds.h"

static int listener, reply_len, per_thread;
static _Atomic int served;
static _Atomic int alarms, handler_fd = -1, handler_close = 99;

/* Signals land on any thread: the count and the one close are atomic. */
static void on_alarm(int sig)
{
    int saved = errno;
    (void)sig;
    if (atomic_fetch_add(&alarms, 1) + 1 == 50) {
        int fd = atomic_exchange(&handler_fd, -1);
        if (fd >= 0)
            atomic_store(&handler_close, close(fd)); /* 10 bytes unread on it */
    }
    errno = saved;
}


static int recv_all(int fd, void *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = recv(fd, (char *)buf + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int send_all(int fd, const unsigned char *buf, size_t len)
{
    for (size_t sent = 0; sent < len;) {
        ssize_t n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        sent += (size_t)n;
    }
    return 0;
}

static void *worker(void *arg)
{
    unsigned char *reply = malloc((size_t)reply_len);
    (void)arg;
    for (int i = 0; i < per_thread; i++) {
        int conn;
        while ((conn = accept(listener, NULL, NULL)) < 0 && errno == EINTR)
            ;
        if (conn < 0)
            break;
        uint32_t seed;
        if (recv_all(conn, &seed, sizeof seed) == 0) {
            for (int k = 0; k < reply_len; k++)
                reply[k] = (unsigned char)((seed + (uint32_t)k * 7) & 0xff);
            if (send_all(conn, reply, (size_t)reply_len) == 0)
                atomic_fetch_add(&served, 1);
        }
        close(conn); /* the request's padding is still unread */
    }
    free(reply);
    return NULL;
}

/* The other end of the handler's socket: reads to the end, says how. */
static const char *handler_peer = "none";

static void *handler_peer_thread(void *arg)
{
    int fd = *(int *)arg;
    char buf[64];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            handler_peer = errno == ECONNRESET ? "reset" : "error";
            close(fd);
            return NULL;
        }
    }
    handler_peer = "eof";
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    int threads = atoi(argv[1]);
    per_thread = atoi(argv[2]);
    reply_len = atoi(argv[3]);
    listener = demo_listen(4, atoi(argv[4]));

    /* A connection to ourselves with 10 unread bytes, for the handler. */
    int side = demo_listen(4, atoi(argv[4]) + 1);
    int near = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(atoi(argv[4]) + 1)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(near, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("connect");
    int far = accept(side, NULL, NULL);

    /* One lingering close before the count: in async mode the reaper sets
     * up its epoll set and eventfd at the first one, and they stay. The
     * peer's EOF is already there, so a synchronous drain ends at once. */
    int warm_near = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(warm_near, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("connect");
    int warm_far = accept(side, NULL, NULL);
    if (send(warm_near, "0123456789", 10, 0) != 10)
        die("send");
    shutdown(warm_near, SHUT_WR);
    usleep(10000);
    close(warm_far);
    close(warm_near);
    count_fds(); /* a call that may start the reaper's thread */
    close(side);
    if (send(near, "0123456789", 10, 0) != 10)
        die("send");
    pthread_t peer;
    pthread_create(&peer, NULL, handler_peer_thread, &near);
    usleep(20000);
    atomic_store(&handler_fd, far);

    /* The application's fds: the reaper's epoll set and eventfd, set up
     * by the first close it takes, live at the top of the range. */
    int fds_start = count_fds_below(256);
    struct sigaction act = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &act, NULL);
    struct itimerval every_ms = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &every_ms, NULL);
    demo_ready(atoi(argv[4]));

    pthread_t workers[64];
    if (threads > 64)
        threads = 64;
    for (int i = 0; i < threads; i++)
        pthread_create(&workers[i], NULL, worker, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(workers[i], NULL);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    pthread_join(peer, NULL);
    /* The handler closed one socket, its peer thread the other. In async
     * mode the last drains may still hold the reaper's duplicates (hidden
     * fds, but listed in /proc): give them a moment to end. */
    for (int i = 0; i < 100 && count_fds_below(256) != fds_start - 2; i++)
        usleep(10000);
    printf("served=%d alarms=%d handler_close=%d handler_peer=%s fds_start=%d fds_end=%d\n",
           atomic_load(&served), atomic_load(&alarms), atomic_load(&handler_close), handler_peer, fds_start - 2,
           count_fds_below(256));
    return 0;
}
