/* Names the code that closed the socket: "handle_client+0x3f in /srv/app",
 * and each frame of its stack as a JSON object (symbol, object, build ID,
 * file offset).
 *
 * dladdr() would take the loader's lock and knows only dynamic symbols, so
 * this finds the object mapped at the address in /proc/self/maps (maps.c),
 * maps that file, and looks the address up in its .symtab (or .dynsym when
 * stripped), and the build ID in its notes. Raw syscalls and small stack buffers only: it may run in a
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
#include "maps.h"
#include "sys.h"

#if UINTPTR_MAX == 0xffffffffffffffffULL
typedef Elf64_Ehdr Ehdr;
typedef Elf64_Phdr Phdr;
typedef Elf64_Shdr Shdr;
typedef Elf64_Sym Sym;
typedef Elf64_Nhdr Nhdr;
#define ST_TYPE ELF64_ST_TYPE
#else
typedef Elf32_Ehdr Ehdr;
typedef Elf32_Phdr Phdr;
typedef Elf32_Shdr Shdr;
typedef Elf32_Sym Sym;
typedef Elf32_Nhdr Nhdr;
#define ST_TYPE ELF32_ST_TYPE
#endif

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

/* The object's build ID (its NT_GNU_BUILD_ID note), or 0 bytes. */
static size_t build_id(const unsigned char *image, size_t size, const unsigned char **id)
{
    const Ehdr *eh = (const Ehdr *)image;
    const Phdr *ph = (const Phdr *)(image + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_NOTE || ph[i].p_offset > size || ph[i].p_filesz > size - ph[i].p_offset)
            continue;
        size_t at = ph[i].p_offset, end = at + ph[i].p_filesz, align = ph[i].p_align == 8 ? 8 : 4;
        while (end - at >= sizeof(Nhdr)) {
            const Nhdr *n = (const Nhdr *)(image + at);
            size_t name = at + sizeof(Nhdr), namesz = (n->n_namesz + align - 1) & ~(align - 1);
            if (namesz > end - name)
                break;
            size_t desc = name + namesz, descsz = (n->n_descsz + align - 1) & ~(align - 1);
            if (descsz > end - desc)
                break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
                memcmp(image + name, "GNU", 4) == 0 && n->n_descsz > 0) {
                *id = image + desc;
                return n->n_descsz;
            }
            at = desc + descsz;
        }
    }
    return 0;
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

/* An object's file, mapped for reading while an address in it is named. */
struct object_file {
    long fd;
    const unsigned char *image;
    size_t size;
    uintptr_t vaddr; /* the address's, in the ELF's terms; 0 if no segment holds it */
};

static void object_close(struct object_file *f)
{
    if (f->image)
        sys2(SYS_munmap, f->image, f->size);
    sys1(SYS_close, f->fd);
}

/* Map the mapping's file; 0 if it is unusable. */
static __attribute__((noinline)) int object_open(const struct mapping *m, uintptr_t addr,
                                                struct object_file *f)
{
    f->fd = sys4(SYS_openat, AT_FDCWD, m->path, O_RDONLY | O_CLOEXEC, 0);
    f->image = NULL;
    if (f->fd < 0)
        return 0;
    /* The file's size without a struct stat (144 bytes) on the stack. */
    long end = sys3(SYS_lseek, f->fd, 0, SEEK_END);
    if (end >= (long)sizeof(Ehdr)) {
        f->size = (size_t)end;
        long map = raw_syscall6(SYS_mmap, 0, (long)f->size, PROT_READ, MAP_PRIVATE, f->fd, 0);
        f->image = map < 0 && map > -4096 ? NULL : (const unsigned char *)map;
    }
    const Ehdr *eh = (const Ehdr *)f->image;
    if (!f->image || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_phoff + (size_t)eh->e_phnum * sizeof(Phdr) > f->size) {
        object_close(f);
        return 0;
    }
    /* file offset of the address, then the segment that holds it */
    uintptr_t file_off = m->offset + (addr - m->start);
    const Phdr *ph = (const Phdr *)(f->image + eh->e_phoff);
    f->vaddr = 0;
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && file_off >= ph[i].p_offset &&
            file_off < ph[i].p_offset + ph[i].p_filesz)
            f->vaddr = ph[i].p_vaddr + (file_off - ph[i].p_offset);
    return 1;
}

