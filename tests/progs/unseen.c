/* Servers whose connection has a holder that is hard to see. Each waits
 * until the client's 10-byte request is queued, reads 5 bytes, replies with
 * them and 1000 pattern bytes, and ends with 5 bytes unread; it reports on
 * stderr.
 *
 * usage: unseen MODE PORT
 *   nodump        the parent drops CAP_SYS_PTRACE, forks; the child makes
 *                 itself non-dumpable (its fd links unreadable to the
 *                 parent), then the parent closes its copy and the child
 *                 serves. Prints "SKIP ..." if the links stay readable.
 *   uring         the connection registered as a fixed file of an io_uring
 *                 ring (raw io_uring_setup through syscall()); the plain fd
 *                 is closed, the reply goes out through the ring
 *                 (IORING_OP_SEND, IOSQE_FIXED_FILE), then the ring is
 *                 closed. Prints "SKIP ..." where rings are refused.
 *   ptexit-dup    the main thread ends with pthread_exit(); a worker dups
 *                 the connection, closes the original with 10 unread,
 *                 serves through the duplicate and returns from the thread
 *                 with the process exiting through exit()
 *   ptexit-closefrom  the same, but the worker ends with closefrom(3)
 *   child-ptexit  the parent forks; the child's main thread ends with
 *                 pthread_exit() while a worker keeps the connection; the
 *                 parent closes its copy, then the worker serves
 *   scm-gone      the connection passed with SCM_RIGHTS to a child that
 *                 closes it at once; then the sender closes it with 10
 *                 unread (the last reference: the kernel resets)
 *   inetd-exit    the connection dup2'd onto 0 and 1, the original closed,
 *                 served, then main returns (exit closes 0 and 1 together)
 *   dup-closefrom the connection and a dup of it, served, closefrom(3)
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../../tools/demo.h"
#include "request.h"

static int drop_ptrace_cap(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0)
        return -1;
    data[CAP_SYS_PTRACE / 32].effective &= ~(1u << (CAP_SYS_PTRACE % 32));
    return (int)syscall(SYS_capset, &hdr, data);
}

static int mode_nodump(int conn)
{
    int ready[2], go[2];
    char byte = 0, link[64], path[64];
    if (pipe(ready) < 0 || pipe(go) < 0 || drop_ptrace_cap() < 0)
        die("setup");
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_DUMPABLE, 0);
        if (write(ready[1], "r", 1) != 1 || read(go[0], &byte, 1) != 1) /* parent closes first */
            die("pipe");
        serve(conn, conn);
        say("child", "close", close(conn));
        _exit(0);
    }
    if (read(ready[0], &byte, 1) != 1)
        die("pipe");
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)child, conn);
    if (readlink(path, link, sizeof link) >= 0) {
        printf("SKIP the child's fd links stay readable here\n");
        fflush(stdout);
    }
    say("parent", "close", close(conn));
    if (write(go[1], "g", 1) != 1)
        die("pipe");
    waitpid(child, NULL, 0);
    return 0;
}

static long uring_setup(unsigned entries, struct io_uring_params *p)
{
    return syscall(SYS_io_uring_setup, entries, p);
}

/* One IORING_OP_SEND through fixed file 0; returns its result. */
static int uring_send(int ring, const struct io_uring_params *p, const void *buf, size_t len)
{
    size_t sq_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    size_t cq_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_SQ_RING);
    char *cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED, ring, IORING_OFF_CQ_RING);
    struct io_uring_sqe *sqes = mmap(NULL, p->sq_entries * sizeof *sqes, PROT_READ | PROT_WRITE,
                                     MAP_SHARED, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
        die("mmap ring");
    unsigned *tail = (unsigned *)(sq + p->sq_off.tail);
    unsigned mask = *(unsigned *)(sq + p->sq_off.ring_mask), index = *tail & mask;
    memset(&sqes[index], 0, sizeof sqes[index]);
    sqes[index].opcode = IORING_OP_SEND;
    sqes[index].flags = IOSQE_FIXED_FILE;
    sqes[index].fd = 0;
    sqes[index].addr = (unsigned long)buf;
    sqes[index].len = (unsigned)len;
    sqes[index].msg_flags = MSG_NOSIGNAL;
    ((unsigned *)(sq + p->sq_off.array))[index] = index;
    __atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
    if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
        die("io_uring_enter");
    unsigned head = *(unsigned *)(cq + p->cq_off.head);
    unsigned cmask = *(unsigned *)(cq + p->cq_off.ring_mask);
    struct io_uring_cqe *cqe = (struct io_uring_cqe *)(cq + p->cq_off.cqes) + (head & cmask);
    return cqe->res;
}

