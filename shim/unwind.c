/* Walks the stack of the thread that is inside close(), with the DWARF call
 * frame information every object carries for exceptions (.eh_frame),
 * because Debian's binaries keep no frame pointers.
 *
 * The walk starts here, with this function's own registers, and unwinds
 * through the library's frames up to the hook's return address, so it
 * needs nothing from the hook and gets every register the caller's frames
 * left right. For each return address: the object that holds it (from
 * /proc/self/maps), that object's PT_GNU_EH_FRAME segment (found through
 * its program headers in memory), the FDE for the address (a binary search
 * of .eh_frame_hdr's table), the CIE's and FDE's programs run up to the
 * address; then the CFA, the return address and the frame pointer (the
 * only other register a CFA may be based on) of the frame above.
 *
 * Never a fault: the stack, the headers and the tables are read only
 * through process_vm_readv() on ourselves, which answers EFAULT where a
 * load would raise SIGSEGV (a clobbered frame, an object unloaded under
 * us). Nothing is locked, nothing allocated; raw system calls only, so it
 * may run in a signal handler. */
#include <elf.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "aside.h"
#include "maps.h"
#include "sys.h"
#include "unwind.h"

void restorers_add(struct restorers *r, uintptr_t restorer)
{
    for (int i = 0; i < r->n && i < RESTORERS_MAX; i++)
        if (r->at[i] == restorer)
            return;
    if (r->n < RESTORERS_MAX)
        r->at[r->n++] = restorer;
    else
        r->n = RESTORERS_MAX + 1;
}

#if defined(__x86_64__)

/* DWARF register numbers (x86-64 psABI): the frame pointer, the stack
 * pointer. The return address's column is the CIE's. */
#define REG_FP 6
#define REG_SP 7

#define OWN_FRAMES_MAX 32    /* the library's frames between here and the hook */
#define WHOLE_STACK_MAX 256  /* frames a walk to the stack's end may take */
#define OBJECTS 4            /* objects one walk remembers (when the shared table is full, or fresh) */
#define OBJECT_SLOTS 32      /* objects every walk remembers */
#define ROW_SLOTS 256        /* the rules found for return addresses, kept */
#define MAPS_BUDGET (1 << 20) /* bytes of /proc/self/maps one walk may read */
#define STATES_MAX 4         /* DW_CFA_remember_state nesting */

/* Pointer encodings (DW_EH_PE_*, LSB's .eh_frame) */
#define PE_OMIT 0xff
#define PE_FORMAT 0x0f
#define PE_PCREL 0x10
#define PE_DATAREL 0x30
#define PE_APPLICATION 0x70
#define PE_SDATA4 0x0b

/* process_vm_readv, tried once: a seccomp filter may refuse it (or kill
 * for it: it is in systemd's @debug set as well as @system-service). */
enum walk_state { WALK_UNTRIED, WALK_TRYING, WALK_ON, WALK_OFF };
static _Atomic int walk_state;

/* len bytes at addr, or 0: the read of memory that cannot fault. */
static int peek(long pid, void *dst, uintptr_t addr, size_t len)
{
    struct iovec here = {dst, len}, there = {(void *)addr, len};
    long n = raw_syscall6(SYS_process_vm_readv, pid, (long)&here, 1, (long)&there, 1, 0);
    if (n == -EPERM || n == -ENOSYS) {
        atomic_store(&walk_state, WALK_OFF);
        /* On ourselves the kernel never answers EPERM (mm_access() lets a
         * process read its own memory): a filter the hooks did not see. */
        if (n == -EPERM)
            probe_checked(n);
    }
    return n == (long)len;
}

static int walk_allowed(void)
{
    int state = atomic_load(&walk_state);
    if (state == WALK_UNTRIED && atomic_compare_exchange_strong(&walk_state, &state, WALK_TRYING)) {
        long mine = 0x6e6f727374, got = 0;
        int ok = seccomp_mode_now() == 0 &&
                 peek(sys0(SYS_getpid), &got, (uintptr_t)&mine, sizeof got) && got == mine;
        state = ok ? WALK_ON : WALK_OFF;
        atomic_store(&walk_state, state);
    }
    return state == WALK_ON;
}