/* "symbol+0xoff" for addr, shown as the return address (addr + 1), as
 * debuggers do (SYMBOL_NAMED), or the bare address when no symbol holds it
 * (SYMBOL_ADDRESS); nothing when there is no segment to look in. */
enum symbol_found { SYMBOL_NONE, SYMBOL_ADDRESS, SYMBOL_NAMED };
static enum symbol_found out_symbol(struct site_out *o, const struct object_file *f)
{
    uintptr_t sym_start = 0;
    const char *name = f->vaddr ? lookup_symbol(f->image, f->size, f->vaddr, &sym_start) : NULL;
    if (name) {
        out_str(o, name);
        out_str(o, "+");
        out_hex(o, f->vaddr + 1 - sym_start);
        return SYMBOL_NAMED;
    }
    if (!f->vaddr)
        return SYMBOL_NONE;
    out_hex(o, f->vaddr + 1);
    return SYMBOL_ADDRESS;
}

static void callsite(struct site_out *o, const void *caller)
{
    struct mapping m;
    struct object_file f;
    /* The return address points after the call; step back into it. */
    uintptr_t addr = (uintptr_t)caller - 1;
    if (!caller) {
        out_str(o, "(unknown)");
        return;
    }
    if (!maps_find(addr, &m, NULL) || !m.path) {
        out_hex(o, addr + 1);
        return;
    }
    int named = object_open(&m, addr, &f);
    if (named) {
        size_t mark = o->b->len, left = o->left;
        if (out_symbol(o, &f) == SYMBOL_NONE) {
            o->b->len = mark;
            o->left = left;
            named = 0;
        }
        object_close(&f);
    }
    if (!named)
        out_hex(o, addr + 1 - m.start + m.offset);
    out_str(o, " in ");
    out_str(o, m.path);
}

/* A symbol longer than this is cut (C++ names can run to kilobytes). */
#define FRAME_SYM_MAX 160

static void out_quoted(struct fmtbuf *b, const char *s, size_t max)
{
    struct site_out o = {b, 1, max};
    fmt_str(b, "\"");
    out_str(&o, s);
    fmt_str(b, "\"");
}

/* One frame of the "stack" field, for a return address pc:
 * {"pc":"0x..","sym":"name+0x.." or null,"obj":"/path" or null,
 *  "build_id":"hex" or null,"off":"0x.." or null}; off is pc's file offset. */
static void frame_json(struct fmtbuf *b, uintptr_t pc)
{
    struct mapping m;
    struct object_file f;
    uintptr_t addr = pc - 1;
    fmt_str(b, "{\"pc\":\"");
    fmt_hex(b, pc);
    fmt_str(b, "\",\"sym\":");
    if (!maps_find(addr, &m, NULL) || !m.path) {
        fmt_str(b, "null,\"obj\":null,\"build_id\":null,\"off\":null}");
        return;
    }
    int named = object_open(&m, addr, &f);
    size_t mark = b->len;
    struct site_out sym = {b, 1, FRAME_SYM_MAX};
    fmt_str(b, "\"");
    if (named && out_symbol(&sym, &f) == SYMBOL_NAMED) {
        fmt_str(b, "\"");
    } else {
        b->len = mark;
        fmt_str(b, "null");
    }
    fmt_str(b, ",\"obj\":");
    out_quoted(b, m.path, PATH_ROOM);
    fmt_str(b, ",\"build_id\":");
    const unsigned char *id = NULL;
    size_t id_len = named ? build_id(f.image, f.size, &id) : 0;
    if (id_len) {
        fmt_str(b, "\"");
        for (size_t i = 0; i < id_len && i < 64; i++) {
            char hex[3] = {"0123456789abcdef"[id[i] >> 4], "0123456789abcdef"[id[i] & 15], 0};
            fmt_str(b, hex);
        }
        fmt_str(b, "\"");
    } else {
        fmt_str(b, "null");
    }
    if (named)
        object_close(&f);
    fmt_str(b, ",\"off\":\"");
    fmt_hex(b, m.offset + (pc - m.start));
    fmt_str(b, "\"}");
}

