/* What a program's ELF headers tell about interposing its close():
 *   no PT_INTERP       statically linked, the dynamic loader never runs;
 *   Go sections/notes  the Go runtime makes its own system calls;
 *   set-user-ID       the loader's secure mode;
 * and what norst report --resolve needs to name a frame: the build-id,
 * whether symbols or DWARF are there, and where a file offset loads.
 * Both classes (32/64-bit) and both byte orders; every offset and count is
 * checked against the file's size before it is used. */
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

#define NT_GO_BUILDID 4       /* the Go linker's build-id note, owner "Go" */
#define NOTE_SCAN_MAX 65536   /* bytes of a PT_NOTE segment looked at */

struct elf_file {
    int fd;
    uint64_t size;
    int is64, swap;
};

/* The ELF header's fields that matter here, whatever the class. */
struct ehdr {
    unsigned type, machine;
    uint64_t phoff, shoff;
    unsigned phentsize, shentsize, shstrndx;
    uint64_t phnum, shnum;
};

struct phdr {
    uint32_t type;
    uint64_t offset, filesz, align, vaddr;
};

struct shdr {
    uint32_t name, type, link, info;
    uint64_t offset, size;
};

static uint16_t f16(const struct elf_file *f, uint16_t v)
{
    return f->swap ? __builtin_bswap16(v) : v;
}

static uint32_t f32(const struct elf_file *f, uint32_t v)
{
    return f->swap ? __builtin_bswap32(v) : v;
}

static uint64_t f64(const struct elf_file *f, uint64_t v)
{
    return f->swap ? __builtin_bswap64(v) : v;
}

