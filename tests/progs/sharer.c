/* Servers whose connected socket has more than one holder at some point.
 * Each waits until the client's 10-byte request is queued, so that every
 * close below happens with unread data, and reports on stderr.
 *
 * usage: sharer MODE PORT
 *   fork     TCPEchoServer-Fork: the parent closes its copy right after
 *            fork(); the child reads 5 bytes, echoes them, closes (5 unread)
 *   fdopen   fdopen(fd, "r") and fdopen(dup(fd), "w"): the read stream is
 *            closed first, then the write stream sends the reply and closes
 *   inetd    the connection dup2'd onto 0 and 1, the original closed, then
 *            0 closed, then 1 (the last) closed
 *   scm      the connection passed to a child over SCM_RIGHTS and closed by
 *            the sender; the child serves it
 *   exec     a forked child execs "sharer serve-fd N", which serves the
 *            inherited socket; the parent closes its copy
 * The reply is always 5 echoed bytes followed by 1000 pattern bytes. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "../../tools/demo.h"
#include "request.h"

static int mode_fork(int conn)
{
    pid_t child = fork();
    if (child == 0) {
        usleep(100000); /* the parent's close comes first */
        serve(conn, conn);
        say("child", "close", close(conn));
        exit(0);
    }
    say("parent", "close", close(conn));
    waitpid(child, NULL, 0);
    return 0;
}

static int mode_fdopen(int conn)
{
    FILE *in = fdopen(conn, "r"), *out = fdopen(dup(conn), "w");
    setvbuf(in, NULL, _IONBF, 0);
    char head[5];
    if (fread(head, 1, 5, in) != 5)
        fprintf(stderr, "fdopen: short read\n");
    say("reader", "fclose", fclose(in)); /* 5 unread, writer still open */
    fwrite(head, 1, 5, out);
    for (size_t i = 0; i < 1000; i++)
        fputc(pattern_byte(5 + i), out);
    say("writer", "fclose", fclose(out));
    return 0;
}

static int mode_inetd(int conn)
{
    dup2(conn, 0);
    dup2(conn, 1);
    say("inetd", "close-original", close(conn));
    serve(0, 1);
    say("inetd", "close-0", close(0));
    say("inetd", "close-1", close(1));
    return 0;
}

static int mode_scm(int listener)
{
    int pair[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
    pid_t child = fork();
    if (child == 0) {
        close(listener);
        int conn = recv_fd(pair[1]);
        usleep(100000); /* the sender's close comes first */
        serve(conn, conn);
        say("receiver", "close", close(conn));
        exit(0);
    }
    int conn = accept(listener, NULL, NULL);
    wait_queued(conn, 10);
    send_fd(pair[0], conn);
    say("sender", "close", close(conn));
    waitpid(child, NULL, 0);
    return 0;
}

static int mode_exec(int conn, const char *self)
{
    pid_t child = fork();
    if (child == 0) {
        char fdarg[16];
        snprintf(fdarg, sizeof fdarg, "%d", conn);
        execl(self, self, "serve-fd", fdarg, (char *)NULL);
        _exit(127);
    }
    say("parent", "close", close(conn));
    waitpid(child, NULL, 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "serve-fd") == 0) {
        int conn = atoi(argv[2]);
        usleep(100000); /* the parent's close comes first */
        serve(conn, conn);
        say("exec'd", "close", close(conn));
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: sharer fork|fdopen|inetd|scm|exec PORT\n");
        return 2;
    }
    const char *mode = argv[1];
    int listener = demo_listen(4, atoi(argv[2]));
    demo_ready(atoi(argv[2]));
    if (strcmp(mode, "scm") == 0)
        return mode_scm(listener);
    int conn = accept(listener, NULL, NULL);
    wait_queued(conn, 10);
    close(listener);
    if (strcmp(mode, "fork") == 0)
        return mode_fork(conn);
    if (strcmp(mode, "fdopen") == 0)
        return mode_fdopen(conn);
    if (strcmp(mode, "inetd") == 0)
        return mode_inetd(conn);
    if (strcmp(mode, "exec") == 0)
        return mode_exec(conn, argv[0]);
    fprintf(stderr, "sharer: unknown mode %s\n", mode);
    return 2;
}
