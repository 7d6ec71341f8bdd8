/* norst check: what would stop the library in a systemd unit, or for a
 * command, one line per finding with what to do about it.
 *
 *   norst check [--unit-path DIRS] UNIT
 *   norst check -- COMMAND [ARGS...]
 *
 * Exit status: 0 nothing stops the library, 1 a blocker, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "tool.h"

#define TEMPLATE "norst.conf (the drop-in template)"

static const char check_usage[] =
    "usage: norst check [--unit-path DIRS] UNIT\n"
    "       norst check -- COMMAND [ARGS...]\n"
    "\n"
    "Says what would stop libnorst in a systemd unit: the program's type (static,\n"
    "Go, set-user-ID), a noexec mount, ExecPaths=/NoExecPaths=, paths the unit\n"
    "hides, SystemCallFilter=, LD_PRELOAD in Environment=, and whether norst finds\n"
    "the library. One line per finding: blocker, warning, note or ok.\n"
    "\n"
    "  --unit-path DIRS  read the unit file and its drop-ins from these\n"
    "                    colon-separated directories (default: systemctl show\n"
    "                    where systemd runs, else /etc/systemd/system,\n"
    "                    /run/systemd/system, /lib/systemd/system,\n"
    "                    /usr/lib/systemd/system)\n"
    "\n"
    "Exit status: 0 nothing found that stops the library, 1 a blocker, 2 usage.\n";

enum level { LEVEL_OK, LEVEL_NOTE, LEVEL_WARNING, LEVEL_BLOCKER };
static const char *const level_names[] = {"ok", "note", "warning", "blocker"};
static int blockers;

static void say(enum level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(enum level level, const char *fmt, ...)
{
    va_list ap;
    printf("%s: ", level_names[level]);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (level == LEVEL_BLOCKER)
        blockers++;
}

static int is_yes(const char *value)
{
    static const char *const yes[] = {"1", "yes", "y", "true", "t", "on"};
    for (size_t i = 0; value && i < sizeof yes / sizeof yes[0]; i++)
        if (strcasecmp(value, yes[i]) == 0)
            return 1;
    return 0;
}

/* path is dir or lies under it (whole components) */
static int path_under(const char *path, const char *dir)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len == 1 && dir[0] == '/')
        return path[0] == '/';
    return strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

/* A path setting's entry without its "-" (ignore if missing) and "+"
 * (relative to RootDirectory=) prefixes. */
static const char *path_of(const char *entry)
{
    while (*entry == '-' || *entry == '+')
        entry++;
    return entry;
}

static void free_words(char **words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(words[i]);
    free(words);
}

/* ---- the program ---- */

static void check_program(const char *file, const char *lib, int no_new_privileges)
{
    if (access(file, F_OK) < 0) {
        say(LEVEL_WARNING, "%s: %s: cannot look at the program here", file, strerror(errno));
        return;
    }
    unsigned found = preload_obstacles(file, lib);
    struct elf_info info;
    char text[PATH_MAX + 128];
    for (unsigned bit = 1; bit <= OBSTACLE_OTHER_ARCH; bit <<= 1) {
        if (!(found & bit))
            continue;
        /* NoNewPrivileges: execve() ignores the bits, no secure mode */
        if ((bit == OBSTACLE_SETUID || bit == OBSTACLE_SETGID) && no_new_privileges)
            say(LEVEL_OK, "%s is set-%s-ID, but NoNewPrivileges=yes makes exec ignore that: "
                          "LD_PRELOAD and NORST_* apply", file,
                bit == OBSTACLE_SETUID ? "user" : "group");
        else
            say(LEVEL_BLOCKER, "%s %s: preloading cannot help this program", file,
                preload_obstacle_text(bit, lib, text, sizeof text));
    }
    if (!found && !elf_inspect(file, &info))
        say(LEVEL_NOTE, "%s is not an ELF file (a script?): what matters is the program that "
                        "runs it; check that one with norst check -- PROGRAM", file);
    else if (!found)
        say(LEVEL_OK, "%s is dynamically linked: LD_PRELOAD can interpose its close()", file);
}

/* ---- the library's file ---- */

static void check_mount(const char *lib)
{
    struct statvfs vfs;
    if (statvfs(lib, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC))
        say(LEVEL_BLOCKER, "%s is on a noexec mount: ld.so cannot map it (\"failed to map "
                           "segment from shared object\"); install it on another file system, "
                           "as make install PREFIX=/usr does (/usr/lib)", lib);
}

/* The deepest ExecPaths=/NoExecPaths= entry above lib decides; an
 * ExecPaths= entry as deep as a NoExecPaths= one wins. */