/* A forward reader of memory through a small window, which a read fills
 * up to its page's end (never into a page that may be absent); reads past
 * end fail. */
struct reader {
    long pid;
    uintptr_t at, end;
    uintptr_t win_at;
    size_t win_len;
    int bad;
    unsigned char win[64];
};

static unsigned u8(struct reader *r)
{
    if (r->bad || r->at >= r->end) {
        r->bad = 1;
        return 0;
    }
    if (r->at - r->win_at >= r->win_len) {
        size_t n = sizeof r->win, page_left = 4096 - (r->at & 4095);
        if (n > page_left)
            n = page_left;
        if (!peek(r->pid, r->win, r->at, n)) {
            r->bad = 1;
            return 0;
        }
        r->win_at = r->at;
        r->win_len = n;
    }
    return r->win[r->at++ - r->win_at];
}

static uint64_t unum(struct reader *r, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)u8(r) << (8 * i);
    return v;
}

static uint64_t uleb(struct reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        unsigned byte = u8(r);
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t sleb(struct reader *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        unsigned byte = u8(r);
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            if (shift + 7 < 64 && (byte & 0x40))
                v |= ~(uint64_t)0 << (shift + 7);
            return (int64_t)v;
        }
    }
    r->bad = 1;
    return 0;
}

/* A pointer in encoding enc; datarel is relative to base (.eh_frame_hdr). */
static uintptr_t encoded(struct reader *r, unsigned enc, uintptr_t base)
{
    uintptr_t field = r->at, v;
    switch (enc & PE_FORMAT) {
    case 0x00: v = unum(r, 8); break; /* absptr */
    case 0x01: v = uleb(r); break;
    case 0x02: v = unum(r, 2); break;
    case 0x03: v = unum(r, 4); break;
    case 0x04: v = unum(r, 8); break;
    case 0x09: v = (uintptr_t)sleb(r); break;
    case 0x0a: v = (uintptr_t)(int16_t)unum(r, 2); break;
    case 0x0b: v = (uintptr_t)(int32_t)unum(r, 4); break;
    case 0x0c: v = unum(r, 8); break;
    default: r->bad = 1; return 0;
    }
    switch (enc & PE_APPLICATION) {
    case 0: break;
    case PE_PCREL: v += field; break;
    case PE_DATAREL: v += base; break;
    default: r->bad = 1; /* textrel, funcrel, aligned: not in .eh_frame */
    }
    return v;
}

/* An executable mapping and its object's FDE search table. */
struct object {
    uintptr_t start, end;
    uintptr_t hdr;   /* .eh_frame_hdr, whose address the table is relative to */
    uintptr_t table; /* 0: no table (code made at run time, or no PT_GNU_EH_FRAME) */
    uint64_t count;
};

/* The search table of the object whose ELF header is mapped at base,
 * found through its program headers, into o. */
static __attribute__((noinline)) void find_table(long pid, uintptr_t base, struct object *o)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    uintptr_t bias = 0, hdr = 0;
    int loaded = 0;
    o->table = 0;
    if (!base || !peek(pid, &eh, base, sizeof eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof ph || eh.e_phnum > 64)
        return;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (!peek(pid, &ph, base + eh.e_phoff + i * sizeof ph, sizeof ph))
            return;
        if (ph.p_type == PT_LOAD && ph.p_offset == 0 && !loaded) {
            bias = base - ph.p_vaddr; /* the segment that maps the header */
            loaded = 1;
        }
        if (ph.p_type == PT_GNU_EH_FRAME)
            hdr = ph.p_vaddr;
    }
    if (!loaded || !hdr)
        return;
    /* version, eh_frame_ptr_enc, fde_count_enc, table_enc; then the
     * encoded eh_frame_ptr and fde_count; then the table */
    struct reader r = {.pid = pid, .at = bias + hdr, .end = bias + hdr + 4 + 16};
    unsigned version = u8(&r), ptr_enc = u8(&r), count_enc = u8(&r), table_enc = u8(&r);
    if (version != 1 || ptr_enc == PE_OMIT || table_enc != (PE_DATAREL | PE_SDATA4))
        return;
    encoded(&r, ptr_enc, bias + hdr);
    o->count = encoded(&r, count_enc, bias + hdr);
    if (!r.bad && o->count > 0 && o->count < (1u << 24)) {
        o->hdr = bias + hdr;
        o->table = r.at;
    }
}

