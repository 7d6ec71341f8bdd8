/* The JSON log's "stack": the frames of the code that closed, innermost
 * first, walked with the program's unwind tables inside close(), also in a
 * signal handler on a small alternate stack and before a handoff to the
 * library's thread; each frame named from .symtab, or .dynsym in a
 * stripped program, with the object's build ID and the file offset that
 * addr2line resolves. A frame the walk cannot follow (code without unwind
 * tables, a clobbered return address, a frame pointing where nothing is
 * mapped) ends the stack there, and the program runs on; where memory may
 * not be read that way (a seccomp filter), the stack is the caller alone. */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define PROG "./tests/progs/stackclose"
#define STRIPPED "./tests/progs/stackclose-stripped"
#define FRAMES_MAX 8

struct frame {
    char pc[24], sym[128], obj[256], build_id[96], off[24]; /* "null" when null */
};

/* The value of "key": in the frame text [p, end), unquoted. */
static void frame_value(const char *p, const char *end, const char *key, char *out, size_t cap)
{
    char pattern[32];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr(p, pattern);
    snprintf(out, cap, "(missing)");
    if (!at || at >= end)
        return;
    at += strlen(pattern);
    size_t n = *at == '"' ? strcspn(at + 1, "\"") : strcspn(at, ",}");
    if (*at == '"')
        at++;
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), at);
}

/* The frames of the log's (first) event; -1 if it has no "stack" array that
 * ends the object. */
static int parse_stack(const char *log, struct frame *frames)
{
    const char *p = strstr(log, "\"stack\":[");
    int n = 0;
    if (!p)
        return -1;
    p += strlen("\"stack\":[");
    while (*p == '{' && n < FRAMES_MAX) {
        const char *end = strchr(p, '}');
        if (!end)
            return -1;
        frame_value(p, end, "pc", frames[n].pc, sizeof frames[n].pc);
        frame_value(p, end, "sym", frames[n].sym, sizeof frames[n].sym);
        frame_value(p, end, "obj", frames[n].obj, sizeof frames[n].obj);
        frame_value(p, end, "build_id", frames[n].build_id, sizeof frames[n].build_id);
        frame_value(p, end, "off", frames[n].off, sizeof frames[n].off);
        n++;
        p = end + 1;
        if (*p == ',')
            p++;
    }
    return strncmp(p, "]}\n", 3) == 0 ? n : -1;
}

static int sym_is(const struct frame *f, const char *name)
{
    size_t n = strlen(name);
    return strncmp(f->sym, name, n) == 0 && f->sym[n] == '+';
}

/* Runs prog with the JSON log; its log in log. */
static void run(const char *const *argv, const char *async, char *log, size_t cap, struct proc *p)
{
    static int serial;
    char path[96], setting[128], async_setting[32];
    const char *env[] = {setting, "NORST_LOG_FORMAT=json", async_setting, NULL};
    snprintf(path, sizeof path, "/tmp/norst-stack-%d-%d.json", (int)getpid(), serial++);
    snprintf(setting, sizeof setting, "NORST_LOG=%s", path);
    snprintf(async_setting, sizeof async_setting, "NORST_ASYNC=%s", async);
    unlink(path);
    proc_start(p, 1, env, argv, 0);
    proc_finish(p, 20000);
    read_text_file(path, log, cap);
    unlink(path);
}

/* The chain's frames, innermost first. */
static const char *const chain[] = {"level5", "level4", "level3", "level2"};

static int walks_here(void)
{
#if defined(__x86_64__)
    return 1;
#else
    case_skip("the walk is implemented for x86-64 only (elsewhere: the caller's frame alone)");
    case_end();
    return 0;
#endif
}

/* Runs and checks the chain's frames; the number of frames, -1 on failure.
 * The run's output and log are left in p and event_log. */
static char event_log[65536];
static struct proc p;

static int chain_case(const char *const *argv, const char *async, struct frame *frames,
                      const char *obj)
{
    run(argv, async, event_log, sizeof event_log, &p);
    CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "status %#x: %s %s", p.status, p.out,
          p.err);
    CHECK(count_of(event_log, "\n") == 1, "one event: %s", event_log);
    int n = parse_stack(event_log, frames);
    CHECK(n >= 4, "at least 4 frames: %d in %s", n, event_log);
    for (int i = 0; i < 4 && i < n; i++) {
        CHECK(sym_is(&frames[i], chain[i]), "frame %d is %s, not %s: %s", i, frames[i].sym, chain[i],
              event_log);
        CHECK(strstr(frames[i].obj, obj) != NULL, "frame %d's object %s", i, frames[i].obj);
        CHECK(strncmp(frames[i].off, "0x", 2) == 0, "frame %d's offset %s", i, frames[i].off);
    }
    return n;
}

