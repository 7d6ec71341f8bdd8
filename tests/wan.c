#include "wan.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int wan_start(struct wan *w, const char *const *opts, char *why, size_t why_len)
{
    const char *argv[32] = {"./tests/progs/wanlink"};
    int argc = 1;
    for (; *opts && argc < 24; opts++)
        argv[argc++] = *opts;
    const char *rest[] = {"--", "sh", "-c", "echo link-up; exec sleep 600", NULL};
    memcpy(argv + argc, rest, sizeof rest);
    proc_start(&w->link, 0, NULL, argv, 0);
    if (!proc_wait_output(&w->link, "link-up", 5000)) {
        proc_finish(&w->link, 1000);
        snprintf(why, why_len, "wanlink did not start: %.200s", w->link.err);
        return -1;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)w->link.pid);
    w->ns_a = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    w->ns_b = open(path, O_RDONLY | O_CLOEXEC);
    if (w->ns_a < 0 || w->ns_b < 0) {
        snprintf(why, why_len, "cannot open the namespaces' files");
        wan_stop(w);
        return -1;
    }
    return 0;
}

int wan_case_begin(struct wan *w, const char *name, const char *const *opts)
{
    char why[256];
    case_begin(name);
    if (wan_start(w, opts, why, sizeof why) == 0)
        return 0;
    case_skip(why);
    case_end();
    return -1;
}

int wan_connect(struct wan *w, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, WAN_ADDR_A, &sa.sin_addr);
    /* A socket belongs to the namespace it was made in, whatever the
     * process's namespace is later. */
    if (setns(w->ns_b, CLONE_NEWNET) < 0) {
        perror("setns B");
        exit(99);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (setns(w->ns_a, CLONE_NEWNET) < 0) {
        perror("setns A");
        exit(99);
    }
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("wan_connect");
        exit(99);
    }
    return fd;
}

void wan_stop(struct wan *w)
{
    kill(w->link.pid, SIGTERM);
    proc_finish(&w->link, 5000);
    if (w->ns_a >= 0)
        close(w->ns_a);
    if (w->ns_b >= 0)
        close(w->ns_b);
    w->ns_a = w->ns_b = -1;
}

int wan_listen(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
        perror("wan_listen");
        exit(99);
    }
    return fd;
}

void wan_tcp_info(int fd, struct tcp_info *info)
{
    socklen_t len = sizeof *info;
    memset(info, 0, sizeof *info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, &len) < 0) {
        perror("TCP_INFO");
        exit(99);
    }
}
