/* The process's identity, read at load into static buffers. A library
 * loaded into a program that execs is loaded anew in the new image, so
 * "at load" is also "after exec". A prctl(PR_SET_NAME) later is not seen:
 * the events name the program as it started. */
#include <fcntl.h>
#include <string.h>

#include "identity.h"
#include "sys.h"

#ifndef NORST_VERSION
#error "NORST_VERSION: the build defines the library's version"
#endif

static char comm[17];   /* TASK_COMM_LEN is 16, its NUL included */
static char exe[256];   /* longer paths are cut: a name, not a key */
static char unit[192];  /* "" when the process is in the root cgroup */
static unsigned long uid;

/* The file's first cap-1 bytes, NUL-terminated; the length, or 0. */
static size_t read_small(const char *path, char *buf, size_t cap)
{
    long fd = sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    long n, len = 0;
    if (fd < 0)
        return 0;
    while (len < (long)cap - 1 && (n = sys3(SYS_read, fd, buf + len, cap - 1 - (size_t)len)) > 0)
        len += n;
    sys1(SYS_close, fd);
    buf[len] = '\0';
    return (size_t)len;
}

/* The cgroup path of the line "hierarchy:controllers:path" that names the
 * process's place best: the unified hierarchy's ("0::"), else systemd's
 * own v1 hierarchy's, else the first that is not the root. */
static const char *cgroup_path(char *text)
{
    const char *best = NULL;
    int best_rank = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *path = strchr(line, ':') ? strchr(strchr(line, ':') + 1, ':') : NULL;
        if (path && strcmp(++path, "/") != 0) {
            int rank = strncmp(line, "0::", 3) == 0               ? 3
                       : strstr(line, ":name=systemd:") != NULL ? 2
                                                                : 1;
            if (rank > best_rank) {
                best = path;
                best_rank = rank;
            }
        }
        line = next;
    }
    return best;
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* The innermost unit on the path (systemd names a service's or a scope's
 * cgroup after it: /system.slice/redis-server.service), else the path. */
static void set_unit(const char *path)
{
    const char *found = NULL;
    size_t found_len = 0;
    for (const char *p = path; *p;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (ends_with(p, len, ".service") || ends_with(p, len, ".scope")) {
            found = p;
            found_len = len;
        }
        p += len + (end != NULL);
    }
    if (!found) {
        found = path;
        found_len = strlen(path);
    }
    if (found_len >= sizeof unit)
        found_len = sizeof unit - 1;
    memcpy(unit, found, found_len);
    unit[found_len] = '\0';
}

void identity_load(void)
{
    static char cgroups[4096];
    size_t n = read_small("/proc/self/comm", comm, sizeof comm);
    if (n && comm[n - 1] == '\n')
        comm[n - 1] = '\0';
    long len = sys4(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe, sizeof exe - 1);
    exe[len > 0 ? len : 0] = '\0';
    uid = (unsigned long)sys0(SYS_getuid);
    if (read_small("/proc/self/cgroup", cgroups, sizeof cgroups)) {
        const char *path = cgroup_path(cgroups);
        if (path)
            set_unit(path);
    }
}

/* A text line's values are separated by spaces: a space in a name (comm
 * may hold one) is escaped as JSON would write it, with the rest. */
static void fmt_text_value(struct fmtbuf *b, const char *s)
{
    if (!*s) {
        fmt_str(b, "-");
        return;
    }
    for (const char *space; (space = strchr(s, ' ')); s = space + 1) {
        fmt_json_chars(b, s, (size_t)(space - s));
        fmt_str(b, "\\u0020");
    }
    fmt_json_chars(b, s, strlen(s));
}

void fmt_identity(struct fmtbuf *b, enum identity_field f, enum identity_form form)
{
    const char *s = f == ID_COMM ? comm : f == ID_EXE ? exe : f == ID_UNIT ? unit : NORST_VERSION;
    if (f == ID_UID)
        fmt_ulong(b, uid);
    else if (form == ID_TEXT)
        fmt_text_value(b, s);
    else if (f != ID_UNIT)
        fmt_json_chars(b, s, strlen(s));
    else if (*s)
        fmt_json_str(b, s);
    else
        fmt_str(b, "null");
}