/* Objects every walk shares, filled once each and kept (lock-free): a
 * library unloaded with dlclose() and another mapped at its place would
 * be walked with the old tables, which can mislead the walk but never
 * fault it. */
enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_READY };
static struct {
    _Atomic int state;
    struct object o;
} known[OBJECT_SLOTS];

/* WALK_FRESH: nothing kept from earlier walks is used or kept: an object
 * unloaded and another mapped at its place would have the old one's tables
 * in the shared table (a walk that proves something must not trust them). */
enum walk_trust { WALK_KEPT, WALK_FRESH };

struct walk {
    long pid;
    enum walk_trust trust;
    size_t maps_budget;
    int objects;
    struct object object[OBJECTS]; /* met in this walk when known is full */
};

static int object_in(const struct object *o, uintptr_t pc, struct object *out)
{
    if (pc < o->start || pc >= o->end)
        return 0;
    *out = *o;
    return 1;
}

/* Whether pc is code (in an executable mapping), with its object in o. */
static __attribute__((noinline)) int object_of(struct walk *w, uintptr_t pc, struct object *o)
{
    struct mapping m;
    for (int i = 0; i < OBJECT_SLOTS && w->trust == WALK_KEPT; i++)
        if (atomic_load_explicit(&known[i].state, memory_order_acquire) == SLOT_READY &&
            object_in(&known[i].o, pc, o))
            return 1;
    for (int i = 0; i < w->objects; i++)
        if (object_in(&w->object[i], pc, o))
            return 1;
    if (!maps_find(pc, &m, &w->maps_budget) || !m.exec)
        return 0;
    *o = (struct object){m.start, m.end, 0, 0, 0};
    if (m.path)
        find_table(w->pid, m.base, o);
    for (int i = 0; i < OBJECT_SLOTS && w->trust == WALK_KEPT; i++) {
        int state = SLOT_FREE;
        if (atomic_compare_exchange_strong(&known[i].state, &state, SLOT_FILLING)) {
            known[i].o = *o;
            atomic_store_explicit(&known[i].state, SLOT_READY, memory_order_release);
            return 1;
        }
    }
    if (w->objects < OBJECTS)
        w->object[w->objects++] = *o;
    return 1;
}

/* The FDE that may cover pc: the last entry of the sorted table that starts
 * at or below it; 0 if none. */
static uintptr_t find_fde(long pid, const struct object *o, uintptr_t pc)
{
    int32_t entry[2]; /* initial location, FDE: relative to hdr */
    uint64_t lo = 0, hi = o->count;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (!peek(pid, entry, o->table + mid * sizeof entry, sizeof entry))
            return 0;
        if (o->hdr + (intptr_t)entry[0] <= pc)
            lo = mid;
        else
            hi = mid;
    }
    if (!peek(pid, entry, o->table + lo * sizeof entry, sizeof entry) ||
        o->hdr + (intptr_t)entry[0] > pc)
        return 0;
    return o->hdr + (intptr_t)entry[1];
}

/* What a CIE and its FDE say: the programs' extents and factors. */
struct frame_info {
    uint64_t code_align, ra_reg;
    int signal_frame; /* the CIE's augmentation has 'S' */
    int64_t data_align;
    uintptr_t pc_begin;
    uintptr_t cie_program, cie_end, fde_program, fde_end;
};

/* The CIE's header; its FDEs' pointer encoding in *fde_enc, whether they
 * carry augmentation data in *z. */
