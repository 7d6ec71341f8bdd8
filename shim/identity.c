/* The process's identity, read at load into static buffers. A library
 * loaded into a program that execs is loaded anew in the new image, so
 * "at load" is also "after exec". A prctl(PR_SET_NAME) later is not seen:
 * the events name the program as it started. */
#include <fcntl.h>
#include <string.h>

#include "cgroup_unit.h"
#include "identity.h"
#include "sys.h"

#ifndef NORST_VERSION
#error "NORST_VERSION: the build defines the library's version"
#endif

static char comm[17];   /* TASK_COMM_LEN is 16, its NUL included */
static char exe[256];   /* longer paths are cut: a name, not a key */
static char unit[192];  /* cgroup_unit's: "" in the root cgroup */
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

void identity_load(void)
{
    static char cgroups[4096];
    size_t n = read_small("/proc/self/comm", comm, sizeof comm);
    if (n && comm[n - 1] == '\n')
        comm[n - 1] = '\0';
    long len = sys4(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe, sizeof exe - 1);
    exe[len > 0 ? len : 0] = '\0';
    uid = (unsigned long)sys0(SYS_getuid);
    if (read_small("/proc/self/cgroup", cgroups, sizeof cgroups))
        cgroup_unit(cgroups, unit, sizeof unit);
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
