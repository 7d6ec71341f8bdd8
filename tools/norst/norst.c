/* norst: run a command with libnorst preloaded.
 *
 *   norst [OPTIONS] [--] COMMAND [ARGS...]
 *   norst report [--top N] [--json] [--resolve] [FILE...]
 *   norst status [--json | --prometheus DIR] [PID...]
 *   norst check [--unit-path DIRS] UNIT | norst check -- COMMAND [ARGS...]
 *
 * The options become the NORST_* variables the library reads; libnorst.so's
 * absolute path goes in front of LD_PRELOAD; then the command replaces this
 * process, so its exit status is the command's own. Before that, the
 * command's ELF headers are read for the cases where preloading cannot work
 * (static, Go, set-user-ID): those get a warning, and still run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config_parse.h"
#include "tool.h"

#ifndef NORST_VERSION
#define NORST_VERSION "0.1.0"
#endif
#ifndef NORST_LIBDIR
#define NORST_LIBDIR "/usr/local/lib"
#endif
#ifndef NORST_LIBDIR_FROM_BIN
#define NORST_LIBDIR_FROM_BIN "../lib"
#endif
#ifndef NORST_SONAME
#define NORST_SONAME "libnorst.so.0"
#endif

/* The build tree's file, and the installed one's name: its SONAME, which
 * stays put across versions (the versioned file is what it links to). */
#define LIBRARY "libnorst.so"
#define INSTALLED NORST_SONAME

static const char usage_text[] =
    "usage: norst [OPTIONS] [--] COMMAND [ARGS...]\n"
    "       norst report [--top N] [--json] [--resolve] [FILE...]\n"
    "       norst status [--json | --prometheus DIR] [PID...]\n"
    "       norst check [--unit-path DIRS] UNIT | norst check -- COMMAND [ARGS...]\n"
    "       norst trace [--duration S] [--pid P | --comm NAME | --port N] [--json]\n"
    "\n"
    "Runs COMMAND with libnorst preloaded: closing a TCP socket with unread data\n"
    "sends a FIN and drains the socket instead of resetting the connection.\n"
    "\n"
    "  -m, --mode MODE       drain (default), unread, always, log\n"
    "                        or off                               (NORST_MODE)\n"
    "  -t, --linger-ms MS    linger at most MS in all (30000)     (NORST_LINGER_MS)\n"
    "      --idle-ms MS      stop when the peer is silent MS (5000) (NORST_IDLE_MS)\n"
    "      --block-ms MS     close() itself waits at most MS      (NORST_BLOCK_MS)\n"
    "      --max-bytes N     once the peer has our FIN, discard\n"
    "                        at most N bytes (16 MiB), 0: no bound (NORST_MAX_BYTES)\n"
    "  -l, --log TARGET      FILE, stderr, syslog or journal      (NORST_LOG)\n"
    "      --json            log JSON lines               (NORST_LOG_FORMAT=json)\n"
    "      --syslog-priority PRI\n"
    "                        FACILITY.LEVEL (daemon.notice) (NORST_SYSLOG_PRIORITY)\n"
    "      --sync            no thread: linger inside close() (NORST_ASYNC=0)\n"
    "      --stats           a summary line at exit       (NORST_STATS=1)\n"
    "  -h, --help            show this help\n"
    "      --version         show the version\n"
    "\n"
    "norst report summarises JSON logs (FILEs, gzip'd ones too, or standard input):\n"
    "by stack, process, service, peer and minute; norst report --help for more.\n"
    "norst status shows the live counters of running processes (norst status --help).\n"
    "norst check says what would stop the library in a systemd unit (norst check --help).\n"
    "norst trace shows every TCP reset the machine sends and who caused it\n"
    "(as root, with bpftrace; norst trace --help).\n"
    "See norst(1) and libnorst(7).\n";