static int parse_cie(long pid, uintptr_t cie, struct frame_info *fi, unsigned *fde_enc, int *z)
{
    struct reader c = {.pid = pid, .at = cie, .end = cie + 8};
    char aug[8];
    int n = 0;
    uint32_t len = (uint32_t)unum(&c, 4);
    if (len == 0 || len == 0xffffffff) /* 64-bit DWARF: not in .eh_frame */
        return 0;
    c.end = fi->cie_end = cie + 4 + len;
    unsigned version = unum(&c, 4) == 0 ? u8(&c) : 0; /* CIE id 0 */
    if (version != 1 && version != 3 && version != 4)
        return 0;
    while ((aug[n] = (char)u8(&c)) != 0)
        if (++n == (int)sizeof aug || c.bad)
            return 0;
    if (version == 4 && (u8(&c) != 8 || u8(&c) != 0)) /* address, segment size */
        return 0;
    fi->code_align = uleb(&c);
    fi->data_align = sleb(&c);
    fi->ra_reg = version == 1 ? u8(&c) : uleb(&c);
    *fde_enc = 0;
    *z = aug[0] == 'z';
    fi->signal_frame = 0;
    for (int i = 1; i < n; i++)
        fi->signal_frame |= aug[i] == 'S';
    if (aug[0] && !*z) /* augmentation data of unknown size */
        return 0;
    if (*z) {
        uint64_t aug_len = uleb(&c);
        uintptr_t aug_end = c.at + aug_len;
        for (int i = 1; i < n && !c.bad; i++) {
            if (aug[i] == 'R') {
                *fde_enc = u8(&c);
            } else if (aug[i] == 'P') { /* the personality routine: skipped */
                unsigned enc = u8(&c);
                encoded(&c, enc & 0x7f, 0);
            } else if (aug[i] == 'L') {
                u8(&c);
            } else if (aug[i] != 'S') {
                break; /* the rest is skipped by its length */
            }
        }
        c.at = aug_end;
    }
    fi->cie_program = c.at;
    return !c.bad && c.at <= c.end;
}

/* The FDE at fde, if it covers pc. */
static int parse_fde(long pid, uintptr_t fde, uintptr_t pc, struct frame_info *fi)
{
    struct reader r = {.pid = pid, .at = fde, .end = fde + 8};
    unsigned fde_enc;
    int z;
    uint32_t len = (uint32_t)unum(&r, 4);
    uintptr_t cie_field = r.at;
    uint32_t cie_back = (uint32_t)unum(&r, 4);
    if (r.bad || len == 0 || len == 0xffffffff || cie_back == 0 ||
        !parse_cie(pid, cie_field - cie_back, fi, &fde_enc, &z))
        return 0;
    r.end = fi->fde_end = fde + 4 + len;
    uintptr_t begin = encoded(&r, fde_enc, 0), range = encoded(&r, fde_enc & PE_FORMAT, 0);
    if (z)
        r.at += uleb(&r);
    fi->pc_begin = begin;
    fi->fde_program = r.at;
    return !r.bad && pc >= begin && pc - begin < range && r.at <= r.end;
}

/* The rules of one row of the CFA table that the walk needs: the CFA, the
 * frame pointer's and the return address's. */
/* RULE_UNDEFINED only where a program said so (DW_CFA_undefined);
 * RULE_UNSET where none said anything. */
enum rule_how { RULE_SAME, RULE_UNDEFINED, RULE_OFFSET, RULE_UNSET };
struct rule {
    enum rule_how how;
    int64_t off; /* RULE_OFFSET: saved at CFA + off */
};
struct row {
    uint64_t cfa_reg;
    int64_t cfa_off;
    struct rule fp, ra;
    uint64_t signal_frame; /* a handler's return to the kernel: no rules kept */
};
_Static_assert(sizeof(struct row) % sizeof(uint64_t) == 0, "a row is whole words");

static struct rule *rule_of(struct row *row, uint64_t reg, const struct frame_info *fi)
{
    return reg == REG_FP ? &row->fp : reg == fi->ra_reg ? &row->ra : NULL;
}

static void set_rule(struct row *row, uint64_t reg, enum rule_how how, int64_t off,
                     const struct frame_info *fi)
{
    struct rule *rule = rule_of(row, reg, fi);
    if (rule)
        *rule = (struct rule){how, off};
}

/* DW_CFA_restore: the rule as the CIE left it (initial NULL: in the CIE). */
static int restore_rule(struct row *row, uint64_t reg, const struct row *initial,
                        const struct frame_info *fi)
{
    struct rule *rule = rule_of(row, reg, fi);
    if (!initial)
        return 0;
    if (rule)
        *rule = reg == REG_FP ? initial->fp : initial->ra;
    return 1;
}