static void check_exec_paths(const struct unit_settings *u, const char *lib)
{
    char **exec, **noexec;
    size_t nexec = unit_list(u, "ExecPaths", &exec), nnoexec = unit_list(u, "NoExecPaths", &noexec);
    const char *deepest_no = NULL, *deepest_yes = NULL;

    for (size_t i = 0; i < nnoexec; i++)
        if (path_under(lib, path_of(noexec[i])) &&
            (!deepest_no || strlen(path_of(noexec[i])) > strlen(deepest_no)))
            deepest_no = path_of(noexec[i]);
    for (size_t i = 0; i < nexec; i++)
        if (path_under(lib, path_of(exec[i])) &&
            (!deepest_yes || strlen(path_of(exec[i])) > strlen(deepest_yes)))
            deepest_yes = path_of(exec[i]);
    if (deepest_no && (!deepest_yes || strlen(deepest_yes) < strlen(deepest_no)))
        say(LEVEL_BLOCKER, "NoExecPaths=%s covers %s and no ExecPaths= entry allows it: ld.so "
                           "cannot map the library (\"failed to map segment from shared "
                           "object\"); add ExecPaths=%s to the drop-in, as " TEMPLATE " says, "
                           "or install the library under a directory ExecPaths= allows",
            deepest_no, lib, lib);
    else if (deepest_no)
        say(LEVEL_OK, "ExecPaths=%s allows %s under NoExecPaths=%s", deepest_yes, lib, deepest_no);
    free_words(exec, nexec);
    free_words(noexec, nnoexec);
}

static void check_hidden(const struct unit_settings *u, const char *lib)
{
    static const char *const homes[] = {"/home", "/root", "/run/user"};
    const char *home = unit_last(u, "ProtectHome");
    char **hidden;
    size_t n = unit_list(u, "InaccessiblePaths", &hidden);

    for (size_t i = 0; i < n; i++)
        if (path_under(lib, path_of(hidden[i])))
            say(LEVEL_BLOCKER, "InaccessiblePaths=%s hides %s: install the library elsewhere "
                               "(/usr/lib)", path_of(hidden[i]), lib);
    free_words(hidden, n);
    for (size_t i = 0; home && (is_yes(home) || strcmp(home, "tmpfs") == 0) &&
                       i < sizeof homes / sizeof homes[0]; i++)
        if (path_under(lib, homes[i]))
            say(LEVEL_BLOCKER, "ProtectHome=%s hides %s: install the library elsewhere "
                               "(/usr/lib)", home, lib);
    if (is_yes(unit_last(u, "PrivateTmp")) && (path_under(lib, "/tmp") || path_under(lib, "/var/tmp")))
        say(LEVEL_BLOCKER, "PrivateTmp=yes gives the unit its own %s, without %s: install the "
                           "library elsewhere (/usr/lib)", path_under(lib, "/tmp") ? "/tmp" : "/var/tmp", lib);
}

/* ---- the system call filter ---- */

/* The names of the library's calls in bits, space-separated, into buf. */
static const char *call_names(unsigned long long bits, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < library_call_count; i++)
        if ((bits & (1ull << i)) && used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "",
                                     library_calls[i].name);
    return buf;
}

static void check_filter(const struct unit_settings *u, const char *async)
{
    char **assignments = NULL, names[1024];
    size_t n = 0;
    struct filter_result r;
    const char *err = unit_last(u, "SystemCallErrorNumber");
    const char *denial = err && *err && strcmp(err, "kill") != 0
                             ? "the call fails and the library steps aside for good"
                             : "the process is killed (SIGSYS)";

    for (size_t i = 0; i < u->count; i++)
        if (strcmp(u->set[i].key, "SystemCallFilter") == 0) {
            assignments = xrealloc(assignments, (n + 1) * sizeof *assignments);
            assignments[n++] = u->set[i].value;
        }
    filter_evaluate(assignments, n, &r);
    free(assignments);
    if (r.kind == FILTER_NONE) {
        say(LEVEL_OK, "no SystemCallFilter=: the library may make every call it needs");
        return;
    }
    if (r.unknown[0])
        say(LEVEL_WARNING, "SystemCallFilter= names %s, a set this check does not know (it "
                           "knows systemd 252's): see systemd-analyze syscall-filter %s",
            r.unknown, r.unknown);
    if (r.denied[CALL_CLOSE])
        say(LEVEL_BLOCKER, "SystemCallFilter= denies %s, which the library makes in close(): "
                           "%s; add SystemCallFilter=%s to the drop-in",
            call_names(r.denied[CALL_CLOSE], names, sizeof names), denial, names);
    else
        say(LEVEL_OK, "SystemCallFilter= allows every call the library makes in close()");
    if (r.denied[CALL_UNFILTERED])
        say(LEVEL_NOTE, "SystemCallFilter= denies %s, which the library makes only when no "
                        "filter is in place at load: nothing to do",
            call_names(r.denied[CALL_UNFILTERED], names, sizeof names));
    call_names(r.denied[CALL_THREAD], names, sizeof names);
    if (is_yes(async) && r.denied[CALL_THREAD])
        say(LEVEL_BLOCKER, "NORST_ASYNC=1 starts the background thread, and SystemCallFilter= "
                           "denies %s, which it needs: %s; remove NORST_ASYNC=1, or add "
                           "SystemCallFilter=%s", names, denial, names);
    else if (is_yes(async))
        say(LEVEL_OK, "NORST_ASYNC=1: SystemCallFilter= allows the background thread's calls");
    else if (!async && !r.denied[CALL_THREAD])
        say(LEVEL_NOTE, "under a filter in place at load the library starts no background "
                        "thread, and a close lingers only NORST_BLOCK_MS (0 unless set); this "
                        "filter allows the thread's calls: add Environment=NORST_ASYNC=1, as "
                        TEMPLATE " does");
    else if (!async)
        say(LEVEL_NOTE, "under a filter in place at load the library starts no background "
                        "thread (this filter denies %s, which it needs): a close lingers only "
                        "NORST_BLOCK_MS, 0 unless set; set Environment=NORST_BLOCK_MS=N if "
                        "close() may wait N ms", names);
}