void *xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p) {
        fputs("norst: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

char *xstrdup(const char *s)
{
    size_t len = strlen(s) + 1;
    return memcpy(xrealloc(NULL, len), s, len);
}

/* ---- option values, checked by the library's own rules ---- */

/* A bad value is an error (status 2, as any other usage error), where the
 * library would fall back to its default. */
static const char *checked(const char *option, enum config_id id, const char *value)
{
    const struct config_var *var = &config_vars[id];
    unsigned long long parsed;
    /* "norst --log -- cmd": getopt took "--" as the value. No value of
     * ours starts with '-' (a file that does: ./-name). */
    if (value[0] == '-') {
        fprintf(stderr, "norst: %s: '%s' looks like an option, not a value (for a file, "
                        "write ./%s)\nTry 'norst --help'.\n", option, value, value);
        exit(2);
    }
    /* An empty --log would log nowhere: surely not what was meant. */
    if (config_parse_value(var, value, &parsed) < 0 ||
        (var->kind == CONFIG_LOG_TARGET && parsed == LOG_NONE)) {
        fprintf(stderr, "norst: %s: '%s': expected %s\nTry 'norst --help'.\n", option, value,
                var->expected);
        exit(2);
    }
    return value;
}

/* ---- the configuration the command will run with ---- */

/* What the library will read: the options, else the environment. */
static void effective_config(const char *const set[CONFIG_COUNT], struct norst_config *cfg)
{
    const char *given[CONFIG_COUNT];
    struct config_warning bad[CONFIG_COUNT];
    for (int id = 0; id < CONFIG_COUNT; id++)
        given[id] = set[id] ? set[id] : getenv(config_vars[id].name);
    config_parse(given, cfg, bad); /* the library says what it ignores */
}

static int connect_local(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
    int err = errno;
    if (fd >= 0)
        close(fd);
    errno = err;
    return ok ? 0 : -1;
}

/* The log the library will open, tried first: a target it cannot open
 * would leave the command running with logging off, the reason a line on
 * its stderr. The file is created as the library creates it. */
static void check_log(const struct norst_config *cfg, const char *from_option)
{
    const char *named = from_option ? "--log" : "NORST_LOG";
    const char *value = from_option ? from_option : getenv(config_vars[CONFIG_LOG].name);
    const char *what = NULL;
    int ok = 1;

    switch (cfg->log_sink) {
    case LOG_NONE:
    case LOG_STDERR:
        return;
    case LOG_SYSLOG:
        what = "cannot connect to " SYSLOG_SOCKET;
        ok = connect_local(SYSLOG_SOCKET) == 0;
        break;
    case LOG_JOURNAL:
        what = "cannot connect to journald's " JOURNAL_SOCKET;
        ok = connect_local(JOURNAL_SOCKET) == 0;
        break;
    case LOG_FILE: {
        what = "cannot open for appending";
        int fd = open(cfg->log_target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
                                           O_NOCTTY, 0600);
        ok = fd >= 0;
        if (ok)
            close(fd);
        break;
    }
    }
    if (!ok) {
        fprintf(stderr, "norst: %s '%s': %s: %s\n", named, value, what, strerror(errno));
        exit(2);
    }
}

/* ---- finding the library ---- */

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* PATH with its directory made absolute and its file name kept (malloc'ed;
 * NULL if the directory does not resolve): the installed SONAME link, not
 * the versioned file it names, so that a process the command execs after an
 * upgrade still finds what LD_PRELOAD names. */
static char *absolute_dir(const char *path)
{
    char dir[PATH_MAX], resolved[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t len = (size_t)(slash - path);
    if (!slash || len >= sizeof dir)
        return NULL;
    memcpy(dir, path, len);
    dir[len] = '\0';
    if (!realpath(len ? dir : "/", resolved))
        return NULL;
    char *out = malloc(strlen(resolved) + strlen(slash) + 1);
    if (out)
        strcat(strcpy(out, resolved), slash);
    return out;
}

/* The library's absolute path (malloc'ed): $NORST_LIBRARY; next to this
 * executable (the build tree); the library directory relative to it (an
 * installed tree, also under DESTDIR); the compiled-in NORST_LIBDIR. NULL,
 * with why said in why, when none is there. */
char *library_find(char *why, size_t why_len)
{
    char exe[PATH_MAX], candidate[PATH_MAX + 32];
    const char *env = getenv("NORST_LIBRARY");
    char *found = NULL;

    if (env && *env) {
        if (!is_file(env) || !(found = realpath(env, NULL)))
            snprintf(why, why_len, "NORST_LIBRARY=%s: not a readable file", env);
        return found;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        *strrchr(exe, '/') = '\0';
        static const char *const relative[] = {"/" LIBRARY, "/" NORST_LIBDIR_FROM_BIN "/" INSTALLED};
        for (size_t i = 0; i < sizeof relative / sizeof relative[0] && !found; i++) {
            snprintf(candidate, sizeof candidate, "%s%s", exe, relative[i]);
            if (is_file(candidate))
                found = absolute_dir(candidate);
        }
    }
    if (!found && is_file(NORST_LIBDIR "/" INSTALLED))
        found = absolute_dir(NORST_LIBDIR "/" INSTALLED);
    if (!found)
        snprintf(why, why_len, "cannot find " LIBRARY " (looked next to norst, in "
                               NORST_LIBDIR_FROM_BIN " from it and " INSTALLED " in " NORST_LIBDIR
                               "); set NORST_LIBRARY to its path");
    return found;
}

/* ---- LD_PRELOAD ---- */

int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Whether the list (entries separated by spaces or colons, as ld.so reads
 * it) already preloads lib, by the same path or another path to the file. */
static int preload_has(const char *list, const char *lib)
{
    char *copy = xstrdup(list), *rest = copy, *entry;
    int found = 0;
    while (!found && (entry = strsep(&rest, " :")))
        found = *entry && (strcmp(entry, lib) == 0 || (strchr(entry, '/') && same_file(entry, lib)));
    free(copy);
    return found;
}

static void prepend_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    if (strpbrk(lib, " :")) {
        fprintf(stderr, "norst: %s: LD_PRELOAD cannot hold a path with a space or colon\n", lib);
        exit(1);
    }
    if (!old || !*old) {
        setenv("LD_PRELOAD", lib, 1);
    } else if (!preload_has(old, lib)) {
        char *list = xrealloc(NULL, strlen(lib) + strlen(old) + 2);
        sprintf(list, "%s:%s", lib, old);
        setenv("LD_PRELOAD", list, 1);
        free(list);
    }
}

/* ---- the command ---- */

char *resolve_command(const char *cmd, int *err)
{
    struct stat st;
    *err = ENOENT;
    if (!*cmd)
        return NULL;
    if (strchr(cmd, '/')) {
        if (stat(cmd, &st) == 0)
            return xstrdup(cmd);
        *err = errno;
        return NULL;
    }
    const char *path = getenv("PATH");
    char default_path[256];
    if (!path) {
        confstr(_CS_PATH, default_path, sizeof default_path);
        path = default_path;
    }
    for (const char *dir = path;; dir++) {
        size_t dirlen = strcspn(dir, ":");
        char *candidate = xrealloc(NULL, dirlen + strlen(cmd) + 3);
        sprintf(candidate, "%.*s/%s", (int)dirlen, dirlen ? dir : ".", cmd);
        if (stat(candidate, &st) == 0) {
            if (S_ISREG(st.st_mode) && access(candidate, X_OK) == 0)
                return candidate;
            *err = EACCES; /* execvp goes on, and reports EACCES if nothing else runs */
        }
        free(candidate);
        dir += dirlen;
        if (!*dir)
            return NULL;
    }
}

static void warn_command(const char *file, const char *lib)
{
    if (access(file, X_OK) < 0)
        return; /* it will not run: the exec says why */
    unsigned found = preload_obstacles(file, lib);
    char text[PATH_MAX + 128];
    for (unsigned bit = 1; bit <= OBSTACLE_OTHER_ARCH; bit <<= 1)
        if (found & bit)
            fprintf(stderr, "norst: warning: %s %s\n", file,
                    preload_obstacle_text(bit, lib, text, sizeof text));
}

/* The shells' test before running a file as a script: a NUL byte in its
 * first line (up to 80 bytes) means a binary the kernel could not run. */
static int looks_binary(const char *file)
{
    char head[80];
    ssize_t n = 0;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, head, sizeof head);
        close(fd);
    }
    for (ssize_t i = 0; i < n && head[i] != '\n'; i++)
        if (head[i] == '\0')
            return 1;
    return 0;
}

