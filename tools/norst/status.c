/* norst status: the live counters of running processes that loaded the
 * library, read from their status pages (shim/status_page.h) without a
 * signal and without ptrace; pages left by processes that are gone are
 * removed on the way. Also writes node_exporter's textfile format. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config_parse.h"
#include "status_page.h"
#include "tool.h"

struct process {
    struct status_page page;
    char comm[64];
};

struct found {
    struct process *procs;
    size_t count;
    int stale_removed;
};

enum output { OUTPUT_TABLE, OUTPUT_JSON, OUTPUT_PROMETHEUS };

static int read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return (int)n;
}

/* The start time of the process now holding pid; -1 when there is none. */
static int start_ticks_of(long pid, unsigned long long *ticks)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int n = read_small(path, text, sizeof text);
    return n <= 0 ? -1 : status_start_ticks(text, (size_t)n, ticks);
}

/* 1 when the process still maps its page: after an exec into a program
 * without the library the page stays, but no longer moves. Unreadable
 * maps (another user's process, as non-root) count as mapped. */
static int still_mapped(long pid, const char *dir_name, const char *file_name)
{
    char path[64], tail[128], line[4096];
    snprintf(path, sizeof path, "/proc/%ld/maps", pid);
    snprintf(tail, sizeof tail, "/%s/%s\n", dir_name, file_name);
    FILE *maps = fopen(path, "re");
    int found = 0;
    if (!maps)
        return 1;
    while (!found && fgets(line, sizeof line, maps)) {
        size_t len = strlen(line), tail_len = strlen(tail);
        found = len >= tail_len && strcmp(line + len - tail_len, tail) == 0;
    }
    fclose(maps);
    return found;
}

/* A page is another user's file, and root may be the one reading it: its
 * words go into a terminal and into node_exporter's textfile (a counter's
 * name into a metric's), so only the characters the library writes pass. */
static int plain_word(const char *s, size_t cap, const char *extra)
{
    size_t n = strnlen(s, cap);
    if (n == 0 || n == cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              strchr(extra, s[i])))
            return 0;
    return 1;
}

static int plain_page(const struct status_page *pg)
{
    if (pg->ncounters > STATUS_COUNTERS_MAX || !plain_word(pg->mode, sizeof pg->mode, "") ||
        !plain_word(pg->library, sizeof pg->library, ".-+"))
        return 0;
    for (uint32_t i = 0; i < pg->ncounters; i++)
        if (!plain_word(pg->counters[i].name, STATUS_NAME_MAX, ""))
            return 0;
    return 1;
}

enum page_state { PAGE_LIVE, PAGE_STALE, PAGE_SKIP };

/* A page is live when the process named by its file (pid and start time)
 * runs and maps it; stale when that process is gone, or exec'd into a
 * program without the library; skipped when unreadable or still being
 * made (no magic yet: the maps are looked at only after, since the file
 * exists a moment before its mapping does). */