/* Runs a CIE's or FDE's program while the row's location is below limit.
 * Only the common instructions; an unknown one, or an expression or a
 * register rule for a register the walk needs: 0, the walk stops. */
static int run_program(struct reader *r, const struct frame_info *fi, uintptr_t limit,
                       struct row *row, const struct row *initial)
{
    struct row saved[STATES_MAX];
    int depth = 0;
    uintptr_t loc = fi->pc_begin;
    uint64_t reg, ca = fi->code_align;
    int64_t da = fi->data_align;
    while (r->at < r->end && loc < limit && !r->bad) {
        unsigned op = u8(r);
        switch (op >> 6) {
        case 1: loc += (op & 0x3f) * ca; continue;                    /* advance_loc */
        case 2: set_rule(row, op & 0x3f, RULE_OFFSET, (int64_t)uleb(r) * da, fi); continue;
        case 3: if (!restore_rule(row, op & 0x3f, initial, fi)) return 0; continue;
        }
        switch (op) {
        case 0x00: break;                                              /* nop */
        case 0x02: loc += u8(r) * ca; break;                           /* advance_loc1 */
        case 0x03: loc += unum(r, 2) * ca; break;
        case 0x04: loc += unum(r, 4) * ca; break;
        case 0x05: reg = uleb(r); set_rule(row, reg, RULE_OFFSET, (int64_t)uleb(r) * da, fi); break;
        case 0x06: if (!restore_rule(row, uleb(r), initial, fi)) return 0; break;
        case 0x07: set_rule(row, uleb(r), RULE_UNDEFINED, 0, fi); break;
        case 0x08: set_rule(row, uleb(r), RULE_SAME, 0, fi); break;
        case 0x09:                                                     /* register */
            reg = uleb(r);
            uleb(r);
            if (rule_of(row, reg, fi))
                return 0;
            break;
        case 0x0a:                                                     /* remember_state */
            if (depth == STATES_MAX)
                return 0;
            saved[depth++] = *row;
            break;
        case 0x0b:                                                     /* restore_state */
            if (depth == 0)
                return 0;
            *row = saved[--depth];
            break;
        case 0x0c: row->cfa_reg = uleb(r); row->cfa_off = (int64_t)uleb(r); break;
        case 0x0d: row->cfa_reg = uleb(r); break;
        case 0x0e: row->cfa_off = (int64_t)uleb(r); break;
        case 0x10: case 0x16:                                          /* (val_)expression */
            reg = uleb(r);
            r->at += uleb(r);
            if (rule_of(row, reg, fi))
                return 0;
            break;
        case 0x11: reg = uleb(r); set_rule(row, reg, RULE_OFFSET, sleb(r) * da, fi); break;
        case 0x12: row->cfa_reg = uleb(r); row->cfa_off = sleb(r) * da; break;
        case 0x13: row->cfa_off = sleb(r) * da; break;
        case 0x14: case 0x15:                                          /* val_offset(_sf) */
            reg = uleb(r);
            uleb(r);
            if (rule_of(row, reg, fi))
                return 0;
            break;
        case 0x2e: uleb(r); break;                                     /* GNU_args_size */
        default: return 0; /* set_loc, def_cfa_expression, vendor rules */
        }
    }
    return !r->bad;
}

/* The row for pc in its object's tables: the CIE's program, then the
 * FDE's up to pc. */
static __attribute__((noinline)) int find_row(long pid, const struct object *o, uintptr_t pc,
                                              struct row *row)
{
    struct frame_info fi;
    uintptr_t fde = o->table ? find_fde(pid, o, pc) : 0;
    if (!fde || !parse_fde(pid, fde, pc, &fi))
        return 0;
    *row = (struct row){.cfa_reg = ~(uint64_t)0, .fp = {RULE_SAME, 0}, .ra = {RULE_UNSET, 0}};
    /* glibc's __restore_rt, the return address the kernel gives a handler
     * (setup_rt_frame()), is marked so: its CFA is an expression over the
     * kernel's frame, which the walk does not follow. */
    if (fi.signal_frame) {
        row->signal_frame = 1;
        return 1;
    }
    struct reader r = {.pid = pid, .at = fi.cie_program, .end = fi.cie_end};
    if (!run_program(&r, &fi, UINTPTR_MAX, row, NULL))
        return 0;
    struct row initial = *row;
    r = (struct reader){.pid = pid, .at = fi.fde_program, .end = fi.fde_end};
    return run_program(&r, &fi, pc + 1, row, &initial);
}

