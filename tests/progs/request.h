/* The request and reply of the sharing servers (sharer, holders): the
 * client sends 10 bytes; the server waits until they are queued, reads 5,
 * and replies with those 5 and 1000 bytes of the test pattern. */
#ifndef NORST_REQUEST_H
#define NORST_REQUEST_H

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static inline unsigned char pattern_byte(size_t i)
{
    return (unsigned char)((i * 7 + i / 251) & 0xff);
}

static inline void wait_queued(int fd, int bytes)
{
    int queued = 0;
    for (int i = 0; i < 5000 && ioctl(fd, FIONREAD, &queued) == 0 && queued < bytes; i++)
        usleep(1000);
}

static inline void say(const char *who, const char *what, long ret)
{
    fprintf(stderr, "%s: %s=%ld\n", who, what, ret);
}

/* Reads the 5-byte head of the request into buf, then the reply after it. */
static inline void read_head(int in, unsigned char *buf)
{
    ssize_t got = recv(in, buf, 5, MSG_WAITALL);
    if (got != 5)
        fprintf(stderr, "serve: read %zd\n", got);
    for (size_t i = 0; i < 1000; i++)
        buf[5 + i] = pattern_byte(5 + i);
}

/* Reads 5 bytes, echoes them and 1000 pattern bytes; the caller closes. */
static inline void serve(int in, int out)
{
    unsigned char buf[1005];
    read_head(in, buf);
    if (send(out, buf, sizeof buf, MSG_NOSIGNAL) != (ssize_t)sizeof buf)
        perror("serve: send");
}

/* One fd passed over a UNIX socket with SCM_RIGHTS. */
static inline void send_fd(int over, int fd)
{
    char data = 'F', control[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec iov = {&data, 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = sizeof control};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(over, &msg, 0) != 1)
        perror("sendmsg");
}

static inline int recv_fd(int over)
{
    char data, control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&data, 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = sizeof control};
    int fd = -1;
    if (recvmsg(over, &msg, 0) == 1 && CMSG_FIRSTHDR(&msg))
        memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
    return fd;
}

#endif