/* Runs a program that closes twice (synchronously): each event's frames. */
static void run_two(const char *const *argv, struct frame *first, int *n1, struct frame *second,
                    int *n2)
{
    run(argv, "0", event_log, sizeof event_log, &p);
    const char *line2 = strchr(event_log, '\n');
    *n1 = parse_stack(event_log, first);
    *n2 = line2 ? parse_stack(line2 + 1, second) : -1;
    CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "status %#x: %s %s", p.status, p.out,
          p.err);
    CHECK(count_of(event_log, "\n") == 2, "two events: %s", event_log);
}

/* The build ID as readelf -n prints it; 0 if readelf is not there. */
static int readelf_build_id(const char *file, char *out, size_t cap)
{
    char cmd[256], line[512];
    snprintf(cmd, sizeof cmd, "readelf -n %s 2>/dev/null", file);
    FILE *f = popen(cmd, "r");
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        if (!found && sscanf(line, " Build ID: %95s", out) == 1 && strlen(out) < cap)
            found = 1;
    if (f)
        pclose(f);
    return found;
}

/* The virtual address of a file offset, from the file's program headers. */
static unsigned long vaddr_of(const char *file, unsigned long off)
{
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    unsigned long vaddr = 0;
    int fd = open(file, O_RDONLY);
    if (fd < 0 || pread(fd, &eh, sizeof eh, 0) != sizeof eh)
        return 0;
    for (int i = 0; i < eh.e_phnum; i++)
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) == sizeof ph &&
            ph.p_type == PT_LOAD && off >= ph.p_offset && off < ph.p_offset + ph.p_filesz)
            vaddr = ph.p_vaddr + (off - ph.p_offset);
    close(fd);
    return vaddr;
}

/* The function addr2line names at a return address (the call before it). */
static int addr2line_function(const char *file, unsigned long vaddr, char *out, size_t cap)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "addr2line -f -e %s 0x%lx 2>/dev/null", file, vaddr - 1);
    FILE *f = popen(cmd, "r");
    int ok = f && fgets(out, (int)cap, f) != NULL;
    if (f)
        pclose(f);
    out[ok ? strcspn(out, "\n") : 0] = '\0';
    return ok;
}

