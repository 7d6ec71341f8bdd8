/* Names the code that closed the socket: "handle_client+0x3f in /srv/app".
 *
 * dladdr() would take the loader's lock and knows only dynamic symbols, so
 * this reads /proc/self/maps to find the object mapped at the address, maps
 * that file, and looks the address up in its .symtab (or .dynsym when
 * stripped). Raw syscalls and small stack buffers only: it may run in a
 * signal handler on a small alternate stack, and it runs only when an event
 * is logged. */
#include <elf.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "callsite.h"
#include "event.h"
#include "fmt.h"
#include "sys.h"

#if UINTPTR_MAX == 0xffffffffffffffffULL
typedef Elf64_Ehdr Ehdr;
typedef Elf64_Phdr Phdr;
typedef Elf64_Shdr Shdr;
typedef Elf64_Sym Sym;
#define ST_TYPE ELF64_ST_TYPE
#else
typedef Elf32_Ehdr Ehdr;
typedef Elf32_Phdr Phdr;
typedef Elf32_Shdr Shdr;
typedef Elf32_Sym Sym;
#define ST_TYPE ELF32_ST_TYPE
#endif

/* A maps line's head (addresses, perms, offset, dev, inode and the padding
 * to the path's column) takes under 110 bytes on 64-bit: a path shorter
 * than PATH_ROOM always fits whole in line, and a longer one still shows as
 * at least PATH_ROOM long, which is refused. */
#define PATH_ROOM 256

struct mapping {
    uintptr_t start, end, offset;
    const char *path; /* in line */
    char line[PATH_ROOM + 128];
};

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

static const char *skip_fields(const char *p, int count)
{
    for (int field = 0; field < count; field++) {
        while (*p == ' ')
            p++;
        while (*p && *p != ' ')
            p++;
    }
    while (*p == ' ')
        p++;
    return p;
}

/* One maps line, in m->line: "start-end perms offset dev inode   path". */
static int parse_maps_line(uintptr_t addr, struct mapping *m)
{
    uintptr_t start, end, offset;
    const char *p = parse_hex(m->line, &start);
    if (*p != '-')
        return 0;
    p = parse_hex(p + 1, &end);
    if (addr < start || addr >= end)
        return 0;
    p = parse_hex(skip_fields(p, 1), &offset); /* after perms */
    p = skip_fields(p, 2);                       /* dev and inode */
    if (*p != '/' || strlen(p) >= PATH_ROOM)
        return 0;
    m->path = p;
    m->start = start;
    m->end = end;
    m->offset = offset;
    return 1;
}

/* noinline, here and below: the two run one after the other, so their
 * buffers need not share one frame. */
static __attribute__((noinline)) int find_mapping(uintptr_t addr, struct mapping *m)
{
    char buf[256]; /* the kernel keeps its place between reads */
    size_t line_len = 0;
    long fd = sys4(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0), n;
    int found = 0;
    if (fd < 0)
        return 0;
    while (!found && (n = sys3(SYS_read, fd, buf, sizeof buf)) > 0) {
        for (long i = 0; i < n && !found; i++) {
            if (buf[i] != '\n') {
                if (line_len < sizeof m->line - 1)
                    m->line[line_len++] = buf[i];
                continue;
            }
            m->line[line_len] = '\0';
            found = parse_maps_line(addr, m);
            line_len = 0;
        }
    }
    sys1(SYS_close, fd);
    return found;
}

/* The symbol covering vaddr in a mapped ELF image, or NULL. */
static const char *lookup_symbol(const unsigned char *image, size_t size, uintptr_t vaddr,
                                 uintptr_t *sym_start)
{
    const Ehdr *eh = (const Ehdr *)image;
    if (eh->e_shoff == 0 || eh->e_shoff + (size_t)eh->e_shnum * sizeof(Shdr) > size)
        return NULL;
    const Shdr *sh = (const Shdr *)(image + eh->e_shoff);
    for (int pass = 0; pass < 2; pass++) {
        unsigned want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
        for (unsigned i = 0; i < eh->e_shnum; i++) {
            if (sh[i].sh_type != want || sh[i].sh_link >= eh->e_shnum)
                continue;
            const Shdr *strs = &sh[sh[i].sh_link];
            if (sh[i].sh_offset + sh[i].sh_size > size || strs->sh_offset + strs->sh_size > size)
                continue;
            const Sym *syms = (const Sym *)(image + sh[i].sh_offset);
            size_t count = sh[i].sh_size / sizeof(Sym);
            for (size_t s = 0; s < count; s++) {
                if (ST_TYPE(syms[s].st_info) != STT_FUNC || syms[s].st_value > vaddr ||
                    vaddr >= syms[s].st_value + (syms[s].st_size ? syms[s].st_size : 1) ||
                    syms[s].st_name >= strs->sh_size)
                    continue;
                const char *name = (const char *)image + strs->sh_offset + syms[s].st_name;
                if (memchr(name, '\0', strs->sh_size - syms[s].st_name) == NULL)
                    continue;
                *sym_start = syms[s].st_value;
                return name;
            }
        }
    }
    return NULL;
}

/* Where the text goes: into b as it is, or (json) escaped into b, at most
 * left bytes of text in all. */
struct site_out {
    struct fmtbuf *b;
    int json;
    size_t left;
};

static void out_str(struct site_out *o, const char *s)
{
    if (!o->json) {
        fmt_str(o->b, s);
        return;
    }
    size_t n = strnlen(s, o->left);
    o->left -= n;
    fmt_json_chars(o->b, s, n);
}

