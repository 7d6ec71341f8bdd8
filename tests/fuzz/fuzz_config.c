/* libFuzzer target for the NORST_* configuration parser (shim/config_parse.c)
 * and the warning line a bad value gets (shim/config_warning.c). Built and
 * run by make check-fuzz; the parser is pure, so nothing else is linked.
 *
 * Input: up to eleven fields separated by NUL bytes, one per variable in the
 * order of vars[] below. An empty field (or a missing one) leaves the
 * variable unset; otherwise its first byte is dropped (the seed corpus uses
 * '=') and the rest is the value, so "=" sets the variable to "".
 *
 * Each run parses the values and checks the result against an independent
 * model of the documented rules (libnorst(7)):
 *   - words (modes, formats, log keywords, syslog names) match in any
 *     ASCII case;
 *   - an accepted value lands in the configuration, a rejected one leaves
 *     the documented default, except a bad mode: log, which changes
 *     nothing;
 *   - each rejected value gets exactly one warning, naming its variable,
 *     and accepted values get none;
 *   - no warning line carries a control byte (a value cannot forge a line),
 *     and every line ends naming the value used instead, which is the value
 *     that landed;
 *   - NORST_LOG is never rejected: stderr, syslog or journal in any case
 *     name those sinks, any other non-empty value is a file for the log
 *     module to open;
 *   - NORST_SYSLOG_PRIORITY is FACILITY.LEVEL by syslog's names. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_parse.h"
#include "fmt.h"

enum var {
    MODE, LINGER_MS, MAX_BYTES, LOG, LOG_FORMAT, STATS, ASYNC, MAX_LINGER, IDLE_MS, BLOCK_MS,
    SYSLOG_PRIORITY, STATUS_DIR, ANNOUNCE, NVARS
};
static const char *const vars[NVARS] = {
    "NORST_MODE",       "NORST_LINGER_MS", "NORST_MAX_BYTES", "NORST_LOG",
    "NORST_LOG_FORMAT", "NORST_STATS",     "NORST_ASYNC",     "NORST_MAX_LINGER",
    "NORST_IDLE_MS",    "NORST_BLOCK_MS",  "NORST_SYSLOG_PRIORITY", "NORST_STATUS_DIR",
    "NORST_ANNOUNCE",
};
static const char *const modes[] = {"drain", "always", "log", "off", "unread"};
/* syslog(3)'s facility and level names, by number ("" for none). */
static const char *const facilities[24] = {
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "", "", "", "", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
};
static const char *const levels[8] = {"emerg", "alert", "crit", "err", "warning", "notice",
                                      "info", "debug"};

/* The parser's index of each variable here, found by name. */
static int config_id_of[NVARS];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_config: %s: %s\n", what, detail);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (CONFIG_COUNT != NVARS)
        fail("the parser's variables are not the documented ones", "count");
    for (int i = 0; i < NVARS; i++) {
        config_id_of[i] = -1;
        for (int id = 0; id < CONFIG_COUNT; id++)
            if (strcmp(config_vars[id].name, vars[i]) == 0)
                config_id_of[i] = id;
        if (config_id_of[i] < 0)
            fail("the parser does not know", vars[i]);
    }
    return 0;
}

/* Digits only, at least one, value at most max: the documented rule. */
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

/* s equals word (lower case) in any ASCII case; the word is not empty. */
static int model_word(const char *s, const char *word)
{
    if (!*word)
        return 0;
    for (; *word; s++, word++)
        if (*s != *word && !(*word >= 'a' && *word <= 'z' && *s == *word - 32))
            return 0;
    return *s == '\0';
}

/* FACILITY.LEVEL: facility * 8 + level, or -1. */
static int model_priority(const char *s)
{
    for (int f = 0; f < 24; f++) {
        size_t len = strlen(facilities[f]);
        char head[16];
        if (!len || strlen(s) <= len || s[len] != '.')
            continue;
        memcpy(head, s, len);
        head[len] = '\0';
        if (!model_word(head, facilities[f]))
            continue;
        for (int l = 0; l < 8; l++)
            if (model_word(s + len + 1, levels[l]))
                return f * 8 + l;
    }
    return -1;
}

/* 0 or 1 for a flag; -1 when rejected. Unset and "" mean the default. */
static int model_flag(const char *s, int dflt)
{
    if (!s || !*s)
        return dflt;
    if (strcmp(s, "0") == 0)
        return 0;
    return strcmp(s, "1") == 0 ? 1 : -1;
}

