/* A server on port 5000 that serves one connection in one of the ways that
 * leave another holder of the socket, or that end while something else
 * still runs: the library must never cost that holder its connection, nor
 * the process its exit.
 *
 * usage: holders SCENARIO
 *   vfork-closerange  read 10 of the 100-byte request; a vfork child closes
 *                     every fd with close_range and execs /bin/true; then
 *                     read the other 90 ("rest=N") and reply 1000 bytes
 *   vfork-epoll       a vfork child closes every fd before the connection
 *                     comes; the connection joins an epoll set, is closed
 *                     with 90 bytes unread, and the events the set still
 *                     reports for it are counted ("events=N")
 *   vfork-cgi         a vfork child with the connection on fds 0 and 1
 *                     execl()s this program as "handler"; the parent
 *                     closes its copy at once
 *   clone-serve       a clone() child (no CLONE_FILES) serves the request;
 *                     the parent closes its copy at once
 *   handler           read the 1000-byte request on fd 0, write a
 *                     100000-byte reply on fd 1
 *   cancel-close      read 10 of 100; a thread closes the connection and is
 *                     cancelled while the close drains ("closed=1" when
 *                     the fd is gone after the join)
 *   exit-stdin        a thread waits in fgets(stdin); main exits with 90
 *                     bytes unread
 *   exit-writer       a thread keeps sending a reply; main exits with 90
 *                     bytes unread
 *   closefrom-writer  the same, but main first closes every fd from 3 up
 *                     with closefrom(), then exits
 *   linger-close      read 10 of 100; fill the send queue; SO_LINGER {1,5};
 *                     close ("close-ms=N"), then fork ("fork-ms=N")
 *   shutrd-close      read 1 byte of a request that fills the receive
 *                     buffer; shutdown(SHUT_RDWR); close
 * Replies are the tests' pattern (pattern_byte). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "../../tools/demo.h"
#include "pattern.h"


static void say(const char *fmt, long value)
{
    printf(fmt, value);
    fflush(stdout);
}

/* Blocking send of len pattern bytes; -1 at the first failure. */
static long send_pattern(int fd, size_t len, int flags)
{
    unsigned char buf[16384];
    for (size_t off = 0; off < len;) {
        size_t n = len - off < sizeof buf ? len - off : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern_byte(off + i);
        ssize_t w = send(fd, buf, n, flags);
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return (long)len;
}

/* Read up to len bytes, waiting at most 3 s in all. */
static long read_upto(int fd, long len)
{
    char buf[4096];
    long got = 0;
    struct timeval three = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &three, sizeof three);
    while (got < len) {
        ssize_t n = recv(fd, buf, (size_t)(len - got) < sizeof buf ? (size_t)(len - got) : sizeof buf, 0);
        if (n <= 0)
            break;
        got += n;
    }
    return got;
}

static void wait_queued(int fd, int bytes)
{
    int queued = 0;
    long start = now_ms();
    while (ioctl(fd, FIONREAD, &queued) == 0 && queued < bytes && now_ms() - start < 5000)
        usleep(1000);
}