static void out_hex(struct site_out *o, unsigned long long v)
{
    char text[24];
    struct fmtbuf t = {text, 0, sizeof text};
    fmt_hex(&t, v);
    out_str(o, text);
}

/* Map the mapping's file and name the address; 0 if the file is unusable. */
static __attribute__((noinline)) int describe_in_file(struct site_out *o, const struct mapping *m,
                                                     uintptr_t addr)
{
    long fd = sys4(SYS_openat, AT_FDCWD, m->path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int ok = 0;
    /* The file's size without a struct stat (144 bytes) on the stack. */
    long end = sys3(SYS_lseek, fd, 0, SEEK_END);
    if (end >= (long)sizeof(Ehdr)) {
        size_t size = (size_t)end;
        long map = raw_syscall6(SYS_mmap, 0, (long)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map < 0 && map > -4096)
            map = 0;
        const unsigned char *image = (const unsigned char *)map;
        const Ehdr *eh = (const Ehdr *)image;
        if (image && memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
            eh->e_phoff + (size_t)eh->e_phnum * sizeof(Phdr) <= size) {
            /* file offset of the address, then the segment that holds it */
            uintptr_t file_off = m->offset + (addr - m->start), vaddr = 0;
            const Phdr *ph = (const Phdr *)(image + eh->e_phoff);
            for (unsigned i = 0; i < eh->e_phnum; i++)
                if (ph[i].p_type == PT_LOAD && file_off >= ph[i].p_offset &&
                    file_off < ph[i].p_offset + ph[i].p_filesz)
                    vaddr = ph[i].p_vaddr + (file_off - ph[i].p_offset);
            uintptr_t sym_start = 0;
            const char *name = vaddr ? lookup_symbol(image, size, vaddr, &sym_start) : NULL;
            /* shown as the return address, as debuggers do */
            if (name) {
                out_str(o, name);
                out_str(o, "+");
                out_hex(o, vaddr + 1 - sym_start);
            } else {
                out_hex(o, vaddr + 1);
            }
            ok = 1;
        }
        if (image)
            sys2(SYS_munmap, image, size);
    }
    sys1(SYS_close, fd);
    return ok;
}

static void callsite(struct site_out *o, const void *caller)
{
    struct mapping m;
    /* The return address points after the call; step back into it. */
    uintptr_t addr = (uintptr_t)caller - 1;
    if (!caller) {
        out_str(o, "(unknown)");
        return;
    }
    if (!find_mapping(addr, &m)) {
        out_hex(o, addr + 1);
        return;
    }
    size_t mark = o->b->len, left = o->left;
    if (!describe_in_file(o, &m, addr)) {
        o->b->len = mark;
        o->left = left;
        out_hex(o, addr + 1 - m.start + m.offset);
    }
    out_str(o, " in ");
    out_str(o, m.path);
}

/* Call sites named ahead, for the reaper thread. Naming one opens files
 * (/proc/self/maps, the object); an fd opened there, even for a moment,
 * takes the lowest free number while the application's threads run, and
 * the application's next accept() or open() would get another number than
 * without the library. So the closing thread names the call site before it
 * hands a socket over, and the reaper only reads the names: a few slots,
 * since the sites that close sockets in a program are few. */
#define SITE_SLOTS 32
#define SITE_TEXT 400

static struct {
    _Atomic uintptr_t caller; /* 0: free; claimed by the first to name it */
    _Atomic int ready;
    char text[SITE_TEXT];
} sites[SITE_SLOTS];

void callsite_remember(const void *caller)
{
    for (int i = 0; caller && i < SITE_SLOTS; i++) {
        uintptr_t seen = atomic_load_explicit(&sites[i].caller, memory_order_acquire);
        if (seen == (uintptr_t)caller)
            return;
        if (seen == 0 && atomic_compare_exchange_strong(&sites[i].caller, &seen, (uintptr_t)caller)) {
            struct fmtbuf t = {sites[i].text, 0, SITE_TEXT - 1};
            struct site_out o = {&t, 0, 0};
            callsite(&o, caller);
            sites[i].text[t.len] = '\0';
            atomic_store_explicit(&sites[i].ready, 1, memory_order_release);
            return;
        }
    }
}

static const char *remembered(const void *caller)
{
    for (int i = 0; caller && i < SITE_SLOTS; i++)
        if (atomic_load_explicit(&sites[i].caller, memory_order_acquire) == (uintptr_t)caller)
            return atomic_load_explicit(&sites[i].ready, memory_order_acquire) ? sites[i].text
                                                                                : NULL;
    return NULL;
}

/* A name remembered, else the lookup (SITE_RESOLVE) or the bare address. */
static void site(struct site_out *o, const void *caller, enum site_lookup how)
{
    const char *text = remembered(caller);
    if (text)
        out_str(o, text);
    else if (how == SITE_RESOLVE)
        callsite(o, caller);
    else
        out_hex(o, (uintptr_t)caller);
}

void fmt_callsite(struct fmtbuf *b, const void *caller, enum site_lookup how)
{
    struct site_out o = {b, 0, 0};
    site(&o, caller, how);
}

void fmt_callsite_json(struct fmtbuf *b, const void *caller, size_t max, enum site_lookup how)
{
    struct site_out o = {b, 1, max};
    fmt_str(b, "\"");
    site(&o, caller, how);
    fmt_str(b, "\"");
}