/* Rows found, kept by address: the same code paths close again and again,
 * and a row's tables cost a dozen reads. A sequence count per slot (odd
 * while it is written) lets a walk in a signal handler, or another thread,
 * read without a lock: a slot in change is a miss. Kept for good, like
 * the objects. */
#define ROW_WORDS (sizeof(struct row) / sizeof(uint64_t))
static struct row_slot {
    _Atomic unsigned seq;
    _Atomic uintptr_t pc;
    _Atomic uint64_t row[ROW_WORDS];
} rows[ROW_SLOTS];

static struct row_slot *row_slot_of(uintptr_t pc)
{
    return &rows[(pc ^ pc >> 9) % ROW_SLOTS];
}

static int row_kept(uintptr_t pc, struct row *row)
{
    struct row_slot *s = row_slot_of(pc);
    uint64_t words[ROW_WORDS];
    unsigned seq = atomic_load_explicit(&s->seq, memory_order_acquire);
    if ((seq & 1) || atomic_load_explicit(&s->pc, memory_order_relaxed) != pc)
        return 0;
    /* Acquire loads, not a fence (which TSan cannot follow): the second
     * look at seq cannot move before them. */
    for (size_t i = 0; i < ROW_WORDS; i++)
        words[i] = atomic_load_explicit(&s->row[i], memory_order_acquire);
    if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
        return 0;
    memcpy(row, words, sizeof *row);
    return 1;
}