/* ---- the environment ---- */

/* The value of name in the Environment= list (the last wins), or NULL. */
static char *env_value(char **env, size_t n, const char *name)
{
    size_t len = strlen(name);
    char *value = NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
            value = env[i] + len + 1;
    return value;
}

/* The libnorst entry of an LD_PRELOAD list (malloc'ed), or NULL. */
static char *preloaded_norst(const char *list)
{
    char *copy = xstrdup(list), *rest = copy, *entry, *found = NULL;
    while (!found && (entry = strsep(&rest, " :"))) {
        const char *base = strrchr(entry, '/') ? strrchr(entry, '/') + 1 : entry;
        if (strncmp(base, "libnorst", 8) == 0)
            found = xstrdup(entry);
    }
    free(copy);
    return found;
}

/* Which library the unit loads (malloc'ed), and what norst finds. */
static char *check_preload(const char *preload, const char *found, const char *why,
                           int env_files)
{
    char *entry = preload ? preloaded_norst(preload) : NULL;
    if (found)
        say(LEVEL_OK, "norst finds the library at %s", found);
    else
        say(LEVEL_WARNING, "norst: %s", why);
    if (env_files)
        say(LEVEL_NOTE, "EnvironmentFile= is not read here: an LD_PRELOAD or NORST_* there "
                        "overrides Environment=");
    if (!preload) {
        say(LEVEL_NOTE, "no LD_PRELOAD in Environment=: the library is not loaded; install "
                        TEMPLATE " as a drop-in");
        return found ? xstrdup(found) : NULL;
    }
    if (!entry) {
        say(LEVEL_WARNING, "LD_PRELOAD=%s has no libnorst: a second Environment=LD_PRELOAD= "
                           "replaces the first; list both in one, colon-separated", preload);
        return found ? xstrdup(found) : NULL;
    }
    if (entry[0] != '/') {
        say(LEVEL_NOTE, "LD_PRELOAD=%s: without a slash ld.so looks in its search path; give "
                        "the absolute path", entry);
        free(entry);
        return found ? xstrdup(found) : NULL;
    }
    if (access(entry, R_OK) < 0)
        say(LEVEL_BLOCKER, "LD_PRELOAD names %s: %s; ld.so skips it (\"cannot be preloaded\"): "
                           "install the library there or fix the path", entry, strerror(errno));
    else if (found && !same_file(entry, found))
        say(LEVEL_NOTE, "the unit preloads %s, norst finds %s: two copies, perhaps of "
                        "different versions", entry, found);
    else
        say(LEVEL_OK, "LD_PRELOAD in Environment= names %s", entry);
    return entry;
}

/* The program of an ExecStart= value (malloc'ed): systemctl show's
 * "{ path=... ; argv[]=... }", or the file's first word without its
 * prefixes ("-", "@", ":", "+", "!"), searched in systemd's fixed PATH. */
