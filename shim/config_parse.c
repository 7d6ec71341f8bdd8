/* The NORST_* variables and their rules (see config_parse.h). String
 * functions only: this also links into the norst command and the fuzzer. */
#include <string.h>

#include "config_parse.h"

/* The configuration in force: filled once, at load, by config_load(). */
struct norst_config norst_cfg;

static const char *const mode_words[] = {
    [MODE_DRAIN] = "drain", [MODE_ALWAYS] = "always", [MODE_LOG] = "log", [MODE_OFF] = "off",
    [MODE_UNREAD] = "unread",
    NULL,
};
static const char *const format_words[] = {[LOG_TEXT] = "text", [LOG_JSON] = "json", NULL};
const char *const log_sink_words[] = {
    [LOG_NONE] = "", [LOG_STDERR] = "stderr", [LOG_SYSLOG] = "syslog", [LOG_JOURNAL] = "journal",
    [LOG_FILE] = NULL,
};

/* A mistyped mode must not turn on the mode that changes behaviour: log
 * changes nothing on the wire, yet still records what drain would do. */
static const unsigned long long mode_when_bad = MODE_LOG;

/* syslog's names (the ones of syslog.h's facilitynames and prioritynames),
 * by number; NULL: a number with no name. */
static const char *const facility_words[] = {
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", NULL, NULL, NULL, NULL, "local0", "local1", "local2", "local3",
    "local4", "local5", "local6", "local7",
};
static const char *const level_words[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

const struct config_var config_vars[CONFIG_COUNT] = {
    [CONFIG_MODE] = {"NORST_MODE", CONFIG_WORD, 0, 0, MODE_DRAIN, mode_words,
                     "drain, unread, always, log or off", "log, the mode that changes nothing",
                     &mode_when_bad},
    [CONFIG_LINGER_MS] = {"NORST_LINGER_MS", CONFIG_NUMBER, 0, 3600000 /* an hour; more is a typo */,
                          30000, NULL, "milliseconds, 0 to 3600000", "the default 30000", NULL},
    /* nginx's lingering_timeout and lingering_time are 5 s and 30 s;
     * Apache waits 2 s a read, 30 s in all (MAX_SECS_TO_LINGER). */
    [CONFIG_IDLE_MS] = {"NORST_IDLE_MS", CONFIG_NUMBER, 0, 3600000, 5000, NULL,
                        "milliseconds, 0 to 3600000 (0: none)", "the default 5000", NULL},
    [CONFIG_BLOCK_MS] = {"NORST_BLOCK_MS", CONFIG_NUMBER, 0, 3600000, 0, NULL,
                         "milliseconds, 0 to 3600000",
                         "the default (0; 2000 with NORST_ASYNC=0)", NULL},
    [CONFIG_MAX_BYTES] = {"NORST_MAX_BYTES", CONFIG_NUMBER, 0, 1ULL << 62, 16 << 20, NULL,
                          "a byte count, 0 for no byte bound", "the default 16777216", NULL},
    [CONFIG_STATS] = {"NORST_STATS", CONFIG_FLAG, 0, 1, 0, NULL, "0 or 1", "0", NULL},
    [CONFIG_ASYNC] = {"NORST_ASYNC", CONFIG_FLAG, 0, 1, 1, NULL, "0 or 1", "1", NULL},
    [CONFIG_MAX_LINGER] = {"NORST_MAX_LINGER", CONFIG_NUMBER, 1, 1 << 20, 4096, NULL,
                           "a count of sockets, 1 to 1048576", "the default 4096", NULL},
    [CONFIG_LOG_FORMAT] = {"NORST_LOG_FORMAT", CONFIG_WORD, 0, 0, LOG_TEXT, format_words,
                           "text or json", "text", NULL},
    [CONFIG_LOG] = {"NORST_LOG", CONFIG_LOG_TARGET, 0, 0, LOG_NONE, NULL,
                    "FILE, stderr, syslog or journal", NULL, NULL},
    [CONFIG_SYSLOG_PRIORITY] = {"NORST_SYSLOG_PRIORITY", CONFIG_PRIORITY, 0, 0,
                                SYSLOG_DEFAULT_PRIORITY, NULL,
                                "FACILITY.LEVEL, as daemon.notice or local0.info",
                                "the default daemon.notice", NULL},
    [CONFIG_STATUS_DIR] = {"NORST_STATUS_DIR", CONFIG_DIRECTORY, 0, 0, DIRECTORY_DEFAULT, NULL,
                           "an absolute directory, or off", "the default /dev/shm", NULL},
    [CONFIG_ANNOUNCE] = {"NORST_ANNOUNCE", CONFIG_FLAG, 0, 1, 0, NULL, "0 or 1", "0", NULL},
};

/* Whether a and b are the same ASCII word, case aside: no locale (in a
 * Turkish one, strcasecmp does not match "I" to "i"). */
static int word_equal(const char *a, const char *b)
{
    for (;; a++, b++) {
        char ca = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char cb = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (ca != cb)
            return 0;
        if (!ca)
            return 1;
    }
}

/* The index of the word s in words[0..n) (NULL entries skipped), or -1. */
static long word_index(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (words[i] && word_equal(s, words[i]))
            return (long)i;
    return -1;
}

static size_t word_count(const char *const *words)
{
    size_t n = 0;
    while (words[n])
        n++;
    return n;
}

/* "facility.level": both parts named, any case. */
static int parse_priority(const char *s, unsigned long long *out)
{
    char facility[16];
    const char *dot = strchr(s, '.');
    size_t len = dot ? (size_t)(dot - s) : 0;
    if (!dot || len >= sizeof facility)
        return -1;
    memcpy(facility, s, len);
    facility[len] = '\0';
    long f = word_index(facility, facility_words, sizeof facility_words / sizeof *facility_words);
    long l = word_index(dot + 1, level_words, sizeof level_words / sizeof *level_words);
    if (f < 0 || l < 0)
        return -1;
    *out = (unsigned long long)(f * 8 + l);
    return 0;
}

/* Decimal digits only: no sign, no spaces, no suffix, no overflow. */
static int parse_decimal(const char *s, unsigned long long max, unsigned long long *out)
{
    unsigned long long v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned digit = (unsigned)(*s - '0');
        if (v > (max - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

int config_parse_value(const struct config_var *var, const char *value,
                       unsigned long long *out)
{
    unsigned long long v;
    switch (var->kind) {
    case CONFIG_WORD: {
        long i = word_index(value, var->words, word_count(var->words));
        if (i < 0)
            return -1;
        *out = (unsigned long long)i;
        return 0;
    }
    case CONFIG_NUMBER:
        if (parse_decimal(value, var->max, &v) < 0 || v < var->min)
            return -1;
        *out = v;
        return 0;
    case CONFIG_FLAG:
        if (*value && strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
            return -1;
        *out = *value ? strcmp(value, "1") == 0 : var->dflt; /* empty: as if unset */
        return 0;
    case CONFIG_LOG_TARGET: {
        long i = word_index(value, log_sink_words, LOG_FILE);
        *out = i < 0 ? LOG_FILE : (unsigned long long)i;
        return 0;
    }
    case CONFIG_PRIORITY:
        return parse_priority(value, out);
    case CONFIG_DIRECTORY:
        if (*value && *value != '/' && !word_equal(value, "off"))
            return -1;
        *out = !*value ? DIRECTORY_DEFAULT : *value == '/' ? DIRECTORY_GIVEN : DIRECTORY_OFF;
        return 0;
    }
    return -1;
}

int config_parse(const char *const given[CONFIG_COUNT], struct norst_config *out,
                 struct config_warning bad[CONFIG_COUNT])
{
    unsigned long long v[CONFIG_COUNT];
    int nbad = 0, taken[CONFIG_COUNT];

    for (int id = 0; id < CONFIG_COUNT; id++) {
        const struct config_var *var = &config_vars[id];
        v[id] = var->dflt;
        taken[id] = given[id] && config_parse_value(var, given[id], &v[id]) == 0;
        if (given[id] && !taken[id]) {
            bad[nbad++] = (struct config_warning){var, given[id]};
            v[id] = var->when_bad ? *var->when_bad : var->dflt;
        }
    }
    out->mode = (enum norst_mode)v[CONFIG_MODE];
    out->linger_ms = (long)v[CONFIG_LINGER_MS];
    out->idle_ms = (long)v[CONFIG_IDLE_MS];
    out->block_ms = (long)v[CONFIG_BLOCK_MS];
    out->max_bytes = v[CONFIG_MAX_BYTES];
    out->stats = (int)v[CONFIG_STATS];
    out->async = (int)v[CONFIG_ASYNC];
    out->max_linger = (long)v[CONFIG_MAX_LINGER];
    out->log_format = (enum log_format)v[CONFIG_LOG_FORMAT];
    out->log_sink = (enum log_sink)v[CONFIG_LOG];
    out->log_target = out->log_sink == LOG_FILE ? given[CONFIG_LOG] : NULL;
    out->syslog_priority = (int)v[CONFIG_SYSLOG_PRIORITY];
    out->status_dir = v[CONFIG_STATUS_DIR] == DIRECTORY_OFF     ? "off"
                      : v[CONFIG_STATUS_DIR] == DIRECTORY_GIVEN ? given[CONFIG_STATUS_DIR]
                                                                : NULL;
    out->announce = (int)v[CONFIG_ANNOUNCE];
    if (!taken[CONFIG_BLOCK_MS] && !out->async)
        out->block_ms = THREADLESS_BLOCK_MS;
    return nbad;
}