/* Replaces this process; returns only to exit with the shell's statuses:
 * 127 not found, 126 found but not executable. */
static int run(char **argv, const char *lib)
{
    int err;
    char *file = resolve_command(argv[0], &err);

    if (!file) {
        if (err == ENOENT && !strchr(argv[0], '/'))
            fprintf(stderr, "norst: %s: command not found\n", argv[0]);
        else
            fprintf(stderr, "norst: %s: %s\n", argv[0], strerror(err));
        return err == ENOENT ? 127 : 126;
    }
    warn_command(file, lib);
    execv(file, argv);
    err = errno;
    if (err == ENOEXEC) {
        if (looks_binary(file)) {
            fprintf(stderr, "norst: %s: cannot execute binary file: %s\n", file, strerror(err));
            return 126;
        }
        /* No "#!" line: a shell script, run as execvp and the shells do. */
        int argc = 0;
        while (argv[argc])
            argc++;
        char **sh_argv = xrealloc(NULL, (size_t)(argc + 2) * sizeof *sh_argv);
        sh_argv[0] = "sh";
        sh_argv[1] = file;
        memcpy(sh_argv + 2, argv + 1, (size_t)argc * sizeof *sh_argv);
        execv("/bin/sh", sh_argv);
        err = errno;
    }
    if (err == ENOENT) {
        fprintf(stderr, "norst: %s: cannot execute: a file it needs (its interpreter or "
                        "loader) was not found\n", file);
        return 127;
    }
    fprintf(stderr, "norst: %s: %s\n", file, strerror(err));
    return 126;
}