int main(void)
{
    struct frame frames[FRAMES_MAX];

    case_begin("stack: a 5-deep call chain, in order, named from .symtab");
    if (walks_here()) {
        const char *argv[] = {PROG, "chain", NULL};
        int n = chain_case(argv, "0", frames, "stackclose");
        CHECK(n == 8 && sym_is(&frames[4], "direct_hop") && sym_is(&frames[5], "level1") &&
                  sym_is(&frames[6], "close_one_connection") && sym_is(&frames[7], "main"),
              "then direct_hop, level1, close_one_connection, main: %d frames", n);
        case_end();
    }

    case_begin("stack: a second close from the same code, walked with the rules kept from the first");
    if (walks_here()) {
        const char *argv[] = {PROG, "chain", "twice", NULL};
        struct frame second[FRAMES_MAX];
        int n1, n2;
        run_two(argv, frames, &n1, second, &n2);
        CHECK(n1 >= 7 && n2 == n1, "%d and %d frames: %s", n1, n2, event_log);
        for (int i = 0; i < n1 && i < n2; i++)
            CHECK(strcmp(frames[i].sym, second[i].sym) == 0 && strcmp(frames[i].pc, second[i].pc) == 0,
                  "frame %d: %s, then %s", i, frames[i].sym, second[i].sym);
        case_end();
    }

    case_begin("stack: build_id is the object's NT_GNU_BUILD_ID, off resolves with addr2line");
    if (walks_here()) {
        char id[96], function[128];
        const char *argv[] = {PROG, "chain", NULL};
        int n = chain_case(argv, "0", frames, "stackclose");
        if (!readelf_build_id(PROG, id, sizeof id)) {
            case_skip("readelf is not installed");
        } else {
            CHECK(n > 0 && strcmp(frames[0].build_id, id) == 0, "%s, readelf says %s",
                  frames[0].build_id, id);
            for (int i = 0; i < 4 && i < n; i++) {
                unsigned long vaddr = vaddr_of(PROG, strtoul(frames[i].off, NULL, 16));
                CHECK(vaddr && addr2line_function(PROG, vaddr, function, sizeof function) &&
                          strcmp(function, chain[i]) == 0,
                      "frame %d: off %s (vaddr %#lx) is %s for addr2line", i, frames[i].off, vaddr,
                      function);
            }
        }
        case_end();
    }

    case_begin("stack: from a signal handler on a 16 KiB alternate stack");
    if (walks_here()) {
        const char *argv[] = {PROG, "signal", NULL};
        int n = chain_case(argv, "0", frames, "stackclose");
        CHECK(n >= 7 && sym_is(&frames[6], "on_signal"), "the handler's frame: %d frames", n);
        case_end();
    }

    case_begin("stack: handed to the library's thread, named before the handoff");
    if (walks_here()) {
        const char *argv[] = {PROG, "chain", "late-fin", NULL};
        chain_case(argv, "1", frames, "stackclose");
        /* close() returned at once; the thread logged at the peer's FIN */
        long close_ms = number_after(p.out, "close_ms=");
        long drain_ms = number_after(event_log, "\"elapsed_ms\":");
        CHECK(close_ms >= 0 && close_ms < 150 && drain_ms >= 250, "close %ld ms, drain %ld ms: %s",
              close_ms, drain_ms, event_log);
        case_end();
    }

    case_begin("stack: a stripped PIE, named from .dynsym; offsets addr2line resolves in the unstripped one");
    if (walks_here()) {
        char function[128];
        const char *argv[] = {STRIPPED, "chain", NULL};
        int n = chain_case(argv, "0", frames, "stackclose-stripped");
        for (int i = 0; i < 4 && i < n; i++) {
            unsigned long vaddr = vaddr_of(PROG, strtoul(frames[i].off, NULL, 16));
            CHECK(vaddr && addr2line_function(PROG, vaddr, function, sizeof function) &&
                      strcmp(function, chain[i]) == 0,
                  "frame %d: off %s is %s for addr2line", i, frames[i].off, function);
        }
        case_end();
    }

    static const struct {
        const char *mode, *last_sym, *why;
    } ends[] = {
        {"jit", "null", "code in an anonymous executable mapping (no unwind table)"},
        {"garbage", "garbage_hop", "a frame whose return address is garbage"},
        {"far", "far_hop", "a frame whose caller would be where nothing is mapped"},
    };
    for (size_t e = 0; e < sizeof ends / sizeof ends[0]; e++) {
        char name[160];
        snprintf(name, sizeof name, "stack: %s ends the walk there, the program runs on", ends[e].why);
        case_begin(name);
        if (!walks_here())
            continue;
        const char *argv[] = {PROG, ends[e].mode, NULL};
        int n = chain_case(argv, "0", frames, "");
        CHECK(n == 5, "the chain's 4 frames and the one that ends it: %d", n);
        CHECK(n == 5 && (strcmp(ends[e].last_sym, "null") == 0 ? strcmp(frames[4].sym, "null") == 0 &&
                                                                      strcmp(frames[4].obj, "null") == 0
                                                                : sym_is(&frames[4], ends[e].last_sym)),
              "last frame: %s in %s", n == 5 ? frames[4].sym : "-", n == 5 ? frames[4].obj : "-");
        case_end();
    }

    case_begin("stack: process_vm_readv refused by a filter no hook saw: the caller's frame alone, "
               "the program runs on");
    if (walks_here()) {
        const char *argv[] = {PROG, "chain", "refuse-later", NULL};
        struct frame second[FRAMES_MAX];
        int n1, n2;
        run_two(argv, frames, &n1, second, &n2);
        CHECK(n1 >= 7, "the first close, before the filter: %d frames: %s", n1, event_log);
        CHECK(n2 == 1 && sym_is(&second[0], "level5"), "the second: %d frames: %s", n2, event_log);
        case_end();
    }

    case_begin("stack: under a seccomp filter from before exec, the caller's frame alone");
    {
        const char *argv[] = {"./tests/progs/sandboxed", "exec-resources", PROG, "chain", NULL};
        run(argv, "0", event_log, sizeof event_log, &p);
        CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "status %#x: %s", p.status, p.err);
        int n = parse_stack(event_log, frames);
        CHECK(n == 1 && sym_is(&frames[0], "level5"), "%d frames: %s", n, event_log);
    }
    case_end();
    return harness_done();
}