static void vfork_true(void)
{
    pid_t child = vfork();
    if (child == 0) {
        /* What Python's subprocess does with close_fds=True. */
        close_range(3, ~0U, 0);
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    waitpid(child, NULL, 0);
}

static int serve_clone_child(void *arg)
{
    int conn = *(int *)arg;
    if (read_upto(conn, 1000) != 1000)
        return 1;
    send_pattern(conn, 100000, MSG_NOSIGNAL);
    close(conn);
    return 0;
}

static void *close_in_thread(void *arg)
{
    close(*(int *)arg);
    pthread_testcancel();
    return NULL;
}

static void *read_stdin(void *arg)
{
    char line[64];
    (void)arg;
    if (!fgets(line, sizeof line, stdin))
        line[0] = 0;
    return NULL;
}

static void *keep_sending(void *arg)
{
    send_pattern(*(int *)arg, (size_t)1 << 40, 0); /* no MSG_NOSIGNAL: as many servers */
    return NULL;
}

static int handler(void)
{
    if (read_upto(0, 1000) != 1000)
        return 1;
    return send_pattern(1, 100000, MSG_NOSIGNAL) < 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: holders SCENARIO\n");
        return 2;
    }
    const char *what = argv[1];
    if (strcmp(what, "handler") == 0)
        return handler();

    int listener = demo_listen(4, 5000);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    demo_ready(5000);
    /* A spawn before the connection exists: its close_range in the vfork
     * child must leave the parent's marks (the epoll set) alone. */
    if (strcmp(what, "vfork-epoll") == 0)
        vfork_true();
    int conn = accept(listener, NULL, NULL);
    if (conn < 0)
        die("accept");

    if (strcmp(what, "vfork-closerange") == 0 || strcmp(what, "vfork-epoll") == 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = conn};
        int epoll = strcmp(what, "vfork-epoll") == 0;
        if (epoll)
            epoll_ctl(epfd, EPOLL_CTL_ADD, conn, &ev);
        wait_queued(conn, 100);
        read_upto(conn, 10);
        if (!epoll)
            vfork_true();
        if (epoll) {
            struct epoll_event got[4];
            close(conn);
            say("events=%ld\n", epoll_wait(epfd, got, 4, 300));
            return 0;
        }
        say("rest=%ld\n", read_upto(conn, 90));
        say("replied=%ld\n", send_pattern(conn, 1000, MSG_NOSIGNAL));
        close(conn);
    } else if (strcmp(what, "vfork-cgi") == 0) {
        wait_queued(conn, 1000);
        pid_t child = vfork();
        if (child == 0) {
            dup2(conn, 0);
            dup2(conn, 1);
            execl("/proc/self/exe", "holders", "handler", (char *)NULL);
            _exit(127);
        }
        close(conn);
        int status = -1;
        waitpid(child, &status, 0);
        say("handler-status=%ld\n", status);
    } else if (strcmp(what, "clone-serve") == 0) {
        size_t size = 256 * 1024;
        char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        wait_queued(conn, 1000);
        pid_t child = clone(serve_clone_child, stack + size, SIGCHLD, &conn);
        close(conn);
        int status = -1;
        waitpid(child, &status, 0);
        say("child-status=%ld\n", status);
    } else if (strcmp(what, "cancel-close") == 0) {
        pthread_t thread;
        wait_queued(conn, 100);
        read_upto(conn, 10);
        pthread_create(&thread, NULL, close_in_thread, &conn);
        usleep(300 * 1000);
        pthread_cancel(thread);
        pthread_join(thread, NULL);
        say("closed=%ld\n", fcntl(conn, F_GETFD) < 0 && errno == EBADF);
    } else if (strcmp(what, "exit-stdin") == 0 || strcmp(what, "exit-writer") == 0 ||
               strcmp(what, "closefrom-writer") == 0) {
        pthread_t thread;
        int blocked[2];
        wait_queued(conn, 100);
        read_upto(conn, 10);
        if (strcmp(what, "exit-stdin") == 0) {
            /* stdin a pipe that never gets a byte: fgets holds its lock */
            if (pipe(blocked) == 0)
                dup2(blocked[0], 0);
            pthread_create(&thread, NULL, read_stdin, NULL);
        } else {
            pthread_create(&thread, NULL, keep_sending, &conn);
        }
        usleep(200 * 1000);
        say("exiting=%ld\n", 1);
        if (strcmp(what, "closefrom-writer") == 0) {
            closefrom(3);
            usleep(100 * 1000);
        }
        exit(0);
    } else if (strcmp(what, "linger-close") == 0) {
        struct linger five = {1, 5};
        char fill[65536] = {0};
        wait_queued(conn, 100);
        read_upto(conn, 10);
        while (send(conn, fill, sizeof fill, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
            ;
        setsockopt(conn, SOL_SOCKET, SO_LINGER, &five, sizeof five);
        long start = now_ms();
        close(conn);
        say("close-ms=%ld\n", now_ms() - start);
        usleep(100 * 1000); /* the reaper takes the socket in meanwhile */
        start = now_ms();
        pid_t child = fork();
        if (child == 0)
            _exit(0);
        say("fork-ms=%ld\n", now_ms() - start);
        waitpid(child, NULL, 0);
    } else if (strcmp(what, "shutrd-close") == 0) {
        int queued = 0, before = -1;
        /* until the peer's bytes stop coming: the receive buffer is full */
        while (ioctl(conn, FIONREAD, &queued) == 0 && queued != before) {
            before = queued;
            usleep(100 * 1000);
        }
        read_upto(conn, 1);
        shutdown(conn, SHUT_RDWR);
        say("close=%ld\n", close(conn));
    } else {
        fprintf(stderr, "holders: unknown scenario %s\n", what);
        return 2;
    }
    return 0;
}