/* Names looked up ahead, for the reaper thread. Naming one opens files
 * (/proc/self/maps, the object); an fd opened there, even for a moment,
 * takes the lowest free number while the application's threads run, and
 * the application's next accept() or open() would get another number than
 * without the library. So the closing thread names the call site and its
 * stack's frames before it hands a socket over, and the reaper only reads
 * the names: a few slots, since the code paths that close sockets in a
 * program are few. A slot's name is kept for good: code unloaded with
 * dlclose() and other code loaded at its address would keep the old name. */
#define SITE_SLOTS 32
#define SITE_TEXT 400
#define FRAME_SLOTS 64
#define SLOT_TEXT 640

struct name_slot {
    _Atomic uintptr_t key; /* the address; 0: free, claimed by the first to name it */
    _Atomic int ready;
    char text[SLOT_TEXT];
};
static struct name_slot sites[SITE_SLOTS], frames[FRAME_SLOTS];

/* The slot to fill for key: NULL when key has one already or none is free. */
static struct name_slot *slot_claim(struct name_slot *slots, int count, uintptr_t key)
{
    for (int i = 0; key && i < count; i++) {
        uintptr_t seen = atomic_load_explicit(&slots[i].key, memory_order_acquire);
        if (seen == key)
            return NULL;
        if (seen == 0 && atomic_compare_exchange_strong(&slots[i].key, &seen, key))
            return &slots[i];
    }
    return NULL;
}

/* A whole name (one cut short is never published). */
static void slot_publish(struct name_slot *s, const struct fmtbuf *t)
{
    if (t->len + 1 < t->cap)
        atomic_store_explicit(&s->ready, 1, memory_order_release);
}

static const char *slot_text(struct name_slot *slots, int count, uintptr_t key)
{
    for (int i = 0; key && i < count; i++)
        if (atomic_load_explicit(&slots[i].key, memory_order_acquire) == key)
            return atomic_load_explicit(&slots[i].ready, memory_order_acquire) ? slots[i].text
                                                                                : NULL;
    return NULL;
}

void callsite_remember(const void *caller)
{
    struct name_slot *s = slot_claim(sites, SITE_SLOTS, (uintptr_t)caller);
    if (!s)
        return;
    struct fmtbuf t = {s->text, 0, SITE_TEXT};
    struct site_out o = {&t, 0, 0};
    callsite(&o, caller);
    slot_publish(s, &t);
}

void callsite_remember_frame(const void *pc)
{
    struct name_slot *s = slot_claim(frames, FRAME_SLOTS, (uintptr_t)pc);
    if (!s)
        return;
    struct fmtbuf t = {s->text, 0, SLOT_TEXT};
    frame_json(&t, (uintptr_t)pc);
    slot_publish(s, &t);
}

/* A name remembered, else the lookup (SITE_RESOLVE) or the bare address. */
static void site(struct site_out *o, const void *caller, enum site_lookup how)
{
    const char *text = slot_text(sites, SITE_SLOTS, (uintptr_t)caller);
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

void fmt_frame_json(struct fmtbuf *b, const void *pc, enum site_lookup how)
{
    const char *text = slot_text(frames, FRAME_SLOTS, (uintptr_t)pc);
    if (!text && how == SITE_RESOLVE) {
        callsite_remember_frame(pc); /* named once for every later event */
        text = slot_text(frames, FRAME_SLOTS, (uintptr_t)pc);
    }
    if (text) {
        fmt_str(b, text);
    } else if (how == SITE_RESOLVE) {
        frame_json(b, (uintptr_t)pc);
    } else {
        fmt_str(b, "{\"pc\":\"");
        fmt_hex(b, (uintptr_t)pc);
        fmt_str(b, "\",\"sym\":null,\"obj\":null,\"build_id\":null,\"off\":null}");
    }
}