static enum page_state read_page(int dirfd, const char *dir_name, const char *file_name, long pid,
                                 unsigned long long ticks, struct process *out)
{
    unsigned long long now_ticks;
    char path[64];
    if (start_ticks_of(pid, &now_ticks) < 0 || now_ticks != ticks)
        return PAGE_STALE;
    int fd = openat(dirfd, file_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return PAGE_SKIP;
    ssize_t n = pread(fd, &out->page, sizeof out->page, 0);
    close(fd);
    if (n != (ssize_t)sizeof out->page || memcmp(out->page.magic, STATUS_MAGIC, 8) != 0 ||
        out->page.version != STATUS_VERSION || out->page.pid != pid || !plain_page(&out->page))
        return PAGE_SKIP;
    if (!still_mapped(pid, dir_name, file_name))
        return PAGE_STALE;
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    if (read_small(path, out->comm, sizeof out->comm) <= 0)
        strcpy(out->comm, "?");
    out->comm[strcspn(out->comm, "\n")] = '\0';
    for (char *c = out->comm; *c; c++) /* a process names itself (PR_SET_NAME) */
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return PAGE_LIVE;
}

/* "PID-START": 0 with both filled in, or -1 for any other name. */
static int parse_name(const char *name, long *pid, unsigned long long *ticks)
{
    char *end;
    errno = 0;
    *pid = strtol(name, &end, 10);
    if (end == name || *end != '-' || *pid <= 0 || errno)
        return -1;
    const char *t = end + 1;
    *ticks = strtoull(t, &end, 10);
    return end == t || *end != '\0' || errno ? -1 : 0;
}

static void take_page(struct found *f, int dirfd, const char *dir_name, const char *file_name)
{
    long pid;
    unsigned long long ticks;
    struct process p;
    if (parse_name(file_name, &pid, &ticks) < 0)
        return;
    switch (read_page(dirfd, dir_name, file_name, pid, ticks, &p)) {
    case PAGE_LIVE:
        f->procs = xrealloc(f->procs, (f->count + 1) * sizeof *f->procs);
        f->procs[f->count++] = p;
        break;
    case PAGE_STALE: /* as its owner (or root) only: others' pages stay */
        if (unlinkat(dirfd, file_name, 0) == 0)
            f->stale_removed++;
        break;
    case PAGE_SKIP:
        break;
    }
}

/* Every libnorst-UID directory under base the caller may read; with pids,
 * only their pages. */
static void collect(const char *base, const long *pids, size_t npids, struct found *f)
{
    DIR *top = opendir(base);
    struct dirent *d;
    if (!top)
        return;
    while ((d = readdir(top))) {
        if (strncmp(d->d_name, STATUS_SUBDIR_PREFIX, strlen(STATUS_SUBDIR_PREFIX)) != 0)
            continue;
        int subfd = openat(dirfd(top), d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *sub = subfd < 0 ? NULL : fdopendir(subfd);
        struct dirent *e;
        if (!sub) {
            if (subfd >= 0)
                close(subfd);
            continue; /* another user's: not ours to see */
        }
        while ((e = readdir(sub))) {
            long pid;
            unsigned long long ticks;
            int wanted = npids == 0;
            if (parse_name(e->d_name, &pid, &ticks) < 0)
                continue;
            for (size_t i = 0; i < npids; i++)
                wanted |= pids[i] == pid;
            if (wanted)
                take_page(f, subfd, d->d_name, e->d_name);
        }
        closedir(sub);
    }
    closedir(top);
}

static void print_time(FILE *out, int64_t when)
{
    char text[32];
    time_t t = (time_t)when;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fputs(text, out);
}

/* Escaped for a JSON string (JSON) or a Prometheus label value: both take
 * \" and \\; JSON also needs every control character escaped. */
static void print_quoted(FILE *out, const char *s, enum output how)
{
    putc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20 && how == OUTPUT_JSON)
            fprintf(out, "\\u%04x", c);
        else
            putc(c, out);
    }
    putc('"', out);
}

/* The value of counter name in a page; -1 when it has none. */
static long long counter_of(const struct status_page *pg, const char *name)
{
    for (uint32_t k = 0; k < pg->ncounters; k++)
        if (strcmp(pg->counters[k].name, name) == 0)
            return (long long)pg->counters[k].value;
    return -1;
}

/* The sockets the process's reaper holds now: the two counters'
 * difference (counters only grow); -1 for a page without them. */
static long long lingering_of(const struct status_page *pg)
{
    long long started = counter_of(pg, "lingering_started"), ended = counter_of(pg, "lingering_ended");
    if (started < 0 || ended < 0)
        return -1;
    /* Read apart: an end counted between the two loads reads as more
     * ends than starts for a moment. */
    return started > ended ? started - ended : 0;
}

static void print_json(FILE *out, const struct found *f)
{
    for (size_t i = 0; i < f->count; i++) {
        const struct process *p = &f->procs[i];
        fprintf(out, "{\"pid\":%d,\"uid\":%u,\"comm\":", (int)p->page.pid, (unsigned)p->page.uid);
        print_quoted(out, p->comm, OUTPUT_JSON);
        fprintf(out, ",\"start_ticks\":%llu,\"since\":\"", (unsigned long long)p->page.start_ticks);
        print_time(out, p->page.made_at);
        fprintf(out, "\",\"library\":");
        print_quoted(out, p->page.library, OUTPUT_JSON);
        fprintf(out, ",\"mode\":");
        print_quoted(out, p->page.mode, OUTPUT_JSON);
        fprintf(out, ",\"async\":%s,\"counters\":{", p->page.async ? "true" : "false");
        for (uint32_t k = 0; k < p->page.ncounters; k++) {
            fputs(k ? "," : "", out);
            print_quoted(out, p->page.counters[k].name, OUTPUT_JSON);
            fprintf(out, ":%llu", (unsigned long long)p->page.counters[k].value);
        }
        fputs("}", out);
        if (lingering_of(&p->page) >= 0)
            fprintf(out, ",\"lingering\":%lld", lingering_of(&p->page));
        fputs("}\n", out);
    }
}

