/* norst trace: every RST the kernel sends, from the tracepoint
 * tcp:tcp_send_reset, through bpftrace. What its source files share:
 *   trace.c          options, running bpftrace, one event per line of it;
 *   trace_kernel.c   what the kernel offers: privilege, tracefs, the
 *                    tracepoint and its names for the reasons;
 *   trace_script.c   the bpftrace program;
 *   trace_process.c  who a pid is: exe, unit, uid, whether preloadable;
 *   trace_summary.c  the summary at the end. */
#ifndef NORST_TRACE_H
#define NORST_TRACE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define TRACE_REASONS_MAX 64 /* enum sk_rst_reason has 26 values in Linux 6.18 */

/* ---- the kernel (trace_kernel.c) ---- */
struct reason_names {
    char *name[TRACE_REASONS_MAX]; /* "abort-on-close"; NULL where the kernel names none */
};
/* 0 when tracing can start, the reasons' names read from the tracepoint's
 * format; else a message on stderr and the exit status (1). */
int trace_kernel_check(struct reason_names *names);
/* "abort-on-close", or "reason-N" in buf for a number the kernel did not name. */
const char *reason_name(const struct reason_names *names, unsigned code, char *buf, size_t cap);
/* The reasons that come from closing a socket, which libnorst can prevent. */
int reason_is_close(const struct reason_names *names, unsigned code);
const char *tcp_state_name(unsigned state);

/* ---- the bpftrace program (trace_script.c) ---- */
/* The program's text, for resets on local or peer port, or any when port
 * is -1 (malloc'ed). */
char *trace_script_for(long port);

/* ---- processes (trace_process.c) ---- */
enum preload_verdict {
    PRELOAD_YES,     /* dynamically linked: LD_PRELOAD reaches its close() */
    PRELOAD_STATIC,  /* no dynamic loader */
    PRELOAD_GO,      /* the Go runtime makes its own system calls */
    PRELOAD_KERNEL,  /* no process: the kernel itself (pid 0) */
    PRELOAD_UNKNOWN, /* gone before norst looked, or unreadable */
};
extern const char *const preload_words[]; /* "yes", "static", ... for JSON */
struct process_info {
    pid_t pid;
    char comm[32];
    char exe[256];
    char unit[192];
    char cmdline[512]; /* arguments joined by spaces, "" if unknown */
    long uid;          /* -1 if unknown */
    enum preload_verdict preload;
};
/* What /proc says of pid, read the first time it is asked for and kept;
 * comm is the kernel's when /proc no longer has the process. */
const struct process_info *process_lookup(pid_t pid, const char *comm);

/* ---- the summary (trace_summary.c) ---- */
struct trace_event {
    const struct process_info *proc;
    unsigned reason;
    unsigned local_port;
};
void summary_add(const struct trace_event *ev);
void summary_print(FILE *out, const struct reason_names *names, double seconds);

#endif
