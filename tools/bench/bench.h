/* Shared pieces of the benchmark programs (tools/bench/): clocks, order
 * statistics, the kernel's TCP reset counters, loopback sockets, and what
 * /proc says about another process.
 *
 * Every program prints its results as one line of key=value pairs, which
 * tools/bench/run.sh turns into the tables of docs/PERFORMANCE.md. */
#ifndef NORST_BENCH_H
#define NORST_BENCH_H

#include <stddef.h>
#include <sys/types.h>

/* The request/reply exchange the server and the load generator agree on:
 * a request of REQUEST_LEN bytes in one write, of which the server reads
 * either all or only the first HEAD_LEN, then a reply of REPLY_LEN bytes. */
#define REQUEST_LEN 512
#define HEAD_LEN 64
#define REPLY_LEN 128

void bench_die(const char *what) __attribute__((noreturn));
long long now_ns(void);
void sleep_us(long us);

/* Sorts v and returns the value at quantile q (0..1), nearest rank. */
long long quantile(long long *v, size_t n, double q);

/* TcpExtTCPAbortOnClose, TcpExtTCPAbortOnData, TcpOutRsts of this network
 * namespace. */
struct counters {
    long abort_on_close, abort_on_data, out_rsts;
};
void counters_read(struct counters *c);
/* Waits a moment for resets still in flight, then prints the change since
 * before as " abort_on_close=N abort_on_data=N out_rsts=N". */
void counters_print_since(const struct counters *before);

/* A listening TCP socket on 127.0.0.1, port chosen by the kernel. */
int listen_loopback(int *port);
/* A blocking TCP connection to 127.0.0.1:port. The source address rotates
 * over 127.0.0.1-127.0.0.200 with seq, so that long runs never meet their
 * own TIME_WAIT entries on the server side. */
int connect_loopback(int port, unsigned seq);
/* 0 once all of buf is written, -1 on error. */
int write_all(int fd, const void *buf, size_t len);

/* From /proc/PID: a "Name: N kB" field of status (-1 if absent), user+system
 * CPU time in milliseconds (all threads, tick resolution), open fds (only
 * the sockets among them if sockets_only). */
long proc_status_kb(pid_t pid, const char *field);
long proc_cpu_ms(pid_t pid);
long proc_fd_count(pid_t pid, int sockets_only);

/* Starts argv, a server that will listen on 127.0.0.1:port, as a child
 * (its standard output to /dev/null, its standard error ours), and waits
 * until the port takes a connection. The child's pid, or -1 if it never did
 * within timeout_ms (the child is then killed). */
pid_t server_spawn(char **argv, int port, int timeout_ms);
/* SIGKILL and reap: the end of every run, so that the end is the same
 * for every mode (no exit handler of the library runs). */
void server_kill(pid_t pid);

/* Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft. */
long raise_nofile(void);

#endif
