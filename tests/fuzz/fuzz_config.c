/* libFuzzer target for the NORST_* configuration parser (shim/config.c, and
 * log_open in shim/log.c for NORST_LOG). Built and run by make check-fuzz.
 *
 * Input: up to eight fields separated by NUL bytes, one per variable in the
 * order of vars[] below. An empty field (or a missing one) leaves the
 * variable unset; otherwise its first byte is dropped (the seed corpus uses
 * '=') and the rest is the value, so "=" sets the variable to "".
 *
 * Each run resets norst_cfg to the defaults it had at start-up, sets the
 * variables, calls config_load() with fd 2 redirected into a pipe, and checks
 * against an independent model of the documented rules:
 *   - an accepted value lands in norst_cfg, a rejected one leaves the
 *     default;
 *   - each rejected value gets exactly one warning line, naming its
 *     variable, and accepted values get none;
 *   - no warning line carries a control byte (a value cannot forge a line),
 *     and every "ignoring" line names the value used instead;
 * NORST_LOG never names a real path: config_load runs in a fresh temporary
 * directory, values are made relative names without '/' or "..", and
 * "syslog" (which would connect to /dev/log) becomes "syslo_". Whatever
 * log_open opened is closed and removed after each run. */
#include <errno.h>
#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal_fd.h"
#include "norst.h"

enum var { MODE, LINGER_MS, MAX_BYTES, LOG, LOG_FORMAT, STATS, ASYNC, MAX_LINGER, NVARS };
static const char *const vars[NVARS] = {
    "NORST_MODE",       "NORST_LINGER_MS", "NORST_MAX_BYTES", "NORST_LOG",
    "NORST_LOG_FORMAT", "NORST_STATS",     "NORST_ASYNC",     "NORST_MAX_LINGER",
};

