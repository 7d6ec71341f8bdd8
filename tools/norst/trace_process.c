/* Who a pid is, read from /proc after its first RST: the executable (and
 * from its ELF headers, whether LD_PRELOAD can reach it), the systemd unit,
 * the owner and the command line. A process may be gone by then: what the
 * kernel said (its comm) is all there is. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../shim/cgroup_unit.h"
#include "tool.h"
#include "trace.h"

#define PROCESSES_MAX 4096 /* pids remembered; past it, each lookup reads /proc again */

const char *const preload_words[] = {
    [PRELOAD_YES] = "yes", [PRELOAD_STATIC] = "static", [PRELOAD_GO] = "go",
    [PRELOAD_KERNEL] = "kernel", [PRELOAD_UNKNOWN] = "unknown",
};

static struct process_info *known;
static size_t known_count;

static size_t read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, cap - 1);
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t)n : 0;
}

/* src into dst[cap], cut to fit: a name, not a key. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t len = strnlen(src, cap - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static enum preload_verdict verdict_of(const char *exe)
{
    struct elf_info elf;
    if (!exe[0] || !elf_inspect(exe, &elf))
        return PRELOAD_UNKNOWN;
    if (elf.is_go)
        return PRELOAD_GO;
    return elf.has_interp ? PRELOAD_YES : PRELOAD_STATIC;
}

static void read_process(struct process_info *p, const char *comm)
{
    char path[64], text[4096];
    copy_cut(p->comm, sizeof p->comm, comm);
    p->uid = -1;
    p->preload = p->pid == 0 ? PRELOAD_KERNEL : PRELOAD_UNKNOWN;
    if (p->pid == 0)
        return;
    snprintf(path, sizeof path, "/proc/%d/exe", (int)p->pid);
    ssize_t len = readlink(path, p->exe, sizeof p->exe - 1);
    p->exe[len > 0 ? len : 0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/comm", (int)p->pid);
    if (read_file(path, text, sizeof text)) {
        text[strcspn(text, "\n")] = '\0';
        copy_cut(p->comm, sizeof p->comm, text);
    }
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)p->pid);
    if (read_file(path, text, sizeof text))
        cgroup_unit(text, p->unit, sizeof p->unit);
    /* the command line to run it again: the executable, then its arguments */
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)p->pid);
    size_t n = read_file(path, text, sizeof text), args = strnlen(text, n) + 1;
    for (size_t i = args; i + 1 < n; i++)
        text[i] = text[i] ? text[i] : ' ';
    snprintf(p->cmdline, sizeof p->cmdline, "%s%s%.*s", p->exe, args < n ? " " : "",
             (int)(args < n ? n - args : 0), text + args);
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", (int)p->pid);
    if (stat(path, &st) == 0)
        p->uid = (long)st.st_uid;
    p->preload = verdict_of(p->exe);
}

const struct process_info *process_lookup(pid_t pid, const char *comm)
{
    for (size_t i = 0; i < known_count; i++)
        if (known[i].pid == pid)
            return &known[i];
    static struct process_info spare;
    struct process_info *p = &spare;
    if (known_count < PROCESSES_MAX) {
        known = xrealloc(known, (known_count + 1) * sizeof *known);
        p = &known[known_count++];
    }
    memset(p, 0, sizeof *p);
    p->pid = pid;
    read_process(p, comm);
    return p;
}
