/* Finds the mapping that holds an address in /proc/self/maps: where a
 * return address's object is mapped, and where its ELF header is.
 *
 * dl_iterate_phdr() would take the loader's lock; the maps file needs
 * none, and is read with raw system calls, so this may run inside close()
 * in a signal handler. */
#include <fcntl.h>
#include <string.h>

#include "maps.h"
#include "sys.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static const char *parse_hex(const char *p, uintptr_t *out)
{
    uintptr_t v = 0;
    int d;
    while ((d = hexval(*p)) >= 0) {
        v = v << 4 | (uintptr_t)d;
        p++;
    }
    *out = v;
    return p;
}

static const char *skip_spaces(const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

/* The last line that mapped a file's offset 0 (a file's mappings come in
 * address order, the header's first). */
struct file_id {
    uintptr_t dev, inode;
};
struct first_page {
    uintptr_t start;
    struct file_id file;
};

/* One maps line, m->line: "start-end perms offset major:minor inode path",
 * into m (all but base) and *file; 0 if it does not parse. */
static int parse_line(struct mapping *m, struct file_id *file)
{
    uintptr_t major, minor;
    const char *p = parse_hex(m->line, &m->start);
    if (*p != '-')
        return 0;
    p = parse_hex(p + 1, &m->end);
    p = skip_spaces(p);
    m->exec = p[0] && p[1] && p[2] == 'x';
    while (*p && *p != ' ')
        p++;
    p = parse_hex(skip_spaces(p), &m->offset);
    p = parse_hex(skip_spaces(p), &major);
    if (*p != ':')
        return 0;
    p = parse_hex(p + 1, &minor);
    file->dev = major << 20 | minor;
    file->inode = 0;
    for (p = skip_spaces(p); *p >= '0' && *p <= '9'; p++)
        file->inode = file->inode * 10 + (uintptr_t)(*p - '0');
    p = skip_spaces(p);
    m->path = *p == '/' && strlen(p) < PATH_ROOM ? p : NULL;
    return 1;
}

/* Whether the line in m holds addr; its base then, from first_page. */
static int take_line(uintptr_t addr, struct mapping *m, struct first_page *first_page)
{
    struct file_id file;
    if (!parse_line(m, &file))
        return 0;
    if (addr < m->start || addr >= m->end) {
        if (m->offset == 0 && file.inode != 0)
            *first_page = (struct first_page){m->start, file};
        return 0;
    }
    m->base = file.inode == 0 ? 0
              : m->offset == 0 ? m->start
              : first_page->file.inode == file.inode && first_page->file.dev == file.dev
                  ? first_page->start
                  : 0;
    return 1;
}

int maps_find(uintptr_t addr, struct mapping *m, size_t *budget)
{
    char buf[256]; /* the kernel keeps its place between reads */
    struct first_page first_page = {0};
    size_t line_len = 0;
    long fd = sys4(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0), n;
    int found = 0;
    if (fd < 0)
        return 0;
    while (!found && (!budget || *budget > 0) && (n = sys3(SYS_read, fd, buf, sizeof buf)) > 0) {
        if (budget)
            *budget = (size_t)n < *budget ? *budget - (size_t)n : 0;
        for (long i = 0; i < n && !found; i++) {
            if (buf[i] != '\n') {
                if (line_len < sizeof m->line - 1)
                    m->line[line_len++] = buf[i];
                continue;
            }
            m->line[line_len] = '\0';
            found = take_line(addr, m, &first_page);
            line_len = 0;
        }
    }
    sys1(SYS_close, fd);
    return found;
}