static int mode_uring(int conn)
{
    struct io_uring_params params = {0};
    long ring = uring_setup(4, &params);
    if (ring < 0) {
        printf("SKIP io_uring_setup: %s\n", strerror(errno));
        fflush(stdout);
        serve(conn, conn);
        return 0;
    }
    if (syscall(SYS_io_uring_register, (int)ring, IORING_REGISTER_FILES, &conn, 1) < 0) {
        printf("SKIP IORING_REGISTER_FILES: %s\n", strerror(errno));
        fflush(stdout);
        serve(conn, conn);
        return 0;
    }
    unsigned char buf[1005];
    read_head(conn, buf);
    say("uring", "close-plain", close(conn)); /* 5 unread; the ring holds it */
    say("uring", "send", uring_send((int)ring, &params, buf, sizeof buf));
    say("uring", "close-ring", close((int)ring));
    return 0;
}

static int worker_conn;
static const char *worker_mode;

static void *worker(void *arg)
{
    (void)arg;
    usleep(50000); /* the main thread is gone by now */
    int dup_fd = dup(worker_conn);
    say("worker", "close-original", close(worker_conn)); /* 10 unread, dup holds it */
    serve(dup_fd, dup_fd);
    if (strcmp(worker_mode, "ptexit-closefrom") == 0) {
        closefrom(3);
        say("worker", "closefrom", 0);
    }
    exit(0); /* the exit hook sees dup_fd if it is still open */
}

static int mode_ptexit(int conn, const char *mode)
{
    pthread_t t;
    worker_conn = conn;
    worker_mode = mode;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        die("pthread_create");
    pthread_exit(NULL);
}

static int child_pipe[2];

static void *child_worker(void *arg)
{
    char byte;
    int conn = (int)(long)arg;
    usleep(50000); /* the main thread is gone by now */
    if (write(child_pipe[1], "r", 1) != 1 || read(child_pipe[0], &byte, 1) != 1)
        die("pipe");
    serve(conn, conn);
    say("child", "close", close(conn));
    _exit(0);
}

static int mode_child_ptexit(int conn)
{
    int ready[2], go[2];
    char byte;
    if (pipe(ready) < 0 || pipe(go) < 0)
        die("pipe");
    pid_t child = fork();
    if (child == 0) {
        pthread_t t;
        child_pipe[0] = go[0];
        child_pipe[1] = ready[1];
        if (pthread_create(&t, NULL, child_worker, (void *)(long)conn) != 0)
            die("pthread_create");
        pthread_exit(NULL);
    }
    if (read(ready[0], &byte, 1) != 1)
        die("pipe");
    say("parent", "close", close(conn));
    if (write(go[1], "g", 1) != 1)
        die("pipe");
    waitpid(child, NULL, 0);
    return 0;
}

static int mode_scm_gone(int conn, int pair[2])
{
    char byte;
    send_fd(pair[0], conn);
    if (read(pair[0], &byte, 1) != 1) /* the receiver has closed its copy */
        die("pair");
    say("sender", "close", close(conn));
    return 0;
}

static int mode_inetd_exit(int conn)
{
    dup2(conn, 0);
    dup2(conn, 1);
    say("inetd", "close-original", close(conn));
    serve(0, 1);
    return 0; /* exit closes 0 and 1, 5 bytes unread */
}

static int mode_dup_closefrom(int conn)
{
    int other = dup(conn);
    serve(conn, other);
    closefrom(3);
    say("server", "closefrom", 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: unseen MODE PORT\n");
        return 2;
    }
    const char *mode = argv[1];
    int listener = demo_listen(4, atoi(argv[2]));
    int pair[2] = {-1, -1};
    if (strcmp(mode, "scm-gone") == 0) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
            die("socketpair");
        if (fork() == 0) { /* started before the connection, receives it */
            int got = recv_fd(pair[1]);
            say("receiver", "close", close(got));
            if (write(pair[1], "c", 1) != 1)
                die("pair");
            _exit(0);
        }
    }
    demo_ready(atoi(argv[2]));
    int conn = accept(listener, NULL, NULL);
    wait_queued(conn, 10);
    close(listener);
    if (strcmp(mode, "nodump") == 0)
        return mode_nodump(conn);
    if (strcmp(mode, "uring") == 0)
        return mode_uring(conn);
    if (strncmp(mode, "ptexit-", 7) == 0)
        return mode_ptexit(conn, mode);
    if (strcmp(mode, "child-ptexit") == 0)
        return mode_child_ptexit(conn);
    if (strcmp(mode, "inetd-exit") == 0)
        return mode_inetd_exit(conn);
    if (strcmp(mode, "scm-gone") == 0)
        return mode_scm_gone(conn, pair);
    if (strcmp(mode, "dup-closefrom") == 0)
        return mode_dup_closefrom(conn);
    fprintf(stderr, "unseen: unknown mode %s\n", mode);
    return 2;
}