static void row_keep(uintptr_t pc, const struct row *row)
{
    struct row_slot *s = row_slot_of(pc);
    uint64_t words[ROW_WORDS];
    unsigned seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
    if ((seq & 1) || !atomic_compare_exchange_strong(&s->seq, &seq, seq + 1))
        return;
    memcpy(words, row, sizeof *row);
    /* Release: a reader that sees one new word also sees seq odd. */
    atomic_store_explicit(&s->pc, pc, memory_order_release);
    for (size_t i = 0; i < ROW_WORDS; i++)
        atomic_store_explicit(&s->row[i], words[i], memory_order_release);
    atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

struct regs {
    uintptr_t pc, sp, fp;
    int fp_known;
};

/* One frame up: x becomes the caller's pc, stack and frame pointer. pc is
 * an instruction's address in the first frame, a return address (which
 * may follow a call that ends its function: look up pc - 1) in the others.
 * STEP_OUTERMOST: pc's frame is the stack's first, whose return address
 * its tables say is undefined (glibc's _start and its threads' clone
 * entries: "cfi_undefined rip"). */
enum step_result { STEP_UP, STEP_OUTERMOST, STEP_SIGNAL_FRAME, STEP_LOST };
static enum step_result step(struct walk *w, struct regs *x, int pc_is_return)
{
    uintptr_t lookup = pc_is_return ? x->pc - 1 : x->pc;
    struct object o;
    struct row row;
    if (w->trust == WALK_FRESH || !row_kept(lookup, &row)) {
        if (!object_of(w, lookup, &o) || !find_row(w->pid, &o, lookup, &row))
            return STEP_LOST;
        if (w->trust == WALK_KEPT)
            row_keep(lookup, &row);
    }
    if (row.signal_frame)
        return STEP_SIGNAL_FRAME;
    if (row.ra.how == RULE_UNDEFINED)
        return STEP_OUTERMOST;
    uintptr_t base;
    if (row.cfa_reg == REG_SP)
        base = x->sp;
    else if (row.cfa_reg == REG_FP && x->fp_known)
        base = x->fp;
    else
        return STEP_LOST;
    uintptr_t cfa = base + (uintptr_t)row.cfa_off;
    /* The stack grows down: a CFA not above the frame is a loop or garbage. */
    if (row.ra.how != RULE_OFFSET || cfa <= x->sp)
        return STEP_LOST;
    /* The saved words through one window: the lower one first. */
    struct reader stack = {.pid = w->pid, .end = UINTPTR_MAX};
    uintptr_t fp_at = cfa + (uintptr_t)row.fp.off, ra_at = cfa + (uintptr_t)row.ra.off, fp = 0;
    if (row.fp.how == RULE_OFFSET && fp_at < ra_at) {
        stack.at = fp_at;
        fp = unum(&stack, 8);
    }
    stack.at = ra_at;
    uintptr_t ra = unum(&stack, 8);
    if (row.fp.how == RULE_OFFSET && fp_at >= ra_at) {
        stack.at = fp_at;
        fp = unum(&stack, 8);
    }
    if (stack.bad)
        return STEP_LOST;
    if (row.fp.how == RULE_OFFSET) {
        x->fp = fp;
        x->fp_known = 1;
    } else if (row.fp.how == RULE_UNDEFINED) {
        x->fp_known = 0;
    }
    x->sp = cfa;
    x->pc = ra;
    return ra != 0 ? STEP_UP : STEP_LOST;
}

int unwind_stack(const void *caller, const void **pcs, int max)
{
    if (!caller || max <= 0)
        return 0;
    pcs[0] = caller;
    if (!walk_allowed())
        return 1;
    struct walk w = {.pid = sys0(SYS_getpid), .maps_budget = MAPS_BUDGET};
    struct regs x = {.fp_known = 1};
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=r"(x.pc), "=r"(x.sp), "=r"(x.fp));
    /* The library's own frames, up to the hook's return address. */
    for (int i = 0; x.pc != (uintptr_t)caller; i++)
        if (i == OWN_FRAMES_MAX || step(&w, &x, i > 0) != STEP_UP)
            return 1;
    int n = 1;
    struct object o;
    while (n < max && step(&w, &x, 1) == STEP_UP && object_of(&w, x.pc - 1, &o))
        pcs[n++] = (const void *)x.pc;
    return n;
}

/* Every frame from here to the stack's first: a handler's frame among
 * them ends the walk there; so does a frame the walk cannot follow (code
 * without tables, a clobbered frame), which proves nothing. Only a walk
 * that reaches the first frame says no handler runs: the kernel puts a
 * handler's return address, the restorer, on the stack it runs on, and
 * the walk cannot step past it (its CFA is an expression). */
static int is_restorer(const struct restorers *restorers, uintptr_t pc)
{
    for (int i = 0; i < restorers->n; i++)
        if (restorers->at[i] == pc)
            return 1;
    return 0;
}

static __attribute__((noinline)) enum handler_frame walk_for_handler(const struct restorers *restorers,
                                                                     enum walk_trust trust)
{
    struct walk w = {.pid = sys0(SYS_getpid), .trust = trust, .maps_budget = MAPS_BUDGET};
    struct regs x = {.fp_known = 1};
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=r"(x.pc), "=r"(x.sp), "=r"(x.fp));
    for (int i = 0; i < WHOLE_STACK_MAX; i++) {
        switch (step(&w, &x, i > 0)) {
        case STEP_UP:
            if (is_restorer(restorers, x.pc))
                return HANDLER_FRAME_FOUND;
            continue;
        case STEP_OUTERMOST:
            return HANDLER_FRAME_NONE;
        case STEP_SIGNAL_FRAME:
            return HANDLER_FRAME_FOUND;
        case STEP_LOST:
            return HANDLER_FRAME_UNKNOWN;
        }
    }
    return HANDLER_FRAME_UNKNOWN;
}

/* A NONE lets a thread start: the walk trusts nothing kept from earlier
 * walks (it runs once per thread start, so a cache would save little). */
enum handler_frame unwind_handler_frame(const struct restorers *restorers)
{
    if (restorers->n > RESTORERS_MAX || !walk_allowed())
        return HANDLER_FRAME_UNKNOWN;
    return walk_for_handler(restorers, WALK_FRESH);
}

#else

/* Elsewhere only the hook's own return address, which needs no walk. */
int unwind_stack(const void *caller, const void **pcs, int max)
{
    if (!caller || max <= 0)
        return 0;
    pcs[0] = caller;
    return 1;
}

enum handler_frame unwind_handler_frame(const struct restorers *restorers)
{
    (void)restorers;
    return HANDLER_FRAME_UNKNOWN;
}

#endif