static int same_columns(const struct status_page *a, const struct status_page *b)
{
    if (a->ncounters != b->ncounters)
        return 0;
    for (uint32_t k = 0; k < a->ncounters; k++)
        if (strcmp(a->counters[k].name, b->counters[k].name) != 0)
            return 0;
    return 1;
}

/* One row a process; a header again wherever the counters differ (pages
 * of two library versions). */
static void print_table(FILE *out, const struct found *f)
{
    for (size_t i = 0; i < f->count; i++) {
        const struct status_page *pg = &f->procs[i].page;
        if (i == 0 || !same_columns(pg, &f->procs[i - 1].page)) {
            fprintf(out, "%-8s %-15s %-6s %-5s %-20s", "PID", "COMMAND", "MODE", "ASYNC", "SINCE");
            for (uint32_t k = 0; k < pg->ncounters; k++)
                fprintf(out, " %s", pg->counters[k].name);
            fputs(lingering_of(pg) >= 0 ? " lingering\n" : "\n", out);
        }
        fprintf(out, "%-8d %-15s %-6s %-5s ", (int)pg->pid, f->procs[i].comm, pg->mode,
                pg->async ? "yes" : "no");
        print_time(out, pg->made_at);
        for (uint32_t k = 0; k < pg->ncounters; k++)
            fprintf(out, " %*llu", (int)strlen(pg->counters[k].name),
                    (unsigned long long)pg->counters[k].value);
        if (lingering_of(pg) >= 0)
            fprintf(out, " %9lld", lingering_of(pg));
        putc('\n', out);
    }
}

/* node_exporter's textfile format: a counter per name, one series a
 * process, labelled by pid and command name; each metric's lines form one
 * group, as the format requires. */
static void print_prometheus(FILE *out, const struct found *f)
{
    fprintf(out, "# HELP libnorst_processes Processes with live libnorst counters.\n"
                 "# TYPE libnorst_processes gauge\nlibnorst_processes %zu\n",
            f->count);
    for (size_t i = 0; i < f->count; i++) {
        for (uint32_t k = 0; k < f->procs[i].page.ncounters; k++) {
            const char *name = f->procs[i].page.counters[k].name;
            size_t j = 0;
            while (j < i && counter_of(&f->procs[j].page, name) < 0)
                j++;
            if (j < i)
                continue; /* printed with an earlier process */
            fprintf(out, "# HELP libnorst_%s_total libnorst counter %s since the process loaded it.\n"
                         "# TYPE libnorst_%s_total counter\n",
                    name, name, name);
            for (j = i; j < f->count; j++) {
                long long v = counter_of(&f->procs[j].page, name);
                if (v < 0)
                    continue;
                fprintf(out, "libnorst_%s_total{pid=\"%d\",comm=", name, (int)f->procs[j].page.pid);
                print_quoted(out, f->procs[j].comm, OUTPUT_PROMETHEUS);
                fprintf(out, "} %lld\n", v);
            }
        }
    }
    int header = 0;
    for (size_t i = 0; i < f->count; i++) {
        long long now = lingering_of(&f->procs[i].page);
        if (now < 0)
            continue;
        if (!header++)
            fputs("# HELP libnorst_lingering Sockets the process's background thread holds now.\n"
                  "# TYPE libnorst_lingering gauge\n",
                  out);
        fprintf(out, "libnorst_lingering{pid=\"%d\",comm=", (int)f->procs[i].page.pid);
        print_quoted(out, f->procs[i].comm, OUTPUT_PROMETHEUS);
        fprintf(out, "} %lld\n", now);
    }
}

/* DIR/libnorst.prom, replaced whole by a rename: node_exporter never reads
 * half a file. */
