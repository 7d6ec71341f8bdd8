/* norst report --resolve: a stack frame's source, named by addr2line from
 * debug information on the machine that reads the log. A frame comes as
 * "build_id off obj" (report.c). Its debug information is, in this order:
 *   the object itself when it has DWARF and its build-id is the logged one;
 *   /usr/lib/debug/.build-id/xx/yyyy.debug (a -dbgsym package's file);
 *   the object itself when it has at least a symbol table.
 * addr2line takes a virtual address: the file offset goes through the
 * object's PT_LOAD program headers (a debug file keeps the same ones). The
 * offset is a return address's; the call is the byte before it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

#define DEBUG_DIR "/usr/lib/debug/.build-id/"

/* 1 if addr2line is on PATH: looked for once. */
static int have_addr2line(void)
{
    static int found = -1;
    if (found >= 0)
        return found;
    const char *path = getenv("PATH");
    char candidate[4096];
    found = 0;
    for (const char *dir = path ? path : "/usr/bin:/bin"; !found && dir;) {
        const char *end = strchr(dir, ':');
        int len = end ? (int)(end - dir) : (int)strlen(dir);
        snprintf(candidate, sizeof candidate, "%.*s/addr2line", len, len ? dir : ".");
        found = access(candidate, X_OK) == 0;
        dir = end ? end + 1 : NULL;
    }
    return found;
}

/* "addr2line -f -C -e file 0xaddr": its two lines, function and place. */
static char *run_addr2line(const char *file, uint64_t vaddr)
{
    char addr[32], out[4096];
    int pipefd[2], status;
    size_t len = 0;
    ssize_t n;
    snprintf(addr, sizeof addr, "0x%" PRIx64, vaddr);
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return NULL;
    pid_t child = fork();
    if (child == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (dup2(pipefd[1], 1) < 0 || (null >= 0 && dup2(null, 2) < 0))
            _exit(126);
        execlp("addr2line", "addr2line", "-f", "-C", "-e", file, addr, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    while (child > 0 && len < sizeof out - 1 &&
           ((n = read(pipefd[0], out + len, sizeof out - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    close(pipefd[0]);
    if (child < 0 || waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return NULL;
    out[len] = '\0';
    char *place = strchr(out, '\n');
    if (!place)
        return NULL;
    *place++ = '\0';
    place[strcspn(place, "\n")] = '\0';
    place[strcspn(place, " ")] = '\0'; /* " (discriminator 2)" */
    if (strcmp(out, "??") == 0 && strncmp(place, "??", 2) == 0)
        return NULL;
    char *name = malloc(strlen(out) + strlen(place) + 5);
    if (name)
        sprintf(name, "%s at %s", out, place);
    return name;
}

/* Where the frame's debug information is, into file[cap]; or why not. */
static const char *debug_file(const char *build_id, const char *obj, char *file, size_t cap)
{
    struct elf_info info;
    int have_obj = elf_inspect(obj, &info);
    int obj_matches = have_obj && (strcmp(build_id, "-") == 0 || !info.build_id[0] ||
                                   strcmp(info.build_id, build_id) == 0);
    if (have_obj && !obj_matches)
        return "the object's build-id is not the logged one (another build)";
    if (obj_matches && info.has_debug_info) {
        snprintf(file, cap, "%s", obj);
        return NULL;
    }
    if (strlen(build_id) > 2 && strcmp(build_id, "-") != 0) {
        snprintf(file, cap, DEBUG_DIR "%.2s/%s.debug", build_id, build_id + 2);
        if (access(file, R_OK) == 0)
            return NULL;
    }
    if (obj_matches && info.has_symtab) {
        snprintf(file, cap, "%s", obj);
        return NULL;
    }
    return have_obj ? "no debug information: install the object's -dbgsym package"
                    : "the object is not on this machine";
}

static char *resolve_uncached(const char *frame_line, const char **why)
{
    char build_id[2 * ELF_BUILD_ID_MAX + 2], off[32], file[4096];
    int obj_at = 0;
    uint64_t offset, vaddr;
    *why = NULL;
    if (!have_addr2line()) {
        *why = "addr2line not found: install binutils";
        return NULL;
    }
    if (sscanf(frame_line, "%129s %31s %n", build_id, off, &obj_at) != 2 || !obj_at ||
        sscanf(off, "%" SCNx64, &offset) != 1) {
        *why = "the log gives no file offset";
        return NULL;
    }
    const char *obj = frame_line + obj_at;
    if ((*why = debug_file(build_id, obj, file, sizeof file)))
        return NULL;
    /* the offset's address from the object, else from the debug file */
    if (!elf_vaddr_of(obj, offset, &vaddr) && !elf_vaddr_of(file, offset, &vaddr)) {
        *why = "the offset is in no loaded segment";
        return NULL;
    }
    char *name = run_addr2line(file, vaddr ? vaddr - 1 : 0);
    if (!name)
        *why = "addr2line found no name";
    return name;
}

/* A frame is named once: stacks share frames, and text and JSON ask again.
 * The cache holds the name, or the reason after a NOT_NAMED byte. */
#define NOT_NAMED '\001'

char *resolve_frame(const char *frame_line, const char **why)
{
    static struct table cache = {.max = 100000};
    struct tally *known = table_add(&cache, frame_line);
    if (known && known->count > 1 && known->sample) {
        *why = known->sample[0] == NOT_NAMED ? known->sample + 1 : NULL;
        return *why ? NULL : xstrdup(known->sample);
    }
    char *name = resolve_uncached(frame_line, why);
    if (known && !known->sample) {
        char reason[256];
        snprintf(reason, sizeof reason, "%c%s", NOT_NAMED, *why ? *why : "");
        known->sample = xstrdup(name ? name : reason);
    }
    return name;
}