static char *exec_program(const char *value)
{
    if (value[0] == '{') {
        const char *p = strstr(value, "path=");
        if (!p)
            return NULL;
        p += 5;
        return strndup(p, strcspn(p, " ;"));
    }
    char **words;
    size_t n = split_words(value, &words);
    char *prog = NULL;
    if (n) {
        const char *w = words[0] + strspn(words[0], "-@:+!|");
        if (w[0] == '/' || !*w)
            prog = xstrdup(w);
        else {
            static const char *const dirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                               "/usr/bin", "/sbin", "/bin"};
            for (size_t i = 0; !prog && i < sizeof dirs / sizeof dirs[0]; i++) {
                char path[PATH_MAX];
                snprintf(path, sizeof path, "%s/%s", dirs[i], w);
                if (access(path, X_OK) == 0)
                    prog = xstrdup(path);
            }
            if (!prog)
                prog = xstrdup(w);
        }
    }
    free_words(words, n);
    return prog;
}

/* The library's file as the kernel sees it: mounts and paths apply to
 * where a symbolic link leads. */
static void check_library_file(const struct unit_settings *u, const char *lib)
{
    char *real = realpath(lib, NULL);
    const char *path = real ? real : lib;
    if (real && strcmp(real, lib) != 0)
        say(LEVEL_NOTE, "%s is %s: what follows is about that file", lib, real);
    check_mount(path);
    if (u) {
        check_exec_paths(u, path);
        check_hidden(u, path);
    }
    free(real);
}

static int check_unit(const char *unit, const char *dirs)
{
    struct unit_settings u;
    char why[PATH_MAX + 128], **env;
    if (unit_settings_read(unit, dirs, &u) < 0)
        return 2;
    printf("%s: from %s\n", u.name, u.source);

    size_t nenv = unit_list(&u, "Environment", &env);
    const char *exec = unit_last(&u, "ExecStart");
    char *found = library_find(why, sizeof why);
    char *lib = check_preload(env_value(env, nenv, "LD_PRELOAD"), found, why,
                              unit_last(&u, "EnvironmentFile") || unit_last(&u, "EnvironmentFiles"));
    char *prog = exec ? exec_program(exec) : NULL;

    if (prog)
        check_program(prog, lib, is_yes(unit_last(&u, "NoNewPrivileges")));
    else
        say(LEVEL_WARNING, "no ExecStart=: the program is not known");
    if (lib)
        check_library_file(&u, lib);
    check_filter(&u, env_value(env, nenv, "NORST_ASYNC"));
    if (is_yes(unit_last(&u, "MemoryDenyWriteExecute")))
        say(LEVEL_OK, "MemoryDenyWriteExecute=yes: irrelevant, the library maps no memory "
                      "both writable and executable");
    const char *families = unit_last(&u, "RestrictAddressFamilies");
    const char *log = env_value(env, nenv, "NORST_LOG");
    int unix_needed = log && (strcasecmp(log, "syslog") == 0 || strcasecmp(log, "journal") == 0);
    int unix_denied = families && (families[0] == '~' ? strstr(families, "AF_UNIX") != NULL
                                                      : strstr(families, "AF_UNIX") == NULL);
    if (families && unix_needed && unix_denied)
        say(LEVEL_WARNING, "RestrictAddressFamilies=%s refuses AF_UNIX, which NORST_LOG=%s "
                           "needs: the library logs nothing; log to a file", families, log);
    else if (families)
        say(LEVEL_OK, "RestrictAddressFamilies=: not relevant to preloading (the library "
                      "opens only an AF_UNIX socket, for NORST_LOG=syslog or journal)");
    free(prog);
    free(lib);
    free(found);
    free_words(env, nenv);
    unit_settings_free(&u);
    return blockers ? 1 : 0;
}

static int check_command(char **argv)
{
    char why[PATH_MAX + 128];
    int err;
    char *file = resolve_command(argv[0], &err);
    if (!file) {
        fprintf(stderr, "norst check: %s: %s\n", argv[0],
                err == ENOENT ? "command not found" : strerror(err));
        return 2;
    }
    /* norst puts its library in front of LD_PRELOAD itself */
    char *lib = library_find(why, sizeof why);
    if (lib)
        say(LEVEL_OK, "norst finds the library at %s", lib);
    else
        say(LEVEL_BLOCKER, "norst: %s", why);
    check_program(file, lib, 0);
    if (lib)
        check_library_file(NULL, lib);
    free(lib);
    free(file);
    return blockers ? 1 : 0;
}

int check_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"unit-path", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dirs = NULL;
    int opt;

    argv[0] = "norst check";
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
        switch (opt) {
        case 'p': dirs = optarg; break;
        case 'h': fputs(check_usage, stdout); return 0;
        default: fputs("Try 'norst check --help'.\n", stderr); return 2;
        }
    }
    /* "--" before a command; a unit name never follows it */
    int command = optind > 1 && strcmp(argv[optind - 1], "--") == 0;
    if (optind == argc || (!command && argc - optind != 1) || (command && dirs)) {
        fputs(check_usage, stderr);
        return 2;
    }
    return command ? check_command(argv + optind) : check_unit(argv[optind], dirs);
}
