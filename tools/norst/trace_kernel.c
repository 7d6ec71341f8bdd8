/* What norst trace needs from the kernel, checked before bpftrace runs so
 * that a refusal says what is missing: bpftrace itself, the privilege to
 * load eBPF, tracefs, and the tracepoint tcp:tcp_send_reset with its reason
 * (Linux 6.10 added it: enum sk_rst_reason, include/net/rstreason.h). The
 * reasons' names are the kernel's own, read from the tracepoint's print
 * format, so that a kernel that renumbers them is still named right. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"
#include "trace.h"

#define TRACEFS "/sys/kernel/tracing"
#define TRACEPOINT "/events/tcp/tcp_send_reset/format"
#define FORMAT_MAX 16384

static int on_path(const char *name)
{
    const char *path = getenv("PATH");
    char file[4096];
    for (const char *dir = path ? path : "/usr/bin:/bin"; *dir;) {
        size_t len = strcspn(dir, ":");
        if (len && (size_t)snprintf(file, sizeof file, "%.*s/%s", (int)len, dir, name) < sizeof file &&
            access(file, X_OK) == 0)
            return 1;
        dir += len + (dir[len] == ':');
    }
    return 0;
}

/* The tracepoint's format file, mounting tracefs where nothing is mounted
 * yet (as root may; Debian does not mount it at boot). */
static FILE *open_format(void)
{
    static const char *const roots[] = {TRACEFS, "/sys/kernel/debug/tracing"};
    char path[128];
    for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
        snprintf(path, sizeof path, "%s%s", roots[i], TRACEPOINT);
        FILE *f = fopen(path, "r");
        if (f)
            return f;
    }
    struct stat st;
    snprintf(path, sizeof path, "%s/events", TRACEFS);
    if (stat(path, &st) < 0 && mount("nodev", TRACEFS, "tracefs", 0, NULL) == 0) {
        fprintf(stderr, "norst trace: mounted tracefs on %s\n", TRACEFS);
        return fopen(TRACEFS TRACEPOINT, "r");
    }
    if (stat(path, &st) < 0)
        fprintf(stderr, "norst trace: tracefs is not mounted; as root: mount -t tracefs nodev %s\n",
                TRACEFS);
    else
        fputs("norst trace: this kernel has no tracepoint tcp:tcp_send_reset with a reason "
              "(Linux 6.10 or later has it)\n", stderr);
    return NULL;
}

/* "TCP_ABORT_ON_CLOSE" -> "abort-on-close": the words, without the prefix
 * of the TCP reasons where more than one word is left ("TCP_STATE" stays
 * "tcp-state"). */
static char *word_of(const char *kernel_name, size_t len)
{
    if (len > 4 && strncmp(kernel_name, "TCP_", 4) == 0 && memchr(kernel_name + 4, '_', len - 4)) {
        kernel_name += 4;
        len -= 4;
    }
    char *w = xrealloc(NULL, len + 1);
    for (size_t i = 0; i < len; i++)
        w[i] = kernel_name[i] == '_' ? '-' : (char)tolower((unsigned char)kernel_name[i]);
    w[len] = '\0';
    return w;
}

/* The pairs { N, "NAME" } of __print_symbolic(REC->reason, ...). */
static int parse_reasons(const char *format, struct reason_names *names)
{
    const char *p = strstr(format, "__print_symbolic(REC->reason,");
    if (!strstr(format, "sk_rst_reason reason;") || !p)
        return -1;
    while ((p = strchr(p, '{'))) {
        char *end;
        unsigned long code = strtoul(p + 1, &end, 10);
        const char *q1 = strchr(end, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
        if (end == p + 1 || !q2)
            break;
        if (code < TRACE_REASONS_MAX && !names->name[code])
            names->name[code] = word_of(q1 + 1, (size_t)(q2 - q1 - 1));
        p = q2;
    }
    return names->name[0] ? 0 : -1;
}

/* The kernel loads eBPF for root of the initial user namespace only, whose
 * uid_map maps every id to itself. */
static int in_initial_userns(void)
{
    char map[256] = "";
    FILE *f = fopen("/proc/self/uid_map", "r");
    if (!f)
        return 1; /* no user namespaces: the initial one */
    size_t len = fread(map, 1, sizeof map - 1, f);
    fclose(f);
    map[len] = '\0';
    unsigned long inside, outside, count;
    return sscanf(map, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 &&
           outside == 0 && count == 4294967295UL;
}

int trace_kernel_check(struct reason_names *names)
{
    if (!on_path("bpftrace")) {
        fputs("norst trace: bpftrace is not installed (Debian and Ubuntu: apt-get install bpftrace)\n",
              stderr);
        return 1;
    }
    if (geteuid() != 0) {
        fputs("norst trace: needs root: bpftrace loads eBPF programs (CAP_BPF, CAP_PERFMON) "
              "and reads tracefs\n", stderr);
        return 1;
    }
    if (!in_initial_userns()) {
        fputs("norst trace: needs root outside any user namespace: the kernel refuses eBPF "
              "inside one\n", stderr);
        return 1;
    }
    FILE *f = open_format();
    if (!f)
        return 1;
    char *format = xrealloc(NULL, FORMAT_MAX);
    size_t len = fread(format, 1, FORMAT_MAX - 1, f);
    format[len] = '\0';
    fclose(f);
    int ok = parse_reasons(format, names) == 0;
    free(format);
    if (!ok)
        fputs("norst trace: the tracepoint tcp:tcp_send_reset has no reason on this kernel "
              "(Linux 6.10 or later has it)\n", stderr);
    return ok ? 0 : 1;
}

const char *reason_name(const struct reason_names *names, unsigned code, char *buf, size_t cap)
{
    if (code < TRACE_REASONS_MAX && names->name[code])
        return names->name[code];
    snprintf(buf, cap, "reason-%u", code);
    return buf;
}

int reason_is_close(const struct reason_names *names, unsigned code)
{
    return code < TRACE_REASONS_MAX && names->name[code] &&
           strncmp(names->name[code], "abort-on-", 9) == 0;
}

/* include/net/tcp_states.h */
const char *tcp_state_name(unsigned state)
{
    static const char *const names[] = {
        "unknown",   "established", "syn-sent",   "syn-recv", "fin-wait1", "fin-wait2", "time-wait",
        "close",     "close-wait",  "last-ack",   "listen",   "closing",   "new-syn-recv",
    };
    return state < sizeof names / sizeof *names ? names[state] : "unknown";
}
