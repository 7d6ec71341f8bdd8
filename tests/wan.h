/* A WAN path for tests: tests/progs/wanlink joins this test's network
 * namespace (A, address 10.77.0.1) to a fresh one (B, 10.77.0.2) through a
 * delayed, rate-limited relay. The test stays in A and makes its client
 * sockets in B, so one process holds both ends of a connection over the
 * link and can ask each for TCP_INFO. */
#ifndef NORST_WAN_H
#define NORST_WAN_H

#include "harness.h"

#define WAN_ADDR_A "10.77.0.1"

struct wan {
    struct proc link; /* wanlink, itself in B */
    int ns_a, ns_b;   /* network namespace fds */
};
/* Starts wanlink with its options (e.g. {"--rtt", "100", NULL}); 0 once the
 * link is up, or -1 with the reason in why (the test then skips). */
int wan_start(struct wan *w, const char *const *opts, char *why, size_t why_len);
/* case_begin(name), then wan_start: 0, or -1 once the case is skipped and
 * ended. */
int wan_case_begin(struct wan *w, const char *name, const char *const *opts);
/* A TCP socket of namespace B, connected to WAN_ADDR_A:port (blocking). */
int wan_connect(struct wan *w, int port);
/* A listening TCP socket on 0.0.0.0:port of namespace A (and of loopback). */
int wan_listen(int port);
/* The connection's TCP_INFO (the kernel fills what it knows of the struct). */
struct tcp_info;
void wan_tcp_info(int fd, struct tcp_info *info);
/* Stops the link; its stderr (the -v counts) in w->link.err. */
void wan_stop(struct wan *w);

#endif