/* Exactly len bytes at off, or -1 if the file is shorter. */
static int read_at(const struct elf_file *f, uint64_t off, void *buf, size_t len)
{
    if (off > f->size || len > f->size - off)
        return -1;
    for (size_t done = 0; done < len;) {
        ssize_t n = pread(f->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* A table of count entries of entsize bytes (at least min) fits in the file. */
static int table_fits(const struct elf_file *f, uint64_t off, uint64_t count,
                      unsigned entsize, size_t min)
{
    return entsize >= min && off <= f->size && count <= (f->size - off) / entsize;
}

/* Each reader takes the header of the file's class, in the file's byte order. */
static int read_ehdr(const struct elf_file *f, struct ehdr *h)
{
    union { Elf64_Ehdr w; Elf32_Ehdr n; } e;
    if (read_at(f, 0, &e, f->is64 ? sizeof e.w : sizeof e.n) < 0)
        return -1;
    if (f->is64)
        *h = (struct ehdr){f16(f, e.w.e_type), f16(f, e.w.e_machine), f64(f, e.w.e_phoff),
                           f64(f, e.w.e_shoff), f16(f, e.w.e_phentsize), f16(f, e.w.e_shentsize),
                           f16(f, e.w.e_shstrndx), f16(f, e.w.e_phnum), f16(f, e.w.e_shnum)};
    else
        *h = (struct ehdr){f16(f, e.n.e_type), f16(f, e.n.e_machine), f32(f, e.n.e_phoff),
                           f32(f, e.n.e_shoff), f16(f, e.n.e_phentsize), f16(f, e.n.e_shentsize),
                           f16(f, e.n.e_shstrndx), f16(f, e.n.e_phnum), f16(f, e.n.e_shnum)};
    return 0;
}

/* Entry i of a table of entsize-byte entries, as long as the class's struct. */
static int read_entry(const struct elf_file *f, uint64_t table, unsigned entsize, uint64_t i,
                      void *buf, size_t size64, size_t size32)
{
    return read_at(f, table + i * entsize, buf, f->is64 ? size64 : size32);
}

static int read_phdr(const struct elf_file *f, const struct ehdr *h, uint64_t i, struct phdr *p)
{
    union { Elf64_Phdr w; Elf32_Phdr n; } e;
    if (read_entry(f, h->phoff, h->phentsize, i, &e, sizeof e.w, sizeof e.n) < 0)
        return -1;
    *p = f->is64 ? (struct phdr){f32(f, e.w.p_type), f64(f, e.w.p_offset), f64(f, e.w.p_filesz),
                                 f64(f, e.w.p_align), f64(f, e.w.p_vaddr)}
                 : (struct phdr){f32(f, e.n.p_type), f32(f, e.n.p_offset), f32(f, e.n.p_filesz),
                                 f32(f, e.n.p_align), f32(f, e.n.p_vaddr)};
    return 0;
}

static int read_shdr(const struct elf_file *f, const struct ehdr *h, uint64_t i, struct shdr *s)
{
    union { Elf64_Shdr w; Elf32_Shdr n; } e;
    if (read_entry(f, h->shoff, h->shentsize, i, &e, sizeof e.w, sizeof e.n) < 0)
        return -1;
    *s = f->is64 ? (struct shdr){f32(f, e.w.sh_name), f32(f, e.w.sh_type), f32(f, e.w.sh_link),
                                 f32(f, e.w.sh_info), f64(f, e.w.sh_offset), f64(f, e.w.sh_size)}
                 : (struct shdr){f32(f, e.n.sh_name), f32(f, e.n.sh_type), f32(f, e.n.sh_link),
                                 f32(f, e.n.sh_info), f32(f, e.n.sh_offset), f32(f, e.n.sh_size)};
    return 0;
}

/* Counts too large for the ELF header live in section 0 (PN_XNUM, SHN_XINDEX). */
static void extended_counts(const struct elf_file *f, struct ehdr *h)
{
    struct shdr s0;
    if (h->shoff == 0 || h->shentsize < (f->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr)) ||
        read_shdr(f, h, 0, &s0) < 0)
        return;
    if (h->phnum == PN_XNUM)
        h->phnum = s0.info;
    if (h->shnum == 0)
        h->shnum = s0.size;
    if (h->shstrndx == SHN_XINDEX)
        h->shstrndx = s0.link;
}

/* The descriptor of the note of this owner and type in a PT_NOTE segment,
 * at most cap bytes of it into desc_out (may be NULL); its size, or -1. */
static long find_note(const struct elf_file *f, const struct phdr *p, const char *owner,
                      uint32_t type, unsigned char *desc_out, size_t cap)
{
    unsigned char buf[NOTE_SCAN_MAX];
    uint64_t len = p->filesz < sizeof buf ? p->filesz : sizeof buf;
    uint64_t align = p->align == 8 ? 8 : 4, owner_len = strlen(owner) + 1;
    if (read_at(f, p->offset, buf, (size_t)len) < 0)
        return -1;
    for (uint64_t off = 0; off + 12 <= len;) {
        uint32_t word[3];
        memcpy(word, buf + off, sizeof word);
        uint64_t namesz = f32(f, word[0]), descsz = f32(f, word[1]);
        uint64_t name = off + 12;
        uint64_t desc = name + ((namesz + align - 1) & ~(align - 1));
        if (namesz > len || descsz > len || desc > len || descsz > len - desc)
            return -1;
        /* The Go linker writes its name padded, "Go\0\0" (namesz 4). */
        if (f32(f, word[2]) == type && namesz >= owner_len &&
            memcmp(buf + name, owner, owner_len) == 0) {
            if (desc_out)
                memcpy(desc_out, buf + desc, descsz < cap ? descsz : cap);
            return (long)descsz;
        }
        off = desc + ((descsz + align - 1) & ~(align - 1));
    }
    return -1;
}

/* Whether the section's name is one of names[count]. */
static int section_named(const struct elf_file *f, uint64_t strtab_off, uint64_t strtab_size,
                         uint32_t name, const char *const *names, size_t count)
{
    char buf[24];
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(names[i]) + 1;
        if (name < strtab_size && len <= strtab_size - name &&
            read_at(f, strtab_off + name, buf, len) == 0 && memcmp(buf, names[i], len) == 0)
            return 1;
    }
    return 0;
}

/* Whether a section has one of names[count], or the type (0: any). */
static int has_section(const struct elf_file *f, const struct ehdr *h, const char *const *names,
                       size_t count, uint32_t type)
{
    struct shdr strtab, s;
    size_t min = f->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
    if (h->shoff == 0 || !table_fits(f, h->shoff, h->shnum, h->shentsize, min) ||
        h->shstrndx >= h->shnum || read_shdr(f, h, h->shstrndx, &strtab) < 0)
        return 0;
    for (uint64_t i = 1; i < h->shnum; i++)
        if (read_shdr(f, h, i, &s) == 0 &&
            ((type && s.type == type) ||
             section_named(f, strtab.offset, strtab.size, s.name, names, count)))
            return 1;
    return 0;
}

/* Opens path as an ELF executable or shared object whose program header
 * table fits in it: 0, and *f, *h filled in (close f->fd); or -1. */
static int elf_open(const char *path, struct elf_file *f, struct ehdr *h, int *elf_class)
{
    unsigned char ident[EI_NIDENT];
    struct stat st;
    static const int native =
        __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;

    *f = (struct elf_file){.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
    if (f->fd < 0)
        return -1;
    if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode))
        goto fail;
    f->size = (uint64_t)st.st_size;
    if (read_at(f, 0, ident, sizeof ident) < 0 || memcmp(ident, ELFMAG, SELFMAG) != 0 ||
        (ident[EI_CLASS] != ELFCLASS32 && ident[EI_CLASS] != ELFCLASS64) ||
        (ident[EI_DATA] != ELFDATA2LSB && ident[EI_DATA] != ELFDATA2MSB))
        goto fail;
    f->is64 = ident[EI_CLASS] == ELFCLASS64;
    f->swap = ident[EI_DATA] != native;
    *elf_class = ident[EI_CLASS];
    if (read_ehdr(f, h) < 0 || (h->type != ET_EXEC && h->type != ET_DYN))
        goto fail;
    extended_counts(f, h);
    if (!table_fits(f, h->phoff, h->phnum, h->phentsize,
                    f->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
        goto fail;
    return 0;
fail:
    close(f->fd);
    return -1;
}

static void hex_of(char *out, const unsigned char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = "0123456789abcdef"[bytes[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

int elf_inspect(const char *path, struct elf_info *out)
{
    static const char *const go_names[] = {".go.buildinfo", ".note.go.buildid"};
    static const char *const debug_names[] = {".debug_info", ".zdebug_info"};
    unsigned char id[ELF_BUILD_ID_MAX];
    struct elf_file f;
    struct ehdr h;
    struct phdr p;
    int elf_class, ok = 1;

    if (elf_open(path, &f, &h, &elf_class) < 0)
        return 0;
    memset(out, 0, sizeof *out);
    out->elf_class = elf_class;
    out->machine = h.machine;
    for (uint64_t i = 0; ok && i < h.phnum; i++) {
        long n;
        if (read_phdr(&f, &h, i, &p) < 0)
            ok = 0;
        else if (p.type == PT_INTERP)
            out->has_interp = 1;
        else if (p.type == PT_NOTE && !out->is_go)
            out->is_go = find_note(&f, &p, "Go", NT_GO_BUILDID, NULL, 0) >= 0;
        if (ok && p.type == PT_NOTE && !out->build_id[0] &&
            (n = find_note(&f, &p, "GNU", NT_GNU_BUILD_ID, id, sizeof id)) > 0)
            hex_of(out->build_id, id, (size_t)n < sizeof id ? (size_t)n : sizeof id);
    }
    if (ok && !out->is_go)
        out->is_go = has_section(&f, &h, go_names, 2, 0);
    out->has_symtab = ok && has_section(&f, &h, NULL, 0, SHT_SYMTAB);
    out->has_debug_info = ok && has_section(&f, &h, debug_names, 2, 0);
    close(f.fd);
    return ok;
}

unsigned preload_obstacles(const char *file, const char *lib)
{
    struct elf_info prog, libinfo;
    struct stat st;
    unsigned found = 0;

    if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    if (st.st_mode & S_ISUID)
        found |= OBSTACLE_SETUID;
    else if (st.st_mode & S_ISGID)
        found |= OBSTACLE_SETGID;
    if (!elf_inspect(file, &prog))
        return found; /* a script, say: its interpreter is what runs */
    if (!prog.has_interp)
        found |= OBSTACLE_STATIC;
    if (prog.is_go)
        found |= OBSTACLE_GO;
    if (prog.has_interp && lib && elf_inspect(lib, &libinfo) &&
        (libinfo.elf_class != prog.elf_class || libinfo.machine != prog.machine))
        found |= OBSTACLE_OTHER_ARCH;
    return found;
}

const char *preload_obstacle_text(enum preload_obstacle which, const char *lib, char *buf,
                                  size_t len)
{
    switch (which) {
    case OBSTACLE_SETUID:
        return "is set-user-ID: the dynamic loader ignores LD_PRELOAD paths with slashes and "
               "libnorst's NORST_* settings for it";
    case OBSTACLE_SETGID:
        return "is set-group-ID: the dynamic loader ignores LD_PRELOAD paths with slashes and "
               "libnorst's NORST_* settings for it";
    case OBSTACLE_STATIC:
        return "is statically linked: LD_PRELOAD cannot interpose its close()";
    case OBSTACLE_GO:
        return "is a Go program: Go makes its own system calls, libnorst cannot see its closes";
    case OBSTACLE_OTHER_ARCH:
        snprintf(buf, len, "is built for another architecture than %s: the dynamic loader "
                           "will skip the library", lib);
        return buf;
    }
    return "";
}

int elf_vaddr_of(const char *path, uint64_t offset, uint64_t *vaddr)
{
    struct elf_file f;
    struct ehdr h;
    struct phdr p;
    int elf_class, found = 0;

    if (elf_open(path, &f, &h, &elf_class) < 0)
        return 0;
    for (uint64_t i = 0; !found && i < h.phnum; i++)
        if (read_phdr(&f, &h, i, &p) == 0 && p.type == PT_LOAD && offset >= p.offset &&
            offset - p.offset < p.filesz) {
            *vaddr = p.vaddr + (offset - p.offset);
            found = 1;
        }
    close(f.fd);
    return found;
}
