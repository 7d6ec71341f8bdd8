/* Test harness: each test program is a driver. It starts the program under
 * test (a seed demo or tests/progs/closer) with or without libnorst
 * preloaded, plays the peer itself, and asserts on what the kernel counted
 * (/proc/net/netstat, /proc/net/snmp: the runner gives every test program its
 * own network namespace) and on what the peer received. */
#ifndef NORST_HARNESS_H
#define NORST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ---- kernel counters ---- */
struct counters {
    long abort_on_close; /* TcpExtTCPAbortOnClose */
    long abort_on_data;  /* TcpExtTCPAbortOnData */
    long out_rsts;       /* TcpOutRsts */
};
void counters_read(struct counters *c);
/* Where counters_read finds proc (a test that hides /proc moves it). */
extern const char *counters_proc;
/* after - before, once the namespace has been quiet for a moment */
struct counters counters_since(const struct counters *before);

/* ---- the program under test ---- */
struct proc {
    pid_t pid;
    int out_fd;        /* its stdout, a pipe */
    char out[65536];   /* what it printed, once finished */
    char err[65536];   /* its stderr */
    char err_path[64];
    int status;        /* wait status */
};
/* Starts argv (path relative to the build directory) with the extra
 * environment entries env (NULL-terminated, may be NULL) and, if with_shim,
 * LD_PRELOAD=libnorst.so. Waits for its "listening on port" line when
 * wait_ready is set. */
void proc_start(struct proc *p, int with_shim, const char *const *env,
                const char *const *argv, int wait_ready);
/* Reads the program's stdout until text appears; 1 if it did. */
int proc_wait_output(struct proc *p, const char *text, int timeout_ms);
/* Starts tests/progs/closer on port 5000 (IPv4, or IPv6 when family is 6)
 * with its space-separated steps, e.g. "accept read:1 close". */
void closer_start(struct proc *p, int with_shim, const char *const *env, int family,
                  const char *steps);
/* The same with another build of closer (tests/progs/closer-notables). */
void closer_program_start(struct proc *p, const char *program, int with_shim,
                          const char *const *env, int family, const char *steps);
/* Waits up to timeout_ms (then kills it), collects output; returns the exit
 * status, or -1 if it had to be killed or died of a signal. */
int proc_finish(struct proc *p, int timeout_ms);

/* Runs a client program to completion; its stdout in out. Returns exit code. */
int run_client(const char *const *argv, char *out, size_t outlen);

/* ---- playing the peer ---- */
int peer_connect(int family, int port);
void peer_send(int fd, const void *buf, size_t len);
void peer_send_pattern(int fd, size_t len);
struct peer_result {
    size_t bytes;      /* bytes received before the end */
    int reset;         /* ended with ECONNRESET */
    int eof;           /* ended with an orderly EOF */
    int timed_out;
    int pattern_ok;    /* bytes matched pattern_byte(i) */
};
/* Reads until EOF, an error or timeout_ms, checking the bytes against the
 * pattern that closer's "write:N" sends. */
struct peer_result peer_read_all(int fd, int timeout_ms);
unsigned char pattern_byte(size_t i);
long elapsed_ms_since(const struct timespec *start);

/* ---- the common exchange ---- */
/* closer runs steps (with or without the shim); the peer connects, sends
 * send_bytes of the pattern, reads to the end; then the server's output,
 * its exit status and the counters' change are collected. */
struct exchange {
    struct proc server;
    int server_status;
    struct peer_result peer;
    struct counters delta;
};
void exchange_run(struct exchange *x, int with_shim, const char *const *env, int family,
                  const char *steps, size_t send_bytes);
/* The same with any server program that listens on port 5000. */
void exchange_run_argv(struct exchange *x, int with_shim, const char *const *env,
                       const char *const *argv, int family, size_t send_bytes);

/* ---- cases and checks ---- */
void case_begin(const char *name);
void case_end(void);
/* The case cannot run here (the machine refuses what it needs): say why;
 * case_end then counts it as skipped, neither passed nor failed. */
void case_skip(const char *why);
#define CHECK(cond, ...) check_impl(!!(cond), #cond, __FILE__, __LINE__, __VA_ARGS__)
void check_impl(int ok, const char *expr, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int harness_done(void); /* exit status for main */

/* A private mount namespace for this test (the runner's user namespace
 * allows it), so it can mount over /dev or /proc; 0 or -1. */
int private_mounts(void);

void sleep_ms(long ms);
int contains(const char *haystack, const char *needle);
/* system() of the formatted command; its exit status, or -1 if killed. */
int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* How often needle occurs in text; the number right after key, or -1. */
int count_of(const char *text, const char *needle);
long number_after(const char *text, const char *key);
/* A whole (small) file as a string; empty if it cannot be read. */
void read_text_file(const char *path, char *buf, size_t len);

#endif