static int write_prometheus(const char *dir, const struct found *f)
{
    char tmp[4096], final[4096];
    snprintf(final, sizeof final, "%s/libnorst.prom", dir);
    snprintf(tmp, sizeof tmp, "%s/.libnorst.prom.%ld", dir, (long)getpid());
    FILE *out = fopen(tmp, "we");
    if (!out) {
        fprintf(stderr, "norst status: %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    print_prometheus(out, f);
    int failed = ferror(out) | fflush(out) | fsync(fileno(out));
    failed |= fclose(out);
    if (failed || rename(tmp, final) < 0) {
        fprintf(stderr, "norst status: %s: %s\n", final, strerror(errno));
        unlink(tmp);
        return 1;
    }
    return 0;
}

static int by_pid(const void *a, const void *b)
{
    const struct process *x = a, *y = b;
    return (x->page.pid > y->page.pid) - (x->page.pid < y->page.pid);
}

int status_main(int argc, char **argv)
{
    static const char usage[] =
        "usage: norst status [--json | --prometheus DIR] [--dir DIR] [PID...]\n"
        "Shows the live counters of running processes that loaded libnorst (all that\n"
        "the caller may see, or the PIDs given), and removes pages left by processes\n"
        "that are gone.\n"
        "      --json            one JSON object per process\n"
        "      --prometheus DIR  write DIR/libnorst.prom for node_exporter instead\n"
        "      --dir DIR         where the pages are (NORST_STATUS_DIR, or " STATUS_DEFAULT_DIR ")\n";
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"prometheus", required_argument, NULL, 'p'},
        {"dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *env_dir = getenv(config_vars[CONFIG_STATUS_DIR].name), *base = NULL, *prometheus = NULL;
    enum output how = OUTPUT_TABLE;
    struct found f = {NULL, 0, 0};
    long *pids;
    int opt, status = 0;

    unsigned long long choice = DIRECTORY_DEFAULT;
    argv[0] = "norst status";
    while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
        switch (opt) {
        case 'j': how = OUTPUT_JSON; break;
        case 'p': how = OUTPUT_PROMETHEUS; prometheus = optarg; break;
        case 'd': base = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    /* Without --dir, the variable as the library reads it: a bad value
     * means the default there too. */
    if (!base && env_dir && config_parse_value(&config_vars[CONFIG_STATUS_DIR], env_dir, &choice) < 0)
        choice = DIRECTORY_DEFAULT;
    if (!base && choice == DIRECTORY_OFF) {
        fputs("norst status: NORST_STATUS_DIR=off: no process writes live counters\n", stderr);
        return 1;
    }
    if (!base)
        base = choice == DIRECTORY_GIVEN ? env_dir : STATUS_DEFAULT_DIR;
    size_t npids = (size_t)(argc - optind);
    pids = xrealloc(NULL, npids * sizeof *pids);
    for (size_t i = 0; i < npids; i++) {
        char *end;
        pids[i] = strtol(argv[optind + (int)i], &end, 10);
        if (*end || pids[i] <= 0) {
            fprintf(stderr, "norst status: not a process id: %s\n%s", argv[optind + (int)i], usage);
            free(pids);
            return 2;
        }
    }
    collect(base, pids, npids, &f);
    if (f.count)
        qsort(f.procs, f.count, sizeof *f.procs, by_pid);
    for (size_t i = 0; i < npids; i++) {
        size_t k = 0;
        while (k < f.count && f.procs[k].page.pid != pids[i])
            k++;
        if (k == f.count) {
            fprintf(stderr,
                    "norst status: pid %ld: no live counters in %s (not running, not with libnorst, "
                    "closed no TCP connection yet, NORST_MODE=off, NORST_STATUS_DIR elsewhere, or "
                    "another user's)\n",
                    pids[i], base);
            status = 1;
        }
    }
    if (f.stale_removed)
        fprintf(stderr, "norst status: removed %d page%s of processes that are gone\n", f.stale_removed,
                f.stale_removed == 1 ? "" : "s");
    if (how == OUTPUT_PROMETHEUS)
        status |= write_prometheus(prometheus, &f);
    else if (how == OUTPUT_JSON)
        print_json(stdout, &f);
    else if (f.count)
        print_table(stdout, &f);
    else if (!npids)
        fprintf(stderr, "norst status: no process with libnorst's live counters in %s\n", base);
    free(f.procs);
    free(pids);
    return status;
}