enum { OPT_MAX_BYTES = 256, OPT_IDLE_MS, OPT_BLOCK_MS, OPT_JSON, OPT_ASYNC, OPT_SYNC, OPT_STATS,
       OPT_SYSLOG_PRIORITY, OPT_VERSION };

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"mode", required_argument, NULL, 'm'},
        {"linger-ms", required_argument, NULL, 't'},
        {"idle-ms", required_argument, NULL, OPT_IDLE_MS},
        {"block-ms", required_argument, NULL, OPT_BLOCK_MS},
        {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
        {"log", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, OPT_JSON},
        {"async", no_argument, NULL, OPT_ASYNC}, /* the default now; still accepted */
        {"sync", no_argument, NULL, OPT_SYNC},
        {"stats", no_argument, NULL, OPT_STATS},
        {"syslog-priority", required_argument, NULL, OPT_SYSLOG_PRIORITY},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    const char *set[CONFIG_COUNT] = {NULL}; /* by the library's variables */
    int opt;

    if (argc >= 2 && strcmp(argv[1], "report") == 0)
        return report_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "status") == 0)
        return status_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return check_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "trace") == 0)
        return trace_main(argc - 1, argv + 1);

    argv[0] = "norst"; /* getopt's messages name it */
    while ((opt = getopt_long(argc, argv, "+m:t:l:h", options, NULL)) != -1) {
        switch (opt) {
        case 'm': set[CONFIG_MODE] = checked("--mode", CONFIG_MODE, optarg); break;
        case 't': set[CONFIG_LINGER_MS] = checked("--linger-ms", CONFIG_LINGER_MS, optarg); break;
        case OPT_MAX_BYTES:
            set[CONFIG_MAX_BYTES] = checked("--max-bytes", CONFIG_MAX_BYTES, optarg);
            break;
        case 'l': set[CONFIG_LOG] = checked("--log", CONFIG_LOG, optarg); break;
        case OPT_JSON: set[CONFIG_LOG_FORMAT] = config_vars[CONFIG_LOG_FORMAT].words[LOG_JSON]; break;
        case OPT_IDLE_MS: set[CONFIG_IDLE_MS] = checked("--idle-ms", CONFIG_IDLE_MS, optarg); break;
        case OPT_BLOCK_MS:
            set[CONFIG_BLOCK_MS] = checked("--block-ms", CONFIG_BLOCK_MS, optarg);
            break;
        case OPT_ASYNC: set[CONFIG_ASYNC] = "1"; break;
        case OPT_SYNC: set[CONFIG_ASYNC] = "0"; break;
        case OPT_STATS: set[CONFIG_STATS] = "1"; break;
        case OPT_SYSLOG_PRIORITY:
            set[CONFIG_SYSLOG_PRIORITY] =
                checked("--syslog-priority", CONFIG_SYSLOG_PRIORITY, optarg);
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case OPT_VERSION:
            puts("norst " NORST_VERSION);
            return 0;
        default:
            fputs("Try 'norst --help'.\n", stderr);
            return 2;
        }
    }
    if (optind == argc) {
        fputs(usage_text, stderr);
        return 2;
    }

    char why[PATH_MAX + 128];
    char *lib = library_find(why, sizeof why);
    if (!lib) {
        fprintf(stderr, "norst: %s\n", why);
        return 1;
    }
    struct norst_config cfg;
    effective_config(set, &cfg);
    check_log(&cfg, set[CONFIG_LOG]);
    for (int id = 0; id < CONFIG_COUNT; id++)
        if (set[id])
            setenv(config_vars[id].name, set[id], 1);
    if (set[CONFIG_LOG_FORMAT] && cfg.log_sink == LOG_NONE)
        fputs("norst: warning: --json without --log: the library logs nowhere\n", stderr);
    if (cfg.mode == MODE_LOG && cfg.log_sink == LOG_NONE && !cfg.stats)
        fputs("norst: warning: mode log without --log: closes change nothing and nothing is "
              "recorded\n", stderr);
    prepend_preload(lib);
    int status = run(argv + optind, lib); /* returns only when the command could not start */
    free(lib);
    return status;
}