static struct norst_config defaults;
static int real_stderr = -1, capture[2], home = -1, work = -1;
static char workdir[] = "/tmp/norst-fuzz-config-XXXXXX";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_workdir(void)
{
    rmdir(workdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    defaults = norst_cfg;
    for (int i = 0; i < NVARS; i++)
        unsetenv(vars[i]);
    if (!mkdtemp(workdir) || (work = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        (home = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || pipe2(capture, O_CLOEXEC) < 0 ||
        fcntl(capture[0], F_SETFL, O_NONBLOCK) < 0 || (real_stderr = dup(2)) < 0) {
        perror("fuzz_config: set-up");
        exit(1);
    }
    atexit(remove_workdir);
    /* Sanitizer reports must reach the real stderr, also while fd 2 is the pipe. */
    __sanitizer_set_report_fd((void *)(intptr_t)real_stderr);
    return 0;
}

static void fail(const char *what, const char *detail)
{
    dprintf(real_stderr, "fuzz_config: %s: %s\n", what, detail);
    abort();
}

/* Digits only, at least one, value at most max: the rule config.c documents. */
static int model_decimal(const char *s, unsigned long long max, unsigned long long *out)
{
    unsigned __int128 v = 0; /* max < 2^63: v * 10 + 9 cannot wrap */
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > max)
            return 0;
    }
    *out = (unsigned long long)v;
    return 1;
}

/* 0 or 1 for a flag; -1 when rejected. Unset and "" mean 0. */
static int model_flag(const char *s)
{
    if (!s || !*s || strcmp(s, "0") == 0)
        return 0;
    return strcmp(s, "1") == 0 ? 1 : -1;
}

/* A value for NORST_LOG that can only name a file in the working directory. */
static void confine_log_value(char *v)
{
    for (char *p = v; *p; p++)
        if (*p == '/')
            *p = '_';
    if (strstr(v, ".."))
        for (char *p = v; *p; p++)
            if (*p == '.')
                *p = '_';
    if (strcmp(v, "syslog") == 0)
        v[5] = '_'; /* "syslo_" */
}

/* Which variable a warning line is about, or -1. */
static int warned_var(const char *line)
{
    static const char ignoring[] = "libnorst: ignoring ";
    const char *name = NULL;
    if (strncmp(line, ignoring, sizeof ignoring - 1) == 0)
        name = line + sizeof ignoring - 1;
    else if (strncmp(line, "libnorst: NORST_LOG=", 20) == 0)
        name = line + 10;
    for (int i = 0; name && i < NVARS; i++) {
        size_t len = strlen(vars[i]);
        if (strncmp(name, vars[i], len) == 0 && name[len] == '=')
            return i;
    }
    return -1;
}

static size_t read_capture(char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(capture[0], buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    return len;
}

/* Closes and forgets every fd log_open left in the internal fd table. */
static void close_internal_fds(void)
{
    int fd;
    while ((fd = internal_fd_lowest_in(0, ~0u)) >= 0) {
        internal_fd_remove(fd);
        close(fd);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *input = malloc(size + 1), *values[NVARS] = {0};
    memcpy(input, data, size);
    input[size] = '\0';

    /* Split at NUL bytes: field i is everything up to the i-th NUL. */
    size_t start = 0;
    for (int i = 0; i < NVARS && start < size; i++) {
        size_t len = strlen(input + start);
        if (len > 0)
            values[i] = input + start + 1;
        start += len + 1;
    }
    if (values[LOG])
        confine_log_value(values[LOG]);
    for (int i = 0; i < NVARS; i++) {
        if (values[i])
            setenv(vars[i], values[i], 1);
        else
            unsetenv(vars[i]);
    }

    /* In the working directory only while loading: libFuzzer's own paths
     * (corpus, artifacts) stay relative to where it was started. */
    norst_cfg = defaults;
    if (fchdir(work) < 0)
        fail("fchdir", workdir);
    dup2(capture[1], 2);
    stderr_remember(); /* as at load: the shim writes to this fd 2 only */
    config_load();
    dup2(real_stderr, 2);
    if (fchdir(home) < 0)
        fail("fchdir", "back");

    static char out[65536];
    size_t out_len = read_capture(out, sizeof out);

    /* The model. */
    int rejected[NVARS] = {0};
    struct norst_config want = defaults;
    static const char *const modes[] = {"drain", "always", "log", "off"};
    unsigned long long v;

    if (values[MODE]) {
        rejected[MODE] = 1;
        for (int m = 0; m < 4; m++)
            if (strcmp(values[MODE], modes[m]) == 0) {
                want.mode = (enum norst_mode)m;
                rejected[MODE] = 0;
            }
    }
    if (values[LINGER_MS]) {
        rejected[LINGER_MS] = !model_decimal(values[LINGER_MS], 3600000, &v);
        if (!rejected[LINGER_MS])
            want.linger_ms = (long)v;
    }
    if (values[MAX_BYTES]) {
        rejected[MAX_BYTES] = !model_decimal(values[MAX_BYTES], 1ULL << 62, &v);
        if (!rejected[MAX_BYTES])
            want.max_bytes = v;
    }
    if (values[MAX_LINGER]) {
        rejected[MAX_LINGER] = !model_decimal(values[MAX_LINGER], 1 << 20, &v) || v == 0;
        if (!rejected[MAX_LINGER])
            want.max_linger = (long)v;
    }
    want.stats = model_flag(values[STATS]);
    rejected[STATS] = want.stats < 0;
    want.async = model_flag(values[ASYNC]);
    rejected[ASYNC] = want.async < 0;
    if (want.stats < 0)
        want.stats = 0;
    if (want.async < 0)
        want.async = 0;
    if (values[LOG_FORMAT]) {
        want.log_json = strcmp(values[LOG_FORMAT], "json") == 0;
        rejected[LOG_FORMAT] = !want.log_json && strcmp(values[LOG_FORMAT], "text") != 0;
    }
    /* NORST_LOG: "stderr", or a file that log_open could open; the sink stays
     * LOG_NONE (with one warning) when it could not. */
    int log_file_fd = internal_fd_lowest_in(0, ~0u);
    if (values[LOG] && *values[LOG]) {
        if (strcmp(values[LOG], "stderr") == 0) {
            want.log_sink = LOG_STDERR;
        } else if (norst_cfg.log_sink == LOG_FILE) {
            struct stat named, opened;
            want.log_sink = LOG_FILE;
            if (log_file_fd < 0 || fstat(log_file_fd, &opened) < 0 ||
                fstatat(work, values[LOG], &named, AT_SYMLINK_NOFOLLOW) < 0 || named.st_ino != opened.st_ino ||
                !S_ISREG(named.st_mode))
                fail("NORST_LOG: the log fd is not the named file", values[LOG]);
        } else {
            rejected[LOG] = 1;
        }
    }

    /* The warnings: whole lines, no control bytes, one per rejected value. */
    int warnings[NVARS] = {0};
    if (out_len > 0 && out[out_len - 1] != '\n')
        fail("stderr output does not end with a newline", out);
    for (char *line = out, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        *end = '\0';
        for (const unsigned char *p = (const unsigned char *)line; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                fail("control byte in a warning line", line);
        int which = warned_var(line);
        if (which < 0)
            fail("a line that names no variable", line);
        /* however long the value, the line ends naming what is used instead */
        if (strncmp(line, "libnorst: ignoring ", 19) == 0 && !strstr(line, "); using "))
            fail("a warning that does not name the value used instead", line);
        warnings[which]++;
    }
    for (int i = 0; i < NVARS; i++) {
        char detail[160];
        snprintf(detail, sizeof detail, "%s: %d warning lines, value %s", vars[i], warnings[i],
                 rejected[i] ? "rejected" : "accepted or unset");
        if (warnings[i] != rejected[i])
            fail("warning count", detail);
    }

    /* The configuration. */
    const struct { enum var var; long long got, want; } fields[] = {
        {MODE, norst_cfg.mode, want.mode},
        {LINGER_MS, norst_cfg.linger_ms, want.linger_ms},
        {MAX_BYTES, (long long)norst_cfg.max_bytes, (long long)want.max_bytes},
        {LOG, norst_cfg.log_sink, want.log_sink},
        {LOG_FORMAT, norst_cfg.log_json, want.log_json},
        {STATS, norst_cfg.stats, want.stats},
        {ASYNC, norst_cfg.async, want.async},
        {MAX_LINGER, norst_cfg.max_linger, want.max_linger},
    };
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        char what[64];
        if (fields[f].got == fields[f].want)
            continue;
        snprintf(what, sizeof what, "%s landed wrong (%lld, want %lld)", vars[fields[f].var],
                 fields[f].got, fields[f].want);
        fail(what, values[fields[f].var] ? values[fields[f].var] : "(unset)");
    }

    close_internal_fds();
    if (norst_cfg.log_sink == LOG_FILE)
        unlinkat(work, values[LOG], 0);
    free(input);
    return 0;
}