/* Which variable a warning line is about, or -1. */
static int warned_var(const char *line)
{
    static const char ignoring[] = "libnorst: ignoring ";
    if (strncmp(line, ignoring, sizeof ignoring - 1) != 0)
        return -1;
    const char *name = line + sizeof ignoring - 1;
    for (int i = 0; i < NVARS; i++) {
        size_t len = strlen(vars[i]);
        if (strncmp(name, vars[i], len) == 0 && name[len] == '=')
            return i;
    }
    return -1;
}

/* The value that landed for var, as a warning names it. */
static void landed_text(enum var var, const struct norst_config *c, char *out, size_t cap)
{
    switch (var) {
    case MODE: snprintf(out, cap, "%s", modes[c->mode]); break;
    case LINGER_MS: snprintf(out, cap, "%ld", c->linger_ms); break;
    case IDLE_MS: snprintf(out, cap, "%ld", c->idle_ms); break;
    case BLOCK_MS: snprintf(out, cap, "%ld", c->block_ms); break;
    case MAX_BYTES: snprintf(out, cap, "%llu", c->max_bytes); break;
    case LOG_FORMAT: snprintf(out, cap, "%s", c->log_format == LOG_JSON ? "json" : "text"); break;
    case STATS: snprintf(out, cap, "%d", c->stats); break;
    case ASYNC: snprintf(out, cap, "%d", c->async); break;
    case MAX_LINGER: snprintf(out, cap, "%ld", c->max_linger); break;
    case SYSLOG_PRIORITY:
        snprintf(out, cap, "%s.%s", facilities[c->syslog_priority >> 3],
                 levels[c->syslog_priority & 7]);
        break;
    case STATUS_DIR: snprintf(out, cap, "%s", c->status_dir ? c->status_dir : "/dev/shm"); break;
    case ANNOUNCE: snprintf(out, cap, "%d", c->announce); break;
    case LOG: case NVARS: snprintf(out, cap, "?"); break;
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

    const char *given[CONFIG_COUNT] = {0};
    for (int i = 0; i < NVARS; i++)
        given[config_id_of[i]] = values[i];
    struct norst_config got;
    struct config_warning bad[CONFIG_COUNT];
    memset(&got, 0xa5, sizeof got); /* every field must be written */
    int nbad = config_parse(given, &got, bad);

    /* The model, from the documented defaults. */
    int rejected[NVARS] = {0};
    struct norst_config want = {
        .mode = MODE_DRAIN, .linger_ms = 30000, .idle_ms = 5000, .block_ms = 0,
        .max_bytes = 16 << 20, .stats = 0, .async = 1, .max_linger = 4096,
        .log_format = LOG_TEXT, .log_sink = LOG_NONE, .log_target = NULL,
        .syslog_priority = 3 * 8 + 5, .status_dir = NULL, .announce = 0,
    };
    unsigned long long v;

    if (values[MODE]) {
        rejected[MODE] = 1;
        want.mode = MODE_LOG; /* unless a mode's word */
        for (int m = 0; m < 5; m++)
            if (model_word(values[MODE], modes[m])) {
                want.mode = (enum norst_mode)m;
                rejected[MODE] = 0;
            }
    }
    if (values[LINGER_MS]) {
        rejected[LINGER_MS] = !model_decimal(values[LINGER_MS], 3600000, &v);
        if (!rejected[LINGER_MS])
            want.linger_ms = (long)v;
    }
    int block_taken = 0;
    if (values[IDLE_MS]) {
        rejected[IDLE_MS] = !model_decimal(values[IDLE_MS], 3600000, &v);
        if (!rejected[IDLE_MS])
            want.idle_ms = (long)v;
    }
    if (values[BLOCK_MS]) {
        rejected[BLOCK_MS] = !model_decimal(values[BLOCK_MS], 3600000, &v);
        if ((block_taken = !rejected[BLOCK_MS]))
            want.block_ms = (long)v;
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
    want.stats = model_flag(values[STATS], 0);
    rejected[STATS] = want.stats < 0;
    want.async = model_flag(values[ASYNC], 1);
    rejected[ASYNC] = want.async < 0;
    if (want.stats < 0)
        want.stats = 0;
    if (want.async < 0)
        want.async = 1;
    /* Without the thread, close() is the only place to linger. */
    if (!block_taken && !want.async)
        want.block_ms = 2000;
    if (values[LOG_FORMAT]) {
        want.log_format = model_word(values[LOG_FORMAT], "json") ? LOG_JSON : LOG_TEXT;
        rejected[LOG_FORMAT] =
            want.log_format != LOG_JSON && !model_word(values[LOG_FORMAT], "text");
    }
    if (values[LOG] && *values[LOG]) {
        if (model_word(values[LOG], "stderr"))
            want.log_sink = LOG_STDERR;
        else if (model_word(values[LOG], "syslog"))
            want.log_sink = LOG_SYSLOG;
        else if (model_word(values[LOG], "journal"))
            want.log_sink = LOG_JOURNAL;
        else {
            want.log_sink = LOG_FILE;
            want.log_target = values[LOG];
        }
    }
    if (values[SYSLOG_PRIORITY]) {
        int prio = model_priority(values[SYSLOG_PRIORITY]);
        rejected[SYSLOG_PRIORITY] = prio < 0;
        if (prio >= 0)
            want.syslog_priority = prio;
    }

    /* NORST_STATUS_DIR: an absolute path, "off" in any case, or empty (the
     * default); anything else is rejected. */
    if (values[STATUS_DIR] && *values[STATUS_DIR]) {
        if (values[STATUS_DIR][0] == '/')
            want.status_dir = values[STATUS_DIR];
        else if (model_word(values[STATUS_DIR], "off"))
            want.status_dir = "off";
        else
            rejected[STATUS_DIR] = 1;
    }
    want.announce = model_flag(values[ANNOUNCE], 0);
    rejected[ANNOUNCE] = want.announce < 0;
    if (want.announce < 0)
        want.announce = 0;

    /* The warnings: whole lines, no control bytes, one per rejected value. */
    int warnings[NVARS] = {0};
    for (int i = 0; i < nbad; i++) {
        char line[CONFIG_WARNING_MAX], used[64], tail[96];
        struct fmtbuf b = {line, 0, sizeof line};
        config_warning_line(&b, &bad[i]);
        for (const unsigned char *p = (const unsigned char *)line; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                fail("control byte in a warning line", line);
        int which = warned_var(line);
        if (which < 0)
            fail("a line that names no variable", line);
        if (bad[i].value != values[which])
            fail("a warning about another value than the variable's", line);
        /* however long the value, the line ends naming what is used instead,
         * and that is what landed */
        snprintf(tail, sizeof tail, "); using %s", bad[i].var->fallback);
        size_t len = strlen(line), tail_len = strlen(tail);
        if (len + 1 >= sizeof line || len < tail_len || strcmp(line + len - tail_len, tail) != 0)
            fail("a warning that does not end naming the value used instead", line);
        landed_text((enum var)which, &got, used, sizeof used);
        if (!strstr(bad[i].var->fallback, used))
            fail("a warning that names another value than the one used", line);
        warnings[which]++;
    }
    for (int i = 0; i < NVARS; i++) {
        char detail[160];
        snprintf(detail, sizeof detail, "%s: %d warnings, value %s", vars[i], warnings[i],
                 rejected[i] ? "rejected" : "accepted or unset");
        if (warnings[i] != rejected[i])
            fail("warning count", detail);
    }

    /* The configuration. */
    const struct { enum var var; long long got, want; } fields[] = {
        {MODE, got.mode, want.mode},
        {LINGER_MS, got.linger_ms, want.linger_ms},
        {IDLE_MS, got.idle_ms, want.idle_ms},
        {BLOCK_MS, got.block_ms, want.block_ms},
        {MAX_BYTES, (long long)got.max_bytes, (long long)want.max_bytes},
        {LOG, (long long)(intptr_t)got.log_target, (long long)(intptr_t)want.log_target},
        {LOG, got.log_sink, want.log_sink},
        {SYSLOG_PRIORITY, got.syslog_priority, want.syslog_priority},
        {LOG_FORMAT, got.log_format, want.log_format},
        {STATS, got.stats, want.stats},
        {ASYNC, got.async, want.async},
        {MAX_LINGER, got.max_linger, want.max_linger},
        {ANNOUNCE, got.announce, want.announce},
    };
    if (!(got.status_dir == want.status_dir ||
          (got.status_dir && want.status_dir && strcmp(got.status_dir, want.status_dir) == 0)))
        fail("NORST_STATUS_DIR landed wrong", values[STATUS_DIR] ? values[STATUS_DIR] : "(unset)");
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        char what[64];
        if (fields[f].got == fields[f].want)
            continue;
        snprintf(what, sizeof what, "%s landed wrong (%lld, want %lld)", vars[fields[f].var],
                 fields[f].got, fields[f].want);
        fail(what, values[fields[f].var] ? values[fields[f].var] : "(unset)");
    }

    free(input);
    return 0;
}
